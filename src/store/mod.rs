//! Everything tipline keeps, in Redis (DESIGN.md §4). Every key starts with the configured
//! namespace (one Redis Cluster hash tag, e.g. `{tl}`), so one deployment's keys share a slot
//! and the multi-key commit script works on a cluster too.
//!
//! Two kinds of connection: a shared auto-reconnecting one for short commands, and one per
//! blocking reader (`XREADGROUP BLOCK`) with a response timeout longer than the block. Redis
//! being down shows up as errors from these calls; callers retry, and nothing is acknowledged
//! to a platform before Redis has it.

mod commit;
mod events;
mod forward;
mod inbox;
mod tips;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::conversation::{CONVERSATION_VERSION, Conversation};
use crate::privacy::Channel;

pub use commit::{Commit, CommitOutcome, Hotspot, NewTip, SeenMark};
pub use events::EventEntry;
pub use forward::{DeadLetter, FORWARD_GROUP, ForwardState};
pub use inbox::{INTAKE_GROUP, InboxEntry, InboxKind};
pub use tips::{Action, Tip, TipStatus, Transition};

/// Handle on the deployment's Redis data. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    keys: Keys,
    client: redis::Client,
}

/// Key names under one namespace.
#[derive(Clone, Debug)]
pub struct Keys {
    ns: String,
}

impl Keys {
    /// Keys under `ns` (e.g. `{tl}`).
    pub fn new(ns: &str) -> Self {
        Self { ns: ns.to_owned() }
    }
    /// Raw channel updates, consumer group `intake`.
    pub fn inbox(&self) -> String {
        format!("{}:inbox", self.ns)
    }
    /// Marks an update as processed (and holds replies not yet confirmed sent).
    pub fn seen(&self, channel: &str, update: &str) -> String {
        format!("{}:seen:{channel}:{update}", self.ns)
    }
    /// A citizen's conversation.
    pub fn convo(&self, channel: Channel, alias: &str) -> String {
        format!("{}:convo:{}:{alias}", self.ns, channel.short())
    }
    /// Sorted set of aliases with an unfinished draft, scored by when they are next due.
    pub fn idle(&self) -> String {
        format!("{}:idle", self.ns)
    }
    /// Set while a draft timer (tick) of `alias` is in the inbox and not yet done.
    pub fn tick_queued(&self, alias: &str) -> String {
        format!("{}:tickq:{alias}", self.ns)
    }
    /// One tip.
    pub fn tip(&self, code: &str) -> String {
        format!("{}:tip:{code}", self.ns)
    }
    /// Codes by received time.
    pub fn tips(&self) -> String {
        format!("{}:tips", self.ns)
    }
    /// Tip events, consumed by desk, forward and notify.
    pub fn events(&self) -> String {
        format!("{}:events", self.ns)
    }
    /// Sealed route back to a citizen.
    pub fn route(&self, alias: &str) -> String {
        format!("{}:route:{alias}", self.ns)
    }
    /// A citizen's recent codes, newest first.
    pub fn my_tips(&self, alias: &str) -> String {
        format!("{}:mytips:{alias}", self.ns)
    }
    /// Where a tip's officer card is.
    pub fn card(&self, code: &str) -> String {
        format!("{}:card:{code}", self.ns)
    }
    /// Marks a notice (tip, event sequence) as sent to the citizen.
    pub fn notified(&self, code: &str, seq: &str) -> String {
        format!("{}:notified:{code}:{seq}", self.ns)
    }
    /// Marks a citizen who blocked the bot.
    pub fn unreachable(&self, alias: &str) -> String {
        format!("{}:unreachable:{alias}", self.ns)
    }
    /// Open tips of a duty group, scored by received time.
    pub fn open(&self, group: i64) -> String {
        format!("{}:open:{group}", self.ns)
    }
    /// The tip a citizen is answering an officer's question about.
    pub fn answering(&self, alias: &str) -> String {
        format!("{}:answering:{alias}", self.ns)
    }
    /// Which tip a bot message in a duty group belongs to.
    pub fn card_message(&self, chat: i64, message: i32) -> String {
        format!("{}:cardmsg:{chat}:{message}", self.ns)
    }
    /// The hash-chained audit trail.
    pub fn audit(&self) -> String {
        format!("{}:audit", self.ns)
    }
    /// The audit trail's last record number and hash.
    pub fn audit_head(&self) -> String {
        format!("{}:audit:head", self.ns)
    }
    /// The id a migrated group has now.
    pub fn migrated(&self, old: i64) -> String {
        format!("{}:migrated:{old}", self.ns)
    }
    /// The id a group had in the configuration before it migrated.
    pub fn migrated_from(&self, new: i64) -> String {
        format!("{}:migrated_from:{new}", self.ns)
    }
    /// SLA timers: codes scored by when they are due.
    pub fn sla(&self) -> String {
        format!("{}:sla", self.ns)
    }
    /// Events a consumer group gave up on.
    pub fn dlq(&self, group: &str) -> String {
        format!("{}:dlq:{group}", self.ns)
    }
    /// Failed deliveries per event of the forward group.
    pub fn forward_attempts(&self) -> String {
        format!("{}:fwd:attempts", self.ns)
    }
    /// Held while a worker delivers an event of the tip.
    pub fn forward_busy(&self, code: &str) -> String {
        format!("{}:fwd:busy:{code}", self.ns)
    }
    /// A citizen's recent tips, for duplicate detection.
    pub fn recent(&self, alias: &str) -> String {
        format!("{}:recent:{alias}", self.ns)
    }
    /// Tips of one category in one commune, scored by time, for hotspot alerts.
    pub fn hotspot(&self, commune: &str, category: &str) -> String {
        format!("{}:hot:{commune}:{category}", self.ns)
    }
    /// Set while a hotspot alert for a commune and category was raised in the window.
    pub fn hotspot_alerted(&self, commune: &str, category: &str) -> String {
        format!("{}:hotalert:{commune}:{category}", self.ns)
    }
    /// Telegram file ids of a Zalo tip's files, uploaded under its card.
    pub fn telegram_copies(&self, code: &str) -> String {
        format!("{}:tgcopy:{code}", self.ns)
    }
    /// The numbered menu last shown to a Zalo chat (keyed by its alias).
    pub fn zalo_menu(&self, chat_alias: &str) -> String {
        format!("{}:zmenu:{chat_alias}", self.ns)
    }
    /// The weekly report of one week: leased while it is being sent, then `done`.
    pub fn weekly(&self, label: &str) -> String {
        format!("{}:weekly:{label}", self.ns)
    }
    /// A callback API request's stored answer, by its idempotency key.
    pub fn callback(&self, key: &str) -> String {
        format!("{}:cb:{key}", self.ns)
    }
    /// A rate-limit counter for one window.
    pub fn rate(&self, what: &str, alias: &str, window: i64) -> String {
        format!("{}:rl:{what}:{alias}:{window}", self.ns)
    }
}

