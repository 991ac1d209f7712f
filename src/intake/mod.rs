//! The intake worker (DESIGN.md §3): reads the inbox in order, runs each citizen update through
//! the conversation, writes the outcome in one atomic commit, sends the replies, and only then
//! acknowledges the entry. A redelivered update finds its `seen` mark: if its replies were
//! already sent nothing happens, otherwise they are sent again (at least once, never lost).
//!
//! One intake consumer runs per deployment, which keeps every chat's updates in order.
//!
//! This file is the worker: reading ([`lanes::Source`]), working and acknowledging
//! ([`lanes::Work`]), and sending replies. Each entry is parsed once into an [`Inbound`]
//! ([`classify`]), which picks its lane and its handler:
//!
//! - `classify.rs`: what an entry is, by audience, and its lane.
//! - `citizen.rs`: a citizen's update on any channel, up to the conversation's input.
//! - `converse.rs`: the conversation step, its effects, the atomic commit, the replies.
//! - `flood.rs`: the per-citizen flood limit, counted by send time; a report's send passes.
//! - `status.rs`: `/status` lookups.
//! - `menu_choice.rs`: a typed choice from a numbered menu (channels without buttons).
//! - `officers.rs`: duty groups' buttons, commands and replies, handed to [`crate::desk`].
//! - `admin.rs`: admin commands, handed to [`crate::admin`].
//! - `ticks.rs`: draft timers: the sweeper that enqueues them and the tick that runs them.
//! - `budget.rs`: the retry budget, and the dead letters (`dlq:intake`) of entries past it or
//!   unreadable; `dead_letters.rs`: what `tipline dlq --group intake` shows and replays.

mod admin;
mod budget;
mod citizen;
mod classify;
mod converse;
pub mod dead_letters;
mod flood;
#[cfg(test)]
mod hostile_tests;
mod menu_choice;
mod officers;
mod status;
mod ticks;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::channels::{Outgoing, SendError};
use crate::lanes::{self, Keyed, Limits};
use crate::privacy::{Channel, Route};
use crate::shared::Shared;
use crate::store::{InboxEntry, InboxKind, SeenMark, Store};

pub use classify::{Inbound, Unreadable, classify};
pub use ticks::{run_sweeper, sweep};

/// Consumer name of the intake in its group (see [`crate::store::consumer_name`]).
const CONSUMER: &str = crate::store::INTAKE_CONSUMER;
/// An inbox entry with what it is, parsed once when read.
type Parsed = (InboxEntry, Inbound);

/// The `seen` mark of an update whose replies all went out, to be marked done together with
/// its entry's acknowledgement; `None` when there is nothing to mark.
type Sent = Option<String>;

/// Most inbox entries read at once.
const BATCH: usize = 128;

/// Citizens (and cards) worked on at once, and entries held in memory.
const LIMITS: Limits = Limits {
    running: 256,
    queued: 2048,
};

/// The intake worker.
pub struct Intake {
    shared: Arc<Shared>,
    reader: Store,
    cursor: lanes::Cursor,
    budget: budget::Budget,
}

impl Intake {
    /// A worker with its own blocking connection.
    pub async fn new(shared: Arc<Shared>) -> anyhow::Result<Self> {
        let reader = shared
            .store
            .blocking(Duration::from_secs(2))
            .await
            .context("connecting the intake reader to Redis")?;
        Ok(Self {
            shared,
            reader,
            cursor: lanes::Cursor::new("0"),
            budget: budget::Budget::default(),
        })
    }

    /// Processes entries until `shutdown`, stopping only between entries: first those read
    /// before and not finished (a restart), then new ones. Entries of one citizen are handled
    /// in stream order, one after the other; different citizens' entries concurrently
    /// ([`crate::lanes`]), so one citizen whose replies keep failing (a 429 for that chat)
    /// holds up only themselves. Each entry is acknowledged as soon as its work is done; a
    /// failed one is retried with backoff (on the app's clock), that citizen's later entries
    /// waiting behind it, until its budget is spent and it goes to the dead letters
    /// ([`budget`]). No citizen, card or group holds more than [`Limits::share`] entries in
    /// memory: the rest wait in the inbox, fetched back by id in order.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("intake started");
        let this = Arc::new(self);
        lanes::serve(this, LIMITS, shutdown).await;
        tracing::info!("intake stopped");
    }
}

impl lanes::Source for Intake {
    /// Every entry this worker read before and did not finish, oldest first.
    async fn pending(&self) -> anyhow::Result<Keyed<Parsed>> {
        let mut out = Vec::new();
        let mut after = "0".to_owned();
        loop {
            let page = match self
                .reader
                .inbox_read(CONSUMER, Some(&after), 500, None)
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
            // Entries an earlier version left pending keep their marks under the new names.
            let renamed = self.shared.store.adopt_clear_marks(&page).await?;
            if renamed > 0 {
                tracing::info!(
                    renamed,
                    "seen marks of the previous version renamed to keyed hashes"
                );
            }
            out.extend(page.into_iter().map(|e| self.keyed(e)));
        }
    }

