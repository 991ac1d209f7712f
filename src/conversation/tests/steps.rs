//! Whole reports and single steps: submit, deep links, emergencies, limits, edits, timers,
//! languages, commands and the texts in both languages.

use super::*;

#[test]
fn a_whole_report_ends_in_a_submit_effect_with_everything_collected() {
    let c = ctx();
    let mut conv = Conversation::new(Lang::Vi, 0);
    for input in [
        Input::Command(Command::Start(None)),
        button("cat:theft"),
        button("com:thung-nai"),
        text("Xe máy bị lấy trộm"),
        text("lúc 10 giờ tối"),
        button("go:next"),
        photo(1000),
        photo(2000),
        button("go:next"),
        text("🕶 Ẩn danh"),
    ] {
        conv = step(conv, input, &c).conversation;
    }
    let out = step(conv, button("rv:send"), &c);
    assert_eq!(out.conversation.state, State::Idle);
    let [Effect::Submit(d)] = out.effects.as_slice() else {
        panic!("expected one submit, got {:?}", out.effects)
    };
    assert_eq!(d.category.as_deref(), Some("theft"));
    assert_eq!(
        d.place,
        Some(Place::Commune {
            id: "thung-nai".into()
        })
    );
    assert_eq!(d.description, "Xe máy bị lấy trộm\nlúc 10 giờ tối");
    assert_eq!(d.evidence.len(), 2);
    assert_eq!(d.phone, None);
    assert!(!d.emergency);
}

#[test]
fn a_mailbox_deep_link_presets_the_place_and_skips_the_place_step() {
    let out = step(
        Conversation::new(Lang::Vi, 0),
        Input::Command(Command::Start(Some("mb_CP-TN01".into()))),
        &ctx(),
    );
    let d = out.conversation.draft().unwrap();
    assert_eq!(d.mailbox.as_deref(), Some("CP-TN01"));
    let out = step(out.conversation, button("cat:drugs"), &ctx());
    assert_eq!(out.conversation.state.name(), "near_mailbox");
    let near = step(out.conversation.clone(), button("pl:mailbox"), &ctx());
    assert_eq!(near.conversation.state.name(), "description");
    let d = near.conversation.draft().unwrap();
    assert_eq!(
        d.place,
        Some(Place::Mailbox {
            code: "CP-TN01".into()
        })
    );
    // Somewhere else: the place is asked, the mailbox stays recorded.
    let elsewhere = step(out.conversation, button("pl:other"), &ctx());
    assert_eq!(ids(&elsewhere), vec!["ask-place", "ask-place-commune"]);
    let d = elsewhere.conversation.draft().unwrap();
    assert_eq!(
        (d.place.as_ref(), d.mailbox.as_deref()),
        (None, Some("CP-TN01"))
    );
    let unknown = step(
        Conversation::new(Lang::Vi, 0),
        Input::Command(Command::Start(Some("mb_NOPE".into()))),
        &ctx(),
    );
    assert_eq!(
        ids(&unknown),
        vec!["welcome", "mailbox-unknown", "ask-category"]
    );
    assert_eq!(unknown.conversation.draft().unwrap().mailbox, None);
}

#[test]
fn an_emergency_text_warns_once_and_flags_the_draft() {
    let out = step(
        conv(State::Description(with_place())),
        text("Có người đang cầm dao đòi chém"),
        &ctx(),
    );
    assert_eq!(ids(&out), vec!["emergency", "description-added"]);
    assert!(out.conversation.draft().unwrap().emergency);
    let again = step(out.conversation, text("họ đang đánh nhau"), &ctx());
    assert_eq!(ids(&again), vec!["description-added"]);
}

#[test]
fn the_description_is_length_limited_and_the_overflow_changes_nothing() {
    let max = fixture().settings.limits.description_max_chars;
    let long = "a".repeat(max + 1);
    let before = conv(State::Description(with_place()));
    let out = step(before.clone(), text(&long), &ctx());
    assert_eq!(ids(&out), vec!["description-too-long"]);
    assert_eq!(out.conversation.state, before.state);
}

#[test]
fn too_many_files_are_refused_without_losing_the_ones_taken() {
    let max = fixture().settings.limits.evidence_max_files;
    let mut c = conv(State::Evidence(with_description()));
    for _ in 0..max {
        c = step(c, photo(10), &ctx()).conversation;
    }
    let out = step(c, photo(10), &ctx());
    assert_eq!(ids(&out), vec!["evidence-too-many"]);
    assert_eq!(out.conversation.draft().unwrap().evidence.len(), max);
}