/// What [`Store::citizen`] read.
#[derive(Debug, Clone)]
pub struct CitizenState {
    /// The update's mark, if it was processed before.
    pub seen: Option<SeenMark>,
    /// Messages from the citizen in this minute, this one included (0 when not counted).
    pub messages: u64,
    /// Their conversation, if any (and readable).
    pub conversation: Option<Conversation>,
    /// The tip whose question they are answering, if any.
    pub answering: Option<String>,
}

/// A stored conversation, or `None` when it was written by an incompatible version or cannot
/// be read (the citizen then starts afresh rather than getting stuck).
fn read_conversation(raw: &str) -> Option<Conversation> {
    match serde_json::from_str::<Conversation>(raw) {
        Ok(c) if c.version <= CONVERSATION_VERSION => Some(c),
        Ok(c) => {
            tracing::warn!(
                version = c.version,
                "conversation from a newer version; starting afresh"
            );
            None
        }
        Err(e) => {
            // Only the position: serde's message can quote the citizen's text.
            tracing::warn!(
                line = e.line(),
                column = e.column(),
                "unreadable conversation; starting afresh"
            );
            None
        }
    }
}

/// How long short commands may take before they count as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

impl Store {
    /// Connects to Redis at `url` under namespace `ns`. Fails when Redis cannot be reached.
    pub async fn connect(url: &str, ns: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let conn =
            ConnectionManager::new_with_config(client.clone(), manager_config(RESPONSE_TIMEOUT))
                .await?;
        Ok(Self {
            conn,
            keys: Keys::new(ns),
            client,
        })
    }

    /// A separate connection for a blocking reader: blocks of up to `block` do not time out.
    pub async fn blocking(&self, block: Duration) -> redis::RedisResult<Self> {
        let conn = ConnectionManager::new_with_config(
            self.client.clone(),
            manager_config(block + RESPONSE_TIMEOUT),
        )
        .await?;
        Ok(Self {
            conn,
            keys: self.keys.clone(),
            client: self.client.clone(),
        })
    }

