//! A fake Zalo Bot API over loopback HTTP, with the JSON shapes of the Zalo Bot Platform docs
//! (see `zalo.md`): `POST /bot<TOKEN>/<method>` with case-sensitive method names, answers
//! `{ok, result}` or `{ok: false, error_code, description}`; `getUpdates` long-polls a queue and
//! hands out ONE update per call, wrapped as `{ok, result: {event_name, message}}`, with no
//! offset (an update is gone once delivered) and a 408 when the poll ends empty; it fails while
//! a webhook is set, as on Zalo. Texts and captions over 2000 characters (UTF-16 units) are refused.
//! Faults can be injected per method (and chat): quota 429, 403 blocked, 403 "Internal server
//! error", 502, 401, 400, or an error inside an HTTP 200.
//!
//! Descriptions Zalo does not document (blocked user, webhook active) are invented here.

// Not every test module uses every helper.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The token the fake accepts; any other gets 401.
pub const TOKEN: &str = "1459232241454765289:test-zalo-token";
/// The bot's id, as `getMe` gives it.
pub const BOT_ID: &str = "1459232241454765289";
/// The header carrying the webhook secret.
pub const SECRET_HEADER: &str = "X-Bot-Api-Secret-Token";
/// Longest text or caption.
pub const MAX_CHARS: usize = 2000;
/// Dates of built updates start here (ms, June 2025) and go up by one second per update.
const DATE_BASE_MS: i64 = 1_750_316_131_602;

/// A recorded call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method name as called (`sendMessage`); a failed one ends in `!failed`.
    pub method: String,
    /// The request body.
    pub body: Value,
    /// The message id the fake gave a sent message.
    pub message_id: Option<String>,
}

impl Call {
    /// `chat_id`, as a string (a number is taken too).
    pub fn chat_id(&self) -> Option<String> {
        id_string(self.body.get("chat_id")?)
    }
    pub fn text(&self) -> &str {
        self.body.get("text").and_then(Value::as_str).unwrap_or("")
    }
    /// The photo URL of a `sendPhoto`.
    pub fn photo(&self) -> &str {
        self.body.get("photo").and_then(Value::as_str).unwrap_or("")
    }
    pub fn caption(&self) -> Option<&str> {
        self.body.get("caption").and_then(Value::as_str)
    }
}

/// A photo sent to a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub url: String,
    pub caption: Option<String>,
}

/// A fault to answer the next call of a method with.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// 429 "quota exceeded".
    QuotaExceeded,
    /// 403 saying the user blocked the bot (the wording is invented).
    Blocked,
    /// 403 "Internal server error", as Zalo's error table documents 403.
    Internal403,
    /// 502 with an HTML page, as a proxy gives.
    BadGateway,
    /// 401 "Unauthorized".
    Unauthorized,
    /// 400 "Bad request".
    BadRequest,
    /// `{ok: false, error_code}` inside an HTTP 200.
    InBody(i64),
}

/// Which field an image update carries its URL in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoField {
    /// `photo_url`, as the official SDK reads it.
    PhotoUrl,
    /// `photo`, as the docs name it.
    Photo,
}

#[derive(Default)]
struct Inner {
    /// Bare updates (`{event_name, message}`) waiting for `getUpdates`.
    queue: VecDeque<Value>,
    calls: Vec<Call>,
    next_message: u64,
    next_update: u64,
    faults: Vec<(String, Option<String>, Option<Fault>)>,
    /// (url, secret) while a webhook is set.
    webhook: Option<(String, String)>,
    webhook_updated_at: i64,
    get_updates_calls: usize,
    delivered: usize,
}

/// The fake server; clones share it.
#[derive(Clone)]
pub struct FakeZalo {
    inner: Arc<Mutex<Inner>>,
    updates: Arc<Notify>,
    calls: Arc<Notify>,
    pub addr: SocketAddr,
}

