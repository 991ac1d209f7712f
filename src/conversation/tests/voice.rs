//! Voice-first reports (issue 15): a citizen who does not type comfortably tells what happened
//! in voice notes, which then stand as the description.

use super::*;

fn media(kind: EvidenceKind, id: &str) -> Input {
    Input::Media(
        Evidence {
            kind,
            file_id: id.into(),
            size: Some(10),
            mime: None,
            message_id: Some(5),
        },
        None,
    )
}

fn render(c: &Ctx, reply: &Reply) -> String {
    c.texts.render(Lang::Vi, &reply.msg)
}

#[test]
fn a_voice_note_stands_as_the_description_and_goes_first_to_the_officers() {
    let c = ctx();
    let out = step(
        conv(State::Description(with_place())),
        media(EvidenceKind::Photo, "photo"),
        &c,
    );
    assert_eq!(ids(&out), vec!["evidence-added"]);
    // A photo alone describes nothing.
    let out = step(out.conversation, button("go:next"), &c);
    assert_eq!(ids(&out), vec!["description-empty", "ask-description"]);
    assert!(render(&c, &out.replies[0]).contains("hoặc gửi một tin nhắn thoại"));

    let out = step(out.conversation, media(EvidenceKind::Voice, "voice"), &c);
    assert_eq!(ids(&out), vec!["description-voice-added"]);
    assert_eq!(
        render(&c, &out.replies[0]),
        "🎙️ Đã nhận tin nhắn thoại (2/10 tệp). Bạn có thể nói hoặc viết thêm, rồi bấm «Tiếp tục»."
    );
    let out = step(out.conversation, button("go:next"), &c);
    assert_eq!(ids(&out), vec!["ask-evidence"]);
    let out = step(out.conversation, button("go:next"), &c);
    let out = step(out.conversation, text("🕶 Ẩn danh"), &c);
    let review = out.replies.last().unwrap();
    assert_eq!(review.id(), "review");
    assert!(
        render(&c, review).contains("• Nội dung: 🎙️ kể bằng 1 tin nhắn thoại"),
        "{}",
        render(&c, review)
    );
    let out = step(out.conversation, button("rv:send"), &c);
    let Some(Effect::Submit(d)) = out.effects.first() else {
        panic!("no submit: {:?}", out.effects);
    };
    assert_eq!(d.description, "");
    let files: Vec<&str> = d.evidence.iter().map(|e| e.file_id.as_str()).collect();
    assert_eq!(files, ["voice", "photo"], "the voice note first");
}

#[test]
fn a_typed_description_keeps_the_files_in_the_order_they_came() {
    let c = ctx();
    let mut state = conv(State::Description(with_place()));
    let mut effects = Vec::new();
    for input in [
        text("Có người bán ma túy ở bãi sông"),
        media(EvidenceKind::Photo, "photo"),
        media(EvidenceKind::Voice, "voice"),
        button("go:next"),
        button("go:next"),
        text("🕶 Ẩn danh"),
        button("rv:send"),
    ] {
        let out = step(state, input, &c);
        state = out.conversation;
        effects = out.effects;
    }
    let Some(Effect::Submit(d)) = effects.first() else {
        panic!("no submit: {effects:?}");
    };
    let files: Vec<&str> = d.evidence.iter().map(|e| e.file_id.as_str()).collect();
    assert_eq!(files, ["photo", "voice"]);
}

#[test]
fn the_description_prompt_offers_the_microphone_only_where_voice_is_taken() {
    let c = ctx();
    let out = step(
        conv(State::Commune(with_place())),
        button("com:thung-nai"),
        &c,
    );
    let prompt = render(&c, out.replies.last().unwrap());
    assert!(
        prompt.ends_with("«Tiếp tục».\n🎙️ Không tiện gõ chữ? Giữ nút micro và kể lại: tin nhắn thoại cũng là lời mô tả."),
        "{prompt}"
    );
    let mut settings = fixture().settings.clone();
    settings.report.accept_voice = false;
    let c = Ctx {
        settings: &settings,
        ..ctx()
    };
    let out = step(
        conv(State::Commune(with_place())),
        button("com:thung-nai"),
        &c,
    );
    let prompt = render(&c, out.replies.last().unwrap());
    assert!(prompt.ends_with("rồi bấm «Tiếp tục»."), "{prompt}");
    assert!(!prompt.contains("micro"), "{prompt}");
    let out = step(
        conv(State::Description(with_place())),
        button("go:next"),
        &c,
    );
    let refused = render(&c, &out.replies[0]);
    assert_eq!(
        refused,
        "⚠️ Bạn chưa mô tả sự việc. Xin gõ vài dòng trước khi tiếp tục."
    );
}
