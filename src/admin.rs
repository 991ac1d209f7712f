//! Admins in chat and the weekly report. An admin (a Telegram id in `admin.users`), in a
//! private chat with the bot, sends `/export [2026-W47]` for the week's log as CSV and XLSX
//! documents, or `/stats [week]` for a short summary and a chart; anyone else is refused.
//!
//! The weekly report (summary, chart, CSV, XLSX) goes to `admin.report_chat` (or each admin)
//! at `admin.report_at` local time for the week that just ended: exactly once per week however
//! many replicas run (a lease in Redis, `{tl}:weekly:<week>`, then `done`), and as soon as
//! tipline is back if it was down at that time. A report that fails half-way gives its lease
//! back and is tried again; documents sent before the failure may then come twice.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{ChatId, InputFile};
use tokio_util::sync::CancellationToken;

use crate::channels::telegram::parse::GroupCommand;
use crate::channels::telegram::send::with_retries;
use crate::export::source::{Daily, Filter, export};
use crate::export::week::{self, Range};
use crate::export::{Format, Output, Summary, Writer};
use crate::i18n::{Lang, Msg};
use crate::privacy::Channel;
use crate::shared::Shared;

/// How long one replica may take to send a weekly report before another may try.
const WEEKLY_LEASE_MS: u64 = 10 * 60 * 1000;

/// A week's report, made in memory.
pub struct Report {
    /// The week.
    pub range: Range,
    /// Its numbers.
    pub summary: Summary,
    /// The log as CSV.
    pub csv: Vec<u8>,
    /// The log as XLSX.
    pub xlsx: Vec<u8>,
    /// Tips per day by category (PNG).
    pub chart: Vec<u8>,
    /// The audit chain's head once the report was made (its own export record included), so a
    /// later rewrite of the history is found with `audit verify --head`.
    pub audit_head: Option<(u64, String)>,
}

fn lang(shared: &Shared) -> Lang {
    Lang::parse(&shared.settings.desk.lang).unwrap_or_default()
}

/// Makes the report of `range` (audited as an export by `actor`).
pub async fn build(shared: &Shared, range: &Range, actor: &str) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let xlsx_path = dir.path().join("export.xlsx");
    let options = &shared.settings.export;
    let mut csv = Vec::new();
    let mut daily = Daily::default();
    let summary = {
        let mut csv_w = Writer::new(Format::Csv, Output::stream(&mut csv), options)?;
        let mut xlsx_w = Writer::new(Format::Xlsx, Output::path(&xlsx_path), options)?;
        export(
            shared.export_reads(),
            range,
            &Filter::default(),
            &mut [&mut csv_w, &mut xlsx_w],
            Some(&mut daily),
            actor,
        )
        .await?;
        csv_w.finish()?;
        xlsx_w.finish()?
    };
    let xlsx = std::fs::read(&xlsx_path)?;
    let audit_head = crate::audit::head(&shared.store).await?;
    let title = shared.texts.render(
        lang(shared),
        &Msg::new("admin-stats-title").arg("week", &range.label),
    );
    let series = daily.series(range, &shared.settings, title);
    // Rasterising takes a moment of CPU: off the async threads.
    let chart =
        tokio::task::spawn_blocking(move || crate::render::chart::chart_png(&series)).await??;
    Ok(Report {
        range: range.clone(),
        summary,
        csv,
        xlsx,
        chart,
        audit_head,
    })
}

fn span(shared: &Shared, range: &Range) -> (String, String) {
    let offset = shared.settings.app.utc_offset_hours;
    let day = |ms: i64| week::local_date(ms, offset).format("%d/%m/%Y").to_string();
    (day(range.from_ms), day(range.to_ms - 1))
}

async fn send_text(shared: &Shared, chat: i64, text: String) -> anyhow::Result<()> {
    let bot = shared.telegram()?;
    with_retries(|| bot.send_message(ChatId(chat), text.clone()).send()).await?;
    Ok(())
}

async fn send_chart(shared: &Shared, chat: i64, report: &Report) -> anyhow::Result<()> {
    let bot = shared.telegram()?;
    let name = format!("tipline-{}.png", report.range.label);
    with_retries(|| {
        bot.send_photo(
            ChatId(chat),
            InputFile::memory(report.chart.clone()).file_name(name.clone()),
        )
        .send()
    })
    .await?;
    Ok(())
}

async fn send_files(shared: &Shared, chat: i64, report: &Report) -> anyhow::Result<()> {
    let bot = shared.telegram()?;
    let (from, to) = span_of(shared, report);
    let caption = shared.texts.render(
        lang(shared),
        &Msg::new("admin-export-caption")
            .arg("week", &report.range.label)
            .arg("from", from)
            .arg("to", to)
            .arg("count", report.summary.total),
    );
    let caption = crate::channels::fit::truncate(&caption, crate::channels::fit::TELEGRAM_CAPTION)
        .into_owned();
    for (bytes, ext) in [(&report.csv, "csv"), (&report.xlsx, "xlsx")] {
        let name = format!("tipline-{}.{ext}", report.range.label);
        with_retries(|| {
            bot.send_document(
                ChatId(chat),
                InputFile::memory(bytes.clone()).file_name(name.clone()),
            )
            .caption(caption.clone())
            .send()
        })
        .await?;
    }
    Ok(())
}

fn span_of(shared: &Shared, report: &Report) -> (String, String) {
    span(shared, &report.range)
}

