//! The `forward` role (DESIGN.md §7): every event on `{tl}:events` goes to the police triage
//! service, signed, in order per tip, and is acknowledged only once the service has answered
//! 2xx.
//!
//! ```text
//! reader ──(own pending, XAUTOCLAIM of dead workers' events, new events)──> dispatcher
//! dispatcher: per tip a queue ordered by seq; at most `concurrency` tips in flight;
//!             one delivery task per tip at a time
//! delivery:   skip if the tip's fwd_seq already covers it; wait if an earlier event of the
//!             tip is still out; POST; 2xx → fwd_seq + XACK (one script);
//!             408/429/5xx/timeout → backoff with jitter (Retry-After honoured), attempts kept
//!             in Redis; other 4xx or too many attempts → dlq:forward (one script)
//! ```
//!
//! A crash at any point leaves the event pending: this worker reads it again at start, or
//! another takes it over after `reclaim_after_secs`. The triage service may then see an event
//! twice, always with the same `Idempotency-Key`, and never out of order.

pub mod dlq;
pub mod payload;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rand::Rng;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::shared::Shared;
use crate::store::{EventEntry, FORWARD_GROUP};

use crate::links::LinkSigner;

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The triage service has it now.
    Delivered,
    /// It had it already (a redelivery); acknowledged without sending.
    Skipped,
    /// Given up on: in `dlq:forward`.
    Dead,
    /// An earlier event of the same tip is still out; try again shortly.
    Blocked,
}

/// Why one attempt failed.
#[derive(Debug)]
pub enum Failure {
    /// Worth another try (408, 429, 5xx, timeout, no connection), not before the given wait.
    Retry(String, Option<Duration>),
    /// Another try would fail the same way (any other 4xx).
    Permanent(String),
}

