//! Service-level timers for unacknowledged tips. The clock starts at submit: when the desk
//! reads a submitted tip, before it tries to post the card, the tip gets a timer due its
//! priority's `desk.sla` minutes after it was submitted, so a card posted late (a backlog, an
//! outage) is due the sooner, and a tip whose card could not be posted anywhere is still
//! announced and escalated. When the timer fires and nobody has acknowledged the tip, the tip
//! is announced again under its card (or, without a card, in its duty group, else to the
//! supervisors); after a second period the tip is escalated: its card is posted to
//! `desk.supervisor_group` and an `escalated` event is appended. Timers live in Redis
//! (`{tl}:sla`, scored by due time), so they survive restarts; a timer is taken for a lease,
//! so with several replicas only one fires it. A timer that fails is logged and tried again
//! when its lease ends, without holding up the others; a group that refuses an announcement
//! for good does not stop the timer.

use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::ChatId;
use tokio_util::sync::CancellationToken;

use super::fallback::{Undelivered, try_group};
use crate::channels::SendError;
use crate::codes::ReceiptCode;
use crate::config::Priority;
use crate::events::{Head, TipEvent};
use crate::i18n::{Lang, Msg};
use crate::shared::Shared;
use crate::store::{Tip, TipStatus};

/// Minutes a tip of `priority` may wait for an acknowledgement.
pub fn minutes(shared: &Shared, priority: Priority) -> u64 {
    let sla = &shared.settings.desk.sla;
    match priority {
        Priority::Urgent => sla.urgent,
        Priority::High => sla.high,
        Priority::Normal => sla.normal,
        Priority::Low => sla.low,
    }
}

/// Starts the timer of a submitted tip, due from its submit time, unless it runs already or
/// has fired.
pub async fn start(shared: &Shared, tip: &Tip) -> redis::RedisResult<()> {
    if tip.status != TipStatus::Submitted || shared.store.sla_stage(tip.code.as_str()).await? > 0 {
        return Ok(());
    }
    let due = tip.received_ms + (minutes(shared, tip.priority) * 60_000) as i64;
    shared.store.sla_start(tip.code.as_str(), due).await
}

/// Fires due timers every `every` until `shutdown`.
pub async fn run(shared: Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = fire_due(&shared).await {
            tracing::warn!(error = format!("{e:#}"), "SLA timers failed; retrying");
        }
    }
}

/// Fires every timer due now; returns how many fired.
pub async fn fire_due(shared: &Shared) -> anyhow::Result<usize> {
    let now = shared.clock.now_ms();
    let mut fired = 0;
    for code in shared.store.sla_due(now, 100).await? {
        // Taking the timer for a minute: only one replica gets `true`; if this one crashes,
        // the timer fires again when the lease runs out.
        if !shared.store.sla_take(&code, now, 60_000).await? {
            continue;
        }
        // One tip's failure does not hold up the others; its timer fires again after the lease.
        match fire(shared, &code, now).await {
            Ok(()) => fired += 1,
            Err(e) => {
                tracing::warn!(tip = %code, error = format!("{e:#}"), "an SLA timer failed; it fires again later")
            }
        }
    }
    Ok(fired)
}

async fn fire(shared: &Shared, code: &str, now: i64) -> anyhow::Result<()> {
    let Ok(parsed) = ReceiptCode::parse(code) else {
        return Ok(shared.store.sla_end(code).await?);
    };
    let code = parsed;
    let tip = shared.store.tip(&code).await?;
    let card = shared.store.card(code.as_str()).await?;
    let Some(tip) = tip else {
        return Ok(shared.store.sla_end(code.as_str()).await?);
    };
    if tip.status != TipStatus::Submitted {
        return Ok(shared.store.sla_end(code.as_str()).await?);
    }
    let desk = &shared.settings.desk;
    let lang = Lang::parse(&desk.lang).unwrap_or_default();
    let bot = shared.telegram()?;
    let waited = ((now - tip.received_ms).max(0) / 60_000).to_string();
    let stage = shared.store.sla_stage(code.as_str()).await?;
    if stage == 0 {
        let text = shared.texts.render(
            lang,
            &Msg::new("sla-reminder")
                .arg("code", &code)
                .arg("minutes", &waited),
        );
        // Under the card; without one (no group took it yet), in its duty group.
        let (chat, card) = match card {
            Some((chat, card, _)) => (chat, Some(card)),
            None => (
                desk.group_for(&shared.settings, tip.commune.as_deref(), &tip.category),
                None,
            ),
        };
        let sent = try_group(shared, chat, |chat| {
            let mut req = bot
                .send_message(ChatId(chat), text.clone())
                .protect_content(true);
            if let Some(card) = card {
                req = req.reply_parameters(crate::channels::telegram::reply_to(card));
            }
            req.send()
        })
        .await;
        match sent {
            Ok(_) => tracing::info!(tip = %code, "unacknowledged tip announced again"),
            Err(Undelivered::Failed(e)) => return Err(e),
            Err(Undelivered::Refused(why)) => {
                let supervisors = desk.supervisor_group;
                let to_supervisors = supervisors != 0 && supervisors != chat;
                let taken = to_supervisors
                    && match try_group(shared, supervisors, |chat| {
                        bot.send_message(ChatId(chat), text.clone())
                            .protect_content(true)
                            .send()
                    })
                    .await
                    {
                        Ok(_) => true,
                        Err(Undelivered::Failed(e)) => return Err(e),
                        Err(Undelivered::Refused(_)) => false,
                    };
                tracing::warn!(tip = %code, reason = why.label(), to_supervisors = taken, "the tip's group refused its SLA announcement");
            }
        }
        shared.store.sla_set_stage(code.as_str(), 1).await?;
        let next = tip.received_ms + 2 * (minutes(shared, tip.priority) * 60_000) as i64;
        shared.store.sla_set(code.as_str(), next).await?;
        return Ok(());
    }
    // An officer may have escalated it by hand already; then the timer has nothing to add.
    if shared.store.mark_escalated(code.as_str()).await? {
        if desk.supervisor_group != 0 {
            let header = Msg::new("sla-escalated")
                .arg("code", &code)
                .arg("minutes", &waited);
            if let Err(e) = super::post_to_supervisors(shared, &tip, &header).await {
                if !refused_for_good(&e) {
                    return Err(e);
                }
                // Kept escalated: the supervisors' group refuses it for good, and retrying
                // every minute would not change that. The event still records it.
                shared.store.mark_escalated(code.as_str()).await?;
                tracing::error!(tip = %code, "the supervisors' group refused an escalation for good");
            }
        }
        let event = TipEvent::Escalated {
            head: Head::new(code.clone(), "sla", now),
        };
        shared.store.events_append(None, &event).await?;
        tracing::warn!(tip = %code, "unacknowledged tip escalated to the supervisors");
    }
    shared.store.sla_set_stage(code.as_str(), 2).await?;
    shared.store.sla_end(code.as_str()).await?;
    Ok(())
}

/// Whether a failure is the platform refusing for good (blocked, kicked, no rights, gone).
fn refused_for_good(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<SendError>(),
            Some(SendError::Blocked | SendError::Refused(_))
        )
    })
}
