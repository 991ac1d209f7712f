//! A report started by whatever a citizen sends first, kept as its first part (issue 15): a
//! sentence as the description, a photo or voice note as evidence, a pin as the place. A
//! greeting, a thank-you or an "ok" starts nothing: written after a receipt, it gets the help.

use super::evidence::{accept_file, append_caption};
use super::step::enter;
use super::{Ctx, Draft, Input, Outcome, Place, Reply, State};
use crate::i18n::Msg;

/// What a citizen may send with no report open that is not a greeting, a thank-you or an
/// acknowledgement: those, written after a receipt or before anything, get the help.
const SMALL_TALK: &[&str] = &[
    "xin chao",
    "chao",
    "chao ban",
    "chao anh",
    "chao chi",
    "chao em",
    "alo",
    "a lo",
    "hi",
    "hello",
    "cam on",
    "cam on ban",
    "cam on anh",
    "cam on chi",
    "xin cam on",
    "thanks",
    "thank you",
    "ok",
    "oke",
    "okay",
    "vang",
    "da",
    "u",
    "uh",
    "bye",
    "tam biet",
];

/// Whether `input`, arriving with no report open, starts one.
pub(super) fn opens_report(input: &Input) -> bool {
    match input {
        Input::Text(text) => {
            let said = crate::text::normalise(text);
            !said.is_empty() && !SMALL_TALK.contains(&said.as_str())
        }
        Input::Media(..) | Input::Location { .. } => true,
        _ => false,
    }
}

/// Starts a report from the first thing a citizen sent and keeps it: a text as the
/// description, a file as evidence (its caption as the description), a pin as the place.
pub(super) fn start_from(out: &mut Outcome, mut d: Draft, input: Input, ctx: &Ctx) -> State {
    let limits = &ctx.settings.limits;
    let kept = match input {
        Input::Text(text) => {
            d.description = text
                .trim()
                .chars()
                .take(limits.description_max_chars)
                .collect();
            "text"
        }
        Input::Media(evidence, caption) => {
            append_caption(&mut d, caption.as_deref(), limits.description_max_chars);
            match accept_file(&d, &evidence, ctx) {
                Ok(()) => {
                    d.evidence.push(evidence);
                    "file"
                }
                Err(refused) => {
                    out.replies.push(Reply::text(refused));
                    "nothing"
                }
            }
        }
        Input::Location { lat, lon }
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            d.place = Some(Place::Pin { lat, lon });
            "place"
        }
        _ => "nothing",
    };
    out.replies
        .push(Reply::text(Msg::new("report-started").arg("kept", kept)));
    enter(out, State::Category(d), ctx)
}
