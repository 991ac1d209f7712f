//! Admin commands (`/export`, `/stats`) typed in a private chat, handed to [`crate::admin`],
//! which checks that the sender is an admin and answers in that chat. They take precedence
//! over the citizen conversation: an admin's `/stats` is not a citizen's unknown command.
//!
//! Like every update it runs once: the `seen` mark is checked first and set afterwards. An
//! admin who blocked the bot before the answer went ends the update (see [`super::officers`]).

use super::{Intake, Sent};
use crate::channels::telegram::parse::GroupCommand;
use crate::store::InboxEntry;

impl Intake {
    /// Runs an admin command and marks it processed.
    pub(super) async fn admin_command(
        &self,
        entry: &InboxEntry,
        command: &GroupCommand,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("tg", &entry.key);
        if let Some(sent) = self
            .handled_before(&seen_key, Some(command.chat_id))
            .await?
        {
            return Ok(sent);
        }
        let worked = crate::admin::on_command(sh, command.clone()).await;
        self.finish_refused(worked, "admin")?;
        sh.store.mark_seen(&seen_key).await?;
        Ok(None)
    }
}
