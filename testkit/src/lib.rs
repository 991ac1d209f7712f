//! The test kit: `spawn_app()` starts a real tipline (in the test's process) against a real
//! redis-server and the fake Telegram Bot API, with helpers that speak as a citizen would; the
//! fakes of the Telegram Bot API, the Zalo API and the triage service; the redis launcher. The
//! end-to-end tests (`tests/api/`) and the benchmarks (`benches/`) both use it.
//!
//! - [`redis`]: a private `redis-server` on a free loopback port with throw-away data.
//! - [`fake_telegram`]: the Bot API over loopback HTTP: long polling, real JSON shapes, faults.
//! - [`fake_zalo`]: the Zalo Bot Platform API, the same way.
//! - [`fake_triage`]: the police triage service: records deliveries, answers as told.

pub mod fake_telegram;
pub mod fake_triage;
pub mod fake_zalo;
pub mod redis;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use figment::providers::Env;
use serde_json::{Value, json};
use tipline::app::{App, Clock, Options};
use tipline::config::{ReceiveMode, Secrets, Settings};

pub use fake_telegram::{Call, FakeTelegram, Fault};
pub use fake_triage::{FakeTriage, Reply};
pub use redis::RedisServer;

pub const WEBHOOK_SECRET: &str = "test-webhook-secret_123";
pub const ZALO_SECRET: &str = "zalo-webhook-secret-123";
pub const TRIAGE_SECRET: &str = "triage-shared-secret-0123456789abcdef";
pub const TRIAGE_TOKEN: &str = "triage-callback-token-0123456789abcdef";
/// The audit chain's key (`TIPLINE_AUDIT_KEY`) the app runs with.
pub const AUDIT_KEY: &str = "test-audit-key-0123456789abcdef-0123";

/// A running tipline with its fakes.
pub struct TestApp {
    pub app: Option<App>,
    pub fake: FakeTelegram,
    pub redis: Arc<RedisServer>,
    pub settings: Settings,
    pub clock: Clock,
    pub http: reqwest::Client,
    /// Seed of the receipt codes, so a test can know the next code.
    pub code_seed: Option<u64>,
}

/// The shipped configuration, pointed at the fakes.
pub fn settings(redis: &RedisServer, fake: &FakeTelegram, mode: ReceiveMode) -> Settings {
    // The project's root: the shipped configuration and locale files.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.as_path();
    let mut s = Settings::load_with(
        &root.join("config/tipline.toml"),
        Env::prefixed("TIPLINE_TEST_NOTHING__"),
    )
    .unwrap();
    s.app.locales_dir = root.join("locales");
    s.redis.url = redis.url();
    s.telegram.api_url = fake.url();
    s.telegram.mode = mode;
    s.telegram.poll_timeout_secs = 5;
    s.http.listen = "127.0.0.1:0".into();
    // The duty officers the tests press and reply as; a test that enables the desk acts as
    // one of them (anyone else is refused, as in production).
    s.desk.officers = OFFICERS.to_vec();
    s
}

/// Telegram ids of the officers listed in `desk.officers` by default.
pub const OFFICERS: [u64; 4] = [501, 502, 555, 601];

pub fn secrets(settings: &Settings) -> Secrets {
    secrets_with(settings, &[])
}

/// The tests' secrets with some replaced (`""`: unset), e.g. a rotated route key.
pub fn secrets_with(settings: &Settings, overrides: &[(&str, &str)]) -> Secrets {
    Secrets::from_lookup(settings, |k| {
        if let Some((_, v)) = overrides.iter().find(|(name, _)| *name == k) {
            return (!v.is_empty()).then(|| (*v).to_owned());
        }
        match k {
            "TIPLINE_TELEGRAM_TOKEN" => Some("123456:TEST-TOKEN".into()),
            "TIPLINE_ALIAS_KEY" => Some("test-alias-key-test-alias-key-test".into()),
            "TIPLINE_ROUTE_KEY" => Some("11".repeat(32)),
            "TIPLINE_TELEGRAM_WEBHOOK_SECRET" => Some(WEBHOOK_SECRET.into()),
            "TIPLINE_TRIAGE_SECRET" => Some(TRIAGE_SECRET.into()),
            "TIPLINE_AUDIT_KEY" => Some(AUDIT_KEY.into()),
            "TIPLINE_LINK_KEY" => Some("test-link-key-0123456789abcdef-01234".into()),
            "TIPLINE_TRIAGE_API_TOKEN" => Some(TRIAGE_TOKEN.into()),
            "TIPLINE_ZALO_TOKEN" => Some(fake_zalo::TOKEN.into()),
            "TIPLINE_ZALO_WEBHOOK_SECRET" => Some(ZALO_SECRET.into()),
            _ => None,
        }
    })
    .unwrap()
}

