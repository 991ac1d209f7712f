//! A fake Telegram Bot API over loopback HTTP, with the real JSON shapes: long-polling
//! `getUpdates` with real offset semantics (an update is confirmed by a later call with a higher
//! offset), the sending methods tipline uses, `getFile` and file download, and injectable
//! faults (429 with `retry_after`, 403 "bot was blocked", 502). Telegram's length limits are
//! enforced as Telegram enforces them: 4096 UTF-16 units of text, 1024 of caption, 200 of a
//! press's answer, refused with a 400 "message is too long".

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const BOT_ID: i64 = 999;
/// Longest message text Telegram takes, in UTF-16 code units.
pub const TEXT_MAX: usize = 4096;
/// Longest caption Telegram takes, in UTF-16 code units.
pub const CAPTION_MAX: usize = 1024;
/// Longest answer to a button press Telegram takes, in UTF-16 code units.
pub const CALLBACK_ANSWER_MAX: usize = 200;

/// A recorded call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Method name, lower case (`sendmessage`).
    pub method: String,
    /// The request body.
    pub body: Value,
    /// The message id the fake gave a sent message.
    pub message_id: Option<i64>,
    /// When the fake received it (the load harness measures with it).
    #[allow(dead_code)]
    pub at: std::time::Instant,
}

impl Call {
    pub fn chat_id(&self) -> Option<i64> {
        // Uploads come as multipart forms, where every field is text.
        self.body.get("chat_id").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    }
    /// The file name of an upload (`sendDocument`, `sendPhoto`).
    pub fn file_name(&self) -> Option<String> {
        self.body
            .get("_filename")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
    /// Whether the message was sent with `protect_content` (no forwarding or saving); uploads
    /// come as multipart forms, where the flag is the text "true".
    pub fn protected(&self) -> bool {
        match self.body.get("protect_content") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }
    pub fn text(&self) -> &str {
        self.body.get("text").and_then(Value::as_str).unwrap_or("")
    }
    /// Callback data of every inline button.
    pub fn buttons(&self) -> Vec<String> {
        self.body["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
            .collect()
    }
    /// Labels of the reply-keyboard buttons.
    pub fn keyboard(&self) -> Vec<String> {
        self.body["reply_markup"]["keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["text"].as_str().map(str::to_owned))
            .collect()
    }
}

/// A fault to answer the next call of a method with.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    TooManyRequests(u32),
    Blocked,
    BadGateway,
    /// "group chat was upgraded to a supergroup chat", with the new id.
    Migrated(i64),
    /// 400 "not enough rights to send text messages to the chat": the bot is in a group where
    /// it may not write.
    NoRights,
    /// 403 "bot was kicked from the group chat": the bot was removed from the group.
    Kicked,
    /// 400 "chat not found": a wrong group id, or a group the bot never was in.
    ChatNotFound,
    /// 400 "message is too long": the message itself is refused, not the chat.
    TooLong,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Value>,
    next_update_id: i64,
    confirmed: i64,
    calls: Vec<Call>,
    next_message_id: i64,
    faults: Vec<(String, Option<i64>, Option<Fault>)>,
    delivered: i64,
    get_updates_calls: usize,
    sent_per_chat: std::collections::HashMap<i64, usize>,
    /// Chats where every call that names them fails with their fault, until cleared.
    refusing: std::collections::HashMap<i64, Fault>,
    /// Messages deleted in a chat (by a user): replying to one or editing one fails as it
    /// does on Telegram.
    deleted: std::collections::HashSet<(i64, i64)>,
    /// Files by file id: those a test serves ([`FakeTelegram::serve_file`]) and every upload
    /// (`tgcopy-<message id>`), byte for byte.
    files: std::collections::HashMap<String, Vec<u8>>,
}

/// The fake server; clones share it.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Mutex<Inner>>,
    updates: Arc<Notify>,
    calls: Arc<Notify>,
    pub addr: SocketAddr,
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            inner: Arc::new(Mutex::new(Inner {
                next_update_id: 1000,
                next_message_id: 100,
                ..Inner::default()
            })),
            updates: Arc::new(Notify::new()),
            calls: Arc::new(Notify::new()),
            addr,
        };
        let app = Router::new()
            .route("/{token}/{method}", post(api))
            .route("/file/{token}/{*path}", get(file))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `bytes` as the file `file_id` (`getFile`, then the download); a file id not
    /// served so gets a few bytes of text.
    pub fn serve_file(&self, file_id: &str, bytes: &[u8]) {
        let mut inner = self.inner.lock().unwrap();
        inner.files.insert(file_id.to_owned(), bytes.to_vec());
    }

