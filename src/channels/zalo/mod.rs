//! The Zalo Bot Platform (`bot.zaloplatforms.com`), a Telegram-like Bot API without buttons,
//! locations or files, as a [`crate::channels::CitizenChannel`] ([`ZaloChannel`]): turning
//! updates into conversation inputs ([`parse`]), drawing replies as numbered menus
//! ([`crate::channels::menu`]), and calling the API ([`client`]). Updates arrive by webhook
//! (checked with [`verify_secret`]) or by `getUpdates` ([`poll`]), one at a time and without an
//! offset, so the caller dedupes on the message id.

mod channel;
pub mod client;
pub mod parse;
pub mod poll;
#[cfg(test)]
mod tests;

use subtle::ConstantTimeEq;

pub use super::menu;
pub use channel::{CAPABILITIES, ZaloChannel};

/// Header in which Zalo echoes the `secret_token` given to `setWebhook`.
pub const SECRET_HEADER: &str = "x-bot-api-secret-token";

/// Longest text or caption Zalo takes in one message: 2000 characters, counted here in UTF-16
/// code units (as Java, Zalo's server side, counts), which is never fewer than characters, so
/// a part that fits here fits whichever way Zalo counts ([`crate::channels::fit`]).
pub const MAX_TEXT_CHARS: usize = 2000;

/// Whether a webhook call's secret header matches `expected`. The header is trimmed (some
/// proxies pad it) and compared in constant time; an empty `expected` matches nothing, so a
/// missing configuration never opens the webhook.
pub fn verify_secret(given: Option<&str>, expected: &str) -> bool {
    let Some(given) = given else {
        return false;
    };
    !expected.is_empty() && bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes()))
}
