//! Retention (DESIGN.md §2.7): a tip's content is kept for `retention.closed_tip_days` after it
//! was closed, or `retention.open_tip_days` after it came for a tip never closed; then the
//! purge replaces it with a tombstone that keeps what statistics and exports read (code,
//! category, commune, mailbox, times, priority, status, disposition, channel kind) and
//! nothing else: no description, place text or pin, evidence references, contact, alias,
//! officers' names. The same step (`store::Store::purge_tip`, one script) removes the tip from
//! the citizen's lists, the sealed route with their last tip, the card links and file copies,
//! and appends the `purged` event that tells the triage service to delete its copy. Each purge
//! is written to the audit trail.
//!
//! After the tips, the events stream is trimmed up to what every consumer group has finished
//! (an event still pending or unread stays) and is a day old, and dead letters older than
//! `retention.dead_letter_days` go. The purge runs by itself every `retention.every_mins`, one
//! replica per period (a lease in Redis), and on demand (`tipline purge [--dry-run]`). A tip
//! is purged once: the script leaves a tombstone alone, so replicas racing change nothing.
//!
//! Failures: a Redis error stops the run; the next period tries again, and what was purged
//! stays purged. A tip purged whose audit record then failed to append is logged.

use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::RetentionSettings;
use crate::conversation::Place;
use crate::shared::Shared;
use crate::store::{DEAD_LETTER_GROUPS, PurgeTip, Purged, Tip, TipStatus};

/// The actor of scheduled purges in the audit trail.
pub const ACTOR: &str = "system:retention";

/// The actor of the `purged` event (the triage service sees `system`).
const EVENT_ACTOR: &str = "system";

const DAY_MS: i64 = 86_400_000;

/// Tips read per page while looking for due ones.
const PAGE: usize = 500;

/// When `tip`'s content is due to be purged (ms since the epoch).
pub fn due_ms(tip: &Tip, r: &RetentionSettings) -> i64 {
    let days = |d: u32| i64::from(d) * DAY_MS;
    match tip.status {
        // A tip closed before `closed_ms` was recorded counts from when it came.
        TipStatus::Closed => tip.closed_ms.unwrap_or(tip.received_ms) + days(r.closed_tip_days),
        _ => tip.received_ms + days(r.open_tip_days),
    }
}

/// Received before this, a tip may be due by `now_ms` (the shorter period, from receipt).
fn oldest_due_received_ms(r: &RetentionSettings, now_ms: i64) -> i64 {
    now_ms - i64::from(r.closed_tip_days.min(r.open_tip_days)) * DAY_MS
}

/// What is left of `tip` after the purge: what statistics and exports read.
pub fn tombstone(tip: &Tip, settings: &crate::config::Settings, now_ms: i64) -> Tip {
    let mailbox_commune = tip
        .mailbox
        .as_deref()
        .and_then(|m| settings.mailbox(m))
        .map(|m| m.commune.clone());
    let commune = tip.commune.clone().or_else(|| match &tip.place {
        Place::Commune { id } => Some(id.clone()),
        _ => mailbox_commune,
    });
    let place = match &tip.place {
        Place::Commune { .. } | Place::Mailbox { .. } => tip.place.clone(),
        // A pin or a typed address can point at the citizen's home.
        Place::Pin { .. } | Place::Text { .. } => Place::Text {
            text: String::new(),
        },
    };
    Tip {
        alias: String::new(),
        place,
        commune,
        description: String::new(),
        evidence: Vec::new(),
        contact_sealed: None,
        acknowledged_by: None,
        claimed_by: None,
        closed_by: None,
        purged_ms: Some(now_ms),
        ..tip.clone()
    }
}

/// Whether a run changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Purge and trim.
    Purge,
    /// List what would be purged; change nothing.
    DryRun,
}

/// A tip due for the purge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// Receipt code.
    pub code: String,
    /// Its status.
    pub status: TipStatus,
    /// When it became due (ms).
    pub due_ms: i64,
}

/// What a run did (or, dry, would do to tips).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The tips due.
    pub due: Vec<Due>,
    /// How many of them this run purged (0 in a dry run; fewer when another run was quicker).
    pub purged: u64,
    /// Events trimmed from the events stream.
    pub events_trimmed: u64,
    /// Dead letters trimmed.
    pub dead_letters_trimmed: u64,
}

/// The tips not purged yet whose retention ended by `now_ms`, oldest first.
pub async fn due_tips(shared: &Shared, now_ms: i64) -> anyhow::Result<Vec<Tip>> {
    let r = &shared.settings.retention;
    let until = oldest_due_received_ms(r, now_ms).saturating_add(1);
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let (read, tips) = shared
            .store
            .tips_page(i64::MIN, until, offset, PAGE)
            .await
            .context("reading tips")?;
        out.extend(
            tips.into_iter()
                .filter(|t| t.purged_ms.is_none() && due_ms(t, r) <= now_ms),
        );
        if read < PAGE {
            return Ok(out);
        }
        offset += read;
    }
}

