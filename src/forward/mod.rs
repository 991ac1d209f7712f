//! The `forward` role (DESIGN.md §7): every event on `{tl}:events` goes to the police triage
//! service, signed, in order per tip, and is acknowledged only once the service has answered
//! 2xx.
//!
//! The forwarder is a [`Handler`] of the `forward` consumer group on the one event-consumer
//! engine ([`crate::consumer`] over [`crate::lanes`]), with its own [`Retries`] policy:
//!
//! ```text
//! consumer:  own pending, new events, XAUTOCLAIM of a stopped worker's; lanes keyed by tip,
//!            ranked by seq, up to `triage.concurrency` tips at once
//! handle:    skip if the tip's fwd_seq already covers it; not yet if an earlier event of the
//!            tip is still out (put back, tried again shortly); hold the tip; POST;
//!            2xx → fwd_seq + XACK (one script)
//! Retries:   408/429/5xx/timeout → backoff with jitter (Retry-After honoured) on the app
//!            clock, attempts kept in Redis; other 4xx or too many attempts → dlq:forward
//!            (one script)
//! ```
//!
//! A crash at any point leaves the event pending: this worker reads it again at start, or
//! another takes it over after `reclaim_after_secs`. The triage service may then see an event
//! twice, always with the same `Idempotency-Key`, and never out of order.

pub mod dlq;
pub mod payload;
mod retry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use crate::consumer::{Consumer, Handler, Tuning};
use crate::events::{DecodeError, TipEvent};
use crate::lanes::Limits;
use crate::links::LinkSigner;
use crate::shared::Shared;
use crate::store::{FORWARD_GROUP, consumer_name};

pub use retry::{Retries, backoff, parse_retry_after};

/// Why one attempt failed.
#[derive(Debug)]
pub enum Failure {
    /// Worth another try (408, 429, 5xx, timeout, no connection), not before the given wait.
    Retry(String, Option<Duration>),
    /// Another try would fail the same way (any other 4xx).
    Permanent(String),
}

/// Why an event was not delivered this time; [`Retries`] decides what comes next.
#[derive(Debug, thiserror::Error)]
pub enum Undelivered {
    /// The triage service did not take it.
    #[error("{}", match .0 { Failure::Retry(why, _) | Failure::Permanent(why) => why })]
    Failed(Failure),
    /// An earlier event of the tip is still out (with another worker, or not read yet).
    #[error("an earlier event of the tip is still out")]
    NotYet,
    /// No body of it can be made (its tip is gone): given up without an attempt.
    #[error("{0}")]
    Unsendable(String),
}

/// Sends events to the triage service.
pub struct Forwarder {
    shared: Arc<Shared>,
    client: reqwest::Client,
    secret: Vec<u8>,
    links: LinkSigner,
    consumer: String,
    /// Since when (app clock, ms) each tip's next event has waited for an earlier one.
    blocked_since: Mutex<HashMap<String, i64>>,
}

