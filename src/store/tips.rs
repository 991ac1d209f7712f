//! Stored tips and their lookup. A tip is a hash at `tip:<code>`: its content as submitted in
//! the field `json`, and the fields that change (`status`, `seq`, who acknowledged it and
//! when) beside it, so that a Lua script can change them atomically without rewriting JSON.
//! Tips are indexed by received time in `tips`; their changes are events on `events`.

use serde::{Deserialize, Serialize};

use super::Store;
use crate::codes::ReceiptCode;
use crate::config::Priority;
use crate::conversation::{Evidence, Place};
use crate::i18n::Lang;
use crate::privacy::Channel;

/// Where a tip stands, as the citizen may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipStatus {
    /// Stored, no officer has taken it yet.
    Submitted,
    /// An officer acknowledged it.
    Acknowledged,
    /// Claimed or being verified.
    InProgress,
    /// Closed with a disposition.
    Closed,
}

impl TipStatus {
    /// The message id that tells a citizen this status.
    pub fn msg_id(self) -> &'static str {
        match self {
            Self::Submitted => "status-submitted",
            Self::Acknowledged => "status-acknowledged",
            Self::InProgress => "status-in-progress",
            Self::Closed => "status-closed",
        }
    }
}

/// A submitted tip. It holds the citizen's alias, never their platform identity; a shared
/// phone number is sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tip {
    /// Receipt code.
    pub code: ReceiptCode,
    /// Where it stands.
    pub status: TipStatus,
    /// When it was submitted (ms since the epoch).
    pub received_ms: i64,
    /// When the citizen started writing it.
    pub started_ms: i64,
    /// The channel it came through.
    pub channel: Channel,
    /// The citizen's alias.
    pub alias: String,
    /// Language the citizen writes in.
    pub lang: Lang,
    /// Category id.
    pub category: String,
    /// Priority after the triage rules.
    pub priority: Priority,
    /// Why it has that priority (rule names), for officers and auditors.
    pub priority_reasons: Vec<String>,
    /// The text matched an emergency pattern.
    pub emergency: bool,
    /// Where.
    pub place: Place,
    /// Commune id when known (picked, or the mailbox's).
    pub commune: Option<String>,
    /// Mailbox code when reported through a Hòm thư QR code.
    pub mailbox: Option<String>,
    /// What happened.
    pub description: String,
    /// Attached files (platform references).
    pub evidence: Vec<Evidence>,
    /// Sealed phone number, when the citizen chose to share one.
    pub contact_sealed: Option<String>,
    /// Sequence number of the tip's last event.
    pub seq: u64,
    /// When an officer acknowledged it (ms since the epoch).
    #[serde(default)]
    pub acknowledged_ms: Option<i64>,
    /// The first name of the officer who acknowledged it, as Telegram shows it in the group.
    #[serde(default)]
    pub acknowledged_by: Option<String>,
}

/// What an officer's acknowledgement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// Acknowledged now; the event has this sequence number.
    Done(u64),
    /// Somebody acknowledged it before (or it is further along).
    Already,
    /// No such tip.
    Unknown,
}

static ACKNOWLEDGE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('HGET', KEYS[1], 'status') ~= 'submitted' then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'acknowledged', 'ack_ms', ARGV[2], 'ack_by', ARGV[3])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '*', 'type', 'acknowledged', 'code', ARGV[1], 'seq', seq,
  'actor', ARGV[4], 'at', ARGV[2])
return seq
"#;

impl Store {
    /// The tip with `code`, if any.
    pub async fn tip(&self, code: &ReceiptCode) -> redis::RedisResult<Option<Tip>> {
        let fields: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.keys.tip(code.as_str()))
            .query_async(&mut self.conn())
            .await?;
        let Some(mut tip) = fields
            .get("json")
            .and_then(|j| serde_json::from_str::<Tip>(j).ok())
        else {
            return Ok(None);
        };
        if let Some(status) = fields
            .get("status")
            .and_then(|s| serde_json::from_value(serde_json::Value::String(s.clone())).ok())
        {
            tip.status = status;
        }
        if let Some(seq) = fields.get("seq").and_then(|s| s.parse().ok()) {
            tip.seq = seq;
        }
        tip.acknowledged_ms = fields.get("ack_ms").and_then(|s| s.parse().ok());
        tip.acknowledged_by = fields.get("ack_by").cloned();
        Ok(Some(tip))
    }

    /// Marks a submitted tip acknowledged by an officer and appends the event, atomically;
    /// only the first of several presses counts.
    pub async fn acknowledge(
        &self,
        code: &ReceiptCode,
        now_ms: i64,
        officer_name: &str,
        actor: &str,
    ) -> redis::RedisResult<AckOutcome> {
        let seq: i64 = redis::Script::new(ACKNOWLEDGE)
            .key(self.keys.tip(code.as_str()))
            .key(self.keys.events())
            .arg(code.as_str())
            .arg(now_ms)
            .arg(officer_name)
            .arg(actor)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match seq {
            -1 => AckOutcome::Unknown,
            0 => AckOutcome::Already,
            n => AckOutcome::Done(n as u64),
        })
    }

    /// Codes of the citizen's recent tips, newest first.
    pub async fn my_tips(&self, alias: &str, n: usize) -> redis::RedisResult<Vec<String>> {
        redis::cmd("LRANGE")
            .arg(self.keys.my_tips(alias))
            .arg(0)
            .arg(n.saturating_sub(1))
            .query_async(&mut self.conn())
            .await
    }

    /// Number of stored tips.
    pub async fn tip_count(&self) -> redis::RedisResult<u64> {
        redis::cmd("ZCARD")
            .arg(self.keys.tips())
            .query_async(&mut self.conn())
            .await
    }

    /// Number of events on the events stream.
    pub async fn event_count(&self) -> redis::RedisResult<u64> {
        redis::cmd("XLEN")
            .arg(self.keys.events())
            .query_async(&mut self.conn())
            .await
    }
}