/// Handles `/export` or `/stats` typed in a private chat.
pub async fn on_command(shared: &Shared, cmd: GroupCommand) -> anyhow::Result<()> {
    let lang = lang(shared);
    if !shared.settings.admin.is_admin(cmd.user_id) {
        tracing::warn!(command = %cmd.name, "admin command from someone who is not an admin; refused");
        return send_text(shared, cmd.chat_id, shared.texts.get(lang, "admin-refused")).await;
    }
    let range = match cmd.arg.as_deref() {
        Some(arg) => match week::iso_week(arg, shared.settings.app.utc_offset_hours) {
            Ok(r) => r,
            Err(_) => {
                let text = shared
                    .texts
                    .render(lang, &Msg::new("admin-bad-week").arg("arg", arg));
                return send_text(shared, cmd.chat_id, text).await;
            }
        },
        None => week::last_full_week(shared.clock.now_ms(), shared.settings.app.utc_offset_hours),
    };
    let actor = admin_actor(shared, cmd.user_id);
    let report = match build(shared, &range, &actor).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "admin report failed");
            return send_text(shared, cmd.chat_id, shared.texts.get(lang, "admin-failed")).await;
        }
    };
    let res = if cmd.name == "stats" {
        match send_text(shared, cmd.chat_id, summary_text(shared, &report)).await {
            Ok(()) => send_chart(shared, cmd.chat_id, &report).await,
            Err(e) => Err(e),
        }
    } else {
        send_files(shared, cmd.chat_id, &report).await
    };
    match res {
        // Telegram will not take it (blocked, too large): retrying the update would not help.
        Err(e) if refused(&e) => {
            tracing::warn!(error = format!("{e:#}"), "admin report refused by Telegram");
            Ok(())
        }
        other => other,
    }
}

fn summary_text(shared: &Shared, report: &Report) -> String {
    let lang = lang(shared);
    let (from, to) = span_of(shared, report);
    let header = shared.texts.render(
        lang,
        &Msg::new("admin-weekly-header")
            .arg("week", &report.range.label)
            .arg("from", from)
            .arg("to", to),
    );
    let mut text = format!("{header}\n{}", report.summary.text(&shared.settings, lang));
    if let Some((n, hash)) = &report.audit_head {
        let head = Msg::new("admin-audit-head").arg("n", n).arg("hash", hash);
        text.push_str("\n\n");
        text.push_str(&shared.texts.render(lang, &head));
    }
    text
}

/// Whether `e` is the platform refusing the message for good (not worth a retry).
fn refused(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<crate::channels::SendError>(),
        Some(crate::channels::SendError::Refused(_) | crate::channels::SendError::Blocked)
    )
}

fn admin_actor(shared: &Shared, user: u64) -> String {
    let officer = shared
        .vault
        .officer_actor(Channel::Telegram, &user.to_string());
    format!(
        "admin:{}",
        officer.strip_prefix("officer:").unwrap_or(&officer)
    )
}

/// Sends the weekly report when it is due, until `shutdown`; checks every `every`.
pub async fn run_weekly(
    shared: std::sync::Arc<Shared>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let admin = &shared.settings.admin;
    let Some(after_week_mins) = admin.report_offset_mins() else {
        return;
    };
    loop {
        if let Err(e) = weekly_once(&shared, after_week_mins).await {
            tracing::warn!(
                error = format!("{e:#}"),
                "weekly report failed; trying again"
            );
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Sends the report of the week that just ended if it is due and nobody has; whether it did.
pub async fn weekly_once(shared: &Shared, after_week_mins: i64) -> anyhow::Result<bool> {
    let now = shared.clock.now_ms();
    let (range, due) =
        week::report_due_ms(now, shared.settings.app.utc_offset_hours, after_week_mins);
    if now < due {
        return Ok(false);
    }
    let store = &shared.store;
    if !store
        .weekly_claim(&range.label, &shared.instance, WEEKLY_LEASE_MS)
        .await?
    {
        return Ok(false);
    }
    let sent = async {
        let report = build(shared, &range, "system:weekly").await?;
        let admin = &shared.settings.admin;
        let chats: Vec<i64> = if admin.report_chat != 0 {
            vec![admin.report_chat]
        } else {
            admin.users.iter().map(|u| *u as i64).collect()
        };
        for chat in chats {
            // A chat that has it already (from a try that failed later) is not sent it again.
            if store.weekly_chat_done(&range.label, chat).await? {
                continue;
            }
            let res = async {
                send_text(shared, chat, summary_text(shared, &report)).await?;
                send_chart(shared, chat, &report).await?;
                send_files(shared, chat, &report).await
            }
            .await;
            match res {
                Ok(()) => {}
                // An admin who never opened the bot, or blocked it, cannot be reached by
                // trying again: the others still get it, once.
                Err(e) if refused(&e) => {
                    tracing::warn!(week = %range.label, error = format!("{e:#}"), "weekly report refused for one chat; skipped");
                }
                Err(e) => return Err(e),
            }
            store.weekly_chat_set(&range.label, chat).await?;
        }
        anyhow::Ok(())
    }
    .await;
    match sent {
        Ok(()) => {
            store.weekly_done(&range.label, &shared.instance).await?;
            tracing::info!(week = %range.label, "weekly report sent");
            Ok(true)
        }
        Err(e) => {
            store.weekly_release(&range.label, &shared.instance).await?;
            Err(e)
        }
    }
}
