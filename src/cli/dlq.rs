//! `tipline dlq`: the dead letters of a consumer group (`forward`, `desk`, `notify`, and the
//! inbox's `intake`): list, show, replay (forward, desk, intake), drop. Replays and drops are
//! written to the audit trail.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use secrecy::ExposeSecret;

use crate::config::Secrets;
use crate::forward::Forwarder;
use crate::forward::dlq::Replay;
use crate::shared::{Options, Shared};

/// What to do with the dead letters.
#[derive(Subcommand)]
pub enum DlqCmd {
    /// One line per dead letter, oldest first.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Every field of one dead letter.
    Show {
        /// Its id (first column of `list`).
        id: String,
    },
    /// Send dead letters of the forward group to the triage service again, now; each one the
    /// service takes is removed. For the desk: post each card in its duty group now (also a
    /// card that went to the supervisors as a fallback), or do the event's work again. For
    /// `intake`: put them back into the inbox and remove them.
    Replay {
        /// Ids to replay.
        ids: Vec<String>,
        /// Replay every dead letter, oldest first.
        #[arg(long)]
        all: bool,
    },
    /// Remove dead letters without sending them.
    Drop {
        /// Ids to drop.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Runs `action` on `dlq:<group>`; non-zero when any id failed.
pub fn dlq(path: &Path, group: &str, action: DlqCmd) -> ExitCode {
    if !matches!(group, "forward" | "desk" | "notify" | "intake") {
        return super::fail("--group must be forward, desk, notify or intake");
    }
    let (Some(settings), Some(runtime)) = (super::settings(path), super::runtime()) else {
        return ExitCode::FAILURE;
    };
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    runtime.block_on(async move {
        let shared = match Shared::build(settings, &secrets, &Options::default()).await {
            Ok(s) => Arc::new(s),
            Err(e) => return super::fail(format!("{e:#}")),
        };
        match act(&shared, &secrets, group, action).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => super::fail(format!("{e:#}")),
        }
    })
}

/// Replays dead letters of the desk (see [`crate::desk::replay`]); `false` when one failed.
async fn replay_desk(
    shared: &Arc<Shared>,
    ids: Vec<String>,
    all: bool,
    actor: &str,
) -> anyhow::Result<bool> {
    use crate::desk::replay::{Replay, replay};
    let ids = match all {
        true => shared
            .store
            .dlq_list("desk", 10_000)
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect(),
        false => ids,
    };
    let mut ok = true;
    for id in ids {
        match replay(shared, &id, actor).await? {
            Replay::Done => println!("{id}: posted in its duty group (or done)"),
            Replay::Failed(why) => {
                eprintln!("{id}: still failing: {why}");
                ok = false;
            }
            Replay::Unknown => {
                eprintln!("{id}: no such dead letter");
                ok = false;
            }
        }
    }
    Ok(ok)
}

/// Does the work; `false` when some id was not found or not taken.
async fn act(
    shared: &Arc<Shared>,
    secrets: &Secrets,
    group: &str,
    action: DlqCmd,
) -> anyhow::Result<bool> {
    let store = &shared.store;
    let actor = super::actor();
    if group == crate::store::INTAKE_GROUP && !matches!(action, DlqCmd::Drop { .. }) {
        return intake(shared, action, &actor).await;
    }
    match action {
        DlqCmd::List { limit } => {
            let letters = store.dlq_list(group, limit).await?;
            for l in &letters {
                println!("{}", crate::forward::dlq::summary(l));
            }
            println!("{} dead letter(s) in dlq:{group}", letters.len());
            Ok(true)
        }
        DlqCmd::Show { id } => match store.dlq_get(group, &id).await? {
            Some(l) => {
                let mut fields: Vec<_> = l.fields.iter().collect();
                fields.sort();
                println!("id: {}", l.id);
                for (k, v) in fields {
                    println!("{k}: {v}");
                }
                Ok(true)
            }
            None => {
                eprintln!("no dead letter {id} in dlq:{group}");
                Ok(false)
            }
        },
        DlqCmd::Drop { ids } => {
            let mut ok = true;
            for id in ids {
                let dropped = match group {
                    "desk" => crate::desk::replay::drop_letter(shared, &id).await?,
                    _ => store.dlq_delete(group, &id).await?,
                };
                if dropped {
                    let what = format!("{group} {id}");
                    let now = shared.clock.now_ms();
                    crate::audit::append(store, now, &actor, "dlq_drop", "", &what).await?;
                    println!("{id}: dropped");
                } else {
                    eprintln!("{id}: no such dead letter");
                    ok = false;
                }
            }
            Ok(ok)
        }
        DlqCmd::Replay { ids, all } if group == "desk" => {
            replay_desk(shared, ids, all, &actor).await
        }
        DlqCmd::Replay { ids, all } => {
            if group != "forward" {
                anyhow::bail!("only dead letters of the forward group can be replayed");
            }
            let Some(secret) = secrets.triage_secret.as_ref() else {
                anyhow::bail!("TIPLINE_TRIAGE_SECRET is not set");
            };
            let forwarder = Forwarder::new(
                shared.clone(),
                secret.expose_secret().as_bytes(),
                shared.links.clone(),
            )?;
            let ids = if all {
                let letters = store.dlq_list(group, 10_000).await?;
                letters.into_iter().map(|l| l.id).collect()
            } else {
                ids
            };
            let mut ok = true;
            for id in ids {
                match forwarder.replay(&id, &actor).await? {
                    Replay::Delivered => println!("{id}: delivered"),
                    Replay::Failed(why) => {
                        eprintln!("{id}: still refused: {why}");
                        ok = false;
                    }
                    Replay::Unknown => {
                        eprintln!("{id}: no such dead letter");
                        ok = false;
                    }
                }
            }
            Ok(ok)
        }
    }
}

/// `list`, `show` and `replay` of the inbox's dead letters, without the citizen's identity
/// (see [`crate::intake::dead_letters`]); `drop` is the same for every group.
async fn intake(shared: &Shared, action: DlqCmd, actor: &str) -> anyhow::Result<bool> {
    use crate::intake::dead_letters;
    let group = crate::store::INTAKE_GROUP;
    let store = &shared.store;
    match action {
        DlqCmd::List { limit } => {
            let letters = store.dlq_list(group, limit).await?;
            for l in &letters {
                println!("{}", dead_letters::summary(l));
            }
            println!("{} dead letter(s) in dlq:{group}", letters.len());
            Ok(true)
        }
        DlqCmd::Show { id } => match store.dlq_get(group, &id).await? {
            Some(l) => {
                for (k, v) in dead_letters::describe(&l) {
                    println!("{k}: {v}");
                }
                Ok(true)
            }
            None => {
                eprintln!("no dead letter {id} in dlq:{group}");
                Ok(false)
            }
        },
        DlqCmd::Replay { ids, all } => {
            let ids = match all {
                true => store
                    .dlq_list(group, 10_000)
                    .await?
                    .into_iter()
                    .map(|l| l.id)
                    .collect(),
                false => ids,
            };
            let mut ok = true;
            for id in ids {
                match dead_letters::replay(shared, &id, actor).await? {
                    Some(entry) => println!("{id}: back in the inbox as {entry}"),
                    None => {
                        eprintln!("{id}: no such dead letter");
                        ok = false;
                    }
                }
            }
            Ok(ok)
        }
        DlqCmd::Drop { .. } => anyhow::bail!("drop is handled for every group alike"),
    }
}
