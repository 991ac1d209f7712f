//! The audit trail of officer and admin actions: a Redis stream (`{tl}:audit`) whose records are
//! chained. Record n carries a hash of its own fields and of record n−1's hash, and
//! `{tl}:audit:head` holds the last number and hash; so `tipline audit verify` finds a record
//! that was changed (its hash no longer matches), removed (a gap in the numbers or the chain), or
//! cut from the end (the head disagrees). Records name officers by alias only.
//!
//! The hash is keyed: records with `v = 2` carry an HMAC-SHA256 under the audit key
//! (`TIPLINE_AUDIT_KEY`), which is not in Redis, so whoever can write to Redis cannot rewrite the
//! chain consistently. Records written before the key existed (no `v`) carry a plain SHA-256 and
//! still verify; once the keyed chain has started, a plain record is a rewrite. A rewrite by
//! someone who holds the key is found with a pinned head: the weekly report prints the head
//! (`#N hash`), and `audit verify --head N:HASH` checks record N is still the same.
//!
//! An append reads the head, computes the next record ([`next`]), and hands it to a Lua script
//! that writes it only if the head is still the one read; a concurrent append makes it try again,
//! so the chain never forks. Officers' tip actions pass the record to the script of the state
//! change itself (`store::transition` for acknowledge, claim and close, [`event`] for
//! escalations, questions and notes, `store::purge_tip` for a purge), so the change and its
//! record land together or not at all.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::events::TipEvent;
use crate::store::{AuditAppend, Store};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many times an append retries when other appends keep moving the head.
pub const RETRIES: usize = 20;

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the chain, from 1.
    pub n: u64,
    /// When (ms since the epoch).
    pub at: i64,
    /// Who (`officer:<alias>`, `admin:<alias>`).
    pub actor: String,
    /// What (`acknowledged`, `closed`, `escalated`, …).
    pub action: String,
    /// On which tip, if any.
    pub code: String,
    /// Details (a disposition, …).
    pub detail: String,
}

/// The hash of the previous version's records: SHA-256, no key.
fn plain_hash(r: &Record, prev: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{}|{}|{}|{}|{}|{}|{}",
        r.n, r.at, r.actor, r.action, r.code, r.detail, prev
    ));
    hex::encode(h.finalize())
}

/// The hash of a keyed (`v = 2`) record: HMAC-SHA256 under the audit key.
pub fn keyed_hash(key: &[u8], r: &Record, prev: &str) -> String {
    // An HMAC takes a key of any length, so `new_from_slice` cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(
        format!(
            "2|{}|{}|{}|{}|{}|{}|{}",
            r.n, r.at, r.actor, r.action, r.code, r.detail, prev
        )
        .as_bytes(),
    );
    hex::encode(mac.finalize().into_bytes())
}

/// The record that would come next, computed against the head as read now; hand it to a script
/// (which writes it only if the head has not moved) and call again when it has.
pub async fn next(
    store: &Store,
    at: i64,
    actor: &str,
    action: &str,
    code: &str,
    detail: &str,
) -> anyhow::Result<AuditAppend> {
    let Some(key) = store.audit_key() else {
        anyhow::bail!("no audit key (TIPLINE_AUDIT_KEY): the audit record cannot be written");
    };
    let head = store.audit_head().await?.unwrap_or_default();
    let (last, prev) = match head.split_once(':') {
        Some((n, h)) => (n.parse::<u64>()?, h.to_owned()),
        None => (0, GENESIS.to_owned()),
    };
    let record = Record {
        n: last + 1,
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        code: code.to_owned(),
        detail: detail.to_owned(),
    };
    let hash = keyed_hash(key, &record, &prev);
    Ok(AuditAppend {
        head_read: head,
        n: record.n,
        at_ms: at,
        actor: record.actor,
        action: record.action,
        code: record.code,
        detail: record.detail,
        prev_hash: prev,
        hash,
    })
}

/// Appends a record for an action on its own (an action whose state change is not in Redis, or
/// not in one script: a view, a download, an export); returns its number.
pub async fn append(
    store: &Store,
    at: i64,
    actor: &str,
    action: &str,
    code: &str,
    detail: &str,
) -> anyhow::Result<u64> {
    for _ in 0..RETRIES {
        let record = next(store, at, actor, action, code, detail).await?;
        if store.audit_append(&record).await? {
            return Ok(record.n);
        }
    }
    anyhow::bail!("the audit head kept changing; record not appended")
}

/// Appends `event` (an action that changes no state: an escalation, a question, a note) with
/// its audit record in one script, so the two land together or not at all; with `once`, only
/// the first time (then 0 and no record). Returns the event's sequence number.
pub async fn event(
    store: &Store,
    once: Option<&str>,
    event: &TipEvent,
    detail: &str,
) -> anyhow::Result<u64> {
    let head = event.head();
    for _ in 0..RETRIES {
        let record = next(
            store,
            head.at,
            &head.actor,
            event.kind(),
            head.code.as_str(),
            detail,
        )
        .await?;
        if let Some(seq) = store.events_append_audited(once, event, &record).await? {
            return Ok(seq);
        }
    }
    anyhow::bail!("the audit head kept changing; the action was not applied")
}

