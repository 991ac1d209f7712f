//! The inbox's dead letters: entries the intake gave up on (a failure past its budget) or
//! cannot read at all, kept for a look and a replay (`tipline dlq … --group intake`). A dead
//! letter holds what replays the entry (its kind, key and raw body) and what happened to it
//! (the last error, the attempts, what the entry is, the time), never more.
//!
//! Bodies are sealed as in the inbox; one an earlier version wrote in clear is sealed when it
//! is dead-lettered or replayed. Raw bodies carry platform ids, so dead letters live no longer than
//! [`INBOX_DLQ_RETENTION_MS`]: each new one trims those older, and the list expires that long
//! after its last one.
//!
//! Keys: `inbox`, `dlq:intake` (stream), `tickq:<alias>`. Scripts: `inbox_dead.lua`,
//! `inbox_replay.lua`.

use super::inbox::INTAKE_GROUP;
use super::script::{Call, INBOX_DEAD, INBOX_REPLAY};
use super::{InboxEntry, InboxKind, Keys, Store};

/// How long an inbox dead letter is kept: 30 days (the project has no retention setting yet).
pub const INBOX_DLQ_RETENTION_MS: u64 = 30 * 24 * 3600 * 1000;

impl Keys {
    /// The inbox's dead letters (`dlq:intake`, beside the events groups' `dlq:<group>`).
    pub fn inbox_dlq(&self) -> String {
        self.dlq(INTAKE_GROUP)
    }
}

/// Why and how an inbox entry was given up.
#[derive(Debug, Clone)]
pub struct InboxGiveUp<'a> {
    /// The last error (or why it cannot be read); never quotes the body.
    pub error: &'a str,
    /// Failed attempts (0: not tried, it cannot be read).
    pub attempts: u32,
    /// What the entry is (`citizen`, `group`, `admin`, `tick`, `unreadable`, …).
    pub audience: &'a str,
    /// When, by the app's clock (ms).
    pub at_ms: i64,
}

/// Arguments of `inbox_dead.lua`.
struct DeadArgs<'a> {
    inbox: String,
    dlq: String,
    tick_queued: String,
    stream_id: &'a str,
    retention_ms: u64,
    clear_tick: bool,
    fields: Vec<(&'static str, String)>,
}

impl DeadArgs<'_> {
    fn call(&self) -> Call {
        let mut call = INBOX_DEAD.call();
        call.key(&self.inbox)
            .key(&self.dlq)
            .key(&self.tick_queued)
            .arg(INTAKE_GROUP)
            .arg(self.stream_id)
            .arg(self.retention_ms)
            .arg(if self.clear_tick { "1" } else { "0" });
        for (k, v) in &self.fields {
            call.arg(*k).arg(v);
        }
        call
    }
}

/// Arguments of `inbox_replay.lua`.
struct ReplayArgs<'a> {
    dlq: String,
    inbox: String,
    dead_id: &'a str,
    /// The body to append (the letter's, sealed).
    body: &'a str,
}

impl ReplayArgs<'_> {
    fn call(&self) -> Call {
        let mut call = INBOX_REPLAY.call();
        call.key(&self.dlq)
            .key(&self.inbox)
            .arg(self.dead_id)
            .arg(self.body);
        call
    }
}

/// The dead letter's fields for `entry`.
fn fields(entry: &InboxEntry, body: String, why: &InboxGiveUp<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("kind", entry.kind_raw.clone()),
        ("key", entry.key.clone()),
        ("body", body),
        ("entry_id", entry.stream_id.clone()),
        ("error", why.error.chars().take(500).collect()),
        ("attempts", why.attempts.to_string()),
        ("audience", why.audience.to_owned()),
        ("at", why.at_ms.to_string()),
    ]
}

impl Store {
    /// Moves an inbox entry to the dead letters and acknowledges and deletes it, in one step
    /// (a draft timer's queued mark is cleared with it). The dead letter's id, or `None` when
    /// the entry was no longer pending, so nothing was written twice. A body an earlier
    /// version wrote in clear is sealed in the dead letter.
    pub async fn inbox_dead_letter(
        &self,
        entry: &InboxEntry,
        why: &InboxGiveUp<'_>,
    ) -> redis::RedisResult<Option<String>> {
        let body = self.seal_body(&entry.kind_raw, &entry.body)?;
        DeadArgs {
            inbox: self.keys.inbox(),
            dlq: self.keys.inbox_dlq(),
            tick_queued: self.keys.tick_queued(&entry.key),
            stream_id: &entry.stream_id,
            retention_ms: INBOX_DLQ_RETENTION_MS,
            clear_tick: entry.kind == Some(InboxKind::Tick),
            fields: fields(entry, body, why),
        }
        .call()
        .invoke(&mut self.conn())
        .await
    }

    /// Puts a dead letter back into the inbox as a new entry (processed again like any, its
    /// `seen` mark keeping a part that already ran from running twice) and removes it, in one
    /// step. A body an earlier version wrote in clear goes back sealed. The new entry's id, or
    /// `None` when there is no such dead letter.
    pub async fn inbox_replay(&self, dead_id: &str) -> redis::RedisResult<Option<String>> {
        let letter: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.inbox_dlq())
            .arg(dead_id)
            .arg(dead_id)
            .query_async(&mut self.conn())
            .await?;
        let Some(letter) = letter.ids.first() else {
            return Ok(None);
        };
        let field = |name: &str| letter.get::<String>(name).unwrap_or_default();
        let body = self.seal_body(&field("kind"), &field("body"))?;
        ReplayArgs {
            dlq: self.keys.inbox_dlq(),
            inbox: self.keys.inbox(),
            dead_id,
            body: &body,
        }
        .call()
        .invoke(&mut self.conn())
        .await
    }

    /// Inbox entries by stream id, in the order asked; those no longer in the inbox are left
    /// out. Entries stay pending with whoever read them.
    pub async fn inbox_fetch(&self, ids: &[String]) -> redis::RedisResult<Vec<InboxEntry>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("XRANGE").arg(self.keys.inbox()).arg(id).arg(id);
        }
        let replies: Vec<redis::streams::StreamRangeReply> =
            pipe.query_async(&mut self.conn()).await?;
        Ok(replies
            .iter()
            .flat_map(|r| r.ids.iter())
            .map(super::inbox::entry)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_inbox_dead_builder_pushes_what_inbox_dead_lua_declares() {
        let entry = InboxEntry {
            stream_id: "1-0".into(),
            kind: Some(InboxKind::Telegram),
            kind_raw: "tg".into(),
            key: "7".into(),
            body: "{}".into(),
        };
        let why = InboxGiveUp {
            error: "boom",
            attempts: 8,
            audience: "citizen",
            at_ms: 1,
        };
        let fields = fields(&entry, "{}".into(), &why);
        let call = DeadArgs {
            inbox: "k1".into(),
            dlq: "k2".into(),
            tick_queued: "k3".into(),
            stream_id: "1-0",
            retention_ms: 1,
            clear_tick: false,
            fields: fields.clone(),
        }
        .call();
        assert_matches(&INBOX_DEAD, &call, fields.len() * 2);
    }

    #[test]
    fn the_inbox_replay_builder_pushes_what_inbox_replay_lua_declares() {
        let call = ReplayArgs {
            dlq: "k1".into(),
            inbox: "k2".into(),
            dead_id: "1-0",
            body: "v1.k.b",
        }
        .call();
        assert_matches(&INBOX_REPLAY, &call, 0);
    }
}
