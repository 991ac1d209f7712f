//! The one atomic write per processed update (`commit.lua`). It sets, all or nothing: the
//! update's `seen` mark (with the replies still to send), the new conversation, the draft
//! timer, the sealed route (and clears an "unreachable" mark: the citizen is writing again)
//! and, on submit, the tip, its index entry, its `submitted` event, the citizen's lists of codes
//! and recent tips, and the hotspot count it joins. A crash before the script changes nothing;
//! a crash after it leaves the mark, so the redelivered update only re-sends the replies.
//!
//! Keys of its own: `hot:<commune>:<category>` (tips of one category in one commune, scored by
//! time), `hotwho:<commune>:<category>` (the aliases of the citizens who sent them, scored by
//! their latest: a hotspot counts citizens, not tips) and `hotalert:<commune>:<category>` (an
//! alert was raised in the window); the rest
//! belong to the inbox, conversations and tips. The conversation arrives as JSON: its shape is
//! the conversation module's business, not the store's.

use super::inbox::SEEN_TTL_SECS;
use super::script::{COMMIT, Call};
use super::{Keys, Store, Tip};
use crate::privacy::Channel;

impl Keys {
    /// Tips of one category in one commune, scored by time, for hotspot alerts.
    pub fn hotspot(&self, commune: &str, category: &str) -> String {
        format!("{}:hot:{commune}:{category}", self.ns)
    }
    /// Aliases of the citizens behind [`Keys::hotspot`]'s tips, scored by their latest tip.
    pub fn hotspot_citizens(&self, commune: &str, category: &str) -> String {
        format!("{}:hotwho:{commune}:{category}", self.ns)
    }
    /// Set while a hotspot alert for a commune and category was raised in the window.
    pub fn hotspot_alerted(&self, commune: &str, category: &str) -> String {
        format!("{}:hotalert:{commune}:{category}", self.ns)
    }
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was written.
    Done,
    /// Nothing was written: the tip's code is taken; draw another and commit again.
    CodeTaken,
    /// Nothing was written: the update already has a mark (another run processed it).
    AlreadySeen,
}

/// A tip to create in the commit.
#[derive(Debug, Clone)]
pub struct NewTip {
    /// The tip.
    pub tip: Tip,
    /// Its entry in the citizen's recent tips (JSON of [`super::Recent`]).
    pub recent: String,
    /// How long the recent tips are kept (the duplicate window), in ms.
    pub recent_ttl_ms: i64,
    /// The hotspot count it joins, when its commune is known and hotspots are on.
    pub hotspot: Option<Hotspot>,
}

/// A hotspot rule as it applies to one tip: its commune and category, the window and the
/// count that raises an alert.
#[derive(Debug, Clone)]
pub struct Hotspot {
    /// Commune id.
    pub commune: String,
    /// Category id.
    pub category: String,
    /// The window, in minutes.
    pub window_mins: u64,
    /// Citizens (distinct aliases) with tips within the window that make a hotspot.
    pub count: u32,
}

/// Everything one processed update writes.
#[derive(Debug)]
pub struct Commit<'a> {
    /// Channel of the citizen.
    pub channel: Channel,
    /// The `seen` key of the update.
    pub seen_key: String,
    /// Replies to send, JSON; kept in the mark until they are sent.
    pub replies_json: String,
    /// The citizen's alias.
    pub alias: &'a str,
    /// The conversation after the update, as JSON.
    pub conversation_json: String,
    /// When the citizen last wrote (the conversation's `last_activity_ms`): the time of the
    /// `citizen_replied` event of `answer`.
    pub last_activity_ms: i64,
    /// Seconds the conversation is kept.
    pub conversation_ttl_secs: u64,
    /// When the draft timer is next due (ms), or `None` when no draft is open.
    pub draft_due_ms: Option<i64>,
    /// A freshly sealed route to store, when it may be missing.
    pub route_sealed: Option<String>,
    /// The tip, on submit.
    pub tip: Option<NewTip>,
    /// The citizen's answer to an officer's question: (tip code, text), appended as a
    /// `citizen_replied` event of that tip.
    pub answer: Option<(String, String)>,
}

/// Arguments of `commit.lua`, in its order. Absent parts are empty strings (zero for
/// numbers), which the script reads as "nothing to do"; unused keys name a key of the
/// namespace (`tip:-`) so that the script stays in one cluster slot.
struct CommitArgs<'a> {
    seen: &'a str,
    convo: String,
    idle: String,
    route: String,
    tip: String,
    tips: String,
    events: String,
    my_tips: String,
    unreachable: String,
    answered_tip: String,
    recent: String,
    hotspot: String,
    hotspot_alerted: String,
    hotspot_citizens: String,
    replies_json: &'a str,
    seen_ttl_secs: u64,
    conversation_json: &'a str,
    conversation_ttl_secs: u64,
    alias: &'a str,
    draft_due_ms: String,
    route_sealed: &'a str,
    code: &'a str,
    tip_json: String,
    received_ms: i64,
    priority: String,
    answer_code: &'a str,
    answer_text: &'a str,
    answer_at_ms: i64,
    recent_entry: &'a str,
    recent_ttl_ms: i64,
    hotspot_window_ms: String,
    hotspot_count: u32,
    commune: &'a str,
    category: &'a str,
    hotspot_window_mins: u64,
}

