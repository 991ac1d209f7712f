//! Long polling with the inbox guarantee: the offset that tells Telegram "received" advances
//! past an update only after the update is in Redis. If Redis is down, the poller stops asking
//! and retries the append; Telegram keeps the updates (up to 24 h) and sends them again.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use tokio_util::sync::CancellationToken;

use crate::store::{InboxKind, Store};

/// Polls `bot` until `shutdown`, appending every update to the inbox.
pub async fn run(bot: Bot, store: Store, timeout_secs: u32, shutdown: CancellationToken) {
    // A webhook left registered makes getUpdates fail with 409: remove it.
    match bot.get_webhook_info().await {
        Ok(info) if info.url.is_some() => {
            if let Err(e) = bot.delete_webhook().await {
                tracing::warn!(
                    error = super::send::describe(&e),
                    "could not delete the old webhook"
                );
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = super::send::describe(&e), "getWebhookInfo failed"),
    }
    let mut offset: i32 = 0;
    let mut backoff = Backoff::default();
    tracing::info!("telegram polling started");
    loop {
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(timeout_secs)
            .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        let updates = tokio::select! {
            _ = shutdown.cancelled() => break,
            res = request.send() => res,
        };
        let updates = match updates {
            Ok(u) => {
                backoff.reset();
                u
            }
            Err(e) => {
                tracing::warn!(error = super::send::describe(&e), "getUpdates failed");
                if backoff.wait(&shutdown).await {
                    break;
                }
                continue;
            }
        };
        // The whole batch goes into the inbox in one transaction (one round trip, one fsync).
        let mut entries = Vec::with_capacity(updates.len());
        let mut next = offset;
        for update in &updates {
            let id = update.id.0;
            next = next.max(id as i32 + 1);
            match serde_json::to_string(update) {
                Ok(body) => entries.push((id.to_string(), body)),
                Err(e) => {
                    tracing::error!(update_id = id, error = %e, "cannot serialise an update; skipped");
                }
            }
        }
        while let Err(e) = store.inbox_append_all(InboxKind::Telegram, &entries).await {
            tracing::warn!(updates = entries.len(), error = %e, "inbox append failed; retrying");
            if backoff.wait(&shutdown).await {
                // Not appended, so not acknowledged: Telegram sends them again.
                tracing::info!("telegram polling stopped");
                return;
            }
        }
        backoff.reset();
        offset = next;
    }
    // Tell Telegram what is already in the inbox, so a restart does not fetch it again.
    if offset > 0 {
        let _ = bot.get_updates().offset(offset).timeout(0).limit(1).await;
    }
    tracing::info!("telegram polling stopped");
}

/// Exponential backoff from 100 ms to 5 s that gives up early on shutdown.
#[derive(Default)]
struct Backoff {
    step: u32,
}

impl Backoff {
    fn reset(&mut self) {
        self.step = 0;
    }

    /// Waits; returns `true` when shutdown came first.
    async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let ms = (100u64 << self.step.min(6)).min(5000);
        self.step += 1;
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tokio::time::sleep(Duration::from_millis(ms)) => false,
        }
    }
}
