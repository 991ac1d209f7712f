//! The anonymous dialogue between officers and a citizen. An officer replies (in the duty
//! group) to a tip's card, or to an answer relayed under it: the text becomes an
//! `info_requested` event; the notifier relays it to the citizen as a question from the duty
//! officer, with no name or id, and puts them in answer mode; while idle, what they write then
//! comes back as `citizen_replied` events, which the desk posts under the card. The officer is
//! never told who the citizen is, nor the citizen who the officer is.

use teloxide::prelude::*;
use teloxide::types::ChatId;

use crate::channels::telegram::parse::OfficerReply;
use crate::channels::telegram::send::{self, with_retries};
use crate::codes::ReceiptCode;
use crate::events::{Head, TipEvent};
use crate::i18n::{Lang, Msg};
use crate::privacy::Channel;
use crate::shared::Shared;
use crate::store::{Tip, TipStatus};

/// Handles an officer's reply to a bot message in a group.
pub async fn on_officer_reply(shared: &Shared, reply: OfficerReply) -> anyhow::Result<()> {
    let desk = &shared.settings.desk;
    let group = shared.store.group_configured(reply.chat_id).await?;
    if !desk.enabled || !desk.is_desk_group(group) || !desk.may_act(reply.user_id) {
        return Ok(()); // Not a duty group or not an officer: ordinary chat, not ours.
    }
    let Some(code) = shared
        .store
        .card_message(reply.chat_id, reply.reply_to)
        .await?
        .and_then(|c| ReceiptCode::parse(&c).ok())
    else {
        return Ok(()); // A reply to some other bot message.
    };
    let Some(tip) = shared.store.tip(&code).await? else {
        return Ok(());
    };
    let lang = Lang::parse(&desk.lang).unwrap_or_default();
    let answer_id = if tip.status == TipStatus::Closed {
        "desk-relay-closed"
    } else {
        // Any length: the notifier sends a long question in parts the citizen's platform takes.
        let actor = shared
            .vault
            .officer_actor(Channel::Telegram, &reply.user_id.to_string());
        // Once per officer message, however often the update is retried.
        let once = format!(
            "{}:relayed:{}:{}",
            shared.settings.app.namespace, reply.chat_id, reply.message_id
        );
        let event = TipEvent::InfoRequested {
            head: Head::new(code.clone(), &actor, shared.clock.now_ms()),
            text: reply.text.clone(),
        };
        shared.store.events_append(Some(&once), &event).await?;
        tracing::info!(tip = %code, "officer question queued for the citizen");
        crate::audit::append(
            &shared.store,
            shared.clock.now_ms(),
            &actor,
            event.kind(),
            code.as_str(),
            "",
        )
        .await?;
        "desk-relay-sent"
    };
    let text = shared.texts.render(lang, &Msg::new(answer_id));
    let bot = shared.telegram()?;
    with_retries(|| {
        bot.send_message(ChatId(reply.chat_id), text.clone())
            .reply_parameters(crate::channels::telegram::reply_to(reply.message_id))
            .send()
    })
    .await?;
    Ok(())
}

/// Posts a citizen's answer under the tip's card (desk, on `citizen_replied`).
pub async fn post_answer(shared: &Shared, tip: &Tip, text: &str) -> anyhow::Result<()> {
    // Units that keep content out of the chat (minimal cards) see only that an answer came.
    let id = if shared.settings.desk.minimal_cards {
        "desk-citizen-replied-minimal"
    } else {
        "desk-citizen-replied"
    };
    post_under_card(
        shared,
        tip,
        &Msg::new(id).arg("code", &tip.code).arg("text", text),
    )
    .await
}

/// Posts `msg` (in the desk's language) as a reply to the tip's card, in parts when it is longer
/// than a message, and remembers each new message as the tip's so officers can reply to it too.
pub async fn post_under_card(shared: &Shared, tip: &Tip, msg: &Msg) -> anyhow::Result<()> {
    let Some((chat, card, _)) = shared.store.card(tip.code.as_str()).await? else {
        return Ok(());
    };
    let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
    let body = shared.texts.render(lang, msg);
    let bot = shared.telegram()?;
    // A long answer goes in several messages, each under the card and each one officers can
    // reply to.
    for part in send::parts(&body) {
        let sent = with_retries(|| {
            bot.send_message(ChatId(chat), part.clone())
                .reply_parameters(crate::channels::telegram::reply_to(card))
                .send()
        })
        .await?;
        shared
            .store
            .card_message_set(chat, sent.id.0, tip.code.as_str())
            .await?;
    }
    Ok(())
}
