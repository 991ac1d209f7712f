//! Sending one [`Outgoing`] message to a citizen, whichever channel they came through: on
//! Telegram with buttons, on Zalo as text with a numbered menu (split at 2000 characters).

use crate::buttons::ButtonData;
use crate::channels::{OutKeyboard, Outgoing, SendError, render};
use crate::conversation::Reply;
use crate::i18n::{Lang, Texts};
use crate::privacy::{Channel, Route};
use crate::shared::Shared;

/// Renders `reply` for `channel`: on Zalo, a text of the same id with `-zalo` appended is
/// used where the locale files have one (texts that speak of buttons, the welcome that must
/// say the citizen talks to an automated system on Zalo).
pub fn render_for(channel: Channel, reply: &Reply, lang: Lang, texts: &Texts) -> Outgoing {
    if channel == Channel::Zalo {
        let zalo_id = format!("{}-zalo", reply.msg.id);
        if texts.has(lang, &zalo_id) {
            let mut r = reply.clone();
            r.msg.id = zalo_id;
            let mut out = render(&r, lang, texts);
            out.id = reply.msg.id.clone();
            // «Xong» after a question is typed as a word, not picked by number: a number
            // typed then is an answer to the officer ("how many?" "2").
            if matches!(&out.keyboard, OutKeyboard::Inline(rows)
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
    match route.channel {
        Channel::Telegram => {
            let tg = shared
                .telegram()
                .map_err(|e| SendError::Refused(e.to_string()))?;
            let chat: i64 = route
                .chat
                .parse()
                .map_err(|_| SendError::Refused("unreadable telegram chat id".into()))?;
            crate::channels::telegram::send::send(tg, chat, out).await
        }
        Channel::Zalo => {
            let zalo = shared
                .zalo
                .as_ref()
                .ok_or_else(|| SendError::Refused("the Zalo channel is disabled".into()))?;
            let hint = shared.texts.get(shared.default_lang, "zalo-menu-hint");
            zalo.send_message(
                &route.chat,
                &crate::channels::zalo::menu::render_text(out, &hint),
            )
            .await?;
            // What a typed "2" means is what the last message showed.
            let options = crate::channels::zalo::menu::options(out);
            let key = shared.vault.alias(Channel::Zalo, &route.chat);
            if let Err(e) = shared.store.zalo_menu_set(&key, &options).await {
                tracing::warn!(error = %e, "the Zalo menu shown could not be kept");
            }
            Ok(())
        }
    }
}
