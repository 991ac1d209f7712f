//! SLA timers of the desk: when an unacknowledged tip is announced again and then escalated.
//! A timer is a code in the sorted set `sla`, scored by when it is due; firing one takes it for
//! a lease (`sla_take.lua`) instead of removing it, so a crash while firing only delays it. How
//! far a tip's SLA went (`sla_stage`) and whether it was sent to the supervisors (`escalated`)
//! are fields of the tip's hash, so they go when the tip is purged.
//!
//! Keys: `sla` (codes scored by due time); fields `sla_stage` and `escalated` of `tip:<code>`.

use super::script::{Call, SLA_TAKE};
use super::{Keys, Store};

impl Keys {
    /// SLA timers: codes scored by when they are due.
    pub fn sla(&self) -> String {
        format!("{}:sla", self.ns)
    }
}

/// Arguments of `sla_take.lua`.
struct SlaTakeArgs<'a> {
    sla: String,
    code: &'a str,
    now_ms: i64,
    lease_until_ms: i64,
}

impl SlaTakeArgs<'_> {
    fn call(&self) -> Call {
        let mut call = SLA_TAKE.call();
        call.key(&self.sla)
            .arg(self.code)
            .arg(self.now_ms)
            .arg(self.lease_until_ms);
        call
    }
}

impl Store {
    /// Sets (or moves) the SLA timer of a tip.
    pub async fn sla_set(&self, code: &str, due_ms: i64) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZADD")
            .arg(self.keys.sla())
            .arg(due_ms)
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Sets the SLA timer of a tip unless it has one.
    pub async fn sla_start(&self, code: &str, due_ms: i64) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZADD")
            .arg(self.keys.sla())
            .arg("NX")
            .arg(due_ms)
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Codes whose SLA timer is due.
    pub async fn sla_due(&self, now_ms: i64, limit: usize) -> redis::RedisResult<Vec<String>> {
        redis::cmd("ZRANGE")
            .arg(self.keys.sla())
            .arg("-inf")
            .arg(now_ms)
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn())
            .await
    }

    /// Takes a due timer for `lease_ms`: `true` only for the one caller that moved it. The
    /// timer stays in the set, so a crash while firing it only delays it by the lease.
    pub async fn sla_take(
        &self,
        code: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> redis::RedisResult<bool> {
        let args = SlaTakeArgs {
            sla: self.keys.sla(),
            code,
            now_ms,
            lease_until_ms: now_ms + lease_ms,
        };
        let taken: i64 = args.call().invoke(&mut self.conn()).await?;
        Ok(taken == 1)
    }

    /// Ends a tip's SLA timer.
    pub async fn sla_end(&self, code: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys.sla())
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Marks a tip as sent to the supervisors; `false` when it already was.
    pub async fn mark_escalated(&self, code: &str) -> redis::RedisResult<bool> {
        let n: i64 = redis::cmd("HSETNX")
            .arg(self.keys.tip(code))
            .arg("escalated")
            .arg(1)
            .query_async(&mut self.conn())
            .await?;
        Ok(n == 1)
    }

    /// Undoes [`Store::mark_escalated`] after the post failed, so it can be tried again.
    pub async fn unmark_escalated(&self, code: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("HDEL")
            .arg(self.keys.tip(code))
            .arg("escalated")
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// How far a tip's SLA went: 0 none, 1 announced again, 2 escalated.
    pub async fn sla_stage(&self, code: &str) -> redis::RedisResult<u8> {
        let v: Option<u8> = redis::cmd("HGET")
            .arg(self.keys.tip(code))
            .arg("sla_stage")
            .query_async(&mut self.conn())
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// Records how far a tip's SLA went.
    pub async fn sla_set_stage(&self, code: &str, stage: u8) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("HSET")
            .arg(self.keys.tip(code))
            .arg("sla_stage")
            .arg(stage)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_sla_take_builder_pushes_what_sla_take_lua_declares() {
        let args = SlaTakeArgs {
            sla: "k".into(),
            code: "TB-0000-0000",
            now_ms: 1,
            lease_until_ms: 2,
        };
        assert_matches(&SLA_TAKE, &args.call(), 0);
    }
}
