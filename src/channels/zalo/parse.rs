//! Zalo Bot Platform update → [`ZaloInbound`] → conversation [`Input`]. The body arrives wrapped
//! as the docs show (`{"ok": true, "result": {event_name, message}}`) or bare as integrators
//! report (`{event_name, message}`); both are read. Ids are opaque strings (numbers are taken
//! too), dates are epoch milliseconds, and the image URL is in `photo_url` or `photo`.
//!
//! A body without an event name or a message id is an error; so is a group message or one from a
//! bot, which is no citizen's private conversation. Anything else a citizen can send parses,
//! possibly as [`ZaloKind::Unsupported`]. Errors never quote the body, which holds their words.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::conversation::{Command, Evidence, EvidenceKind, Input};

/// The `event_name` of each message kind.
pub mod events {
    /// A text message.
    pub const TEXT: &str = "message.text.received";
    /// An image, with an optional caption.
    pub const IMAGE: &str = "message.image.received";
    /// A sticker.
    pub const STICKER: &str = "message.sticker.received";
    /// A voice note.
    pub const VOICE: &str = "message.voice.received";
    /// Any other content, and everything sent by users Zalo protects (children and others).
    pub const UNSUPPORTED: &str = "message.unsupported.received";
}

/// Why a body is not a citizen's update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all (position only; the body is never quoted).
    #[error("the body is not JSON ({0})")]
    Json(String),
    /// JSON, but not shaped like an update.
    #[error("the body is not shaped like a Zalo update")]
    Shape,
    /// No `event_name`.
    #[error("the update has no event_name")]
    NoEvent,
    /// No `message` object.
    #[error("the update has no message")]
    NoMessage,
    /// No `message.message_id`: it could be neither deduplicated nor answered reliably.
    #[error("the message has no message_id")]
    NoMessageId,
    /// Neither `chat.id` nor `from.id`: there is no one to answer.
    #[error("the message names no chat and no sender")]
    NoChat,
    /// A group message or a bot's: not a citizen's private conversation.
    #[error("not a citizen's private message: {0}")]
    NotACitizen(&'static str),
}

/// A citizen's update, parsed. Its `Debug` shows no ids, names or content.
#[derive(Clone, PartialEq)]
pub struct ZaloInbound {
    /// `message.message_id`; with the event it is the dedupe key (Zalo may deliver twice and
    /// `getUpdates` has no offset).
    pub message_id: String,
    /// `message.chat.id`, where replies go (equal to the user id in a private chat).
    pub chat_id: String,
    /// `message.from.id`; becomes an alias at once and is never stored.
    pub user_id: String,
    /// `message.from.display_name`; never logged, never stored.
    pub user_name: Option<String>,
    /// `message.date`, in ms since the epoch (0 when missing).
    pub date_ms: i64,
    /// What they sent.
    pub kind: ZaloKind,
}

impl std::fmt::Debug for ZaloInbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZaloInbound")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What a Zalo message carries. Its `Debug` shows sizes, not content.
#[derive(Clone, PartialEq, Eq)]
pub enum ZaloKind {
    /// Text, NFC-normalised.
    Text(String),
    /// An image on Zalo's CDN (download it soon: the URL's lifetime is unknown).
    Image {
        /// The image URL.
        url: String,
        /// Its caption, NFC-normalised.
        caption: Option<String>,
    },
    /// A voice note.
    Voice {
        /// The audio URL.
        url: String,
        /// Length when Zalo says.
        duration_secs: Option<u32>,
    },
    /// A sticker.
    Sticker,
    /// Anything else, including an image or voice event without a usable URL.
    Unsupported,
}

impl std::fmt::Debug for ZaloKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chars = |s: &str| format!("<{} chars>", s.chars().count());
        match self {
            Self::Text(t) => f.debug_tuple("Text").field(&chars(t)).finish(),
            Self::Image { caption, .. } => f
                .debug_struct("Image")
                .field("caption", &caption.as_deref().map(chars))
                .finish_non_exhaustive(),
            Self::Voice { duration_secs, .. } => f
                .debug_struct("Voice")
                .field("duration_secs", duration_secs)
                .finish_non_exhaustive(),
            Self::Sticker => f.write_str("Sticker"),
            Self::Unsupported => f.write_str("Unsupported"),
        }
    }
}

