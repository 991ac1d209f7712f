//! The tip events (DESIGN.md §3): every change of a tip, as one typed [`TipEvent`], and its
//! encoding as the fields of one entry on the `{tl}:events` stream.
//!
//! The field names and type strings below are a **wire contract**: events already in Redis
//! must keep decoding, and the forwarder turns them into the triage service's bodies
//! (`docs/triage-api.md`, `docs/schema/triage-event.v1.json`). Add a variant or a field; never
//! rename one. Every entry carries `type`, `code` (the receipt code), `seq` (per tip, from 1,
//! kept in the tip hash's `seq`), `actor` (a citizen's alias, `officer:<alias>`, `triage`,
//! `sla` or `system`) and `at` (unix ms), then the fields of its kind:
//!
//! | `type` | fields | written by | read by |
//! |---|---|---|---|
//! | `submitted` | `priority` | the submit commit (Lua, `store::commit`), seq 1, actor the citizen | desk (posts the card), forward (with the tip) |
//! | `hotspot` | `commune`, `category`, `count`, `window_mins`, `codes` (comma-separated) | the submit commit (Lua), actor `system` | desk (alert under the card and to the supervisors), forward |
//! | `acknowledged` | `ack_ms` | desk buttons, callback API (`store::Store::transition`, Lua) | desk (redraws the card), notify, forward |
//! | `claimed` | `claim_ms` | desk buttons, callback API (transition) | desk, forward |
//! | `closed` | `close_ms`, `disposition` | desk buttons, callback API (transition) | desk, notify (ends answer mode), forward |
//! | `escalated` | – | desk button, SLA timer (actor `sla`) | forward |
//! | `info_requested` | `text` | officer's reply to a card, callback `ask` | notify (relays the question), forward |
//! | `citizen_replied` | `text` | the submit commit (Lua) when a citizen in answer mode writes | desk (posts it under the card), forward |
//! | `noted` | `text` | callback `note` | desk (posts it under the card), forward |
//! | `purged` | – | the retention purge (`purge.lua`, `crate::retention`), actor `system:retention` | forward (the triage service deletes its copy) |
//!
//! `ack_ms`, `claim_ms` and `close_ms` repeat `at`: a transition's fields are set on the tip
//! hash and copied into its event by one script, so the event carries the tip's names for
//! them. Officers' names (`ack_by`, …) stay on the tip; events written before that rule may
//! still hold them, and decoding ignores any field it does not know.
//!
//! Exports and statistics read the tips, not this stream. DESIGN.md §3 also names `Reopened`;
//! nothing writes it yet, so it is not a variant. Adding a variant makes
//! every consumer's `match` fail to compile until it decides what to do with the new kind.
//!
//! Rust writers build a [`TipEvent`] and append it with [`crate::store::Store::events_append`],
//! which numbers it; a transition (`desk::actions::apply`) hands [`TipEvent::fields`] to the
//! transition script, which sets them on the tip and copies them into the event. The submit
//! commit (Lua) writes `submitted`, `hotspot` and `citizen_replied` itself, with the fields
//! above; a test (`tests/api/forward.rs`) decodes and re-encodes everything the scripts write.
//!
//! Decoding never panics: an unknown type or a missing or malformed field is a
//! [`DecodeError`] that names the field, never its value. The consumer groups skip an unknown
//! type and dead-letter a malformed event at once ([`crate::consumer`]); the forwarder
//! dead-letters both, since no body of them could follow the schema.

use std::collections::HashMap;

use crate::codes::ReceiptCode;
use crate::config::Priority;

/// What every event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The tip.
    pub code: ReceiptCode,
    /// Per-tip sequence number, from 1; 0 on an event not appended yet (the store numbers it).
    pub seq: u64,
    /// Who acted: a citizen's alias, `officer:<alias>`, `triage`, `sla` or `system`.
    pub actor: String,
    /// When, in unix ms.
    pub at: i64,
}

impl Head {
    /// The head of a new event, numbered when it is appended.
    pub fn new(code: ReceiptCode, actor: impl Into<String>, at: i64) -> Self {
        Self {
            code,
            seq: 0,
            actor: actor.into(),
            at,
        }
    }
}