#[test]
fn a_unit_may_refuse_voice_and_video_notes_and_nothing_is_added() {
    let mut settings = fixture().settings.clone();
    settings.report.accept_voice = false;
    settings.report.accept_video_notes = false;
    let c = Ctx {
        settings: &settings,
        ..ctx()
    };
    // (kind, replies, files kept): refused kinds say why and keep the draft as it was.
    let table = [
        (EvidenceKind::Voice, "evidence-voice-refused", 0),
        (EvidenceKind::VideoNote, "evidence-video-note-refused", 0),
        (EvidenceKind::Video, "evidence-added", 1),
        (EvidenceKind::Photo, "evidence-added", 1),
        (EvidenceKind::Document, "evidence-added", 1),
    ];
    for (kind, reply, kept) in table {
        let input = Input::Media(
            Evidence {
                kind,
                file_id: "f".into(),
                size: Some(10),
                mime: None,
                message_id: Some(5),
            },
            None,
        );
        let out = step(conv(State::Evidence(with_description())), input, &c);
        assert_eq!(ids(&out), vec![reply], "{kind:?}");
        assert_eq!(out.conversation.state.name(), "evidence", "{kind:?}");
        assert_eq!(
            out.conversation.draft().unwrap().evidence.len(),
            kept,
            "{kind:?}"
        );
    }
    // With the shipped settings both are taken.
    let voice = Input::Media(
        Evidence {
            kind: EvidenceKind::Voice,
            file_id: "f".into(),
            size: Some(10),
            mime: None,
            message_id: Some(5),
        },
        None,
    );
    let out = step(conv(State::Evidence(with_description())), voice, &ctx());
    assert_eq!(ids(&out), vec!["evidence-added"]);
}

#[test]
fn editing_a_part_returns_to_the_review() {
    let out = step(
        conv(State::Edit(with_description())),
        button("ed:category"),
        &ctx(),
    );
    let out = step(out.conversation, button("cat:fraud"), &ctx());
    assert_eq!(out.conversation.state.name(), "review");
    assert_eq!(
        out.conversation.draft().unwrap().category.as_deref(),
        Some("fraud")
    );
    let out = step(out.conversation, button("rv:edit"), &ctx());
    let out = step(out.conversation, button("ed:description"), &ctx());
    let out = step(out.conversation, text("Nội dung mới"), &ctx());
    let out = step(out.conversation, button("go:next"), &ctx());
    assert_eq!(out.conversation.state.name(), "review");
    assert_eq!(
        out.conversation.draft().unwrap().description,
        "Nội dung mới"
    );
}

#[test]
fn an_idle_draft_is_reminded_once_then_expires() {
    let limits = &fixture().settings.limits;
    let c = conv(State::Description(with_place()));
    let early = Ctx {
        now_ms: 1_000_000 + 1000,
        ..ctx()
    };
    assert!(step(c.clone(), Input::Tick, &early).replies.is_empty());
    let remind = Ctx {
        now_ms: 1_000_000 + (limits.draft_remind_after_secs * 1000) as i64,
        ..ctx()
    };
    let out = step(c, Input::Tick, &remind);
    assert_eq!(ids(&out), vec!["draft-reminder", "ask-description"]);
    assert!(out.conversation.reminded);
    assert!(
        step(out.conversation.clone(), Input::Tick, &remind)
            .replies
            .is_empty()
    );
    let expire = Ctx {
        now_ms: 1_000_000 + (limits.draft_expire_after_secs * 1000) as i64,
        ..ctx()
    };
    let out = step(out.conversation, Input::Tick, &expire);
    assert_eq!(ids(&out), vec!["draft-expired"]);
    assert_eq!(out.conversation.state, State::Idle);
}

#[test]
fn choosing_a_language_switches_and_repeats_the_question() {
    let out = step(conv(State::Category(draft())), button("lang:en"), &ctx());
    assert_eq!(out.conversation.lang, Lang::En);
    assert_eq!(ids(&out), vec!["lang-set", "ask-category"]);
    let en = fixture().texts.render(Lang::En, &out.replies[1].msg);
    assert!(en.contains("What is it about"), "{en}");
}

#[test]
fn status_commands_become_effects() {
    let out = step(
        conv(State::Idle),
        Input::Command(Command::Status(Some("tb7k3qx9md".into()))),
        &ctx(),
    );
    assert_eq!(
        out.effects,
        vec![Effect::Status(ReceiptCode::parse("TB-7K3Q-X9MD").unwrap())]
    );
    let out = step(
        conv(State::Idle),
        Input::Command(Command::Status(None)),
        &ctx(),
    );
    assert_eq!(out.effects, vec![Effect::StatusList]);
}

#[test]
fn commands_parse_with_bot_names_and_arguments() {
    assert_eq!(
        Command::parse("/start mb_CP01"),
        Some(Command::Start(Some("mb_CP01".into())))
    );
    assert_eq!(
        Command::parse("/status@tip_bot TB-1234-5678"),
        Some(Command::Status(Some("TB-1234-5678".into())))
    );
    assert_eq!(Command::parse("/HELP"), Some(Command::Help));
    assert_eq!(Command::parse("/nope"), Some(Command::Unknown));
    assert_eq!(Command::parse("hello"), None);
}

#[test]
fn every_message_renders_in_both_languages_with_diacritics_intact() {
    let texts = &fixture().texts;
    for id in crate::i18n::REQUIRED {
        for lang in Lang::ALL {
            let s = texts.get(lang, id);
            assert!(!s.is_empty() && s != *id, "{id} in {lang:?}");
        }
    }
    assert!(
        texts
            .get(Lang::Vi, "welcome")
            .contains("Danh tính của bạn được giữ bí mật")
    );
    assert!(texts.get(Lang::Vi, "welcome").contains("113"));
    assert!(texts.get(Lang::En, "welcome").contains("113"));
}
