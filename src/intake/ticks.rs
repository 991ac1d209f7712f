//! Draft timers. A draft left alone is reminded once and later expires
//! ([`crate::conversation`] decides which, from the time it is given). The sweeper finds the
//! drafts whose time has come and puts one tick per citizen into the inbox, so the tick runs in
//! that citizen's lane, in order with what they write; the intake then runs it through the
//! conversation like any input.
//!
//! ```text
//! sweeper: draft of <alias> due      → inbox: tick <alias>   (unless one is still there)
//! intake:  tick                      → bot: "your report is waiting…" / "…was dropped"
//! ```
//!
//! A tick whose citizen has no readable route back is dropped with its timer, logged.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Intake, Sent};
use crate::conversation::{Conversation, Input};
use crate::shared::Shared;
use crate::store::{InboxEntry, SeenMark};

impl Intake {
    /// Runs a draft timer's tick for `alias`.
    pub(super) async fn tick(&self, entry: &InboxEntry, alias: &str) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("tick", &entry.stream_id);
        let mark = sh.store.seen(&seen_key).await?;
        if mark == Some(SeenMark::Done) {
            return Ok(None);
        }
        let route = match sh.store.route(alias).await? {
            Some(sealed) => sh.vault.open_route(&sealed).ok(),
            None => None,
        };
        let Some(route) = route else {
            tracing::error!(%alias, "no readable route for a draft timer; timer dropped");
            sh.store.drop_draft_timer(alias).await?;
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        };
        if let Some(SeenMark::Pending(json)) = mark {
            return self.resend(&seen_key, &route, &json).await;
        }
        let state = sh
            .store
            .citizen(&seen_key, route.channel, alias, None)
            .await?;
        // A tick never answers an officer's question: it only reminds of or expires a draft.
        self.converse(
            alias,
            &route,
            sh.default_lang,
            Input::Tick,
            &seen_key,
            sh.clock.now_ms(),
            state
                .conversation_json
                .as_deref()
                .and_then(Conversation::from_stored),
            None,
        )
        .await
    }
}

/// Pushes every open draft's timer into the inbox when it is due, until `shutdown`.
pub async fn run_sweeper(shared: Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = sweep(&shared).await {
            tracing::warn!(error = %e, "draft sweep failed");
        }
    }
}

/// One sweep: enqueues a tick for every draft whose reminder or expiry is due (unless its
/// last tick is still in the inbox); how many were enqueued.
pub async fn sweep(shared: &Shared) -> anyhow::Result<usize> {
    let now = shared.clock.now_ms();
    let due = shared.store.due_drafts(now, 60_000, 500).await?;
    let mut added = 0;
    for alias in &due {
        if shared.store.inbox_append_tick(alias).await? {
            added += 1;
        }
    }
    Ok(added)
}
