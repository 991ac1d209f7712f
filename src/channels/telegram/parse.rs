//! Telegram `Update` → conversation [`Input`]. Only private chats with people are citizen
//! conversations; anything else (groups, channels, other bots, edits) is not an input here.
//! Texts are NFC-normalised, so Vietnamese typed with combining marks compares equal.

use teloxide::types::{Message, Update, UpdateKind};

use crate::conversation::{Command, Evidence, EvidenceKind, Input, Phone};

/// A citizen's update, parsed. Its `Debug` shows no ids.
#[derive(Clone, PartialEq)]
pub struct TgInbound {
    /// The private chat (equal to the user id on Telegram).
    pub chat_id: i64,
    /// The sender; becomes an alias at once and is never stored.
    pub user_id: u64,
    /// Language of the sender's Telegram app.
    pub lang_code: Option<String>,
    /// What they did.
    pub input: Input,
    /// Set for a button press: the query to answer and the message carrying the button.
    pub callback: Option<Callback>,
    /// When the citizen sent the message (its `date`, in ms); `None` for a button press,
    /// which Telegram does not date.
    pub sent_ms: Option<i64>,
}

impl std::fmt::Debug for TgInbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TgInbound")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

/// A pressed inline button.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    /// `callback_query.id`, to stop the spinner.
    pub id: String,
    /// The message whose buttons were pressed.
    pub message_id: Option<i32>,
}

fn nfc(s: &str) -> String {
    crate::i18n::nfc(s)
}

/// Parses a citizen's update; `None` when the update is not one.
pub fn parse(update: &Update) -> Option<TgInbound> {
    match &update.kind {
        UpdateKind::Message(msg) => message(msg),
        UpdateKind::CallbackQuery(q) => {
            let chat = q.message.as_ref()?.chat();
            if !chat.is_private() || q.from.is_bot {
                return None;
            }
            Some(TgInbound {
                chat_id: chat.id.0,
                user_id: q.from.id.0,
                lang_code: q.from.language_code.clone(),
                input: Input::button(q.data.as_deref().unwrap_or_default()),
                callback: Some(Callback {
                    id: q.id.0.clone(),
                    message_id: q.message.as_ref().map(|m| m.id().0),
                }),
                sent_ms: None,
            })
        }
        _ => None,
    }
}

/// An officer's button press on a card in a group.
#[derive(Clone, PartialEq)]
pub struct OfficerPress {
    /// The group.
    pub chat_id: i64,
    /// The officer's Telegram id (checked against `desk.officers`, never shown to citizens).
    pub user_id: u64,
    /// The officer's first name, shown on the card to the other officers.
    pub first_name: String,
    /// The button's data, e.g. `dk:ack:TB-7K3Q-X9MD`.
    pub data: String,
    /// The query to answer.
    pub callback_id: String,
    /// The message whose button was pressed.
    pub message_id: Option<i32>,
}

impl std::fmt::Debug for OfficerPress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficerPress")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// An officer's text reply, in a group, to one of the bot's messages there.
#[derive(Clone, PartialEq)]
pub struct OfficerReply {
    /// The group.
    pub chat_id: i64,
    /// The officer.
    pub user_id: u64,
    /// The officer's message.
    pub message_id: i32,
    /// The bot message replied to.
    pub reply_to: i32,
    /// What the officer wrote.
    pub text: String,
}

impl std::fmt::Debug for OfficerReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OfficerReply([REDACTED])")
    }
}

/// Parses an officer's text reply to a bot message in a group; `None` for anything else.
pub fn parse_officer_reply(update: &Update) -> Option<OfficerReply> {
    let UpdateKind::Message(msg) = &update.kind else {
        return None;
    };
    let from = msg.from.as_ref()?;
    let replied = msg.reply_to_message()?;
    if msg.chat.is_private() || from.is_bot || !replied.from.as_ref().is_some_and(|u| u.is_bot) {
        return None;
    }
    let text = msg.text()?;
    if text.starts_with('/') {
        return None;
    }
    Some(OfficerReply {
        chat_id: msg.chat.id.0,
        user_id: from.id.0,
        message_id: msg.id.0,
        reply_to: replied.id.0,
        text: nfc(text),
    })
}

/// A group's service message saying it became a supergroup: (old id, new id).
pub fn parse_migration(update: &Update) -> Option<(i64, i64)> {
    let UpdateKind::Message(msg) = &update.kind else {
        return None;
    };
    if let Some(new) = msg.migrate_to_chat_id() {
        return Some((msg.chat.id.0, new.0));
    }
    msg.migrate_from_chat_id().map(|old| (old.0, msg.chat.id.0))
}

/// The group the bot was just added to (a `my_chat_member` update whose new state has the bot
/// in a group or supergroup).
pub fn parse_added_to_group(update: &Update) -> Option<i64> {
    let UpdateKind::MyChatMember(change) = &update.kind else {
        return None;
    };
    let joined =
        change.new_chat_member.kind.is_present() && !change.old_chat_member.kind.is_present();
    (joined && (change.chat.is_group() || change.chat.is_supergroup())).then_some(change.chat.id.0)
}

/// A command typed in a group (`/pending`, `/tip <code>`, `/stats`).
#[derive(Clone, PartialEq)]
pub struct GroupCommand {
    /// The group.
    pub chat_id: i64,
    /// Who typed it.
    pub user_id: u64,
    /// The command's name, lower case, without `/` and `@bot`.
    pub name: String,
    /// Its argument, if any.
    pub arg: Option<String>,
}

