//! Prometheus metrics at `/metrics`: counters the roles bump as they work, and backlog gauges
//! read from Redis at each scrape (how far each consumer group is behind).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::store::Store;

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    /// Events the triage service took.
    pub forward_delivered: Counter,
    /// Failed attempts that will be retried.
    pub forward_retried: Counter,
    /// Events given up on (`dlq:forward`).
    pub forward_dead: Counter,
    /// Redelivered events the triage service already had, acknowledged without sending.
    pub forward_skipped: Counter,
    /// Tips submitted.
    pub tips_submitted: Counter,
    /// Callback API calls by outcome (HTTP status).
    pub callbacks: Family<Vec<(String, String)>, Counter>,
    /// Replies the platform refused for good, by audience and reason ([`Metrics::refused`]).
    pub replies_refused: Family<Vec<(String, String)>, Counter>,
    /// 1 while Redis takes writes, 0 since it refused one (set by the receiving edge and by
    /// the probe of `/readyz` and `/metrics`).
    pub redis_up: Gauge,
    /// Writes Redis refused, by reason ([`crate::store::Trouble::label`]).
    pub redis_errors: Family<Vec<(String, String)>, Counter>,
    /// "The line is briefly unavailable" notices sent to citizens while Redis refused writes.
    pub unavailable_notices: Counter,
    /// Citizens' messages over the per-minute limit, ignored.
    pub flood_dropped: Counter,
    /// Tips of new citizens over the ceiling, listed in a summary card instead of a card each.
    pub tips_summarised: Counter,
    /// Summary cards posted.
    pub summaries_posted: Counter,
    /// Group commands left unanswered because their group sent more than
    /// `desk.commands_per_minute`.
    pub commands_limited: Counter,
    backlog: Family<Vec<(String, String)>, Gauge>,
    /// Cards their duty group refused for good, by reason and where they went instead.
    pub desk_fallbacks: Family<Vec<(String, String)>, Counter>,
    /// Tips whose card is not in their duty group, read from Redis at each scrape.
    desk_off_duty: Gauge,
    /// Inbox entries moved to `dlq:intake`, by audience and reason
    /// ([`Metrics::inbox_dead_lettered`]).
    pub inbox_dead: Family<Vec<(String, String)>, Counter>,
    /// What the duty group's boundary refused, by reason ([`Metrics::desk_refused`]).
    pub desk_refusals: Family<Vec<(String, String)>, Counter>,
    /// Evidence files on their way out, by result ([`Metrics::evidence_file`]).
    pub evidence_files: Family<Vec<(String, String)>, Counter>,
    /// Evidence link downloads served.
    pub evidence_downloads: Counter,
    /// Tips the retention purge replaced with a tombstone.
    pub retention_purged: Counter,
    /// Entries the retention purge trimmed, by stream (`events`, `dead_letters`).
    pub retention_trimmed: Family<Vec<(String, String)>, Counter>,
    /// Sealed values sealed again under the current route key in the background.
    pub resealed: Counter,
    /// Long-kept sealed values the last background reseal left under another key.
    pub reseal_left: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tipline");
        let m = Self {
            forward_delivered: Counter::default(),
            forward_retried: Counter::default(),
            forward_dead: Counter::default(),
            forward_skipped: Counter::default(),
            tips_submitted: Counter::default(),
            callbacks: Family::default(),
            replies_refused: Family::default(),
            redis_up: Gauge::default(),
            redis_errors: Family::default(),
            unavailable_notices: Counter::default(),
            flood_dropped: Counter::default(),
            tips_summarised: Counter::default(),
            summaries_posted: Counter::default(),
            commands_limited: Counter::default(),
            backlog: Family::default(),
            desk_fallbacks: Family::default(),
            desk_off_duty: Gauge::default(),
            inbox_dead: Family::default(),
            desk_refusals: Family::default(),
            evidence_files: Family::default(),
            evidence_downloads: Counter::default(),
            retention_purged: Counter::default(),
            retention_trimmed: Family::default(),
            resealed: Counter::default(),
            reseal_left: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "forward_delivered",
            "Events delivered to the triage service",
            m.forward_delivered.clone(),
        );
        registry.register(
            "forward_retried",
            "Failed deliveries to the triage service that will be retried",
            m.forward_retried.clone(),
        );
        registry.register(
            "forward_dead_lettered",
            "Events given up on and moved to dlq:forward",
            m.forward_dead.clone(),
        );
        registry.register(
            "forward_skipped",
            "Redelivered events the triage service already had",
            m.forward_skipped.clone(),
        );
        registry.register(
            "tips_submitted",
            "Tips submitted by citizens",
            m.tips_submitted.clone(),
        );
        registry.register(
            "callbacks",
            "Calls to the triage callback API by HTTP status",
            m.callbacks.clone(),
        );
        registry.register(
            "replies_refused",
            "Replies the platform refused for good (blocked, kicked, no rights, chat gone); the update they answered is done",
            m.replies_refused.clone(),
        );
        // A process starts only once Redis answers.
        m.redis_up.set(1);
        registry.register(
            "redis_up",
            "1 while Redis takes writes; 0 since it refused one (out of memory, unreachable)",
            m.redis_up.clone(),
        );
        registry.register(
            "redis_errors",
            "Writes Redis refused, by reason (out_of_memory, unreachable, loading, other)",
            m.redis_errors.clone(),
        );
        registry.register(
            "unavailable_notices",
            "Notices sent to citizens that the line is briefly unavailable while Redis refuses writes",
            m.unavailable_notices.clone(),
        );
        registry.register(
            "flood_dropped",
            "Citizens' messages over limits.messages_per_minute (counted by send time), ignored; a report's send is never dropped",
            m.flood_dropped.clone(),
        );
        registry.register(
            "tips_summarised",
            "Tips from new citizens over the limits.new_citizens ceilings, listed in a summary card instead of a card each",
            m.tips_summarised.clone(),
        );
        registry.register(
            "summaries_posted",
            "Summary cards posted in duty groups",
            m.summaries_posted.clone(),
        );
        registry.register(
            "group_commands_limited",
            "Group commands left unanswered because their group sent more than desk.commands_per_minute",
            m.commands_limited.clone(),
        );
        registry.register(
            "queue_backlog",
            "Events or updates a consumer group has not finished (state=lag: not read yet; state=pending: read, not acknowledged)",
            m.backlog.clone(),
        );
        registry.register(
            "desk_card_fallbacks",
            "Cards their duty group refused for good, by reason (kicked, chat_not_found, no_rights, message_refused) and where they went (duty_outline, supervisors, supervisors_outline, dead_letter)",
            m.desk_fallbacks.clone(),
        );
        registry.register(
            "desk_cards_off_duty",
            "Tips whose card is not in their duty group (at the supervisors, or in dlq:desk) until replayed, closed or dropped; alert when above 0",
            m.desk_off_duty.clone(),
        );
        registry.register(
            "inbox_dead_lettered",
            "Inbox entries moved to dlq:intake (reason=budget: kept failing past the retry budget; reason=unreadable: cannot be read)",
            m.inbox_dead.clone(),
        );
        registry.register(
            "desk_refused",
            "What a duty group's member may not do: act on a card without being on desk.officers (reason=not_officer), ask over desk.questions_per_tip_per_hour (reason=question_limit)",
            m.desk_refusals.clone(),
        );
        registry.register(
            "evidence_files",
            "Evidence files fetched to go out, by result (cleaned: metadata removed; unchanged: nothing to remove or not an image; withheld: a corrupt or uncleanable image, not sent)",
            m.evidence_files.clone(),
        );
        registry.register(
            "evidence_downloads",
            "Files served through evidence links (each one audited)",
            m.evidence_downloads.clone(),
        );
        registry.register(
            "retention_purged",
            "Tips past their retention replaced with a tombstone (statistics kept, content gone)",
            m.retention_purged.clone(),
        );
        registry.register(
            "retention_trimmed",
            "Stream entries the retention purge trimmed, by stream (events: finished by every consumer group; dead_letters: older than retention.dead_letter_days)",
            m.retention_trimmed.clone(),
        );
        registry.register(
            "resealed",
            "Sealed values (routes, phones, file fingerprints) sealed again under the current route key after a rotation",
            m.resealed.clone(),
        );
        registry.register(
            "reseal_left",
            "Routes, phones and file fingerprints the last background reseal left under a retired key (changed meanwhile, or opened by no configured key); 0: the retired keys can go once short-lived values expire",
            m.reseal_left.clone(),
        );
        Self { registry, ..m }
    }

    /// Counts an evidence file on its way out: `cleaned`, `unchanged` or `withheld`.
    pub fn evidence_file(&self, result: &str) {
        self.evidence_files
            .get_or_create(&vec![("result".to_owned(), result.to_owned())])
            .inc();
    }

    /// Counts a card its duty group refused for good (`reason`) that went to `to`.
    pub fn card_fallback(&self, reason: &str, to: &str) {
        self.desk_fallbacks
            .get_or_create(&vec![
                ("reason".to_owned(), reason.to_owned()),
                ("to".to_owned(), to.to_owned()),
            ])
            .inc();
    }

    /// Counts a reply to `audience` (`group`, `admin`) that the platform refused for good.
    pub fn refused(&self, audience: &str, reason: &str) {
        self.replies_refused
            .get_or_create(&vec![
                ("audience".to_owned(), audience.to_owned()),
                ("reason".to_owned(), reason.to_owned()),
            ])
            .inc();
    }

    /// Counts an action on a card the duty group's boundary refused (`not_officer`,
    /// `question_limit`).
    pub fn desk_refused(&self, reason: &str) {
        self.desk_refusals
            .get_or_create(&vec![("reason".to_owned(), reason.to_owned())])
            .inc();
    }

    /// Counts a write Redis refused, by reason.
    pub fn redis_error(&self, reason: &str) {
        self.redis_errors
            .get_or_create(&vec![("reason".to_owned(), reason.to_owned())])
            .inc();
    }

    /// Counts an inbox entry for `audience` moved to `dlq:intake` for `reason` (`budget`,
    /// `unreadable`).
    pub fn inbox_dead_lettered(&self, audience: &str, reason: &str) {
        self.inbox_dead
            .get_or_create(&vec![
                ("audience".to_owned(), audience.to_owned()),
                ("reason".to_owned(), reason.to_owned()),
            ])
            .inc();
    }

    /// The text exposition, with the backlog read from Redis now.
    pub async fn render(&self, store: &Store) -> String {
        let keys = store.keys();
        for (stream, group) in [
            (keys.inbox(), "intake"),
            (keys.events(), "desk"),
            (keys.events(), "notify"),
            (keys.events(), "forward"),
        ] {
            if let Ok((lag, pending)) = store.group_backlog(&stream, group).await {
                for (state, n) in [("lag", lag), ("pending", pending)] {
                    self.backlog
                        .get_or_create(&vec![
                            ("group".to_owned(), group.to_owned()),
                            ("state".to_owned(), state.to_owned()),
                        ])
                        .set(n as i64);
                }
            }
        }
        if let Ok(n) = store.offduty_count().await {
            self.desk_off_duty.set(n as i64);
        }
        self.encode()
    }

    /// The text exposition as the metrics stand, without reading Redis (the backlog keeps
    /// the values of the last scrape that could read it).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
