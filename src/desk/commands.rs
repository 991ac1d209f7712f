//! Commands officers type in a duty group (DESIGN.md §5, a contract): `/pending` lists the
//! group's open tips oldest first, `/tip <code>` posts a tip's card again (and later edits go to
//! the new one; a tip that has no card yet gets one), `/stats` counts today's and this week's
//! tips. Only the listed officers (`desk.officers`) in configured duty groups get an answer
//! with content, sent with `protect_content`; other members are refused; elsewhere the bot
//! says it is not a duty group, at most once an hour per chat (a stranger's group flooding
//! commands gets one answer). A duty group gets at most `desk.commands_per_minute` answers a
//! minute, then one notice.

use chrono::{Datelike, Duration as Days, FixedOffset, TimeZone};
use teloxide::prelude::*;
use teloxide::types::ChatId;

use crate::channels::telegram::parse::GroupCommand;
use crate::channels::telegram::send::with_retries;
use crate::codes::ReceiptCode;
use crate::i18n::{Lang, Msg};
use crate::shared::Shared;
use crate::store::{PostedCard, TipStatus};

/// A chat that is not a duty group is told so at most once in this many seconds.
const REFUSAL_EVERY_SECS: u64 = 3600;

/// Most tips `/pending` lists.
const PENDING_MAX: usize = 30;

/// Handles a group command.
pub async fn on_command(shared: &Shared, cmd: GroupCommand) -> anyhow::Result<()> {
    let desk = &shared.settings.desk;
    if !matches!(cmd.name.as_str(), "pending" | "tip" | "stats") {
        return Ok(()); // Other bots' commands in a shared group are none of our business.
    }
    let lang = Lang::parse(&desk.lang).unwrap_or_default();
    let group = shared.store.group_configured(cmd.chat_id).await?;
    let configured = desk.enabled && (desk.is_desk_group(group) || group == desk.supervisor_group);
    if !configured
        && !shared
            .store
            .refusal_due(cmd.chat_id, REFUSAL_EVERY_SECS)
            .await?
    {
        tracing::debug!(command = %cmd.name, "group command outside a duty group; refused before");
        return Ok(());
    }
    if configured && !within_rate(shared, cmd.chat_id, lang).await? {
        return Ok(());
    }
    let text = if !configured {
        tracing::warn!(command = %cmd.name, "group command outside a duty group; refused");
        shared.texts.get(lang, "desk-not-allowed")
    } else if !desk.may_act(cmd.user_id) {
        tracing::warn!(command = %cmd.name, "group command by someone not on desk.officers; refused");
        shared.metrics.desk_refused("not_officer");
        shared.texts.get(lang, "desk-not-officer")
    } else {
        match cmd.name.as_str() {
            "pending" => pending(shared, &cmd, group, lang).await?,
            "tip" => return repost(shared, &cmd, group, lang).await,
            _ => stats(shared, group, lang).await?,
        }
    };
    say(shared, cmd.chat_id, text).await
}

/// Whether a duty group's command is answered: at most `desk.commands_per_minute` a minute
/// (by the app clock); the first one over is answered with a notice, the rest of the minute
/// with silence, so that a script in a duty group cannot keep the intake busy.
async fn within_rate(shared: &Shared, chat: i64, lang: Lang) -> anyhow::Result<bool> {
    let minute = shared.clock.now_ms().div_euclid(60_000);
    let count = shared.store.command_count(chat, minute).await?;
    let max = u64::from(shared.settings.desk.commands_per_minute);
    if count <= max {
        return Ok(true);
    }
    shared.metrics.commands_limited.inc();
    if count == max + 1 {
        tracing::warn!("a duty group sent too many commands this minute; told once");
        say(
            shared,
            chat,
            shared.texts.get(lang, "desk-commands-limited"),
        )
        .await?;
    }
    Ok(false)
}

/// The bot was added to group `chat`: unless it is a configured duty or supervisor group, the
/// bot leaves (`desk.leave_unknown_groups`), so that a stranger's group cannot use it.
pub async fn on_added(shared: &Shared, chat: i64) -> anyhow::Result<()> {
    let desk = &shared.settings.desk;
    let group = shared.store.group_configured(chat).await?;
    let configured = desk.enabled && (desk.is_desk_group(group) || group == desk.supervisor_group);
    if configured {
        tracing::info!("the bot was added to a duty group");
        return Ok(());
    }
    if !desk.leave_unknown_groups {
        tracing::warn!("the bot was added to a group that is not a duty group; staying silent");
        return Ok(());
    }
    tracing::warn!("the bot was added to a group that is not a duty group; leaving it");
    let bot = shared.telegram()?;
    with_retries(|| bot.leave_chat(ChatId(chat)).send()).await?;
    Ok(())
}

/// The officer who typed a command, as the audit trail names them (an alias).
fn actor(shared: &Shared, cmd: &GroupCommand) -> String {
    shared
        .vault
        .officer_actor(crate::privacy::Channel::Telegram, &cmd.user_id.to_string())
}

async fn say(shared: &Shared, chat: i64, text: String) -> anyhow::Result<()> {
    let bot = shared.telegram()?;
    with_retries(|| {
        bot.send_message(ChatId(chat), text.clone())
            .protect_content(true)
            .send()
    })
    .await?;
    Ok(())
}

