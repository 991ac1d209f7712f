//! The audit trail of officer actions: a Redis stream (`{tl}:audit`) whose records are
//! hash-chained. Record n carries the SHA-256 of its own fields and of record n−1's hash, and
//! `{tl}:audit:head` holds the last number and hash; so `tipline audit verify` finds a record
//! that was changed (its hash no longer matches), removed (a gap in the numbers or the chain), or
//! cut from the end (the head disagrees). Records name officers by alias only.
//!
//! An append reads the head, computes the next hash, and writes record and head in one Lua
//! script that first checks the head is still the one read; a concurrent append makes it try
//! again, so the chain never forks. The Redis commands are the store's (`store/audit.rs`).

use sha2::{Digest, Sha256};

use crate::store::{AuditAppend, Store};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

fn hash(r: &Record, prev: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{}|{}|{}|{}|{}|{}|{}",
        r.n, r.at, r.actor, r.action, r.code, r.detail, prev
    ));
    hex::encode(h.finalize())
}

/// Appends a record for an action; returns its number.
pub async fn append(
    store: &Store,
    at: i64,
    actor: &str,
    action: &str,
    code: &str,
    detail: &str,
) -> anyhow::Result<u64> {
    for _ in 0..20 {
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
        let h = hash(&record, &prev);
        let appended = store
            .audit_append(&AuditAppend {
                head_read: &head,
                n: record.n,
                at_ms: at,
                actor,
                action,
                code,
                detail,
                prev_hash: &prev,
                hash: &h,
            })
            .await?;
        if appended {
            return Ok(record.n);
        }
    }
    anyhow::bail!("the audit head kept changing; record not appended")
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
}

/// Checks the whole chain; returns the number of records when it is intact.
pub async fn verify(store: &Store) -> anyhow::Result<Result<u64, Broken>> {
    let mut prev = GENESIS.to_owned();
    let mut expected = 1u64;
    let mut start = "-".to_owned();
    loop {
        let page = store.audit_page(&start, 1000).await?;
        if page.ids.is_empty() {
            break;
        }
        for entry in &page.ids {
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
                return Ok(Err(Broken::Gap {
                    n: record.n,
                    id: entry.id.clone(),
                }));
            }
            let h = hash(&record, &prev);
            if h != field("hash") {
                return Ok(Err(Broken::Changed {
                    n: record.n,
                    id: entry.id.clone(),
                }));
            }
            prev = h;
            expected += 1;
        }
        start = format!("({}", page.ids[page.ids.len() - 1].id);
    }
    let head = store.audit_head().await?;
    let written = head
        .as_deref()
        .and_then(|h| h.split_once(':'))
        .and_then(|(n, _)| n.parse::<u64>().ok())
        .unwrap_or(0);
    let last = expected - 1;
    if written != last {
        return Ok(Err(Broken::Truncated {
            last,
            head: written,
        }));
    }
    Ok(Ok(last))
}
