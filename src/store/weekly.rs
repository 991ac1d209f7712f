//! Weekly report leases: with several replicas, exactly one sends a week's report. A replica
//! takes the week with a lease (`SET NX PX`), records each chat that got it (so a retry after a
//! partial failure skips them), then marks the week done (`weekly_done.lua`) or gives it back
//! (`weekly_release.lua`), both only while it still holds the lease: a replica whose lease ran
//! out changes nothing.
//!
//! Keys: `weekly:<label>` (`lease:<instance>` while sending, then `done` for 400 days),
//! `weekly:<label>:sent` (chats that got it, 400 days).

use super::script::{Call, Lua, WEEKLY_DONE, WEEKLY_RELEASE};
use super::{Keys, Store};

/// How long a sent week and its chats are remembered: 400 days.
const KEPT_SECS: i64 = 34_560_000;

impl Keys {
    /// The weekly report of one week: leased while it is being sent, then `done`.
    pub fn weekly(&self, label: &str) -> String {
        format!("{}:weekly:{label}", self.ns)
    }
    /// The chats that got the weekly report of one week.
    pub fn weekly_sent(&self, label: &str) -> String {
        format!("{}:sent", self.weekly(label))
    }
}

/// The value a lease holder writes.
fn lease(instance: &str) -> String {
    format!("lease:{instance}")
}

/// Arguments of `weekly_done.lua` and `weekly_release.lua` (the same: the week, the lease).
struct WeeklyLeaseArgs {
    weekly: String,
    lease: String,
}

impl WeeklyLeaseArgs {
    fn call(&self, script: &'static Lua) -> Call {
        let mut call = script.call();
        call.key(&self.weekly).arg(&self.lease);
        call
    }
}

impl Store {
    /// Takes the weekly report of week `label` for this process for `lease_ms`: `false` when it
    /// was sent already or another replica is sending it.
    pub async fn weekly_claim(
        &self,
        label: &str,
        instance: &str,
        lease_ms: u64,
    ) -> redis::RedisResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.keys.weekly(label))
            .arg(lease(instance))
            .arg("NX")
            .arg("PX")
            .arg(lease_ms)
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Records that the weekly report of week `label` went out (kept 400 days), if this
    /// process still holds its lease.
    pub async fn weekly_done(&self, label: &str, instance: &str) -> redis::RedisResult<()> {
        let _: i64 = self
            .weekly_lease(label, instance)
            .call(&WEEKLY_DONE)
            .invoke(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Whether `chat` already got the weekly report of week `label`.
    pub async fn weekly_chat_done(&self, label: &str, chat: i64) -> redis::RedisResult<bool> {
        redis::cmd("SISMEMBER")
            .arg(self.keys.weekly_sent(label))
            .arg(chat)
            .query_async(&mut self.conn())
            .await
    }

    /// Records that `chat` got the weekly report of week `label`.
    pub async fn weekly_chat_set(&self, label: &str, chat: i64) -> redis::RedisResult<()> {
        let key = self.keys.weekly_sent(label);
        redis::pipe()
            .cmd("SADD")
            .arg(&key)
            .arg(chat)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(KEPT_SECS)
            .ignore()
            .query_async(&mut self.conn())
            .await
    }

    /// Gives the weekly report of week `label` back after a failure, so it is tried again,
    /// if this process still holds its lease.
    pub async fn weekly_release(&self, label: &str, instance: &str) -> redis::RedisResult<()> {
        let _: i64 = self
            .weekly_lease(label, instance)
            .call(&WEEKLY_RELEASE)
            .invoke(&mut self.conn())
            .await?;
        Ok(())
    }

    fn weekly_lease(&self, label: &str, instance: &str) -> WeeklyLeaseArgs {
        WeeklyLeaseArgs {
            weekly: self.keys.weekly(label),
            lease: lease(instance),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_lease_builder_pushes_what_both_weekly_scripts_declare() {
        let args = WeeklyLeaseArgs {
            weekly: "k".into(),
            lease: "lease:a".into(),
        };
        assert_matches(&WEEKLY_DONE, &args.call(&WEEKLY_DONE), 0);
        assert_matches(&WEEKLY_RELEASE, &args.call(&WEEKLY_RELEASE), 0);
    }
}
