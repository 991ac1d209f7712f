//! A consumer group on the events stream (DESIGN.md §2.4), the one worker every event role
//! runs on (the desk, the notifier, the forwarder): read its pending events first, then new
//! ones, and now and then take over (`XAUTOCLAIM`) the events a stopped worker left pending
//! for longer than `reclaim_after`; acknowledge an event only after its handler succeeded;
//! on failure ask the group's [`RetryPolicy`] whether and when to try again, or give the event
//! up to `dlq:<group>` so that one bad event cannot stop its tip for ever. Handlers get the
//! decoded [`TipEvent`]; what becomes of an entry that does not decode is the handler's call
//! ([`Handler::undecodable`]).
//!
//! Events of different tips are handled concurrently, those of one tip one after the other in
//! sequence order (a card is posted before it is redrawn), in [`crate::lanes`] keyed by the
//! event's `code` and ranked by its `seq`: a tip whose event failed keeps the rest of its
//! events waiting behind it while other tips go on. The events a worker holds (waiting or
//! running) are claimed afresh every `reclaim_after / 3`, so no other worker takes them over
//! while this one lives; a worker that crashed leaves them to be taken over.
//!
//! Two policies exist: [`Patient`] (desk, notify: 8 failures over at least ten minutes,
//! counted in memory) and the forwarder's (`forward::Retries`: attempts counted in Redis,
//! exponential backoff with jitter, `Retry-After`, a refusal given up at once).

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::events::{DecodeError, TipEvent};
use crate::lanes::{self, Again, Keyed, Limits};
use crate::shared::Shared;
use crate::store::{EventEntry, SOLE_INSTANCE, Store, consumer_name};

mod patient;

pub use patient::{Patient, Undeliverable};

/// Failed attempts after which [`Patient`] gives an event up.
pub const MAX_ATTEMPTS: u32 = 8;

/// What a consumer group does with one event. It sees the decoded event only: an entry that
/// does not decode never reaches it (see [`Handler::undecodable`]).
pub trait Handler: Send + Sync + 'static {
    /// The consumer group's name (`desk`, `notify`, `forward`); its workers are named
    /// [`consumer_name`]`(GROUP, instance)`.
    const GROUP: &'static str;

    /// Whether several replicas may run this group's worker at once, each under its own
    /// instance's name (the forwarder: tips are held one worker at a time). Otherwise the
    /// group runs once per deployment under a fixed name ([`SOLE_INSTANCE`]), as the intake
    /// does, so that a restarted process reads what it left pending at once, before anything
    /// newer of the same tip.
    const PER_INSTANCE: bool = false;

    /// Whether `handle` acknowledges the event itself, in the same write as its own record of
    /// it (the forwarder, with the tip's `fwd_seq`), so that the consumer does not spend a
    /// round trip on it.
    const ACKNOWLEDGES: bool = false;

    /// Does the work for `event` (stream entry `stream_id`); an error goes to the group's
    /// [`RetryPolicy`].
    fn handle(
        &self,
        stream_id: &str,
        event: &TipEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// What becomes of an entry that is not a [`TipEvent`]: `None` skips it (acknowledged),
    /// `Some(why)` gives it up to the dead letters. By default a type this build does not know
    /// (written by a newer one, or by hand) is skipped, as every consumer always skipped the
    /// types it had no use for; an event of a known type with a missing or malformed field
    /// cannot be handled by any retry, so it is kept for a look and a replay.
    fn undecodable(&self, error: &DecodeError) -> Option<String> {
        match error {
            DecodeError::UnknownType(_) => None,
            _ => Some(error.to_string()),
        }
    }
}

/// What comes after a failed attempt, as a [`RetryPolicy`] decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Try the event again after this wait; its tip's later events wait behind it.
    Retry(Duration),
    /// Not the event's turn (an earlier event of its tip is still out): try its tip again
    /// after this wait, the earlier event first if it came meanwhile. Not a failure.
    Later(Duration),
    /// Give it up to the dead letters with this reason, after this many attempts.
    GiveUp {
        /// The last error, as the dead letter keeps it.
        why: String,
        /// Failed attempts, as the dead letter keeps it (0: none counted).
        attempts: u32,
    },
}

/// How a consumer group retries an event whose handling failed, how it gives one up, and the
/// clock its waits run on.
pub trait RetryPolicy: Send + Sync + 'static {
    /// Counts a failure of `entry` (`error`, from the handler) and decides what comes next.
    /// An error here (Redis) retries the event after a short backoff, uncounted.
    fn failed(
        &self,
        entry: &EventEntry,
        error: &anyhow::Error,
    ) -> impl Future<Output = anyhow::Result<Next>> + Send;

    /// `entry` is finished (handled or given up): forget what was counted of it.
    fn finished(&self, _entry: &EventEntry) {}

    /// Moves `entry` to the group's dead letters with `why`, and acknowledges it.
    fn give_up(
        &self,
        entry: &EventEntry,
        why: &str,
        attempts: u32,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Waits `wait` before `entry` is tried again.
    fn sleep(&self, _entry: &EventEntry, wait: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(wait)
    }
}