impl Forwarder {
    /// A forwarder for this process (`secret` signs the requests).
    pub fn new(shared: Arc<Shared>, secret: &[u8], links: LinkSigner) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(shared.settings.triage.timeout_secs))
            .user_agent(concat!("tipline/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn the POST into a bodiless GET; a 3xx is an error instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the HTTP client for the triage service")?;
        let consumer = consumer_name(FORWARD_GROUP, &shared.instance);
        Ok(Self {
            shared,
            client,
            secret: secret.to_vec(),
            links,
            consumer,
            blocked_since: Mutex::new(HashMap::new()),
        })
    }

    /// The `forward` worker: this forwarder on the event-consumer engine with the
    /// [`Retries`] policy, `triage.concurrency` tips at once, taking over a stopped worker's
    /// events after `triage.reclaim_after_secs`.
    pub async fn worker(self) -> anyhow::Result<Consumer<Self, Retries>> {
        let shared = self.shared.clone();
        let triage = &shared.settings.triage;
        let tuning = Tuning {
            limits: Limits {
                running: triage.concurrency,
                queued: (triage.concurrency * 64).max(256),
            },
            batch: 100,
            reclaim_after: Duration::from_secs(triage.reclaim_after_secs),
        };
        let retries = Retries::new(shared.clone());
        Consumer::with_policy(shared.clone(), self, retries, tuning).await
    }

    /// How long a tip's lease lasts ([`crate::store::Store::forward_hold`]).
    fn lease_ms(&self) -> u64 {
        self.shared.settings.triage.reclaim_after_secs * 2000
    }

    /// Whether tip `code`'s next event has waited long enough for an earlier one that the
    /// earlier one counts as lost; starts the wait on its first call.
    fn waited_too_long(&self, code: &str) -> bool {
        let now = self.shared.clock.now_ms();
        let force_after_ms = self.lease_ms() as i64;
        let mut blocked = self.blocked_lock();
        if blocked.len() > 1024 {
            // Tips whose events another worker finished are never cleared here; a wait far
            // past the force window is over one way or another.
            blocked.retain(|_, since| now - *since <= 2 * force_after_ms);
        }
        let since = *blocked.entry(code.to_owned()).or_insert(now);
        now - since > force_after_ms
    }

    fn blocked_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A poisoned map only lost a start time; it is still usable.
        self.blocked_since.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One attempt at `event`: skipped when the triage service has it, [`Undelivered::NotYet`]
    /// while an earlier event of its tip is out, otherwise sent, and recorded and
    /// acknowledged on 2xx.
    async fn deliver(&self, stream_id: &str, event: &TipEvent) -> anyhow::Result<()> {
        let store = &self.shared.store;
        let code = event.code().as_str();
        let seq = event.head().seq;
        let state = store.forward_state(code).await?;
        if seq > 0 && state.exists {
            if state.delivered_seq >= seq {
                self.blocked_lock().remove(code);
                store
                    .forward_delivered(code, seq, stream_id, &self.consumer)
                    .await?;
                self.shared.metrics.forward_skipped.inc();
                return Ok(());
            }
            if state.delivered_seq + 1 < seq {
                // An earlier event that stays missing for long, with no live worker holding
                // the tip, was lost for good (e.g. a trimmed stream): send on without it.
                if !self.waited_too_long(code) || store.forward_busy(code).await? {
                    return Err(Undelivered::NotYet.into());
                }
                tracing::warn!(tip = %code, seq, "an earlier event never came; sending this one anyway");
            }
        }
        self.blocked_lock().remove(code);
        store
            .forward_hold(code, &self.consumer, self.lease_ms())
            .await?;
        let tip = if payload::needs_tip(event) {
            match store.tip(event.code()).await? {
                Some(t) => Some(t),
                None => {
                    return Err(
                        Undelivered::Unsendable("the tip is no longer stored".into()).into(),
                    );
                }
            }
        } else {
            None
        };
        let now_ms = self.shared.clock.now_ms();
        let body = self.body(event, tip.as_ref(), now_ms);
        self.post(&body, &payload::idempotency_key(event), now_ms / 1000)
            .await
            .map_err(Undelivered::Failed)?;
        store
            .forward_delivered(code, seq, stream_id, &self.consumer)
            .await?;
        self.shared.metrics.forward_delivered.inc();
        tracing::info!(tip = %code, seq, kind = event.kind(), "event forwarded");
        Ok(())
    }

    /// The request body for `event`, as sent at `now_ms`.
    pub fn body(
        &self,
        event: &crate::events::TipEvent,
        tip: Option<&crate::store::Tip>,
        now_ms: i64,
    ) -> Vec<u8> {
        let ctx = payload::Context {
            settings: &self.shared.settings,
            vault: &self.shared.vault,
            links: &self.links,
            now_unix: now_ms / 1000,
        };
        // A JSON value always serialises.
        serde_json::to_vec(&payload::body(event, tip, &ctx)).unwrap_or_default()
    }

    /// One signed POST; `Ok` on 2xx.
    pub async fn post(&self, body: &[u8], key: &str, now_unix: i64) -> Result<(), Failure> {
        let res = self
            .client
            .post(&self.shared.settings.triage.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key)
            .header(
                "X-Tipline-Signature",
                crate::links::signature_header(&self.secret, now_unix, body),
            )
            .body(body.to_vec())
            .send()
            .await;
        let resp = match res {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(Failure::Retry("timed out".into(), None)),
            Err(e) => {
                return Err(Failure::Retry(
                    format!("no connection: {}", e.without_url()),
                    None,
                ));
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now_unix));
        let text = resp.text().await.unwrap_or_default();
        let why = format!(
            "HTTP {}: {}",
            status.as_u16(),
            text.chars().take(300).collect::<String>()
        );
        if matches!(status.as_u16(), 408 | 429) || status.is_server_error() {
            Err(Failure::Retry(why, retry_after))
        } else {
            Err(Failure::Permanent(why))
        }
    }
}

impl Handler for Forwarder {
    const GROUP: &'static str = FORWARD_GROUP;
    /// Any number of replicas forward at once; a tip is held by one of them at a time.
    const PER_INSTANCE: bool = true;
    /// A delivery records `fwd_seq` and acknowledges in one script.
    const ACKNOWLEDGES: bool = true;

    async fn handle(&self, stream_id: &str, event: &TipEvent) -> anyhow::Result<()> {
        self.deliver(stream_id, event).await
    }

    /// No body of it could follow the schema, whatever its type: the dead letter keeps it
    /// for a look and, after an upgrade that knows it, a replay.
    fn undecodable(&self, error: &DecodeError) -> Option<String> {
        Some(format!("the event cannot be read: {error}"))
    }
}