    /// The key names.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A connection handle for one command sequence.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Creates `stream` and its consumer group `group` (reading from the start) if missing.
    async fn ensure_group(&self, stream: &str, group: &str) -> redis::RedisResult<()> {
        let res: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.conn())
            .await;
        match res {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING").query_async(&mut self.conn()).await
    }

    /// The stored conversation, or `None` when there is none, it expired, or it was written by
    /// an incompatible version (the citizen then starts afresh rather than getting stuck).
    pub async fn conversation(
        &self,
        channel: Channel,
        alias: &str,
    ) -> redis::RedisResult<Option<Conversation>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.convo(channel, alias))
            .query_async(&mut self.conn())
            .await?;
        Ok(raw.and_then(|raw| read_conversation(&raw)))
    }

    /// Everything the intake needs before it runs a citizen's update, in one round trip:
    /// the update's `seen` mark, the citizen's messages in this minute with this one counted
    /// (`None` for a draft timer, which is not counted), their conversation and the tip they
    /// are answering a question about.
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
        if let Some(now_ms) = counted_at_ms {
            let key = self.keys.rate("msg", alias, now_ms / 1000 / 60);
            pipe.cmd("SADD").arg(&key).arg(seen_key).ignore();
            pipe.cmd("EXPIRE").arg(&key).arg(61).ignore();
            pipe.cmd("SCARD").arg(&key);
        } else {
            // A placeholder, so the reply has the same shape.
            pipe.cmd("ECHO").arg(0);
        }
        pipe.cmd("GET").arg(self.keys.convo(channel, alias));
        pipe.cmd("GET").arg(self.keys.answering(alias));
        let (seen, messages, convo, answering): (
            Option<String>,
            u64,
            Option<String>,
            Option<String>,
        ) = pipe.query_async(&mut self.conn()).await?;
        Ok(CitizenState {
            seen: SeenMark::read(seen),
            messages,
            conversation: convo.and_then(|raw| read_conversation(&raw)),
            answering,
        })
    }

    /// Counts `event` (an update's own key, so that a retried update counts once) in a fixed
    /// window of `window_secs` and returns the number of events in the window so far.
    pub async fn rate_hit(
        &self,
        what: &str,
        alias: &str,
        event: &str,
        now_ms: i64,
        window_secs: i64,
    ) -> redis::RedisResult<u64> {
        let window = now_ms / 1000 / window_secs;
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

    /// Ends answer mode (for `code` only, when given).
    pub async fn answering_clear(&self, alias: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("DEL")
            .arg(self.keys.answering(alias))
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Remembers that a bot message in a group belongs to `code` (cards, relayed answers),
    /// so that an officer's reply to it reaches the right citizen.
    pub async fn card_message_set(
        &self,
        chat: i64,
        message: i32,
        code: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.card_message(chat, message))
            .arg(code)
            .arg("EX")
            .arg(90 * 24 * 3600)
            .query_async(&mut self.conn())
            .await
    }

    /// The tip a group message belongs to.
    pub async fn card_message(
        &self,
        chat: i64,
        message: i32,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(self.keys.card_message(chat, message))
            .query_async(&mut self.conn())
            .await
    }

    /// Records, in one step, where a tip's card was posted, that the message belongs to the
    /// tip, and that the tip is open in its (configured) group.
    pub async fn record_card(
        &self,
        code: &str,
        chat: i64,
        message: i32,
        group: i64,
        received_ms: i64,
    ) -> redis::RedisResult<()> {
        redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(self.keys.card(code))
            .arg("chat")
            .arg(chat)
            .arg("message")
            .arg(message)
            .arg("copied")
            .arg(0)
            .ignore()
            .cmd("SET")
            .arg(self.keys.card_message(chat, message))
            .arg(code)
            .arg("EX")
            .arg(90 * 24 * 3600)
            .ignore()
            .cmd("ZADD")
            .arg(self.keys.open(group))
            .arg(received_ms)
            .arg(code)
            .ignore()
            .query_async(&mut self.conn())
            .await
    }

    /// Lists a tip among its group's open tips.
    pub async fn open_add(
        &self,
        group: i64,
        code: &str,
        received_ms: i64,
    ) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZADD")
            .arg(self.keys.open(group))
            .arg(received_ms)
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Takes a closed tip off its group's open tips.
    pub async fn open_remove(&self, group: i64, code: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys.open(group))
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// A group's open tips, oldest first.
    pub async fn open_list(&self, group: i64, limit: usize) -> redis::RedisResult<Vec<String>> {
        redis::cmd("ZRANGE")
            .arg(self.keys.open(group))
            .arg(0)
            .arg(limit.saturating_sub(1))
            .query_async(&mut self.conn())
            .await
    }

    /// Number of tips received in `[from_ms, to_ms)`.
    pub async fn tips_between(&self, from_ms: i64, to_ms: i64) -> redis::RedisResult<u64> {
        redis::cmd("ZCOUNT")
            .arg(self.keys.tips())
            .arg(from_ms)
            .arg(format!("({to_ms}"))
            .query_async(&mut self.conn())
            .await
    }

    /// Records that group `old` became supergroup `new`.
    pub async fn migrate_group(&self, old: i64, new: i64) -> redis::RedisResult<()> {
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.keys.migrated(old))
            .arg(new)
            .ignore()
            .cmd("SET")
            .arg(self.keys.migrated_from(new))
            .arg(old)
            .ignore()
            .query_async(&mut self.conn())
            .await
    }

    /// The id to send to for a group known as `id` (its supergroup's, once migrated).
    pub async fn group_now(&self, id: i64) -> redis::RedisResult<i64> {
        let new: Option<i64> = redis::cmd("GET")
            .arg(self.keys.migrated(id))
            .query_async(&mut self.conn())
            .await?;
        Ok(new.unwrap_or(id))
    }

    /// The id the configuration knows a group by (its id before migrating, if it did).
    pub async fn group_configured(&self, id: i64) -> redis::RedisResult<i64> {
        let old: Option<i64> = redis::cmd("GET")
            .arg(self.keys.migrated_from(id))
            .query_async(&mut self.conn())
            .await?;
        Ok(old.unwrap_or(id))
    }

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
        let taken: i64 = redis::Script::new(
            r#"
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"#,
        )
        .key(self.keys.sla())
        .arg(code)
        .arg(now_ms)
        .arg(now_ms + lease_ms)
        .invoke_async(&mut self.conn())
        .await?;
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

    /// Appends an event that changes no state (e.g. `escalated`), with the tip's next
    /// sequence number, atomically.
    pub async fn append_event(
        &self,
        code: &str,
        kind: &str,
        actor: &str,
        now_ms: i64,
        fields: &[(&str, &str)],
    ) -> redis::RedisResult<u64> {
        self.append_event_once(None, code, kind, actor, now_ms, fields)
            .await
    }

    /// Like [`Store::append_event`], but only once per `once` key (kept a week): a retried
    /// update that carries the same action appends nothing and gets 0.
    pub async fn append_event_once(
        &self,
        once: Option<&str>,
        code: &str,
        kind: &str,
        actor: &str,
        now_ms: i64,
        fields: &[(&str, &str)],
    ) -> redis::RedisResult<u64> {
        let script = redis::Script::new(
            r#"
if ARGV[5] == '1' and not redis.call('SET', KEYS[3], 1, 'NX', 'EX', 604800) then
  return 0
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local event = {'type', ARGV[2], 'code', ARGV[1], 'seq', seq, 'actor', ARGV[3], 'at', ARGV[4]}
for i = 6, #ARGV do
  table.insert(event, ARGV[i])
end
redis.call('XADD', KEYS[2], '*', unpack(event))
return seq
"#,
        );
        let mut inv = script.prepare_invoke();
        inv.key(self.keys.tip(code))
            .key(self.keys.events())
            // A key of this namespace either way, so the script stays in one cluster slot.
            .key(once.map_or_else(|| self.keys.tip(code), str::to_owned))
            .arg(code)
            .arg(kind)
            .arg(actor)
            .arg(now_ms)
            .arg(if once.is_some() { "1" } else { "0" });
        for (k, v) in fields {
            inv.arg(*k).arg(*v);
        }
        inv.invoke_async(&mut self.conn()).await
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> redis::RedisResult<bool> {
        redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut self.conn())
            .await
    }

    /// Remembers for a week that a notice was sent.
    pub async fn mark_notified(&self, key: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(key)
            .arg(1)
            .arg("EX")
            .arg(7 * 24 * 3600)
            .query_async(&mut self.conn())
            .await
    }

    /// Marks a citizen unreachable (they blocked the bot); cleared when they write again.
    pub async fn mark_unreachable(&self, alias: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.unreachable(alias))
            .arg(1)
            .query_async(&mut self.conn())
            .await
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