/// How many events a worker holds and how soon it takes over a stopped worker's.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Tips worked on at once, and events held in memory.
    pub limits: Limits,
    /// Most events read at once.
    pub batch: usize,
    /// An event pending this long with another worker is taken over: that worker stopped.
    pub reclaim_after: Duration,
}

impl Default for Tuning {
    /// The desk's and the notifier's.
    fn default() -> Self {
        Self {
            limits: Limits {
                running: 32,
                queued: 512,
            },
            batch: 64,
            reclaim_after: Duration::from_secs(60),
        }
    }
}

/// A worker of one consumer group: handler `H`, retry policy `P`.
pub struct Consumer<H, P = Patient> {
    handler: H,
    policy: P,
    shared: Arc<Shared>,
    reader: Store,
    cursor: lanes::Cursor,
    name: String,
    tuning: Tuning,
    /// Events read and not finished: claimed afresh now and then, and not taken in twice
    /// when a takeover brings back one this worker still holds.
    held: Mutex<HashSet<String>>,
    next_reclaim: Mutex<tokio::time::Instant>,
}

impl<H: Handler> Consumer<H, Patient> {
    /// A worker with the [`Patient`] policy and the default [`Tuning`].
    pub async fn new(shared: Arc<Shared>, handler: H) -> anyhow::Result<Self> {
        let policy = Patient::new(H::GROUP, &shared);
        Self::with_policy(shared, handler, policy, Tuning::default()).await
    }
}

impl<H: Handler, P: RetryPolicy> Consumer<H, P> {
    /// Creates the group if needed and a blocking connection for reading.
    pub async fn with_policy(
        shared: Arc<Shared>,
        handler: H,
        policy: P,
        tuning: Tuning,
    ) -> anyhow::Result<Self> {
        shared
            .store
            .ensure_event_group(H::GROUP)
            .await
            .with_context(|| format!("creating the {} consumer group", H::GROUP))?;
        let instance = match H::PER_INSTANCE {
            true => shared.instance.as_str(),
            false => SOLE_INSTANCE,
        };
        let name = consumer_name(H::GROUP, instance);
        let reader = shared.store.blocking(Duration::from_secs(2)).await?;
        Ok(Self {
            name,
            handler,
            policy,
            shared,
            reader,
            cursor: lanes::Cursor::new("0"),
            tuning,
            held: Mutex::new(HashSet::new()),
            // The first takeover comes after this worker's own pending events are read.
            next_reclaim: Mutex::new(tokio::time::Instant::now()),
        })
    }

    /// Processes events until `shutdown`: first those read before and not finished (a
    /// restart), then new ones and those a stopped worker left, each tip's in order and
    /// different tips' concurrently.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(group = H::GROUP, consumer = %self.name, "consumer started");
        let this = Arc::new(self);
        let limits = this.tuning.limits;
        // Not a task of its own: a worker that is aborted (as a crash would stop it) must stop
        // claiming its events too, so that another worker takes them over.
        tokio::select! {
            _ = lanes::serve(this.clone(), limits, shutdown.clone()) => {}
            _ = this.keep_claimed() => {}
        }
        tracing::info!(group = H::GROUP, consumer = %this.name, "consumer stopped");
    }

    /// Claims every held event afresh every `reclaim_after / 3`, so that no other worker
    /// takes over (and handles early, out of order) what waits here behind its tip's
    /// earlier events or out a long backoff. Runs until dropped: through a shutdown too, while
    /// the last events finish.
    async fn keep_claimed(&self) {
        let every = (self.tuning.reclaim_after / 3).max(Duration::from_millis(100));
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let ids: Vec<String> = self.held_lock().iter().cloned().collect();
            for chunk in ids.chunks(500) {
                let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                if let Err(e) = self
                    .shared
                    .store
                    .events_touch_many(H::GROUP, &self.name, &refs)
                    .await
                {
                    tracing::debug!(group = H::GROUP, error = %e, "keeping events claimed failed");
                }
            }
        }
    }

    /// Events read, keyed, without those this worker holds already.
    fn take_in(&self, events: Vec<EventEntry>) -> Keyed<EventEntry> {
        let mut held = self.held_lock();
        events
            .into_iter()
            .filter(|e| held.insert(e.stream_id.clone()))
            .map(keyed)
            .collect()
    }

    /// Whether it is time to look for events a stopped worker left.
    fn reclaim_due(&self) -> bool {
        let mut next = self.next_reclaim.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now();
        if now < *next {
            return false;
        }
        *next = now + (self.tuning.reclaim_after / 2).max(Duration::from_millis(500));
        true
    }

    fn held_lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A poisoned set only lost an insertion; it is still usable.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<H: Handler, P: RetryPolicy> lanes::Source for Consumer<H, P> {
    /// Every event this worker read before and did not finish, oldest first.
    async fn pending(&self) -> anyhow::Result<Keyed<EventEntry>> {
        let mut out = Vec::new();
        let mut after = "0".to_owned();
        loop {
            let page = match self
                .reader
                .events_pending_after(H::GROUP, &self.name, &after, 500)
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
            out.extend(self.take_in(page));
        }
    }

    /// New events, waiting up to a second for them; or, after a failed read, this worker's
    /// own pending events that read may have taken; or, every `reclaim_after / 2`, those a
    /// stopped worker left.
    async fn read_new(&self) -> anyhow::Result<Keyed<EventEntry>> {
        let after = self.cursor.next_read();
        if after.is_none() && self.reclaim_due() {
            let idle_ms = self.tuning.reclaim_after.as_millis() as u64;
            return match self
                .shared
                .store
                .events_autoclaim(H::GROUP, &self.name, idle_ms)
                .await
            {
                Ok(events) => {
                    let events = self.take_in(events);
                    if !events.is_empty() {
                        tracing::info!(
                            group = H::GROUP,
                            events = events.len(),
                            "took over events a stopped worker left"
                        );
                    }
                    Ok(events)
                }
                Err(e) => Err(self.read_failed(e).await),
            };
        }
        let read = match &after {
            Some(after) => {
                self.reader
                    .events_pending_after(H::GROUP, &self.name, after, self.tuning.batch)
                    .await
            }
            None => {
                self.reader
                    .events_read(H::GROUP, &self.name, false, self.tuning.batch, Some(1000))
                    .await
            }
        };
        match read {
            Ok(events) => {
                self.cursor
                    .passed(events.last().map(|e| e.stream_id.as_str()), after.is_some());
                Ok(self.take_in(events))
            }
            Err(e) => {
                self.cursor.failed();
                Err(self.read_failed(e).await)
            }
        }
    }
}