impl std::fmt::Debug for GroupCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommand")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Parses a command typed in a group chat; `None` for anything else.
pub fn parse_group_command(update: &Update) -> Option<GroupCommand> {
    let UpdateKind::Message(msg) = &update.kind else {
        return None;
    };
    let from = msg.from.as_ref()?;
    if msg.chat.is_private() || from.is_bot {
        return None;
    }
    let rest = msg.text()?.trim().strip_prefix('/')?;
    let (head, arg) = match rest.split_once(char::is_whitespace) {
        Some((h, a)) => (h, Some(a.trim().to_owned()).filter(|a| !a.is_empty())),
        None => (rest, None),
    };
    Some(GroupCommand {
        chat_id: msg.chat.id.0,
        user_id: from.id.0,
        name: head.split('@').next().unwrap_or(head).to_ascii_lowercase(),
        arg,
    })
}

/// The admin commands: `/export [week]` and `/stats [week]`.
pub const ADMIN_COMMANDS: [&str; 2] = ["export", "stats"];

/// Parses an admin command (`/export`, `/stats`) typed in a private chat, whoever sent it (the
/// caller checks who may); `None` for anything else.
pub fn parse_admin_command(update: &Update) -> Option<GroupCommand> {
    let UpdateKind::Message(msg) = &update.kind else {
        return None;
    };
    let from = msg.from.as_ref()?;
    if !msg.chat.is_private() || from.is_bot {
        return None;
    }
    let rest = msg.text()?.trim().strip_prefix('/')?;
    let (head, arg) = match rest.split_once(char::is_whitespace) {
        Some((h, a)) => (h, Some(a.trim().to_owned()).filter(|a| !a.is_empty())),
        None => (rest, None),
    };
    let name = head.split('@').next().unwrap_or(head).to_ascii_lowercase();
    ADMIN_COMMANDS
        .contains(&name.as_str())
        .then_some(GroupCommand {
            chat_id: msg.chat.id.0,
            user_id: from.id.0,
            name,
            arg,
        })
}

/// Parses a button press in a group chat; `None` for anything else.
pub fn parse_officer(update: &Update) -> Option<OfficerPress> {
    let UpdateKind::CallbackQuery(q) = &update.kind else {
        return None;
    };
    let chat = q.message.as_ref()?.chat();
    if chat.is_private() || q.from.is_bot {
        return None;
    }
    Some(OfficerPress {
        chat_id: chat.id.0,
        user_id: q.from.id.0,
        first_name: nfc(&q.from.first_name),
        data: q.data.clone().unwrap_or_default(),
        callback_id: q.id.0.clone(),
        message_id: q.message.as_ref().map(|m| m.id().0),
    })
}

fn message(msg: &Message) -> Option<TgInbound> {
    let from = msg.from.as_ref()?;
    if !msg.chat.is_private() || from.is_bot {
        return None;
    }
    Some(TgInbound {
        chat_id: msg.chat.id.0,
        user_id: from.id.0,
        lang_code: from.language_code.clone(),
        input: input(msg, from.id.0),
        callback: None,
        sent_ms: Some(msg.date.timestamp_millis()),
    })
}

fn input(msg: &Message, from: u64) -> Input {
    let media = |kind, id: &str, size: u32, mime: Option<String>| {
        Input::Media(
            Evidence {
                kind,
                file_id: id.to_owned(),
                size: (size > 0).then_some(u64::from(size)),
                mime,
                message_id: Some(i64::from(msg.id.0)),
            },
            msg.caption().map(nfc),
        )
    };
    if let Some(text) = msg.text() {
        let text = nfc(text);
        return match Command::parse(&text) {
            Some(cmd) => Input::Command(cmd),
            None => Input::Text(text),
        };
    }
    if let Some(sizes) = msg.photo() {
        // Sizes come smallest first; the last is the full picture.
        if let Some(p) = sizes.last() {
            return media(
                EvidenceKind::Photo,
                &p.file.id.0,
                p.file.size,
                Some("image/jpeg".into()),
            );
        }
    }
    if let Some(v) = msg.video() {
        return media(
            EvidenceKind::Video,
            &v.file.id.0,
            v.file.size,
            v.mime_type.as_ref().map(ToString::to_string),
        );
    }
    if let Some(v) = msg.voice() {
        return media(
            EvidenceKind::Voice,
            &v.file.id.0,
            v.file.size,
            v.mime_type.as_ref().map(ToString::to_string),
        );
    }
    if let Some(a) = msg.audio() {
        return media(
            EvidenceKind::Audio,
            &a.file.id.0,
            a.file.size,
            a.mime_type.as_ref().map(ToString::to_string),
        );
    }
    if let Some(v) = msg.video_note() {
        return media(EvidenceKind::VideoNote, &v.file.id.0, v.file.size, None);
    }
    if let Some(d) = msg.document() {
        return media(
            EvidenceKind::Document,
            &d.file.id.0,
            d.file.size,
            d.mime_type.as_ref().map(ToString::to_string),
        );
    }
    if let Some(l) = msg.location() {
        return Input::Location {
            lat: l.latitude,
            lon: l.longitude,
        };
    }
    if let Some(c) = msg.contact() {
        return Input::Contact {
            phone: Phone::plain(&c.phone_number),
            own: c.user_id.is_some_and(|u| u.0 == from),
        };
    }
    if msg.sticker().is_some() {
        return Input::Sticker;
    }
    Input::Unsupported
}
