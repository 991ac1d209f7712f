//! The officer desk (DESIGN.md §3): a consumer group on the events stream that posts one card
//! per submitted tip into the duty group its routing picks, then copies the tip's files under
//! the card (`copyMessage`, never a forward, so no sender is shown). An event is acknowledged
//! only after Telegram took the card and every file; the card's place is recorded first, so a
//! retried event never posts a second card, and the count of files copied is kept, so a retry
//! copies only the rest. An event that keeps failing goes to `dlq:desk`.
//!
//! Buttons on the card (acknowledge, claim, ask, escalate, close), SLA timers and the relay of
//! officers' questions come with the rest of the desk.

pub mod card;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ReplyParameters,
};
use tokio_util::sync::CancellationToken;

use crate::app::Shared;
use crate::channels::SendError;
use crate::channels::telegram::send::with_retries;
use crate::codes::ReceiptCode;
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::store::{EventEntry, Store, TipStatus};

/// Consumer group of the desk.
pub const GROUP: &str = "desk";
const CONSUMER: &str = "desk-1";
/// Failed attempts after which an event is dead-lettered.
const MAX_ATTEMPTS: u32 = 8;

/// The desk worker.
pub struct Desk {
    shared: Arc<Shared>,
    reader: Store,
    attempts: Mutex<HashMap<String, u32>>,
}

impl Desk {
    /// A worker with its own blocking connection; creates its consumer group.
    pub async fn new(shared: Arc<Shared>) -> anyhow::Result<Self> {
        shared
            .store
            .ensure_event_group(GROUP)
            .await
            .context("creating the desk consumer group")?;
        let reader = shared.store.blocking(Duration::from_secs(2)).await?;
        Ok(Self {
            shared,
            reader,
            attempts: Mutex::new(HashMap::new()),
        })
    }

