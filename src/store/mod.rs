//! Everything tipline keeps, in Redis (DESIGN.md §4). Every key starts with the configured
//! namespace (one Redis Cluster hash tag, e.g. `{tl}`), so one deployment's keys share a slot
//! and the multi-key scripts work on a cluster too.
//!
//! One file per aggregate, each with its own key builders (an `impl Keys` block) and scripts:
//!
//! - `inbox`: the inbox stream and the `seen` marks of processed updates
//! - `conversations`: a citizen's conversation, rate windows, answer mode, route, draft timers
//! - `commit`: the one atomic write per processed update (and the hotspot counts it keeps)
//! - `tips`: stored tips, their index and the citizen's lists of them
//! - `tip_changes`: officer transitions and events that change no state, each one script
//! - `cards`: officer cards, their messages, open tips per group, group migrations, file copies
//! - `sla`: SLA timers, stages and escalation marks
//! - `summary`: new citizens' tips over the ceilings, listed in one summary card per group
//! - `events`: reading and acknowledging the events stream
//! - `groups`: consumer-group upkeep (takeover, touch, backlog) and dead letters
//! - `forward`: what the forwarder keeps per tip and per event
//! - `notices`: the notifier's marks (notice sent, citizen unreachable)
//! - `questions`: officers' questions per tip in the last hour (their rate limit)
//! - `callbacks`: answers of the callback API by idempotency key
//! - `audit`: the audit stream and its head
//! - `menus`: the numbered menu last shown to a Zalo chat
//! - `weekly`: weekly report leases
//! - `purge`: retention: a tip replaced with its tombstone, streams trimmed, the run lease
//! - `reseal`: sealed values found by key and sealed again under the current key (rotation)
//! - `trouble`: what a Redis error says about Redis (out of memory, unreachable, …)
//! - `script`: the Lua scripts of `lua/`, hashed once, and their argument counting
//!
//! Two kinds of connection: a shared auto-reconnecting one for short commands, and one per
//! blocking reader (`XREADGROUP BLOCK`) with a response timeout longer than the block. Redis
//! being down shows up as errors from these calls; callers retry, and nothing is acknowledged
//! to a platform before Redis has it.

mod audit;
mod callbacks;
mod cards;
mod commit;
mod conversations;
mod events;
mod evidence;
mod forward;
mod groups;
mod inbox;
mod inbox_dead;
mod menus;
mod notices;
mod purge;
mod questions;
mod reseal;
mod script;
mod sla;
mod summary;
mod tip_changes;
mod tips;
mod trouble;
mod weekly;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::privacy::Vault;

pub use audit::AuditAppend;
pub use cards::PostedCard;
pub use commit::{Commit, CommitOutcome, Hotspot, NewTip};
pub use conversations::{CitizenState, rate_window};
pub use events::EventEntry;
pub use forward::{FORWARD_GROUP, ForwardState};
pub use groups::{DeadLetter, INTAKE_CONSUMER, SOLE_INSTANCE, consumer_name};
pub use inbox::{INTAKE_GROUP, InboxEntry, InboxKind, SeenMark};
pub use inbox_dead::{INBOX_DLQ_RETENTION_MS, InboxGiveUp};
pub use menus::MenuOption;
pub use purge::{DEAD_LETTER_GROUPS, PurgeTip, Purged, parse_id};
pub use summary::{Ceilings, Listing, NewTipCheck, SummaryBatch};
pub use tip_changes::{Action, Transition};
pub use tips::{Recent, Tip, TipStatus};
pub use trouble::Trouble;

/// Handle on the deployment's Redis data. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    keys: Keys,
    client: redis::Client,
    /// The key of the audit chain's HMAC (`TIPLINE_AUDIT_KEY`); never in Redis.
    audit_key: Option<std::sync::Arc<[u8]>>,
}