fn manager_config(response: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(response))
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(3)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_secs(2))
}

impl Store {
    /// The citizen's recent tips, for duplicate detection (newest first).
    pub async fn recent_tips(&self, alias: &str) -> redis::RedisResult<Vec<crate::triage::Recent>> {
        let raw: Vec<String> = redis::cmd("LRANGE")
            .arg(self.keys.recent(alias))
            .arg(0)
            .arg(9)
            .query_async(&mut self.conn())
            .await?;
        Ok(raw
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect())
    }
}

impl Store {
    /// Takes the weekly report of week `label` for this process for `lease_ms`: `false` when it
    /// was sent already or another replica is sending it.
    pub async fn weekly_claim(
        &self,
        label: &str,
        instance: &str,
        lease_ms: u64,
    ) -> redis::RedisResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.keys.weekly(label))
            .arg(format!("lease:{instance}"))
            .arg("NX")
            .arg("PX")
            .arg(lease_ms)
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Records that the weekly report of week `label` went out (kept 400 days), if this
    /// process still holds its lease.
    pub async fn weekly_done(&self, label: &str, instance: &str) -> redis::RedisResult<()> {
        let script = redis::Script::new(
            r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'EX', 34560000)
end
return 1
"#,
        );
        let _: i64 = script
            .key(self.keys.weekly(label))
            .arg(format!("lease:{instance}"))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Whether `chat` already got the weekly report of week `label`.
    pub async fn weekly_chat_done(&self, label: &str, chat: i64) -> redis::RedisResult<bool> {
        redis::cmd("SISMEMBER")
            .arg(format!("{}:sent", self.keys.weekly(label)))
            .arg(chat)
            .query_async(&mut self.conn())
            .await
    }

    /// Records that `chat` got the weekly report of week `label`.
    pub async fn weekly_chat_set(&self, label: &str, chat: i64) -> redis::RedisResult<()> {
        let key = format!("{}:sent", self.keys.weekly(label));
        redis::pipe()
            .cmd("SADD")
            .arg(&key)
            .arg(chat)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(34_560_000)
            .ignore()
            .query_async(&mut self.conn())
            .await
    }

    /// Gives the weekly report of week `label` back after a failure, so it is tried again,
    /// if this process still holds its lease.
    pub async fn weekly_release(&self, label: &str, instance: &str) -> redis::RedisResult<()> {
        let script = redis::Script::new(
            r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1
"#,
        );
        let _: i64 = script
            .key(self.keys.weekly(label))
            .arg(format!("lease:{instance}"))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Keeps the menu last shown to a Zalo chat (two days), or forgets it when the last
    /// message had none.
    pub async fn zalo_menu_set(
        &self,
        chat_alias: &str,
        options: &[crate::channels::zalo::menu::MenuOption],
    ) -> redis::RedisResult<()> {
        let key = self.keys.zalo_menu(chat_alias);
        if options.is_empty() {
            return redis::cmd("DEL")
                .arg(key)
                .query_async(&mut self.conn())
                .await;
        }
        let pairs: Vec<(&str, &str)> = options
            .iter()
            .map(|o| (o.label.as_str(), o.data.as_str()))
            .collect();
        redis::cmd("SET")
            .arg(key)
            .arg(serde_json::to_string(&pairs).unwrap_or_default())
            .arg("EX")
            .arg(2 * 24 * 3600)
            .query_async(&mut self.conn())
            .await
    }

    /// The menu last shown to a Zalo chat, if it had one.
    pub async fn zalo_menu(
        &self,
        chat_alias: &str,
    ) -> redis::RedisResult<Option<Vec<crate::channels::zalo::menu::MenuOption>>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.zalo_menu(chat_alias))
            .query_async(&mut self.conn())
            .await?;
        Ok(raw
            .and_then(|r| serde_json::from_str::<Vec<(String, String)>>(&r).ok())
            .map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(label, data)| crate::channels::zalo::menu::MenuOption { label, data })
                    .collect()
            }))
    }
}

impl Store {
    /// Records the Telegram file id of file `index` of tip `code` (uploaded under its card).
    pub async fn telegram_copy_set(
        &self,
        code: &str,
        index: usize,
        file_id: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("HSET")
            .arg(self.keys.telegram_copies(code))
            .arg(index)
            .arg(file_id)
            .query_async(&mut self.conn())
            .await
    }

    /// The Telegram file id of file `index` of tip `code`, if it was uploaded.
    pub async fn telegram_copy(
        &self,
        code: &str,
        index: usize,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(self.keys.telegram_copies(code))
            .arg(index)
            .query_async(&mut self.conn())
            .await
    }
}
