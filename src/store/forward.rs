//! What the `forward` role keeps: per tip, the sequence number of its last event the triage
//! service has (`fwd_seq` on the tip hash), so that events go in order and a redelivered one is
//! skipped; per event, how often delivery failed, so that the count survives a restart; per
//! tip, which worker is delivering it; and the dead letters (`dlq:forward`). Recording a
//! delivery and acknowledging the event is one script (`forward_delivered.lua`), as is
//! dead-lettering (`forward_dead.lua`).
//!
//! Keys: `fwd:attempts` (hash: event id → failures), `fwd:busy:<code>` (the delivering
//! consumer, with a lease), field `fwd_seq` of `tip:<code>`, `dlq:forward`.

use super::script::{Call, FORWARD_DEAD, FORWARD_DELIVERED};
use super::{EventEntry, Keys, Store};

/// `events.rs` reads stream entries with this.
pub(super) use super::groups::entry;

impl Keys {
    /// Failed deliveries per event of the forward group.
    pub fn forward_attempts(&self) -> String {
        format!("{}:fwd:attempts", self.ns)
    }
    /// Held while a worker delivers an event of the tip.
    pub fn forward_busy(&self, code: &str) -> String {
        format!("{}:fwd:busy:{code}", self.ns)
    }
}

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

/// Arguments of `forward_delivered.lua`.
struct DeliveredArgs<'a> {
    tip: String,
    events: String,
    attempts: String,
    busy: String,
    seq: u64,
    stream_id: &'a str,
    group: &'a str,
    consumer: &'a str,
}

impl DeliveredArgs<'_> {
    fn call(&self) -> Call {
        let mut call = FORWARD_DELIVERED.call();
        call.key(&self.tip)
            .key(&self.events)
            .key(&self.attempts)
            .key(&self.busy)
            .arg(self.seq)
            .arg(self.stream_id)
            .arg(self.group)
            .arg(self.consumer);
        call
    }
}

/// Arguments of `forward_dead.lua`: the dead letter is the event's fields (sorted, so it
/// reads the same every time), then `event_id`, `error` and `attempts`.
struct DeadArgs<'a> {
    tip: String,
    events: String,
    attempts_key: String,
    dlq: String,
    seq: u64,
    stream_id: &'a str,
    group: &'a str,
    event_fields: Vec<(&'a String, &'a String)>,
    error: &'a str,
    attempts: u32,
}

impl DeadArgs<'_> {
    fn call(&self) -> Call {
        let mut call = FORWARD_DEAD.call();
        call.key(&self.tip)
            .key(&self.events)
            .key(&self.attempts_key)
            .key(&self.dlq)
            .arg(self.seq)
            .arg(self.stream_id)
            .arg(self.group);
        for (k, v) in &self.event_fields {
            call.arg(*k).arg(*v);
        }
        call.arg("event_id")
            .arg(self.stream_id)
            .arg("error")
            .arg(self.error)
            .arg("attempts")
            .arg(self.attempts);
        call
    }
}

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
        let args = DeliveredArgs {
            tip: self.keys.tip(code),
            events: self.keys.events(),
            attempts: self.keys.forward_attempts(),
            busy: self.keys.forward_busy(code),
            seq,
            stream_id,
            group: FORWARD_GROUP,
            consumer,
        };
        let _: i64 = args.call().invoke(&mut self.conn()).await?;
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
        let mut fields: Vec<(&String, &String)> = event.fields.iter().collect();
        fields.sort();
        let args = DeadArgs {
            tip: self.keys.tip(event.get("code")),
            events: self.keys.events(),
            attempts_key: self.keys.forward_attempts(),
            dlq: self.keys.dlq(FORWARD_GROUP),
            seq,
            stream_id: &event.stream_id,
            group: FORWARD_GROUP,
            event_fields: fields,
            error,
            attempts,
        };
        let _: i64 = args.call().invoke(&mut self.conn()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_delivered_builder_pushes_what_forward_delivered_lua_declares() {
        let args = DeliveredArgs {
            tip: "k".into(),
            events: "k".into(),
            attempts: "k".into(),
            busy: "k".into(),
            seq: 1,
            stream_id: "1-0",
            group: FORWARD_GROUP,
            consumer: "c",
        };
        assert_matches(&FORWARD_DELIVERED, &args.call(), 0);
    }

    #[test]
    fn the_dead_builder_pushes_what_forward_dead_lua_declares() {
        let (k, v) = ("type".to_owned(), "closed".to_owned());
        let args = DeadArgs {
            tip: "k".into(),
            events: "k".into(),
            attempts_key: "k".into(),
            dlq: "k".into(),
            seq: 1,
            stream_id: "1-0",
            group: FORWARD_GROUP,
            event_fields: vec![(&k, &v)],
            error: "boom",
            attempts: 8,
        };
        // The event's one field and value, then event_id, error and attempts with theirs.
        assert_matches(&FORWARD_DEAD, &args.call(), 8);
    }
}
