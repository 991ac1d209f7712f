//! Files in a draft: whether one is taken (a kind the unit refuses, too large, too many), the
//! caption that joins the description, and the order they go out in (a report told by voice
//! puts its voice notes first).

use super::{Button, Ctx, Draft, Keyboard, Outcome, Reply};
use crate::buttons::ButtonData;
use crate::i18n::Msg;

/// Adds a file's caption to the description when it fits; a caption is part of what the
/// citizen tells, not a separate field.
pub(super) fn append_caption(d: &mut Draft, caption: Option<&str>, max: usize) {
    let Some(c) = caption.map(str::trim).filter(|c| !c.is_empty()) else {
        return;
    };
    let used = d.description.chars().count();
    if used + c.chars().count() < max {
        if used > 0 {
            d.description.push('\n');
        }
        d.description.push_str(c);
    }
}

/// `"yes"` when the unit takes voice notes (`report.accept_voice`), for the texts that offer
/// them.
pub(super) fn voice_accepted(ctx: &Ctx) -> &'static str {
    if ctx.settings.report.accept_voice {
        "yes"
    } else {
        "no"
    }
}

/// A draft told by voice (no text) puts its voice notes first, so that officers hear the
/// description before the other files.
pub(super) fn voice_first(mut d: Draft) -> Draft {
    if d.description.trim().is_empty() {
        // A stable sort: the voice notes keep their order, and so do the other files.
        d.evidence.sort_by_key(|e| !e.kind.is_voice());
    }
    d
}

/// Whether `d` can take `evidence`, or the message that says why not (a kind the unit
/// refuses, too large, too many).
pub(super) fn accept_file(d: &Draft, evidence: &super::Evidence, ctx: &Ctx) -> Result<(), Msg> {
    let limits = &ctx.settings.limits;
    let accepts = &ctx.settings.report;
    match evidence.kind {
        super::EvidenceKind::Voice if !accepts.accept_voice => {
            Err(Msg::new("evidence-voice-refused"))
        }
        super::EvidenceKind::VideoNote if !accepts.accept_video_notes => {
            Err(Msg::new("evidence-video-note-refused"))
        }
        _ if evidence.size.is_some_and(|s| s > limits.evidence_max_bytes) => {
            Err(Msg::new("evidence-too-large").arg("mb", limits.evidence_max_bytes / 1_000_000))
        }
        _ if d.evidence.len() >= limits.evidence_max_files => {
            Err(Msg::new("evidence-too-many").arg("max", limits.evidence_max_files))
        }
        _ => Ok(()),
    }
}

/// Adds a file, or says why not; `added` is the message that confirms it.
pub(super) fn add_evidence(
    out: &mut Outcome,
    d: &mut Draft,
    evidence: super::Evidence,
    button: &str,
    added: &str,
    ctx: &Ctx,
) {
    let limits = &ctx.settings.limits;
    if let Err(refused) = accept_file(d, &evidence, ctx) {
        // A file too large can be sent again smaller; the others need a way on.
        let keyboard = if refused.id == "evidence-too-large" {
            Keyboard::None
        } else {
            Keyboard::Inline(vec![vec![Button::msg(button, &ButtonData::Next)]])
        };
        out.replies.push(Reply::with(refused, keyboard));
        return;
    }
    d.evidence.push(evidence);
    out.replies.push(Reply::with(
        Msg::new(added)
            .arg("count", d.evidence.len())
            .arg("max", limits.evidence_max_files),
        Keyboard::Inline(vec![vec![Button::msg(button, &ButtonData::Next)]]),
    ));
}
