//! The anonymous dialogue between officers and a citizen. An officer replies (in the duty
//! group) to a tip's card, or to an answer relayed under it: the text becomes an
//! `info_requested` event; the notifier relays it to the citizen as a question from the duty
//! officer, with no name or id, and puts them in answer mode; while idle, what they write then
//! comes back as `citizen_replied` events, which the desk posts under the card. The officer is
//! never told who the citizen is, nor the citizen who the officer is.
//!
//! Only the officers listed in `desk.officers` may ask; a tip takes at most
//! `desk.questions_per_tip_per_hour` questions an hour. The notifier defangs links in a question
//! and ends it with a safety line ([`crate::notify`]); in minimal-card groups an answer is
//! shown with personal data masked, as a description is. What the bot posts in the group is
//! sent with `protect_content` (no forwarding or saving).

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

/// Handles an officer's reply to a bot message in a group. Only a listed officer's reply to a
/// tip's message is relayed (`desk.officers`); anyone else's is answered with a refusal and
/// changes nothing.
pub async fn on_officer_reply(shared: &Shared, reply: OfficerReply) -> anyhow::Result<()> {
    let desk = &shared.settings.desk;
    let group = shared.store.group_configured(reply.chat_id).await?;
    if !desk.enabled || !desk.is_desk_group(group) {
        return Ok(()); // Not a duty group: ordinary chat, not ours.
    }
    let Some(code) = shared
        .store
        .card_message(reply.chat_id, reply.reply_to)
        .await?
        .and_then(|c| ReceiptCode::parse(&c).ok())
    else {
        return Ok(()); // A reply to some other bot message.
    };
    if !desk.may_act(reply.user_id) {
        tracing::warn!(tip = %code, "reply to a card by someone not on desk.officers; not relayed");
        shared.metrics.desk_refused("not_officer");
        return answer(shared, &reply, &Msg::new("desk-not-officer")).await;
    }
    let Some(tip) = shared.store.tip(&code).await? else {
        return Ok(());
    };
    let now = shared.clock.now_ms();
    // Once per officer message, however often the update is retried.
    let message = format!("{}:{}", reply.chat_id, reply.message_id);
    let answer_msg = if tip.status == TipStatus::Closed {
        Msg::new("desk-relay-closed")
    } else if !shared
        .store
        .question_take(
            code.as_str(),
            &message,
            desk.questions_per_tip_per_hour,
            now,
        )
        .await?
    {
        tracing::warn!(tip = %code, "officer question over desk.questions_per_tip_per_hour; not relayed");
        shared.metrics.desk_refused("question_limit");
        Msg::new("desk-relay-rate-limited")
            .arg("code", &code)
            .arg("max", desk.questions_per_tip_per_hour)
    } else {
        // Any length: the notifier sends a long question in parts the citizen's platform takes.
        let actor = shared
            .vault
            .officer_actor(Channel::Telegram, &reply.user_id.to_string());
        let once = format!("{}:relayed:{message}", shared.settings.app.namespace);
        let event = TipEvent::InfoRequested {
            head: Head::new(code.clone(), &actor, now),
            text: reply.text.clone(),
        };
        crate::audit::event(&shared.store, Some(&once), &event, "").await?;
        tracing::info!(tip = %code, "officer question queued for the citizen");
        Msg::new("desk-relay-sent")
    };
    answer(shared, &reply, &answer_msg).await
}

/// Answers an officer's message in the group, as a reply to it (sent even if it was deleted).
async fn answer(shared: &Shared, reply: &OfficerReply, msg: &Msg) -> anyhow::Result<()> {
    let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
    let text = shared.texts.render(lang, msg);
    let bot = shared.telegram()?;
    with_retries(|| {
        bot.send_message(ChatId(reply.chat_id), text.clone())
            .reply_parameters(crate::channels::telegram::reply_to(reply.message_id))
            .protect_content(true)
            .send()
    })
    .await?;
    Ok(())
}

/// Posts a citizen's answer under the tip's card (desk, on `citizen_replied`).
pub async fn post_answer(shared: &Shared, tip: &Tip, text: &str) -> anyhow::Result<()> {
    // Units that keep content out of the chat (minimal cards) read the answer as they read a
    // description there: a short excerpt with personal data masked, or only that it came.
    let msg = if !shared.settings.desk.minimal_cards {
        // Links unclickable, as on the card.
        Msg::new("desk-citizen-replied").arg("text", crate::rules::defang::defang(text))
    } else if let Some(excerpt) = super::card::minimal_excerpt(text, &shared.settings) {
        Msg::new("desk-citizen-replied-masked").arg("text", excerpt)
    } else {
        Msg::new("desk-citizen-replied-minimal")
    };
    post_under_card(shared, tip, &msg.arg("code", &tip.code)).await
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
                .protect_content(true)
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
