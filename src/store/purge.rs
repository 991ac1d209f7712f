//! The Redis side of retention (`crate::retention` decides what is due): one tip replaced with
//! its tombstone in one script (`purge.lua`), the events stream trimmed up to what every
//! consumer group has finished, dead letters trimmed by age, and the lease that lets one
//! replica run each period.
//!
//! Keys: the tip's own keys and the citizen's lists (see `tips.rs`, `conversations.rs`,
//! `cards.rs`, `sla.rs`), `events`, `dlq:<group>`, `retention:<period>` (the run lease: the
//! instance while it runs, then `done`).

use super::script::{Call, PURGE};
use super::{AuditAppend, INTAKE_GROUP, Keys, Store};
use crate::privacy::Channel;

impl Keys {
    /// Taken by the replica that runs the purge of one period.
    pub fn retention_run(&self, period: i64) -> String {
        format!("{}:retention:{period}", self.ns)
    }
}

/// The consumer groups whose dead letters retention trims.
pub const DEAD_LETTER_GROUPS: [&str; 4] = [INTAKE_GROUP, "desk", "notify", "forward"];

/// What a purge of one tip did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purged {
    /// Done now; the `purged` event has this sequence number.
    Done(u64),
    /// Purged already, or its status changed since it was read (not due any more).
    NotNow,
    /// No such tip.
    Unknown,
}

/// One tip to purge: what the caller read of it, and the tombstone that replaces it.
#[derive(Debug, Clone)]
pub struct PurgeTip<'a> {
    /// Receipt code.
    pub code: &'a str,
    /// The citizen's alias (their lists and route).
    pub alias: &'a str,
    /// The channel the tip came through (the citizen's conversation key).
    pub channel: Channel,
    /// The status the caller read: a tip whose status changed since is left alone.
    pub status: &'a str,
    /// The tombstone, as the tip's `json`.
    pub tombstone_json: &'a str,
    /// Who purges (`system:retention`, `cli:<user>`).
    pub actor: &'a str,
    /// Now (ms).
    pub at_ms: i64,
}

/// Arguments of `purge.lua`.
struct PurgeArgs<'a> {
    tip: String,
    events: String,
    my_tips: String,
    recent: String,
    route: String,
    convo: String,
    answering: String,
    card: String,
    /// The card's message link, or the tip's key when it has no card.
    card_message: String,
    telegram_copies: String,
    /// The card's group's open tips, or the tip's key when it has no card.
    open: String,
    sla: String,
    offduty: String,
    /// The files' sealed fingerprints and withheld marks.
    evidence: String,
    p: &'a PurgeTip<'a>,
    audit: &'a AuditAppend,
}

impl PurgeArgs<'_> {
    fn call(&self, keys: &super::Keys) -> Call {
        let mut call = PURGE.call();
        call.key(&self.tip)
            .key(&self.events)
            .key(&self.my_tips)
            .key(&self.recent)
            .key(&self.route)
            .key(&self.convo)
            .key(&self.answering)
            .key(&self.card)
            .key(&self.card_message)
            .key(&self.telegram_copies)
            .key(&self.open)
            .key(&self.sla)
            .key(&self.offduty)
            .key(&self.evidence);
        AuditAppend::push_keys(keys, &mut call);
        call.arg(self.p.code)
            .arg(self.p.at_ms)
            .arg(self.p.actor)
            .arg(self.p.status)
            .arg(self.p.tombstone_json);
        self.audit.push_args(&mut call);
        call
    }
}

impl Store {
    /// Replaces a tip with its tombstone and appends its `purged` event and its audit record,
    /// atomically; see `purge.lua` for what else goes. `None`: the audit head moved since
    /// `audit` was computed, nothing was done (compute it again and retry).
    pub async fn purge_tip(
        &self,
        p: &PurgeTip<'_>,
        audit: &AuditAppend,
    ) -> redis::RedisResult<Option<Purged>> {
        let k = &self.keys;
        let card = self.card(p.code).await?;
        let args = PurgeArgs {
            tip: k.tip(p.code),
            events: k.events(),
            my_tips: k.my_tips(p.alias),
            recent: k.recent(p.alias),
            route: k.route(p.alias),
            convo: k.convo(p.channel, p.alias),
            answering: k.answering(p.alias),
            card: k.card(p.code),
            card_message: card.map_or_else(|| k.tip(p.code), |(c, m, _)| k.card_message(c, m)),
            telegram_copies: k.telegram_copies(p.code),
            open: card.map_or_else(|| k.tip(p.code), |(c, _, _)| k.open(c)),
            sla: k.sla(),
            offduty: k.offduty(),
            evidence: k.evidence(p.code),
            p,
            audit,
        };
        let seq: i64 = args.call(k).invoke(&mut self.conn()).await?;
        Ok(match seq {
            -2 => None,
            -1 => Some(Purged::Unknown),
            0 => Some(Purged::NotNow),
            n => Some(Purged::Done(n as u64)),
        })
    }