    /// Processes events until `shutdown`, stopping only between events.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("desk started");
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            match self.try_process_next(1000).await {
                Ok(_) => failures = 0,
                Err(e) => {
                    failures += 1;
                    if format!("{e:#}").contains("NOGROUP")
                        && let Err(e) = self.shared.store.ensure_event_group(GROUP).await
                    {
                        tracing::warn!(error = %e, "recreating the desk group failed");
                    }
                    let wait = Duration::from_millis((100u64 << failures.min(6)).min(5000));
                    tracing::warn!(error = format!("{e:#}"), ?wait, "desk failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        tracing::info!("desk stopped");
    }

    /// Handles the next event (pending ones first); `Ok(false)` when there was none.
    pub async fn try_process_next(&self, block_ms: u64) -> anyhow::Result<bool> {
        let store = &self.reader;
        let mut events = store.events_read(GROUP, CONSUMER, true, 1, 0).await?;
        if events.is_empty() {
            events = store
                .events_read(GROUP, CONSUMER, false, 1, block_ms)
                .await?;
        }
        let Some(event) = events.pop() else {
            return Ok(false);
        };
        match self.handle(&event).await {
            Ok(()) => {
                self.attempts_lock().remove(&event.stream_id);
                self.shared
                    .store
                    .events_ack(GROUP, &event.stream_id)
                    .await?;
                Ok(true)
            }
            Err(e) => {
                let attempts = {
                    let mut map = self.attempts_lock();
                    let n = map.entry(event.stream_id.clone()).or_default();
                    *n += 1;
                    *n
                };
                if attempts >= MAX_ATTEMPTS {
                    tracing::error!(
                        tip = event.get("code"),
                        error = format!("{e:#}"),
                        "card given up; dead-lettered"
                    );
                    self.attempts_lock().remove(&event.stream_id);
                    self.shared
                        .store
                        .events_dead_letter(GROUP, &event, &format!("{e:#}"))
                        .await?;
                    return Ok(true);
                }
                Err(e)
            }
        }
    }

    fn attempts_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        // A poisoned map only lost a counter; it is still usable.
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn handle(&self, event: &EventEntry) -> anyhow::Result<()> {
        let sh = &self.shared;
        let kind = event.get("type");
        if !sh.settings.desk.enabled || !matches!(kind, "submitted" | "acknowledged") {
            return Ok(());
        }
        let code = ReceiptCode::parse(event.get("code")).context("event without a code")?;
        let Some(tip) = sh.store.tip(&code).await? else {
            tracing::warn!(tip = %code, "event of an unknown tip; skipped");
            return Ok(());
        };
        if kind == "acknowledged" {
            return self.refresh_card(&tip).await;
        }
        let bot = sh.telegram()?;
        let desk = &sh.settings.desk;
        let (chat, card, copied) = match sh.store.card(code.as_str()).await? {
            Some(found) => found,
            None => {
                let group = desk.group_for(&sh.settings, tip.commune.as_deref(), &tip.category);
                let lang = Lang::parse(&desk.lang).unwrap_or_default();
                let text = card::render(
                    &tip,
                    &sh.settings,
                    &sh.texts,
                    lang,
                    &sh.local_time(tip.received_ms),
                );
                let buttons = self.buttons(&tip);
                let sent = with_retries(|| {
                    let mut req = bot.send_message(ChatId(group), text.clone());
                    if let Some(b) = &buttons {
                        req = req.reply_markup(b.clone());
                    }
                    req.send()
                })
                .await
                .map_err(|e| card_error(e, group))?;
                sh.store.set_card(code.as_str(), group, sent.id.0).await?;
                tracing::info!(tip = %code, "card posted");
                (group, sent.id.0, 0)
            }
        };
        if desk.minimal_cards || copied >= tip.evidence.len() {
            return Ok(());
        }
        let from = match sh.store.route(&tip.alias).await? {
            Some(sealed) => sh.vault.open_route(&sealed).ok(),
            None => None,
        };
        let Some(from) = from.filter(|r| r.channel == Channel::Telegram) else {
            tracing::warn!(tip = %code, "no route to the citizen's chat; files not copied");
            return Ok(());
        };
        let from_chat: i64 = from.chat.parse().context("telegram chat id")?;
        for evidence in &tip.evidence[copied..] {
            if let Some(message) = evidence.message_id {
                let res = with_retries(|| {
                    bot.copy_message(ChatId(chat), ChatId(from_chat), MessageId(message as i32))
                        .reply_parameters(ReplyParameters::new(MessageId(card)))
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
    /// The buttons a card shows in the tip's state: "Acknowledge" until somebody has.
    fn buttons(&self, tip: &crate::store::Tip) -> Option<InlineKeyboardMarkup> {
        let lang = Lang::parse(&self.shared.settings.desk.lang).unwrap_or_default();
        (tip.status == TipStatus::Submitted).then(|| {
            InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
                self.shared.texts.get(lang, "button-desk-ack"),
                format!("dk:ack:{}", tip.code),
            )]])
        })
    }

    /// Edits a card to show the tip's state now: who acknowledged it, when, and how long
    /// after it came in; the buttons follow the state.
    async fn refresh_card(&self, tip: &crate::store::Tip) -> anyhow::Result<()> {
        let sh = &self.shared;
        let Some((chat, message, _)) = sh.store.card(tip.code.as_str()).await? else {
            // The card is not posted yet; posting it will show the state.
            return Ok(());
        };
        let lang = Lang::parse(&sh.settings.desk.lang).unwrap_or_default();
        let mut text = card::render(
            tip,
            &sh.settings,
            &sh.texts,
            lang,
            &sh.local_time(tip.received_ms),
        );
        if let Some(at) = tip.acknowledged_ms {
            let minutes = ((at - tip.received_ms).max(0) / 60_000).to_string();
            text.push('\n');
            text.push_str(
                &sh.texts.render(
                    lang,
                    &crate::i18n::Msg::new("card-acked")
                        .arg("officer", tip.acknowledged_by.as_deref().unwrap_or("?"))
                        .arg("time", sh.local_time(at))
                        .arg("minutes", minutes),
                ),
            );
        }
        let bot = sh.telegram()?;
        let buttons = self.buttons(tip);
        let res = with_retries(|| {
            let mut req = bot.edit_message_text(ChatId(chat), MessageId(message), text.clone());
            if let Some(b) = &buttons {
                req = req.reply_markup(b.clone());
            }
            req.send()
        })
        .await;
        match res {
            // "message is not modified": a retried event; the card already shows this.
            Ok(_) | Err(SendError::Refused(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn card_error(e: SendError, group: i64) -> anyhow::Error {
    match e {
        SendError::Blocked => anyhow::anyhow!(
            "the bot cannot post to group {group}: is it a member, and is desk.routes right?"
        ),
        other => other.into(),
    }
}
