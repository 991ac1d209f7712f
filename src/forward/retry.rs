//! The forwarder's [`RetryPolicy`] (DESIGN.md §7, docs/triage-api.md §2.3): 408, 429, 5xx, a
//! timeout or no connection is tried again after an exponential backoff with jitter, never
//! sooner than the service's `Retry-After`; any other answer is given up at once; after
//! `triage.max_attempts` failures the event is given up too. Attempts are counted in Redis
//! (`fwd:attempts`), so a restart does not start them again. Waits run on the app clock (tests
//! skip hours of outage) and keep the event and its tip held meanwhile, so that no other
//! worker takes the event over or sends the tip's next event first.
//!
//! A failure of our own (Redis) is tried again after a second, uncounted: it says nothing
//! about the event.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;

use crate::consumer::{Next, RetryPolicy};
use crate::shared::Shared;
use crate::store::{EventEntry, FORWARD_GROUP, consumer_name};

use super::{Failure, Undelivered};

/// How long a tip waits before it is tried again while an earlier event of it is out.
const NOT_YET_WAIT: Duration = Duration::from_millis(250);

/// The wait after a failure of our own (Redis), uncounted.
const OWN_FAILURE_WAIT: Duration = Duration::from_secs(1);

/// The longest `Retry-After` honoured.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

/// The forwarder's retry policy (see the module).
pub struct Retries {
    shared: Arc<Shared>,
    consumer: String,
    /// Events whose attempt failed after this worker took their tip's hold: only their waits
    /// renew it. A failure before the hold (a Redis error reading the state) must not take
    /// over a hold that another worker has.
    holding: Mutex<HashSet<String>>,
}

impl Retries {
    /// The policy of this process's forwarder.
    pub fn new(shared: Arc<Shared>) -> Self {
        let consumer = consumer_name(FORWARD_GROUP, &shared.instance);
        Self {
            shared,
            consumer,
            holding: Mutex::new(HashSet::new()),
        }
    }
}

impl Retries {
    fn holding_lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A poisoned set only lost whether a wait renews a hold; it is still usable.
        self.holding.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RetryPolicy for Retries {
    async fn failed(&self, entry: &EventEntry, error: &anyhow::Error) -> anyhow::Result<Next> {
        let store = &self.shared.store;
        let triage = &self.shared.settings.triage;
        let failure = match error.downcast_ref::<Undelivered>() {
            Some(Undelivered::NotYet) => return Ok(Next::Later(NOT_YET_WAIT)),
            Some(Undelivered::Unsendable(why)) => {
                return Ok(Next::GiveUp {
                    why: why.clone(),
                    attempts: 0,
                });
            }
            Some(Undelivered::Failed(failure)) => failure,
            None => return Ok(Next::Retry(OWN_FAILURE_WAIT)),
        };
        let attempts = store.forward_failed(&entry.stream_id).await?;
        Ok(match failure {
            Failure::Permanent(why) => Next::GiveUp {
                why: why.clone(),
                attempts,
            },
            Failure::Retry(why, _) if attempts >= triage.max_attempts => Next::GiveUp {
                why: format!("{why} (after {attempts} attempts)"),
                attempts,
            },
            Failure::Retry(why, retry_after) => {
                // The request was made, so this worker holds the tip (`Forwarder::deliver`).
                self.holding_lock().insert(entry.stream_id.clone());
                self.shared.metrics.forward_retried.inc();
                let wait = backoff(triage.backoff_initial_ms, triage.backoff_max_secs, attempts)
                    .max(retry_after.unwrap_or_default().min(RETRY_AFTER_CAP));
                tracing::warn!(tip = entry.get("code"), seq = entry.get("seq"), attempts, error = %why, ?wait, "triage service did not take the event; retrying");
                Next::Retry(wait)
            }
        })
    }

    /// Into `dlq:forward`, counted as passed so that the tip's later events still go, and
    /// acknowledged (one script); the tip's hold ends.
    async fn give_up(&self, entry: &EventEntry, why: &str, attempts: u32) -> anyhow::Result<()> {
        let store = &self.shared.store;
        let seq = entry.get("seq").parse().unwrap_or(0);
        store.forward_dead(entry, seq, why, attempts).await?;
        // The consumer has logged it; `tipline dlq list` shows it.
        self.shared.metrics.forward_dead.inc();
        if let Err(e) = store.forward_release(entry.get("code")).await {
            tracing::debug!(error = %e, "releasing the tip's forwarding lease failed");
        }
        Ok(())
    }

    /// Waits on the app clock, telling Redis now and then that the event and its tip are
    /// still this worker's.
    async fn sleep(&self, entry: &EventEntry, wait: Duration) {
        let holds_tip = self.holding_lock().remove(&entry.stream_id);
        let triage = &self.shared.settings.triage;
        let store = &self.shared.store;
        let chunk = Duration::from_millis((triage.reclaim_after_secs * 1000 / 3).max(100));
        let until = self.shared.clock.now_ms() + wait.as_millis() as i64;
        loop {
            let left = until - self.shared.clock.now_ms();
            if left <= 0 {
                return;
            }
            self.shared
                .clock
                .sleep(Duration::from_millis(left as u64).min(chunk))
                .await;
            let kept = async {
                store
                    .events_touch(FORWARD_GROUP, &self.consumer, &entry.stream_id)
                    .await?;
                if holds_tip {
                    store
                        .forward_hold(
                            entry.get("code"),
                            &self.consumer,
                            triage.reclaim_after_secs * 2000,
                        )
                        .await?;
                }
                redis::RedisResult::Ok(())
            };
            if let Err(e) = kept.await {
                // Try the event now rather than wait unheld: the attempt finds out where
                // Redis stands.
                tracing::debug!(error = %e, "keeping the event held failed");
                return;
            }
        }
    }
}

/// Exponential backoff with jitter: `initial · 2^(attempt-1)`, capped, then between half and
/// all of it, so that many events failing together do not retry together.
pub fn backoff(initial_ms: u64, max_secs: u64, attempt: u32) -> Duration {
    let cap = max_secs * 1000;
    let full = initial_ms
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
        .min(cap);
    let jittered = full / 2 + rand::rng().random_range(0..=full / 2);
    Duration::from_millis(jittered.max(1))
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(v: &str, now_unix: i64) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    Some(Duration::from_secs(
        (at.timestamp() - now_unix).max(0) as u64
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
        for attempt in 1..=12u32 {
            let full = (1000u64 << (attempt - 1)).min(600_000);
            for _ in 0..50 {
                let d = backoff(1000, 600, attempt).as_millis() as u64;
                assert!(
                    (full / 2..=full).contains(&d),
                    "attempt {attempt}: {d} of {full}"
                );
            }
        }
        assert!(backoff(1000, 600, 200).as_millis() <= 600_000);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 23:00:30 GMT", 1_795_734_000),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
