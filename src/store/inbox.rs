//! The durable inbox (DESIGN.md §3): every platform update is appended here before the
//! platform is told it arrived, then read by the `intake` consumer group. An entry is
//! acknowledged and deleted only after its work is done, so a crash leaves it pending and it is
//! read again; the `seen` marks make that second reading harmless.
//!
//! Every body is sealed ([`crate::privacy::Vault::seal_inbox`], the kind as associated data)
//! before it is appended, so a platform's update (ids, names, usernames, a shared phone number)
//! never reaches Redis, its AOF or its snapshots in clear; the intake opens it
//! ([`crate::intake::classify`]). Bodies the previous version wrote in clear are still read.
//!
//! Keys: `inbox` (stream), `seen:<channel>:<mark>` (a processed update's mark, 24 h, named by
//! a keyed hash of the update id), `tickq:<alias>` (a draft timer of the alias is queued).
//! Script: `tick.lua`.

use redis::streams::StreamReadReply;

use super::script::{Call, TICK};
use super::{Keys, Store};

impl Keys {
    /// Raw channel updates, consumer group `intake`.
    pub fn inbox(&self) -> String {
        format!("{}:inbox", self.ns)
    }
    /// Marks an update as processed (and holds replies not yet confirmed sent). The update
    /// is named by its keyed hash ([`crate::privacy::Vault::mark`]) when the keys have a vault.
    pub fn seen(&self, channel: &str, update: &str) -> String {
        match &self.vault {
            Some(vault) => format!("{}:seen:{channel}:{}", self.ns, vault.mark(channel, update)),
            None => format!("{}:seen:{channel}:{update}", self.ns),
        }
    }
    /// Set while a draft timer (tick) of `alias` is in the inbox and not yet done.
    pub fn tick_queued(&self, alias: &str) -> String {
        format!("{}:tickq:{alias}", self.ns)
    }
}

/// What the `seen` mark of an update says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeenMark {
    /// Processed and every reply sent.
    Done,
    /// Processed; these replies (JSON) may not all have been sent.
    Pending(String),
}

/// The value of a mark whose replies all went out.
const DONE: &str = "done";

/// Seconds a `seen` mark lives: Telegram keeps undelivered updates for 24 hours.
pub(super) const SEEN_TTL_SECS: u64 = 24 * 3600;

impl SeenMark {
    /// The mark a stored value says, if any.
    pub(super) fn read(raw: Option<String>) -> Option<Self> {
        raw.map(|r| {
            if r == DONE {
                Self::Done
            } else {
                Self::Pending(r)
            }
        })
    }
}

/// Arguments of `tick.lua`.
struct TickArgs<'a> {
    tick_queued: String,
    inbox: String,
    /// How long the queued mark outlives a tick that is never acknowledged.
    mark_ttl_secs: u64,
    alias: &'a str,
    kind: InboxKind,
}

impl TickArgs<'_> {
    fn call(&self) -> Call {
        let mut call = TICK.call();
        call.key(&self.tick_queued)
            .key(&self.inbox)
            .arg(self.mark_ttl_secs)
            .arg(self.alias)
            .arg(self.kind.as_str());
        call
    }
}

/// Whether an append that failed with `e` is worth trying again at once: the connection was
/// found dropped (Redis restarted, a proxy closed it), and the failure has made a new one. So
/// a Redis that was away for a moment does not make the edge answer 503 or tell citizens the
/// line is down; one that still refuses (out of memory, down) fails the second try as well. A
/// first try that Redis did carry out is stored twice; the `seen` marks make that harmless.
fn once_more(e: &redis::RedisError) -> bool {
    e.is_connection_dropped()
}

/// Consumer group of the intake worker.
pub const INTAKE_GROUP: &str = "intake";

/// What an inbox entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxKind {
    /// A Telegram `Update`, as JSON.
    Telegram,
    /// A draft timer for one alias (reminder or expiry), from the sweeper.
    Tick,
    /// A Zalo event (its JSON, either envelope).
    Zalo,
}

impl InboxKind {
    /// As stored in the entry's `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Telegram => "tg",
            Self::Tick => "tick",
            Self::Zalo => "zl",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "tg" => Some(Self::Telegram),
            "tick" => Some(Self::Tick),
            "zl" => Some(Self::Zalo),
            _ => None,
        }
    }
}

