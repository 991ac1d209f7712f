//! `tipline dlq replay --group desk`: the desk's dead letters, handled again now. A dead
//! letter of the desk is one of two things:
//!
//! - an event the desk gave up on (no group took its card, or it kept failing): handling it
//!   again posts the card in its duty group (no fallback this time: the operator fixed the
//!   group and wants to know whether it worked), or does the event's work (a redrawn card, an
//!   answer under it);
//! - a card that went to the supervisors as a fallback (error `fallback: …`, see
//!   [`super::fallback`]): the tip was handled, and the letter is how an operator finds it.
//!   Replaying it posts the card in its duty group (with its files), where later edits go, and
//!   tells the supervisors' group under the fallback card.
//!
//! Each replay is written to the audit trail with its outcome; a letter is removed once its
//! replay worked, and kept (with the reason printed) when the group still refuses.

use std::sync::Arc;

use teloxide::prelude::*;
use teloxide::types::ChatId;

use super::Desk;
use super::fallback::Fallback;
use crate::events::TipEvent;
use crate::i18n::{Lang, Msg};
use crate::shared::Shared;
use crate::store::DeadLetter;

/// The consumer group whose dead letters these are.
const GROUP: &str = "desk";

/// What a replay did.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// The card is in its duty group now (or the event's work is done); the letter is gone.
    Done,
    /// Still refused or failing, for this reason; the letter stays.
    Failed(String),
    /// No dead letter with that id.
    Unknown,
}

/// Replays dead letter `id` of the desk, as `actor` (audited).
pub async fn replay(shared: &Arc<Shared>, id: &str, actor: &str) -> anyhow::Result<Replay> {
    let store = &shared.store;
    let Some(letter) = store.dlq_get(GROUP, id).await? else {
        return Ok(Replay::Unknown);
    };
    let outcome = handle(shared, &letter).await?;
    let code = letter.get("code");
    let what = match &outcome {
        Replay::Done => format!("{GROUP} {id} done"),
        _ => format!("{GROUP} {id} failed"),
    };
    let now = shared.clock.now_ms();
    crate::audit::append(store, now, actor, "dlq_replay", code, &what).await?;
    if outcome == Replay::Done {
        store.dlq_delete(GROUP, id).await?;
        tracing::info!(tip = code, "a desk dead letter was replayed");
    }
    Ok(outcome)
}

async fn handle(shared: &Arc<Shared>, letter: &DeadLetter) -> anyhow::Result<Replay> {
    let entry = letter.event();
    let event = match entry.decode() {
        Ok(event) => event,
        Err(e) => return Ok(Replay::Failed(format!("the event cannot be read: {e}"))),
    };
    let store = &shared.store;
    let desk = Desk::new(shared.clone());
    let TipEvent::Submitted { .. } = &event else {
        return Ok(match desk.on_event(&entry.stream_id, &event).await {
            Ok(()) => Replay::Done,
            Err(e) => Replay::Failed(format!("{e:#}")),
        });
    };
    let Some(tip) = store.tip(event.code()).await? else {
        return Ok(Replay::Failed("the tip is no longer stored".into()));
    };
    // Where the card is before: a fallback card is told when its tip's card has gone home.
    let before = store.card(tip.code.as_str()).await?;
    let astray = store.card_astray(tip.code.as_str()).await?.is_some();
    if let Err(e) = desk.post_card(&tip, Fallback::None).await {
        return Ok(Replay::Failed(format!("{e:#}")));
    }
    if let (Some((chat, message, _)), true) = (before, astray) {
        let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
        let text = shared.texts.render(
            lang,
            &Msg::new("desk-fallback-resolved").arg("code", &tip.code),
        );
        let bot = shared.telegram()?;
        let told = super::to_group(shared, chat, |chat| {
            bot.send_message(ChatId(chat), text.clone())
                .reply_parameters(crate::channels::telegram::reply_to(message))
                .protect_content(true)
                .send()
        })
        .await;
        if let Err(e) = told {
            // Best effort: the card is home, which is what counts.
            tracing::warn!(tip = %tip.code, error = format!("{e:#}"), "the supervisors were not told the card went home");
        }
    }
    Ok(Replay::Done)
}

/// Drops dead letter `id` of the desk: a tip it listed no longer counts as a card outside its
/// duty group. Whether it was there.
pub async fn drop_letter(shared: &Shared, id: &str) -> anyhow::Result<bool> {
    let store = &shared.store;
    let Some(letter) = store.dlq_get(GROUP, id).await? else {
        return Ok(false);
    };
    if letter.get("type") == "submitted" {
        store.offduty_remove(letter.get("code")).await?;
    }
    Ok(store.dlq_delete(GROUP, id).await?)
}
