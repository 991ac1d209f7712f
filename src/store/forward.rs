//! What the `forward` role keeps: per tip, the sequence number of its last event the triage
//! service has (`fwd_seq` on the tip hash), so that events go in order and a redelivered one is
//! skipped; per event, how often delivery failed (`fwd:attempts`), so that the count survives a
//! restart; and the dead letters (`dlq:forward`). Recording a delivery and acknowledging the
//! event is one script, as is dead-lettering.

use redis::streams::{StreamAutoClaimReply, StreamId, StreamRangeReply};

use super::{EventEntry, Store};

/// The consumer group that forwards events to the triage service.
pub const FORWARD_GROUP: &str = "forward";

/// Where a tip's forwarding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardState {
    /// The tip is stored (a purged tip is not).
    pub exists: bool,
    /// Sequence number of its last event the triage service has (0: none).
    pub delivered_seq: u64,
}

/// A dead letter: the event's fields plus `event_id`, `error` and `attempts`.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Id in the dead-letter stream.
    pub id: String,
    /// The event as it was, with the reason it was given up on.
    pub fields: std::collections::HashMap<String, String>,
}

impl DeadLetter {
    /// A field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The event, as it was on the events stream.
    pub fn event(&self) -> EventEntry {
        let mut fields = self.fields.clone();
        let stream_id = fields.remove("event_id").unwrap_or_default();
        fields.remove("error");
        fields.remove("attempts");
        EventEntry { stream_id, fields }
    }
}

pub(super) fn entry(id: StreamId) -> EventEntry {
    EventEntry {
        fields: id
            .map
            .keys()
            .map(|k| (k.clone(), id.get::<String>(k).unwrap_or_default()))
            .collect(),
        stream_id: id.id,
    }
}

/// The script, hashed once.
static DELIVERED_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(DELIVERED));

static DELIVERED: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  local cur = tonumber(redis.call('HGET', KEYS[1], 'fwd_seq') or '0')
  if cur < tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'fwd_seq', ARGV[1])
  end
end
redis.call('HDEL', KEYS[3], ARGV[2])
if redis.call('GET', KEYS[4]) == ARGV[4] then
  redis.call('DEL', KEYS[4])
end
return redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
"#;

/// The script, hashed once.
static DEAD_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(DEAD));

static DEAD: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  local cur = tonumber(redis.call('HGET', KEYS[1], 'fwd_seq') or '0')
  if cur < tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[1], 'fwd_seq', ARGV[1])
  end
end
redis.call('HDEL', KEYS[3], ARGV[2])
local fields = {}
for i = 4, #ARGV do
  table.insert(fields, ARGV[i])
end
redis.call('XADD', KEYS[4], '*', unpack(fields))
return redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
"#;

impl Store {
    /// Whether the tip `code` is stored and which of its events the triage service has.
    pub async fn forward_state(&self, code: &str) -> redis::RedisResult<ForwardState> {
        let (exists, seq): (bool, Option<u64>) = redis::pipe()
            .exists(self.keys.tip(code))
            .hget(self.keys.tip(code), "fwd_seq")
            .query_async(&mut self.conn())
            .await?;
        Ok(ForwardState {
            exists,
            delivered_seq: seq.unwrap_or(0),
        })
    }

