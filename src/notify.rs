//! The citizen notifier: a consumer group on the events stream that tells the citizen, in their
//! language and in safe words (no officer, no operational detail), when their tip changes
//! state. Which changes notify is configured (`notify.on`). A citizen who blocked the bot is
//! marked unreachable and not tried again; a notice is remembered once sent, so a retried event
//! does not repeat it. An officer's question reaches the citizen with its links defanged
//! ([`crate::rules::defang`]) and ends with a safety line (the police never ask here for OTP
//! codes, passwords, money transfers or identity documents).

use std::sync::Arc;

use teloxide::prelude::*;

use crate::buttons::ButtonData;
use crate::channels::SendError;
use crate::consumer::Handler;
use crate::conversation::{Button, Keyboard, Reply};
use crate::events::TipEvent;
use crate::i18n::Msg;
use crate::outbound::render_for;
use crate::shared::Shared;

pub use crate::config::NOTICES;

/// The notifier's handler of events.
pub struct Notify {
    shared: Arc<Shared>,
}

impl Notify {
    /// The notifier of this process.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl Notify {
    /// A question that cannot reach the citizen: the officers are told under the card, so
    /// nobody waits for an answer that cannot come. Other notices are just logged.
    async fn undelivered(&self, tip: &crate::store::Tip, question: bool) -> anyhow::Result<()> {
        if !question {
            return Ok(());
        }
        let sh = &self.shared;
        let Some((chat, card, _)) = sh.store.card(tip.code.as_str()).await? else {
            return Ok(());
        };
        let lang = crate::i18n::Lang::parse(&sh.settings.desk.lang).unwrap_or_default();
        let text = sh
            .texts
            .render(lang, &Msg::new("desk-relay-failed").arg("code", &tip.code));
        let bot = sh.telegram()?;
        crate::desk::to_group(sh, chat, |chat| {
            bot.send_message(teloxide::types::ChatId(chat), text.clone())
                .reply_parameters(crate::channels::telegram::reply_to(card))
                .protect_content(true)
                .send()
        })
        .await?;
        Ok(())
    }
}

impl Handler for Notify {
    const GROUP: &'static str = "notify";

    async fn handle(&self, _stream_id: &str, event: &TipEvent) -> anyhow::Result<()> {
        let sh = &self.shared;
        let notice = |kind: &str| match NOTICES.iter().find(|(k, _)| *k == kind) {
            Some((_, id)) if sh.settings.notify.on.iter().any(|k| k == kind) => *id,
            _ => "",
        };
        // The message for the citizen ("": none) and the text it carries. An officer's question
        // always goes through; the other notices as configured; a close, notice or not, ends
        // the citizen's answer mode.
        let (msg_id, text) = match event {
            TipEvent::InfoRequested { text, .. } => ("notify-question", text.as_str()),
            TipEvent::Acknowledged { .. } => match notice(event.kind()) {
                "" => return Ok(()),
                id => (id, ""),
            },
            TipEvent::Closed { .. } => (notice(event.kind()), ""),
            TipEvent::Submitted { .. }
            | TipEvent::Hotspot { .. }
            | TipEvent::Claimed { .. }
            | TipEvent::Escalated { .. }
            | TipEvent::CitizenReplied { .. }
            | TipEvent::Noted { .. }
            | TipEvent::Purged { .. } => return Ok(()),
        };
        let question = matches!(event, TipEvent::InfoRequested { .. });
        let closed = matches!(event, TipEvent::Closed { .. });
        let code = event.code();
        let sent_key = sh
            .store
            .keys()
            .notified(code.as_str(), &event.head().seq.to_string());
        if sh.store.exists(&sent_key).await? {
            return Ok(());
        }
        let Some(tip) = sh.store.tip(code).await? else {
            return Ok(());
        };
        // Purged: no alias, no route, nothing left to tell.
        if tip.purged_ms.is_some() {
            return Ok(());
        }
        if closed && sh.store.answering(&tip.alias).await?.as_deref() == Some(code.as_str()) {
            sh.store.answering_clear(&tip.alias).await?;
        }
        if msg_id.is_empty() {
            return Ok(());
        }
        if sh
            .store
            .exists(&sh.store.keys().unreachable(&tip.alias))
            .await?
        {
            return self.undelivered(&tip, question).await;
        }
        let route = match sh.store.route(&tip.alias).await? {
            Some(sealed) => sh.vault.open_route(&sealed).ok(),
            None => None,
        };
        let Some(route) = route else {
            tracing::warn!(tip = %code, "no route back to the citizen; not notified");
            return self.undelivered(&tip, question).await;
        };
        // A question's links are made unclickable: an officer account someone else holds
        // cannot send the citizen to a phishing page.
        let text = if question {
            crate::rules::defang::defang(text)
        } else {
            text.to_owned()
        };
        let msg = Msg::new(msg_id).arg("code", code).arg("text", text);
        let reply = if question {
            Reply::with(
                msg,
                Keyboard::Inline(vec![vec![Button::msg(
                    "button-answer-done",
                    &ButtonData::AnswerDone,
                )]]),
            )
        } else {
            Reply::text(msg)
        };
        let caps = sh.channels.capabilities(route.channel);
        let mut out = render_for(&caps, &reply, tip.lang, &sh.texts);
        if question {
            // Every question ends with the safety line, whatever the locale files say above it.
            out.text.push_str("\n\n");
            out.text
                .push_str(&sh.texts.get(tip.lang, "notify-question-safety"));
        }
        if question {
            sh.store.answering_set(&tip.alias, code.as_str()).await?;
        }
        match crate::outbound::send(sh, &route, &out).await {
            Ok(()) => {}
            Err(SendError::Blocked) => {
                tracing::info!(tip = %code, "citizen unreachable (blocked the bot)");
                sh.store.mark_unreachable(&tip.alias).await?;
                return self.undelivered(&tip, question).await;
            }
            Err(SendError::Refused(e)) => {
                tracing::error!(tip = %code, error = %e, "notice refused by the platform");
                return self.undelivered(&tip, question).await;
            }
            Err(e) => return Err(e.into()),
        }
        sh.store.mark_notified(&sent_key).await?;
        Ok(())
    }
}
