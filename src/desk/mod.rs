//! The officer desk (DESIGN.md §3): a consumer group on the events stream that posts one card
//! per submitted tip into the duty group its routing picks, then copies the tip's files under
//! the card (`copyMessage`, never a forward, so no sender is shown; documents and Zalo files are
//! downloaded, cleaned of their metadata and uploaded under the tip's name instead, see
//! [`files`]). An event is acknowledged
//! only after Telegram took the card and every file. The card's place is recorded as soon as
//! Telegram took it (one MULTI with the group's open list), so a retried event does not post a
//! second card, unless the crash fell between Telegram's answer and that write; the count of
//! files copied is kept, so a retry copies only the rest. An event that keeps failing goes to `dlq:desk` (see [`crate::consumer`]).
//! A card the duty group refuses for good goes to the supervisors, or as an outline, or to
//! `dlq:desk` at once ([`fallback`]); [`replay`] posts it in its duty group once it is fixed.
//!
//! The card's buttons (acknowledge, claim, close with a disposition) are in [`actions`]; every
//! state change comes back here as an event and the card is redrawn from the tip. Asking the
//! citizen, escalation and SLA timers come with the rest of the desk. New citizens' tips over
//! the hourly ceilings wait for their group's summary card instead ([`summary`]).

pub mod actions;
pub mod card;
pub mod commands;
pub mod fallback;
pub mod files;
pub mod relay;
pub mod replay;
pub mod sla;
pub mod summary;

use std::sync::Arc;

use anyhow::Context;
use teloxide::prelude::*;
use teloxide::types::{ChatId, MessageId};

use crate::channels::telegram::send::with_retries;
use crate::channels::{SendError, fit};
use crate::codes::ReceiptCode;
use crate::consumer::Handler;
use crate::events::TipEvent;
use crate::i18n::{Lang, Msg};
use crate::privacy::Channel;
use crate::shared::Shared;
use crate::store::Tip;

/// The desk's handler of events.
pub struct Desk {
    shared: Arc<Shared>,
}

impl Desk {
    /// The desk of this process.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl Handler for Desk {
    const GROUP: &'static str = "desk";

    async fn handle(&self, stream_id: &str, event: &TipEvent) -> anyhow::Result<()> {
        self.on_event(stream_id, event).await
    }
}

impl Desk {
    /// Tells the tip's duty group (under its card) and the supervisors that tips of one
    /// category are piling up in one commune.
    async fn post_hotspot(
        &self,
        tip: &Tip,
        commune: &str,
        category: &str,
        count: u64,
        window_mins: u64,
        codes: &[ReceiptCode],
    ) -> anyhow::Result<()> {
        let sh = &self.shared;
        let lang = Lang::parse(&sh.settings.desk.lang).unwrap_or_default();
        let commune = sh
            .settings
            .commune(commune)
            .map_or_else(|| commune.to_owned(), |c| c.name.clone());
        let codes: Vec<&str> = codes.iter().map(ReceiptCode::as_str).collect();
        let msg = Msg::new("desk-hotspot")
            .arg("count", count.to_string())
            .arg("category", sh.settings.category_label(category, lang))
            .arg("commune", commune)
            .arg("hours", window_mins.div_ceil(60))
            .arg("tips", codes.len())
            .arg("codes", codes.join(", "));
        summary::under_card_or_in_group(sh, tip, &msg).await?;
        if sh.settings.desk.supervisor_group != 0 {
            let text = fit::truncate(&sh.texts.render(lang, &msg), fit::TELEGRAM_TEXT).into_owned();
            let bot = sh.telegram()?;
            to_group(sh, sh.settings.desk.supervisor_group, |chat| {
                bot.send_message(ChatId(chat), text.clone())
                    .protect_content(true)
                    .send()
            })
            .await?;
        }
        tracing::info!(tip = %tip.code, "hotspot alert posted");
        Ok(())
    }

