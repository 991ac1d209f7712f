//! The answer mode: a citizen answering an officer's question (see `conversation/answer.rs`).

use super::*;

fn answering() -> State {
    State::Answering {
        code: "TB-7K3Q-X9MD".into(),
    }
}

#[test]
fn answering_transition_table() {
    // (input, state name after, reply ids, effects)
    let table: Vec<(Input, &str, Vec<&str>, Vec<Effect>)> = vec![
        (
            text("Xe màu đỏ"),
            "answering",
            vec!["answer-sent"],
            vec![Effect::Answer {
                code: "TB-7K3Q-X9MD".into(),
                text: "Xe màu đỏ".into(),
            }],
        ),
        (
            button("qa:done"),
            "idle",
            vec!["answer-ended"],
            vec![Effect::EndAnswer],
        ),
        (photo(10), "answering", vec!["answer-text-only"], vec![]),
        // Anything else is what it is while idle, and the question stays open.
        (
            button("cat:drugs"),
            "answering",
            vec!["stale-button"],
            vec![],
        ),
        (
            Input::Command(Command::Cancel),
            "answering",
            vec!["nothing-to-cancel"],
            vec![],
        ),
        (
            Input::Command(Command::Status(None)),
            "answering",
            vec![],
            vec![Effect::StatusList],
        ),
        (
            Input::Sticker,
            "answering",
            vec!["unsupported-sticker"],
            vec![],
        ),
        (
            Input::Location { lat: 1.0, lon: 2.0 },
            "answering",
            vec!["answer-text-only"],
            vec![],
        ),
        (
            Input::Command(Command::Report),
            "category",
            vec!["ask-category"],
            vec![],
        ),
        (
            button("go:report"),
            "category",
            vec!["ask-category"],
            vec![],
        ),
        // The timer never answers.
        (Input::Tick, "answering", vec![], vec![]),
    ];
    for (i, (input, after, replies, effects)) in table.into_iter().enumerate() {
        let out = step(conv(answering()), input.clone(), &ctx());
        assert_eq!(out.conversation.state.name(), after, "row {i}: {input:?}");
        assert_eq!(ids(&out), replies, "row {i}: {input:?}");
        assert_eq!(out.effects, effects, "row {i}: {input:?}");
    }
}

#[test]
fn an_answer_names_its_tip_and_offers_xong() {
    let out = step(conv(answering()), text("Xe màu đỏ"), &ctx());
    assert_eq!(out.conversation.last_activity_ms, ctx().now_ms);
    let reply = &out.replies[0];
    assert_eq!(
        reply.msg,
        Msg::new("answer-sent").arg("code", "TB-7K3Q-X9MD")
    );
    let Keyboard::Inline(rows) = &reply.keyboard else {
        panic!("expected the «Xong» button, got {:?}", reply.keyboard)
    };
    assert_eq!(rows[0][0].data, "qa:done");
}

#[test]
fn only_an_idle_conversation_resumes_into_answering_and_it_is_stored_idle() {
    let code = Some("TB-7K3Q-X9MD".to_owned());
    let mut resumed = conv(State::Idle).resume(code.clone());
    assert_eq!(resumed.state, answering());
    resumed.settle();
    assert_eq!(resumed.state, State::Idle);
    let drafting = conv(State::Description(with_place())).resume(code);
    assert_eq!(drafting.state.name(), "description");
    assert_eq!(conv(State::Idle).resume(None).state, State::Idle);
}
