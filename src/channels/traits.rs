//! The channel trait and the channel-neutral types it speaks in. An implementation knows its
//! platform's wire format and API; callers know only these types and the [`Capabilities`].

use std::any::Any;
use std::sync::Arc;

use axum::http::HeaderMap;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::{Outgoing, SendError};
use crate::conversation::{EvidenceKind, Input};
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::store::{InboxKind, Store};

/// How a channel offers a reply's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choices {
    /// Buttons under the message, pressed (Telegram's inline keyboard).
    Buttons,
    /// Numbered lines under the text, answered by typing the number or the option's words
    /// ([`super::menu`]); the menu last shown is kept per chat to read the answer against.
    NumberedMenu,
}

/// Where a channel's files (a citizen's evidence) live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// On the platform, under ids the bot can download again and copy between chats.
    Hosted,
    /// Behind links to the platform's servers that stop working after a while: fetched while
    /// they still work (the officer desk uploads them under the card).
    Links,
}

/// What a channel's platform can show and tell; the callers' only view of its differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Buttons or numbered menus.
    pub choices: Choices,
    /// A button can share the citizen's location as a pin; without one the conversation takes
    /// a typed place.
    pub location_pin: bool,
    /// A button can share the citizen's phone number as a contact card; without one a number
    /// typed at the contact step is the share.
    pub contact_button: bool,
    /// Where the files a citizen sends live.
    pub files: Files,
    /// Kinds of files a citizen can send.
    pub file_kinds: &'static [EvidenceKind],
    /// Longest text in one message, in UTF-16 code units ([`super::fit::len`]); the channel
    /// sends a longer one in parts ([`super::fit::split`]).
    pub max_text_chars: usize,
    /// Updates carry the language of the citizen's app, which then picks the reply language;
    /// otherwise the conversation's stored language does.
    pub app_language: bool,
    /// The platform's terms want a citizen told, before anything else, that they talk to an
    /// automated system (the `welcome` text, sent before the first reply of a conversation).
    pub automated_notice: bool,
    /// Suffix of the locale ids worded for this channel (`welcome-zalo` for `zalo`); a text
    /// without such a variant is used as it is.
    pub text_variant: Option<&'static str>,
}

impl Capabilities {
    /// Text only: no buttons to press, no pins, no contact cards, no files.
    pub const PLAIN: Self = Self {
        choices: Choices::NumberedMenu,
        location_pin: false,
        contact_button: false,
        files: Files::Links,
        file_kinds: &[],
        max_text_chars: 1000,
        app_language: false,
        automated_notice: false,
        text_variant: None,
    };
}

/// A citizen's update, parsed by its channel. Its `Debug` shows no ids and no text.
#[derive(Clone, PartialEq)]
pub struct CitizenUpdate {
    /// The sender's platform id; turned into an alias at once and never stored.
    pub user_id: String,
    /// The chat replies go to.
    pub chat: String,
    /// The language of the citizen's app, when the platform says (see
    /// [`Capabilities::app_language`]).
    pub lang: Option<Lang>,
    /// What the conversation receives; `None`: nothing for it (the update is only marked).
    pub input: Option<Input>,
    /// The message's text as typed, when it was text: on a channel with numbered menus it may
    /// be a choice, at the contact step a phone number.
    pub typed: Option<String>,
    /// Set when a button was pressed.
    pub press: Option<Press>,
    /// When the citizen sent it, by the platform's clock (ms since the epoch): per-citizen
    /// limits count it in that minute, not in the minute it is worked. `None` when the
    /// platform does not say (a Telegram button press).
    pub sent_ms: Option<i64>,
}

impl std::fmt::Debug for CitizenUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CitizenUpdate")
            .field("input", &self.input)
            .field("press", &self.press.is_some())
            .finish_non_exhaustive()
    }
}

/// A pressed button: the platform's handle to acknowledge the press, and the message that
/// carried the button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    /// The press's id on the platform (Telegram's `callback_query.id`).
    pub id: String,
    /// The message whose button was pressed.
    pub message: Option<i64>,
}