    /// The bytes of the file uploaded with the message `message_id` (`sendPhoto`,
    /// `sendDocument`), as received.
    pub fn uploaded(&self, message_id: i64) -> Option<Vec<u8>> {
        let inner = self.inner.lock().unwrap();
        inner.files.get(&format!("tgcopy-{message_id}")).cloned()
    }

    /// Queues an update (its `update_id` is set here) and returns the id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.inner.lock().unwrap();
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            update["update_id"] = json!(id);
            inner.queue.push_back(update);
            id
        };
        self.updates.notify_waiters();
        id
    }

    /// Queues the same update again, as Telegram does when it was not confirmed.
    pub fn redeliver(&self, update: Value) {
        self.inner.lock().unwrap().queue.push_back(update);
        self.updates.notify_waiters();
    }

    /// Updates queued and not yet confirmed by a later `getUpdates` offset.
    pub fn pending_updates(&self) -> usize {
        self.inner.lock().unwrap().queue.len()
    }

    /// The last update id confirmed by a later `getUpdates` offset.
    pub fn confirmed(&self) -> i64 {
        self.inner.lock().unwrap().confirmed
    }

    /// Answers the next call of `method` (after any queued before) with `fault`.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.inner
            .lock()
            .unwrap()
            .faults
            .push((method.to_ascii_lowercase(), None, Some(fault)));
    }

    /// Answers the next call of `method` to `chat` with `fault`.
    pub fn fail_next_to(&self, method: &str, chat: i64, fault: Fault) {
        self.inner.lock().unwrap().faults.push((
            method.to_ascii_lowercase(),
            Some(chat),
            Some(fault),
        ));
    }

    /// Answers every call that names `chat` with `fault` from now on (`None`: no longer), as
    /// Telegram does for a group where the bot may not write or has been removed.
    pub fn refuse_chat(&self, chat: i64, fault: Option<Fault>) {
        let mut inner = self.inner.lock().unwrap();
        match fault {
            Some(f) => inner.refusing.insert(chat, f),
            None => inner.refusing.remove(&chat),
        };
    }

    /// Deletes message `id` in `chat`, as a user deleting their message (or an admin a card)
    /// does: a reply to it then fails with Telegram's 400 "message to be replied not found"
    /// unless the request allows sending without the reply, and an edit of it with "message
    /// to edit not found".
    pub fn delete_message(&self, chat: i64, id: i64) {
        self.inner.lock().unwrap().deleted.insert((chat, id));
    }

    /// Lets the next call of `method` (after any queued before) through, so that a fault
    /// queued after it hits a later call.
    pub fn pass_next(&self, method: &str) {
        self.inner
            .lock()
            .unwrap()
            .faults
            .push((method.to_ascii_lowercase(), None, None));
    }

    /// The highest update id a `getUpdates` answer has carried.
    pub fn delivered(&self) -> i64 {
        self.inner.lock().unwrap().delivered
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The calls from the `start`-th on (the load harness reads only what is new).
    #[allow(dead_code)]
    pub fn calls_from(&self, start: usize) -> Vec<Call> {
        let inner = self.inner.lock().unwrap();
        inner.calls[start.min(inner.calls.len())..].to_vec()
    }

    /// Calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let m = method.to_ascii_lowercase();
        self.calls().into_iter().filter(|c| c.method == m).collect()
    }

    /// Messages sent to `chat`.
    pub fn messages_to(&self, chat: i64) -> Vec<Call> {
        self.calls_of("sendMessage")
            .into_iter()
            .filter(|c| c.chat_id() == Some(chat))
            .collect()
    }

    pub fn get_updates_calls(&self) -> usize {
        self.inner.lock().unwrap().get_updates_calls
    }

    /// Calls other than `getUpdates` so far.
    #[allow(dead_code)] // used by the load benchmark
    pub fn call_count(&self) -> usize {
        self.inner.lock().unwrap().calls.len()
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

    /// How many messages were sent to `chat` (cheap, for load tests).
    pub fn sent_count(&self, chat: i64) -> usize {
        self.inner
            .lock()
            .unwrap()
            .sent_per_chat
            .get(&chat)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `chat` has received at least `n` messages, for at most 20 s.
    #[allow(dead_code)] // used by the load benchmark
    pub async fn wait_sent(&self, chat: i64, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.calls.notified();
            if self.sent_count(chat) >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for message {n} to chat {chat}");
            }
        }
    }

    fn record(&self, method: &str, body: Value, message_id: Option<i64>) {
        let mut inner = self.inner.lock().unwrap();
        if method == "sendmessage"
            && let Some(chat) = body.get("chat_id").and_then(Value::as_i64)
        {
            *inner.sent_per_chat.entry(chat).or_default() += 1;
        }
        inner.calls.push(Call {
            method: method.to_owned(),
            body,
            message_id,
            at: std::time::Instant::now(),
        });
        drop(inner);
        self.calls.notify_waiters();
    }
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn fault(f: Fault) -> Response {
    match f {
        Fault::TooManyRequests(s) => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {s}"),
                "parameters": {"retry_after": s}})),
        )
            .into_response(),
        Fault::Blocked => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"ok": false, "error_code": 403,
                "description": "Forbidden: bot was blocked by the user"})),
        )
            .into_response(),
        Fault::NoRights => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400,
                "description": "Bad Request: not enough rights to send text messages to the chat"})),
        )
            .into_response(),
        Fault::Kicked => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"ok": false, "error_code": 403,
                "description": "Forbidden: bot was kicked from the group chat"})),
        )
            .into_response(),
        Fault::ChatNotFound => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400,
                "description": "Bad Request: chat not found"})),
        )
            .into_response(),
        Fault::TooLong => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400,
                "description": "Bad Request: message is too long"})),
        )
            .into_response(),
        Fault::BadGateway => {
            (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
        }
        Fault::Migrated(id) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": id}})),
        )
            .into_response(),
    }
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"})
}