impl FakeZalo {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            updates: Arc::new(Notify::new()),
            calls: Arc::new(Notify::new()),
            addr,
        };
        let app = Router::new()
            .route("/files/{name}", axum::routing::get(file))
            .route("/{bot_token}/{method}", post(api))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// A URL of a file the fake serves (as Zalo's CDN serves images and voice notes).
    pub fn file_url(&self, name: &str) -> String {
        format!("http://{}/files/{name}", self.addr)
    }

    /// The base URL, to put where `https://bot-api.zaloplatforms.com` goes.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    // ---- updates ----

    /// Queues an update for `getUpdates` (wrapped or bare) and returns its message id.
    pub fn push_update(&self, update: Value) -> String {
        let update = bare(update);
        let id = update["message"]["message_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.inner.lock().unwrap().queue.push_back(update);
        self.updates.notify_waiters();
        id
    }

    /// Updates queued and not yet delivered.
    pub fn pending_updates(&self) -> usize {
        self.inner.lock().unwrap().queue.len()
    }

    /// Updates delivered by `getUpdates`.
    pub fn delivered(&self) -> usize {
        self.inner.lock().unwrap().delivered
    }

    pub fn get_updates_calls(&self) -> usize {
        self.inner.lock().unwrap().get_updates_calls
    }

    /// A text message from `chat` (bare; see [`wrapped`]).
    pub fn text_update(&self, chat: &str, text: &str) -> Value {
        self.update(chat, "message.text.received", json!({ "text": text }))
    }

    /// An image from `chat`, its URL in `field`.
    pub fn image_update(
        &self,
        chat: &str,
        url: &str,
        caption: Option<&str>,
        field: PhotoField,
    ) -> Value {
        let key = match field {
            PhotoField::PhotoUrl => "photo_url",
            PhotoField::Photo => "photo",
        };
        let mut fields = json!({ key: url });
        if let Some(c) = caption {
            fields["caption"] = json!(c);
        }
        self.update(chat, "message.image.received", fields)
    }

    /// A sticker from `chat`.
    pub fn sticker_update(&self, chat: &str) -> Value {
        self.update(
            chat,
            "message.sticker.received",
            json!({ "sticker": "b2b0a3c4d5e6", "url": "https://stickers.zaloapp.example/b2b0a3c4d5e6.png" }),
        )
    }

    /// A voice note from `chat`.
    pub fn voice_update(&self, chat: &str, url: &str) -> Value {
        self.update(chat, "message.voice.received", json!({ "voice_url": url }))
    }

    /// Unsupported content from `chat` (a location, a file, or a protected user's message).
    pub fn unsupported_update(&self, chat: &str) -> Value {
        self.update(chat, "message.unsupported.received", json!({}))
    }

    fn update(&self, chat: &str, event: &str, fields: Value) -> Value {
        let n = {
            let mut inner = self.inner.lock().unwrap();
            inner.next_update += 1;
            inner.next_update
        };
        let mut message = json!({
            "from": { "id": chat, "display_name": "Công dân", "is_bot": false },
            "chat": { "id": chat, "chat_type": "PRIVATE" },
            "message_id": format!("{:020x}", 0x2d75_8cb5_e222_0000_u64 + n),
            "date": DATE_BASE_MS + n as i64 * 1000,
        });
        for (k, v) in fields.as_object().into_iter().flatten() {
            message[k] = v.clone();
        }
        json!({ "event_name": event, "message": message })
    }

    // ---- webhook ----

    /// The webhook (url, secret) while one is set.
    pub fn webhook(&self) -> Option<(String, String)> {
        self.inner.lock().unwrap().webhook.clone()
    }

    // ---- faults ----

    /// Answers the next call of `method` (after any queued before) with `fault`.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.inner
            .lock()
            .unwrap()
            .faults
            .push((method.to_owned(), None, Some(fault)));
    }

    /// Answers the next call of `method` to `chat` with `fault`.
    pub fn fail_next_to(&self, method: &str, chat: &str, fault: Fault) {
        self.inner.lock().unwrap().faults.push((
            method.to_owned(),
            Some(chat.to_owned()),
            Some(fault),
        ));
    }

    /// Lets the next call of `method` through, so that a fault queued after it hits a later
    /// call.
    pub fn pass_next(&self, method: &str) {
        self.inner
            .lock()
            .unwrap()
            .faults
            .push((method.to_owned(), None, None));
    }

    // ---- what was sent ----

    /// Every call so far (not `getUpdates`).
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// Texts of the messages sent to `chat`, in order.
    pub fn messages_to(&self, chat: &str) -> Vec<String> {
        self.calls_of("sendMessage")
            .into_iter()
            .filter(|c| c.chat_id().as_deref() == Some(chat))
            .map(|c| c.text().to_owned())
            .collect()
    }

    /// Photos sent to `chat`, in order.
    pub fn photos_to(&self, chat: &str) -> Vec<Photo> {
        self.calls_of("sendPhoto")
            .into_iter()
            .filter(|c| c.chat_id().as_deref() == Some(chat))
            .map(|c| Photo {
                url: c.photo().to_owned(),
                caption: c.caption().map(str::to_owned),
            })
            .collect()
    }

    /// Waits until `pred` holds over the calls, for at most 20 s.
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Call]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.calls.notified();
            if pred(&self.calls()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {what}; calls: {:#?}", self.calls());
            }
        }
    }

    fn record(&self, method: &str, body: Value, message_id: Option<String>) {
        self.inner.lock().unwrap().calls.push(Call {
            method: method.to_owned(),
            body,
            message_id,
        });
        self.calls.notify_waiters();
    }

    fn next_message_id(&self) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next_message += 1;
        format!("{:020x}", 0x8259_9fa3_2f56_0000_u64 + inner.next_message)
    }
}

