//! What became of each evidence file on its way out (issue 14): the sealed SHA-256 of the
//! original as the citizen sent it (chain of custody; readable only with the route key), and
//! whether it was withheld because its metadata could not be removed.
//!
//! `{tl}:evidence:<code>` is a hash with `sha:<index>` (sealed `sha256:<hex>`) and
//! `withheld:<index>` (why, a fixed word) fields. The fingerprint is written once: a file
//! fetched again (an evidence link, a retried card) does not replace the first one.

use super::{Keys, Store};

impl Keys {
    /// Fingerprints and withheld marks of a tip's files.
    pub fn evidence(&self, code: &str) -> String {
        format!("{}:evidence:{code}", self.ns)
    }
}

impl Store {
    /// Keeps the sealed fingerprint of file `index` of tip `code`, unless one is kept already.
    pub async fn evidence_fingerprint_set(
        &self,
        code: &str,
        index: usize,
        sealed: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("HSETNX")
            .arg(self.keys.evidence(code))
            .arg(format!("sha:{index}"))
            .arg(sealed)
            .query_async::<i64>(&mut self.conn())
            .await
            .map(drop)
    }

    /// The sealed fingerprint of file `index` of tip `code`, if one was kept.
    pub async fn evidence_fingerprint(
        &self,
        code: &str,
        index: usize,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(self.keys.evidence(code))
            .arg(format!("sha:{index}"))
            .query_async(&mut self.conn())
            .await
    }

    /// Marks file `index` of tip `code` as withheld, and why (`corrupt`, `uncleanable`).
    pub async fn evidence_withheld_set(
        &self,
        code: &str,
        index: usize,
        why: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("HSET")
            .arg(self.keys.evidence(code))
            .arg(format!("withheld:{index}"))
            .arg(why)
            .query_async::<i64>(&mut self.conn())
            .await
            .map(drop)
    }

    /// Why file `index` of tip `code` was withheld, if it was.
    pub async fn evidence_withheld(
        &self,
        code: &str,
        index: usize,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(self.keys.evidence(code))
            .arg(format!("withheld:{index}"))
            .query_async(&mut self.conn())
            .await
    }
}