/// `/pending`: the group's open tips, oldest first; the listing is written to the audit trail
/// (who asked, in which group, how many tips) before it is shown.
async fn pending(
    shared: &Shared,
    cmd: &GroupCommand,
    group: i64,
    lang: Lang,
) -> anyhow::Result<String> {
    let now = shared.clock.now_ms();
    let mut lines = Vec::new();
    for code in shared.store.open_list(group, PENDING_MAX).await? {
        let Ok(code) = ReceiptCode::parse(&code) else {
            continue;
        };
        let Some(tip) = shared.store.tip(&code).await? else {
            continue;
        };
        if tip.status == TipStatus::Closed {
            continue;
        }
        let category = shared.settings.category_label(&tip.category, lang);
        let state = match tip.status {
            TipStatus::Submitted => "pending-state-new",
            TipStatus::Acknowledged => "pending-state-acked",
            _ => "pending-state-claimed",
        };
        lines.push(
            shared.texts.render(
                lang,
                &Msg::new("pending-line")
                    .arg("code", &code)
                    .arg("category", category)
                    .arg(
                        "minutes",
                        ((now - tip.received_ms).max(0) / 60_000).to_string(),
                    )
                    .arg("state", shared.texts.get(lang, state)),
            ),
        );
    }
    let detail = format!("group {} {} tips", cmd.chat_id, lines.len());
    crate::audit::append(
        &shared.store,
        now,
        &actor(shared, cmd),
        "pending_listed",
        "",
        &detail,
    )
    .await?;
    if lines.is_empty() {
        return Ok(shared.texts.get(lang, "pending-none"));
    }
    Ok(format!(
        "{}\n{}",
        shared
            .texts
            .render(lang, &Msg::new("pending-head").arg("count", lines.len())),
        lines.join("\n")
    ))
}

/// `/tip <code>`: the tip's card, posted here. A tip is shown in the group its card is in, in
/// its duty group, and to the supervisors. Posted in the card's group or the tip's duty group,
/// it becomes the tip's card (later edits go to it), so a tip whose card was never posted (its
/// group was broken) gets one, once, and a card that went to the supervisors comes home; to
/// the supervisors otherwise it is a copy. `group` is the configured id of the chat.
async fn repost(shared: &Shared, cmd: &GroupCommand, group: i64, lang: Lang) -> anyhow::Result<()> {
    let code = cmd.arg.as_deref().and_then(|a| ReceiptCode::parse(a).ok());
    let tip = match &code {
        Some(code) => shared.store.tip(code).await?,
        None => None,
    };
    let Some(tip) = tip else {
        let text = shared.texts.get(lang, "desk-unknown-tip");
        return say(shared, cmd.chat_id, text).await;
    };
    let desk = &shared.settings.desk;
    let card = shared.store.card(tip.code.as_str()).await?;
    let duty = desk.group_for(&shared.settings, tip.commune.as_deref(), &tip.category);
    let card_here = card.is_some_and(|(chat, _, _)| chat == cmd.chat_id);
    let home = group == duty;
    if !card_here && !home && group != desk.supervisor_group {
        let text = shared.texts.get(lang, "desk-unknown-tip");
        return say(shared, cmd.chat_id, text).await;
    }
    // An officer asked for the tip's content: recorded before it is shown.
    let detail = format!("group {}", cmd.chat_id);
    let now = shared.clock.now_ms();
    let code = tip.code.as_str();
    crate::audit::append(
        &shared.store,
        now,
        &actor(shared, cmd),
        "tip_viewed",
        code,
        &detail,
    )
    .await?;
    let bot = shared.telegram()?;
    let text = super::card::render_with_state(&tip, shared, lang);
    let buttons = super::actions::buttons(&tip, shared);
    let sent = with_retries(|| {
        let mut req = bot
            .send_message(ChatId(cmd.chat_id), text.clone())
            .protect_content(true);
        if let Some(b) = &buttons {
            req = req.reply_markup(b.clone());
        }
        req.send()
    })
    .await?;
    let (chat, message, code) = (cmd.chat_id, sent.id.0, tip.code.as_str());
    if let Some((_, _, copied)) = card.filter(|_| card_here) {
        // Later edits go to the new card; the files are already under the first one, so
        // the count is kept and none is copied again.
        shared.store.card_message_set(chat, message, code).await?;
        shared.store.set_card(code, chat, message).await?;
        for _ in 0..copied {
            shared.store.card_copied(code).await?;
        }
    } else if home {
        // The tip's card is in its duty group now: a tip that had none gets one, a card that
        // went to the supervisors comes home. Its files follow on a replay of the desk.
        let record = PostedCard {
            code,
            chat,
            message,
            group: duty,
            received_ms: tip.received_ms,
            files_done: 0,
            astray: None,
        };
        let now = shared.clock.now_ms();
        shared.store.record_posted(&record, now).await?;
        tracing::info!(tip = %tip.code, "/tip posted the card in its duty group");
    } else {
        // A copy for the supervisors: its buttons work, the card stays where it is.
        shared.store.card_message_set(chat, message, code).await?;
    }
    Ok(())
}

async fn stats(shared: &Shared, group: i64, lang: Lang) -> anyhow::Result<String> {
    let offset = FixedOffset::east_opt(shared.settings.app.utc_offset_hours * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(7 * 3600).expect("+7 is a valid offset"));
    let now_ms = shared.clock.now_ms();
    let now = offset
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_else(|| {
            offset
                .timestamp_millis_opt(0)
                .single()
                .expect("epoch exists")
        });
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|d| offset.from_local_datetime(&d).single())
        .map_or(now_ms, |d| d.timestamp_millis());
    let week_start =
        midnight - Days::days(i64::from(now.weekday().num_days_from_monday())).num_milliseconds();
    let today = shared.store.tips_between(midnight, now_ms + 1).await?;
    let week = shared.store.tips_between(week_start, now_ms + 1).await?;
    let open = shared.store.open_list(group, 10_000).await?.len();
    Ok(shared.texts.render(
        lang,
        &Msg::new("stats")
            .arg("today", today)
            .arg("week", week)
            .arg("open", open),
    ))
}