/// An inbox entry as read from the stream.
pub(super) fn entry(id: &redis::streams::StreamId) -> InboxEntry {
    let field = |name: &str| id.get::<String>(name).unwrap_or_default();
    InboxEntry {
        kind: InboxKind::parse(&field("kind")),
        kind_raw: field("kind"),
        key: field("key"),
        body: field("body"),
        stream_id: id.id.clone(),
    }
}

/// One inbox entry.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    /// Stream id, for the acknowledgement.
    pub stream_id: String,
    /// What it holds; `None` for an entry this version does not know (dead-lettered).
    pub kind: Option<InboxKind>,
    /// The kind as stored, which a dead letter keeps even when this version does not know it.
    pub kind_raw: String,
    /// Platform update id (Telegram `update_id`) or, for a tick, the alias.
    pub key: String,
    /// The body as stored: sealed, or in clear when an earlier version wrote it (the intake
    /// opens it).
    pub body: String,
}

impl Store {
    /// Creates the inbox stream and its consumer group if they do not exist.
    pub async fn ensure_inbox(&self) -> redis::RedisResult<()> {
        self.ensure_group(&self.keys.inbox(), INTAKE_GROUP).await
    }

    /// Appends an update; returns its stream id once Redis has it. A connection found
    /// dropped is made again and the append tried once more ([`once_more`]).
    pub async fn inbox_append(
        &self,
        kind: InboxKind,
        key: &str,
        body: &str,
    ) -> redis::RedisResult<String> {
        let cmd = self.inbox_xadd(kind, key, body)?;
        match cmd.query_async(&mut self.conn()).await {
            Err(e) if once_more(&e) => cmd.query_async(&mut self.conn()).await,
            done => done,
        }
    }

