//! A report started by whatever a citizen sends first (issue 15), which is kept as its first
//! part; greetings and thanks start nothing.

use super::*;

fn voice() -> Input {
    Input::Media(
        Evidence {
            kind: EvidenceKind::Voice,
            file_id: "AwAD".into(),
            size: Some(10),
            mime: None,
            message_id: Some(6),
        },
        None,
    )
}

#[test]
fn the_first_message_starts_a_report_and_is_kept() {
    let c = ctx();
    // (input, state after, replies, what the draft kept)
    type Kept = fn(&Draft) -> bool;
    let table: [(Input, &str, Vec<&str>, Kept); 6] = [
        (
            text("Có người bán ma túy ở bãi sông"),
            "category",
            vec!["report-started", "ask-category"],
            |d| d.description == "Có người bán ma túy ở bãi sông",
        ),
        (
            photo(1_000),
            "category",
            vec!["report-started", "ask-category"],
            |d| d.evidence.len() == 1 && d.description.is_empty(),
        ),
        (
            Input::Media(
                Evidence {
                    kind: EvidenceKind::Photo,
                    file_id: "AgAD".into(),
                    size: Some(10),
                    mime: None,
                    message_id: Some(5),
                },
                Some("Xe máy không biển số".into()),
            ),
            "category",
            vec!["report-started", "ask-category"],
            |d| d.evidence.len() == 1 && d.description == "Xe máy không biển số",
        ),
        (
            voice(),
            "category",
            vec!["report-started", "ask-category"],
            |d| d.voice_count() == 1 && d.is_described(),
        ),
        (
            Input::Location {
                lat: 20.7,
                lon: 105.3,
            },
            "category",
            vec!["report-started", "ask-category"],
            |d| matches!(d.place, Some(Place::Pin { .. })),
        ),
        // Too large is said, and the report starts all the same.
        (
            photo(u64::MAX),
            "category",
            vec!["evidence-too-large", "report-started", "ask-category"],
            |d| d.evidence.is_empty(),
        ),
    ];
    for (i, (input, after, replies, kept)) in table.into_iter().enumerate() {
        let out = step(conv(State::Idle), input.clone(), &c);
        assert_eq!(out.conversation.state.name(), after, "row {i}: {input:?}");
        assert_eq!(ids(&out), replies, "row {i}: {input:?}");
        let d = out.conversation.draft().unwrap();
        assert!(kept(d), "row {i}: {d:?}");
        assert_eq!(d.started_ms, c.now_ms, "row {i}");
        assert!(out.effects.is_empty(), "row {i}");
    }
}

#[test]
fn greetings_thanks_and_contacts_start_nothing() {
    for input in [
        text("Cảm ơn!"),
        text("xin chào"),
        text("Ok"),
        text("👍"),
        text("Thank you"),
        Input::Contact {
            phone: Phone::plain("+84912345678"),
            own: true,
        },
    ] {
        let out = step(conv(State::Idle), input.clone(), &ctx());
        assert_eq!(out.conversation.state, State::Idle, "{input:?}");
        assert_eq!(ids(&out), vec!["help"], "{input:?}");
    }
}

#[test]
fn a_report_started_from_a_pin_skips_the_place_and_from_a_text_offers_next() {
    let c = ctx();
    let out = step(
        conv(State::Idle),
        Input::Location {
            lat: 20.7,
            lon: 105.3,
        },
        &c,
    );
    let out = step(out.conversation, button("cat:drugs"), &c);
    assert_eq!(
        out.conversation.state.name(),
        "commune",
        "a pin asks its commune"
    );
    let out = step(out.conversation, button("com:cao-phong"), &c);
    assert_eq!(out.conversation.state.name(), "description");

    let out = step(conv(State::Idle), text("Có người bán ma túy"), &c);
    let out = step(out.conversation, button("cat:drugs"), &c);
    let out = step(out.conversation, text("Xóm Bưng"), &c);
    let out = step(out.conversation, button("pl:unknown"), &c);
    assert_eq!(out.conversation.state.name(), "description");
    let prompt = out.replies.last().unwrap();
    assert!(
        matches!(&prompt.keyboard, Keyboard::Inline(rows) if rows[0][0].data == "go:next"),
        "the kept text can go on at once: {prompt:?}"
    );
    let out = step(out.conversation, button("go:next"), &c);
    assert_eq!(out.conversation.state.name(), "evidence");
}

#[test]
fn a_voice_note_a_unit_refuses_is_said_and_the_report_starts_without_it() {
    let mut settings = fixture().settings.clone();
    settings.report.accept_voice = false;
    let c = Ctx {
        settings: &settings,
        ..ctx()
    };
    let out = step(conv(State::Idle), voice(), &c);
    assert_eq!(
        ids(&out),
        vec!["evidence-voice-refused", "report-started", "ask-category"]
    );
    assert!(out.conversation.draft().unwrap().evidence.is_empty());
    let started = c.texts.render(Lang::Vi, &out.replies[1].msg);
    assert!(
        started.starts_with("📝 Bắt đầu một tin báo mới."),
        "{started}"
    );
}