impl CommitArgs<'_> {
    fn call(&self) -> Call {
        let mut call = COMMIT.call();
        call.key(self.seen)
            .key(&self.convo)
            .key(&self.idle)
            .key(&self.route)
            .key(&self.tip)
            .key(&self.tips)
            .key(&self.events)
            .key(&self.my_tips)
            .key(&self.unreachable)
            .key(&self.answered_tip)
            .key(&self.recent)
            .key(&self.hotspot)
            .key(&self.hotspot_alerted)
            .key(&self.hotspot_citizens)
            .arg(self.replies_json)
            .arg(self.seen_ttl_secs)
            .arg(self.conversation_json)
            .arg(self.conversation_ttl_secs)
            .arg(self.alias)
            .arg(&self.draft_due_ms)
            .arg(self.route_sealed)
            .arg(self.code)
            .arg(&self.tip_json)
            .arg(self.received_ms)
            .arg(&self.priority)
            .arg(self.answer_code)
            .arg(self.answer_text)
            .arg(self.answer_at_ms)
            .arg(self.recent_entry)
            .arg(self.recent_ttl_ms)
            .arg(&self.hotspot_window_ms)
            .arg(self.hotspot_count)
            .arg(self.commune)
            .arg(self.category)
            .arg(self.hotspot_window_mins);
        call
    }
}

impl Store {
    /// Writes `commit` atomically, or nothing when the code is taken or the update was
    /// already processed.
    pub async fn commit(&self, commit: &Commit<'_>) -> redis::RedisResult<CommitOutcome> {
        let k = &self.keys;
        let new_tip = commit.tip.as_ref();
        let code = new_tip.map_or("", |t| t.tip.code.as_str());
        let tip_json = match new_tip {
            Some(t) => serde_json::to_string(&t.tip).map_err(json_err)?,
            None => String::new(),
        };
        let hotspot = new_tip.and_then(|t| t.hotspot.as_ref());
        let (answer_code, answer_text) = commit
            .answer
            .as_ref()
            .map_or(("", ""), |(code, text)| (code.as_str(), text.as_str()));
        let args = CommitArgs {
            seen: &commit.seen_key,
            convo: k.convo(commit.channel, commit.alias),
            idle: k.idle(),
            route: k.route(commit.alias),
            tip: k.tip(if code.is_empty() { "-" } else { code }),
            tips: k.tips(),
            events: k.events(),
            my_tips: k.my_tips(commit.alias),
            unreachable: k.unreachable(commit.alias),
            answered_tip: k.tip(
                commit
                    .answer
                    .as_ref()
                    .map_or("-", |(code, _)| code.as_str()),
            ),
            recent: k.recent(commit.alias),
            hotspot: hotspot.map_or_else(|| k.tip("-"), |h| k.hotspot(&h.commune, &h.category)),
            hotspot_alerted: hotspot.map_or_else(
                || k.tip("-"),
                |h| k.hotspot_alerted(&h.commune, &h.category),
            ),
            hotspot_citizens: hotspot.map_or_else(
                || k.tip("-"),
                |h| k.hotspot_citizens(&h.commune, &h.category),
            ),
            replies_json: &commit.replies_json,
            seen_ttl_secs: SEEN_TTL_SECS,
            conversation_json: &commit.conversation_json,
            conversation_ttl_secs: commit.conversation_ttl_secs,
            alias: commit.alias,
            draft_due_ms: commit
                .draft_due_ms
                .map(|d| d.to_string())
                .unwrap_or_default(),
            route_sealed: commit.route_sealed.as_deref().unwrap_or(""),
            code,
            tip_json,
            received_ms: new_tip.map(|t| t.tip.received_ms).unwrap_or_default(),
            priority: new_tip
                .and_then(|t| serde_json::to_value(t.tip.priority).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            answer_code,
            answer_text,
            answer_at_ms: commit.last_activity_ms,
            recent_entry: new_tip.map_or("", |t| t.recent.as_str()),
            recent_ttl_ms: new_tip.map_or(1, |t| t.recent_ttl_ms.max(1)),
            hotspot_window_ms: hotspot
                .map_or(String::new(), |h| (h.window_mins * 60_000).to_string()),
            hotspot_count: hotspot.map_or(0, |h| h.count),
            commune: hotspot.map_or("", |h| h.commune.as_str()),
            category: hotspot.map_or("", |h| h.category.as_str()),
            hotspot_window_mins: hotspot.map_or(0, |h| h.window_mins),
        };
        let done: i64 = args.call().invoke(&mut self.conn()).await?;
        Ok(match done {
            1 => CommitOutcome::Done,
            0 => CommitOutcome::CodeTaken,
            _ => CommitOutcome::AlreadySeen,
        })
    }
}

fn json_err(e: serde_json::Error) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Client,
        "serialising failed",
        e.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_commit_builder_pushes_what_commit_lua_declares() {
        let args = CommitArgs {
            seen: "k",
            convo: "k".into(),
            idle: "k".into(),
            route: "k".into(),
            tip: "k".into(),
            tips: "k".into(),
            events: "k".into(),
            my_tips: "k".into(),
            unreachable: "k".into(),
            answered_tip: "k".into(),
            recent: "k".into(),
            hotspot: "k".into(),
            hotspot_alerted: "k".into(),
            hotspot_citizens: "k".into(),
            replies_json: "[]",
            seen_ttl_secs: 1,
            conversation_json: "{}",
            conversation_ttl_secs: 1,
            alias: "a",
            draft_due_ms: String::new(),
            route_sealed: "",
            code: "",
            tip_json: String::new(),
            received_ms: 0,
            priority: String::new(),
            answer_code: "",
            answer_text: "",
            answer_at_ms: 0,
            recent_entry: "",
            recent_ttl_ms: 1,
            hotspot_window_ms: String::new(),
            hotspot_count: 0,
            commune: "",
            category: "",
            hotspot_window_mins: 0,
        };
        assert_matches(&COMMIT, &args.call(), 0);
    }
}
