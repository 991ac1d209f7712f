//! The intake's retry budget: an inbox entry whose work keeps failing (for any reason but a
//! platform's final refusal, which ends its update at once) is retried with the lanes'
//! backoff, and given up to the inbox's dead letters (`dlq:intake`) only after
//! [`MAX_ATTEMPTS`] failures spread over at least ten minutes of the app's clock, as the desk
//! gives up an event: an outage of Redis or of a platform does not dead-letter what it
//! caught, and a citizen's later updates do not wait for ever behind one that cannot be done.
//! An entry that cannot be read at all is dead-lettered at once: reading it again gives the
//! same answer.
//!
//! A failure that is an outage (a platform's transient error: 429, 5xx, no network; Redis out
//! of memory, unreachable or loading) does not count at all: the entry is retried with
//! backoff until the outage ends, however long it lasts, so a long Telegram or Redis outage
//! never dead-letters the citizens' updates it caught. Such an entry holds up only its own
//! key, and no key holds more than its share of the intake ([`crate::lanes`]).
//!
//! Failures are counted in memory by stream id: a restart starts the count again, which errs
//! on the side of trying longer; an entry that succeeds after some failures is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::consumer::MAX_ATTEMPTS;
use crate::store::InboxGiveUp;

use super::{Inbound, Intake, Parsed};

/// See the module's documentation.
const GIVE_UP_AFTER_MS: i64 = 10 * 60 * 1000;

/// Failures per entry so far.
#[derive(Default)]
pub(super) struct Budget(Mutex<HashMap<String, Failures>>);

/// An entry's failures so far, and when the first was (by the app's clock).
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_ms: i64,
}

impl Budget {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A poisoned map only lost a counter; it is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a failure of entry `id` at `now_ms`; `Some(attempts)` once its budget is spent.
    fn failed(&self, id: &str, now_ms: i64) -> Option<u32> {
        let mut map = self.lock();
        let f = map.entry(id.to_owned()).or_insert(Failures {
            count: 0,
            first_ms: now_ms,
        });
        f.count += 1;
        let spent = f.count >= MAX_ATTEMPTS && now_ms - f.first_ms >= GIVE_UP_AFTER_MS;
        spent.then_some(f.count)
    }

    /// Entry `id` is finished: forget its failures.
    fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// Whether a failure is an outage of a platform or of Redis rather than something wrong
/// with the entry (see the module's documentation).
fn is_outage(error: &anyhow::Error) -> bool {
    use crate::channels::SendError;
    use crate::store::Trouble;
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<SendError>(),
            Some(SendError::Transient(_))
        ) || cause
            .downcast_ref::<redis::RedisError>()
            .is_some_and(|e| Trouble::of(e) != Trouble::Other)
    })
}

impl Inbound {
    /// What the entry is, for logs, metrics and dead letters (never who).
    pub fn audience(&self) -> &'static str {
        match self {
            Self::Citizen { .. } => "citizen",
            Self::AdminCommand { .. } => "admin",
            Self::OfficerPress(_)
            | Self::GroupCommand(_)
            | Self::OfficerReply(_)
            | Self::Migration { .. }
            | Self::AddedToGroup { .. } => "group",
            Self::Other => "other",
            Self::DraftTick { .. } => "tick",
            Self::Unreadable(_) => "unreadable",
        }
    }
}

impl Intake {
    /// What comes of a worked entry: done, or failed. A failure within the budget goes back
    /// to the lanes for a retry; past it, the entry goes to the dead letters and counts as
    /// done, so its citizen's later updates go on.
    pub(super) async fn settle(
        &self,
        (entry, inbound): &Parsed,
        worked: anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let error = match worked {
            Ok(()) => {
                self.budget.forget(&entry.stream_id);
                return Ok(());
            }
            Err(e) => e,
        };
        if is_outage(&error) {
            return Err(error);
        }
        let now = self.shared.clock.now_ms();
        let Some(attempts) = self.budget.failed(&entry.stream_id, now) else {
            return Err(error);
        };
        let why = format!("{error:#}");
        tracing::error!(
            entry = %entry.stream_id,
            audience = inbound.audience(),
            attempts,
            error = %why,
            "inbox entry kept failing past its budget; dead-lettered"
        );
        self.give_up(entry, inbound, &why, attempts, "budget")
            .await?;
        self.budget.forget(&entry.stream_id);
        Ok(())
    }

    /// Moves an entry to `dlq:intake` (acknowledged and deleted in the same step) and counts
    /// it.
    pub(super) async fn give_up(
        &self,
        entry: &crate::store::InboxEntry,
        inbound: &Inbound,
        why: &str,
        attempts: u32,
        reason: &str,
    ) -> anyhow::Result<()> {
        let audience = inbound.audience();
        let give_up = InboxGiveUp {
            error: why,
            attempts,
            audience,
            at_ms: self.shared.clock.now_ms(),
        };
        match self.shared.store.inbox_dead_letter(entry, &give_up).await? {
            Some(_) => self.shared.metrics.inbox_dead_lettered(audience, reason),
            // Finished or given up before (a retry whose answer was lost): nothing twice.
            None => {
                tracing::debug!(entry = %entry.stream_id, "no longer pending; not dead-lettered again")
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::SendError;

    #[test]
    fn an_entry_is_given_up_only_after_enough_failures_over_enough_time() {
        let b = Budget::default();
        // Many failures within a minute (an outage): kept.
        for i in 0..20 {
            assert_eq!(b.failed("1-0", i * 1000), None);
        }
        // Ten minutes after the first: given up.
        assert_eq!(b.failed("1-0", GIVE_UP_AFTER_MS), Some(21));
        // Few failures over a long time: kept until the count is reached.
        for i in 1..MAX_ATTEMPTS {
            assert_eq!(b.failed("2-0", i64::from(i) * GIVE_UP_AFTER_MS), None);
        }
        assert_eq!(
            b.failed("2-0", i64::from(MAX_ATTEMPTS) * GIVE_UP_AFTER_MS),
            Some(MAX_ATTEMPTS)
        );
        // Success forgets: the count starts again.
        b.forget("1-0");
        assert_eq!(b.failed("1-0", 10 * GIVE_UP_AFTER_MS), None);
    }

    #[test]
    fn outages_do_not_count_against_the_budget_and_other_failures_do() {
        let platform = anyhow::Error::new(SendError::Transient("502".into())).context("replying");
        assert!(is_outage(&platform));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let redis = anyhow::Error::new(redis::RedisError::from(io)).context("storing");
        assert!(is_outage(&redis));
        let oom = redis::make_extension_error(
            "OOM".into(),
            Some("command not allowed when used memory > 'maxmemory'.".into()),
        );
        assert!(is_outage(&anyhow::Error::new(oom).context("committing")));
        let wrongtype = redis::make_extension_error("WRONGTYPE".into(), None);
        assert!(!is_outage(&anyhow::Error::new(wrongtype)));
        let bug = anyhow::anyhow!("the stored conversation cannot be read");
        assert!(!is_outage(&bug));
        let refused = anyhow::Error::new(SendError::Refused("Bad Request".into()));
        assert!(!is_outage(&refused));
    }
}