    /// Does the desk's work for `event` (stream entry `stream_id`).
    pub async fn on_event(&self, stream_id: &str, event: &TipEvent) -> anyhow::Result<()> {
        let sh = &self.shared;
        if !sh.settings.desk.enabled {
            return Ok(());
        }
        let code = event.code();
        let Some(tip) = sh.store.tip(code).await? else {
            tracing::warn!(tip = %code, "event of an unknown tip; skipped");
            return Ok(());
        };
        // A tip purged before its events reached the desk gets no card, relay or alert.
        if tip.purged_ms.is_some() {
            return Ok(());
        }
        match event {
            // A new citizen's tip over the ceiling waits for its group's summary card.
            TipEvent::Submitted { .. } if summary::listed(sh, &tip).await? => Ok(()),
            TipEvent::Submitted { .. } => {
                let fallback = fallback::Fallback::Supervisors(event, stream_id);
                self.post_card(&tip, fallback).await
            }
            TipEvent::Acknowledged { .. } | TipEvent::Claimed { .. } | TipEvent::Closed { .. } => {
                if tip.status == crate::store::TipStatus::Closed {
                    if let Some((chat, _, _)) = sh.store.card(code.as_str()).await? {
                        sh.store.open_remove(chat, code.as_str()).await?;
                    }
                    // Dealt with: its card no longer needs to reach its duty group.
                    sh.store.offduty_remove(code.as_str()).await?;
                }
                self.refresh_card(&tip).await
            }
            TipEvent::CitizenReplied { text, .. } => relay::post_answer(sh, &tip, text).await,
            TipEvent::Noted { text, .. } => {
                let text = if sh.settings.desk.minimal_cards {
                    crate::rules::pii::redact(text)
                } else {
                    text.clone()
                };
                let msg = Msg::new("desk-triage-note")
                    .arg("code", &tip.code)
                    .arg("text", text);
                relay::post_under_card(sh, &tip, &msg).await
            }
            TipEvent::Hotspot {
                commune,
                category,
                count,
                window_mins,
                codes,
                ..
            } => {
                self.post_hotspot(&tip, commune, category, *count, *window_mins, codes)
                    .await
            }
            // Past retention: a card older than Telegram's 48 hours cannot be deleted by the
            // bot, and the purge already removed what linked the group's messages to the tip.
            TipEvent::Purged { .. } => Ok(()),
            // The escalation posted to the supervisors itself; a question is the notifier's
            // to relay, and the officer who asked was answered in the group.
            TipEvent::Escalated { .. } | TipEvent::InfoRequested { .. } => Ok(()),
        }
    }