/// One run: purges every due tip, then trims the streams (see the module). `actor` is who
/// the audit trail names.
pub async fn run_once(shared: &Shared, mode: Mode, actor: &str) -> anyhow::Result<Report> {
    let now = shared.clock.now_ms();
    let r = &shared.settings.retention;
    let tips = due_tips(shared, now).await?;
    let mut report = Report {
        due: tips
            .iter()
            .map(|t| Due {
                code: t.code.as_str().to_owned(),
                status: t.status,
                due_ms: due_ms(t, r),
            })
            .collect(),
        ..Report::default()
    };
    if mode == Mode::DryRun {
        return Ok(report);
    }
    for tip in &tips {
        if purge_one(shared, tip, now, actor).await? {
            report.purged += 1;
        }
    }
    report.events_trimmed = trim_events(shared, now).await?;
    report.dead_letters_trimmed = trim_dead_letters(shared, now).await?;
    let m = &shared.metrics;
    m.retention_purged.inc_by(report.purged);
    let trimmed = |what: &str| vec![("stream".to_owned(), what.to_owned())];
    m.retention_trimmed
        .get_or_create(&trimmed("events"))
        .inc_by(report.events_trimmed);
    m.retention_trimmed
        .get_or_create(&trimmed("dead_letters"))
        .inc_by(report.dead_letters_trimmed);
    tracing::info!(
        due = report.due.len(),
        purged = report.purged,
        events_trimmed = report.events_trimmed,
        dead_letters_trimmed = report.dead_letters_trimmed,
        "retention run"
    );
    Ok(report)
}

/// Purges one tip, with its audit record in the same script; whether this call did (not
/// another run).
async fn purge_one(shared: &Shared, tip: &Tip, now: i64, actor: &str) -> anyhow::Result<bool> {
    let code = tip.code.as_str();
    let tombstone = serde_json::to_string(&tombstone(tip, &shared.settings, now))?;
    let status = serde_json::to_value(tip.status)?;
    let status = status.as_str().unwrap_or_default();
    let purge = PurgeTip {
        code,
        alias: &tip.alias,
        channel: tip.channel,
        status,
        tombstone_json: &tombstone,
        actor: EVENT_ACTOR,
        at_ms: now,
    };
    let detail = format!("status={status}");
    for _ in 0..crate::audit::RETRIES {
        let record = crate::audit::next(&shared.store, now, actor, "purged", code, &detail).await?;
        let outcome = shared
            .store
            .purge_tip(&purge, &record)
            .await
            .with_context(|| format!("purging {code}"))?;
        match outcome {
            None => continue,
            Some(Purged::Done(_)) => {
                tracing::info!(tip = %code, "tip purged after retention");
                return Ok(true);
            }
            Some(_) => return Ok(false),
        }
    }
    anyhow::bail!("purging {code}: the audit head kept changing; nothing was purged")
}

/// How long a finished event stays on the stream, for operators to look at.
const EVENTS_KEPT_MS: i64 = DAY_MS;

/// Trims the events every consumer group has finished, once they are a day old.
async fn trim_events(shared: &Shared, now: i64) -> anyhow::Result<u64> {
    let store = &shared.store;
    let Some(finished) = store.events_finished_below().await? else {
        // No consumer group yet: nothing was read, nothing may go.
        return Ok(0);
    };
    let below = finished.min(((now - EVENTS_KEPT_MS).max(0) as u64, 0));
    Ok(store.trim_below(&store.keys().events(), below).await?)
}

/// Trims dead letters older than `retention.dead_letter_days`.
async fn trim_dead_letters(shared: &Shared, now: i64) -> anyhow::Result<u64> {
    let days = i64::from(shared.settings.retention.dead_letter_days);
    let below = (now - days * DAY_MS).max(0) as u64;
    let mut n = 0;
    for group in DEAD_LETTER_GROUPS {
        let dlq = shared.store.keys().dlq(group);
        n += shared.store.trim_below(&dlq, (below, 0)).await?;
    }
    Ok(n)
}

/// Runs the purge if it is this period's and no other replica took it; `None` when it did not run.
pub async fn tick(shared: &Shared) -> anyhow::Result<Option<Report>> {
    let r = &shared.settings.retention;
    if !r.enabled {
        return Ok(None);
    }
    let period = period(shared);
    let keep_secs = u64::from(r.every_mins.max(1)) * 120;
    let store = &shared.store;
    if !store
        .retention_claim(period, &shared.instance, keep_secs)
        .await?
    {
        return Ok(None);
    }
    match run_once(shared, Mode::Purge, ACTOR).await {
        Ok(report) => {
            store.retention_done(period).await?;
            Ok(Some(report))
        }
        Err(e) => {
            store.retention_release(period).await?;
            Err(e)
        }
    }
}

/// The number of the current purge period (`retention.every_mins` long, by the app clock).
fn period(shared: &Shared) -> i64 {
    let every_ms = i64::from(shared.settings.retention.every_mins.max(1)) * 60_000;
    shared.clock.now_ms() / every_ms
}

/// Whether no run of the current period is under way (tests wait for another replica's).
pub async fn settled(shared: &Shared) -> anyhow::Result<bool> {
    Ok(!shared.store.retention_running(period(shared)).await?)
}

/// The scheduled purge: [`tick`] every `every`, until shutdown.
pub async fn run(shared: std::sync::Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        if let Err(e) = tick(&shared).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "retention run failed; trying again"
            );
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests;