fn chat(id: i64) -> Value {
    if id > 0 {
        json!({"id": id, "type": "private", "first_name": "Citizen"})
    } else {
        json!({"id": id, "type": "supergroup", "title": "Duty"})
    }
}

/// The text fields of a multipart/form-data body (teloxide sends `setWebhook` and uploads so);
/// a field that holds JSON (e.g. `allowed_updates`) is parsed.
fn multipart_fields(content_type: &str, body: &[u8]) -> Value {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return json!({});
    };
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.trim_end_matches("\r\n");
        if let Some(file) = head
            .split("filename=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        {
            fields.insert("_filename".to_owned(), json!(file));
        }
        let parsed = serde_json::from_str(value)
            .ok()
            .filter(|v: &Value| v.is_array() || v.is_object())
            .unwrap_or_else(|| json!(value));
        fields.insert(name.to_owned(), parsed);
    }
    // Uploads name their file part by reference: `"document": "attach://<part>"`.
    let attached: Vec<(String, Value)> = fields
        .iter()
        .filter_map(|(k, v)| {
            let part = v.as_str()?.strip_prefix("attach://")?;
            Some((k.clone(), fields.get(part)?.clone()))
        })
        .collect();
    for (k, v) in attached {
        fields.insert(k, v);
    }
    Value::Object(fields)
}

