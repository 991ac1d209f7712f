//! How many questions officers sent the citizen of a tip within the last hour, so that a
//! compromised or careless officer account cannot flood a citizen (`desk.questions_per_tip_per_hour`).
//!
//! Key: `asked:<code>`, a sorted set of the officers' messages (`<chat>:<message>`) scored by
//! when they came, expiring an hour after the last.

use super::{Keys, Store};

impl Keys {
    /// The questions asked about tip `code` in the last hour.
    pub fn asked(&self, code: &str) -> String {
        format!("{}:asked:{code}", self.ns)
    }
}

/// The window of `desk.questions_per_tip_per_hour`.
const HOUR_MS: i64 = 3_600_000;

impl Store {
    /// Takes one of tip `code`'s `max` questions an hour for the officer message `message`, and
    /// says whether it was free. A retried message keeps the place it took (its member is
    /// already there), so a replay is never refused; one over the limit takes nothing. Two
    /// officers asking at once cannot both take the last place: each is added, then only the
    /// first `max` by time count.
    pub async fn question_take(
        &self,
        code: &str,
        message: &str,
        max: u32,
        now_ms: i64,
    ) -> redis::RedisResult<bool> {
        let key = self.keys.asked(code);
        let (rank,): (Option<u64>,) = redis::pipe()
            .atomic()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(now_ms - HOUR_MS)
            .ignore()
            .cmd("ZADD")
            .arg(&key)
            .arg("NX")
            .arg(now_ms)
            .arg(message)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(HOUR_MS)
            .ignore()
            .cmd("ZRANK")
            .arg(&key)
            .arg(message)
            .query_async(&mut self.conn())
            .await?;
        if rank.is_some_and(|r| r < u64::from(max)) {
            return Ok(true);
        }
        let _: i64 = redis::cmd("ZREM")
            .arg(&key)
            .arg(message)
            .query_async(&mut self.conn())
            .await?;
        Ok(false)
    }
}
