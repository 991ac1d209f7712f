//! Sealing again under the current route key (`tipline keys reseal`, after a rotation): the
//! sealed values kept for long, found by their keys, each replaced only if it did not change
//! since it was read (`reseal.lua`), so a write of the intake or the desk meanwhile is never
//! undone; what changed is left for the next run.
//!
//! Keys: `route:<alias>` (a sealed route, a string), `tip:<code>` (the tip's `json` field,
//! whose `contact_sealed` is a sealed phone). Script: `reseal.lua`.

use super::Store;
use super::script::{Call, RESEAL};

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

impl Store {
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