/// An inbox body, parsed by its channel.
// Short-lived (moved into the intake's `Inbound` at once), so the citizen's update is not
// boxed for the rarer staff update's sake.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Parsed {
    /// A citizen's message or button press.
    Citizen(CitizenUpdate),
    /// An update for the officers' side (duty groups, admins), which are on Telegram by
    /// design: the intake reads it with [`super::telegram::parse`].
    Staff(Box<teloxide::types::Update>),
}

/// What a webhook call carries, once its secret and body are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Webhook {
    /// An update for the inbox, under this key (the platform's update id, for dedupe).
    Store {
        /// The inbox key.
        key: String,
    },
    /// Understood and not ours (another kind of event, a group's message): answered 200 so
    /// the platform does not send it again, and not stored.
    Ignore,
}

/// Why a webhook call is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// The secret header is missing or wrong; answered with this status (401 or 403, as the
    /// platform's documentation has it).
    WrongSecret {
        /// The HTTP status.
        status: u16,
    },
    /// The body is not an update of this platform; answered 400 with this message.
    BadBody(&'static str),
}

/// What a receiver does with updates Redis refused to store (out of memory, down): they are
/// not acknowledged, and [`crate::outage`] counts them, logs why and tells each citizen among
/// the senders, at most once in ten minutes, that the line is briefly unavailable.
pub trait Unstored: Send + Sync {
    /// Redis refused `bodies` (updates of `channel`, as the platform sent them) with `error`.
    /// Returns at once; the notices go out in the background.
    fn refused(&self, channel: Channel, bodies: &[&str], error: &redis::RedisError);

    /// Redis took an update.
    fn stored(&self);
}

/// A receiving loop to run as a supervised role (long polling).
pub struct Receiver {
    /// The role's name (`telegram-poll`).
    pub role: &'static str,
    /// The loop; it ends at shutdown.
    pub task: BoxFuture<'static, ()>,
}

/// One messaging platform citizens reach the tip line through. Implementations are built from
/// the settings and secrets by [`super::Registry::build`], which holds every channel this
/// version knows, enabled or not (a disabled one still reads inbox entries left from when it
/// ran, and refuses to send).
pub trait CitizenChannel: Any + Send + Sync {
    /// The stored identifier (in aliases, routes, tips).
    fn id(&self) -> Channel;

    /// The kind of the inbox entries that hold its updates.
    fn inbox_kind(&self) -> InboxKind;

    /// The tag of its updates' `seen` marks (`seen:<tag>:<update>`); stored, so it never
    /// changes.
    fn seen_tag(&self) -> &'static str;

    /// What its platform can show and tell.
    fn capabilities(&self) -> &Capabilities;

    /// Whether it runs: enabled in the settings, with a token.
    fn enabled(&self) -> bool;

    /// Parses an inbox entry's body; `Err` says why it is unreadable (never quoting it).
    fn parse(&self, body: &str) -> Result<Parsed, String>;

    /// Sends one message to `chat`, retrying transient failures as its platform wants.
    fn send<'a>(&'a self, chat: &'a str, out: &'a Outgoing)
    -> BoxFuture<'a, Result<(), SendError>>;

    /// Tells the platform a press arrived (stops the button's spinner). Best effort; runs
    /// alongside the intake's first Redis round trip.
    fn press_received<'a>(&'a self, _press: &'a Press) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Retires the pressed message's buttons so they cannot be pressed again. Best effort;
    /// runs alongside the conversation step.
    fn press_handled<'a>(&'a self, _chat: &'a str, _press: &'a Press) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }

    /// The path of its webhook route, when it is enabled and receives by webhook.
    fn webhook_path(&self) -> Option<&str>;

    /// Checks a webhook call's secret header and body.
    fn webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError>;

    /// Prepares receiving at start-up: registers or removes the webhook with the platform and,
    /// in polling mode, gives the polling loop, which appends to `store`'s inbox until
    /// `shutdown` and tells `unstored` what Redis refused. Nothing when disabled.
    fn start<'a>(
        &'a self,
        store: Store,
        unstored: Arc<dyn Unstored>,
        shutdown: CancellationToken,
    ) -> BoxFuture<'a, anyhow::Result<Option<Receiver>>>;
}
