//! Dead letters of the `forward` group, for `tipline dlq`: list and show them, send one again
//! (once, now, reporting what the triage service answered), or drop one. Replaying and
//! dropping are admin actions and go to the audit trail.

use crate::store::{DeadLetter, FORWARD_GROUP};

use super::{Failure, Forwarder, payload};

/// What a replay did.
#[derive(Debug)]
pub enum Replay {
    /// Delivered and removed from the dead letters.
    Delivered,
    /// The triage service still refuses it; it stays.
    Failed(String),
    /// No dead letter with that id.
    Unknown,
}

impl Forwarder {
    /// Sends dead letter `id` once more, ignoring order (the tip's later events went on
    /// without it); removes it when the triage service takes it.
    pub async fn replay(&self, id: &str, actor: &str) -> anyhow::Result<Replay> {
        let store = &self.shared.store;
        let Some(letter) = store.dlq_get(FORWARD_GROUP, id).await? else {
            return Ok(Replay::Unknown);
        };
        let event = match letter.event().decode() {
            Ok(event) => event,
            Err(e) => return Ok(Replay::Failed(format!("the event cannot be read: {e}"))),
        };
        let tip = if payload::needs_tip(&event) {
            match store.tip(event.code()).await? {
                Some(t) => Some(t),
                None => return Ok(Replay::Failed("the tip is no longer stored".into())),
            }
        } else {
            None
        };
        let now_ms = self.shared.clock.now_ms();
        let body = self.body(&event, tip.as_ref(), now_ms);
        let result = self
            .post(&body, &payload::idempotency_key(&event), now_ms / 1000)
            .await;
        crate::audit::append(
            store,
            now_ms,
            actor,
            "dlq_replay",
            event.code().as_str(),
            &format!(
                "{id} {}",
                if result.is_ok() {
                    "delivered"
                } else {
                    "failed"
                }
            ),
        )
        .await?;
        Ok(match result {
            Ok(()) => {
                store.dlq_delete(FORWARD_GROUP, id).await?;
                self.shared.metrics.forward_delivered.inc();
                Replay::Delivered
            }
            Err(Failure::Retry(why, _) | Failure::Permanent(why)) => Replay::Failed(why),
        })
    }
}

/// One line of `tipline dlq list`.
pub fn summary(letter: &DeadLetter) -> String {
    format!(
        "{}  {} #{} {}  attempts={}  {}",
        letter.id,
        letter.get("code"),
        letter.get("seq"),
        letter.get("type"),
        letter.get("attempts"),
        letter.get("error").chars().take(100).collect::<String>(),
    )
}