impl<H: Handler, P: RetryPolicy> Consumer<H, P> {
    /// Recreates the group when Redis lost it; the error, for the retry.
    async fn read_failed(&self, e: redis::RedisError) -> anyhow::Error {
        if e.code() == Some("NOGROUP")
            && let Err(e) = self.shared.store.ensure_event_group(H::GROUP).await
        {
            tracing::warn!(error = %e, "recreating the consumer group failed");
        }
        e.into()
    }

    /// Handles one event and acknowledges it; or, as the policy says, has it tried again
    /// (an error carrying the wait, for the lanes) or gives it up.
    async fn process(&self, entry: &EventEntry) -> anyhow::Result<()> {
        let decoded = match entry.decode() {
            Ok(decoded) => decoded,
            Err(e) => return self.undecodable(entry, &e).await,
        };
        let error = match self.handler.handle(&entry.stream_id, &decoded).await {
            Ok(()) => {
                if !H::ACKNOWLEDGES {
                    self.shared
                        .store
                        .events_ack(H::GROUP, &entry.stream_id)
                        .await?;
                }
                self.finished(entry);
                return Ok(());
            }
            Err(e) => e,
        };
        match self.policy.failed(entry, &error).await? {
            Next::Retry(wait) => Err(error.context(Again::After(wait))),
            Next::Later(wait) => Err(error.context(Again::Later(wait))),
            Next::GiveUp { why, attempts } => {
                tracing::error!(
                    group = H::GROUP,
                    tip = %decoded.code(),
                    seq = decoded.head().seq,
                    attempts,
                    error = %why,
                    "event given up; dead-lettered"
                );
                self.policy.give_up(entry, &why, attempts).await?;
                self.finished(entry);
                Ok(())
            }
        }
    }

    /// An entry that is not a [`TipEvent`]: skipped or given up, as the handler says.
    async fn undecodable(&self, entry: &EventEntry, error: &DecodeError) -> anyhow::Result<()> {
        match self.handler.undecodable(error) {
            None => {
                tracing::warn!(group = H::GROUP, id = %entry.stream_id, error = %error, "event of an unknown type; skipped");
                self.shared
                    .store
                    .events_ack(H::GROUP, &entry.stream_id)
                    .await?;
            }
            Some(why) => {
                tracing::error!(group = H::GROUP, id = %entry.stream_id, error = %error, "event cannot be read; dead-lettered");
                self.policy.give_up(entry, &why, 0).await?;
            }
        }
        self.finished(entry);
        Ok(())
    }

    fn finished(&self, entry: &EventEntry) {
        self.held_lock().remove(&entry.stream_id);
        self.policy.finished(entry);
    }
}

impl<H: Handler, P: RetryPolicy> lanes::Work for Consumer<H, P> {
    type Item = EventEntry;
    const NAME: &'static str = H::GROUP;

    async fn run(&self, event: &EventEntry) -> anyhow::Result<()> {
        self.process(event).await
    }

    /// A tip's events go in sequence order, whatever order they were read in.
    fn rank(event: &EventEntry) -> u64 {
        event.get("seq").parse().unwrap_or(0)
    }

    fn sleep(&self, event: &EventEntry, wait: Duration) -> impl Future<Output = ()> + Send {
        self.policy.sleep(event, wait)
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
