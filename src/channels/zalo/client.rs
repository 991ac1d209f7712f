//! Calls to the Zalo Bot API: `POST <base>/bot<token>/<method>` with a JSON body, answered with
//! `{"ok": true, "result": …}` or `{"ok": false, "error_code": …, "description": …}`.
//!
//! Failures become [`SendError`]s: a 429 (quota), a 408, a 5xx or a network failure is
//! `Transient`; a 403 or a description saying the user blocked or unfollowed the bot is
//! `Blocked`, except the 403 Zalo documents as "Internal server error", which is `Transient`;
//! any other refusal is `Refused`. Sends retry a transient failure a few times with a backoff;
//! the other methods try once and leave the policy to the caller. The token is in every URL, so
//! no error or log line carries a URL (reqwest errors are stripped with `without_url`).

use std::time::Duration;

use serde_json::{Value, json};

use super::MAX_TEXT_CHARS;
use super::parse::id_string;
use crate::channels::SendError;
use crate::channels::fit::split;

/// The Zalo Bot Platform's API (`zalo.api_url` by default).
pub const DEFAULT_BASE: &str = crate::config::ZALO_BOT_API;
/// The older host, still the official Python SDK's default.
pub const LEGACY_BASE: &str = "https://bot-api.zapps.me";

/// Attempts per send before a transient failure is given back to the caller.
const ATTEMPTS: u32 = 4;
/// Time past the long-poll timeout before a `getUpdates` request is given up.
const POLL_GRACE: Duration = Duration::from_secs(10);
/// Characters of Zalo's error description kept in an error.
const DESCRIPTION_CHARS: usize = 200;

/// Words in a description that mean the user cannot be reached any more. Zalo publishes no such
/// texts; these cover the likely English and Vietnamese ones.
const GONE_WORDS: [&str; 6] = [
    "block",
    "unfollow",
    "not follow",
    "chặn",
    "bỏ quan tâm",
    "bỏ theo dõi",
];

/// A Zalo Bot API client. Cheap to clone; its `Debug` hides the token.
#[derive(Clone)]
pub struct ZaloClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl std::fmt::Debug for ZaloClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZaloClient")
            .field("base", &self.base)
            .field("token", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// The bot's own account (`getMe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotInfo {
    /// Bot id.
    pub id: String,
    /// Account name, e.g. `bot.VDKyGxQvc`.
    pub account_name: String,
    /// `BASIC` or a paid tier.
    pub account_type: Option<String>,
    /// Whether the bot can be added to groups.
    pub can_join_groups: bool,
}

/// The webhook as Zalo has it (`setWebhook`, `getWebhookInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookInfo {
    /// The URL; empty when no webhook is set.
    pub url: String,
    /// When it was last changed (ms since the epoch), if Zalo says.
    pub updated_at: Option<i64>,
    /// The probe result newer API versions return from `setWebhook` (`{ok, url, outcome, hint}`).
    pub verification: Option<Value>,
}

impl WebhookInfo {
    fn from_result(v: &Value) -> Self {
        Self {
            url: v["url"].as_str().unwrap_or_default().to_owned(),
            updated_at: v["updated_at"]
                .as_i64()
                .or_else(|| v["updated_at"].as_str().and_then(|s| s.parse().ok())),
            verification: v.get("verification").cloned(),
        }
    }
}

/// A failed call: the classified error and Zalo's error code, if it gave one.
struct Failure {
    code: Option<i64>,
    error: SendError,
}

