//! Answering an officer's question: [`State::Answering`], which the intake enters when the
//! notifier has opened a question and no draft is in progress ([`super::Conversation::resume`]).
//! Text is relayed to the officer as an answer, «Xong» closes the question, files and pins are refused,
//! and everything else is handled as when idle, the question staying open.
//!
//! ```text
//! bot (notifier): an officer asks about TB-7K3Q-X9MD: "Xe màu gì?"   [✅ Xong]
//! citizen: "Màu đỏ"                    bot: answer passed on (tip TB-7K3Q-X9MD)  [✅ Xong]
//! citizen: 🖼                           bot: answers can only be text
//! citizen: /status                     bot: (as when idle; the question stays open)
//! citizen: [✅ Xong]                    bot: answers about TB-7K3Q-X9MD finished, thank you
//! ```

use super::{Button, Ctx, Effect, Input, Keyboard, Outcome, Reply, State};
use crate::buttons::ButtonData;
use crate::i18n::Msg;

/// A step while answering an officer's question about tip `code`: a text is the answer, «Xong»
/// ends it, a file is refused (answers are relayed as text); anything else is what it is while
/// idle, and the question stays open.
pub(super) fn step(mut out: Outcome, code: String, input: Input, ctx: &Ctx) -> Outcome {
    // An answer counts as activity; the reminder flag belongs to drafts and is left alone.
    out.conversation.last_activity_ms = ctx.now_ms;
    match input {
        Input::Text(text) => {
            out.replies.push(Reply::with(
                Msg::new("answer-sent").arg("code", &code),
                answer_done_keyboard(),
            ));
            out.effects.push(Effect::Answer { code, text });
        }
        Input::Button(Some(ButtonData::AnswerDone)) => {
            out.conversation.state = State::Idle;
            out.replies
                .push(Reply::text(Msg::new("answer-ended").arg("code", &code)));
            out.effects.push(Effect::EndAnswer);
        }
        // A file or a pin sent while a question is open is taken for an answer, not for the
        // start of a new report; answers are relayed as text.
        Input::Media(..) | Input::Location { .. } => {
            out.replies.push(Reply::text(Msg::new("answer-text-only")));
        }
        input => {
            let mut conv = out.conversation;
            conv.state = State::Idle;
            out = super::step(conv, input, ctx);
            if out.conversation.state == State::Idle {
                out.conversation.state = State::Answering { code };
            }
        }
    }
    out
}

/// The «Xong» button that ends an answer.
pub(super) fn answer_done_keyboard() -> Keyboard {
    Keyboard::Inline(vec![vec![Button::msg(
        "button-answer-done",
        &ButtonData::AnswerDone,
    )]])
}
