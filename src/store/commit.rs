//! The one atomic write per processed update. A Lua script sets, all or nothing: the update's
//! `seen` mark (with the replies still to send), the new conversation, the draft timer, the
//! sealed route (and clears an "unreachable" mark: the citizen is writing again) and, on submit, the tip, its index entry, its `submitted` event and the
//! citizen's list of codes. A crash before the script changes nothing; a crash after it leaves
//! the mark, so the redelivered update only re-sends the replies.

use std::sync::LazyLock;

use redis::Script;

use super::{Store, Tip};
use crate::conversation::Conversation;
use crate::privacy::Channel;

/// What the `seen` mark of an update says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeenMark {
    /// Processed and every reply sent.
    Done,
    /// Processed; these replies (JSON) may not all have been sent.
    Pending(String),
}

pub(super) const DONE: &str = "done";

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

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was written.
    Done,
    /// Nothing was written: the tip's code is taken; draw another and commit again.
    CodeTaken,
    /// Nothing was written: the update already has a mark (another run processed it).
    AlreadySeen,
}

/// A tip to create in the commit.
#[derive(Debug, Clone)]
pub struct NewTip {
    /// The tip.
    pub tip: Tip,
    /// Its entry in the citizen's recent tips (JSON of [`crate::triage::Recent`]).
    pub recent: String,
    /// How long the recent tips are kept (the duplicate window), in ms.
    pub recent_ttl_ms: i64,
    /// The hotspot count it joins, when its commune is known and hotspots are on.
    pub hotspot: Option<Hotspot>,
}

/// A hotspot rule as it applies to one tip: its commune and category, the window and the
/// count that raises an alert.
#[derive(Debug, Clone)]
pub struct Hotspot {
    /// Commune id.
    pub commune: String,
    /// Category id.
    pub category: String,
    /// The window, in minutes.
    pub window_mins: u64,
    /// Tips within the window that make a hotspot.
    pub count: u32,
}

/// Everything one processed update writes.
#[derive(Debug)]
pub struct Commit<'a> {
    /// Channel of the citizen.
    pub channel: Channel,
    /// The `seen` key of the update.
    pub seen_key: String,
    /// Replies to send, JSON; kept in the mark until they are sent.
    pub replies_json: String,
    /// The citizen's alias.
    pub alias: &'a str,
    /// The conversation after the update.
    pub conversation: &'a Conversation,
    /// Seconds the conversation is kept.
    pub conversation_ttl_secs: u64,
    /// When the draft timer is next due (ms), or `None` when no draft is open.
    pub draft_due_ms: Option<i64>,
    /// A freshly sealed route to store, when it may be missing.
    pub route_sealed: Option<String>,
    /// The tip, on submit.
    pub tip: Option<NewTip>,
    /// The citizen's answer to an officer's question: (tip code, text), appended as a
    /// `citizen_replied` event of that tip.
    pub answer: Option<(String, String)>,
}

/// Seconds a `seen` mark lives: Telegram keeps undelivered updates for 24 hours.
pub const SEEN_TTL_SECS: u64 = 24 * 3600;

/// The script, hashed once.
static COMMIT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(COMMIT));

static COMMIT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
local code = ARGV[8]
if code ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('DEL', KEYS[9])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[3], ARGV[5])
else
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[4], ARGV[7])
end
if code ~= '' then
  redis.call('HSET', KEYS[5], 'json', ARGV[9], 'status', 'submitted', 'seq', 1)
  redis.call('ZADD', KEYS[6], ARGV[10], code)
  redis.call('XADD', KEYS[7], '*', 'type', 'submitted', 'code', code, 'seq', '1',
    'actor', ARGV[5], 'at', ARGV[10], 'priority', ARGV[11])
  redis.call('LPUSH', KEYS[8], code)
  redis.call('LTRIM', KEYS[8], 0, 19)
  if ARGV[15] ~= '' then
    redis.call('LPUSH', KEYS[11], ARGV[15])
    redis.call('LTRIM', KEYS[11], 0, 9)
    redis.call('PEXPIRE', KEYS[11], ARGV[16])
  end
  if ARGV[17] ~= '' then
    local now = tonumber(ARGV[10])
    local window = tonumber(ARGV[17])
    redis.call('ZADD', KEYS[12], now, code)
    redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now - window)
    redis.call('PEXPIRE', KEYS[12], window)
    local n = redis.call('ZCARD', KEYS[12])
    if n >= tonumber(ARGV[18]) and redis.call('SET', KEYS[13], code, 'NX', 'PX', window) then
      local codes = redis.call('ZRANGE', KEYS[12], 0, -1)
      local seq = redis.call('HINCRBY', KEYS[5], 'seq', 1)
      redis.call('XADD', KEYS[7], '*', 'type', 'hotspot', 'code', code, 'seq', seq,
        'actor', 'system', 'at', ARGV[10], 'commune', ARGV[19], 'category', ARGV[20],
        'count', n, 'window_mins', ARGV[21], 'codes', table.concat(codes, ','))
    end
  end
