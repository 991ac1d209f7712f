//! What an inbox entry is, decided once when it is read: [`classify`] parses the body (a
//! Telegram `Update` or a Zalo event) and names its audience in one [`Inbound`], which says
//! both which handler works it and which lane it waits in ([`Inbound::lane_key`]). Nothing here
//! touches Redis or the network; the only secret used is the alias key, so that the
//! platform's user id is replaced by the alias before anything else sees it.
//!
//! An entry that cannot be read is [`Inbound::Unreadable`]: logged and dropped by the worker,
//! never retried, since reading it again gives the same answer.

use teloxide::types::Update;

use crate::channels::telegram::parse::{self, GroupCommand, OfficerPress, OfficerReply, TgInbound};
use crate::channels::zalo::parse::{self as zparse, ZaloInbound};
use crate::privacy::{Channel, Vault};
use crate::store::{InboxEntry, InboxKind};

/// An inbox entry, parsed, by audience.
#[derive(Debug)]
pub enum Inbound {
    /// A citizen's message or button press in a private Telegram chat.
    TelegramCitizen {
        /// The citizen's alias.
        alias: String,
        /// What they did.
        inbound: TgInbound,
    },
    /// A citizen's event on Zalo.
    ZaloCitizen {
        /// The citizen's alias.
        alias: String,
        /// What they did.
        inbound: ZaloInbound,
    },
    /// An admin command (`/export`, `/stats`) in a private chat; the sender is checked by
    /// [`crate::admin`].
    AdminCommand {
        /// The sender's alias, as if they were a citizen: their updates stay in order.
        alias: String,
        /// The command.
        command: GroupCommand,
    },
    /// An officer's button press on a card in a group.
    OfficerPress(OfficerPress),
    /// A command typed in a group (`/pending`, `/tip`, `/stats`).
    GroupCommand(GroupCommand),
    /// An officer's text reply to a card: a question for the citizen.
    OfficerReply(OfficerReply),
    /// A group became a supergroup.
    Migration {
        /// The group's old id.
        old: i64,
        /// Its new id.
        new: i64,
    },
    /// A Telegram update for no one (an edit, a channel post, an officer's chatter): only
    /// marked processed.
    Other,
    /// A draft timer fired for this citizen (enqueued by [`super::run_sweeper`]).
    DraftTick {
        /// The citizen's alias.
        alias: String,
    },
    /// An entry that cannot be read; dropped with a log line.
    Unreadable(Unreadable),
}

/// Why an entry cannot be read.
#[derive(Debug)]
pub enum Unreadable {
    /// The Telegram body is no `Update`.
    Telegram,
    /// The Zalo body is no event of a citizen, with the parser's reason.
    Zalo(String),
    /// The entry has no kind this version knows.
    UnknownKind,
}

/// Parses `entry` once and says whose it is; `vault` turns platform ids into aliases.
pub fn classify(entry: &InboxEntry, vault: &Vault) -> Inbound {
    match entry.kind {
        Some(InboxKind::Telegram) => match serde_json::from_str::<Update>(&entry.body) {
            Ok(update) => telegram(&update, vault),
            Err(_) => Inbound::Unreadable(Unreadable::Telegram),
        },
        Some(InboxKind::Zalo) => match zparse::parse(entry.body.as_bytes()) {
            Ok(inbound) => Inbound::ZaloCitizen {
                alias: vault.alias(Channel::Zalo, &inbound.user_id),
                inbound,
            },
            Err(e) => Inbound::Unreadable(Unreadable::Zalo(e.to_string())),
        },
        Some(InboxKind::Tick) => Inbound::DraftTick {
            alias: entry.key.clone(),
        },
        None => Inbound::Unreadable(Unreadable::UnknownKind),
    }
}

/// A Telegram update's audience. An admin command comes first: it is also a private message,
/// which would otherwise be a citizen's.
fn telegram(update: &Update, vault: &Vault) -> Inbound {
    let alias = |user_id: u64| vault.alias(Channel::Telegram, &user_id.to_string());
    if let Some(command) = parse::parse_admin_command(update) {
        return Inbound::AdminCommand {
            alias: alias(command.user_id),
            command,
        };
    }
    if let Some(inbound) = parse::parse(update) {
        return Inbound::TelegramCitizen {
            alias: alias(inbound.user_id),
            inbound,
        };
    }
    if let Some(press) = parse::parse_officer(update) {
        Inbound::OfficerPress(press)
    } else if let Some(command) = parse::parse_group_command(update) {
        Inbound::GroupCommand(command)
    } else if let Some(reply) = parse::parse_officer_reply(update) {
        Inbound::OfficerReply(reply)
    } else if let Some((old, new)) = parse::parse_migration(update) {
        Inbound::Migration { old, new }
    } else {
        Inbound::Other
    }
}

impl Inbound {
    /// The lane the entry waits in: a citizen's (or admin's) updates one after the other,
    /// presses on one card one after the other. `None`: a lane of its own, behind nothing.
    pub fn lane_key(&self) -> Option<String> {
        match self {
            Self::TelegramCitizen { alias, .. }
            | Self::ZaloCitizen { alias, .. }
            | Self::AdminCommand { alias, .. }
            | Self::DraftTick { alias } => Some(alias.clone()),
            Self::OfficerPress(press) => Some(format!(
                "card:{}:{}",
                press.chat_id,
                press.message_id.unwrap_or_default()
            )),
            Self::GroupCommand(_)
            | Self::OfficerReply(_)
            | Self::Migration { .. }
            | Self::Other
            | Self::Unreadable(_) => None,
        }
    }
}
