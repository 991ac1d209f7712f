//! A citizen's side of the intake: their conversation (as JSON, whose shape and version the
//! conversation module owns), the rate-limit windows counting their messages, the tip they are
//! answering an officer's question about, the sealed route back to them, and the draft timers
//! that remind them of an unfinished report and expire it.
//!
//! Keys: `convo:<channel>:<alias>` (string, TTL), `rl:<what>:<alias>:<window>` (set of update
//! keys, expiring with its window), `answering:<alias>` (tip code, two days), `route:<alias>`
//! (sealed route), `idle` (aliases scored by when their draft timer is due). Commands fail only
//! as Redis fails; the commit (`commit.rs`) writes the conversation, route and timer.

use super::inbox::SeenMark;
use super::{Keys, Store};
use crate::privacy::Channel;

impl Keys {
    /// A citizen's conversation.
    pub fn convo(&self, channel: Channel, alias: &str) -> String {
        format!("{}:convo:{}:{alias}", self.ns, channel.short())
    }
    /// Sorted set of aliases with an unfinished draft, scored by when they are next due.
    pub fn idle(&self) -> String {
        format!("{}:idle", self.ns)
    }
    /// Sealed route back to a citizen.
    pub fn route(&self, alias: &str) -> String {
        format!("{}:route:{alias}", self.ns)
    }
    /// The tip a citizen is answering an officer's question about.
    pub fn answering(&self, alias: &str) -> String {
        format!("{}:answering:{alias}", self.ns)
    }
    /// A rate-limit counter for one window.
    pub fn rate(&self, what: &str, alias: &str, window: i64) -> String {
        format!("{}:rl:{what}:{alias}:{window}", self.ns)
    }
}

/// The fixed window of `window_secs` that time `at_ms` falls in (its number since the epoch).
pub fn rate_window(at_ms: i64, window_secs: i64) -> i64 {
    at_ms.div_euclid(window_secs * 1000)
}

/// What [`Store::citizen`] read.
#[derive(Debug, Clone)]
pub struct CitizenState {
    /// The update's mark, if it was processed before.
    pub seen: Option<SeenMark>,
    /// Messages from the citizen in this minute, this one included (0 when not counted).
    pub messages: u64,
    /// Their conversation as stored (JSON), if any; the conversation module reads it.
    pub conversation_json: Option<String>,
    /// The tip whose question they are answering, if any.
    pub answering: Option<String>,
}

impl Store {
    /// The stored conversation (JSON), or `None` when there is none or it expired.
    pub async fn conversation(
        &self,
        channel: Channel,
        alias: &str,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(self.keys.convo(channel, alias))
            .query_async(&mut self.conn())
            .await
    }

    /// Everything the intake needs before it runs a citizen's update, in one round trip:
    /// the update's `seen` mark, the citizen's messages in the minute of `counted_at_ms` with
    /// this one counted (`None` for a draft timer, which is not counted), their conversation
    /// and the tip they are answering a question about. The window's key lives 61 s past its
    /// last message: a backlog is worked in send order, so a window gets no message later.
    pub async fn citizen(
        &self,
        seen_key: &str,
        channel: Channel,
        alias: &str,
        counted_at_ms: Option<i64>,
    ) -> redis::RedisResult<CitizenState> {
        let mut pipe = redis::pipe();
        // Atomic, so the rate window never stays without its expiry.
        pipe.atomic();
        pipe.cmd("GET").arg(seen_key);
        if let Some(at_ms) = counted_at_ms {
            let key = self.keys.rate("msg", alias, rate_window(at_ms, 60));
            pipe.cmd("SADD").arg(&key).arg(seen_key).ignore();
            pipe.cmd("EXPIRE").arg(&key).arg(61).ignore();
            pipe.cmd("SCARD").arg(&key);
        } else {
            // A placeholder, so the reply has the same shape.
            pipe.cmd("ECHO").arg(0);
        }
        pipe.cmd("GET").arg(self.keys.convo(channel, alias));
        pipe.cmd("GET").arg(self.keys.answering(alias));
        let (seen, messages, conversation_json, answering): (
            Option<String>,
            u64,
            Option<String>,
            Option<String>,
        ) = pipe.query_async(&mut self.conn()).await?;
        Ok(CitizenState {
            seen: SeenMark::read(seen),
            messages,
            conversation_json,
            answering,
        })
    }

    /// Counts `event` (an update's own key, so that a retried update counts once) in the fixed
    /// window of `window_secs` that `at_ms` falls in, and returns the number of events in that
    /// window so far.
    pub async fn rate_hit(
        &self,
        what: &str,
        alias: &str,
        event: &str,
        at_ms: i64,
        window_secs: i64,
    ) -> redis::RedisResult<u64> {
        let window = rate_window(at_ms, window_secs);
        let key = self.keys.rate(what, alias, window);
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .cmd("SADD")
            .arg(&key)
            .arg(event)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(window_secs + 1)
            .ignore()
            .cmd("SCARD")
            .arg(&key)
            .query_async(&mut self.conn())
            .await?;
        Ok(count)
    }

    /// The sealed route of `alias`, if stored.
    pub async fn route(&self, alias: &str) -> redis::RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(self.keys.route(alias))
            .query_async(&mut self.conn())
            .await
    }

    /// The tip `alias` is answering a question about, if any.
    pub async fn answering(&self, alias: &str) -> redis::RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(self.keys.answering(alias))
            .query_async(&mut self.conn())
            .await
    }

    /// Puts `alias` in answer mode for `code` for two days.
    pub async fn answering_set(&self, alias: &str, code: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.answering(alias))
            .arg(code)
            .arg("EX")
            .arg(2 * 24 * 3600)
            .query_async(&mut self.conn())
            .await
    }

    /// Ends answer mode.
    pub async fn answering_clear(&self, alias: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("DEL")
            .arg(self.keys.answering(alias))
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Forgets the draft timer of `alias`.
    pub async fn drop_draft_timer(&self, alias: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys.idle())
            .arg(alias)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Aliases whose draft timer is due at `now_ms`; each is pushed back by `retry_ms` so that
    /// a slow intake does not get the same tick twice.
    pub async fn due_drafts(
        &self,
        now_ms: i64,
        retry_ms: i64,
        limit: usize,
    ) -> redis::RedisResult<Vec<String>> {
        let mut conn = self.conn();
        let due: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.keys.idle())
            .arg("-inf")
            .arg(now_ms)
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut conn)
            .await?;
        if !due.is_empty() {
            let mut cmd = redis::cmd("ZADD");
            cmd.arg(self.keys.idle()).arg("XX");
            for alias in &due {
                cmd.arg(now_ms + retry_ms).arg(alias);
            }
            let _: i64 = cmd.query_async(&mut conn).await?;
        }
        Ok(due)
    }
}