/// An update as Zalo sends it, once unwrapped from `{ok, result}`.
#[derive(Clone, Default, Deserialize)]
pub struct Update {
    /// E.g. `message.text.received`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub event_name: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<Message>,
}

/// `update.message`; every field is optional here and checked by [`parse_value`].
#[derive(Clone, Default, Deserialize)]
pub struct Message {
    /// The sender.
    #[serde(default)]
    pub from: Option<Sender>,
    /// The chat.
    #[serde(default)]
    pub chat: Option<Chat>,
    /// Message id (string; a number is taken too).
    #[serde(default, deserialize_with = "lenient_id")]
    pub message_id: Option<String>,
    /// Epoch ms (seconds are recognised and converted).
    #[serde(default, deserialize_with = "lenient_ms")]
    pub date: Option<i64>,
    /// Text of a text message.
    #[serde(default, deserialize_with = "lenient_string")]
    pub text: Option<String>,
    /// Image URL as the official SDK names it.
    #[serde(default, deserialize_with = "lenient_string")]
    pub photo_url: Option<String>,
    /// Image URL as the docs name it; a string, or an array or object holding one.
    #[serde(default)]
    pub photo: Option<Value>,
    /// Caption of an image.
    #[serde(default, deserialize_with = "lenient_string")]
    pub caption: Option<String>,
    /// URL of a voice note.
    #[serde(default, deserialize_with = "lenient_string")]
    pub voice_url: Option<String>,
    /// Length of a voice note in seconds, if given.
    #[serde(default, deserialize_with = "lenient_u32")]
    pub duration: Option<u32>,
    /// URL of a sticker (and of a voice note in some versions).
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: Option<String>,
    /// Attachments, as some integrations report them; a last resort for media URLs.
    #[serde(default)]
    pub attachments: Option<Value>,
}

/// `message.from`.
#[derive(Clone, Default, Deserialize)]
pub struct Sender {
    /// User id.
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: Option<String>,
    /// Display name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub display_name: Option<String>,
    /// Name, as some versions call it.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// Whether the sender is a bot.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_bot: Option<bool>,
}

/// `message.chat`.
#[derive(Clone, Default, Deserialize)]
pub struct Chat {
    /// Chat id.
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: Option<String>,
    /// `PRIVATE` or `GROUP`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub chat_type: Option<String>,
}

/// An id as a string: Zalo sends strings, some versions and SDKs numbers.
pub(super) fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(id_string))
}

/// A string field; any other type is taken as missing rather than failing the whole update.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Below this a date is taken to be in seconds: 10^11 ms is 1973, 10^11 s is the year 5138.
const SECONDS_BELOW: i64 = 100_000_000_000;

fn lenient_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let n = match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(n.map(|n| {
        if n > 0 && n < SECONDS_BELOW {
            n.saturating_mul(1000)
        } else {
            n
        }
    }))
}

fn nfc(s: &str) -> String {
    crate::i18n::nfc(s)
}

/// An http(s) URL in `v`: a string, or the last URL in an array (sizes come smallest first, as
/// on Telegram), or an object's `url` / `photo_url` / `payload.url`.
fn url_in(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
            (lower.starts_with("https://") || lower.starts_with("http://")).then(|| s.to_owned())
        }
        Value::Array(items) => items.iter().rev().find_map(url_in),
        Value::Object(map) => ["url", "photo_url", "payload"]
            .iter()
            .find_map(|k| map.get(*k).and_then(url_in)),
        _ => None,
    }
}

/// Parses a webhook or `getUpdates` body.
pub fn parse(body: &[u8]) -> Result<ZaloInbound, ParseError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ParseError::Json(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    parse_value(&v)
}

