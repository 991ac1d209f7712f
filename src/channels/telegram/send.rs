//! Sending to Telegram. A 429 is waited out (`retry_after`) and retried a few times; a network
//! failure or a 5xx is retried with a short backoff; "bot was blocked" and a deleted account
//! become [`SendError::Blocked`]; any other refusal is [`SendError::Refused`].

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{
    ButtonRequest, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton,
    KeyboardMarkup, KeyboardRemove, MessageId, ReplyMarkup,
};
use teloxide::{ApiError, RequestError};

use crate::channels::{OutKeyboard, Outgoing, SendError, fit};

/// Attempts per message before a transient failure is given back to the caller.
const ATTEMPTS: u32 = 4;
/// The longest `retry_after` waited out in place; longer ones go back to the caller.
const MAX_WAIT: Duration = Duration::from_secs(30);

fn markup(k: &OutKeyboard) -> Option<ReplyMarkup> {
    match k {
        OutKeyboard::None => None,
        OutKeyboard::Inline(rows) => Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(
            rows.iter().map(|row| {
                row.iter()
                    .map(|(label, data)| InlineKeyboardButton::callback(label, data))
                    .collect::<Vec<_>>()
            }),
        ))),
        OutKeyboard::Location(label) => Some(ReplyMarkup::Keyboard(
            KeyboardMarkup::new(vec![vec![
                KeyboardButton::new(label).request(ButtonRequest::Location),
            ]])
            .resize_keyboard()
            .one_time_keyboard(),
        )),
        OutKeyboard::Contact { share, anonymous } => Some(ReplyMarkup::Keyboard(
            KeyboardMarkup::new(vec![
                vec![KeyboardButton::new(share).request(ButtonRequest::Contact)],
                vec![KeyboardButton::new(anonymous)],
            ])
            .resize_keyboard()
            .one_time_keyboard(),
        )),
        OutKeyboard::Remove => Some(ReplyMarkup::KeyboardRemove(KeyboardRemove::new())),
    }
}

/// A teloxide error in words fit for a log line. teloxide's own text for an unreadable
/// response quotes the whole body, which can hold citizens' messages; this never does.
pub fn describe(err: &RequestError) -> String {
    match err {
        RequestError::InvalidJson { .. } => "unreadable response from the Bot API".to_owned(),
        // Telegram's descriptions can quote the message; personal data is blanked out.
        RequestError::Api(e) => format!(
            "Bot API error: {}",
            crate::rules::pii::redact(&e.to_string())
        ),
        RequestError::RetryAfter(s) => format!("rate limited for {:?}", s.duration()),
        RequestError::MigrateToChatId(_) => "the group became a supergroup".to_owned(),
        RequestError::Network(e) => format!("network: {e}"),
        RequestError::Io(e) => format!("io: {e}"),
    }
}

/// Classifies a teloxide error.
pub fn classify(err: &RequestError) -> (SendError, Option<Duration>) {
    match err {
        RequestError::RetryAfter(s) => (
            SendError::Transient("rate limited (429)".into()),
            Some(s.duration()),
        ),
        RequestError::Api(ApiError::BotBlocked)
        | RequestError::Api(ApiError::UserDeactivated)
        | RequestError::Api(ApiError::BotKicked)
        | RequestError::Api(ApiError::BotKickedFromSupergroup)
        | RequestError::Api(ApiError::ChatNotFound) => (SendError::Blocked, None),
        RequestError::Api(ApiError::Unknown(text))
            if text.contains("Internal Server Error")
                || text.contains("Bad Gateway")
                || text.contains("Gateway") =>
        {
            (SendError::Transient(text.clone()), None)
        }
        RequestError::Api(e) => (SendError::Refused(e.to_string()), None),
        RequestError::MigrateToChatId(id) => (SendError::Migrated(id.0), None),
        RequestError::Network(e) => (SendError::Transient(e.to_string()), None),
        RequestError::InvalidJson { .. } => (
            SendError::Transient("unreadable response (5xx?)".into()),
            None,
        ),
        RequestError::Io(e) => (SendError::Transient(e.to_string()), None),
    }
}

/// Runs `call` with the retry policy above.
pub async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, SendError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let err = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let (kind, wait) = classify(&err);
        match kind {
            SendError::Transient(_) if attempt < ATTEMPTS => {
                let wait = wait.unwrap_or(Duration::from_millis(200 << attempt));
                if wait > MAX_WAIT {
                    return Err(kind);
                }
                tracing::debug!(?wait, attempt, "telegram call failed; retrying");
                tokio::time::sleep(wait).await;
            }
            other => return Err(other),
        }
    }
}

/// `text` in parts that each fit one Telegram message ([`fit::split`]); a text of whitespace
/// only stays one part (Telegram refuses it as it would anyway).
pub fn parts(text: &str) -> Vec<String> {
    let parts = fit::split(text, fit::TELEGRAM_TEXT);
    if parts.is_empty() {
        vec![text.to_owned()]
    } else {
        parts
    }
}

/// Sends one message to `chat`: a text longer than Telegram takes goes in several, in order,
/// the buttons under the last one.
pub async fn send(bot: &Bot, chat: i64, out: &Outgoing) -> Result<(), SendError> {
    let parts = parts(&out.text);
    let last = parts.len() - 1;
    for (i, part) in parts.into_iter().enumerate() {
        with_retries(|| {
            let mut req = bot.send_message(ChatId(chat), part.clone());
            if i == last
                && let Some(m) = markup(&out.keyboard)
            {
                req = req.reply_markup(m);
            }
            async move { req.await.map(|_| ()) }
        })
        .await?;
    }
    Ok(())
}

/// Stops the button's spinner. Best effort: an old query cannot be answered, which is fine.
pub async fn answer_callback(bot: &Bot, id: &str) {
    let res = bot
        .answer_callback_query(teloxide::types::CallbackQueryId(id.to_owned()))
        .await;
    if let Err(e) = res {
        tracing::debug!(error = describe(&e), "answerCallbackQuery failed");
    }
}

/// Answers a button press with a short notice the presser sees. Best effort.
pub async fn answer_callback_text(bot: &Bot, id: &str, text: &str) {
    let res = bot
        .answer_callback_query(teloxide::types::CallbackQueryId(id.to_owned()))
        .text(fit::truncate(text, fit::TELEGRAM_CALLBACK_ANSWER))
        // A longer notice stays until dismissed instead of flashing at the top.
        .show_alert(text.chars().count() > 80)
        .await;
    if let Err(e) = res {
        tracing::debug!(error = describe(&e), "answerCallbackQuery failed");
    }
}

/// Removes the inline buttons of a message whose button was pressed, so it cannot be pressed
/// again. Best effort.
pub async fn clear_buttons(bot: &Bot, chat: i64, message_id: i32) {
    let res = bot
        .edit_message_reply_markup(ChatId(chat), MessageId(message_id))
        .await;
    if let Err(e) = res {
        tracing::debug!(error = describe(&e), "editMessageReplyMarkup failed");
    }
}
