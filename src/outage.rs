//! Redis out of memory or down: what happens to an update Redis refuses, and the write probe
//! behind `/readyz`. The edge acknowledges nothing it has not stored (the webhooks answer 503,
//! the pollers keep their place: [`crate::http`], [`crate::channels::telegram::poll`]); here
//! each refusal is counted (`tipline_redis_errors_total{reason}`, `tipline_redis_up`), logged
//! without personal data (at error level once when the state changes, then as warnings), and
//! each citizen among the senders is told, at most once in ten minutes, that the line is
//! briefly unavailable and to call 113 in an emergency.
//!
//! Since Redis is what failed, that limit is kept in memory: keyed by the chat's alias (a keyed
//! hash, never the clear id), bounded in size. The notice goes straight from the edge to the
//! platform, only to citizens in private chats (duty groups and admin commands are not
//! citizens'), in the language of the citizen's app when the update carries it and otherwise
//! in the default language (the conversation's language is in Redis).
//!
//! When Redis takes writes again, the platforms deliver again what got 503 and the pollers
//! fetch again from their kept offset, so the intake works through everything in order; the
//! probe (or the next stored update) clears the state, and `/readyz` recovers by itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::channels::{OutKeyboard, Outgoing, Parsed, Unstored};
use crate::privacy::Channel;
use crate::shared::Shared;
use crate::store::Trouble;

/// The locale id of the notice.
pub const NOTICE: &str = "line-unavailable";

/// At most one notice per chat in this long (ten minutes).
pub const NOTICE_EVERY_MS: i64 = 10 * 60 * 1000;

/// How many chats the limit remembers at once. When that many were told within the window,
/// further chats are not told until entries expire: an outage flooded with new senders does
/// not turn into an unbounded map or an unbounded burst of messages.
const MAX_CHATS: usize = 10_000;

/// The receiving edge's view of Redis: the probe, and what it does with refused updates.
pub struct Outage {
    shared: Arc<Shared>,
    told: Mutex<OncePer>,
}

impl Outage {
    /// Nothing refused yet.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            told: Mutex::new(OncePer::new(NOTICE_EVERY_MS, MAX_CHATS)),
        }
    }

    /// Whether Redis takes a write now (a `PING` answers even at `maxmemory`), recorded for
    /// `/readyz` and `/metrics`; the reason when it does not.
    pub async fn probe(&self) -> Result<(), Trouble> {
        match self.shared.store.probe_write().await {
            Ok(()) => {
                self.taken();
                Ok(())
            }
            Err(e) => Err(self.failed(&e)),
        }
    }

    fn taken(&self) {
        self.shared.metrics.redis_up.set(1);
        if self.shared.health.redis_says(None) {
            tracing::info!("Redis takes writes again; held updates are stored as they come back");
        }
    }

    fn failed(&self, e: &redis::RedisError) -> Trouble {
        let trouble = Trouble::of(e);
        let metrics = &self.shared.metrics;
        metrics.redis_up.set(0);
        metrics.redis_error(trouble.label());
        if self.shared.health.redis_says(Some(trouble)) {
            tracing::error!(
                reason = trouble.label(),
                error = %e,
                "Redis refuses writes: updates are not acknowledged (webhooks answer 503, \
                 polling keeps its offset) until it takes them again"
            );
        }
        trouble
    }

    /// The notice, in `lang`.
    fn notice(&self, lang: crate::i18n::Lang) -> Outgoing {
        Outgoing {
            id: NOTICE.to_owned(),
            text: self.shared.texts.get(lang, NOTICE),
            keyboard: OutKeyboard::None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OncePer> {
        // A poisoned lock only means a thread panicked while updating it; the map is whole.
        self.told.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Unstored for Outage {
    fn refused(&self, channel: Channel, bodies: &[&str], error: &redis::RedisError) {
        let trouble = self.failed(error);
        tracing::warn!(
            channel = channel.short(),
            updates = bodies.len(),
            reason = trouble.label(),
            "updates not stored, so not acknowledged"
        );
        let Some(ch) = self.shared.channels.get(channel) else {
            return;
        };
        let now = self.shared.clock.now_ms();
        for body in bodies {
            // Only citizens: a group's or an admin's update is the officers' side.
            let Ok(Parsed::Citizen(update)) = ch.parse(body) else {
                continue;
            };
            let key = self.shared.vault.alias(channel, &update.chat);
            if !self.lock().allow(key, now) {
                continue;
            }
            let out = self.notice(update.lang.unwrap_or(self.shared.default_lang));
            let shared = self.shared.clone();
            let chat = update.chat;
            // In the background: a webhook answers 503 at once, a poller goes on asking.
            tokio::spawn(async move {
                let Some(ch) = shared.channels.get(channel) else {
                    return;
                };
                match ch.send(&chat, &out).await {
                    Ok(()) => {
                        shared.metrics.unavailable_notices.inc();
                    }
                    Err(e) => tracing::warn!(
                        channel = channel.short(),
                        error = %e,
                        "the notice that the line is unavailable was not sent"
                    ),
                }
            });
        }
    }

    fn stored(&self) {
        self.taken();
    }
}

/// Remembers when each key was last let through, to let each through at most once per
/// window; holds at most `max` keys.
#[derive(Debug)]
struct OncePer {
    window_ms: i64,
    max: usize,
    last: HashMap<String, i64>,
}

impl OncePer {
    fn new(window_ms: i64, max: usize) -> Self {
        Self {
            window_ms,
            max,
            last: HashMap::new(),
        }
    }

    /// Whether `key` may go through at `now_ms`; if so, it is remembered.
    fn allow(&mut self, key: String, now_ms: i64) -> bool {
        let window = self.window_ms;
        if let Some(&at) = self.last.get(&key) {
            if now_ms - at < window {
                return false;
            }
        } else if self.last.len() >= self.max {
            self.last.retain(|_, at| now_ms - *at < window);
            if self.last.len() >= self.max {
                return false;
            }
        }
        self.last.insert(key, now_ms);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_goes_through_once_per_window() {
        let mut once = OncePer::new(600_000, 10);
        assert!(once.allow("a".into(), 0));
        assert!(!once.allow("a".into(), 1_000));
        assert!(once.allow("b".into(), 1_000));
        assert!(!once.allow("a".into(), 599_999));
        assert!(once.allow("a".into(), 600_000));
    }

    #[test]
    fn a_full_map_lets_no_new_key_through_until_entries_expire() {
        let mut once = OncePer::new(1_000, 2);
        assert!(once.allow("a".into(), 0));
        assert!(once.allow("b".into(), 500));
        assert!(!once.allow("c".into(), 600), "full, nothing expired");
        assert!(once.allow("c".into(), 1_000), "a expired and made room");
        assert_eq!(once.last.len(), 2);
        assert!(
            !once.allow("b".into(), 1_100),
            "b is still within its window"
        );
    }
}
