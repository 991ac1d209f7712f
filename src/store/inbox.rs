//! The durable inbox (DESIGN.md §3): every platform update is appended here before the
//! platform is told it arrived, then read by the `intake` consumer group. An entry is
//! acknowledged and deleted only after its work is done, so a crash leaves it pending and it is
//! read again; the `seen` marks make that second reading harmless.

use redis::streams::StreamReadReply;

use super::Store;

/// Appends a tick unless one is queued: KEYS tick mark, inbox; ARGV mark TTL, alias, kind.
static TICK_SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r#"
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', 'kind', ARGV[3], 'key', ARGV[2], 'body', '')
  return 1
end
return 0
"#,
    )
});

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
    fn as_str(self) -> &'static str {
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

/// One inbox entry.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    /// Stream id, for the acknowledgement.
    pub stream_id: String,
    /// What it holds; `None` for an entry this version does not know (acknowledged and logged).
    pub kind: Option<InboxKind>,
    /// Platform update id (Telegram `update_id`) or, for a tick, the alias.
    pub key: String,
    /// The raw body.
    pub body: String,
}

impl Store {
    /// Creates the inbox stream and its consumer group if they do not exist.
    pub async fn ensure_inbox(&self) -> redis::RedisResult<()> {
        self.ensure_group(&self.keys.inbox(), INTAKE_GROUP).await
    }

    /// Appends an update; returns its stream id once Redis has it.
    pub async fn inbox_append(
        &self,
        kind: InboxKind,
        key: &str,
        body: &str,
    ) -> redis::RedisResult<String> {
        self.inbox_xadd(kind, key, body)
            .query_async(&mut self.conn())
            .await
    }

    /// The `XADD` of one inbox entry.
    fn inbox_xadd(&self, kind: InboxKind, key: &str, body: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.keys.inbox())
            .arg("*")
            .arg("kind")
            .arg(kind.as_str())
            .arg("key")
            .arg(key)
            .arg("body")
            .arg(body);
        cmd
    }

    /// Appends a draft timer (tick) for `alias`, unless one of theirs is still in the inbox
    /// (for at most an hour): a citizen whose entries are held up behind a failing one does
    /// not gather a tick a minute. Whether one was appended.
    pub async fn inbox_append_tick(&self, alias: &str) -> redis::RedisResult<bool> {
        let added: i64 = TICK_SCRIPT
            .key(self.keys.tick_queued(alias))
            .key(self.keys.inbox())
            .arg(3600)
            .arg(alias)
            .arg(InboxKind::Tick.as_str())
            .invoke_async(&mut self.conn())
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
            pipe.add_command(self.inbox_xadd(kind, key, body)).ignore();
        }
        pipe.query_async(&mut self.conn()).await
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
            for id in key.ids {
                let field = |name: &str| id.get::<String>(name).unwrap_or_default();
                out.push(InboxEntry {
                    kind: InboxKind::parse(&field("kind")),
                    key: field("key"),
                    body: field("body"),
                    stream_id: id.id.clone(),
                });
            }
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
                .arg(super::commit::DONE)
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
}
