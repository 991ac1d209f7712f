//! A citizen's update, from the inbox entry to the conversation's input, on any channel: what
//! differs between channels is asked of the channel ([`CitizenChannel`]) and its
//! [`Capabilities`]. The dialogue itself is [`crate::conversation`]; what follows the step
//! (effects, the commit, the replies) is [`super::converse`].
//!
//! ```text
//! citizen: [Ma túy]            intake: mark, rate count (by send time), conversation, open
//!                                      question: one round trip (the button's spinner stops)
//!                                      over the limit, and not «Gửi»? tell once, mark, stop
//!                                      old buttons cleared  ‖  step → commit → replies
//! citizen (Zalo): "2"          intake: the same, with "2" read against the menu last shown
//!                                      (a number typed at the contact step is the phone)
//! citizen: same update again   intake: its mark says done (nothing) or pending (resend)
//! ```

use super::{Intake, Sent};
use crate::channels::{Capabilities, Choices, CitizenChannel, CitizenUpdate};
use crate::conversation::{self, Command, Conversation, Input, Phone, Reply, State};
use crate::i18n::Msg;
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
        // Counted in the minute the citizen sent it (see `flood.rs`).
        let counted_ms = super::flood::counted_at(upd.sent_ms, sh.clock.now_ms());
        let (state, ()) = tokio::join!(
            sh.store
                .citizen(&seen_key, channel, alias, Some(counted_ms)),
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
        // Read before the flood limit, which lets a report's send through.
        let input = self
            .typed_input(&caps, alias, &route, stored.as_ref(), upd)
            .await?;
        if self
            .flooded(
                &route,
                lang,
                state.messages,
                input.as_ref(),
                stored.as_ref(),
                &seen_key,
            )
            .await?
        {
            return Ok(None);
        }
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
                counted_ms,
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
