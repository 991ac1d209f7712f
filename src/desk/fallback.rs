//! Every tip reaches a human (issue 13). A card its duty group refuses for good (the bot was
//! removed from the group, the group id is wrong, the bot may not write there, or Telegram
//! refuses the message itself) neither waits for ever nor vanishes. In order:
//!
//! 1. the full card in the duty group;
//! 2. when Telegram refused the message itself, not the chat: the card's outline there (code,
//!    category, commune, priority, time; no content), under a banner;
//! 3. the full card in the supervisors' group (`desk.supervisor_group`), under a banner saying
//!    which duty group would not take it and why, in plain words;
//! 4. the outline there, when the supervisors' group refuses the full card's content;
//! 5. nothing took it: the event is given up to `dlq:desk` at once ([`Undeliverable`]).
//!
//! A card posted outside its duty group is also listed in `dlq:desk`, with the error
//! `fallback: <reason>: …`, so that `tipline dlq replay --group desk` posts it in its duty
//! group once the group is fixed ([`super::replay`]). Until then the tip is counted in
//! `offduty` (`tipline_desk_cards_off_duty` on `/metrics`); every fallback is counted in
//! `tipline_desk_card_fallbacks_total{reason,to}`. A transient failure (network, 5xx, 429) is
//! no refusal: the event is retried as before.

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::ChatId;

use super::{Desk, actions, card};
use crate::channels::SendError;
use crate::channels::telegram::send::with_retries;
use crate::consumer::Undeliverable;
use crate::events::TipEvent;
use crate::i18n::{Lang, Msg};
use crate::shared::Shared;
use crate::store::{PostedCard, Tip};

/// Why a group will not take a message, for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The bot was removed from the group (kicked, or no longer a member).
    Kicked,
    /// Telegram does not know the chat: a wrong id, or a group the bot never was in.
    NotFound,
    /// The bot is in the group but may not write there.
    NoRights,
    /// Telegram refused the message itself (its length, its content), not the chat.
    Message,
}

impl Refusal {
    /// The label on metrics, logs and dead letters.
    pub fn label(self) -> &'static str {
        match self {
            Self::Kicked => "kicked",
            Self::NotFound => "chat_not_found",
            Self::NoRights => "no_rights",
            Self::Message => "message_refused",
        }
    }

    /// The reason in plain words, for the banner.
    fn words_id(self) -> &'static str {
        match self {
            Self::Kicked => "desk-fallback-why-kicked",
            Self::NotFound => "desk-fallback-why-not-found",
            Self::NoRights => "desk-fallback-why-no-rights",
            Self::Message => "desk-fallback-why-message",
        }
    }

    /// The refusal a Bot API error means, or `None` when it is no refusal (transient, moved).
    /// Telegram's descriptions are matched as it words them: teloxide knows some of them as
    /// variants and gives others back as text.
    pub fn of(err: &RequestError) -> Option<Self> {
        let RequestError::Api(api) = err else {
            return None;
        };
        let (kind, wait) = crate::channels::telegram::send::classify(err);
        if matches!(kind, SendError::Transient(_) | SendError::Migrated(_)) || wait.is_some() {
            return None;
        }
        let text = api.to_string().to_lowercase();
        Some(
            if text.contains("kicked") || text.contains("not a member") {
                Self::Kicked
            } else if text.contains("chat not found") {
                Self::NotFound
            } else if text.contains("rights") || text.starts_with("forbidden") {
                Self::NoRights
            } else {
                Self::Message
            },
        )
    }
}

/// A message a group did not take.
#[derive(Debug)]
pub enum Undelivered {
    /// Refused for good, for this reason.
    Refused(Refusal),
    /// Anything else (network, 5xx, Redis): worth another try later.
    Failed(anyhow::Error),
}

impl From<redis::RedisError> for Undelivered {
    fn from(e: redis::RedisError) -> Self {
        Self::Failed(e.into())
    }
}

/// Sends to a group as [`super::to_group`] does (retries, a migration followed), telling a
/// refusal for good, and why, from a failure worth another try.
pub async fn try_group<T, F, Fut>(
    shared: &Shared,
    group: i64,
    mut call: F,
) -> Result<(T, i64), Undelivered>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    let mut chat = shared.store.group_now(group).await?;
    for _ in 0..3 {
        // The last error's refusal: `with_retries` keeps only its class.
        let refusal = std::sync::Mutex::new(None);
        let res = with_retries(|| {
            let fut = call(chat);
            let refusal = &refusal;
            async move {
                let res = fut.await;
                if let Err(e) = &res {
                    *refusal.lock().unwrap_or_else(|p| p.into_inner()) = Refusal::of(e);
                }
                res
            }
        })
        .await;
        let refusal = refusal.into_inner().unwrap_or_else(|p| p.into_inner());
        match res {
            Ok(v) => return Ok((v, chat)),
            Err(SendError::Migrated(new)) => {
                tracing::warn!("a duty group became a supergroup; its new id is recorded");
                shared.store.migrate_group(chat, new).await?;
                chat = new;
            }
            Err(SendError::Blocked | SendError::Refused(_)) => {
                return Err(Undelivered::Refused(refusal.unwrap_or(Refusal::Message)));
            }
            Err(e) => return Err(Undelivered::Failed(e.into())),
        }
    }
    Err(Undelivered::Failed(anyhow::anyhow!(
        "the group kept moving"
    )))
}

/// Where a card went.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    /// The chat.
    pub chat: i64,
    /// The card's message id.
    pub message: i32,
    /// Only the outline: no files go under it.
    pub outline: bool,
}

