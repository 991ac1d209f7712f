//! The HTTP server (axum): the Telegram webhook, `/healthz` (the process runs) and `/readyz`
//! (Redis answers). The webhook answers 200 only after the update is in the Redis inbox;
//! a wrong secret gets 401, a body that is not an update gets 400, Redis down gets 503 so
//! Telegram delivers the update again later.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::app::Shared;
use crate::config::TelegramMode;
use crate::store::InboxKind;

#[derive(Clone)]
struct HttpState {
    shared: Arc<Shared>,
    webhook_secret: Option<String>,
}

/// An HTTP error with a JSON body: 4xx say what is wrong, 5xx say only that it failed.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

fn err(status: StatusCode, message: &'static str) -> ApiError {
    ApiError { status, message }
}

/// The routes of one process.
pub fn router(shared: Arc<Shared>, webhook_secret: Option<String>) -> Router {
    let webhook = (shared.settings.telegram.enabled
        && shared.settings.telegram.mode == TelegramMode::Webhook)
        .then(|| shared.settings.telegram.webhook_path.clone());
    let state = HttpState {
        shared,
        webhook_secret,
    };
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz));
    if let Some(path) = webhook {
        router = router.route(&path, post(telegram_webhook));
    }
    router
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

async fn readyz(State(st): State<HttpState>) -> Result<&'static str, ApiError> {
    st.shared.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: Redis does not answer");
        err(StatusCode::SERVICE_UNAVAILABLE, "redis unavailable")
    })?;
    Ok("ready")
}

async fn telegram_webhook(
    State(st): State<HttpState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = st.webhook_secret.as_deref().unwrap_or_default().as_bytes();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        tracing::warn!("telegram webhook call with a wrong secret refused");
        return Err(err(StatusCode::UNAUTHORIZED, "wrong secret token"));
    }
    let update: teloxide::types::Update = serde_json::from_slice(&body).map_err(|e| {
        // Only the position: serde's message can quote the citizen's text.
        tracing::warn!(
            line = e.line(),
            column = e.column(),
            bytes = body.len(),
            "telegram webhook body is not an update"
        );
        err(StatusCode::BAD_REQUEST, "body is not a Telegram update")
    })?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| err(StatusCode::BAD_REQUEST, "body is not UTF-8"))?;
    st.shared
        .store
        .inbox_append(InboxKind::Telegram, &update.id.0.to_string(), text)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "webhook update could not be stored");
            err(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
        })?;
    Ok(StatusCode::OK)
}