/// One change of a tip (see the module documentation for who writes and reads each). Its
/// `Debug` shows what citizens and officers wrote: logs name `kind()` and `code()` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TipEvent {
    /// A citizen sent the tip (seq 1).
    Submitted {
        /// Code, seq, actor, time.
        head: Head,
        /// The priority triage gave it.
        priority: Priority,
    },
    /// This tip completed a cluster of tips of one category in one commune (điểm nóng).
    Hotspot {
        /// Code, seq, actor, time.
        head: Head,
        /// Commune id.
        commune: String,
        /// Category id.
        category: String,
        /// Citizens (distinct aliases) with tips in the window.
        count: u64,
        /// The window, in minutes.
        window_mins: u64,
        /// The tips of the cluster.
        codes: Vec<ReceiptCode>,
    },
    /// An officer or the triage service acknowledged the tip.
    Acknowledged {
        /// Code, seq, actor, time.
        head: Head,
    },
    /// An officer or the triage service took the tip on (in progress).
    Claimed {
        /// Code, seq, actor, time.
        head: Head,
    },
    /// The tip was closed.
    Closed {
        /// Code, seq, actor, time.
        head: Head,
        /// A `desk.dispositions` id.
        disposition: String,
    },
    /// The card went to the supervisors (an officer, or the SLA timer).
    Escalated {
        /// Code, seq, actor, time.
        head: Head,
    },
    /// A question for the citizen, relayed anonymously.
    InfoRequested {
        /// Code, seq, actor, time.
        head: Head,
        /// The question.
        text: String,
    },
    /// The citizen's answer.
    CitizenReplied {
        /// Code, seq, actor, time.
        head: Head,
        /// The answer.
        text: String,
    },
    /// A note from the triage service.
    Noted {
        /// Code, seq, actor, time.
        head: Head,
        /// The note.
        text: String,
    },
    /// The retention purge replaced the tip's content with a tombstone (the last event).
    Purged {
        /// Code, seq, actor, time.
        head: Head,
    },
}

/// Every `type` string, in the order of the variants.
pub const KINDS: [&str; 10] = [
    "submitted",
    "hotspot",
    "acknowledged",
    "claimed",
    "closed",
    "escalated",
    "info_requested",
    "citizen_replied",
    "noted",
    "purged",
];

