//! The HTTP server (axum): the channels' webhooks, the triage service's callback API, evidence
//! downloads, `/metrics`, `/healthz` (the process runs) and `/readyz` (Redis answers and every role runs).
//!
//! - A channel's webhook ([`crate::channels::CitizenChannel::webhook`] checks its secret header
//!   and body) answers 200 only after the update is in the Redis inbox; a wrong secret gets 401
//!   (Telegram) or 403 (Zalo), a body that is not an update gets 400, Redis out of memory or
//!   down gets 503 so the platform delivers the update again later (and [`Outage`] counts it
//!   and tells the citizen, at most once in ten minutes, that the line is briefly
//!   unavailable). An event the channel understands and does not want (Zalo's follow) gets
//!   200 and is not stored.
//! - `/readyz` answers 503 naming the first failed role, or why Redis takes no write
//!   (`redis: out of memory`, `redis: unreachable`), and 200 again once it does.
//! - `POST /api/v1/tips/<code>/events` (bearer token): 401 without the right token, 400 for a
//!   body that is not JSON, 422 for JSON that is not a valid call, 404 for an unknown tip, 409
//!   when the tip is not in a state the call applies to.
//! - `GET /api/v1/evidence/<code>/<n>?exp=&sig=`: 403 for a wrong signature, 410 when expired
//!   or withheld; otherwise the file, cleaned of its metadata, as an audited download
//!   ([`evidence`]).
//! - Any other path: 404 with a JSON `error`. A body over 1 MiB: 413. Property tests
//!   (`tests/api/hostile.rs`) send every route generated garbage.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::channels::{Unstored, Webhook, WebhookError};
use crate::outage::Outage;
use crate::privacy::Channel;
use crate::shared::Shared;

mod evidence;

#[derive(Clone)]
struct HttpState {
    shared: Arc<Shared>,
    outage: Arc<Outage>,
    api_token: Option<String>,
}

/// An HTTP error with a JSON body: 4xx say what is wrong, 5xx say only that it failed.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: std::borrow::Cow<'static, str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

fn err(status: StatusCode, message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError {
        status,
        message: message.into(),
    }
}

/// The routes of one process; `outage` hears of the updates Redis refuses.
pub fn router(shared: Arc<Shared>, outage: Arc<Outage>, api_token: Option<String>) -> Router {
    let webhooks: Vec<(Channel, String)> = shared
        .channels
        .all()
        .filter_map(|c| c.webhook_path().map(|path| (c.id(), path.to_owned())))
        .collect();
    let state = HttpState {
        shared,
        outage,
        api_token,
    };
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/tips/{code}/events", post(callback))
        .route("/api/v1/evidence/{code}/{index}", get(evidence::evidence));
    for (channel, path) in webhooks {
        router = router.route(
            &path,
            post(
                move |st: State<HttpState>, headers: HeaderMap, body: Bytes| {
                    webhook(st, channel, headers, body)
                },
            ),
        );
    }
    router
        .fallback(|| async { err(StatusCode::NOT_FOUND, "no such route") })
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

async fn readyz(State(st): State<HttpState>) -> Result<&'static str, ApiError> {
    if let Err(failure) = st.shared.health.check() {
        tracing::warn!(role = failure.role, "readiness: a role has failed");
        return Err(err(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("role {} is not running", failure.role),
        ));
    }
    if let Err(trouble) = st.outage.probe().await {
        tracing::warn!(
            reason = trouble.label(),
            "readiness: Redis does not take writes"
        );
        return Err(err(StatusCode::SERVICE_UNAVAILABLE, trouble.reason()));
    }
    Ok("ready")
}

async fn webhook(
    State(st): State<HttpState>,
    channel: Channel,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Some(ch) = st.shared.channels.get(channel) else {
        return Err(err(StatusCode::NOT_FOUND, "no such channel"));
    };
    let key = match ch.webhook(&headers, &body) {
        Ok(Webhook::Store { key }) => key,
        Ok(Webhook::Ignore) => return Ok(StatusCode::OK),
        Err(WebhookError::WrongSecret { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
            return Err(err(status, "wrong secret token"));
        }
        Err(WebhookError::BadBody(message)) => return Err(err(StatusCode::BAD_REQUEST, message)),
    };
    let text = std::str::from_utf8(&body)
        .map_err(|_| err(StatusCode::BAD_REQUEST, "body is not UTF-8"))?;
    match st
        .shared
        .store
        .inbox_append(ch.inbox_kind(), &key, text)
        .await
    {
        Ok(_) => {
            st.outage.stored();
            Ok(StatusCode::OK)
        }
        Err(e) => {
            // Not stored, so not acknowledged: the platform delivers it again later.
            st.outage.refused(channel, &[text], &e);
            Err(err(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable",
            ))
        }
    }
}

async fn metrics(State(st): State<HttpState>) -> Response {
    // `tipline_redis_up` as of now, even when no update came in since Redis changed; an
    // unreachable Redis is not asked for the backlog, so the scrape stays quick.
    let text = match st.outage.probe().await {
        Err(crate::store::Trouble::Unreachable) => st.shared.metrics.encode(),
        _ => st.shared.metrics.render(&st.shared.store).await,
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn callback(
    State(st): State<HttpState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, body) = match callback_inner(&st, &code, &headers, &body).await {
        Ok(answer) => answer,
        Err(e) => (e.status, json!({ "error": e.message })),
    };
    st.shared
        .metrics
        .callbacks
        .get_or_create(&vec![("status".to_owned(), status.as_u16().to_string())])
        .inc();
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    resp
}

async fn callback_inner(
    st: &HttpState,
    code: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<crate::callback::Answer, ApiError> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .as_bytes();
    let expected = st.api_token.as_deref().unwrap_or_default().as_bytes();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        tracing::warn!("callback API call with a wrong or missing token refused");
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "wrong or missing bearer token",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| err(StatusCode::BAD_REQUEST, "body is not JSON"))?;
    let req: crate::callback::Request = serde_json::from_value(value).map_err(|e| {
        err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("not a valid call: {e}"),
        )
    })?;
    let once = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| {
            // The same tip however the URL spells its code.
            let canonical = crate::codes::ReceiptCode::parse(code)
                .map_or_else(|_| code.to_owned(), |c| c.as_str().to_owned());
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(format!(
                "{canonical}\n{k}"
            )))
        });
    let store = &st.shared.store;
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "callback API call failed");
        err(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
    };
    if let Some(key) = &once
        && let Some(saved) = store
            .callback_answer(key)
            .await
            .map_err(|e| unavailable(&e))?
    {
        return Ok(saved);
    }
    let answer = crate::callback::handle(&st.shared, code, req, once.as_deref())
        .await
        .map_err(|e| unavailable(&format!("{e:#}")))?;
    if let Some(key) = &once
        && answer.0.is_success()
    {
        store
            .callback_answer_set(key, &answer)
            .await
            .map_err(|e| unavailable(&e))?;
    }
    Ok(answer)
}
