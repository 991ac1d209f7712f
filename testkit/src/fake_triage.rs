//! A fake police triage service: an HTTP server on loopback that records every request
//! (headers and raw body) and answers from a script (`fail_next`) or a default (`set_default`),
//! so tests can take it down, slow it, make it refuse, and bring it back.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use tokio::sync::Notify;

/// How the fake answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// This status, at once.
    Status(u16),
    /// This status with `Retry-After: <secs>`.
    RetryAfter(u16, u64),
    /// No answer for a long time (a hung service).
    Hang,
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub signature: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub json: Value,
    /// What the fake answered (0 for a hang).
    pub status: u16,
}

impl Received {
    pub fn seq(&self) -> u64 {
        self.json["seq"].as_u64().unwrap_or(0)
    }
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    script: VecDeque<Reply>,
    default: Option<Reply>,
}

#[derive(Clone)]
pub struct FakeTriage {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
}

impl FakeTriage {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            addr,
            inner: Arc::default(),
            changed: Arc::default(),
        };
        let app = Router::new()
            .route("/events", post(receive))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    /// The next requests get these answers, in order.
    pub fn fail_next(&self, replies: &[Reply]) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// Every request not scripted gets this answer (`None`: 200).
    pub fn set_default(&self, reply: Option<Reply>) {
        self.inner.lock().unwrap().default = reply;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Requests answered 2xx, in the order they came.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits until `pred` holds for what was received (30 s at most).
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let changed = self.changed.notified();
            if pred(&self.received()) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                let got: Vec<String> = self
                    .received()
                    .iter()
                    .map(|r| format!("{} {}", r.key, r.status))
                    .collect();
                panic!("fake triage: timed out waiting for {what}; received {got:?}");
            }
        }
    }

    /// Waits until `n` requests were answered 2xx.
    pub async fn wait_delivered(&self, n: usize) {
        self.wait_until(&format!("{n} deliveries"), |r| {
            r.iter().filter(|r| (200..300).contains(&r.status)).count() >= n
        })
        .await;
    }
}

async fn receive(State(fake): State<FakeTriage>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = {
        let mut inner = fake.inner.lock().unwrap();
        inner
            .script
            .pop_front()
            .or(inner.default)
            .unwrap_or(Reply::Status(200))
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let status = match reply {
        Reply::Status(s) | Reply::RetryAfter(s, _) => s,
        Reply::Hang => 0,
    };
    fake.inner.lock().unwrap().received.push(Received {
        key: header("idempotency-key"),
        signature: header("x-tipline-signature"),
        content_type: header("content-type"),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
        status,
    });
    fake.changed.notify_waiters();
    match reply {
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Reply::RetryAfter(s, secs) => (
            StatusCode::from_u16(s).unwrap(),
            [("retry-after", secs.to_string())],
            "busy",
        )
            .into_response(),
        Reply::Status(s) => (StatusCode::from_u16(s).unwrap(), "{}").into_response(),
    }
}