/// `update` in the envelope the docs show: `{ok: true, result: update}`.
pub fn wrapped(update: Value) -> Value {
    if update.get("result").is_some() {
        return update;
    }
    json!({ "ok": true, "result": update })
}

/// `update` without the envelope, as integrators report Zalo actually posts it.
pub fn bare(update: Value) -> Value {
    match update.get("result") {
        Some(inner) if update.get("event_name").is_none() => inner.clone(),
        _ => update,
    }
}

/// Posts `body` to tipline's Zalo webhook as Zalo does (JSON, the secret header, a Java
/// User-Agent) and returns the status.
pub async fn post_webhook(
    http: &reqwest::Client,
    url: &str,
    secret: Option<&str>,
    body: &Value,
) -> u16 {
    let mut req = http
        .post(url)
        .header("user-agent", "Java/1.8.0_362")
        .json(body);
    if let Some(s) = secret {
        req = req.header(SECRET_HEADER, s);
    }
    req.send().await.unwrap().status().as_u16()
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn error(status: StatusCode, code: i64, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "ok": false, "error_code": code, "description": description })),
    )
        .into_response()
}

fn fault(f: Fault) -> Response {
    match f {
        Fault::QuotaExceeded => error(StatusCode::TOO_MANY_REQUESTS, 429, "Quota exceeded"),
        Fault::Blocked => error(StatusCode::FORBIDDEN, 403, "User has blocked the bot"),
        Fault::Internal403 => error(StatusCode::FORBIDDEN, 403, "Internal server error"),
        Fault::BadGateway => {
            (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
        }
        Fault::Unauthorized => error(StatusCode::UNAUTHORIZED, 401, "Unauthorized"),
        Fault::BadRequest => error(StatusCode::BAD_REQUEST, 400, "Bad request"),
        Fault::InBody(code) => error(StatusCode::OK, code, "Error"),
    }
}

/// A text field of 1–2000 characters, or why not. Counted in UTF-16 code units, as Zalo's
/// Java servers count a string's length (an emoji outside the BMP counts two): the strictest
/// reading of Zalo's documented limit.
fn check_text(body: &Value, field: &str, required: bool) -> Result<(), String> {
    match body.get(field) {
        None | Some(Value::Null) if !required => Ok(()),
        Some(Value::String(s)) => {
            let n = s.encode_utf16().count();
            if (1..=MAX_CHARS).contains(&n) {
                Ok(())
            } else {
                Err(format!(
                    "{field} must have 1 to {MAX_CHARS} characters, not {n}"
                ))
            }
        }
        _ => Err(format!("{field} is required")),
    }
}

async fn api(
    State(fake): State<FakeZalo>,
    Path((bot_token, method)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(token) = bot_token.strip_prefix("bot") else {
        return error(StatusCode::NOT_FOUND, 404, "Not Found");
    };
    if token != TOKEN {
        return error(StatusCode::UNAUTHORIZED, 401, "Unauthorized");
    }
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return error(StatusCode::BAD_REQUEST, 400, "Bad request"),
        }
    };
    let injected = {
        let mut inner = fake.inner.lock().unwrap();
        let chat = body.get("chat_id").and_then(id_string);
        let pos = inner.faults.iter().position(|(m, c, _)| {
            *m == method && c.as_ref().is_none_or(|c| Some(c) == chat.as_ref())
        });
        pos.map(|p| inner.faults.remove(p).2)
    };
    if let Some(Some(f)) = injected {
        fake.record(&format!("{method}!failed"), body, None);
        return fault(f);
    }
    let needs_chat = matches!(
        method.as_str(),
        "sendMessage" | "sendPhoto" | "sendChatAction"
    );
    if needs_chat
        && body
            .get("chat_id")
            .and_then(id_string)
            .is_none_or(|c| c.is_empty())
    {
        return error(StatusCode::BAD_REQUEST, 400, "chat_id is required");
    }
    match method.as_str() {
        "getMe" => ok(json!({ "id": BOT_ID, "account_name": "bot.VDKyGxQvc",
            "account_type": "BASIC", "can_join_groups": false })),
        "getUpdates" => get_updates(fake, body).await,
        "setWebhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_owned();
            let secret = body["secret_token"].as_str().unwrap_or_default().to_owned();
            if !url.starts_with("https://") {
                return error(
                    StatusCode::BAD_REQUEST,
                    400,
                    "url must be a public HTTPS URL",
                );
            }
            if !(8..=256).contains(&secret.chars().count()) {
                return error(
                    StatusCode::BAD_REQUEST,
                    400,
                    "secret_token must have 8 to 256 characters",
                );
            }
            let updated_at = now_ms();
            {
                let mut inner = fake.inner.lock().unwrap();
                inner.webhook = Some((url.clone(), secret));
                inner.webhook_updated_at = updated_at;
            }
            fake.record(&method, body, None);
            ok(json!({ "url": url, "updated_at": updated_at }))
        }
        "deleteWebhook" => {
            let updated_at = now_ms();
            {
                let mut inner = fake.inner.lock().unwrap();
                inner.webhook = None;
                inner.webhook_updated_at = updated_at;
            }
            fake.record(&method, body, None);
            ok(json!({ "url": "", "updated_at": updated_at }))
        }
        "getWebhookInfo" => {
            let inner = fake.inner.lock().unwrap();
            let url = inner.webhook.as_ref().map_or("", |(u, _)| u.as_str());
            ok(json!({ "url": url, "updated_at": inner.webhook_updated_at }))
        }
        "sendMessage" | "sendPhoto" => {
            let checked = if method == "sendMessage" {
                check_text(&body, "text", true)
            } else if body["photo"]
                .as_str()
                .is_none_or(|p| !p.starts_with("http"))
            {
                Err("photo must be a URL".to_owned())
            } else {
                check_text(&body, "caption", false)
            };
            if let Err(why) = checked {
                fake.record(&format!("{method}!failed"), body, None);
                return error(StatusCode::BAD_REQUEST, 400, &why);
            }
            let id = fake.next_message_id();
            fake.record(&method, body, Some(id.clone()));
            ok(json!({ "message_id": id, "date": now_ms() }))
        }
        "sendChatAction" => {
            fake.record(&method, body, None);
            // The docs show this answer without a `result`.
            axum::Json(json!({ "ok": true })).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, 404, "Not Found"),
    }
}

