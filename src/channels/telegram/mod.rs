//! Telegram through teloxide, as a [`crate::channels::CitizenChannel`] ([`TelegramChannel`]):
//! turning `Update`s into conversation inputs ([`parse`]), sending replies ([`send`]), and
//! receiving updates by long polling ([`poll`]) or webhook (the route in [`crate::http`], the
//! check in [`TelegramChannel`]). Either way an update is in the Redis inbox before Telegram is
//! told it arrived. The officer desk and the admin commands use the same client: duty groups
//! are on Telegram by design.

mod channel;
pub mod parse;
pub mod poll;
pub mod send;

use std::time::Duration;

use teloxide::Bot;
use teloxide::types::{MessageId, ReplyParameters};

pub use channel::{CAPABILITIES, MAX_TEXT_CHARS, SECRET_HEADER, TelegramChannel};

/// Builds a Bot API client for `token` against `api_url`, with `timeout` per request.
pub fn bot(token: &str, api_url: &str, timeout: Duration) -> anyhow::Result<Bot> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .tcp_nodelay(true)
        .build()?;
    let url = reqwest::Url::parse(api_url)?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

/// A reply to `message`, sent even when that message is gone by then (an officer who deleted
/// the message being answered, an admin who deleted a card): Telegram would otherwise refuse
/// it with "message to be replied not found" and the answer would be lost.
pub fn reply_to(message: i32) -> ReplyParameters {
    ReplyParameters::new(MessageId(message)).allow_sending_without_reply()
}
