//! Upkeep of the events stream's consumer groups (desk, forward, notify) beyond reading and
//! acknowledging (`events.rs`): taking over what a crashed worker left pending, telling Redis
//! a worker still works on an event, the backlog of a group, a restarted worker's own pending
//! events, and the dead letters a group gave up on.
//!
//! Keys: `events` (see `mod.rs`) and `dlq:<group>` (stream of dead letters: the event's fields
//! plus `event_id`, `error` and, from the forwarder, `attempts`).
//!
//! Consumer names, in every group, are [`consumer_name`]: `<group>-<instance>`. A role that
//! several processes run (desk, notify, forward) names its worker after the process
//! (`app.instance`, else `$HOSTNAME`), and takes over what a stopped worker left after a while
//! (`XAUTOCLAIM`); the intake runs once per deployment, which keeps every chat in order, so
//! its instance is [`SOLE_INSTANCE`] and a restarted intake picks up its own pending entries at
//! once. Until this scheme every events group was `<group>-1`, like the intake; an entry
//! pending under such a name after an upgrade is idle, and the next takeover (within a
//! minute for desk and notify, `triage.reclaim_after_secs` for forward) picks it up.

use redis::streams::{StreamAutoClaimReply, StreamId, StreamRangeReply};

use super::{EventEntry, Store};

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

/// An event from a stream entry, every field as a string.
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

/// A worker's name in consumer group `group`: `<group>-<instance>`, the one scheme of every
/// group.
pub fn consumer_name(group: &str, instance: &str) -> String {
    format!("{group}-{instance}")
}

/// The instance of a role that runs once per deployment (the intake, the desk, the notifier).
pub const SOLE_INSTANCE: &str = "1";

/// The intake's name in its group: [`consumer_name`]`("intake", SOLE_INSTANCE)`, fixed so that
/// a restarted process picks up what it left pending.
pub const INTAKE_CONSUMER: &str = "intake-1";

impl Store {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consumer_is_named_group_dash_instance_and_the_intake_keeps_its_name() {
        assert_eq!(consumer_name("forward", "web-2"), "forward-web-2");
        assert_eq!(
            consumer_name(super::super::INTAKE_GROUP, SOLE_INSTANCE),
            INTAKE_CONSUMER
        );
    }
}