end
if ARGV[12] ~= '' then
  local seq = redis.call('HINCRBY', KEYS[10], 'seq', 1)
  redis.call('XADD', KEYS[7], '*', 'type', 'citizen_replied', 'code', ARGV[12], 'seq', seq,
    'actor', ARGV[5], 'at', ARGV[14], 'text', ARGV[13])
end
return 1
"#;

impl Store {
    /// Writes `commit` atomically, or nothing when the code is taken or the update was
    /// already processed.
    pub async fn commit(&self, commit: &Commit<'_>) -> redis::RedisResult<CommitOutcome> {
        let k = &self.keys;
        let code = commit
            .tip
            .as_ref()
            .map(|t| t.tip.code.as_str().to_owned())
            .unwrap_or_default();
        let tip_json = match &commit.tip {
            Some(t) => serde_json::to_string(&t.tip).map_err(json_err)?,
            None => String::new(),
        };
        let mut inv = COMMIT_SCRIPT.prepare_invoke();
        inv.key(&commit.seen_key)
            .key(k.convo(commit.channel, commit.alias))
            .key(k.idle())
            .key(k.route(commit.alias))
            .key(k.tip(if code.is_empty() { "-" } else { &code }))
            .key(k.tips())
            .key(k.events())
            .key(k.my_tips(commit.alias))
            .key(k.unreachable(commit.alias))
            .key(
                k.tip(
                    commit
                        .answer
                        .as_ref()
                        .map_or("-", |(code, _)| code.as_str()),
                ),
            )
            .arg(&commit.replies_json)
            .arg(SEEN_TTL_SECS)
            .arg(serde_json::to_string(commit.conversation).map_err(json_err)?)
            .arg(commit.conversation_ttl_secs)
            .arg(commit.alias)
            .arg(
                commit
                    .draft_due_ms
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
            .arg(commit.route_sealed.as_deref().unwrap_or(""))
            .arg(&code)
            .arg(&tip_json)
            .arg(
                commit
                    .tip
                    .as_ref()
                    .map(|t| t.tip.received_ms)
                    .unwrap_or_default(),
            )
            .arg(
                commit
                    .tip
                    .as_ref()
                    .map(|t| serde_json::to_value(t.tip.priority).ok())
                    .and_then(|v| v.and_then(|v| v.as_str().map(str::to_owned)))
                    .unwrap_or_default(),
            )
            .arg(commit.answer.as_ref().map_or("", |(code, _)| code.as_str()))
            .arg(commit.answer.as_ref().map_or("", |(_, text)| text.as_str()))
            .arg(commit.conversation.last_activity_ms);
        let new_tip = commit.tip.as_ref();
        let hotspot = new_tip.and_then(|t| t.hotspot.as_ref());
        inv.key(k.recent(commit.alias))
            .key(hotspot.map_or_else(|| k.tip("-"), |h| k.hotspot(&h.commune, &h.category)))
            .key(hotspot.map_or_else(
                || k.tip("-"),
                |h| k.hotspot_alerted(&h.commune, &h.category),
            ))
            .arg(new_tip.map_or("", |t| t.recent.as_str()))
            .arg(new_tip.map_or(1, |t| t.recent_ttl_ms.max(1)))
            .arg(hotspot.map_or(String::new(), |h| (h.window_mins * 60_000).to_string()))
            .arg(hotspot.map_or(0, |h| h.count))
            .arg(hotspot.map_or("", |h| h.commune.as_str()))
            .arg(hotspot.map_or("", |h| h.category.as_str()))
            .arg(hotspot.map_or(0, |h| h.window_mins));
        let done: i64 = inv.invoke_async(&mut self.conn()).await?;
        Ok(match done {
            1 => CommitOutcome::Done,
            0 => CommitOutcome::CodeTaken,
            _ => CommitOutcome::AlreadySeen,
        })
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

fn json_err(e: serde_json::Error) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Client,
        "serialising failed",
        e.to_string(),
    ))
}
