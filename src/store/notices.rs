//! The notifier's marks: that a notice (a tip's event) was sent to the citizen, so a
//! redelivered event does not notify twice, and that a citizen blocked the bot, so no more is
//! tried until they write again (the commit clears the mark).
//!
//! Keys: `notified:<code>:<seq>` (a week), `unreachable:<alias>` (until cleared, at most
//! [`UNREACHABLE_KEPT_SECS`]).

use super::{Keys, Store};

impl Keys {
    /// Marks a notice (tip, event sequence) as sent to the citizen.
    pub fn notified(&self, code: &str, seq: &str) -> String {
        format!("{}:notified:{code}:{seq}", self.ns)
    }
    /// Marks a citizen who blocked the bot.
    pub fn unreachable(&self, alias: &str) -> String {
        format!("{}:unreachable:{alias}", self.ns)
    }
}

/// How long a citizen stays marked unreachable without writing again: a year and a day, as
/// long as the longest retention of their open tips (`retention.open_tip_days` defaults to
/// 365), so that the mark does not outlive what it is about.
pub const UNREACHABLE_KEPT_SECS: u64 = 366 * 24 * 3600;

impl Store {
    /// Remembers for a week that a notice was sent.
    pub async fn mark_notified(&self, key: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(key)
            .arg(1)
            .arg("EX")
            .arg(7 * 24 * 3600)
            .query_async(&mut self.conn())
            .await
    }

    /// Marks a citizen unreachable (they blocked the bot); cleared when they write again.
    pub async fn mark_unreachable(&self, alias: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.unreachable(alias))
            .arg(1)
            .arg("EX")
            .arg(UNREACHABLE_KEPT_SECS)
            .query_async(&mut self.conn())
            .await
    }
}