/// Starts Redis, the fake and tipline in polling mode.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |_| {}).await
}

/// Starts Redis, the fake and tipline, with settings adjusted by `tweak`.
pub async fn spawn_app_with(mode: ReceiveMode, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(mode, tweak, None).await
}

/// Starts Redis, the fake and tipline with receipt codes drawn from `seed`.
pub async fn spawn_app_seeded(seed: u64) -> TestApp {
    spawn(ReceiveMode::Polling, |_| {}, Some(seed)).await
}

async fn spawn(
    mode: ReceiveMode,
    tweak: impl FnOnce(&mut Settings),
    code_seed: Option<u64>,
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        tipline::telemetry::init(false);
    }
    let redis = Arc::new(RedisServer::start());
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&redis, &fake, mode);
    tweak(&mut settings);
    let clock = Clock::default();
    let mut t = TestApp {
        app: None,
        fake,
        redis,
        settings,
        clock,
        http: reqwest::Client::new(),
        code_seed,
    };
    t.start().await;
    t
}

impl TestApp {
    /// Starts (or starts again) the tipline process against the same Redis and fake.
    pub async fn start(&mut self) {
        self.start_with(secrets(&self.settings)).await;
    }

    /// Starts (or starts again) the process with other secrets (a rotated key, …).
    pub async fn start_with(&mut self, secrets: Secrets) {
        let opts = Options {
            clock: self.clock.clone(),
            sweep_every: Duration::from_millis(50),
            code_seed: self.code_seed,
        };
        let app = App::start(self.settings.clone(), secrets, opts)
            .await
            .unwrap();
        self.app = Some(app);
    }