/// Why a stream entry is not a [`TipEvent`]. Messages name fields, never their values, so
/// they may be logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// `type` is none of [`KINDS`] (or absent).
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// A field the type needs is absent.
    #[error("event field `{0}` is missing")]
    Missing(&'static str),
    /// A field does not parse.
    #[error("event field `{field}` is invalid: {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

impl TipEvent {
    /// The code, seq, actor and time.
    pub fn head(&self) -> &Head {
        match self {
            Self::Submitted { head, .. }
            | Self::Hotspot { head, .. }
            | Self::Acknowledged { head }
            | Self::Claimed { head }
            | Self::Closed { head, .. }
            | Self::Escalated { head }
            | Self::InfoRequested { head, .. }
            | Self::CitizenReplied { head, .. }
            | Self::Noted { head, .. }
            | Self::Purged { head } => head,
        }
    }

    /// The tip's code.
    pub fn code(&self) -> &ReceiptCode {
        &self.head().code
    }

    /// The `type` string on the stream.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Submitted { .. } => "submitted",
            Self::Hotspot { .. } => "hotspot",
            Self::Acknowledged { .. } => "acknowledged",
            Self::Claimed { .. } => "claimed",
            Self::Closed { .. } => "closed",
            Self::Escalated { .. } => "escalated",
            Self::InfoRequested { .. } => "info_requested",
            Self::CitizenReplied { .. } => "citizen_replied",
            Self::Noted { .. } => "noted",
            Self::Purged { .. } => "purged",
        }
    }

    /// The fields of this kind, after the head's (`type`, `code`, `seq`, `actor`, `at`).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Submitted { priority, .. } => vec![("priority", priority_name(*priority))],
            Self::Hotspot {
                commune,
                category,
                count,
                window_mins,
                codes,
                ..
            } => vec![
                ("commune", commune.clone()),
                ("category", category.clone()),
                ("count", count.to_string()),
                ("window_mins", window_mins.to_string()),
                (
                    "codes",
                    codes
                        .iter()
                        .map(ReceiptCode::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            ],
            Self::Acknowledged { head } => vec![("ack_ms", head.at.to_string())],
            Self::Claimed { head } => vec![("claim_ms", head.at.to_string())],
            Self::Closed { head, disposition } => vec![
                ("close_ms", head.at.to_string()),
                ("disposition", disposition.clone()),
            ],
            Self::Escalated { .. } | Self::Purged { .. } => Vec::new(),
            Self::InfoRequested { text, .. }
            | Self::CitizenReplied { text, .. }
            | Self::Noted { text, .. } => vec![("text", text.clone())],
        }
    }

    /// Every field of the stream entry, the head's first.
    pub fn encode(&self) -> Vec<(&'static str, String)> {
        let head = self.head();
        let mut out = vec![
            ("type", self.kind().to_owned()),
            ("code", head.code.as_str().to_owned()),
            ("seq", head.seq.to_string()),
            ("actor", head.actor.clone()),
            ("at", head.at.to_string()),
        ];
        out.extend(self.fields());
        out
    }

    /// The event a stream entry's fields hold. Fields it does not know are ignored.
    pub fn decode(fields: &HashMap<String, String>) -> Result<Self, DecodeError> {
        let f = Fields(fields);
        // The head is read after the type, so that an unknown type is reported as such.
        let head = || -> Result<Head, DecodeError> {
            Ok(Head {
                code: f.code("code")?,
                seq: f.number("seq")?,
                actor: f.text("actor")?,
                at: f.number("at")?,
            })
        };
        Ok(match fields.get("type").map_or("", String::as_str) {
            "submitted" => Self::Submitted {
                head: head()?,
                priority: f.priority("priority")?,
            },
            "hotspot" => Self::Hotspot {
                head: head()?,
                commune: f.text("commune")?,
                category: f.text("category")?,
                count: f.number("count")?,
                window_mins: f.number("window_mins")?,
                codes: f
                    .get("codes")?
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(|c| parse_code("codes", c))
                    .collect::<Result<_, _>>()?,
            },
            "acknowledged" => Self::Acknowledged { head: head()? },
            "claimed" => Self::Claimed { head: head()? },
            "closed" => Self::Closed {
                head: head()?,
                disposition: f.text("disposition")?,
            },
            "escalated" => Self::Escalated { head: head()? },
            "info_requested" => Self::InfoRequested {
                head: head()?,
                text: f.text("text")?,
            },
            "citizen_replied" => Self::CitizenReplied {
                head: head()?,
                text: f.text("text")?,
            },
            "noted" => Self::Noted {
                head: head()?,
                text: f.text("text")?,
            },
            "purged" => Self::Purged { head: head()? },
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        })
    }
}

/// A stream entry's fields, read with errors that name the field.
struct Fields<'a>(&'a HashMap<String, String>);

impl Fields<'_> {
    fn get(&self, field: &'static str) -> Result<&str, DecodeError> {
        self.0
            .get(field)
            .map(String::as_str)
            .ok_or(DecodeError::Missing(field))
    }

    fn text(&self, field: &'static str) -> Result<String, DecodeError> {
        self.get(field).map(str::to_owned)
    }

    fn number<T: std::str::FromStr>(&self, field: &'static str) -> Result<T, DecodeError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(field)?
            .parse()
            .map_err(|e: T::Err| DecodeError::Invalid {
                field,
                why: e.to_string(),
            })
    }

    fn code(&self, field: &'static str) -> Result<ReceiptCode, DecodeError> {
        parse_code(field, self.get(field)?)
    }

    fn priority(&self, field: &'static str) -> Result<Priority, DecodeError> {
        let raw = self.get(field)?;
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
            DecodeError::Invalid {
                field,
                why: "not low, normal, high or urgent".into(),
            }
        })
    }
}

fn parse_code(field: &'static str, raw: &str) -> Result<ReceiptCode, DecodeError> {
    ReceiptCode::parse(raw).map_err(|e| DecodeError::Invalid {
        field,
        why: e.to_string(),
    })
}

/// `high`, as the tip's JSON spells it.
fn priority_name(p: Priority) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