/// What [`Desk::place_card`] does when the duty group refuses the card.
#[derive(Debug, Clone, Copy)]
pub enum Fallback<'a> {
    /// Post it to the supervisors (a submitted event, stream id), else give it up.
    Supervisors(&'a TipEvent, &'a str),
    /// Fail (a replay: the operator is told).
    None,
}

impl Desk {
    /// Posts a tip's card where a human sees it, and records it (see the module's list).
    /// An [`Undeliverable`] error when no group took it.
    pub(super) async fn place_card(
        &self,
        tip: &Tip,
        fallback: Fallback<'_>,
    ) -> anyhow::Result<Placed> {
        let sh = &self.shared;
        let desk = &sh.settings.desk;
        let lang = Lang::parse(&desk.lang).unwrap_or_default();
        let duty = desk.group_for(&sh.settings, tip.commune.as_deref(), &tip.category);
        let full = card::render_with_state(tip, sh, lang);
        let mut why = match self.send_card(duty, &full, tip).await {
            Ok((chat, message)) => return self.record(tip, duty, chat, message, false, None).await,
            Err(Undelivered::Failed(e)) => return Err(e),
            Err(Undelivered::Refused(why)) => why,
        };
        let outline = format!(
            "{}\n{}",
            sh.texts.get(lang, "desk-card-outline"),
            card::render_outline(tip, sh, lang)
        );
        if why == Refusal::Message {
            match self.send_card(duty, &outline, tip).await {
                Ok((chat, message)) => {
                    self.counted(tip, why, "duty_outline");
                    return self.record(tip, duty, chat, message, true, None).await;
                }
                Err(Undelivered::Failed(e)) => return Err(e),
                Err(Undelivered::Refused(again)) => why = again,
            }
        }
        let Fallback::Supervisors(event, stream_id) = fallback else {
            anyhow::bail!(
                "the duty group {duty} still refuses the card: {}",
                sh.texts.get(Lang::En, why.words_id())
            );
        };
        let supervisors = desk.supervisor_group;
        let banner = sh.texts.render(
            lang,
            &Msg::new("desk-fallback-banner")
                .arg("group", duty)
                .arg("why", sh.texts.get(lang, why.words_id())),
        );
        let mut refused_there = "none configured";
        if supervisors != 0 && supervisors != duty {
            let letter = |what: &str| {
                let mut fields: Vec<(String, String)> = event
                    .encode()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect();
                fields.push(("event_id".into(), stream_id.to_owned()));
                fields.push((
                    "error".into(),
                    format!(
                        "fallback: {}: posted to the supervisors' group ({what})",
                        why.label()
                    ),
                ));
                Some((why.label(), fields))
            };
            for (text, is_outline, to) in [
                (format!("{banner}\n{full}"), false, "supervisors"),
                (format!("{banner}\n{outline}"), true, "supervisors_outline"),
            ] {
                match self.send_card(supervisors, &text, tip).await {
                    Ok((chat, message)) => {
                        self.counted(tip, why, to);
                        let astray = letter(if is_outline { "outline" } else { "full card" });
                        return self
                            .record(tip, duty, chat, message, is_outline, astray)
                            .await;
                    }
                    Err(Undelivered::Failed(e)) => return Err(e),
                    Err(Undelivered::Refused(Refusal::Message)) => {
                        refused_there = Refusal::Message.label()
                    }
                    Err(Undelivered::Refused(other)) => {
                        refused_there = other.label();
                        break;
                    }
                }
            }
        }
        sh.store
            .offduty_add(tip.code.as_str(), sh.clock.now_ms())
            .await?;
        self.counted(tip, why, "dead_letter");
        Err(anyhow::Error::new(Undeliverable(format!(
            "no group took the card: duty group {duty}: {}; supervisors' group: {refused_there}",
            why.label()
        ))))
    }

    /// Sends a card text with the tip's buttons to `group`: (chat, message id).
    async fn send_card(
        &self,
        group: i64,
        text: &str,
        tip: &Tip,
    ) -> Result<(i64, i32), Undelivered> {
        let sh = &self.shared;
        let bot = sh.telegram().map_err(Undelivered::Failed)?;
        let buttons = actions::buttons(tip, sh);
        let (sent, chat) = try_group(sh, group, |chat| {
            let mut req = bot
                .send_message(ChatId(chat), text.to_owned())
                .protect_content(true);
            if let Some(b) = &buttons {
                req = req.reply_markup(b.clone());
            }
            req.send()
        })
        .await?;
        Ok((chat, sent.id.0))
    }

    async fn record(
        &self,
        tip: &Tip,
        duty: i64,
        chat: i64,
        message: i32,
        outline: bool,
        astray: Option<(&str, Vec<(String, String)>)>,
    ) -> anyhow::Result<Placed> {
        let sh = &self.shared;
        let card = PostedCard {
            code: tip.code.as_str(),
            chat,
            message,
            group: duty,
            received_ms: tip.received_ms,
            files_done: if outline { tip.evidence.len() } else { 0 },
            astray,
        };
        sh.store.record_posted(&card, sh.clock.now_ms()).await?;
        tracing::info!(tip = %tip.code, outline, "card posted");
        Ok(Placed {
            chat,
            message,
            outline,
        })
    }

    /// Logs and counts a card that did not go to its duty group as it should have.
    fn counted(&self, tip: &Tip, why: Refusal, to: &'static str) {
        tracing::warn!(tip = %tip.code, reason = why.label(), to, "the duty group refused the card; it went elsewhere");
        self.shared.metrics.card_fallback(why.label(), to);
    }
}
