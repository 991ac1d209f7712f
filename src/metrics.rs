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
    backlog: Family<Vec<(String, String)>, Gauge>,
    /// Inbox entries moved to `dlq:intake`, by audience and reason
    /// ([`Metrics::inbox_dead_lettered`]).
    pub inbox_dead: Family<Vec<(String, String)>, Counter>,
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
            backlog: Family::default(),
            inbox_dead: Family::default(),
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
        registry.register(
            "queue_backlog",
            "Events or updates a consumer group has not finished (state=lag: not read yet; state=pending: read, not acknowledged)",
            m.backlog.clone(),
        );
        registry.register(
            "inbox_dead_lettered",
            "Inbox entries moved to dlq:intake (reason=budget: kept failing past the retry budget; reason=unreadable: cannot be read)",
            m.inbox_dead.clone(),
        );
        Self { registry, ..m }
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
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
