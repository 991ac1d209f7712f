//! A consumer group on the events stream (DESIGN.md §2.4), the loop every event worker shares:
//! read its pending events first, then new ones; acknowledge an event only after its handler
//! succeeded; retry a failed one with backoff; after `MAX_ATTEMPTS` failures over at least ten
//! minutes move it to `dlq:<group>` with the last error so that one bad event cannot stop its
//! tip for ever. Handlers get the decoded [`TipEvent`]: an entry of a type this build does not
//! know is skipped, one with a missing or malformed field is dead-lettered at once.
//!
//! Events of different tips are handled concurrently, those of one tip one after the other in
//! stream order (a card is posted before it is redrawn), in [`crate::lanes`] keyed by the
//! event's `code`: a tip whose event failed keeps the rest of its events waiting behind it
//! while other tips go on.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::events::{DecodeError, TipEvent};
use crate::lanes::{self, Keyed, Limits};
use crate::shared::Shared;
use crate::store::{EventEntry, Store};

/// Failed attempts after which an event is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 8;

/// Most events read at once.
const BATCH: usize = 64;

/// Tips worked on at once, and events held in memory.
const LIMITS: Limits = Limits {
    running: 32,
    queued: 512,
};

/// What a consumer group does with one event. It sees the decoded event only: an entry that
/// does not decode never reaches it (see [`Consumer`]).
pub trait Handler: Send + Sync + 'static {
    /// The consumer group's name (`desk`, `notify`, …).
    const GROUP: &'static str;

    /// Does the work for `event` (stream entry `stream_id`); an error leaves it pending for a
    /// retry.
    fn handle(
        &self,
        stream_id: &str,
        event: &TipEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A worker of one consumer group.
pub struct Consumer<H> {
    handler: H,
    shared: Arc<Shared>,
    reader: Store,
    cursor: lanes::Cursor,
    attempts: Mutex<HashMap<String, Failures>>,
}

/// An event's failures so far, and when the first was (by the app's clock).
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_ms: i64,
}

/// An event is given up only after [`MAX_ATTEMPTS`] failures spread over at least this long,
/// so that an outage of Redis or of Telegram (a group's flood wait) does not dead-letter the
/// events it caught.
const GIVE_UP_AFTER_MS: i64 = 10 * 60 * 1000;

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
            cursor: lanes::Cursor::new("0"),
            attempts: Mutex::new(HashMap::new()),
        })
    }

    /// This worker's name in its group.
    fn consumer() -> String {
        format!("{}-1", H::GROUP)
    }

    /// Processes events until `shutdown`: first those read before and not finished (a
    /// restart), then new ones, each tip's in order and different tips' concurrently.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(group = H::GROUP, "consumer started");
        let this = Arc::new(self);
        lanes::serve(this, LIMITS, shutdown).await;
        tracing::info!(group = H::GROUP, "consumer stopped");
    }
}

impl<H: Handler> lanes::Source for Consumer<H> {
    /// Every event this worker read before and did not finish, oldest first.
    async fn pending(&self) -> anyhow::Result<Keyed<EventEntry>> {
        let mut out = Vec::new();
        let mut after = "0".to_owned();
        loop {
            let page = match self
                .reader
                .events_pending_after(H::GROUP, &Self::consumer(), &after, 500)
                .await
            {
                Ok(page) => page,
                Err(e) => return Err(self.read_failed(e).await),
            };
            let Some(last) = page.last() else {
                self.cursor.passed(Some(&after), false);
                return Ok(out);
            };
            after = last.stream_id.clone();
            out.extend(page.into_iter().map(keyed));
        }
    }

