//! A citizen's update, from the inbox entry to the conversation's input, on any channel: what
//! differs between channels is asked of the channel ([`CitizenChannel`]) and its
//! [`Capabilities`]. The dialogue itself is [`crate::conversation`]; what follows the step
//! (effects, the commit, the replies) is [`super::converse`].
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
use crate::channels::{Capabilities, Choices, CitizenChannel, CitizenUpdate};
use crate::conversation::{self, Command, Conversation, Input, Phone, Reply, State};
use crate::i18n::{Lang, Msg};
use crate::outbound::render_for;
use crate::privacy::{Channel, Route};
use crate::store::{InboxEntry, SeenMark};

impl Intake {
    /// A citizen's update on `channel`: a message, or a press of one of the bot's buttons (or,
    /// without buttons, a choice typed from a numbered menu).
    pub(super) async fn citizen(
        &self,
        entry: &InboxEntry,
        channel: Channel,
        alias: &str,
        upd: &CitizenUpdate,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let ch: &dyn CitizenChannel = sh
            .channels
            .get(channel)
            .ok_or_else(|| anyhow::anyhow!("no channel is registered for {channel:?}"))?;
        let caps = *ch.capabilities();
        let seen_key = sh.store.keys().seen(ch.seen_tag(), &entry.key);
        // Its mark, the rate limit, the conversation and any open question in one round trip
        // to Redis, while the platform is told the button press arrived.
        let received = async {
            if let Some(press) = &upd.press {
                ch.press_received(press).await;
            }
        };
        let (state, ()) = tokio::join!(
            sh.store
                .citizen(&seen_key, channel, alias, Some(sh.clock.now_ms())),
            received
        );
        let state = state?;
        let route = Route {
            channel,
            chat: upd.chat.clone(),
        };
        match state.seen {
            Some(SeenMark::Done) => return Ok(None),
            // Processed before a crash or a send failure; its replies may not have gone out.
            Some(SeenMark::Pending(json)) => return self.resend(&seen_key, &route, &json).await,
            None => {}
        }
        let stored = state
            .conversation_json
            .as_deref()
            .and_then(Conversation::from_stored);
        // The app's language where the platform says it; else the conversation's.
        let lang = if caps.app_language {
            upd.lang.unwrap_or(sh.default_lang)
        } else {
            stored.as_ref().map_or(sh.default_lang, |c| c.lang)
        };
        if self
            .flooded(&route, lang, state.messages, stored.as_ref(), &seen_key)
            .await?
        {
            return Ok(None);
        }
        let input = self
            .typed_input(&caps, alias, &route, stored.as_ref(), upd)
            .await?;
        let Some(input) = input.map(|i| self.seal_input(i)) else {
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        };
        // Some platforms' terms (Zalo's): say up front that this is an automated system and
        // what it keeps.
        let starts = matches!(input, Input::Command(Command::Start(_)));
        if caps.automated_notice && stored.is_none() && !starts {
            let intro = render_for(&caps, &Reply::text(Msg::new("welcome")), lang, &sh.texts);
            self.deliver(&route, &[intro]).await.map_err(|(_, e)| e)?;
        }
        // The pressed message's buttons go (every answer brings fresh ones where needed), while
        // the answer is worked out.
        let handled = async {
            if let Some(press) = &upd.press {
                ch.press_handled(&upd.chat, press).await;
            }
        };
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
            handled
        );
        sent
    }

    /// The input of an update, with what was typed read as the platform needs: without
    /// buttons, a choice from the numbered menu last shown; without a contact button, a phone
    /// number typed at the contact step as the share.
    async fn typed_input(
        &self,
        caps: &Capabilities,
        alias: &str,
        route: &Route,
        stored: Option<&Conversation>,
        upd: &CitizenUpdate,
    ) -> anyhow::Result<Option<Input>> {
        let Some(text) = &upd.typed else {
            return Ok(upd.input.clone());
        };
        if caps.choices == Choices::NumberedMenu
            && let Some(data) = self.menu_choice(caps, alias, route, stored, text).await?
        {
            return Ok(Some(Input::button(&data)));
        }
        if !caps.contact_button
            && matches!(stored.map(|c| &c.state), Some(State::Contact(_)))
            && let Some(number) = typed_phone(text)
        {
            return Ok(Some(Input::Contact {
                phone: Phone::Plain { number },
                own: true,
            }));
        }
        Ok(upd.input.clone())
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
                &sh.channels.capabilities(route.channel),
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
