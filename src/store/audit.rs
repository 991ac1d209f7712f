//! The Redis side of the audit trail (`crate::audit` computes and checks the hash chain): the
//! stream of records and its head, `<n>:<hash>` of the last record. An append
//! (`audit_append.lua`) writes record and head only if the head is still the one the caller
//! read, so two concurrent appends never fork the chain: the second gets `false` and retries.
//!
//! Keys: `audit` (stream), `audit:head` (string).

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

/// One record to append, with the head it follows.
#[derive(Debug, Clone)]
pub struct AuditAppend<'a> {
    /// The head as read before computing the record (`""` when there was none).
    pub head_read: &'a str,
    /// The record's number.
    pub n: u64,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Who.
    pub actor: &'a str,
    /// What.
    pub action: &'a str,
    /// On which tip (`""`: none).
    pub code: &'a str,
    /// Details.
    pub detail: &'a str,
    /// The previous record's hash.
    pub prev_hash: &'a str,
    /// This record's hash.
    pub hash: &'a str,
}

impl AuditAppend<'_> {
    /// The call of `audit_append.lua`, keys and arguments in its order.
    fn call(&self, keys: &Keys) -> Call {
        let mut call = AUDIT_APPEND.call();
        call.key(keys.audit())
            .key(keys.audit_head())
            .arg(self.head_read)
            .arg(self.n)
            .arg(self.at_ms)
            .arg(self.actor)
            .arg(self.action)
            .arg(self.code)
            .arg(self.detail)
            .arg(self.prev_hash)
            .arg(self.hash);
        call
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
    pub async fn audit_append(&self, record: &AuditAppend<'_>) -> redis::RedisResult<bool> {
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
            head_read: "",
            n: 1,
            at_ms: 1,
            actor: "officer:a",
            action: "closed",
            code: "",
            detail: "",
            prev_hash: "0",
            hash: "1",
        };
        assert_matches(&AUDIT_APPEND, &record.call(&Keys::new("{t}")), 0);
    }
}