impl FakeTelegram {
    /// Telegram's answer to a reply to, or an edit of, a message that was deleted.
    fn gone(&self, method: &str, body: &Value) -> Option<&'static str> {
        let chat = body.get("chat_id").and_then(Value::as_i64)?;
        let inner = self.inner.lock().unwrap();
        let deleted = |id: Option<i64>| id.is_some_and(|id| inner.deleted.contains(&(chat, id)));
        if method.starts_with("edit") && deleted(body.get("message_id").and_then(Value::as_i64)) {
            return Some("Bad Request: message to edit not found");
        }
        let reply = body.get("reply_parameters");
        let replied = reply
            .and_then(|r| r.get("message_id"))
            .or_else(|| body.get("reply_to_message_id"))
            .and_then(Value::as_i64);
        let without = reply
            .and_then(|r| r.get("allow_sending_without_reply"))
            .or_else(|| body.get("allow_sending_without_reply"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        (method.starts_with("send") || method == "copymessage")
            .then_some(())
            .filter(|()| deleted(replied) && !without)
            .map(|()| "Bad Request: message to be replied not found")
    }
}

/// Telegram's length limits, counted as Telegram counts (UTF-16 code units, surrounding
/// whitespace stripped), answered with Telegram's own errors.
fn over_limit(method: &str, body: &Value) -> Option<&'static str> {
    let units = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .map(|t| t.trim().encode_utf16().count())
    };
    match method {
        "sendmessage" | "editmessagetext" => match units("text") {
            Some(0) | None => Some("Bad Request: message text is empty"),
            Some(n) if n > TEXT_MAX => Some("Bad Request: message is too long"),
            _ => None,
        },
        "sendphoto" | "senddocument" | "editmessagecaption" => (units("caption").unwrap_or(0)
            > CAPTION_MAX)
            .then_some("Bad Request: message caption is too long"),
        "answercallbackquery" => (units("text").unwrap_or(0) > CALLBACK_ANSWER_MAX)
            .then_some("Bad Request: MESSAGE_TOO_LONG"),
        _ => None,
    }
}

