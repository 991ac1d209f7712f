//! One exported tip: a stored [`Tip`] joined with the configuration (names, labels, SLA) and
//! cut down to what an export may show. Building a row is the only place that decides what
//! leaves the system, so the privacy rules of `docs/export.md` live here.

use chrono::{DateTime, FixedOffset, Offset, Utc};

use super::columns::{Cell, Col};
use super::{DescriptionMode, ExportOptions};
use crate::config::{Priority, Settings, SlaSettings};
use crate::conversation::Place;
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::rules::pii;
use crate::store::{Tip, TipStatus};

/// The description cell of a tip whose content the retention purge deleted.
pub const PURGED_DESCRIPTION: &str = "[đã xoá sau thời hạn lưu giữ / purged after retention]";

/// What a row needs besides the tip.
#[derive(Debug, Clone)]
pub struct RowContext<'a> {
    /// Names, labels, SLA minutes and the local time zone.
    pub settings: &'a Settings,
    /// What the export may reveal.
    pub options: &'a ExportOptions,
    /// The acting unit, written in the `unit` column of every row.
    pub unit: Option<String>,
    /// The time of the export (ms since the epoch): an unanswered tip past its SLA by then
    /// counts as breached.
    pub now_ms: i64,
}

/// One exported tip, with the values of the columns in `docs/export.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Receipt code.
    pub code: String,
    /// When it was received, in local time, to the second.
    pub received_at: DateTime<FixedOffset>,
    /// The channel it came through.
    pub channel: Channel,
    /// Mailbox code, when reported through a Hòm thư.
    pub mailbox: Option<String>,
    /// Where that mailbox hangs, when it is still configured.
    pub mailbox_name: Option<String>,
    /// Commune id, when known.
    pub commune: Option<String>,
    /// Commune name, when the id is configured.
    pub commune_name: Option<String>,
    /// The province (`app.province`), when configured.
    pub province: Option<String>,
    /// Category id.
    pub category: String,
    /// Vietnamese category label (the id for a category no longer configured).
    pub category_label: String,
    /// Priority after triage.
    pub priority: Priority,
    /// The text matched an emergency pattern.
    pub emergency: bool,
    /// Where the tip stands.
    pub status: TipStatus,
    /// Disposition id, when closed.
    pub disposition: Option<String>,
    /// Vietnamese disposition label (the id for one no longer configured).
    pub disposition_label: Option<String>,
    /// Minutes from receipt to the first officer action (acknowledge, claim or close), one
    /// decimal; `None` when nobody acted yet.
    pub minutes_to_ack: Option<f64>,
    /// Minutes from receipt to closing, one decimal; `None` while open.
    pub minutes_to_close: Option<f64>,
    /// The first officer action came later than the priority's `desk.sla` minutes, or has not
    /// come and that time had passed at export time.
    pub sla_breached: bool,
    /// The acting unit.
    pub unit: Option<String>,
    /// Number of attached files.
    pub evidence_count: u64,
    /// The earlier tip this one very likely repeats.
    pub duplicate_of: Option<String>,
    /// The description as `options.description` allows; `None` when omitted.
    pub description: Option<String>,
    /// The citizen's alias; `None` unless `options.include_alias`.
    pub alias: Option<String>,
}

impl Row {
    /// Builds the exported row of `tip`.
    pub fn from_tip(tip: &Tip, ctx: &RowContext) -> Row {
        let settings = ctx.settings;
        let mailbox = tip.mailbox.as_deref().and_then(|m| settings.mailbox(m));
        let commune_id = commune_of(tip, settings, mailbox.map(|m| m.commune.as_str()));
        let commune = commune_id.as_deref().and_then(|c| settings.commune(c));
        let timing = Timing::of(tip, &settings.desk.sla, ctx.now_ms);
        Row {
            code: tip.code.as_str().to_owned(),
            received_at: local_time(tip.received_ms, settings.app.utc_offset_hours),
            channel: tip.channel,
            mailbox: tip.mailbox.clone(),
            mailbox_name: mailbox.map(|m| m.name.clone()),
            commune: commune_id,
            commune_name: commune.map(|c| c.name.clone()),
            province: Some(settings.app.province.trim().to_owned()).filter(|p| !p.is_empty()),
            category: tip.category.clone(),
            category_label: settings.category_label(&tip.category, Lang::Vi),
            priority: tip.priority,
            emergency: tip.emergency,
            status: tip.status,
            disposition: tip.disposition.clone(),
            disposition_label: tip
                .disposition
                .as_deref()
                .map(|d| disposition_vi(settings, d)),
            minutes_to_ack: timing.to_first_action,
            minutes_to_close: timing.to_close,
            sla_breached: timing.sla_breached,
            unit: ctx.unit.clone(),
            evidence_count: tip.evidence.len() as u64,
            duplicate_of: tip.duplicate_of.clone(),
            description: match tip.purged_ms {
                // The tombstone keeps no text: the row says why the cell is empty.
                Some(_) if ctx.options.description != DescriptionMode::Omit => {
                    Some(PURGED_DESCRIPTION.to_owned())
                }
                _ => description(&tip.description, ctx.options.description),
            },
            alias: ctx.options.include_alias.then(|| tip.alias.clone()),
        }
    }

