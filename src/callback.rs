//! The triage service's calls back (DESIGN.md §7): `POST /api/v1/tips/<code>/events` with a
//! bearer token lets the service acknowledge, claim, ask the citizen, add a note, or close a
//! tip, with the same effects and audit records as an officer's button in a duty group (the
//! desk redraws the card, the notifier tells the citizen). The body is
//! `docs/schema/triage-callback.v1.json`.
//!
//! A call may carry an `Idempotency-Key`: a repeated call with the same key gets the first
//! answer again and changes nothing.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::codes::ReceiptCode;
use crate::desk::actions::{Verb, apply};
use crate::events::{Head, TipEvent};
use crate::i18n::Lang;
use crate::shared::Shared;
use crate::store::{TipStatus, Transition};

/// Longest text of a question or note, in characters.
pub const TEXT_MAX: usize = 1000;
/// Longest officer name shown on the card.
const NAME_MAX: usize = 64;

/// One call's body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `acknowledge`, `claim`, `ask`, `note` or `close`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The question (`ask`) or note (`note`).
    #[serde(default)]
    pub text: Option<String>,
    /// A `desk.dispositions` id (`close`).
    #[serde(default)]
    pub disposition: Option<String>,
    /// Who acted, as the duty group's card shows it (default: "the triage service").
    #[serde(default)]
    pub officer: Option<String>,
}

/// The answer: an HTTP status and a JSON body.
pub type Answer = (StatusCode, Value);

fn problem(status: StatusCode, error: &str, detail: impl Into<String>) -> Answer {
    (status, json!({"error": error, "detail": detail.into()}))
}

/// Carries out one call on tip `code`; `once` is the call's idempotency key, if any.
pub async fn handle(
    shared: &Shared,
    code: &str,
    req: Request,
    once: Option<&str>,
) -> anyhow::Result<Answer> {
    let Ok(code) = ReceiptCode::parse(code) else {
        return Ok(problem(
            StatusCode::NOT_FOUND,
            "unknown_tip",
            "not a receipt code",
        ));
    };
    let text = req.text.as_deref().map(str::trim).unwrap_or_default();
    let needs_text = matches!(req.kind.as_str(), "ask" | "note");
    if needs_text && text.is_empty() {
        return Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("\"{}\" needs a non-empty \"text\"", req.kind),
        ));
    }
    if text.chars().count() > TEXT_MAX {
        return Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("\"text\" is longer than {TEXT_MAX} characters"),
        ));
    }
    let desk = &shared.settings.desk;
    let verb = match req.kind.as_str() {
        "acknowledge" => Some(Verb::Ack),
        "claim" => Some(Verb::Claim),
        "close" => match req.disposition.as_deref() {
            Some(d) if desk.dispositions.iter().any(|x| x.id == d) => Some(Verb::Close(d.into())),
            _ => {
                let known: Vec<&str> = desk.dispositions.iter().map(|d| d.id.as_str()).collect();
                return Ok(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("\"close\" needs a \"disposition\", one of {known:?}"),
                ));
            }
        },
        "ask" | "note" => None,
        other => {
            return Ok(problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!(
                    "unknown type \"{other}\"; expected acknowledge, claim, ask, note or close"
                ),
            ));
        }
    };
    let Some(tip) = shared.store.tip(&code).await? else {
        return Ok(problem(
            StatusCode::NOT_FOUND,
            "unknown_tip",
            "no tip has this code",
        ));
    };
    let lang = Lang::parse(&desk.lang).unwrap_or_default();
    let name: String = req
        .officer
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(|| shared.texts.get(lang, "triage-actor"), str::to_owned)
        .chars()
        .take(NAME_MAX)
        .collect();
    let now = shared.clock.now_ms();
    let actor = "triage";
    let seq = match verb {
        Some(verb) => match apply(shared, &code, verb, actor, name, now).await? {
            Transition::Done(seq) => seq,
            Transition::NotNow(status) => {
                return Ok((
                    StatusCode::CONFLICT,
                    json!({"error": "conflict", "detail": "the tip is not in a state this applies to", "status": status}),
                ));
            }
            Transition::Unknown => {
                return Ok(problem(
                    StatusCode::NOT_FOUND,
                    "unknown_tip",
                    "no tip has this code",
                ));
            }
        },
        None => {
            if req.kind == "ask" && !shared.settings.notify.enabled {
                return Ok((
                    StatusCode::CONFLICT,
                    json!({"error": "unavailable", "detail": "questions cannot reach citizens: notify.enabled is false", "status": tip.status}),
                ));
            }
            if tip.status == TipStatus::Closed && req.kind == "ask" {
                return Ok((
                    StatusCode::CONFLICT,
                    json!({"error": "conflict", "detail": "the tip is closed", "status": tip.status}),
                ));
            }
            let head = Head::new(code.clone(), actor, now);
            let text = text.to_owned();
            let event = if req.kind == "ask" {
                TipEvent::InfoRequested { head, text }
            } else {
                TipEvent::Noted { head, text }
            };
            let once_key = once.map(|k| format!("{}:cbonce:{k}", shared.settings.app.namespace));
            // 0: this call was carried out before (same idempotency key); nothing new, and
            // no second audit record.
            crate::audit::event(&shared.store, once_key.as_deref(), &event, "").await?
        }
    };
    let status = shared
        .store
        .tip(&code)
        .await?
        .map_or(tip.status, |t| t.status);
    Ok((
        StatusCode::OK,
        json!({"code": code.as_str(), "type": req.kind, "seq": seq, "status": status}),
    ))
}