async fn api(
    State(fake): State<FakeTelegram>,
    Path((token, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if !token.starts_with("bot") {
        return (StatusCode::NOT_FOUND, "no such path").into_response();
    }
    let method = method.to_ascii_lowercase();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let raw = body.clone();
    let body: Value = if content_type.starts_with("multipart/form-data") {
        multipart_fields(content_type, &body)
    } else {
        serde_json::from_slice(&body).unwrap_or(json!({}))
    };
    let injected = {
        let mut inner = fake.inner.lock().unwrap();
        let chat = body.get("chat_id").and_then(Value::as_i64);
        let pos = inner
            .faults
            .iter()
            .position(|(m, c, _)| *m == method && c.is_none_or(|c| Some(c) == chat));
        match pos {
            Some(p) => Some(inner.faults.remove(p).2),
            None => chat.and_then(|c| inner.refusing.get(&c).cloned()).map(Some),
        }
    };
    if let Some(Some(f)) = injected {
        fake.record(&format!("{method}!failed"), body, None);
        return fault(f);
    }
    if let Some(description) = over_limit(&method, &body).or_else(|| fake.gone(&method, &body)) {
        fake.record(&format!("{method}!failed"), body, None);
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"ok": false, "error_code": 400, "description": description})),
        )
            .into_response();
    }
    match method.as_str() {
        "getme" => ok(json!({"id": BOT_ID, "is_bot": true, "first_name": "TipBot",
            "username": "tip_bot", "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false})),
        "getwebhookinfo" => ok(json!({"url": "", "has_custom_certificate": false,
            "pending_update_count": 0})),
        "leavechat" => {
            fake.record(&method, body, None);
            ok(json!(true))
        }
        "deletewebhook" | "setwebhook" => {
            fake.record(&method, body, None);
            ok(json!(true))
        }
        "getupdates" => get_updates(fake, body).await,
        "sendmessage" | "senddocument" | "sendphoto" => {
            let chat_id = body["chat_id"].as_i64().unwrap_or(0);
            let id = {
                let mut inner = fake.inner.lock().unwrap();
                inner.next_message_id += 1;
                inner.next_message_id
            };
            let mut msg = json!({"message_id": id, "from": bot_user(), "chat": chat(chat_id),
                "date": 1_700_000_000});
            if let Some(t) = body.get("text") {
                msg["text"] = t.clone();
            }
            // An upload comes back with the file id Telegram now keeps it under.
            match method.as_str() {
                "sendphoto" => {
                    msg["photo"] = json!([{"file_id": format!("tgcopy-{id}"),
                        "file_unique_id": format!("u{id}"), "width": 1280, "height": 960,
                        "file_size": 1000}]);
                }
                "senddocument" => {
                    msg["document"] = json!({"file_id": format!("tgcopy-{id}"),
                        "file_unique_id": format!("u{id}")});
                }
                _ => {}
            }
            if let Some(bytes) = multipart_file(content_type, &raw) {
                let mut inner = fake.inner.lock().unwrap();
                inner.files.insert(format!("tgcopy-{id}"), bytes);
            }
            fake.record(&method, body, Some(id));
            ok(msg)
        }
        "editmessagetext" | "editmessagereplymarkup" => {
            let chat_id = body["chat_id"].as_i64().unwrap_or(0);
            let id = body["message_id"].as_i64().unwrap_or(0);
            fake.record(&method, body.clone(), Some(id));
            ok(
                json!({"message_id": id, "from": bot_user(), "chat": chat(chat_id),
                "date": 1_700_000_000, "text": body.get("text").cloned().unwrap_or(json!("…"))}),
            )
        }
        "copymessage" => {
            let id = {
                let mut inner = fake.inner.lock().unwrap();
                inner.next_message_id += 1;
                inner.next_message_id
            };
            fake.record(&method, body, Some(id));
            ok(json!({"message_id": id}))
        }
        "answercallbackquery" | "deletemessage" => {
            fake.record(&method, body, None);
            ok(json!(true))
        }
        "getfile" => {
            let file_id = body["file_id"].as_str().unwrap_or("").to_owned();
            fake.record(&method, body, None);
            let served = fake.inner.lock().unwrap().files.get(&file_id).map(Vec::len);
            match served {
                Some(size) => ok(
                    json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                    "file_size": size, "file_path": format!("documents/{file_id}")}),
                ),
                None => ok(
                    json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                    "file_size": 5, "file_path": format!("photos/{file_id}.jpg")}),
                ),
            }
        }
        other => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"ok": false, "error_code": 404,
                "description": format!("Not Found: method {other} is not in the fake")})),
        )
            .into_response(),
    }
}

async fn get_updates(fake: FakeTelegram, body: Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = body["timeout"].as_u64().unwrap_or(0).min(50);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = fake.updates.notified();
        {
            let mut inner = fake.inner.lock().unwrap();
            inner.get_updates_calls += 1;
            if offset > 0 {
                // Everything below the offset is confirmed and forgotten, as on Telegram.
                inner
                    .queue
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                inner.confirmed = inner.confirmed.max(offset - 1);
            }
            let batch: Vec<Value> = inner.queue.iter().take(limit).cloned().collect();
            if let Some(max) = batch.iter().filter_map(|u| u["update_id"].as_i64()).max() {
                inner.delivered = inner.delivered.max(max);
            }
            if !batch.is_empty() || timeout == 0 {
                return ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ok(json!([]));
        }
    }
}

async fn file(
    State(fake): State<FakeTelegram>,
    Path((_token, path)): Path<(String, String)>,
) -> Response {
    let served = path
        .strip_prefix("documents/")
        .and_then(|id| fake.inner.lock().unwrap().files.get(id).cloned());
    match served {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => (StatusCode::OK, format!("file:{path}")).into_response(),
    }
}

/// The bytes of the (first) file part of a multipart/form-data body, binary-safe.
fn multipart_file(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut rest = body;
    while let Some(start) = find(rest, &delimiter) {
        rest = &rest[start + delimiter.len()..];
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]);
        let content = &rest[head_end + 4..];
        let end = find(content, &delimiter)?;
        if head.contains("filename=\"") {
            // The part ends with CRLF before the next delimiter.
            let part = &content[..end];
            return Some(part.strip_suffix(b"\r\n").unwrap_or(part).to_vec());
        }
    }
    None
}
