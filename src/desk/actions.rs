//! Officers' buttons on a card. Only configured duty groups and the supervisors' group, which
//! gets the cards a duty group refused (and, when `desk.officers` lists them, those officers)
//! may act; anything else is refused with a notice and logged. Each
//! action changes the tip and appends its event in one atomic step, so two officers pressing
//! at once get one result and the second is told what happened; the desk then redraws the card
//! from the event.
//!
//! ```text
//! submitted    [✅ Tiếp nhận] [🙋 Nhận xử lý] [🔒 Đóng]
//! acknowledged [🙋 Nhận xử lý] [🔒 Đóng]
//! in progress  [🔒 Đóng]
//! 🔒 Đóng  →   [Đã xác minh, xử lý] [Chuyển đơn vị khác] … [↩️ Quay lại]
//! closed       (no buttons)
//! ```

use teloxide::prelude::*;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId};

use crate::buttons::ButtonData;
use crate::channels::telegram::parse::OfficerPress;
use crate::channels::telegram::send;
use crate::codes::ReceiptCode;
use crate::events::{Head, TipEvent};
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::shared::Shared;
use crate::store::{Action, Tip, TipStatus, Transition};

/// A parsed card button; its wire form is written and read in [`crate::buttons`].
pub use crate::buttons::DeskPress as Press;

/// The buttons of a card in the tip's state.
pub fn buttons(tip: &Tip, shared: &Shared) -> Option<InlineKeyboardMarkup> {
    let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
    let b = |id: &str, press: fn(ReceiptCode) -> Press| {
        InlineKeyboardButton::callback(
            shared.texts.get(lang, id),
            ButtonData::Desk(press(tip.code.clone())).encode(),
        )
    };
    let row = match tip.status {
        TipStatus::Submitted => vec![
            b("button-desk-ack", Press::Ack),
            b("button-desk-claim", Press::Claim),
            b("button-desk-close", Press::CloseMenu),
        ],
        TipStatus::Acknowledged => vec![
            b("button-desk-claim", Press::Claim),
            b("button-desk-close", Press::CloseMenu),
        ],
        TipStatus::InProgress => vec![b("button-desk-close", Press::CloseMenu)],
        TipStatus::Closed => return None,
    };
    let mut second = vec![b("button-desk-ask", Press::Ask)];
    if shared.settings.desk.supervisor_group != 0 {
        second.push(b("button-desk-escalate", Press::Escalate));
    }
    let rows = vec![row, second];
    Some(InlineKeyboardMarkup::new(rows))
}

fn disposition_buttons(code: &ReceiptCode, shared: &Shared) -> InlineKeyboardMarkup {
    let desk = &shared.settings.desk;
    let lang = Lang::parse(&desk.lang).unwrap_or_default();
    let mut rows: Vec<Vec<InlineKeyboardButton>> = desk
        .dispositions
        .iter()
        .map(|d| {
            let label = if lang == Lang::Vi { &d.vi } else { &d.en };
            vec![InlineKeyboardButton::callback(
                label.clone(),
                ButtonData::Desk(Press::Close(code.clone(), d.id.clone())).encode(),
            )]
        })
        .collect();
    rows.push(vec![InlineKeyboardButton::callback(
        shared.texts.get(lang, "button-back"),
        ButtonData::Desk(Press::Back(code.clone())).encode(),
    )]);
    InlineKeyboardMarkup::new(rows)
}

/// Handles an officer's press.
pub async fn on_press(shared: &Shared, press: OfficerPress) -> anyhow::Result<()> {
    let tg = shared.telegram()?;
    let desk = &shared.settings.desk;
    let lang = Lang::parse(&desk.lang).unwrap_or_default();
    let callback_id = press.callback_id.clone();
    let answer = |id: &'static str| {
        let callback_id = callback_id.clone();
        async move {
            send::answer_callback_text(tg, &callback_id, &shared.texts.get(lang, id)).await;
        }
    };
    let group = shared.store.group_configured(press.chat_id).await?;
    // The supervisors' group holds cards too: those its duty group refused (issue 13).
    let supervisors = desk.supervisor_group != 0 && group == desk.supervisor_group;
    if !desk.enabled || !(desk.is_desk_group(group) || supervisors) {
        tracing::warn!(data = %press.data, "card button pressed outside a duty group; refused");
        answer("desk-not-allowed").await;
        return Ok(());
    }
    if !desk.may_act(press.user_id) {
        tracing::warn!(data = %press.data, "card button pressed by someone not on desk.officers; refused");
        shared.metrics.desk_refused("not_officer");
        answer("desk-not-officer").await;
        return Ok(());
    }
    let Some(parsed) = Press::parse(&press.data) else {
        answer("desk-stale-button").await;
        return Ok(());
    };
    // The button must be on a card of that very tip in this chat: callback data is the
    // client's to make up, so a group cannot act on another group's tips.
    let on_card = match press.message_id {
        Some(m) => shared.store.card_message(press.chat_id, m).await?,
        None => None,
    };
    if on_card.as_deref() != Some(parsed.code().as_str()) {
        tracing::warn!(data = %press.data, "card button not on that tip's card; refused");
        answer("desk-stale-button").await;
        return Ok(());
    }
    let actor = shared
        .vault
        .officer_actor(Channel::Telegram, &press.user_id.to_string());
    let now = shared.clock.now_ms();
    let name = press.first_name.clone();
    let (code, action, done_id) = match parsed {
        Press::CloseMenu(code) => return show_menu(shared, &press, &code, true).await,
        Press::Back(code) => return show_menu(shared, &press, &code, false).await,
        Press::Ask(_) => {
            answer("desk-ask-how").await;
            return Ok(());
        }
        Press::Escalate(code) => {
            let id = escalate(shared, &code, &actor, &press.first_name, now).await?;
            answer(id).await;
            return Ok(());
        }
        Press::Ack(code) => (code, Verb::Ack, "desk-acked"),
        Press::Claim(code) => (code, Verb::Claim, "desk-claimed"),
        Press::Close(code, disposition) => {
            if !desk.dispositions.iter().any(|d| d.id == disposition) {
                answer("desk-stale-button").await;
                return Ok(());
            }
            (code, Verb::Close(disposition), "desk-closed")
        }
    };
    let id = match apply(shared, &code, action, &actor, name, now).await? {
        Transition::Done(_) => done_id,
        Transition::NotNow(TipStatus::Closed) => "desk-already-closed",
        Transition::NotNow(TipStatus::InProgress) => "desk-already-claimed",
        Transition::NotNow(_) => "desk-already-acked",
        Transition::Unknown => "desk-unknown-tip",
    };
    answer(id).await;
    Ok(())
}