    /// Aborts every task at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(app) = self.app.take() {
            app.kill();
        }
    }

    /// Stops gracefully.
    #[allow(dead_code)] // not every test binary module uses it
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take()
            && let Err(failure) = app.stop().await
        {
            panic!("{failure}");
        }
    }

    /// Moves the clock to just after the start of a fresh `secs`-long window, so that
    /// fixed-window rate limits cannot roll over in the middle of a test.
    pub fn align_clock(&self, secs: i64) {
        let window = secs * 1000;
        let now = self.clock.now_ms();
        let to_next = window - now.rem_euclid(window) + 10;
        self.clock.advance(Duration::from_millis(to_next as u64));
    }

    pub fn app(&self) -> &App {
        self.app.as_ref().expect("app running")
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.app().http_addr)
    }

    pub fn citizen(&self, id: i64) -> Citizen<'_> {
        Citizen {
            t: self,
            id,
            lang: "vi",
            read: 0,
        }
    }

    /// A Redis connection for assertions.
    /// The text of `/metrics`, as Prometheus scrapes it.
    pub async fn scrape_metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base_url()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub fn redis(&self) -> ::redis::Connection {
        self.redis.conn()
    }

    pub fn ns(&self) -> &str {
        &self.settings.app.namespace
    }

    /// Tips stored, by code.
    pub fn tip_codes(&self) -> Vec<String> {
        ::redis::cmd("ZRANGE")
            .arg(format!("{}:tips", self.ns()))
            .arg(0)
            .arg(-1)
            .query(&mut self.redis())
            .unwrap()
    }

    /// A stored tip: its submitted content with its current status and sequence.
    pub fn tip(&self, code: &str) -> Value {
        let fields: std::collections::HashMap<String, String> = ::redis::cmd("HGETALL")
            .arg(format!("{}:tip:{code}", self.ns()))
            .query(&mut self.redis())
            .unwrap();
        let mut tip: Value = serde_json::from_str(&fields["json"]).unwrap();
        tip["status"] = json!(fields["status"]);
        tip["seq"] = json!(fields["seq"].parse::<u64>().unwrap());
        tip
    }

    pub fn events(&self) -> Vec<std::collections::HashMap<String, String>> {
        let reply: ::redis::streams::StreamRangeReply = ::redis::cmd("XRANGE")
            .arg(format!("{}:events", self.ns()))
            .arg("-")
            .arg("+")
            .query(&mut self.redis())
            .unwrap();
        reply
            .ids
            .into_iter()
            .map(|id| {
                id.map
                    .keys()
                    .map(|k| (k.clone(), id.get::<String>(k).unwrap_or_default()))
                    .collect()
            })
            .collect()
    }

    /// Keys whose name or content contains `needle`, over everything in Redis.
    pub fn redis_keys_holding(&self, needle: &str) -> Vec<String> {
        let mut c = self.redis();
        let keys: Vec<String> = ::redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        let mut found = Vec::new();
        for key in keys {
            let kind: String = ::redis::cmd("TYPE").arg(&key).query(&mut c).unwrap();
            let content: String = match kind.as_str() {
                "string" => ::redis::cmd("GET").arg(&key).query(&mut c).unwrap(),
                "list" => ::redis::cmd("LRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .query::<Vec<String>>(&mut c)
                    .unwrap()
                    .join(" "),
                "zset" => ::redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .query::<Vec<String>>(&mut c)
                    .unwrap()
                    .join(" "),
                "stream" => {
                    let reply: ::redis::streams::StreamRangeReply = ::redis::cmd("XRANGE")
                        .arg(&key)
                        .arg("-")
                        .arg("+")
                        .query(&mut c)
                        .unwrap();
                    reply
                        .ids
                        .iter()
                        .flat_map(|id| {
                            id.map
                                .keys()
                                .map(|k| format!("{k}={}", id.get::<String>(k).unwrap_or_default()))
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                }
                "hash" => ::redis::cmd("HGETALL")
                    .arg(&key)
                    .query::<Vec<String>>(&mut c)
                    .unwrap()
                    .join(" "),
                "set" => ::redis::cmd("SMEMBERS")
                    .arg(&key)
                    .query::<Vec<String>>(&mut c)
                    .unwrap()
                    .join(" "),
                other => format!("<{other}>"),
            };
            if key.contains(needle) || content.contains(needle) {
                found.push(key);
            }
        }
        found
    }

    /// Waits until the process has nothing left to do: every queued update taken from the
    /// fake and worked off the inbox, and every consumer group on the events stream (desk,
    /// notify, forward) with nothing unread and nothing pending, twice in a row. Tests wait
    /// for work this way, never for a fixed time.
    pub async fn process_until_idle(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut quiet = 0;
        while quiet < 2 {
            let busy = self.busy();
            if busy.is_empty() {
                quiet += 1;
            } else {
                quiet = 0;
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "not idle after 30 s: {}",
                    busy.join(", ")
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// What is still waiting to be worked on, one phrase per queue; empty when idle.
    fn busy(&self) -> Vec<String> {
        let mut busy = Vec::new();
        let pending = self.fake.pending_updates();
        if pending > 0 {
            busy.push(format!("{pending} updates at the fake"));
        }
        let mut c = self.redis();
        let inbox: u64 = ::redis::cmd("XLEN")
            .arg(format!("{}:inbox", self.ns()))
            .query(&mut c)
            .unwrap_or(1);
        if inbox > 0 {
            busy.push(format!("{inbox} entries in the inbox"));
        }
        let groups: ::redis::RedisResult<::redis::streams::StreamInfoGroupsReply> =
            ::redis::cmd("XINFO")
                .arg("GROUPS")
                .arg(format!("{}:events", self.ns()))
                .query(&mut c);
        // No events stream yet: nothing was ever submitted.
        let groups = groups.map(|r| r.groups).unwrap_or_default();
        // Where Redis cannot tell the lag (entries were deleted), a group has read everything
        // when it has been given the stream's last id.
        let last_id = || -> String {
            ::redis::cmd("XINFO")
                .arg("STREAM")
                .arg(format!("{}:events", self.ns()))
                .query::<::redis::streams::StreamInfoStreamReply>(&mut self.redis())
                .map(|r| r.last_generated_id)
                .unwrap_or_default()
        };
        for g in groups {
            let behind = match g.lag {
                Some(lag) => lag > 0,
                None => g.last_delivered_id != last_id(),
            };
            if g.pending > 0 || behind {
                busy.push(format!(
                    "events group {}: {} pending, lag {:?}",
                    g.name, g.pending, g.lag
                ));
            }
        }
        busy
    }

    /// Runs the timers that are due by the app's clock now (SLA timers, summary cards, draft
    /// reminders and expiries, the weekly report), as their loops would on their next tick, then waits until the work they
    /// queued is done. After `clock.advance(…)`, this replaces waiting for the next tick.
    pub async fn fire_timers(&self) {
        let shared = &self.app.as_ref().expect("the app is running").shared;
        if shared.settings.desk.enabled {
            tipline::desk::sla::fire_due(shared)
                .await
                .expect("SLA timers");
            tipline::desk::summary::fire_due(shared)
                .await
                .expect("summary cards");
        }
        tipline::intake::sweep(shared).await.expect("draft timers");
        let admin = &shared.settings.admin;
        if let (true, Some(after_week_mins)) = (admin.weekly_report, admin.report_offset_mins()) {
            tipline::admin::weekly_once(shared, after_week_mins)
                .await
                .expect("the weekly report");
        }
        if tipline::retention::tick(shared)
            .await
            .expect("the retention purge")
            .is_none()
        {
            // The background role took this period: wait until its run is over.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while !tipline::retention::settled(shared).await.expect("Redis") {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the purge never ended"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        self.process_until_idle().await;
    }

    /// Waits until every queued update was taken from the fake, is confirmed, and the inbox is
    /// empty (so every reply was sent).
    pub async fn settle(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let inbox = format!("{}:inbox", self.ns());
        loop {
            let pending = self.fake.pending_updates();
            let len: u64 = ::redis::cmd("XLEN")
                .arg(&inbox)
                .query(&mut self.redis())
                .unwrap_or(1);
            if pending == 0 && len == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not settled: {pending} updates at the fake, {len} in the inbox"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Posts an update to the webhook route with `secret`.
    pub async fn post_webhook(&self, secret: Option<&str>, body: String) -> reqwest::StatusCode {
        let mut req = self
            .http
            .post(format!(
                "{}{}",
                self.base_url(),
                self.settings.telegram.webhook_path
            ))
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        req.send().await.unwrap().status()
    }
}

/// A citizen in a private chat with the bot.
pub struct Citizen<'a> {
    t: &'a TestApp,
    pub id: i64,
    pub lang: &'static str,
    read: usize,
}

fn from(id: i64, lang: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Nguyễn", "last_name": "Văn A",
        "username": format!("user{id}"), "language_code": lang})
}

fn private_chat(id: i64) -> Value {
    json!({"id": id, "type": "private", "first_name": "Nguyễn"})
}

impl Citizen<'_> {
    fn message(&self, fields: Value) -> Value {
        // Dated now by the app's clock, as Telegram dates a message when it gets it.
        let mut msg = json!({"message_id": 1 + self.t.fake.calls().len() as i64,
            "from": from(self.id, self.lang), "chat": private_chat(self.id),
            "date": self.t.clock.now_ms() / 1000});
        for (k, v) in fields.as_object().unwrap() {
            msg[k] = v.clone();
        }
        json!({"message": msg})
    }

    /// The update for a text (commands get their entity, as Telegram sends them).
    pub fn text_update(&self, text: &str) -> Value {
        let mut fields = json!({"text": text});
        if text.starts_with('/') {
            let len = text.split(' ').next().unwrap().encode_utf16().count();
            fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        self.message(fields)
    }

    /// Sends text and returns the bot's new messages to this citizen.
    pub async fn says(&mut self, text: &str) -> Vec<Call> {
        let u = self.text_update(text);
        self.send(u).await
    }

    pub async fn sends_photo(
        &mut self,
        file_id: &str,
        size: u64,
        caption: Option<&str>,
    ) -> Vec<Call> {
        let mut fields = json!({"photo": [
            {"file_id": format!("{file_id}-small"), "file_unique_id": "s", "file_size": 900, "width": 90, "height": 67},
            {"file_id": file_id, "file_unique_id": format!("u-{file_id}"), "file_size": size, "width": 1280, "height": 960}
        ]});
        if let Some(c) = caption {
            fields["caption"] = json!(c);
        }
        let u = self.message(fields);
        self.send(u).await
    }

    pub async fn sends_location(&mut self, lat: f64, lon: f64) -> Vec<Call> {
        let u = self.message(json!({"location": {"latitude": lat, "longitude": lon}}));
        self.send(u).await
    }

    pub async fn shares_contact(&mut self, phone: &str, own: bool) -> Vec<Call> {
        let user_id = if own { self.id } else { self.id + 1 };
        let u = self.message(
            json!({"contact": {"phone_number": phone, "first_name": "Nguyễn",
            "user_id": user_id}}),
        );
        self.send(u).await
    }

    pub async fn sends_sticker(&mut self) -> Vec<Call> {
        let u = self.message(
            json!({"sticker": {"file_id": "CAAC", "file_unique_id": "st",
            "type": "regular", "width": 512, "height": 512, "is_animated": false,
            "is_video": false}}),
        );
        self.send(u).await
    }

    /// The update for pressing the inline button with `data` on the latest bot message that
    /// carries it.
    pub fn press_update(&self, data: &str) -> Value {
        let msg = self
            .t
            .fake
            .messages_to(self.id)
            .into_iter()
            .rev()
            .find(|c| c.buttons().iter().any(|b| b == data))
            .unwrap_or_else(|| panic!("no message with a button {data}"));
        json!({"callback_query": {"id": format!("cb{}", self.t.fake.calls().len()),
            "from": from(self.id, self.lang), "chat_instance": "-1",
            "data": data, "message": {"message_id": msg.message_id.unwrap(),
                "from": {"id": fake_telegram::BOT_ID, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
                "chat": private_chat(self.id), "date": 1_700_000_000, "text": msg.text()}}})
    }

    /// Presses a button and returns the bot's new messages.
    pub async fn presses(&mut self, data: &str) -> Vec<Call> {
        let u = self.press_update(data);
        self.send(u).await
    }

    /// Queues any update, waits until it is processed, returns the new messages.
    pub async fn send(&mut self, update: Value) -> Vec<Call> {
        self.t.fake.push_update(update);
        self.t.settle().await;
        self.new_messages()
    }

    /// Messages to this citizen since the last look.
    pub fn new_messages(&mut self) -> Vec<Call> {
        let all = self.t.fake.messages_to(self.id);
        let new = all[self.read.min(all.len())..].to_vec();
        self.read = all.len();
        new
    }
}

/// The texts of some messages, joined, for assertions with context.
pub fn texts(calls: &[Call]) -> String {
    calls
        .iter()
        .map(Call::text)
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The receipt code in a message, if any.
pub fn receipt_code(calls: &[Call]) -> Option<String> {
    let re = regex::Regex::new(r"TB-[0-9A-Z]{4}-[0-9A-Z]{4}").unwrap();
    calls
        .iter()
        .find_map(|c| re.find(c.text()).map(|m| m.as_str().to_owned()))
}

fn bench_user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Dân", "language_code": "vi"})
}

fn bench_message(id: i64, fields: Value) -> Value {
    let mut msg = json!({"message_id": 1, "from": bench_user(id), "chat": private_chat(id),
        "date": 1_700_000_000});
    for (k, v) in fields.as_object().unwrap() {
        msg[k] = v.clone();
    }
    json!({"message": msg})
}

fn bench_press(id: i64, data: &str) -> Value {
    json!({"callback_query": {"id": "cb", "from": bench_user(id), "chat_instance": "-1",
        "data": data, "message": {"message_id": 1, "date": 1_700_000_000,
            "chat": private_chat(id), "text": "…",
            "from": {"id": fake_telegram::BOT_ID, "is_bot": true, "first_name": "TipBot"}}}})
}

/// A whole report as updates that need no earlier reply (button presses name a fixed
/// message), with how many messages the bot answers each with: for bursts and load.
pub fn report_updates(id: i64) -> Vec<(Value, usize)> {
    vec![
        (
            bench_message(
                id,
                json!({"text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}),
            ),
            2,
        ),
        (bench_press(id, "cat:drugs"), 2),
        (
            bench_message(
                id,
                json!({"location": {"latitude": 20.7, "longitude": 105.3}}),
            ),
            2,
        ),
        (bench_press(id, "pl:unknown"), 1),
        (
            bench_message(
                id,
                json!({"text": format!("Có người bán ma túy ở quán nước, người báo {id}")}),
            ),
            1,
        ),
        (bench_press(id, "go:next"), 1),
        (
            bench_message(
                id,
                json!({"photo": [{"file_id": "AgAD", "file_unique_id": "u",
            "file_size": 50000, "width": 800, "height": 600}]}),
            ),
            1,
        ),
        (bench_press(id, "go:next"), 1),
        (bench_message(id, json!({"text": "🕶 Ẩn danh"})), 2),
        (bench_press(id, "rv:send"), 1),
    ]
}