/// Sends events to the triage service.
pub struct Forwarder {
    shared: Arc<Shared>,
    client: reqwest::Client,
    secret: Vec<u8>,
    links: LinkSigner,
    consumer: String,
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
        let consumer = format!("forward-{}", shared.instance);
        Ok(Self {
            shared,
            client,
            secret: secret.to_vec(),
            links,
            consumer,
        })
    }

    /// Forwards events until `shutdown`. In-flight deliveries are dropped at shutdown; their
    /// events stay pending and are delivered after the restart.
    pub async fn run(self, shutdown: CancellationToken) {
        let this = Arc::new(self);
        let settings = &this.shared.settings.triage;
        let concurrency = settings.concurrency;
        let capacity = (concurrency * 64).max(256);
        let (tx, mut rx) = mpsc::channel::<EventEntry>(256);
        let reader = tokio::spawn(this.clone().read_loop(tx, shutdown.clone()));
        tracing::info!(consumer = %this.consumer, "forwarder started");

        let mut queues: HashMap<String, BTreeMap<(u64, String), EventEntry>> = HashMap::new();
        let mut known: HashSet<String> = HashSet::new();
        let mut busy: HashSet<String> = HashSet::new();
        let mut ready: VecDeque<String> = VecDeque::new();
        let mut waiting: Vec<(tokio::time::Instant, String)> = Vec::new();
        let mut blocked_since: HashMap<String, i64> = HashMap::new();
        let mut running: JoinSet<(String, anyhow::Result<Outcome>)> = JoinSet::new();
        let mut task_tip: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let force_after_ms = (settings.reclaim_after_secs * 2000) as i64;
        // Events waiting here behind their tip's earlier ones are ours too: tell Redis now and
        // then, so no other worker takes them over (and sends them early) while we live.
        let mut keep_alive = tokio::time::interval(Duration::from_millis(
            (settings.reclaim_after_secs * 1000 / 3).max(100),
        ));
        keep_alive.tick().await;

        loop {
            while running.len() < concurrency {
                let Some(tip) = ready.pop_front() else { break };
                if busy.contains(&tip) {
                    continue;
                }
                let Some(event) = queues.get(&tip).and_then(|q| q.values().next()).cloned() else {
                    queues.remove(&tip);
                    continue;
                };
                // An earlier event that stays missing for long, with no live worker holding
                // the tip, was lost for good (e.g. a trimmed stream): send on without it.
                let force = blocked_since
                    .get(&tip)
                    .is_some_and(|since| this.shared.clock.now_ms() - since > force_after_ms);
                busy.insert(tip.clone());
                let me = this.clone();
                let key = tip.clone();
                let handle = running.spawn(async move { (key, me.deliver(&event, force).await) });
                task_tip.insert(handle.id(), tip);
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    let (tip, result) = match done {
                        Ok((id, (tip, result))) => {
                            task_tip.remove(&id);
                            (tip, result)
                        }
                        Err(e) => {
                            let tip = task_tip.remove(&e.id()).unwrap_or_default();
                            (tip, Err(anyhow::anyhow!("delivery task failed: {e}")))
                        }
                    };
                    busy.remove(&tip);
                    match result {
                        Ok(Outcome::Delivered | Outcome::Skipped | Outcome::Dead) => {
                            blocked_since.remove(&tip);
                            if let Some(q) = queues.get_mut(&tip) {
                                if let Some((_, e)) = q.pop_first() {
                                    known.remove(&e.stream_id);
                                }
                                if q.is_empty() {
                                    queues.remove(&tip);
                                } else {
                                    ready.push_back(tip);
                                }
                            }
                        }
                        Ok(Outcome::Blocked) => {
                            blocked_since.entry(tip.clone()).or_insert_with(|| this.shared.clock.now_ms());
                            waiting.push((tokio::time::Instant::now() + Duration::from_millis(250), tip));
                        }
                        Err(e) => {
                            tracing::warn!(tip = %tip, error = format!("{e:#}"), "forwarding failed; retrying");
                            waiting.push((tokio::time::Instant::now() + Duration::from_secs(1), tip));
                        }
                    }
                }
                Some(event) = rx.recv(), if known.len() < capacity => {
                    if !known.insert(event.stream_id.clone()) {
                        continue; // Reclaimed while we still hold it.
                    }
                    let tip = lane(&event);
                    let seq = event.get("seq").parse().unwrap_or(0);
                    queues.entry(tip.clone()).or_default().insert((seq, event.stream_id.clone()), event);
                    if !busy.contains(&tip) {
                        ready.push_back(tip);
                    }
                }
                _ = keep_alive.tick() => {
                    let ids: Vec<String> = known.iter().cloned().collect();
                    let me = this.clone();
                    tokio::spawn(async move {
                        for chunk in ids.chunks(500) {
                            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                            if let Err(e) = me.shared.store.events_touch_many(FORWARD_GROUP, &me.consumer, &refs).await {
                                tracing::debug!(error = %e, "keeping events claimed failed");
                            }
                        }
                    });
                }
                _ = tick.tick() => {
                    let now = tokio::time::Instant::now();
                    let (due, later): (Vec<_>, Vec<_>) = waiting.drain(..).partition(|(at, _)| *at <= now);
                    waiting = later;
                    ready.extend(due.into_iter().map(|(_, tip)| tip));
                }
            }
        }
        running.abort_all();
        reader.abort();
        tracing::info!("forwarder stopped");
    }

    /// Feeds the dispatcher: this consumer's pending events, then new ones, and every
    /// `reclaim_after / 2` the events dead workers left behind.
    async fn read_loop(self: Arc<Self>, tx: mpsc::Sender<EventEntry>, shutdown: CancellationToken) {
        let store = &self.shared.store;
        let reclaim_ms = self.shared.settings.triage.reclaim_after_secs * 1000;
        let reader = loop {
            match async {
                store.ensure_event_group(FORWARD_GROUP).await?;
                store.blocking(Duration::from_secs(2)).await
            }
            .await
            {
                Ok(r) => break r,
                Err(e) => {
                    tracing::warn!(error = %e, "forwarder cannot reach Redis; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        let send = |batch: Vec<EventEntry>| {
            let tx = tx.clone();
            async move {
                for e in batch {
                    if tx.send(e).await.is_err() {
                        return false;
                    }
                }
                true
            }
        };
        let mut after = "0-0".to_owned();
        let mut own_pending_done = false;
        let mut next_reclaim = tokio::time::Instant::now();
        while !shutdown.is_cancelled() {
            let batch = if !own_pending_done {
                let r = store
                    .events_pending_after(FORWARD_GROUP, &self.consumer, &after, 100)
                    .await;
                match &r {
                    Ok(b) if b.is_empty() => own_pending_done = true,
                    Ok(b) => after = b.last().map_or(after.clone(), |e| e.stream_id.clone()),
                    Err(_) => {}
                }
                r
            } else if tokio::time::Instant::now() >= next_reclaim {
                next_reclaim =
                    tokio::time::Instant::now() + Duration::from_millis((reclaim_ms / 2).max(500));
                store
                    .events_autoclaim(FORWARD_GROUP, &self.consumer, reclaim_ms)
                    .await
                    .inspect(|b| {
                        if !b.is_empty() {
                            tracing::info!(
                                events = b.len(),
                                "took over events a stopped worker left"
                            );
                        }
                    })
            } else {
                reader
                    .events_read(FORWARD_GROUP, &self.consumer, false, 100, Some(1000))
                    .await
            };
            match batch {
                Ok(b) => {
                    let sent = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        ok = send(b) => ok,
                    };
                    if !sent {
                        return;
                    }
                }
                Err(e) => {
                    if e.code() == Some("NOGROUP") {
                        let _ = store.ensure_event_group(FORWARD_GROUP).await;
                    }
                    tracing::warn!(error = %e, "reading events to forward failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }

    /// Delivers one event, retrying until it is delivered or given up on. `force` sends it
    /// even though an earlier event of its tip seems to be missing (it was lost for good).
    pub async fn deliver(&self, event: &EventEntry, force: bool) -> anyhow::Result<Outcome> {
        let store = &self.shared.store;
        let code = event.get("code");
        let seq: u64 = event.get("seq").parse().unwrap_or(0);
        let state = store.forward_state(code).await?;
        if seq > 0 && state.exists {
            if state.delivered_seq >= seq {
                store
                    .forward_delivered(code, seq, &event.stream_id, &self.consumer)
                    .await?;
                self.shared.metrics.forward_skipped.inc();
                return Ok(Outcome::Skipped);
            }
            if state.delivered_seq + 1 < seq {
                if !force || store.forward_busy(code).await? {
                    return Ok(Outcome::Blocked);
                }
                tracing::warn!(tip = %code, seq, "an earlier event never came; sending this one anyway");
            }
        }
        let lease_ms = self.shared.settings.triage.reclaim_after_secs * 2000;
        store.forward_hold(code, &self.consumer, lease_ms).await?;
        let outcome = self.attempt_until_done(event, code, seq).await;
        // A delivery ended the hold in its own write.
        if !matches!(outcome, Ok(Outcome::Delivered))
            && let Err(e) = store.forward_release(code).await
        {
            tracing::debug!(error = %e, "releasing the tip's forwarding lease failed");
        }
        outcome
    }

    /// Sends until the event is delivered or given up on.
    async fn attempt_until_done(
        &self,
        event: &EventEntry,
        code: &str,
        seq: u64,
    ) -> anyhow::Result<Outcome> {
        let store = &self.shared.store;
        let decoded = match event.decode() {
            Ok(decoded) => decoded,
            Err(e) => {
                // No body of it could follow the schema; the dead letter keeps it for a look
                // and, after an upgrade that knows it, a replay.
                self.dead(event, seq, &format!("the event cannot be read: {e}"), 0)
                    .await?;
                return Ok(Outcome::Dead);
            }
        };
        let tip = if payload::needs_tip(&decoded) {
            match store.tip(decoded.code()).await? {
                Some(t) => Some(t),
                None => {
                    self.dead(event, seq, "the tip is no longer stored", 0)
                        .await?;
                    return Ok(Outcome::Dead);
                }
            }
        } else {
            None
        };
        let triage = &self.shared.settings.triage;
        // The dispatcher's keep-alive holds every event it knows of; after a wait, the event
        // is claimed afresh before it is sent again.
        let mut retry = false;
        loop {
            if retry {
                store
                    .events_touch(FORWARD_GROUP, &self.consumer, &event.stream_id)
                    .await?;
            }
            retry = true;
            let now_ms = self.shared.clock.now_ms();
            let body = self.body(&decoded, tip.as_ref(), now_ms);
            let failure = match self
                .post(&body, &payload::idempotency_key(&decoded), now_ms / 1000)
                .await
            {
                Ok(()) => {
                    store
                        .forward_delivered(code, seq, &event.stream_id, &self.consumer)
                        .await?;
                    self.shared.metrics.forward_delivered.inc();
                    tracing::info!(tip = %code, seq, kind = decoded.kind(), "event forwarded");
                    return Ok(Outcome::Delivered);
                }
                Err(f) => f,
            };
            match failure {
                Failure::Permanent(why) => {
                    let attempts = store.forward_failed(&event.stream_id).await?;
                    self.dead(event, seq, &why, attempts).await?;
                    return Ok(Outcome::Dead);
                }
                Failure::Retry(why, retry_after) => {
                    let attempts = store.forward_failed(&event.stream_id).await?;
                    if attempts >= triage.max_attempts {
                        self.dead(
                            event,
                            seq,
                            &format!("{why} (after {attempts} attempts)"),
                            attempts,
                        )
                        .await?;
                        return Ok(Outcome::Dead);
                    }
                    self.shared.metrics.forward_retried.inc();
                    let wait =
                        backoff(triage.backoff_initial_ms, triage.backoff_max_secs, attempts).max(
                            retry_after
                                .unwrap_or_default()
                                .min(Duration::from_secs(3600)),
                        );
                    tracing::warn!(tip = %code, seq, attempts, error = %why, ?wait, "triage service did not take the event; retrying");
                    self.wait(wait, &event.stream_id, code).await?;
                }
            }
        }
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

    async fn dead(
        &self,
        event: &EventEntry,
        seq: u64,
        why: &str,
        attempts: u32,
    ) -> anyhow::Result<()> {
        tracing::error!(tip = event.get("code"), seq, error = %why, "event dead-lettered (tipline dlq list)");
        self.shared
            .store
            .forward_dead(event, seq, why, attempts)
            .await?;
        self.shared.metrics.forward_dead.inc();
        Ok(())
    }

    /// Waits `d` on the app clock, telling Redis now and then that the event is still ours.
    async fn wait(&self, d: Duration, stream_id: &str, code: &str) -> anyhow::Result<()> {
        let chunk = Duration::from_millis(
            (self.shared.settings.triage.reclaim_after_secs * 1000 / 3).max(100),
        );
        let until = self.shared.clock.now_ms() + d.as_millis() as i64;
        loop {
            let left = until - self.shared.clock.now_ms();
            if left <= 0 {
                return Ok(());
            }
            self.shared
                .clock
                .sleep(Duration::from_millis(left as u64).min(chunk))
                .await;
            self.shared
                .store
                .events_touch(FORWARD_GROUP, &self.consumer, stream_id)
                .await?;
            self.shared
                .store
                .forward_hold(
                    code,
                    &self.consumer,
                    self.shared.settings.triage.reclaim_after_secs * 2000,
                )
                .await?;
        }
    }
}

/// Which queue an event waits in: its tip, or its own when it belongs to none.
fn lane(event: &EventEntry) -> String {
    match event.get("code") {
        "" => format!("#{}", event.stream_id),
        code => code.to_owned(),
    }
}

/// Exponential backoff with jitter: `initial · 2^(attempt-1)`, capped, then between half and
/// all of it, so that many events failing together do not retry together.
pub fn backoff(initial_ms: u64, max_secs: u64, attempt: u32) -> Duration {
    let cap = max_secs * 1000;
    let full = initial_ms
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
        .min(cap);
    let jittered = full / 2 + rand::rng().random_range(0..=full / 2);
    Duration::from_millis(jittered.max(1))
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(v: &str, now_unix: i64) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    Some(Duration::from_secs(
        (at.timestamp() - now_unix).max(0) as u64
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
        for attempt in 1..=12u32 {
            let full = (1000u64 << (attempt - 1)).min(600_000);
            for _ in 0..50 {
                let d = backoff(1000, 600, attempt).as_millis() as u64;
                assert!(
                    (full / 2..=full).contains(&d),
                    "attempt {attempt}: {d} of {full}"
                );
            }
        }
        assert!(backoff(1000, 600, 200).as_millis() <= 600_000);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 23:00:30 GMT", 1_795_734_000),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
