//! A citizen's update, from the inbox entry to the conversation's input, on Telegram and on
//! Zalo. The dialogue itself is [`crate::conversation`]; what follows the step (effects, the
//! commit, the replies) is [`super::converse`].
//!
//! ```text
//! citizen: [Ma túy]            intake: mark, rate count, conversation, open question:
//!                                      one round trip (and the button's spinner stops)
//!                                      over the limit? tell once, mark, stop
//!                                      old buttons cleared  ‖  step → commit → replies
//! citizen (Zalo): "2"          intake: the same, with "2" read against the menu last shown
//!                                      (a number typed at the contact step is the phone)
//! citizen: same update again   intake: its mark says done (nothing) or pending (resend)
//! ```

use super::{Intake, Sent};
use crate::channels::telegram::parse::TgInbound;
use crate::channels::telegram::send;
use crate::channels::zalo::parse::{self as zparse, ZaloInbound, ZaloKind};
use crate::conversation::{self, Command, Conversation, Input, Phone, Reply, State};
use crate::i18n::{Lang, Msg};
use crate::outbound::render_for;
use crate::privacy::{Channel, Route};
use crate::store::{InboxEntry, SeenMark};

impl Intake {
    /// A citizen's Telegram update: a message or a press of one of the bot's buttons.
    pub(super) async fn telegram_citizen(
        &self,
        entry: &InboxEntry,
        alias: &str,
        inb: &TgInbound,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("tg", &entry.key);
        // Its mark, the rate limit, the conversation and any open question in one round trip
        // to Redis, while Telegram is told the button press arrived.
        let answer = async {
            if let (Some(cb), Ok(tg)) = (&inb.callback, sh.telegram()) {
                send::answer_callback(tg, &cb.id).await;
            }
        };
        let (state, ()) = tokio::join!(
            sh.store
                .citizen(&seen_key, Channel::Telegram, alias, Some(sh.clock.now_ms())),
            answer
        );
        let state = state?;
        let route = Route {
            channel: Channel::Telegram,
            chat: inb.chat_id.to_string(),
        };
        match state.seen {
            Some(SeenMark::Done) => return Ok(None),
            // Processed before a crash or a send failure; its replies may not have gone out.
            Some(SeenMark::Pending(json)) => return self.resend(&seen_key, &route, &json).await,
            None => {}
        }
        let tg = sh.telegram()?;
        let lang = inb
            .lang_code
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(sh.default_lang);
        let stored = state
            .conversation_json
            .as_deref()
            .and_then(Conversation::from_stored);
        if self
            .flooded(&route, lang, state.messages, stored.as_ref(), &seen_key)
            .await?
        {
            return Ok(None);
        }
        // The pressed message's buttons go (every answer brings fresh ones where needed), while
        // the answer is worked out.
        let pressed = inb.callback.as_ref().and_then(|cb| cb.message_id);
        let chat = inb.chat_id;
        let clear = async {
            if let Some(mid) = pressed {
                send::clear_buttons(tg, chat, mid).await;
            }
        };
        let input = self.seal_input(inb.input.clone());
        let (sent, ()) = tokio::join!(
            self.converse(
                alias,
                &route,
                lang,
                input,
                &seen_key,
                stored,
                state.answering
            ),
            clear
        );
        sent
    }

    /// A Zalo event: the same conversation as on Telegram, with choices typed as numbers or
    /// labels instead of pressed.
    pub(super) async fn zalo_citizen(
        &self,
        entry: &InboxEntry,
        alias: &str,
        inb: &ZaloInbound,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("zl", &entry.key);
        let route = Route {
            channel: Channel::Zalo,
            chat: inb.chat_id.clone(),
        };
        let state = sh
            .store
            .citizen(&seen_key, Channel::Zalo, alias, Some(sh.clock.now_ms()))
            .await?;
        match state.seen {
            Some(SeenMark::Done) => return Ok(None),
            Some(SeenMark::Pending(json)) => return self.resend(&seen_key, &route, &json).await,
            None => {}
        }
        let stored = state
            .conversation_json
            .as_deref()
            .and_then(Conversation::from_stored);
        let lang = stored.as_ref().map_or(sh.default_lang, |c| c.lang);
        if self
            .flooded(&route, lang, state.messages, stored.as_ref(), &seen_key)
            .await?
        {
            return Ok(None);
        }
        let input = match &inb.kind {
            ZaloKind::Text(text) => match self
                .zalo_choice(alias, &inb.chat_id, stored.as_ref(), text)
                .await?
            {
                Some(data) => Some(Input::button(&data)),
                // No contact button on Zalo: at the contact step a typed number is the share.
                None if matches!(stored.as_ref().map(|c| &c.state), Some(State::Contact(_)))
                    && typed_phone(text).is_some() =>
                {
                    typed_phone(text).map(|number| Input::Contact {
                        phone: Phone::Plain { number },
                        own: true,
                    })
                }
                None => zparse::to_input(&inb.kind),
            },
            ZaloKind::Sticker => Some(Input::Sticker),
            ZaloKind::Unsupported => Some(Input::Unsupported),
            _ => zparse::to_input(&inb.kind),
        };
        let Some(input) = input.map(|i| self.seal_input(i)) else {
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        };
        // Zalo's terms: say up front that this is an automated system and what it keeps.
        let starts = matches!(input, Input::Command(Command::Start(_)));
        if stored.is_none() && !starts {
            let intro = render_for(
                Channel::Zalo,
                &Reply::text(Msg::new("welcome")),
                lang,
                &sh.texts,
            );
            self.deliver(&route, &[intro]).await.map_err(|(_, e)| e)?;
        }
        self.converse(
            alias,
            &route,
            lang,
            input,
            &seen_key,
            stored,
            state.answering,
        )
        .await
    }

    /// Seals a shared phone number before it reaches the conversation and Redis.
    fn seal_input(&self, input: Input) -> Input {
        match input {
            Input::Contact {
                phone: Phone::Plain { number },
                own,
            } => Input::Contact {
                phone: Phone::Sealed {
                    sealed: self.shared.vault.seal(number.as_bytes()),
                    masked: conversation::mask(&number),
                },
                own,
            },
            other => other,
        }
    }

    /// Applies the per-minute message limit to the `count`th message of this minute. Over it,
    /// the citizen is told once per window, the update is marked processed, and `true` comes
    /// back.
    async fn flooded(
        &self,
        route: &Route,
        lang: Lang,
        count: u64,
        stored: Option<&Conversation>,
        seen_key: &str,
    ) -> anyhow::Result<bool> {
        let sh = &self.shared;
        let limit = u64::from(sh.settings.limits.messages_per_minute);
        if count <= limit {
            return Ok(false);
        }
        tracing::info!("message over the per-minute limit ignored");
        let mut replies = Vec::new();
        if count == limit + 1 {
            let lang = stored.map_or(lang, |c| c.lang);
            replies.push(render_for(
                route.channel,
                &Reply::text(Msg::new("flood-messages")),
                lang,
                &sh.texts,
            ));
        }
        sh.store.mark_seen(seen_key).await?;
        self.deliver(route, &replies).await.map_err(|(_, e)| e)?;
        Ok(true)
    }
}

/// A Vietnamese phone number that is (nearly) all a message says, in its digits.
fn typed_phone(text: &str) -> Option<String> {
    let found = crate::rules::pii::find(text);
    let (_, range) = found
        .iter()
        .find(|(kind, _)| *kind == crate::rules::pii::Kind::Phone)?;
    let rest = text.len() - range.len();
    (rest <= 4).then(|| {
        text[range.clone()]
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    })
}