/// The chain's head: the last record's number and hash, if any record was written.
pub async fn head(store: &Store) -> anyhow::Result<Option<(u64, String)>> {
    Ok(store.audit_head().await?.and_then(|h| parse_head(&h)))
}

/// Parses `N:HASH` (the head's form, and `--head`'s).
pub fn parse_head(s: &str) -> Option<(u64, String)> {
    let (n, h) = s.trim().trim_start_matches('#').split_once(':')?;
    let n = n.trim().parse().ok()?;
    let h = h.trim().to_ascii_lowercase();
    (h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit())).then_some((n, h))
}

/// Why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// A record's fields do not give its hash: it was changed.
    #[error("record {n} ({id}) was changed: its hash does not match its fields")]
    Changed {
        /// Record number.
        n: u64,
        /// Stream id.
        id: String,
    },
    /// A record is missing before this one, or it does not follow the one before.
    #[error("the chain breaks before record {n} ({id}): a record was removed or inserted")]
    Gap {
        /// Record number.
        n: u64,
        /// Stream id.
        id: String,
    },
    /// The last records were removed (the head names a later record).
    #[error("the trail ends at record {last}, but {head} records were written")]
    Truncated {
        /// Last record found.
        last: u64,
        /// Records the head says exist.
        head: u64,
    },
    /// The pinned head (from a weekly report) is no longer in the chain as it was.
    #[error("record {n} is not the one pinned (the history was rewritten)")]
    Rewritten {
        /// The pinned record's number.
        n: u64,
    },
}

/// What an intact chain holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intact {
    /// Records in the chain.
    pub records: u64,
    /// The first keyed (`v = 2`) record, if any.
    pub keyed_from: Option<u64>,
}

/// Checks one stored record against the one before; `keyed` is whether the keyed chain has
/// started. Returns the record's hash when it holds.
fn check(
    entry: &redis::streams::StreamId,
    expected: u64,
    prev: &str,
    keyed: bool,
    key: &[u8],
) -> Result<(Record, bool, String), Broken> {
    let field = |k: &str| entry.get::<String>(k).unwrap_or_default();
    let record = Record {
        n: field("n").parse().unwrap_or(0),
        at: field("at").parse().unwrap_or(0),
        actor: field("actor"),
        action: field("action"),
        code: field("code"),
        detail: field("detail"),
    };
    if record.n != expected || field("prev") != prev {
        return Err(Broken::Gap {
            n: record.n,
            id: entry.id.clone(),
        });
    }
    let changed = || Broken::Changed {
        n: record.n,
        id: entry.id.clone(),
    };
    let v2 = match field("v").as_str() {
        "" if !keyed => false,
        "2" => true,
        // A plain record after the keyed chain started is a rewrite without the key.
        _ => return Err(changed()),
    };
    let h = if v2 {
        keyed_hash(key, &record, prev)
    } else {
        plain_hash(&record, prev)
    };
    if h != field("hash") {
        return Err(changed());
    }
    Ok((record, v2, h))
}

/// Checks the whole chain with the audit key, and, with `pin` (`N`, hash), that record N still
/// has that hash.
pub async fn verify(
    store: &Store,
    key: &[u8],
    pin: Option<&(u64, String)>,
) -> anyhow::Result<Result<Intact, Broken>> {
    let mut prev = GENESIS.to_owned();
    let mut expected = 1u64;
    let mut keyed_from = None;
    let mut start = "-".to_owned();
    loop {
        let page = store.audit_page(&start, 1000).await?;
        if page.ids.is_empty() {
            break;
        }
        for entry in &page.ids {
            let (record, v2, h) = match check(entry, expected, &prev, keyed_from.is_some(), key) {
                Ok(r) => r,
                Err(broken) => return Ok(Err(broken)),
            };
            if v2 && keyed_from.is_none() {
                keyed_from = Some(record.n);
            }
            if let Some((n, pinned)) = pin
                && *n == record.n
                && *pinned != h
            {
                return Ok(Err(Broken::Rewritten { n: *n }));
            }
            prev = h;
            expected += 1;
        }
        start = format!("({}", page.ids[page.ids.len() - 1].id);
    }
    let written = head(store).await?.map_or(0, |(n, _)| n);
    let last = expected - 1;
    if written != last {
        return Ok(Err(Broken::Truncated {
            last,
            head: written,
        }));
    }
    if let Some((n, _)) = pin
        && *n > last
    {
        return Ok(Err(Broken::Rewritten { n: *n }));
    }
    Ok(Ok(Intact {
        records: last,
        keyed_from,
    }))
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
