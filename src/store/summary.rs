//! Summary cards: tips of new citizens over the hourly ceilings, listed in one card per duty
//! group and interval instead of a card each (the desk's `summary.rs` decides and posts).
//! Listing is decided once per tip (`summary_list.lua`); a group's summary is taken for a
//! lease when due (`summary_take.lua`), so with several replicas one posts it, and a crash
//! while posting only delays it. The batch being posted keeps how many of its parts went out,
//! so a retry posts only the rest.
//!
//! Keys: `newtips` and `newtips:<commune>` (new citizens' tips of the last hour, scored by
//! received time), `listed:<code>` (the group whose summary lists the tip; 30 days),
//! `summary:<group>` (codes waiting for the group's next summary, scored by received time),
//! `summary_due` (groups scored by when their summary is due), `summary_batch:<group>` (hash:
//! `codes`, `posted`: the summary being posted).

use super::script::{Call, SUMMARY_LIST, SUMMARY_TAKE};
use super::{Keys, Store};

/// How long a tip remembers it was listed in a summary (a replayed event is not listed twice).
const LISTED_TTL_SECS: u64 = 30 * 24 * 3600;

impl Keys {
    /// New citizens' tips of the last hour, over all communes.
    pub fn new_tips(&self) -> String {
        format!("{}:newtips", self.ns)
    }
    /// New citizens' tips of the last hour in one commune.
    pub fn new_tips_in(&self, commune: &str) -> String {
        format!("{}:newtips:{commune}", self.ns)
    }
    /// The group whose summary lists a tip.
    pub fn listed(&self, code: &str) -> String {
        format!("{}:listed:{code}", self.ns)
    }
    /// Codes waiting for a group's next summary.
    pub fn summary_queue(&self, group: i64) -> String {
        format!("{}:summary:{group}", self.ns)
    }
    /// Groups scored by when their next summary is due.
    pub fn summary_due(&self) -> String {
        format!("{}:summary_due", self.ns)
    }
    /// The summary of a group being posted: its codes and the parts posted.
    pub fn summary_batch(&self, group: i64) -> String {
        format!("{}:summary_batch:{group}", self.ns)
    }
}

/// A tip the desk asks about: may it have a card of its own?
#[derive(Debug, Clone)]
pub struct NewTipCheck<'a> {
    /// The tip's code.
    pub code: &'a str,
    /// The citizen's alias.
    pub alias: &'a str,
    /// When the tip came in (ms).
    pub received_ms: i64,
    /// Its commune, when known.
    pub commune: Option<&'a str>,
    /// The duty group its card would go to.
    pub group: i64,
}

/// The ceilings and times the check applies.
#[derive(Debug, Clone, Copy)]
pub struct Ceilings {
    /// New citizens' tips an hour in one commune that get a card each.
    pub per_commune: u32,
    /// The same over all.
    pub per_hour: u32,
    /// A citizen with a tip at least this long before is known (ms).
    pub known_after_ms: i64,
    /// When a summary that is not due yet becomes due (ms).
    pub due_ms: i64,
}

/// Arguments of `summary_list.lua`.
struct ListArgs<'a> {
    my_tips: String,
    tips: String,
    new_tips: String,
    new_tips_commune: String,
    listed: String,
    queue: String,
    due: String,
    open: String,
    code: &'a str,
    received_ms: i64,
    known_after_ms: i64,
    window_ms: i64,
    per_commune: u32,
    per_hour: u32,
    has_commune: &'static str,
    group: i64,
    due_ms: i64,
    listed_ttl_secs: u64,
}

impl ListArgs<'_> {
    fn call(&self) -> Call {
        let mut call = SUMMARY_LIST.call();
        call.key(&self.my_tips)
            .key(&self.tips)
            .key(&self.new_tips)
            .key(&self.new_tips_commune)
            .key(&self.listed)
            .key(&self.queue)
            .key(&self.due)
            .key(&self.open)
            .arg(self.code)
            .arg(self.received_ms)
            .arg(self.known_after_ms)
            .arg(self.window_ms)
            .arg(self.per_commune)
            .arg(self.per_hour)
            .arg(self.has_commune)
            .arg(self.group)
            .arg(self.due_ms)
            .arg(self.listed_ttl_secs);
        call
    }
}

/// Arguments of `summary_take.lua`.
struct TakeArgs {
    due: String,
    queue: String,
    batch: String,
    group: i64,
    now_ms: i64,
    lease_until_ms: i64,
}

impl TakeArgs {
    fn call(&self) -> Call {
        let mut call = SUMMARY_TAKE.call();
        call.key(&self.due)
            .key(&self.queue)
            .key(&self.batch)
            .arg(self.group)
            .arg(self.now_ms)
            .arg(self.lease_until_ms);
        call
    }
}

/// What [`Store::summary_list`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The tip gets a card of its own.
    Card,
    /// The tip was listed for its group's next summary now.
    Now,
    /// The tip was listed before (a retried event).
    Before,
}

