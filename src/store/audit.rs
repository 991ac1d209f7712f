//! The Redis side of the audit trail (`crate::audit` computes and checks the hash chain): the
//! stream of records and its head, `<n>:<hash>` of the last record. An append
//! (`audit_append.lua`) writes record and head only if the head is still the one the caller
//! read, so two concurrent appends never fork the chain: the second gets `false` and retries.
//!
//! Keys: `audit` (stream), `audit:head` (string). A record has the fields `n at actor action
//! code detail prev hash` and, from the keyed chain on, `v` = `2`.

use redis::streams::StreamRangeReply;

use super::script::{AUDIT_APPEND, Call};
use super::{Keys, Store};

impl Keys {
    /// The hash-chained audit trail.
    pub fn audit(&self) -> String {
        format!("{}:audit", self.ns)
    }
    /// The audit trail's last record number and hash.
    pub fn audit_head(&self) -> String {
        format!("{}:audit:head", self.ns)
    }
}

/// One keyed (`v = 2`) record to append, with the head it follows. The scripts of state
/// changes that are audited take one too and write it in the same call.
#[derive(Debug, Clone)]
pub struct AuditAppend {
    /// The head as read before computing the record (`""` when there was none).
    pub head_read: String,
    /// The record's number.
    pub n: u64,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On which tip (`""`: none).
    pub code: String,
    /// Details.
    pub detail: String,
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

impl AuditAppend {
    /// The call of `audit_append.lua`, keys and arguments in its order.
    fn call(&self, keys: &Keys) -> Call {
        let mut call = AUDIT_APPEND.call();
        call.key(keys.audit())
            .key(keys.audit_head())
            .arg(&self.head_read)
            .arg(self.n)
            .arg(self.at_ms)
            .arg(&self.actor)
            .arg(&self.action)
            .arg(&self.code)
            .arg(&self.detail)
            .arg(&self.prev_hash)
            .arg(&self.hash);
        call
    }

    /// Pushes the audit keys and this record's arguments onto a state change's script call,
    /// in the order `-- KEYS: …, audit, audit_head` and `-- ARGV: …, audit_head_read, audit_n,
    /// audit_at, audit_actor, audit_action, audit_code, audit_detail, audit_prev, audit_hash`.
    pub(super) fn push_keys(keys: &Keys, call: &mut Call) {
        call.key(keys.audit()).key(keys.audit_head());
    }

    /// See [`Self::push_keys`].
    pub(super) fn push_args(&self, call: &mut Call) {
        call.arg(&self.head_read)
            .arg(self.n)
            .arg(self.at_ms)
            .arg(&self.actor)
            .arg(&self.action)
            .arg(&self.code)
            .arg(&self.detail)
            .arg(&self.prev_hash)
            .arg(&self.hash);
    }
}

impl AuditAppend {
    /// Pushes empty audit arguments in place of [`Self::push_args`], for a script call that
    /// writes no record this time.
    pub(super) fn push_none(call: &mut Call) {
        for _ in 0..9 {
            call.arg("");
        }
    }

    /// A record for the builders' tests.
    #[cfg(test)]
    pub(super) fn sample() -> Self {
        Self {
            head_read: String::new(),
            n: 1,
            at_ms: 1,
            actor: "a".into(),
            action: "closed".into(),
            code: "TB-0000-0000".into(),
            detail: String::new(),
            prev_hash: "0".into(),
            hash: "1".into(),
        }
    }
}

impl Store {
    /// The audit head, `<n>:<hash>`, if any record was written.
    pub async fn audit_head(&self) -> redis::RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(self.keys.audit_head())
            .query_async(&mut self.conn())
            .await
    }

    /// Appends a record if the head is still `record.head_read`; `false` when another append
    /// came first (read the head again and retry).
    pub async fn audit_append(&self, record: &AuditAppend) -> redis::RedisResult<bool> {
        let done: i64 = record.call(&self.keys).invoke(&mut self.conn()).await?;
        Ok(done == 1)
    }

    /// Up to `count` audit records from stream id `start` (inclusive; `(id` for exclusive).
    pub async fn audit_page(
        &self,
        start: &str,
        count: usize,
    ) -> redis::RedisResult<StreamRangeReply> {
        redis::cmd("XRANGE")
            .arg(self.keys.audit())
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_append_builder_pushes_what_audit_append_lua_declares() {
        let record = AuditAppend {
            head_read: String::new(),
            n: 1,
            at_ms: 1,
            actor: "officer:a".into(),
            action: "closed".into(),
            code: String::new(),
            detail: String::new(),
            prev_hash: "0".into(),
            hash: "1".into(),
        };
        assert_matches(&AUDIT_APPEND, &record.call(&Keys::new("{t}")), 0);
    }
}
