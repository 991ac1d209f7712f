//! The desk's and the notifier's retry policy (see [`Patient`]), and [`Undeliverable`], the
//! error by which a handler says that no retry can help.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{MAX_ATTEMPTS, Next, RetryPolicy};
use crate::clock::Clock;
use crate::lanes;
use crate::shared::Shared;
use crate::store::{EventEntry, Store};

/// The desk's and the notifier's policy: retry with the lanes' backoff (100 ms doubling to
/// 5 s), and give an event up only after [`MAX_ATTEMPTS`] failures spread over at least ten
/// minutes of the app's clock, so that an outage of Redis or of Telegram (a group's flood
/// wait) does not dead-letter the events it caught. Failures are counted in memory: a
/// restart starts the count again, which errs on the side of trying longer.
pub struct Patient {
    group: &'static str,
    store: Store,
    clock: Clock,
    failures: Mutex<HashMap<String, Failures>>,
}

/// An event's failures so far, and when the first was (by the app's clock).
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_ms: i64,
}

/// An error a handler returns when no retry can help (every group refused a card for good):
/// [`Patient`] gives the event up to the dead letters at once, with this reason.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Undeliverable(pub String);

/// See [`Patient`].
const GIVE_UP_AFTER_MS: i64 = 10 * 60 * 1000;

impl Patient {
    /// The policy of group `group`.
    pub fn new(group: &'static str, shared: &Shared) -> Self {
        Self {
            group,
            store: shared.store.clone(),
            clock: shared.clock.clone(),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A poisoned map only lost a counter; it is still usable.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RetryPolicy for Patient {
    async fn failed(&self, entry: &EventEntry, error: &anyhow::Error) -> anyhow::Result<Next> {
        let now = self.clock.now_ms();
        let f = {
            let mut map = self.lock();
            let f = map.entry(entry.stream_id.clone()).or_insert(Failures {
                count: 0,
                first_ms: now,
            });
            f.count += 1;
            *f
        };
        if error.chain().any(|c| c.is::<Undeliverable>()) {
            return Ok(Next::GiveUp {
                why: format!("{error:#}"),
                attempts: f.count,
            });
        }
        Ok(
            if f.count < MAX_ATTEMPTS || now - f.first_ms < GIVE_UP_AFTER_MS {
                Next::Retry(lanes::backoff(f.count))
            } else {
                Next::GiveUp {
                    why: format!("{error:#}"),
                    attempts: f.count,
                }
            },
        )
    }

    fn finished(&self, entry: &EventEntry) {
        self.lock().remove(&entry.stream_id);
    }

    async fn give_up(&self, entry: &EventEntry, why: &str, _attempts: u32) -> anyhow::Result<()> {
        self.store
            .events_dead_letter(self.group, entry, why)
            .await?;
        Ok(())
    }
}
