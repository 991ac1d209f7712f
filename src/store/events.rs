//! The events stream (DESIGN.md §3): every change of a tip, read by independent consumer
//! groups (desk, forward, notify). A consumer acknowledges an event only after its work is
//! done; what it gives up on goes to its dead-letter stream `dlq:<group>`.

use std::collections::HashMap;

use redis::streams::StreamReadReply;

use super::{AuditAppend, Store};
use crate::events::{DecodeError, TipEvent};

/// One event as read from the stream.
#[derive(Debug, Clone)]
pub struct EventEntry {
    /// Stream id, for the acknowledgement.
    pub stream_id: String,
    /// The event's fields (`type`, `code`, `seq`, `actor`, `at`, …).
    pub fields: HashMap<String, String>,
}

impl EventEntry {
    /// A field, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The event this entry holds.
    pub fn decode(&self) -> Result<TipEvent, DecodeError> {
        TipEvent::decode(&self.fields)
    }
}

impl Store {
    /// Creates consumer group `group` on the events stream (from its start) if missing.
    pub async fn ensure_event_group(&self, group: &str) -> redis::RedisResult<()> {
        self.ensure_group(&self.keys.events(), group).await
    }

    /// Reads events for `consumer` of `group`: its pending ones, or new ones (waiting up to
    /// `block_ms` for them; `None`: not at all).
    pub async fn events_read(
        &self,
        group: &str,
        consumer: &str,
        pending: bool,
        count: usize,
        block_ms: Option<u64>,
    ) -> redis::RedisResult<Vec<EventEntry>> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
        if let (false, Some(ms)) = (pending, block_ms) {
            cmd.arg("BLOCK").arg(ms);
        }
        cmd.arg("STREAMS")
            .arg(self.keys.events())
            .arg(if pending { "0" } else { ">" });
        let reply: Option<StreamReadReply> = cmd.query_async(&mut self.conn()).await?;
        Ok(reply
            .map(|r| r.keys)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|k| k.ids)
            .map(super::forward::entry)
            .collect())
    }

    /// Appends `event` with its tip's next sequence number (whatever `seq` it carries), and
    /// returns that number; with `once`, only the first time that key is seen (kept a week),
    /// so that a retried update appends nothing and gets 0.
    pub async fn events_append(
        &self,
        once: Option<&str>,
        event: &TipEvent,
    ) -> redis::RedisResult<u64> {
        // Without an audit record the script never reports a moved head.
        Ok(self.append_typed(once, event, None).await?.unwrap_or(0))
    }

    /// Like [`Store::events_append`], with the action's audit record in the same script; `None`
    /// when the audit head moved since `audit` was computed (nothing written).
    pub async fn events_append_audited(
        &self,
        once: Option<&str>,
        event: &TipEvent,
        audit: &AuditAppend,
    ) -> redis::RedisResult<Option<u64>> {
        self.append_typed(once, event, Some(audit)).await
    }

    async fn append_typed(
        &self,
        once: Option<&str>,
        event: &TipEvent,
        audit: Option<&AuditAppend>,
    ) -> redis::RedisResult<Option<u64>> {
        let head = event.head();
        let fields = event.fields();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.append_event_audited(
            once,
            head.code.as_str(),
            event.kind(),
            &head.actor,
            head.at,
            &fields,
            audit,
        )
        .await
    }

    /// Acknowledges an event for `group`.
    pub async fn events_ack(&self, group: &str, stream_id: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("XACK")
            .arg(self.keys.events())
            .arg(group)
            .arg(stream_id)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Moves an event `group` gave up on to `dlq:<group>` with the last error, and
    /// acknowledges it.
    pub async fn events_dead_letter(
        &self,
        group: &str,
        event: &EventEntry,
        error: &str,
    ) -> redis::RedisResult<()> {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.keys.dlq(group)).arg("*");
        for (k, v) in &event.fields {
            cmd.arg(k).arg(v);
        }
        cmd.arg("event_id")
            .arg(&event.stream_id)
            .arg("error")
            .arg(error);
        let _: String = cmd.query_async(&mut self.conn()).await?;
        self.events_ack(group, &event.stream_id).await
    }
}