/// The update inside either envelope: `{ok, result: update}` or the update itself.
pub fn unwrap_envelope(v: &Value) -> &Value {
    match v.get("result") {
        Some(inner) if inner.is_object() && v.get("event_name").is_none() => inner,
        _ => v,
    }
}

/// Parses an update already read as JSON, in either envelope.
pub fn parse_value(v: &Value) -> Result<ZaloInbound, ParseError> {
    let update = Update::deserialize(unwrap_envelope(v)).map_err(|_| ParseError::Shape)?;
    let event = update
        .event_name
        .filter(|e| !e.trim().is_empty())
        .ok_or(ParseError::NoEvent)?;
    let msg = update.message.ok_or(ParseError::NoMessage)?;
    let message_id = msg.message_id.clone().ok_or(ParseError::NoMessageId)?;

    let from = msg.from.clone().unwrap_or_default();
    let chat = msg.chat.clone().unwrap_or_default();
    if from.is_bot == Some(true) {
        return Err(ParseError::NotACitizen("sent by a bot"));
    }
    if chat
        .chat_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("GROUP"))
    {
        return Err(ParseError::NotACitizen("a group chat"));
    }
    // In a private chat the two ids are equal; either one stands in for a missing other.
    let chat_id = chat
        .id
        .or_else(|| from.id.clone())
        .ok_or(ParseError::NoChat)?;
    let user_id = from.id.unwrap_or_else(|| chat_id.clone());

    Ok(ZaloInbound {
        message_id,
        chat_id,
        user_id,
        user_name: from.display_name.or(from.name).map(|n| nfc(&n)),
        date_ms: msg.date.unwrap_or(0),
        kind: kind(&event, &msg),
    })
}

fn kind(event: &str, msg: &Message) -> ZaloKind {
    let attachment_url = || msg.attachments.as_ref().and_then(url_in);
    match event {
        events::TEXT => match &msg.text {
            Some(t) => ZaloKind::Text(nfc(t)),
            None => ZaloKind::Unsupported,
        },
        events::IMAGE => {
            let url = msg
                .photo_url
                .as_ref()
                .and_then(|u| url_in(&Value::String(u.clone())))
                .or_else(|| msg.photo.as_ref().and_then(url_in))
                .or_else(attachment_url);
            // Some versions may put the caption in `text`.
            let caption = msg
                .caption
                .as_deref()
                .or(msg.text.as_deref())
                .filter(|c| !c.trim().is_empty())
                .map(nfc);
            match url {
                Some(url) => ZaloKind::Image { url, caption },
                None => ZaloKind::Unsupported,
            }
        }
        events::VOICE => {
            let url = msg
                .voice_url
                .iter()
                .chain(&msg.url)
                .find_map(|u| url_in(&Value::String(u.clone())))
                .or_else(attachment_url);
            match url {
                Some(url) => ZaloKind::Voice {
                    url,
                    duration_secs: msg.duration,
                },
                None => ZaloKind::Unsupported,
            }
        }
        events::STICKER => ZaloKind::Sticker,
        _ => ZaloKind::Unsupported,
    }
}

/// The conversation input for a message: a command when the text is one, text otherwise, and
/// evidence for an image or a voice note (the URL stands in for Telegram's `file_id`). `None` for
/// a sticker or unsupported content; the caller answers those with a friendly note.
pub fn to_input(kind: &ZaloKind) -> Option<Input> {
    let media = |kind, url: &str, caption: Option<String>| {
        Input::Media(
            Evidence {
                kind,
                file_id: url.to_owned(),
                size: None,
                mime: None,
                // Zalo's ids are strings and there is no copyMessage to use them for.
                message_id: None,
            },
            caption,
        )
    };
    match kind {
        ZaloKind::Text(text) => Some(match Command::parse(text) {
            Some(cmd) => Input::Command(cmd),
            None => Input::Text(text.clone()),
        }),
        ZaloKind::Image { url, caption } => Some(media(EvidenceKind::Photo, url, caption.clone())),
        ZaloKind::Voice { url, .. } => Some(media(EvidenceKind::Voice, url, None)),
        ZaloKind::Sticker | ZaloKind::Unsupported => None,
    }
}
