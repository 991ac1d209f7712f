//! Sending one [`Outgoing`] message to a citizen, whichever channel they came through: the
//! [`crate::channels::Registry`] gives the channel of the route, which draws the message with
//! its platform's widgets (buttons on Telegram; text with a numbered menu, in parts of at most
//! 2000 characters, on Zalo). Where the channel offers choices as numbered menus, the menu
//! shown is kept, so that a typed "2" can be read back.

use crate::buttons::ButtonData;
use crate::channels::{Capabilities, Choices, OutKeyboard, Outgoing, SendError, menu, render};
use crate::conversation::Reply;
use crate::i18n::{Lang, Texts};
use crate::privacy::Route;
use crate::shared::Shared;

/// Renders `reply` for a channel that can do what `caps` says: where the channel has its own
/// wording ([`Capabilities::text_variant`]), a text of the same id with `-<variant>` appended
/// is used when the locale files have one (texts that speak of buttons, the welcome that must
/// say the citizen talks to an automated system on Zalo).
pub fn render_for(caps: &Capabilities, reply: &Reply, lang: Lang, texts: &Texts) -> Outgoing {
    if let Some(variant) = caps.text_variant {
        let variant_id = format!("{}-{variant}", reply.msg.id);
        if texts.has(lang, &variant_id) {
            let mut r = reply.clone();
            r.msg.id = variant_id;
            let mut out = render(&r, lang, texts);
            out.id = reply.msg.id.clone();
            // «Xong» after a question is typed as a word, not picked by number: a number
            // typed then is an answer to the officer ("how many?" "2").
            if caps.choices == Choices::NumberedMenu
                && matches!(&out.keyboard, OutKeyboard::Inline(rows)
                    if rows.iter().flatten().all(|(_, data)| ButtonData::decode(data) == Some(ButtonData::AnswerDone)))
            {
                out.keyboard = OutKeyboard::None;
            }
            return out;
        }
    }
    render(reply, lang, texts)
}

/// Sends `out` to the citizen at `route`.
pub async fn send(shared: &Shared, route: &Route, out: &Outgoing) -> Result<(), SendError> {
    let channel = shared.channels.get(route.channel).ok_or_else(|| {
        SendError::Refused(format!("no channel is registered for {:?}", route.channel))
    })?;
    channel.send(&route.chat, out).await?;
    if channel.capabilities().choices == Choices::NumberedMenu {
        // What a typed "2" means is what the last message showed.
        let options = menu::options(out);
        let key = shared.vault.alias(route.channel, &route.chat);
        if let Err(e) = shared.store.zalo_menu_set(&key, &options).await {
            tracing::warn!(error = %e, "the menu shown could not be kept");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::{telegram, zalo};
    use crate::conversation::{Button, Keyboard};
    use crate::i18n::Msg;

    fn question() -> Reply {
        Reply::with(
            Msg::new("notify-question")
                .arg("code", "TB-7K3Q-X9MD")
                .arg("text", "?"),
            Keyboard::Inline(vec![vec![Button::msg(
                "button-answer-done",
                &ButtonData::AnswerDone,
            )]]),
        )
    }

    #[test]
    fn a_channel_with_its_own_wording_gets_it_and_types_xong_instead_of_a_menu() {
        let texts = Texts::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales"))
            .expect("the locale files load");
        let on_zalo = render_for(&zalo::CAPABILITIES, &question(), Lang::Vi, &texts);
        let on_telegram = render_for(&telegram::CAPABILITIES, &question(), Lang::Vi, &texts);
        // The same message id for tests and logs, different words.
        assert_eq!(on_zalo.id, "notify-question");
        assert_eq!(on_telegram.id, "notify-question");
        assert_ne!(on_zalo.text, on_telegram.text);
        assert_eq!(on_zalo.keyboard, OutKeyboard::None);
        assert!(matches!(on_telegram.keyboard, OutKeyboard::Inline(_)));
    }
}