    /// The `XADD` of one inbox entry, its body sealed. A store without a vault refuses.
    fn inbox_xadd(&self, kind: InboxKind, key: &str, body: &str) -> redis::RedisResult<redis::Cmd> {
        // Always sealed, even a body that looks sealed: what a platform sends is never.
        let sealed = self.seal_inbox(kind.as_str(), body)?;
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.keys.inbox())
            .arg("*")
            .arg("kind")
            .arg(kind.as_str())
            .arg("key")
            .arg(key)
            .arg("body")
            .arg(sealed);
        Ok(cmd)
    }

    /// A stored inbox body of `kind` as it should stay in Redis (a dead letter, a replay): one
    /// already sealed as it is, an empty one (a draft timer's) empty, one an earlier version
    /// wrote in clear sealed.
    pub(super) fn seal_body(&self, kind: &str, body: &str) -> redis::RedisResult<String> {
        if body.is_empty() || crate::privacy::is_sealed(body) {
            return Ok(body.to_owned());
        }
        self.seal_inbox(kind, body)
    }

    /// `body` sealed for an inbox entry of `kind`. Without a vault: an error, so nothing is
    /// written in clear.
    fn seal_inbox(&self, kind: &str, body: &str) -> redis::RedisResult<String> {
        match &self.keys.vault {
            Some(vault) => Ok(vault.seal_inbox(kind, body)),
            None => Err(redis::RedisError::from((
                redis::ErrorKind::Client,
                "this store has no vault to seal inbox entries with",
            ))),
        }
    }

    /// Appends a draft timer (tick) for `alias`, unless one of theirs is still in the inbox
    /// (for at most an hour): a citizen whose entries are held up behind a failing one does
    /// not gather a tick a minute. Whether one was appended.
    pub async fn inbox_append_tick(&self, alias: &str) -> redis::RedisResult<bool> {
        let added: i64 = TickArgs {
            tick_queued: self.keys.tick_queued(alias),
            inbox: self.keys.inbox(),
            mark_ttl_secs: 3600,
            alias,
            kind: InboxKind::Tick,
        }
        .call()
        .invoke(&mut self.conn())
        .await?;
        Ok(added == 1)
    }

    /// Appends several updates in one transaction: all of them or, on an error, none.
    pub async fn inbox_append_all(
        &self,
        kind: InboxKind,
        entries: &[(String, String)],
    ) -> redis::RedisResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, body) in entries {
            pipe.add_command(self.inbox_xadd(kind, key, body)?).ignore();
        }
        match pipe.query_async(&mut self.conn()).await {
            Err(e) if once_more(&e) => pipe.query_async(&mut self.conn()).await,
            done => done,
        }
    }

    /// Reads entries for `consumer`: its own pending ones after stream id `after` (`Some`), or
    /// new ones, waiting up to `block_ms` for them (`None`: not at all).
    pub async fn inbox_read(
        &self,
        consumer: &str,
        after: Option<&str>,
        count: usize,
        block_ms: Option<u64>,
    ) -> redis::RedisResult<Vec<InboxEntry>> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(INTAKE_GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
        if let (None, Some(ms)) = (after, block_ms) {
            cmd.arg("BLOCK").arg(ms);
        }
        cmd.arg("STREAMS")
            .arg(self.keys.inbox())
            .arg(after.unwrap_or(">"));
        let reply: Option<StreamReadReply> = cmd.query_async(&mut self.conn()).await?;
        let mut out = Vec::new();
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            out.extend(key.ids.iter().map(entry));
        }
        Ok(out)
    }

    /// Acknowledges an entry and deletes it: raw updates carry platform ids and are kept no
    /// longer than their processing. `sent` is the `seen` mark of an update whose replies all
    /// went out: it is marked done in the same transaction (one round trip, not two). `tick_of`
    /// is the alias of a draft timer, whose next tick may now be appended.
    pub async fn inbox_ack(
        &self,
        stream_id: &str,
        sent: Option<&str>,
        tick_of: Option<&str>,
    ) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(alias) = tick_of {
            pipe.cmd("DEL").arg(self.keys.tick_queued(alias)).ignore();
        }
        if let Some(seen_key) = sent {
            pipe.cmd("SET")
                .arg(seen_key)
                .arg(DONE)
                .arg("KEEPTTL")
                .ignore();
        }
        pipe.cmd("XACK")
            .arg(self.keys.inbox())
            .arg(INTAKE_GROUP)
            .arg(stream_id)
            .ignore()
            .cmd("XDEL")
            .arg(self.keys.inbox())
            .arg(stream_id)
            .ignore();
        pipe.query_async(&mut self.conn()).await
    }

    /// Entries in the inbox (processed ones are deleted, so this is the backlog).
    pub async fn inbox_len(&self) -> redis::RedisResult<u64> {
        redis::cmd("XLEN")
            .arg(self.keys.inbox())
            .query_async(&mut self.conn())
            .await
    }

    /// After an upgrade: the `seen` marks that the version before keyed hashes wrote, in clear,
    /// for `entries` (still in the inbox, so worked again) are renamed to their hashed names,
    /// so that a part that already ran does not run twice. Only entries in clear (written by
    /// that version) are looked at. How many marks were renamed.
    pub async fn adopt_clear_marks(&self, entries: &[InboxEntry]) -> redis::RedisResult<usize> {
        let mut renamed = 0;
        for entry in entries
            .iter()
            .filter(|e| !crate::privacy::is_sealed(&e.body))
        {
            let (tag, id) = match entry.kind {
                Some(InboxKind::Tick) => ("tick", entry.stream_id.as_str()),
                _ => (entry.kind_raw.as_str(), entry.key.as_str()),
            };
            let clear = format!("{}:seen:{tag}:{id}", self.keys.ns);
            let hashed = self.keys.seen(tag, id);
            if clear == hashed || !self.exists(&clear).await? {
                continue;
            }
            redis::cmd("RENAME")
                .arg(&clear)
                .arg(&hashed)
                .query_async::<()>(&mut self.conn())
                .await?;
            renamed += 1;
        }
        Ok(renamed)
    }

    /// The mark of an update, if it was processed.
    pub async fn seen(&self, seen_key: &str) -> redis::RedisResult<Option<SeenMark>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(seen_key)
            .query_async(&mut self.conn())
            .await?;
        Ok(SeenMark::read(raw))
    }

    /// Replaces the replies a mark holds with those still to send.
    pub async fn seen_pending(&self, seen_key: &str, replies_json: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(seen_key)
            .arg(replies_json)
            .arg("KEEPTTL")
            .query_async(&mut self.conn())
            .await
    }

    /// Marks an update processed with nothing to send (ignored or refused updates).
    pub async fn mark_seen(&self, seen_key: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(seen_key)
            .arg(DONE)
            .arg("EX")
            .arg(SEEN_TTL_SECS)
            .query_async(&mut self.conn())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_tick_builder_pushes_what_tick_lua_declares() {
        let call = TickArgs {
            tick_queued: "k1".into(),
            inbox: "k2".into(),
            mark_ttl_secs: 3600,
            alias: "a",
            kind: InboxKind::Tick,
        }
        .call();
        assert_matches(&TICK, &call, 0);
    }
}