    /// Posts the card of a submitted tip (once; where it can, see [`fallback`]) and copies its
    /// files under the card. The SLA timer starts first, due from the tip's submit time, so
    /// that a card posted late is due the sooner and one that cannot be posted is still
    /// announced and escalated. With [`fallback::Fallback::None`] (a replay), a card outside
    /// its duty group is posted again there.
    pub(crate) async fn post_card(
        &self,
        tip: &Tip,
        fallback: fallback::Fallback<'_>,
    ) -> anyhow::Result<()> {
        let sh = &self.shared;
        let code = &tip.code;
        let bot = sh.telegram()?;
        let desk = &sh.settings.desk;
        sla::start(sh, tip).await?;
        let found = match sh.store.card(code.as_str()).await? {
            Some(found) if matches!(fallback, fallback::Fallback::None) => {
                let astray = sh.store.card_astray(code.as_str()).await?;
                astray.is_none().then_some(found)
            }
            found => found,
        };
        let (chat, card, copied) = match found {
            Some(found) => found,
            None => {
                let placed = self.place_card(tip, fallback).await?;
                let copied = if placed.outline {
                    tip.evidence.len()
                } else {
                    0
                };
                (placed.chat, placed.message, copied)
            }
        };
        if desk.minimal_cards || copied >= tip.evidence.len() {
            return Ok(());
        }
        if sh.channels.capabilities(tip.channel).files == crate::channels::Files::Links {
            return self.upload_files(tip, chat, card, copied).await;
        }
        let from = match sh.store.route(&tip.alias).await? {
            Some(sealed) => sh.vault.open_route(&sealed).ok(),
            None => None,
        };
        // Copying a message needs both chats on Telegram, where the duty groups are by design.
        let Some(from) = from.filter(|r| r.channel == Channel::Telegram) else {
            tracing::warn!(tip = %code, "no route to the citizen's chat; files not copied");
            return Ok(());
        };
        let from_chat: i64 = from.chat.parse().context("telegram chat id")?;
        for (i, evidence) in tip.evidence.iter().enumerate().skip(copied) {
            if !files::copied_as_is(evidence) {
                // A document may be a photo sent "as a file", EXIF GPS and name included.
                files::upload_one(sh, tip, i, chat, card).await?;
            } else if let Some(message) = evidence.message_id {
                let res = with_retries(|| {
                    bot.copy_message(ChatId(chat), ChatId(from_chat), MessageId(message as i32))
                        .reply_parameters(crate::channels::telegram::reply_to(card))
                        .protect_content(true)
                        .send()
                })
                .await;
                match res {
                    Ok(_) => {}
                    // The citizen deleted the message, or Telegram refuses this copy: the card
                    // still says how many files there were; the rest are copied.
                    Err(SendError::Refused(_)) | Err(SendError::Blocked) => {
                        tracing::warn!(tip = %code, "a file could not be copied; skipped");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            sh.store.card_copied(code.as_str()).await?;
        }
        Ok(())
    }
}

impl Desk {
    /// Zalo files are links that do not last: each is fetched now, cleaned and uploaded under
    /// the card (Telegram cannot copy a Zalo message), so the group keeps it.
    async fn upload_files(
        &self,
        tip: &Tip,
        chat: i64,
        card: i32,
        copied: usize,
    ) -> anyhow::Result<()> {
        let sh = &self.shared;
        for i in copied..tip.evidence.len() {
            files::upload_one(sh, tip, i, chat, card).await?;
            sh.store.card_copied(tip.code.as_str()).await?;
        }
        Ok(())
    }

    /// Edits a card to show the tip's state now (who acted, when, how long after it came
    /// in); the buttons follow the state.
    async fn refresh_card(&self, tip: &crate::store::Tip) -> anyhow::Result<()> {
        let sh = &self.shared;
        let Some((chat, message, _)) = sh.store.card(tip.code.as_str()).await? else {
            // The card is not posted yet; posting it will show the state.
            return Ok(());
        };
        let lang = Lang::parse(&sh.settings.desk.lang).unwrap_or_default();
        let text = card::render_with_state(tip, sh, lang);
        let bot = sh.telegram()?;
        let buttons = actions::buttons(tip, sh);
        let res = to_group(sh, chat, |chat| {
            let mut req = bot.edit_message_text(ChatId(chat), MessageId(message), text.clone());
            if let Some(b) = &buttons {
                req = req.reply_markup(b.clone());
            }
            req.send()
        })
        .await;
        match res {
            Ok(_) => Ok(()),
            // "message is not modified": a retried event; the card already shows this.
            Err(e) if matches!(e.downcast_ref::<SendError>(), Some(SendError::Refused(_))) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

fn card_error(e: SendError, group: i64) -> anyhow::Error {
    match e {
        // The send error stays in the chain, so callers can tell a refusal for good.
        SendError::Blocked => anyhow::Error::new(e).context(format!(
            "the bot cannot post to group {group}: is it a member, and is desk.routes right?"
        )),
        other => other.into(),
    }
}

/// Sends to a duty group with the retry policy of [`with_retries`], following a migration
/// to a supergroup: the new id is recorded (`migrated:<old>`) and the call is made again there.
/// Returns the result and the id it went to.
pub async fn to_group<T, F, Fut>(
    shared: &Shared,
    group: i64,
    mut call: F,
) -> anyhow::Result<(T, i64)>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<T, teloxide::RequestError>>,
{
    let mut chat = shared.store.group_now(group).await?;
    for _ in 0..3 {
        match with_retries(|| call(chat)).await {
            Ok(v) => return Ok((v, chat)),
            Err(SendError::Migrated(new)) => {
                tracing::warn!("a duty group became a supergroup; its new id is recorded");
                shared.store.migrate_group(chat, new).await?;
                chat = new;
            }
            Err(e) => return Err(card_error(e, chat)),
        }
    }
    anyhow::bail!("the group kept moving")
}

/// Posts a tip's card, under `header`, to the supervisors' group. On failure the tip's
/// "escalated" mark is taken back, so that the escalation can be tried again.
pub async fn post_to_supervisors(
    shared: &Shared,
    tip: &crate::store::Tip,
    header: &crate::i18n::Msg,
) -> anyhow::Result<()> {
    let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
    let mut text = shared.texts.render(lang, header);
    text.push('\n');
    text.push_str(&card::render_with_state(tip, shared, lang));
    let text = fit::truncate(&text, fit::TELEGRAM_TEXT).into_owned();
    let bot = shared.telegram()?;
    let sent = to_group(shared, shared.settings.desk.supervisor_group, |chat| {
        bot.send_message(ChatId(chat), text.clone())
            .protect_content(true)
            .send()
    })
    .await;
    if let Err(e) = sent {
        shared.store.unmark_escalated(tip.code.as_str()).await?;
        return Err(e);
    }
    Ok(())
}

/// Why a file could not be fetched.
#[derive(Debug)]
pub enum Fetch {
    /// It will not come: the link answered 4xx, or the file is over the size limit.
    Gone(String),
    /// Try again later: no connection, a timeout, a 5xx.
    Failed(String),
}

/// Fetches a file the platform gave as a URL, at most `limits.evidence_max_bytes`.
pub async fn fetch(shared: &Shared, url: &str) -> Result<Vec<u8>, Fetch> {
    let failed = |e: reqwest::Error| Fetch::Failed(e.without_url().to_string());
    let mut resp = shared.http.get(url).send().await.map_err(failed)?;
    let status = resp.status();
    if status.is_client_error() {
        return Err(Fetch::Gone(format!("HTTP {}", status.as_u16())));
    }
    if !status.is_success() {
        return Err(Fetch::Failed(format!("HTTP {}", status.as_u16())));
    }
    let max = shared.settings.limits.evidence_max_bytes as usize;
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return Err(Fetch::Gone("larger than limits.evidence_max_bytes".into()));
        }
    }
    Ok(out)
}