    /// Takes the purge of period `period` for this process; `false` when another replica has.
    pub async fn retention_claim(
        &self,
        period: i64,
        instance: &str,
        keep_secs: u64,
    ) -> redis::RedisResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.keys.retention_run(period))
            .arg(instance)
            .arg("NX")
            .arg("EX")
            .arg(keep_secs.max(1))
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Marks the purge of period `period` finished (while its lease lasts).
    pub async fn retention_done(&self, period: i64) -> redis::RedisResult<()> {
        let _: Option<String> = redis::cmd("SET")
            .arg(self.keys.retention_run(period))
            .arg("done")
            .arg("XX")
            .arg("KEEPTTL")
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Gives the purge of period `period` back after a failure, so that the next tick of any
    /// replica tries again.
    pub async fn retention_release(&self, period: i64) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("DEL")
            .arg(self.keys.retention_run(period))
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Whether the purge of period `period` is running now (taken, not finished).
    pub async fn retention_running(&self, period: i64) -> redis::RedisResult<bool> {
        let v: Option<String> = redis::cmd("GET")
            .arg(self.keys.retention_run(period))
            .query_async(&mut self.conn())
            .await?;
        Ok(v.is_some_and(|v| v != "done"))
    }

    /// The id below which every consumer group of the events stream has finished every
    /// entry (read and acknowledged), as `(ms, seq)`; `None` when the stream has no group.
    pub async fn events_finished_below(&self) -> redis::RedisResult<Option<(u64, u64)>> {
        let events = self.keys.events();
        let groups: redis::streams::StreamInfoGroupsReply = match redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&events)
            .query_async(&mut self.conn())
            .await
        {
            Ok(g) => g,
            // No stream yet.
            Err(e) if e.code() == Some("ERR") => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bound: Option<(u64, u64)> = None;
        for g in &groups.groups {
            // Everything up to the last delivered id was read; of that, the pending entries
            // are not finished: the oldest of them bounds the trim.
            let mut group_bound = parse_id(&g.last_delivered_id).map(|(ms, seq)| (ms, seq + 1));
            if g.pending > 0 {
                let summary: redis::streams::StreamPendingReply = redis::cmd("XPENDING")
                    .arg(&events)
                    .arg(&g.name)
                    .query_async(&mut self.conn())
                    .await?;
                if let redis::streams::StreamPendingReply::Data(d) = summary {
                    group_bound = group_bound.min(parse_id(&d.start_id));
                }
            }
            let group_bound = group_bound.unwrap_or((0, 0));
            bound = Some(bound.map_or(group_bound, |b| b.min(group_bound)));
        }
        Ok(bound)
    }

    /// Removes the entries of `stream` with ids below `(ms, seq)`; how many went.
    pub async fn trim_below(&self, stream: &str, below: (u64, u64)) -> redis::RedisResult<u64> {
        redis::cmd("XTRIM")
            .arg(stream)
            .arg("MINID")
            .arg(format!("{}-{}", below.0, below.1))
            .query_async(&mut self.conn())
            .await
    }
}

/// `1700000000000-3` as `(ms, seq)`.
pub fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_purge_builder_pushes_what_purge_lua_declares() {
        let p = PurgeTip {
            code: "TB-0000-0000",
            alias: "a",
            channel: Channel::Telegram,
            status: "closed",
            tombstone_json: "{}",
            actor: "system:retention",
            at_ms: 1,
        };
        let args = PurgeArgs {
            tip: "k".into(),
            events: "k".into(),
            my_tips: "k".into(),
            recent: "k".into(),
            route: "k".into(),
            convo: "k".into(),
            answering: "k".into(),
            card: "k".into(),
            card_message: "k".into(),
            telegram_copies: "k".into(),
            open: "k".into(),
            sla: "k".into(),
            offduty: "k".into(),
            evidence: "k".into(),
            p: &p,
            audit: &AuditAppend::sample(),
        };
        assert_matches(&PURGE, &args.call(&Keys::new("{t}")), 0);
    }

    #[test]
    fn a_stream_id_parses_into_its_time_and_sequence() {
        assert_eq!(parse_id("1700000000000-3"), Some((1_700_000_000_000, 3)));
        assert_eq!(parse_id("0-0"), Some((0, 0)));
        assert_eq!(parse_id("x"), None);
    }
}