    /// New entries, waiting up to a second for them (or, after a failed read, this worker's
    /// own pending entries that read may have taken: see [`lanes::Cursor`]).
    async fn read_new(&self) -> anyhow::Result<Keyed<Parsed>> {
        let after = self.cursor.next_read();
        let read = match &after {
            Some(after) => {
                self.reader
                    .inbox_read(CONSUMER, Some(after), BATCH, None)
                    .await
            }
            None => {
                self.reader
                    .inbox_read(CONSUMER, None, BATCH, Some(1000))
                    .await
            }
        };
        match read {
            Ok(entries) => {
                self.cursor.passed(
                    entries.last().map(|e| e.stream_id.as_str()),
                    after.is_some(),
                );
                Ok(entries.into_iter().map(|e| self.keyed(e)).collect())
            }
            Err(e) => {
                self.cursor.failed();
                Err(self.read_failed(e).await)
            }
        }
    }
}

impl lanes::Work for Intake {
    type Item = Parsed;
    const NAME: &'static str = "intake";

    /// Does an entry's work, then acknowledges it; past its retry budget, or unreadable, it
    /// goes to the dead letters instead ([`budget`]).
    async fn run(&self, parsed: &Parsed) -> anyhow::Result<()> {
        use futures_util::FutureExt;
        // A panic counts against the budget like any failure.
        let worked = std::panic::AssertUnwindSafe(self.work(parsed))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the work panicked")));
        self.settle(parsed, worked).await
    }

    /// Retries wait on the app's clock, which tests move forward.
    fn sleep(&self, _item: &Parsed, wait: Duration) -> impl Future<Output = ()> + Send {
        let clock = self.shared.clock.clone();
        async move { clock.sleep(wait).await }
    }

    /// A citizen's (or card's) entries beyond its share of the lanes wait in Redis, and are
    /// fetched again by stream id when their turn comes.
    fn spill_id(item: &Parsed) -> Option<&str> {
        Some(&item.0.stream_id)
    }

    /// Entries fetched again by stream id (see [`Intake::spill_id`]).
    async fn fetch(&self, ids: &[String]) -> anyhow::Result<Vec<Parsed>> {
        // Not on the reader's connection, where a blocking read may be waiting.
        let entries = self.shared.store.inbox_fetch(ids).await?;
        Ok(entries.into_iter().map(|e| self.keyed(e).1).collect())
    }
}

impl Intake {
    /// Does an entry's work and acknowledges it; an unreadable one is dead-lettered at once.
    async fn work(&self, (entry, inbound): &Parsed) -> anyhow::Result<()> {
        if let Inbound::Unreadable(why) = inbound {
            let reason = match why {
                Unreadable::Body { channel, reason } => {
                    format!("unreadable {} update: {reason}", channel.short())
                }
                Unreadable::UnknownKind => "an entry of a kind this version does not know".into(),
                Unreadable::Sealed => {
                    "a sealed entry that does not open (another key, or tampered)".into()
                }
            };
            tracing::warn!(entry = %entry.stream_id, error = %reason, "unreadable inbox entry; dead-lettered");
            return self.give_up(entry, inbound, &reason, 0, "unreadable").await;
        }
        let sent = self.process(entry, inbound).await?;
        let tick_of = (entry.kind == Some(InboxKind::Tick)).then_some(entry.key.as_str());
        self.shared
            .store
            .inbox_ack(&entry.stream_id, sent.as_deref(), tick_of)
            .await?;
        Ok(())
    }
}

impl Intake {
    /// Recreates the inbox when Redis lost it (data loss or failover); the error, for the
    /// retry.
    async fn read_failed(&self, e: redis::RedisError) -> anyhow::Error {
        if e.code() == Some("NOGROUP")
            && let Err(e) = self.shared.store.ensure_inbox().await
        {
            tracing::warn!(error = %e, "recreating the inbox failed");
        }
        e.into()
    }

    /// An entry, parsed, with its lane's key.
    fn keyed(&self, entry: InboxEntry) -> (String, Parsed) {
        let inbound = classify(&entry, &self.shared.channels, &self.shared.vault);
        let key = inbound
            .lane_key()
            .unwrap_or_else(|| entry.stream_id.clone());
        (key, (entry, inbound))
    }