impl ZaloClient {
    /// A client for `token` against `base` (e.g. [`DEFAULT_BASE`]), with `timeout` per request
    /// (long polls get their own).
    pub fn new(base: &str, token: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self::with_http(http, base, token))
    }

    /// A client over an existing `reqwest::Client`.
    pub fn with_http(http: reqwest::Client, base: &str, token: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// The bot's account; a quick check that the token works.
    pub async fn get_me(&self) -> Result<BotInfo, SendError> {
        let v = self
            .call("getMe", json!({}), None)
            .await
            .map_err(|f| f.error)?;
        let id = v
            .get("id")
            .and_then(id_string)
            .ok_or_else(|| SendError::Refused("getMe answered without an id".into()))?;
        Ok(BotInfo {
            id,
            account_name: v["account_name"].as_str().unwrap_or_default().to_owned(),
            account_type: v["account_type"].as_str().map(str::to_owned),
            can_join_groups: v["can_join_groups"].as_bool().unwrap_or(false),
        })
    }

    /// Waits up to `timeout_secs` for the next update and returns it unwrapped
    /// (`{event_name, message}`), or `None` when the poll ended empty. Zalo gives one update
    /// per call and has no offset: an update is gone once returned, so store it before acting.
    /// Fails while a webhook is set.
    pub async fn get_updates(&self, timeout_secs: u64) -> Result<Option<Value>, SendError> {
        // The official SDK sends the timeout as a string.
        let body = json!({ "timeout": timeout_secs.to_string() });
        let wait = Duration::from_secs(timeout_secs) + POLL_GRACE;
        match self.call("getUpdates", body, Some(wait)).await {
            Ok(v) => Ok(one_update(v)),
            // Zalo answers an empty long poll with 408.
            Err(Failure {
                code: Some(408), ..
            }) => Ok(None),
            Err(f) => Err(f.error),
        }
    }

    /// Sends `text` to `chat_id`, in parts of at most 2000 characters sent in order, each retried
    /// on a transient failure. On an error the parts before it were delivered.
    pub async fn send_message(&self, chat_id: &str, text: &str) -> Result<(), SendError> {
        let parts = split(text, MAX_TEXT_CHARS);
        if parts.is_empty() {
            return Err(SendError::Refused("empty message".into()));
        }
        for part in parts {
            self.send("sendMessage", json!({ "chat_id": chat_id, "text": part }))
                .await?;
        }
        Ok(())
    }

    /// Sends the picture at `url` (Zalo fetches it, so it must be publicly reachable) with an
    /// optional caption; a caption longer than a message goes on in messages after the photo.
    pub async fn send_photo(
        &self,
        chat_id: &str,
        url: &str,
        caption: Option<&str>,
    ) -> Result<(), SendError> {
        let mut parts = caption
            .map(|c| split(c, MAX_TEXT_CHARS))
            .unwrap_or_default()
            .into_iter();
        let mut body = json!({ "chat_id": chat_id, "photo": url });
        if let Some(first) = parts.next() {
            body["caption"] = json!(first);
        }
        self.send("sendPhoto", body).await?;
        for part in parts {
            self.send("sendMessage", json!({ "chat_id": chat_id, "text": part }))
                .await?;
        }
        Ok(())
    }

    /// Shows `action` (`typing`) in the chat for a few seconds. Tried once.
    pub async fn send_chat_action(&self, chat_id: &str, action: &str) -> Result<(), SendError> {
        self.call(
            "sendChatAction",
            json!({ "chat_id": chat_id, "action": action }),
            None,
        )
        .await
        .map(|_| ())
        .map_err(|f| f.error)
    }

    /// Points Zalo's deliveries at `url` (public HTTPS; Zalo probes it on save), to be sent
    /// with `secret` in the `X-Bot-Api-Secret-Token` header. `secret` must have 8–256
    /// characters. `getUpdates` stops working while a webhook is set.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<WebhookInfo, SendError> {
        if !(8..=256).contains(&secret.chars().count()) {
            return Err(SendError::Refused(
                "the webhook secret must have 8 to 256 characters".into(),
            ));
        }
        let body = json!({ "url": url, "secret_token": secret });
        let v = self
            .call("setWebhook", body, None)
            .await
            .map_err(|f| f.error)?;
        Ok(WebhookInfo::from_result(&v))
    }

    /// Removes the webhook, so that `getUpdates` works.
    pub async fn delete_webhook(&self) -> Result<(), SendError> {
        self.call("deleteWebhook", json!({}), None)
            .await
            .map(|_| ())
            .map_err(|f| f.error)
    }

    /// The webhook currently set; its `url` is empty when none is.
    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, SendError> {
        let v = self
            .call("getWebhookInfo", json!({}), None)
            .await
            .map_err(|f| f.error)?;
        Ok(WebhookInfo::from_result(&v))
    }

    /// One send with the retry policy: a transient failure is retried with a growing wait, a
    /// quota error (429) with a longer one.
    async fn send(&self, method: &str, body: Value) -> Result<Value, SendError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.call(method, body.clone(), None).await {
                Ok(v) => return Ok(v),
                Err(f) => f,
            };
            match failure.error {
                SendError::Transient(_) if attempt < ATTEMPTS => {
                    let base_ms = if failure.code == Some(429) { 500 } else { 200 };
                    let wait = Duration::from_millis(base_ms << attempt);
                    tracing::debug!(method, attempt, ?wait, "zalo call failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                other => return Err(other),
            }
        }
    }

    /// One call: the `result` of an `ok` answer (null when there is none), or the failure.
    async fn call(
        &self,
        method: &str,
        body: Value,
        timeout: Option<Duration>,
    ) -> Result<Value, Failure> {
        let url = format!("{}/bot{}/{}", self.base, self.token, method);
        let mut req = self.http.post(url).json(&body);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let transport = |e: reqwest::Error| Failure {
            code: None,
            error: if e.is_builder() {
                SendError::Refused(e.without_url().to_string())
            } else {
                SendError::Transient(e.without_url().to_string())
            },
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport)?;
        let answer: Option<Value> = serde_json::from_slice(&bytes).ok().filter(Value::is_object);
        let Some(answer) = answer else {
            return Err(unreadable(status));
        };
        if answer["ok"].as_bool() == Some(true) {
            return Ok(answer.get("result").cloned().unwrap_or(Value::Null));
        }
        let code = answer["error_code"]
            .as_i64()
            .or_else(|| answer["error_code"].as_str().and_then(|s| s.parse().ok()))
            .or_else(|| (!status.is_success()).then(|| i64::from(status.as_u16())));
        let description = self.clean(answer["description"].as_str().unwrap_or_default());
        Err(Failure {
            code,
            error: match code {
                Some(code) => classify(code, &description),
                None => SendError::Refused(format!("not ok, without an error code: {description}")),
            },
        })
    }

    /// Zalo's description fit for a log line: no token, no personal data, not too long.
    fn clean(&self, description: &str) -> String {
        let mut d = crate::rules::pii::redact(description);
        if !self.token.is_empty() {
            d = d.replace(&self.token, "[REDACTED]");
        }
        d.chars().take(DESCRIPTION_CHARS).collect()
    }
}