    /// The typed value of `col`.
    pub(crate) fn cell(&self, col: Col) -> Cell<'_> {
        match col {
            Col::Code => Cell::Text(&self.code),
            Col::ReceivedAt => Cell::Time(&self.received_at),
            Col::Channel => Cell::Text(channel_id(self.channel)),
            Col::Mailbox => Cell::text(self.mailbox.as_deref()),
            Col::MailboxName => Cell::text(self.mailbox_name.as_deref()),
            Col::Commune => Cell::text(self.commune.as_deref()),
            Col::CommuneName => Cell::text(self.commune_name.as_deref()),
            Col::Province => Cell::text(self.province.as_deref()),
            Col::Category => Cell::Text(&self.category),
            Col::CategoryLabel => Cell::Text(&self.category_label),
            Col::Priority => Cell::Text(priority_id(self.priority)),
            Col::Emergency => Cell::Bool(self.emergency),
            Col::Status => Cell::Text(status_id(self.status)),
            Col::Disposition => Cell::text(self.disposition.as_deref()),
            Col::DispositionLabel => Cell::text(self.disposition_label.as_deref()),
            Col::MinutesToAck => Cell::minutes(self.minutes_to_ack),
            Col::MinutesToClose => Cell::minutes(self.minutes_to_close),
            Col::SlaBreached => Cell::Bool(self.sla_breached),
            Col::Unit => Cell::text(self.unit.as_deref()),
            Col::EvidenceCount => Cell::Count(self.evidence_count),
            Col::DuplicateOf => Cell::text(self.duplicate_of.as_deref()),
            Col::Description => Cell::text(self.description.as_deref()),
            Col::Alias => Cell::text(self.alias.as_deref()),
        }
    }
}

/// How fast officers answered a tip.
struct Timing {
    to_first_action: Option<f64>,
    to_close: Option<f64>,
    sla_breached: bool,
}

impl Timing {
    /// The first action is whichever of acknowledge, claim and close came first: the desk's
    /// SLA timer stops at any of them.
    fn of(tip: &Tip, sla: &SlaSettings, now_ms: i64) -> Self {
        let first_action = [tip.acknowledged_ms, tip.claimed_ms, tip.closed_ms]
            .into_iter()
            .flatten()
            .min();
        let sla_ms = sla_minutes(sla, tip.priority).saturating_mul(60_000);
        let waited_ms = first_action
            .unwrap_or(now_ms)
            .saturating_sub(tip.received_ms);
        Timing {
            to_first_action: first_action.map(|t| minutes_between(tip.received_ms, t)),
            to_close: tip.closed_ms.map(|t| minutes_between(tip.received_ms, t)),
            sla_breached: waited_ms > sla_ms,
        }
    }
}

/// The commune a tip is in: as stored, else the picked place, else its mailbox's.
/// The tip's commune by its current id (a tip of a unit merged since counts for the new one).
fn commune_of(tip: &Tip, settings: &Settings, mailbox_commune: Option<&str>) -> Option<String> {
    let id = match (&tip.commune, &tip.place) {
        (Some(c), _) => c.as_str(),
        (None, Place::Commune { id }) => id.as_str(),
        (None, _) => mailbox_commune?,
    };
    Some(settings.commune_id(id).to_owned())
}

/// Minutes a tip of `priority` may wait for an officer (as the desk's SLA timers count).
pub(crate) fn sla_minutes(sla: &SlaSettings, priority: Priority) -> i64 {
    let minutes = match priority {
        Priority::Urgent => sla.urgent,
        Priority::High => sla.high,
        Priority::Normal => sla.normal,
        Priority::Low => sla.low,
    };
    i64::try_from(minutes).unwrap_or(i64::MAX)
}

/// `ms` in the local time of `offset_hours`, cut to the whole second that every format shows.
pub(crate) fn local_time(ms: i64, offset_hours: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_hours.saturating_mul(3600)).unwrap_or(Utc.fix());
    DateTime::<Utc>::from_timestamp_millis(ms.div_euclid(1000) * 1000)
        .unwrap_or_default()
        .with_timezone(&offset)
}

/// Minutes from `from_ms` to `to_ms`, rounded to one decimal; never negative, so that clocks
/// of different replicas a little apart do not produce negative durations.
fn minutes_between(from_ms: i64, to_ms: i64) -> f64 {
    let minutes = (to_ms.saturating_sub(from_ms)).max(0) as f64 / 60_000.0;
    (minutes * 10.0).round() / 10.0
}

fn disposition_vi(settings: &Settings, id: &str) -> String {
    settings
        .desk
        .dispositions
        .iter()
        .find(|d| d.id == id)
        .map_or_else(|| id.to_owned(), |d| d.vi.clone())
}

fn description(text: &str, mode: DescriptionMode) -> Option<String> {
    match mode {
        DescriptionMode::Full => Some(text.to_owned()),
        DescriptionMode::Redacted => Some(pii::redact(text)),
        DescriptionMode::Omit => None,
    }
}

/// The id of a channel, as stored.
pub(crate) fn channel_id(channel: Channel) -> &'static str {
    match channel {
        Channel::Telegram => "telegram",
        Channel::Zalo => "zalo",
    }
}

/// The id of a priority, as in the configuration.
pub(crate) fn priority_id(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

/// The id of a status, as stored.
pub(crate) fn status_id(status: TipStatus) -> &'static str {
    match status {
        TipStatus::Submitted => "submitted",
        TipStatus::Acknowledged => "acknowledged",
        TipStatus::InProgress => "in_progress",
        TipStatus::Closed => "closed",
    }
}
