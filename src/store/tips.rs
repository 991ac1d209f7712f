//! Stored tips and their lookup. A tip is a JSON string at `tip:<code>`, indexed by received
//! time in `tips`; its changes are events on the `events` stream.

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
}

impl Store {
    /// The tip with `code`, if any.
    pub async fn tip(&self, code: &ReceiptCode) -> redis::RedisResult<Option<Tip>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.tip(code.as_str()))
            .query_async(&mut self.conn())
            .await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
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
