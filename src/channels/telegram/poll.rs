//! Long polling with the inbox guarantee: the offset that tells Telegram "received" advances
//! past an update only after the update is in Redis. If Redis refuses the batch (out of memory,
//! down), the offset stays where it is and the poller asks again after a backoff: Telegram
//! keeps the updates (up to 24 h) and sends them again, with those that arrived since, so the
//! citizens who write meanwhile are told too ([`Unstored`]) that the line is briefly
//! unavailable. Once Redis takes the batch, everything held goes in, in order.

use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use tokio_util::sync::CancellationToken;

use crate::channels::Unstored;
use crate::privacy::Channel;
use crate::store::{InboxKind, Store};

/// Polls `bot` until `shutdown`, appending every update to the inbox and telling `unstored`
/// what Redis refused.
pub async fn run(
    bot: Bot,
    store: Store,
    unstored: Arc<dyn Unstored>,
    timeout_secs: u32,
    shutdown: CancellationToken,
) {
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
    let mut offset: i64 = 0;
    // Two backoffs: getUpdates failing, and Redis refusing what it brought (a successful
    // getUpdates does not reset the second).
    let mut backoff = Backoff::default();
    let mut held = Backoff::default();
    tracing::info!("telegram polling started");
    loop {
        let updates = tokio::select! {
            _ = shutdown.cancelled() => break,
            res = get_updates(&bot, offset, timeout_secs) => res,
        };
        let entries = match updates {
            Ok(u) => {
                backoff.reset();
                u
            }
            Err(e) => {
                tracing::warn!(error = %e, "getUpdates failed");
                if backoff.wait_at_least(&shutdown, e.retry_after).await {
                    break;
                }
                continue;
            }
        };
        let next = entries
            .iter()
            .filter_map(|(id, _)| id.parse::<i64>().ok())
            .map(|id| id + 1)
            .fold(offset, i64::max);
        // The whole batch goes into the inbox in one transaction (one round trip, one fsync).
        if let Err(e) = store.inbox_append_all(InboxKind::Telegram, &entries).await {
            // Not appended, so not acknowledged: the offset stays, and the next getUpdates
            // brings the batch again with whatever arrived since.
            let bodies: Vec<&str> = entries.iter().map(|(_, body)| body.as_str()).collect();
            unstored.refused(Channel::Telegram, &bodies, &e);
            if held.wait(&shutdown).await {
                break;
            }
            continue;
        }
        if !entries.is_empty() {
            unstored.stored();
        }
        held.reset();
        offset = next;
    }
    // Tell Telegram what is already in the inbox (and nothing else), so a restart does not
    // fetch it again.
    if offset > 0 {
        let _ = bot
            .get_updates()
            .offset(offset as i32)
            .timeout(0)
            .limit(1)
            .await;
    }
    tracing::info!("telegram polling stopped");
}

/// Why `getUpdates` failed.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
struct PollError {
    what: String,
    /// Telegram's `retry_after`, for a 429.
    retry_after: Option<Duration>,
}

impl PollError {
    fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            retry_after: None,
        }
    }
}

/// `getUpdates`, each update kept as the JSON Telegram sent (with its id): it goes into the
/// inbox as it is and is parsed once, by the intake, instead of parsed here, written out again
/// and parsed there.
async fn get_updates(
    bot: &Bot,
    offset: i64,
    timeout_secs: u32,
) -> Result<Vec<(String, String)>, PollError> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        ok: bool,
        #[serde(borrow, default)]
        result: Vec<&'a serde_json::value::RawValue>,
        #[serde(default)]
        description: String,
        #[serde(default)]
        parameters: Option<Parameters>,
    }
    #[derive(serde::Deserialize)]
    struct Parameters {
        retry_after: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        update_id: i64,
    }
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| PollError::new("the Telegram API URL cannot take a path"))?
        .push(&format!("bot{}", bot.token()))
        .push("getUpdates");
    let body = serde_json::json!({
        "offset": offset,
        "timeout": timeout_secs,
        "allowed_updates": [AllowedUpdate::Message, AllowedUpdate::CallbackQuery, AllowedUpdate::MyChatMember],
    });
    let response = bot
        .client()
        .post(url)
        .json(&body)
        // Longer than the long poll itself.
        .timeout(Duration::from_secs(u64::from(timeout_secs) + 10))
        .send()
        .await
        // Without the URL: it holds the token.
        .map_err(|e| PollError::new(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| PollError::new(format!("reading the answer failed: {}", e.without_url())))?;
    let answer: Answer = serde_json::from_str(&text)
        .map_err(|_| PollError::new(format!("unreadable answer (HTTP {status})")))?;
    if !answer.ok {
        return Err(PollError {
            what: format!("Telegram says: {} (HTTP {status})", answer.description),
            retry_after: answer
                .parameters
                .and_then(|p| p.retry_after)
                .map(Duration::from_secs),
        });
    }
    let mut updates = Vec::with_capacity(answer.result.len());
    for raw in answer.result {
        match serde_json::from_str::<Id>(raw.get()) {
            Ok(id) => updates.push((id.update_id.to_string(), raw.get().to_owned())),
            // Not an update at all: nothing to store, and no id to skip it by.
            Err(_) => tracing::error!("an entry of getUpdates has no update_id; skipped"),
        }
    }
    Ok(updates)
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
        self.wait_at_least(shutdown, None).await
    }

    /// Waits, at least `floor` (Telegram's `retry_after`); returns `true` when shutdown came
    /// first.
    async fn wait_at_least(
        &mut self,
        shutdown: &CancellationToken,
        floor: Option<Duration>,
    ) -> bool {
        let ms = (100u64 << self.step.min(6)).min(5000);
        self.step += 1;
        let wait = Duration::from_millis(ms).max(floor.unwrap_or_default());
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tokio::time::sleep(wait) => false,
        }
    }
}
