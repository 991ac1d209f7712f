//! Citizen channels: the messaging platforms a citizen reaches the tip line through, each
//! behind one trait, [`CitizenChannel`]. A channel parses its platform's updates into a
//! [`CitizenUpdate`] (the conversation's [`Input`] and what is needed to answer), sends an
//! [`Outgoing`] message, receives updates (long polling or a webhook) and says what its platform
//! can show in its [`Capabilities`]: inline buttons or numbered menus, location pins, contact
//! cards, files, the length of a message. Everything above this module (the intake's citizen
//! path, [`crate::outbound`], the webhook routes, the receivers' start-up) asks the
//! [`Registry`] for the channel of a [`Channel`](crate::privacy::Channel) or an inbox entry and goes through the trait.
//!
//! A reply is rendered once, in the citizen's language, into the channel-neutral [`Outgoing`];
//! each channel draws it with its platform's widgets. A text longer than the platform takes is sent in parts
//! ([`fit::split`]), counted in UTF-16 units as the platforms count.
//!
//! Two channels today: [`telegram`] (buttons, pins, contact cards, hosted files) and [`zalo`]
//! (the Zalo Bot Platform: text with numbered menus ([`menu`]), links to images and voice
//! notes). Adding one takes a folder here with a type that implements [`CitizenChannel`], its
//! `pub mod` line and one line in [`Registry::build`]; plus, as everywhere a platform is
//! named at rest, a variant of [`Channel`](crate::privacy::Channel) (the stored identifier, in aliases and routes) and of
//! [`crate::store::InboxKind`] (the inbox entry's kind).
//!
//! Officer duty groups and admins are on Telegram by design: an update of theirs is no
//! citizen's, and the Telegram channel hands it on unread ([`Parsed::Staff`]).
//!
//! [`Input`]: crate::conversation::Input

pub mod fit;
pub mod menu;
pub mod telegram;
pub mod zalo;

mod registry;
#[cfg(test)]
pub(crate) mod tests;
mod traits;

pub use registry::{Registry, Setup};
pub use traits::{
    Capabilities, Choices, CitizenChannel, CitizenUpdate, Files, Parsed, Press, Receiver, Unstored,
    Webhook, WebhookError,
};

use serde::{Deserialize, Serialize};

use crate::conversation::{Keyboard, Label, Reply};
use crate::i18n::{Lang, Texts};

/// A message ready to send, with its labels in the citizen's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Message id in the locale files (for tests and logs; never shown).
    pub id: String,
    /// The text.
    pub text: String,
    /// Buttons.
    pub keyboard: OutKeyboard,
}

/// Buttons of an [`Outgoing`] message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutKeyboard {
    /// None.
    None,
    /// Inline buttons: rows of (label, data).
    Inline(Vec<Vec<(String, String)>>),
    /// A reply-keyboard button that shares the location.
    Location(String),
    /// Reply-keyboard buttons: share the phone number, or stay anonymous.
    Contact {
        /// Label of the share button.
        share: String,
        /// Label of the anonymous button.
        anonymous: String,
    },
    /// Remove the reply keyboard.
    Remove,
}

/// Renders a reply in `lang`.
pub fn render(reply: &Reply, lang: Lang, texts: &Texts) -> Outgoing {
    let label = |l: &Label| match l {
        Label::Msg(m) => texts.render(lang, m),
        Label::Plain(s) => s.clone(),
    };
    let keyboard = match &reply.keyboard {
        Keyboard::None => OutKeyboard::None,
        Keyboard::Inline(rows) => OutKeyboard::Inline(
            rows.iter()
                .map(|row| {
                    row.iter()
                        .map(|b| (label(&b.label), b.data.clone()))
                        .collect()
                })
                .collect(),
        ),
        Keyboard::RequestLocation => {
            OutKeyboard::Location(texts.get(lang, "button-share-location"))
        }
        Keyboard::RequestContact => OutKeyboard::Contact {
            share: texts.get(lang, "button-share-phone"),
            anonymous: texts.get(lang, "button-anonymous"),
        },
        Keyboard::Remove => OutKeyboard::Remove,
    };
    Outgoing {
        id: reply.msg.id.clone(),
        text: texts.render(lang, &reply.msg),
        keyboard,
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The citizen blocked the bot or deleted their account: do not retry.
    #[error("the recipient blocked the bot or is gone")]
    Blocked,
    /// The platform refused the request itself (a bug on our side): retrying will not help.
    #[error("the platform refused the message: {0}")]
    Refused(String),
    /// The platform or the network failed; retry later.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The group became a supergroup with this id; send there.
    #[error("the group moved to {0}")]
    Migrated(i64),
}
