//! The inbox's dead letters for `tipline dlq … --group intake`: a look without the citizen
//! (what the entry is, why and when it was given up, how big, never its body, which carries
//! the platform's ids), a replay into the inbox and a drop, both audited. What is in a dead
//! letter and how it is written is the store's (`store/inbox_dead.rs`); why entries get there
//! is [`super::budget`]'s.

use crate::shared::Shared;
use crate::store::{DeadLetter, INTAKE_GROUP};

/// One line about a dead letter: id, kind, audience, attempts, the start of the reason.
pub fn summary(letter: &DeadLetter) -> String {
    format!(
        "{}  {} {}  attempts={}  {}",
        letter.id,
        letter.get("kind"),
        letter.get("audience"),
        letter.get("attempts"),
        letter.get("error").chars().take(100).collect::<String>(),
    )
}

/// What `show` prints of a dead letter, field by field: everything but the raw body (its size
/// instead).
pub fn describe(letter: &DeadLetter) -> Vec<(&'static str, String)> {
    vec![
        ("id", letter.id.clone()),
        ("kind", letter.get("kind").to_owned()),
        ("key", letter.get("key").to_owned()),
        ("audience", letter.get("audience").to_owned()),
        ("entry_id", letter.get("entry_id").to_owned()),
        ("attempts", letter.get("attempts").to_owned()),
        ("at", letter.get("at").to_owned()),
        ("body_bytes", letter.get("body").len().to_string()),
        ("error", letter.get("error").to_owned()),
    ]
}

/// Puts dead letter `id` back into the inbox (it is worked again like any entry; the `seen`
/// marks keep what had already run from running twice) and removes it, audited. The new
/// inbox entry's id, or `None` when there is no such dead letter.
pub async fn replay(shared: &Shared, id: &str, actor: &str) -> anyhow::Result<Option<String>> {
    let Some(entry) = shared.store.inbox_replay(id).await? else {
        return Ok(None);
    };
    let detail = format!("{INTAKE_GROUP} {id} replayed as {entry}");
    crate::audit::append(
        &shared.store,
        shared.clock.now_ms(),
        actor,
        "dlq_replay",
        "",
        &detail,
    )
    .await?;
    Ok(Some(entry))
}