/// Key names under one namespace. Each aggregate's file adds the builders of its own keys.
/// With a vault ([`Store::sealed`]) it also seals what the inbox takes and names the dedupe
/// marks by keyed hashes, never by a platform's ids.
#[derive(Clone, Debug)]
pub struct Keys {
    ns: String,
    vault: Option<Arc<Vault>>,
}

impl Keys {
    /// Keys under `ns` (e.g. `{tl}`).
    pub fn new(ns: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            vault: None,
        }
    }

    /// Tip events, consumed by desk, forward and notify. Here rather than in `events`
    /// because the scripts of tips, commits and forwarding all append to it.
    pub fn events(&self) -> String {
        format!("{}:events", self.ns)
    }

    /// Events a consumer group gave up on.
    pub fn dlq(&self, group: &str) -> String {
        format!("{}:dlq:{group}", self.ns)
    }
}

/// How long short commands may take before they count as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

impl Store {
    /// Connects to Redis at `url` under namespace `ns`. Fails when Redis cannot be reached.
    pub async fn connect(url: &str, ns: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let conn =
            ConnectionManager::new_with_config(client.clone(), manager_config(RESPONSE_TIMEOUT))
                .await?;
        Ok(Self {
            conn,
            keys: Keys::new(ns),
            client,
            audit_key: None,
        })
    }

    /// This handle with the audit chain's key, which audit records are keyed with.
    pub fn with_audit_key(mut self, key: &[u8]) -> Self {
        self.audit_key = Some(key.into());
        self
    }

    /// The audit chain's key, if this handle was given one.
    pub fn audit_key(&self) -> Option<&[u8]> {
        self.audit_key.as_deref()
    }

    /// A separate connection for a blocking reader: blocks of up to `block` do not time out.
    pub async fn blocking(&self, block: Duration) -> redis::RedisResult<Self> {
        let conn = ConnectionManager::new_with_config(
            self.client.clone(),
            manager_config(block + RESPONSE_TIMEOUT),
        )
        .await?;
        Ok(Self {
            conn,
            keys: self.keys.clone(),
            client: self.client.clone(),
            audit_key: self.audit_key.clone(),
        })
    }

    /// The same store, sealing with `vault`: inbox entries are sealed before Redis has them
    /// and dedupe marks are named by keyed hashes. The application's store is always sealed;
    /// one without a vault (tools that only read, tests) refuses to append updates.
    pub fn sealed(mut self, vault: Vault) -> Self {
        self.keys.vault = Some(Arc::new(vault));
        self
    }

    /// The key names.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A connection handle for one command sequence.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Creates `stream` and its consumer group `group` (reading from the start) if missing.
    async fn ensure_group(&self, stream: &str, group: &str) -> redis::RedisResult<()> {
        let res: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.conn())
            .await;
        match res {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            // At `maxmemory` Redis refuses the command before it finds the group there: a
            // process restarted then still starts when the group exists, and waits for memory.
            Err(e) if Trouble::of(&e) == Trouble::OutOfMemory => {
                match self.group_exists(stream, group).await {
                    Ok(true) => Ok(()),
                    _ => Err(e),
                }
            }
            other => other,
        }
    }

    /// Whether `stream` has the consumer group `group` (a read, allowed at `maxmemory`).
    async fn group_exists(&self, stream: &str, group: &str) -> redis::RedisResult<bool> {
        let groups: redis::streams::StreamInfoGroupsReply = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(stream)
            .query_async(&mut self.conn())
            .await?;
        Ok(groups.groups.iter().any(|g| g.name == group))
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING").query_async(&mut self.conn()).await
    }

    /// A write that tells whether Redis takes writes now (a `PING` answers even when
    /// `maxmemory` is reached): sets `probe` for a minute.
    pub async fn probe_write(&self) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(format!("{}:probe", self.keys.ns))
            .arg(1)
            .arg("PX")
            .arg(60_000)
            .query_async(&mut self.conn())
            .await
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> redis::RedisResult<bool> {
        redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut self.conn())
            .await
    }
}

fn manager_config(response: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(response))
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(3)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_secs(2))
}