    /// New events, waiting up to a second for them (or, after a failed read, this worker's
    /// own pending events that read may have taken).
    async fn read_new(&self) -> anyhow::Result<Keyed<EventEntry>> {
        let after = self.cursor.next_read();
        let read = match &after {
            Some(after) => {
                self.reader
                    .events_pending_after(H::GROUP, &Self::consumer(), after, BATCH)
                    .await
            }
            None => {
                self.reader
                    .events_read(H::GROUP, &Self::consumer(), false, BATCH, Some(1000))
                    .await
            }
        };
        match read {
            Ok(events) => {
                self.cursor
                    .passed(events.last().map(|e| e.stream_id.as_str()), after.is_some());
                Ok(events.into_iter().map(keyed).collect())
            }
            Err(e) => {
                self.cursor.failed();
                Err(self.read_failed(e).await)
            }
        }
    }
}

impl<H: Handler> Consumer<H> {
    /// Recreates the group when Redis lost it; the error, for the retry.
    async fn read_failed(&self, e: redis::RedisError) -> anyhow::Error {
        if e.code() == Some("NOGROUP")
            && let Err(e) = self.shared.store.ensure_event_group(H::GROUP).await
        {
            tracing::warn!(error = %e, "recreating the consumer group failed");
        }
        e.into()
    }

    /// Handles one event and acknowledges it, or dead-letters it after its last attempt.
    async fn process(&self, event: &EventEntry) -> anyhow::Result<()> {
        let store = &self.shared.store;
        let decoded = match event.decode() {
            Ok(decoded) => decoded,
            Err(e) => return self.undecodable(event, &e).await,
        };
        match self.handler.handle(&event.stream_id, &decoded).await {
            Ok(()) => {
                store.events_ack(H::GROUP, &event.stream_id).await?;
                self.attempts_lock().remove(&event.stream_id);
                Ok(())
            }
            Err(e) => {
                let now = self.shared.clock.now_ms();
                let failures = {
                    let mut map = self.attempts_lock();
                    let f = map.entry(event.stream_id.clone()).or_insert(Failures {
                        count: 0,
                        first_ms: now,
                    });
                    f.count += 1;
                    *f
                };
                if failures.count < MAX_ATTEMPTS || now - failures.first_ms < GIVE_UP_AFTER_MS {
                    return Err(e);
                }
                tracing::error!(
                    group = H::GROUP,
                    tip = %decoded.code(),
                    error = format!("{e:#}"),
                    "event given up; dead-lettered"
                );
                store
                    .events_dead_letter(H::GROUP, event, &format!("{e:#}"))
                    .await?;
                self.attempts_lock().remove(&event.stream_id);
                Ok(())
            }
        }
    }

    /// An entry that is not a [`TipEvent`]. A type this build does not know (written by a
    /// newer one, or by hand) is skipped, as every consumer always skipped the types it had no
    /// use for; an event of a known type with a missing or malformed field cannot be handled
    /// by any retry, so it goes to `dlq:<group>` at once, kept for a look and a replay.
    async fn undecodable(&self, event: &EventEntry, error: &DecodeError) -> anyhow::Result<()> {
        let store = &self.shared.store;
        if let DecodeError::UnknownType(_) = error {
            tracing::warn!(group = H::GROUP, id = %event.stream_id, error = %error, "event of an unknown type; skipped");
            store.events_ack(H::GROUP, &event.stream_id).await?;
            return Ok(());
        }
        tracing::error!(group = H::GROUP, id = %event.stream_id, error = %error, "event cannot be read; dead-lettered");
        store
            .events_dead_letter(H::GROUP, event, &error.to_string())
            .await?;
        Ok(())
    }

    fn attempts_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A poisoned map only lost a counter; it is still usable.
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<H: Handler> lanes::Work for Consumer<H> {
    type Item = EventEntry;
    const NAME: &'static str = H::GROUP;

    async fn run(&self, event: &EventEntry) -> anyhow::Result<()> {
        self.process(event).await
    }
}

/// An event with the key of the events that must be handled one after the other: its tip's
/// code (an event without one stands alone).
fn keyed(event: EventEntry) -> (String, EventEntry) {
    let key = match event.get("code") {
        "" => event.stream_id.clone(),
        code => code.to_owned(),
    };
    (key, event)
}