/// A summary taken for posting: the codes it lists, oldest first, and how many of its parts
/// were posted before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryBatch {
    /// Receipt codes.
    pub codes: Vec<String>,
    /// Parts already posted.
    pub posted: usize,
}

impl Store {
    /// Whether `tip` goes into its group's summary instead of a card of its own. Decided once
    /// per tip: a tip listed before is [`Listing::Before`].
    pub async fn summary_list(
        &self,
        tip: &NewTipCheck<'_>,
        ceilings: &Ceilings,
    ) -> redis::RedisResult<Listing> {
        let k = &self.keys;
        let args = ListArgs {
            my_tips: k.my_tips(tip.alias),
            tips: k.tips(),
            new_tips: k.new_tips(),
            new_tips_commune: tip
                .commune
                .map_or_else(|| k.new_tips_in("-"), |c| k.new_tips_in(c)),
            listed: k.listed(tip.code),
            queue: k.summary_queue(tip.group),
            due: k.summary_due(),
            open: k.open(tip.group),
            code: tip.code,
            received_ms: tip.received_ms,
            known_after_ms: ceilings.known_after_ms,
            window_ms: 3_600_000,
            per_commune: ceilings.per_commune,
            per_hour: ceilings.per_hour,
            has_commune: if tip.commune.is_some() { "1" } else { "" },
            group: tip.group,
            due_ms: ceilings.due_ms,
            listed_ttl_secs: LISTED_TTL_SECS,
        };
        let listed: i64 = args.call().invoke(&mut self.conn()).await?;
        Ok(match listed {
            0 => Listing::Card,
            1 => Listing::Now,
            _ => Listing::Before,
        })
    }

    /// The group whose summary lists `code`, if one does.
    pub async fn summary_listed(&self, code: &str) -> redis::RedisResult<Option<i64>> {
        redis::cmd("GET")
            .arg(self.keys.listed(code))
            .query_async(&mut self.conn())
            .await
    }

    /// Groups whose summary is due at `now_ms`.
    pub async fn summaries_due(&self, now_ms: i64) -> redis::RedisResult<Vec<i64>> {
        redis::cmd("ZRANGE")
            .arg(self.keys.summary_due())
            .arg("-inf")
            .arg(now_ms)
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(100)
            .query_async(&mut self.conn())
            .await
    }

    /// Takes the due summary of `group` for `lease_ms`: its batch, or `None` when it is not
    /// due (another replica took it) or nothing waits.
    pub async fn summary_take(
        &self,
        group: i64,
        now_ms: i64,
        lease_ms: i64,
    ) -> redis::RedisResult<Option<SummaryBatch>> {
        let k = &self.keys;
        let args = TakeArgs {
            due: k.summary_due(),
            queue: k.summary_queue(group),
            batch: k.summary_batch(group),
            group,
            now_ms,
            lease_until_ms: now_ms + lease_ms,
        };
        let got: Option<(String, usize)> = args.call().invoke(&mut self.conn()).await?;
        Ok(got.map(|(codes, posted)| SummaryBatch {
            codes: codes.split(',').map(str::to_owned).collect(),
            posted,
        }))
    }

    /// Records that one more part of `group`'s summary was posted.
    pub async fn summary_part_posted(&self, group: i64) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("HINCRBY")
            .arg(self.keys.summary_batch(group))
            .arg("posted")
            .arg(1)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Ends `group`'s posted summary; its next one is due at `next_ms` at the earliest (it is
    /// dropped from the due list then if nothing waits).
    pub async fn summary_done(&self, group: i64, next_ms: i64) -> redis::RedisResult<()> {
        redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(self.keys.summary_batch(group))
            .ignore()
            .cmd("ZADD")
            .arg(self.keys.summary_due())
            .arg(next_ms)
            .arg(group)
            .ignore()
            .query_async(&mut self.conn())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_summary_builders_push_what_their_scripts_declare() {
        let list = ListArgs {
            my_tips: "k".into(),
            tips: "k".into(),
            new_tips: "k".into(),
            new_tips_commune: "k".into(),
            listed: "k".into(),
            queue: "k".into(),
            due: "k".into(),
            open: "k".into(),
            code: "TB-0000-0000",
            received_ms: 1,
            known_after_ms: 1,
            window_ms: 1,
            per_commune: 1,
            per_hour: 1,
            has_commune: "",
            group: -1,
            due_ms: 1,
            listed_ttl_secs: 1,
        };
        assert_matches(&SUMMARY_LIST, &list.call(), 0);
        let take = TakeArgs {
            due: "k".into(),
            queue: "k".into(),
            batch: "k".into(),
            group: -1,
            now_ms: 1,
            lease_until_ms: 2,
        };
        assert_matches(&SUMMARY_TAKE, &take.call(), 0);
    }
}