    /// Does an entry's work, by audience. What comes back is the `seen` mark of an update
    /// whose replies were all sent, to be marked done together with the entry's
    /// acknowledgement.
    async fn process(&self, entry: &InboxEntry, inbound: &Inbound) -> anyhow::Result<Sent> {
        match inbound {
            Inbound::Citizen {
                channel,
                alias,
                update,
            } => self.citizen(entry, *channel, alias, update).await,
            Inbound::AdminCommand { command, .. } => self.admin_command(entry, command).await,
            Inbound::OfficerPress(_)
            | Inbound::GroupCommand(_)
            | Inbound::OfficerReply(_)
            | Inbound::Migration { .. }
            | Inbound::AddedToGroup { .. }
            | Inbound::Other => self.officer_update(entry, inbound).await,
            Inbound::DraftTick { alias } => self.tick(entry, alias).await,
            // Dead-lettered before any handler (see `work`).
            Inbound::Unreadable(_) => anyhow::bail!("an unreadable entry reaches no handler"),
        }
    }

    /// The outcome of work on a group's or an admin's update: a reply the platform refused for
    /// good (blocked, kicked, no rights, chat or message gone, group moved) is logged without
    /// personal data and counted, and the update counts as done; any other failure goes back
    /// for a retry.
    fn finish_refused(&self, worked: anyhow::Result<()>, audience: &str) -> anyhow::Result<()> {
        let Err(e) = worked else {
            return Ok(());
        };
        let reason = match e.chain().find_map(|c| c.downcast_ref::<SendError>()) {
            Some(SendError::Blocked) => "blocked",
            Some(SendError::Refused(_)) => "refused",
            Some(SendError::Migrated(_)) => "migrated",
            Some(SendError::Transient(_)) | None => return Err(e),
        };
        tracing::warn!(
            audience,
            reason,
            "the platform refused a reply for good; the update is done"
        );
        self.shared.metrics.refused(audience, reason);
        Ok(())
    }

    /// Whether a Telegram update that is not a citizen's was handled before: `Some` with what
    /// to return at once (nothing when it is done; when its replies may not have gone out,
    /// they go again to `chat`, or, without one, the mark is finished), `None` to work it.
    async fn handled_before(
        &self,
        seen_key: &str,
        chat: Option<i64>,
    ) -> anyhow::Result<Option<Sent>> {
        match self.shared.store.seen(seen_key).await? {
            None => Ok(None),
            Some(SeenMark::Done) => Ok(Some(None)),
            Some(SeenMark::Pending(json)) => match chat {
                Some(chat) => {
                    // Duty groups and admins are on Telegram by design.
                    let route = Route {
                        channel: Channel::Telegram,
                        chat: chat.to_string(),
                    };
                    self.resend(seen_key, &route, &json).await.map(Some)
                }
                None => Ok(Some(Some(seen_key.to_owned()))),
            },
        }
    }

    /// Sends replies; once all went, the update's mark comes back to be marked done with the
    /// acknowledgement. After a failure the mark keeps the replies not yet sent, and the error
    /// goes back so the entry is retried.
    async fn send_replies(
        &self,
        seen_key: &str,
        route: &Route,
        replies: &[Outgoing],
    ) -> anyhow::Result<Sent> {
        let store = &self.shared.store;
        match self.deliver(route, replies).await {
            Ok(()) => Ok(Some(seen_key.to_owned())),
            Err((sent, e)) => {
                let rest = serde_json::to_string(&replies[sent..])?;
                store.seen_pending(seen_key, &rest).await?;
                Err(e)
            }
        }
    }

    /// Sends the replies a mark still holds.
    async fn resend(&self, seen_key: &str, route: &Route, json: &str) -> anyhow::Result<Sent> {
        let replies: Vec<Outgoing> = serde_json::from_str(json).unwrap_or_default();
        self.send_replies(seen_key, route, &replies).await
    }

    /// Sends replies in order. A blocked citizen is logged and the rest skipped; a refused
    /// message is logged and skipped; a transient failure comes back with the number of replies
    /// already sent, so the caller can keep the rest.
    async fn deliver(
        &self,
        route: &Route,
        replies: &[Outgoing],
    ) -> Result<(), (usize, anyhow::Error)> {
        for (i, out) in replies.iter().enumerate() {
            match crate::outbound::send(&self.shared, route, out).await {
                Ok(()) => {}
                Err(SendError::Blocked) => {
                    tracing::info!("citizen blocked the bot; replies dropped");
                    return Ok(());
                }
                Err(SendError::Refused(e)) => {
                    tracing::error!(msg = %out.id, error = %e, "the platform refused a reply");
                }
                // A private chat does not migrate; treat it as a refusal.
                Err(SendError::Migrated(_)) => {
                    tracing::error!(msg = %out.id, "the platform says a private chat moved");
                }
                Err(e @ SendError::Transient(_)) => return Err((i, e.into())),
            }
        }
        Ok(())
    }
}
