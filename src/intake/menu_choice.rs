//! A typed reply read as a choice, on a channel without buttons ([`Choices::NumberedMenu`],
//! Zalo today): each reply with buttons was sent as a numbered menu ([`crate::channels::menu`])
//! and the menu last shown is kept per chat ([`crate::outbound::send`]), so "2", "trộm cắp" or
//! "Xong" becomes that button's press.
//!
//! [`Choices::NumberedMenu`]: crate::channels::Choices::NumberedMenu
//!
//! ```text
//! bot: 1. 💊 Ma túy  2. 🔓 Trộm cắp     citizen: "2"     → cat:theft
//! bot: (officer's question)            citizen: "xong"  → qa:done
//!                                      citizen: "2"     → an answer, as typed
//! ```

use super::Intake;
use crate::buttons::ButtonData;
use crate::channels::{Capabilities, menu};
use crate::conversation::{Button, Conversation, Ctx, Keyboard, Reply, State, prompt};
use crate::i18n::Msg;
use crate::outbound::render_for;
use crate::privacy::Route;

impl Intake {
    /// The button data a citizen's typed reply chooses, from the menu they were last shown on
    /// `route`'s channel (which can do what `caps` says): the prompt of their conversation's
    /// state, or «Xong» while answering an officer. `None`: the reply is text as typed.
    pub(super) async fn menu_choice(
        &self,
        caps: &Capabilities,
        alias: &str,
        route: &Route,
        stored: Option<&Conversation>,
        text: &str,
    ) -> anyhow::Result<Option<String>> {
        let sh = &self.shared;
        let is_done =
            |o: &menu::MenuOption| ButtonData::decode(&o.data) == Some(ButtonData::AnswerDone);
        let shown = sh
            .store
            .zalo_menu(&sh.vault.alias(route.channel, &route.chat))
            .await?;
        let idle = matches!(stored.map_or(&State::Idle, |c| &c.state), State::Idle);
        let answering = idle && sh.store.answering(alias).await?.is_some();
        let lang = stored.map_or(sh.default_lang, |c| c.lang);
        if answering {
            // Only the word «Xong» ends the answer; anything else, a bare number too ("how
            // many?" "2"), is part of it.
            if text.trim().trim_end_matches('.').parse::<u32>().is_ok() {
                return Ok(None);
            }
            let done = menu::MenuOption {
                label: sh.texts.get(lang, "button-answer-done"),
                data: ButtonData::AnswerDone.encode(),
            };
            return Ok(menu::resolve(&[done], text));
        }
        // The last menu shown, unless it was a question's «Xong» and no question is open
        // any more (a notice can come in the middle of a report).
        if let Some(options) = shown.filter(|o| !o.iter().any(is_done)) {
            return Ok(menu::resolve(&options, text));
        }
        // No menu kept: the one the conversation's state would show.
        let state = stored.map_or(&State::Idle, |c| &c.state);
        let ctx = Ctx {
            settings: &sh.settings,
            texts: &sh.texts,
            emergency: &sh.emergency,
            now_ms: sh.clock.now_ms(),
        };
        let replies = match state {
            State::Idle => match sh.store.answering(alias).await? {
                Some(code) => prompt(&State::Answering { code }, &ctx, lang),
                None => vec![Reply::with(
                    Msg::new("help"),
                    Keyboard::Inline(vec![vec![Button::msg(
                        "button-report",
                        &ButtonData::Report,
                    )]]),
                )],
            },
            other => prompt(other, &ctx, lang),
        };
        let options = replies
            .iter()
            .map(|r| menu::options(&render_for(caps, r, lang, &sh.texts)))
            .rfind(|o| !o.is_empty())
            .unwrap_or_default();
        Ok(menu::resolve(&options, text))
    }
}
