//! Telegram updates from duty groups, handed to [`crate::desk`]: a button pressed on a card,
//! a command typed in the group, an officer's reply to a card (a question for the citizen),
//! and a group becoming a supergroup. Updates for no one ([`Inbound::Other`]) only get their
//! mark, so a redelivery is a no-op like every other.
//!
//! Each runs once: the update's `seen` mark is checked first and set after the desk is done.
//! A reply Telegram refuses for good (a group where the bot may not write, a chat it was
//! removed from, a message gone) ends the update: retrying cannot help, and a stranger's group
//! must not hold the intake. Any other failure leaves the mark unset, so the entry is retried.

use super::{Inbound, Intake, Sent};
use crate::store::InboxEntry;

impl Intake {
    /// Works a duty group's update (or one for no one) and marks it processed.
    pub(super) async fn officer_update(
        &self,
        entry: &InboxEntry,
        inbound: &Inbound,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("tg", &entry.key);
        if let Some(sent) = self.handled_before(&seen_key, None).await? {
            return Ok(sent);
        }
        let worked = match inbound {
            Inbound::OfficerPress(press) => crate::desk::actions::on_press(sh, press.clone()).await,
            Inbound::GroupCommand(command) => {
                crate::desk::commands::on_command(sh, command.clone()).await
            }
            Inbound::OfficerReply(reply) => {
                crate::desk::relay::on_officer_reply(sh, reply.clone()).await
            }
            Inbound::Migration { old, new } => {
                tracing::warn!("a group became a supergroup; its new id is recorded");
                sh.store.migrate_group(*old, *new).await.map_err(Into::into)
            }
            Inbound::AddedToGroup { chat } => crate::desk::commands::on_added(sh, *chat).await,
            _ => Ok(()),
        };
        self.finish_refused(worked, "group")?;
        sh.store.mark_seen(&seen_key).await?;
        Ok(None)
    }
}
