//! A consumer group on the events stream (DESIGN.md §2.4), the loop every event worker shares:
//! read its pending events first, then new ones; acknowledge an event only after its handler
//! succeeded; retry a failed one with backoff; after `MAX_ATTEMPTS` failures move it to
//! `dlq:<group>` with the last error so that one bad event cannot stop the group.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::app::Shared;
use crate::store::{EventEntry, Store};

/// Failed attempts after which an event is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 8;

/// What a consumer group does with one event.
pub trait Handler: Send + Sync + 'static {
    /// The consumer group's name (`desk`, `notify`, …).
    const GROUP: &'static str;

    /// Does the work for `event`; an error leaves it pending for a retry.
    fn handle(&self, event: &EventEntry) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A worker of one consumer group.
pub struct Consumer<H> {
    handler: H,
    shared: Arc<Shared>,
    reader: Store,
    attempts: Mutex<HashMap<String, u32>>,
}

impl<H: Handler> Consumer<H> {
    /// Creates the group if needed and a blocking connection for reading.
    pub async fn new(shared: Arc<Shared>, handler: H) -> anyhow::Result<Self> {
        shared
            .store
            .ensure_event_group(H::GROUP)
            .await
            .with_context(|| format!("creating the {} consumer group", H::GROUP))?;
        let reader = shared.store.blocking(Duration::from_secs(2)).await?;
        Ok(Self {
            handler,
            shared,
            reader,
            attempts: Mutex::new(HashMap::new()),
        })
    }

    /// Processes events until `shutdown`, stopping only between events.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(group = H::GROUP, "consumer started");
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            match self.try_process_next(1000).await {
                Ok(_) => failures = 0,
                Err(e) => {
                    failures += 1;
                    if format!("{e:#}").contains("NOGROUP")
                        && let Err(e) = self.shared.store.ensure_event_group(H::GROUP).await
                    {
                        tracing::warn!(error = %e, "recreating the consumer group failed");
                    }
                    let wait = Duration::from_millis((100u64 << failures.min(6)).min(5000));
                    tracing::warn!(
                        group = H::GROUP,
                        error = format!("{e:#}"),
                        ?wait,
                        "event failed; retrying"
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        tracing::info!(group = H::GROUP, "consumer stopped");
    }

    /// Handles the next event (pending ones first); `Ok(false)` when there was none.
    pub async fn try_process_next(&self, block_ms: u64) -> anyhow::Result<bool> {
        let consumer = format!("{}-1", H::GROUP);
        let mut events = self
            .reader
            .events_read(H::GROUP, &consumer, true, 1, 0)
            .await?;
        if events.is_empty() {
            events = self
                .reader
                .events_read(H::GROUP, &consumer, false, 1, block_ms)
                .await?;
        }
        let Some(event) = events.pop() else {
            return Ok(false);
        };
        let store = &self.shared.store;
        match self.handler.handle(&event).await {
            Ok(()) => {
                self.attempts_lock().remove(&event.stream_id);
                store.events_ack(H::GROUP, &event.stream_id).await?;
                Ok(true)
            }
            Err(e) => {
                let attempts = {
                    let mut map = self.attempts_lock();
                    let n = map.entry(event.stream_id.clone()).or_default();
                    *n += 1;
                    *n
                };
                if attempts < MAX_ATTEMPTS {
                    return Err(e);
                }
                tracing::error!(
                    group = H::GROUP,
                    tip = event.get("code"),
                    error = format!("{e:#}"),
                    "event given up; dead-lettered"
                );
                self.attempts_lock().remove(&event.stream_id);
                store
                    .events_dead_letter(H::GROUP, &event, &format!("{e:#}"))
                    .await?;
                Ok(true)
            }
        }
    }

    fn attempts_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        // A poisoned map only lost a counter; it is still usable.
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }
}
