//! Stored tips and their lookup. A tip is a hash at `tip:<code>`: its content as submitted in
//! the field `json`, and the fields that change (`status`, `seq`, who acknowledged it and
//! when) beside it, so that a Lua script can change them atomically without rewriting JSON
//! (`tip_changes.rs`). Tips are indexed by received time in `tips`; their changes are events on
//! `events`.
//!
//! Keys: `tip:<code>` (hash), `tips` (codes by received time), `mytips:<alias>` (a citizen's
//! last 20 codes, newest first), `recent:<alias>` (their recent tips as JSON, for duplicate
//! detection). All written by the commit; a tip that cannot be read is left out and logged.

use serde::{Deserialize, Serialize};

use super::{Keys, Store};
use crate::codes::ReceiptCode;
use crate::config::Priority;
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::report::{Evidence, Place};

impl Keys {
    /// One tip.
    pub fn tip(&self, code: &str) -> String {
        format!("{}:tip:{code}", self.ns)
    }
    /// Codes by received time.
    pub fn tips(&self) -> String {
        format!("{}:tips", self.ns)
    }
    /// A citizen's recent codes, newest first.
    pub fn my_tips(&self, alias: &str) -> String {
        format!("{}:mytips:{alias}", self.ns)
    }
    /// A citizen's recent tips, for duplicate detection.
    pub fn recent(&self, alias: &str) -> String {
        format!("{}:recent:{alias}", self.ns)
    }
}

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
    /// When an officer claimed it.
    #[serde(default)]
    pub claimed_ms: Option<i64>,
    /// Who claimed it (first name).
    #[serde(default)]
    pub claimed_by: Option<String>,
    /// When it was closed.
    #[serde(default)]
    pub closed_ms: Option<i64>,
    /// Who closed it (first name).
    #[serde(default)]
    pub closed_by: Option<String>,
    /// How it was closed (a `desk.dispositions` id).
    #[serde(default)]
    pub disposition: Option<String>,
    /// The earlier tip of the same citizen this one very likely repeats (triage rules).
    #[serde(default)]
    pub duplicate_of: Option<String>,
    /// When the retention purge replaced its content with a tombstone (`purge.rs`).
    #[serde(default)]
    pub purged_ms: Option<i64>,
}

pub(super) fn status_name(s: TipStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(super) fn parse_status(s: &str) -> Option<TipStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl Store {
    /// The tip with `code`, if any.
    pub async fn tip(&self, code: &ReceiptCode) -> redis::RedisResult<Option<Tip>> {
        let fields: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.keys.tip(code.as_str()))
            .query_async(&mut self.conn())
            .await?;
        Ok(tip_from_fields(&fields))
    }

    /// Tips received in `[from_ms, to_ms)`, oldest first, a page of at most `count` after
    /// skipping `offset` (one round trip for the codes, one pipeline for the tips).
    pub async fn tips_page(
        &self,
        from_ms: i64,
        to_ms: i64,
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<(usize, Vec<Tip>)> {
        let codes: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.keys.tips())
            .arg(from_ms)
            .arg(format!("({to_ms}"))
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(offset)
            .arg(count)
            .query_async(&mut self.conn())
            .await?;
        if codes.is_empty() {
            return Ok((0, Vec::new()));
        }
        let mut pipe = redis::pipe();
        for code in &codes {
            pipe.cmd("HGETALL").arg(self.keys.tip(code));
        }
        let all: Vec<std::collections::HashMap<String, String>> =
            pipe.query_async(&mut self.conn()).await?;
        let tips: Vec<Tip> = all.iter().filter_map(tip_from_fields).collect();
        if tips.len() < codes.len() {
            tracing::warn!(
                unreadable = codes.len() - tips.len(),
                "tips that could not be read were left out"
            );
        }
        Ok((codes.len(), tips))
    }
}

/// A tip from its hash's fields: the JSON as submitted, with the fields that changed since.
fn tip_from_fields(fields: &std::collections::HashMap<String, String>) -> Option<Tip> {
    let mut tip = fields
        .get("json")
        .and_then(|j| serde_json::from_str::<Tip>(j).ok())?;
    if let Some(status) = fields.get("status").and_then(|s| parse_status(s)) {
        tip.status = status;
    }
    if let Some(seq) = fields.get("seq").and_then(|s| s.parse().ok()) {
        tip.seq = seq;
    }
    let ms = |k: &str| fields.get(k).and_then(|s| s.parse().ok());
    tip.acknowledged_ms = ms("ack_ms");
    tip.acknowledged_by = fields.get("ack_by").cloned();
    tip.claimed_ms = ms("claim_ms");
    tip.claimed_by = fields.get("claim_by").cloned();
    tip.closed_ms = ms("close_ms");
    tip.closed_by = fields.get("close_by").cloned();
    tip.disposition = fields.get("disposition").cloned();
    tip.purged_ms = ms("purged");
    Some(tip)
}

impl Store {
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

    /// Number of tips received in `[from_ms, to_ms)`.
    pub async fn tips_between(&self, from_ms: i64, to_ms: i64) -> redis::RedisResult<u64> {
        redis::cmd("ZCOUNT")
            .arg(self.keys.tips())
            .arg(from_ms)
            .arg(format!("({to_ms}"))
            .query_async(&mut self.conn())
            .await
    }

    /// The citizen's recent tips, for duplicate detection (newest first).
    pub async fn recent_tips(&self, alias: &str) -> redis::RedisResult<Vec<Recent>> {
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

/// One of a citizen's recent tips, kept (for the duplicate window) to compare new ones with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recent {
    /// Its receipt code.
    pub code: String,
    /// When it was submitted (ms).
    pub at: i64,
    /// Its description, normalised ([`crate::rules::normalise`]).
    pub norm: String,
}

/// Longest normalised text kept for comparison.
const RECENT_CHARS: usize = 2000;

impl Recent {
    /// The entry for a tip about to be stored.
    pub fn new(code: &str, at: i64, description: &str) -> Self {
        Self {
            code: code.to_owned(),
            at,
            norm: crate::rules::normalise(description)
                .chars()
                .take(RECENT_CHARS)
                .collect(),
        }
    }
}