/// An answer that is not the API's JSON: a proxy's error page, or a cut-off body.
fn unreadable(status: reqwest::StatusCode) -> Failure {
    let code = i64::from(status.as_u16());
    let error = if status.is_success()
        || status.is_server_error()
        || matches!(status.as_u16(), 408 | 429)
    {
        SendError::Transient(format!("unreadable response (HTTP {code})"))
    } else {
        // A 403 page here comes from a proxy or firewall, not from Zalo about a user.
        SendError::Refused(format!("HTTP {code} without an API answer"))
    };
    Failure {
        code: Some(code),
        error,
    }
}

/// Classifies Zalo's `error_code` and `description` (already cleaned).
pub fn classify(code: i64, description: &str) -> SendError {
    let lower = description.to_lowercase();
    if GONE_WORDS.iter().any(|w| lower.contains(w)) {
        return SendError::Blocked;
    }
    match code {
        429 => SendError::Transient(format!("quota exceeded (429): {description}")),
        408 => SendError::Transient(format!("timeout (408): {description}")),
        // Zalo's error table gives 403 as "Internal server error".
        403 if lower.contains("internal") => SendError::Transient(format!("403: {description}")),
        403 => SendError::Blocked,
        500..=599 => SendError::Transient(format!("{code}: {description}")),
        _ => SendError::Refused(format!("{code}: {description}")),
    }
}

/// The update in a `getUpdates` result: an object with an event, or the first of an array
/// should Zalo ever send several.
fn one_update(result: Value) -> Option<Value> {
    match result {
        Value::Object(ref m) if m.contains_key("event_name") || m.contains_key("message") => {
            Some(result)
        }
        Value::Array(items) => {
            if items.len() > 1 {
                tracing::warn!(
                    count = items.len(),
                    "getUpdates returned several updates; only the first is taken"
                );
            }
            items.into_iter().next()
        }
        _ => None,
    }
}