    /// Marks tip `code` as being delivered by `consumer` for `lease_ms` (renewed while it
    /// retries), so that no other worker sends a later event of it first.
    pub async fn forward_hold(
        &self,
        code: &str,
        consumer: &str,
        lease_ms: u64,
    ) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.forward_busy(code))
            .arg(consumer)
            .arg("PX")
            .arg(lease_ms.max(1))
            .query_async(&mut self.conn())
            .await
    }

    /// Ends [`Store::forward_hold`].
    pub async fn forward_release(&self, code: &str) -> redis::RedisResult<()> {
        redis::cmd("DEL")
            .arg(self.keys.forward_busy(code))
            .query_async(&mut self.conn())
            .await
    }

    /// Whether some live worker is delivering an event of tip `code`.
    pub async fn forward_busy(&self, code: &str) -> redis::RedisResult<bool> {
        self.exists(&self.keys.forward_busy(code)).await
    }

    /// Counts one more failed delivery of the event; returns the count.
    pub async fn forward_failed(&self, stream_id: &str) -> redis::RedisResult<u32> {
        redis::cmd("HINCRBY")
            .arg(self.keys.forward_attempts())
            .arg(stream_id)
            .arg(1)
            .query_async(&mut self.conn())
            .await
    }

    /// Failed deliveries of the event so far.
    pub async fn forward_attempts(&self, stream_id: &str) -> redis::RedisResult<u32> {
        let n: Option<u32> = redis::cmd("HGET")
            .arg(self.keys.forward_attempts())
            .arg(stream_id)
            .query_async(&mut self.conn())
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Records that the triage service has event `seq` of tip `code` and acknowledges it, and
    /// ends `consumer`'s hold on the tip ([`Store::forward_hold`]), all in one round trip.
    pub async fn forward_delivered(
        &self,
        code: &str,
        seq: u64,
        stream_id: &str,
        consumer: &str,
    ) -> redis::RedisResult<()> {
        let _: i64 = DELIVERED_SCRIPT
            .key(self.keys.tip(code))
            .key(self.keys.events())
            .key(self.keys.forward_attempts())
            .key(self.keys.forward_busy(code))
            .arg(seq)
            .arg(stream_id)
            .arg(FORWARD_GROUP)
            .arg(consumer)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Gives an event up: into `dlq:forward` with the last error, counted as passed so that
    /// the tip's later events still go, and acknowledged.
    pub async fn forward_dead(
        &self,
        event: &EventEntry,
        seq: u64,
        error: &str,
        attempts: u32,
    ) -> redis::RedisResult<()> {
        let mut inv = DEAD_SCRIPT.prepare_invoke();
        inv.key(self.keys.tip(event.get("code")))
            .key(self.keys.events())
            .key(self.keys.forward_attempts())
            .key(self.keys.dlq(FORWARD_GROUP))
            .arg(seq)
            .arg(&event.stream_id)
            .arg(FORWARD_GROUP);
        let mut fields: Vec<(&String, &String)> = event.fields.iter().collect();
        fields.sort();
        for (k, v) in fields {
            inv.arg(k).arg(v);
        }
        inv.arg("event_id")
            .arg(&event.stream_id)
            .arg("error")
            .arg(error)
            .arg("attempts")
            .arg(attempts);
        let _: i64 = inv.invoke_async(&mut self.conn()).await?;
        Ok(())
    }

    /// Takes over events of `group` that another consumer (a crashed worker) left pending for
    /// at least `min_idle_ms`.
    pub async fn events_autoclaim(
        &self,
        group: &str,
        consumer: &str,
        min_idle_ms: u64,
    ) -> redis::RedisResult<Vec<EventEntry>> {
        let mut start = "0-0".to_owned();
        let mut out = Vec::new();
        loop {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(self.keys.events())
                .arg(group)
                .arg(consumer)
                .arg(min_idle_ms)
                .arg(&start)
                .arg("COUNT")
                .arg(100)
                .query_async(&mut self.conn())
                .await?;
            out.extend(reply.claimed.into_iter().map(entry));
            if reply.next_stream_id == "0-0" || out.len() >= 1000 {
                return Ok(out);
            }
            start = reply.next_stream_id;
        }
    }

    /// Tells Redis this consumer is still working on the event (resets its idle time), so
    /// that no other worker takes it over during a long backoff.
    pub async fn events_touch(
        &self,
        group: &str,
        consumer: &str,
        stream_id: &str,
    ) -> redis::RedisResult<()> {
        self.events_touch_many(group, consumer, &[stream_id]).await
    }

    /// [`Store::events_touch`] for many events at once.
    pub async fn events_touch_many(
        &self,
        group: &str,
        consumer: &str,
        stream_ids: &[&str],
    ) -> redis::RedisResult<()> {
        if stream_ids.is_empty() {
            return Ok(());
        }
        let _: redis::Value = redis::cmd("XCLAIM")
            .arg(self.keys.events())
            .arg(group)
            .arg(consumer)
            .arg(0)
            .arg(stream_ids)
            .arg("JUSTID")
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Dead letters of `group`, oldest first, at most `count`.
    pub async fn dlq_list(&self, group: &str, count: usize) -> redis::RedisResult<Vec<DeadLetter>> {
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.dlq(group))
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn())
            .await?;
        Ok(reply
            .ids
            .into_iter()
            .map(|id| {
                let e = entry(id);
                DeadLetter {
                    id: e.stream_id,
                    fields: e.fields,
                }
            })
            .collect())
    }

    /// One dead letter of `group`.
    pub async fn dlq_get(&self, group: &str, id: &str) -> redis::RedisResult<Option<DeadLetter>> {
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.dlq(group))
            .arg(id)
            .arg(id)
            .query_async(&mut self.conn())
            .await?;
        Ok(reply.ids.into_iter().next().map(|id| {
            let e = entry(id);
            DeadLetter {
                id: e.stream_id,
                fields: e.fields,
            }
        }))
    }

    /// Removes a dead letter; whether it was there.
    pub async fn dlq_delete(&self, group: &str, id: &str) -> redis::RedisResult<bool> {
        let n: i64 = redis::cmd("XDEL")
            .arg(self.keys.dlq(group))
            .arg(id)
            .query_async(&mut self.conn())
            .await?;
        Ok(n > 0)
    }

    /// Unprocessed and unacknowledged events of a consumer group: (lag, pending). Lag is what
    /// the group has not read yet (Redis 7), pending what it read and did not finish.
    pub async fn group_backlog(&self, stream: &str, group: &str) -> redis::RedisResult<(u64, u64)> {
        let groups: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(stream)
            .query_async(&mut self.conn())
            .await
            .or_else(|e| {
                if e.code() == Some("ERR") {
                    Ok(vec![])
                } else {
                    Err(e)
                }
            })?;
        let num = |v: Option<&redis::Value>| match v {
            Some(redis::Value::Int(n)) => (*n).max(0) as u64,
            _ => 0,
        };
        Ok(groups
            .iter()
            .find(|g| matches!(g.get("name"), Some(redis::Value::BulkString(b)) if b == group.as_bytes()))
            .map_or((0, 0), |g| (num(g.get("lag")), num(g.get("pending")))))
    }
}

