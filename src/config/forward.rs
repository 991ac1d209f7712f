//! Forwarding to the police triage service (DESIGN.md §7): where it is, how hard to try, and
//! how long evidence links live. The shared secret and the callback API token are not here:
//! they come from the environment ([`super::Secrets`]).

use serde::Deserialize;

use super::{Problem, Settings};

/// The `forward` role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardSettings {
    /// Whether events are forwarded at all.
    pub enabled: bool,
    /// Where events are posted (`POST <url>`).
    pub url: String,
    /// Seconds one request may take before it counts as failed (and is retried).
    pub timeout_secs: u64,
    /// Tips delivered at the same time (events of one tip always go one after another).
    pub concurrency: usize,
    /// Failed attempts after which an event goes to `dlq:forward`.
    pub max_attempts: u32,
    /// Wait after the first failure, in milliseconds; it doubles each time, with jitter.
    pub backoff_initial_ms: u64,
    /// Longest wait between attempts, in seconds (a `Retry-After` may ask for more).
    pub backoff_max_secs: u64,
    /// Seconds an event may sit unacknowledged with a worker before another worker takes it
    /// over (`XAUTOCLAIM`): the worker crashed.
    pub reclaim_after_secs: u64,
    /// Seconds an evidence download link stays valid, from the tip's submission (at least half
    /// of it from the sending, for an event sent late).
    pub evidence_url_ttl_secs: u64,
}

impl Default for ForwardSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            url: String::new(),
            timeout_secs: 10,
            concurrency: 8,
            max_attempts: 50,
            backoff_initial_ms: 1000,
            backoff_max_secs: 600,
            reclaim_after_secs: 60,
            evidence_url_ttl_secs: 7 * 24 * 3600,
        }
    }
}

impl ForwardSettings {
    pub(super) fn validate(&self, settings: &Settings, p: &mut Vec<Problem>) {
        if self.enabled {
            match reqwest::Url::parse(&self.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => p.push(Problem::new(
                    "triage.url",
                    "must be the http(s) URL of the triage service when triage.enabled",
                )),
            }
            if settings.http.public_url.is_empty() {
                p.push(Problem::new(
                    "http.public_url",
                    "must be set when triage.enabled: evidence download links point there",
                ));
            }
        }
        if !(1..=300).contains(&self.timeout_secs) {
            p.push(Problem::new(
                "triage.timeout_secs",
                "must be between 1 and 300",
            ));
        }
        if !(1..=256).contains(&self.concurrency) {
            p.push(Problem::new(
                "triage.concurrency",
                "must be between 1 and 256",
            ));
        }
        if !(1..=1000).contains(&self.max_attempts) {
            p.push(Problem::new(
                "triage.max_attempts",
                "must be between 1 and 1000",
            ));
        }
        if self.backoff_initial_ms == 0 || self.backoff_initial_ms > self.backoff_max_secs * 1000 {
            p.push(Problem::new(
                "triage.backoff_initial_ms",
                "must be more than 0 and at most triage.backoff_max_secs",
            ));
        }
        if self.reclaim_after_secs == 0 {
            p.push(Problem::new(
                "triage.reclaim_after_secs",
                "must be at least 1",
            ));
        }
        if !(60..=30 * 24 * 3600).contains(&self.evidence_url_ttl_secs) {
            p.push(Problem::new(
                "triage.evidence_url_ttl_secs",
                "must be between 60 and 2592000 (30 days)",
            ));
        }
    }
}