/// A change of state an officer (or the triage service) can make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// Acknowledge (submitted → acknowledged).
    Ack,
    /// Claim (submitted or acknowledged → in progress).
    Claim,
    /// Close with a disposition id (any open state → closed).
    Close(String),
}

/// Applies `verb` to tip `code` for `actor` (shown on the card as `name`) and writes the
/// audit record: the one way tips change state, whether by button or by the callback API.
pub async fn apply(
    shared: &Shared,
    code: &ReceiptCode,
    verb: Verb,
    actor: &str,
    name: String,
    now: i64,
) -> anyhow::Result<Transition> {
    let head = Head::new(code.clone(), actor, now);
    // The transition sets the event's fields on the tip and copies them into the event, with
    // the officer's name (`*_by`) on the tip only.
    let (event, from, to, by): (_, &[TipStatus], _, _) = match verb {
        Verb::Ack => (
            TipEvent::Acknowledged { head },
            &[TipStatus::Submitted],
            TipStatus::Acknowledged,
            "ack_by",
        ),
        Verb::Claim => (
            TipEvent::Claimed { head },
            &[TipStatus::Submitted, TipStatus::Acknowledged],
            TipStatus::InProgress,
            "claim_by",
        ),
        Verb::Close(disposition) => (
            TipEvent::Closed { head, disposition },
            &[
                TipStatus::Submitted,
                TipStatus::Acknowledged,
                TipStatus::InProgress,
            ],
            TipStatus::Closed,
            "close_by",
        ),
    };
    let mut fields = event.fields();
    fields.push((by, name));
    let action = Action {
        event: event.kind(),
        from,
        to,
        fields,
    };
    let detail = if let TipEvent::Closed { disposition, .. } = &event {
        disposition.as_str()
    } else {
        ""
    };
    // The audit record goes into the transition's own script: the change and its record land
    // together. Another append in between moves the head; then the record is computed again.
    for _ in 0..crate::audit::RETRIES {
        let record = crate::audit::next(
            &shared.store,
            now,
            actor,
            event.kind(),
            code.as_str(),
            detail,
        )
        .await?;
        let Some(result) = shared
            .store
            .transition(code, &action, now, actor, &record)
            .await?
        else {
            continue;
        };
        if let Transition::Done(_) = result {
            tracing::info!(tip = %code, action = event.kind(), "tip state changed");
        }
        return Ok(result);
    }
    anyhow::bail!("the audit head kept changing; the action was not applied")
}

/// Posts the card to the supervisors' group with who sent it up, once per tip, and appends an
/// `escalated` event.
async fn escalate(
    shared: &Shared,
    code: &ReceiptCode,
    actor: &str,
    officer: &str,
    now: i64,
) -> anyhow::Result<&'static str> {
    let desk = &shared.settings.desk;
    if desk.supervisor_group == 0 {
        return Ok("desk-no-supervisor");
    }
    let Some(tip) = shared.store.tip(code).await? else {
        return Ok("desk-unknown-tip");
    };
    if tip.status == TipStatus::Closed {
        return Ok("desk-already-closed");
    }
    if !shared.store.mark_escalated(code.as_str()).await? {
        return Ok("desk-already-escalated");
    }
    let header = crate::i18n::Msg::new("card-escalated")
        .arg("code", code)
        .arg("officer", officer);
    super::post_to_supervisors(shared, &tip, &header).await?;
    let event = TipEvent::Escalated {
        head: Head::new(code.clone(), actor, now),
    };
    crate::audit::event(&shared.store, None, &event, "").await?;
    tracing::info!(tip = %code, "tip escalated by an officer");
    Ok("desk-escalated")
}

/// Swaps the card's buttons for the dispositions, or back.
async fn show_menu(
    shared: &Shared,
    press: &OfficerPress,
    code: &ReceiptCode,
    dispositions: bool,
) -> anyhow::Result<()> {
    let tg = shared.telegram()?;
    send::answer_callback(tg, &press.callback_id).await;
    let (Some(tip), Some((chat, message, _))) = (
        shared.store.tip(code).await?,
        shared.store.card(code.as_str()).await?,
    ) else {
        return Ok(());
    };
    let markup = if dispositions && tip.status != TipStatus::Closed {
        Some(disposition_buttons(code, shared))
    } else {
        buttons(&tip, shared)
    };
    let mut req = tg.edit_message_reply_markup(ChatId(chat), MessageId(message));
    if let Some(m) = markup {
        req = req.reply_markup(m);
    }
    if let Err(e) = req.await {
        tracing::debug!(error = send::describe(&e), "card buttons not changed");
    }
    Ok(())
}