impl Store {
    /// This consumer's own pending events of `group` after stream id `after` (a restarted
    /// worker picks up what it had read and not finished).
    pub async fn events_pending_after(
        &self,
        group: &str,
        consumer: &str,
        after: &str,
        count: usize,
    ) -> redis::RedisResult<Vec<EventEntry>> {
        let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(self.keys.events())
            .arg(after)
            .query_async(&mut self.conn())
            .await?;
        Ok(reply
            .map(|r| r.keys)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|k| k.ids)
            .map(entry)
            .collect())
    }
}

/// Seconds a callback API answer is kept for its idempotency key.
const CALLBACK_ANSWER_TTL: u64 = 7 * 24 * 3600;

impl Store {
    /// The stored answer to a callback API call with this (hashed) idempotency key.
    pub async fn callback_answer(
        &self,
        key: &str,
    ) -> redis::RedisResult<Option<(axum::http::StatusCode, serde_json::Value)>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.callback(key))
            .query_async(&mut self.conn())
            .await?;
        Ok(raw
            .and_then(|r| serde_json::from_str::<(u16, serde_json::Value)>(&r).ok())
            .and_then(|(s, v)| Some((axum::http::StatusCode::from_u16(s).ok()?, v))))
    }

    /// Keeps the answer to a callback API call for its idempotency key.
    pub async fn callback_answer_set(
        &self,
        key: &str,
        answer: &(axum::http::StatusCode, serde_json::Value),
    ) -> redis::RedisResult<()> {
        let raw = serde_json::to_string(&(answer.0.as_u16(), &answer.1)).unwrap_or_default();
        redis::cmd("SET")
            .arg(self.keys.callback(key))
            .arg(raw)
            .arg("EX")
            .arg(CALLBACK_ANSWER_TTL)
            .query_async(&mut self.conn())
            .await
    }
}