async fn get_updates(fake: FakeZalo, body: Value) -> Response {
    if fake.webhook().is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            400,
            "Webhook is active; call deleteWebhook to use getUpdates",
        );
    }
    // The official SDK sends the timeout as a string; the default is 30 s.
    let timeout = body["timeout"]
        .as_u64()
        .or_else(|| body["timeout"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(30)
        .min(50);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = fake.updates.notified();
        {
            let mut inner = fake.inner.lock().unwrap();
            inner.get_updates_calls += 1;
            // No offset: an update is gone as soon as it is handed out.
            if let Some(update) = inner.queue.pop_front() {
                inner.delivered += 1;
                return axum::Json(wrapped(update)).into_response();
            }
        }
        if timeout == 0 || tokio::time::timeout_at(deadline, notified).await.is_err() {
            return error(StatusCode::REQUEST_TIMEOUT, 408, "Request timeout");
        }
    }
}

/// A JPEG with EXIF GPS, XMP and IPTC, as a phone would have taken it (`tests/fixtures`).
pub const PHOTO_WITH_GPS: &[u8] = include_bytes!("../../tests/fixtures/gps.jpg");

/// A `.jpg` is a real photo with its metadata ([`PHOTO_WITH_GPS`]); anything else a few bytes
/// of text naming it.
async fn file(axum::extract::Path(name): axum::extract::Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if name.ends_with(".jpg") {
        return ([("content-type", "image/jpeg")], PHOTO_WITH_GPS).into_response();
    }
    (
        [("content-type", "application/octet-stream")],
        format!("zalo-file:{name}"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    //! The fake against tipline's own Zalo client: both speak the documented shapes.

    use tipline::channels::SendError;
    use tipline::channels::zalo::client::ZaloClient;
    use tipline::channels::zalo::parse::{ZaloKind, parse_value};

    use super::*;

    async fn pair() -> (FakeZalo, ZaloClient) {
        let fake = FakeZalo::start().await;
        let client = ZaloClient::new(&fake.url(), TOKEN, Duration::from_secs(5)).unwrap();
        (fake, client)
    }

    #[tokio::test]
    async fn the_client_polls_one_update_at_a_time_and_only_without_a_webhook() {
        let (fake, client) = pair().await;
        assert_eq!(client.get_me().await.unwrap().id, BOT_ID);

        let info = client
            .set_webhook("https://tips.example.vn/zalo", "secret-123")
            .await
            .unwrap();
        assert_eq!(info.url, "https://tips.example.vn/zalo");
        assert!(matches!(
            client.get_updates(0).await,
            Err(SendError::Refused(_))
        ));
        client.delete_webhook().await.unwrap();
        assert_eq!(client.get_webhook_info().await.unwrap().url, "");

        let text = fake.text_update("c1", "Xin chào");
        fake.push_update(wrapped(text.clone()));
        let image = fake.image_update("c1", "https://cdn.example/x.jpg", None, PhotoField::Photo);
        fake.push_update(image);
        let first = client.get_updates(1).await.unwrap().unwrap();
        assert_eq!(first, text, "unwrapped from {{ok, result}}");
        let second = parse_value(&client.get_updates(1).await.unwrap().unwrap()).unwrap();
        assert!(matches!(second.kind, ZaloKind::Image { .. }));
        assert_eq!(
            client.get_updates(0).await.unwrap(),
            None,
            "408 is an empty poll"
        );
    }

    #[tokio::test]
    async fn the_client_splits_long_texts_and_sends_photos_and_actions() {
        let (fake, client) = pair().await;
        let long = format!("{}\n\n{}", "a ".repeat(900).trim(), "b ".repeat(900).trim());
        client.send_message("c1", &long).await.unwrap();
        assert_eq!(fake.messages_to("c1").len(), 2);
        client
            .send_photo("c1", "https://tips.example.vn/qr.png", Some("Mã QR"))
            .await
            .unwrap();
        assert_eq!(
            fake.photos_to("c1"),
            vec![Photo {
                url: "https://tips.example.vn/qr.png".into(),
                caption: Some("Mã QR".into())
            }]
        );
        client.send_chat_action("c1", "typing").await.unwrap();
        assert_eq!(fake.calls_of("sendChatAction").len(), 1);
    }

    #[tokio::test]
    async fn the_client_classifies_the_fakes_faults() {
        let (fake, client) = pair().await;
        fake.fail_next_to("sendMessage", "c1", Fault::Blocked);
        assert!(matches!(
            client.send_message("c1", "hi").await,
            Err(SendError::Blocked)
        ));
        fake.fail_next("sendMessage", Fault::BadGateway);
        fake.fail_next("sendMessage", Fault::Internal403);
        client.send_message("c2", "hi").await.unwrap();
        assert_eq!(
            fake.messages_to("c2"),
            vec!["hi"],
            "retried twice, sent once"
        );
        fake.fail_next("sendMessage", Fault::BadRequest);
        assert!(matches!(
            client.send_message("c3", "hi").await,
            Err(SendError::Refused(_))
        ));
        fake.fail_next("sendMessage", Fault::InBody(401));
        match client.send_message("c3", "hi").await {
            Err(SendError::Refused(why)) => assert!(!why.contains("test-zalo-token"), "{why}"),
            other => panic!("{other:?}"),
        }
        let stranger =
            ZaloClient::new(&fake.url(), "1:wrong-token", Duration::from_secs(5)).unwrap();
        let err = stranger.get_me().await.unwrap_err();
        assert!(!err.to_string().contains("wrong-token"), "{err}");
    }
}
