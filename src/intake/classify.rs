//! What an inbox entry is, decided once when it is read: [`classify`] has the entry's channel
//! ([`crate::channels::CitizenChannel::parse`]) parse the body and names its audience in one
//! [`Inbound`], which says both which handler works it and which lane it waits in
//! ([`Inbound::lane_key`]). A citizen's update is channel-neutral from here on; an update for
//! the officers' side (duty groups, admins, on Telegram by design) is read here with
//! Telegram's parsers. Nothing here touches Redis or the network. The vault opens the sealed
//! body ([`Vault::open_inbox`]; a body an earlier version wrote in clear is read as it is) and
//! replaces the platform's user id by the alias before anything else sees it.
//!
//! An entry that cannot be read is [`Inbound::Unreadable`]: moved to the inbox's dead letters
//! by the worker at once, never retried, since reading it again gives the same answer; a
//! later version that can read it replays it from there.

use teloxide::types::Update;

use crate::channels::telegram::parse::{self, GroupCommand, OfficerPress, OfficerReply};
use crate::channels::{CitizenUpdate, Parsed, Registry};
use crate::privacy::{Channel, Vault};
use crate::store::{InboxEntry, InboxKind};

/// An inbox entry, parsed, by audience.
#[derive(Debug)]
pub enum Inbound {
    /// A citizen's message or button press, on any channel.
    Citizen {
        /// The channel.
        channel: Channel,
        /// The citizen's alias.
        alias: String,
        /// What they did.
        update: CitizenUpdate,
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
    /// The bot was added to a group (`my_chat_member`).
    AddedToGroup {
        /// The group.
        chat: i64,
    },
    /// A Telegram update for no one (an edit, a channel post, an officer's chatter): only
    /// marked processed.
    Other,
    /// A draft timer fired for this citizen (enqueued by [`super::run_sweeper`]).
    DraftTick {
        /// The citizen's alias.
        alias: String,
    },
    /// An entry that cannot be read; dead-lettered with a log line.
    Unreadable(Unreadable),
}

/// Why an entry cannot be read.
#[derive(Debug)]
pub enum Unreadable {
    /// The channel's parser refused the body, with its reason (which never quotes it).
    Body {
        /// The channel.
        channel: Channel,
        /// Why.
        reason: String,
    },
    /// The entry has no kind this version knows, or no registered channel reads it.
    UnknownKind,
    /// The sealed body does not open: another key (a wrong `TIPLINE_ROUTE_KEY`), another
    /// kind, or tampered.
    Sealed,
}

/// Parses `entry` once with its channel from `channels` and says whose it is; `vault` turns
/// platform ids into aliases.
pub fn classify(entry: &InboxEntry, channels: &Registry, vault: &Vault) -> Inbound {
    let channel = match entry.kind {
        Some(InboxKind::Tick) => {
            return Inbound::DraftTick {
                alias: entry.key.clone(),
            };
        }
        Some(kind) => channels.by_inbox(kind),
        None => None,
    };
    let Some(channel) = channel else {
        return Inbound::Unreadable(Unreadable::UnknownKind);
    };
    let Ok(body) = vault.open_inbox(&entry.kind_raw, &entry.body) else {
        return Inbound::Unreadable(Unreadable::Sealed);
    };
    match channel.parse(&body) {
        Ok(Parsed::Citizen(update)) => Inbound::Citizen {
            channel: channel.id(),
            alias: vault.alias(channel.id(), &update.user_id),
            update,
        },
        Ok(Parsed::Staff(update)) => staff(&update, channel.id(), vault),
        Err(reason) => Inbound::Unreadable(Unreadable::Body {
            channel: channel.id(),
            reason,
        }),
    }
}

/// The audience of an update that is no citizen's: an admin command in a private chat, or an
/// officer's update in a duty group. Duty groups and admins are on Telegram by design, so
/// Telegram's parsers read it.
fn staff(update: &Update, channel: Channel, vault: &Vault) -> Inbound {
    if let Some(command) = parse::parse_admin_command(update) {
        return Inbound::AdminCommand {
            alias: vault.alias(channel, &command.user_id.to_string()),
            command,
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
    } else if let Some(chat) = parse::parse_added_to_group(update) {
        Inbound::AddedToGroup { chat }
    } else {
        Inbound::Other
    }
}

impl Inbound {
    /// The lane the entry waits in: a citizen's (or admin's) updates one after the other,
    /// presses on and replies to one card one after the other, a group's commands one after
    /// the other. `None`: a lane of its own, behind nothing.
    pub fn lane_key(&self) -> Option<String> {
        match self {
            Self::Citizen { alias, .. }
            | Self::AdminCommand { alias, .. }
            | Self::DraftTick { alias } => Some(alias.clone()),
            Self::OfficerPress(press) => Some(format!(
                "card:{}:{}",
                press.chat_id,
                press.message_id.unwrap_or_default()
            )),
            // A reply to a card waits behind the presses on that card.
            Self::OfficerReply(reply) => Some(format!("card:{}:{}", reply.chat_id, reply.reply_to)),
            // One group's commands one after the other, so that a group sending thousands
            // holds no more than its key's share of the intake.
            Self::GroupCommand(command) => Some(format!("chat:{}", command.chat_id)),
            Self::Migration { .. }
            | Self::AddedToGroup { .. }
            | Self::Other
            | Self::Unreadable(_) => None,
        }
    }
}
