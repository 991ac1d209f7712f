//! Sealing again under the current route key (`tipline keys reseal`, after a rotation): the
//! sealed values kept for long, found by their keys, each replaced only if it did not change
//! since it was read (`reseal.lua`), so a write of the intake or the desk meanwhile is never
//! undone; what changed is left for the next run.
//!
//! Keys: `route:<alias>` (a sealed route, a string), `tip:<code>` (the tip's `json` field,
//! whose `contact_sealed` is a sealed phone), `evidence:<code>` (`sha:<n>` fields, sealed
//! fingerprints); `reseal:run` (the background run's lease, with the replica's name) and
//! `reseal:done:<kid>` (every long-kept value is under key `kid`). Script: `reseal.lua`.

use super::script::{Call, RESEAL};
use super::{Keys, Store};

/// Arguments of `reseal.lua`.
struct ResealArgs<'a> {
    key: &'a str,
    /// The hash field, or empty for a string.
    field: &'a str,
    old: &'a str,
    new: &'a str,
}

impl ResealArgs<'_> {
    fn call(&self) -> Call {
        let mut call = RESEAL.call();
        call.key(self.key)
            .arg(self.field)
            .arg(self.old)
            .arg(self.new);
        call
    }
}

impl Keys {
    /// Held by the replica running the background reseal, for at most its period.
    pub fn reseal_run(&self) -> String {
        format!("{}:reseal:run", self.ns)
    }

    /// Set once every long-kept sealed value is under route key `kid`.
    pub fn reseal_done(&self, kid: &str) -> String {
        format!("{}:reseal:done:{kid}", self.ns)
    }
}

/// How long the done mark of a key is kept (a year): long after its retired keys are gone.
const DONE_KEPT_SECS: u64 = 366 * 86_400;

impl Store {
    /// Takes the background reseal for `secs` for replica `instance`; `false` when another
    /// replica has it, or ran it less than `secs` ago.
    pub async fn reseal_claim(&self, instance: &str, secs: u64) -> redis::RedisResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.keys.reseal_run())
            .arg(instance)
            .arg("NX")
            .arg("EX")
            .arg(secs.max(1))
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Whether every long-kept value was found under route key `kid`.
    pub async fn reseal_done(&self, kid: &str) -> redis::RedisResult<bool> {
        redis::cmd("EXISTS")
            .arg(self.keys.reseal_done(kid))
            .query_async(&mut self.conn())
            .await
    }

    /// Marks route key `kid` done: nothing long-kept is under another key.
    pub async fn reseal_mark_done(&self, kid: &str) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.reseal_done(kid))
            .arg(1)
            .arg("EX")
            .arg(DONE_KEPT_SECS)
            .query_async(&mut self.conn())
            .await
    }

    /// Every field of a hash and its value.
    pub async fn get_fields(&self, key: &str) -> redis::RedisResult<Vec<(String, String)>> {
        redis::cmd("HGETALL")
            .arg(key)
            .query_async(&mut self.conn())
            .await
    }

    /// Every key matching `<namespace>:<pattern>` (`SCAN`, a page at a time).
    pub async fn scan_keys(&self, pattern: &str) -> redis::RedisResult<Vec<String>> {
        let mut out = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:{pattern}", self.keys.ns))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn())
                .await?;
            out.extend(keys);
            if next == 0 {
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// A string's value (`None`: gone, or not a string).
    pub async fn get_string(&self, key: &str) -> redis::RedisResult<Option<String>> {
        match redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.conn())
            .await
        {
            Err(e) if e.code() == Some("WRONGTYPE") => Ok(None),
            other => other,
        }
    }

    /// A hash field's value.
    pub async fn get_field(&self, key: &str, field: &str) -> redis::RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(key)
            .arg(field)
            .query_async(&mut self.conn())
            .await
    }

    /// Replaces `old` by `new` in a string (`field` `None`) or a hash field, only if it still
    /// holds `old`. Whether it was replaced.
    pub async fn replace_if_unchanged(
        &self,
        key: &str,
        field: Option<&str>,
        old: &str,
        new: &str,
    ) -> redis::RedisResult<bool> {
        let done: i64 = ResealArgs {
            key,
            field: field.unwrap_or(""),
            old,
            new,
        }
        .call()
        .invoke(&mut self.conn())
        .await?;
        Ok(done == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_reseal_builder_pushes_what_reseal_lua_declares() {
        let call = ResealArgs {
            key: "k",
            field: "",
            old: "a",
            new: "b",
        }
        .call();
        assert_matches(&RESEAL, &call, 0);
    }
}
