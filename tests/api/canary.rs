//! The canary (issue 14, "sealed at the edge"): citizens with distinctive identities report
//! through Telegram polling, the Telegram webhook and Zalo; afterwards none of their ids, names,
//! usernames or phone numbers is found in Redis (key names, values, `DUMP`s), in its files (the
//! AOF with its whole history, the RDB snapshot, the rewritten AOF) or in the app's logs. The
//! files are written uncompressed (`rdbcompression no`), so a value cannot hide from the byte
//! scan in an LZF block; ids are also looked for as the 8-byte little-endian integers Redis's
//! listpacks store numbers as.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tipline::config::ReceiveMode;

use crate::support::fake_zalo::FakeZalo;
use crate::support::{TestApp, WEBHOOK_SECRET, receipt_code, spawn_app_with};

/// The Telegram citizen who reports by polling.
const POLLED: i64 = 987_654_321_987;
/// The Telegram citizen who reports through the webhook.
const HOOKED: i64 = 987_654_321_986;
const FIRST: &str = "Canaryfirst";
/// A Vietnamese name, looked for as UTF-8 and as JSON would escape it.
const LAST: &str = "Trịnhcanary";
const USERNAME: &str = "canary_user_5150";
const PHONE: &str = "+84987650432";
/// The Zalo citizen.
const ZALO_CHAT: &str = "9f8e7d6c5b4a39281706";
const ZALO_NAME: &str = "Zalocanaryname";
const ZALO_PHONE: &str = "0977 651 234";
/// The duty group.
const GROUP: i64 = -1_001_000_000_001;

/// Every form in which a canary could show: as given, as JSON writes it (a number, a string,
/// non-ASCII escaped), the phone in its national and international forms, ids as listpack
/// integers.
fn needles() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut text = |label: &str, s: &str| out.push((label.to_owned(), s.as_bytes().to_vec()));
    for id in [POLLED, HOOKED] {
        text("telegram id", &id.to_string());
    }
    text("first name", FIRST);
    text("last name", LAST);
    text("last name, JSON-escaped", "Tr\\u1ecbnhcanary");
    text("last name, JSON-escaped", "Tr\\u1ECBnhcanary");
    text("last name, without marks", "nhcanary");
    text("username", USERNAME);
    text("phone", PHONE);
    text("phone, national", "0987650432");
    text("phone, digits", "987650432");
    text("zalo id", ZALO_CHAT);
    text("zalo name", ZALO_NAME);
    text("zalo phone", "0977651234");
    text("zalo phone, typed", ZALO_PHONE);
    text("zalo phone, digits", "977651234");
    for id in [POLLED, HOOKED, 84_987_650_432] {
        out.push((
            format!("{id} as a listpack integer"),
            id.to_le_bytes().to_vec(),
        ));
    }
    out
}

/// The update with the canary's names (sender, chat, shared contact) and `phone` for a contact.
fn disguise(mut u: Value) -> Value {
    fn person(p: &mut Value) {
        p["first_name"] = json!(FIRST);
        p["last_name"] = json!(LAST);
        p["username"] = json!(USERNAME);
    }
    for part in ["message", "callback_query"] {
        let Some(m) = u.get_mut(part) else { continue };
        person(&mut m["from"]);
        if m.get("chat").is_some() {
            person(&mut m["chat"]);
        }
        if let Some(contact) = m.get_mut("contact") {
            contact["first_name"] = json!(FIRST);
            contact["last_name"] = json!(LAST);
            contact["phone_number"] = json!(PHONE);
        }
    }
    u
}

/// Delivers an update by polling, or through the webhook with an update id of its own.
async fn deliver(t: &TestApp, update: Value, webhook: Option<i64>) {
    match webhook {
        None => {
            t.fake.push_update(update);
        }
        Some(update_id) => {
            let mut u = update;
            u["update_id"] = json!(update_id);
            let status = t.post_webhook(Some(WEBHOOK_SECRET), u.to_string()).await;
            assert_eq!(status, 200);
        }
    }
    t.settle().await;
}

/// A whole Telegram report with a shared contact; the receipt code.
async fn telegram_report(t: &TestApp, id: i64, webhook: bool) -> String {
    let c = t.citizen(id);
    let mut n = 0;
    let mut next = || {
        n += 1;
        webhook.then_some(700_000 + n)
    };
    deliver(t, disguise(c.text_update("/report")), next()).await;
    deliver(t, disguise(c.press_update("cat:drugs")), next()).await;
    deliver(t, disguise(c.text_update("Chợ Thung Nai")), next()).await;
    deliver(t, disguise(c.press_update("com:thung-nai")), next()).await;
    let what = "Có người bán ma túy ở quán nước đầu chợ";
    deliver(t, disguise(c.text_update(what)), next()).await;
    deliver(t, disguise(c.press_update("go:next")), next()).await;
    deliver(t, disguise(c.press_update("go:next")), next()).await;
    let contact = c.text_update("");
    let mut contact = contact;
    contact["message"].as_object_mut().unwrap().remove("text");
    contact["message"]["contact"] = json!({"phone_number": PHONE, "user_id": id});
    deliver(t, disguise(contact), next()).await;
    deliver(t, disguise(c.press_update("rv:send")), next()).await;
    let sent = t.fake.messages_to(id);
    receipt_code(&sent).unwrap_or_else(|| panic!("no receipt for {id}"))
}

/// Waits until the fake Zalo has handed out every update and the inbox is worked off.
async fn settle_zalo(t: &TestApp, z: &FakeZalo) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut quiet = 0;
    while quiet < 3 {
        let len: u64 = redis::cmd("XLEN")
            .arg(format!("{}:inbox", t.ns()))
            .query(&mut t.redis())
            .unwrap();
        quiet = if z.pending_updates() == 0 && len == 0 {
            quiet + 1
        } else {
            0
        };
        assert!(tokio::time::Instant::now() < deadline, "zalo not settled");
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// A whole Zalo report by numbered menus with a typed phone number; what the bot said last.
async fn zalo_report(t: &TestApp, z: &FakeZalo) -> String {
    for text in [
        "Xin chào",
        "1",
        "ma tuy",
        "xa thung nai",
        "Có người đánh bạc ở nhà văn hóa thôn",
        "1",
        "1",
        ZALO_PHONE,
        "1",
    ] {
        let mut u = z.text_update(ZALO_CHAT, text);
        u["message"]["from"]["display_name"] = json!(ZALO_NAME);
        z.push_update(u);
        settle_zalo(t, z).await;
    }
    z.messages_to(ZALO_CHAT).join("\n")
}

/// Everything Redis holds: each key's name, its `DUMP` and its content read by type.
fn redis_contents(t: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut c = t.redis();
    let mut out = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(500)
            .query(&mut c)
            .unwrap();
        for key in keys {
            let dump: Vec<u8> = redis::cmd("DUMP").arg(&key).query(&mut c).unwrap();
            let kind: String = redis::cmd("TYPE").arg(&key).query(&mut c).unwrap();
            let read = |cmd: &str, args: &[&str], c: &mut redis::Connection| -> Vec<u8> {
                let mut q = redis::cmd(cmd);
                q.arg(&key);
                for a in args {
                    q.arg(*a);
                }
                let v: redis::Value = q.query(c).unwrap();
                format!("{v:?}").into_bytes()
            };
            let content = match kind.as_str() {
                "string" => redis::cmd("GET").arg(&key).query(&mut c).unwrap(),
                "hash" => read("HGETALL", &[], &mut c),
                "list" => read("LRANGE", &["0", "-1"], &mut c),
                "set" => read("SMEMBERS", &[], &mut c),
                "zset" => read("ZRANGE", &["0", "-1", "WITHSCORES"], &mut c),
                "stream" => read("XRANGE", &["-", "+"], &mut c),
                other => panic!("a key of type {other}: {key}"),
            };
            out.push((format!("key name {key}"), key.clone().into_bytes()));
            out.push((format!("DUMP {key}"), dump));
            out.push((format!("{kind} {key}"), content));
        }
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}

/// Every file in Redis's data folder, by path.
fn redis_files(t: &TestApp) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(t.redis.dir(), &mut out);
    out
}

/// Waits until Redis has no snapshot or AOF rewrite running.
async fn persisted(t: &TestApp) {
    for _ in 0..500 {
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query(&mut t.redis())
            .unwrap();
        if info.contains("rdb_bgsave_in_progress:0")
            && info.contains("aof_rewrite_in_progress:0")
            && info.contains("aof_rewrite_scheduled:0")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("Redis did not finish persisting");
}

/// Where any canary shows in `haystacks`, as "<needle> in <where>".
fn found(haystacks: &[(String, Vec<u8>)]) -> Vec<String> {
    let needles = needles();
    let mut hits = Vec::new();
    for (place, bytes) in haystacks {
        for (label, needle) in &needles {
            if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                hits.push(format!("{label} in {place}"));
            }
        }
    }
    hits
}

/// Scans Redis, then its files: the AOF as written (every command since the start), a snapshot
/// and a rewritten AOF. Asserts that the scans saw data, so that they cannot pass empty.
async fn assert_no_canary_in_redis(t: &TestApp) {
    let contents = redis_contents(t);
    assert!(
        contents.len() > 20,
        "Redis holds the tips: {}",
        contents.len()
    );
    assert_eq!(found(&contents), Vec::<String>::new());

    let mut c = t.redis();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdbcompression")
        .arg("no")
        .query(&mut c)
        .unwrap();
    let history = redis_files(t);
    let aof_bytes: usize = history
        .iter()
        .filter(|(p, _)| p.contains("appendonly"))
        .map(|(_, b)| b.len())
        .sum();
    assert!(aof_bytes > 10_000, "the AOF holds the history: {aof_bytes}");
    assert_eq!(found(&history), Vec::<String>::new(), "in the AOF history");

    let _: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    persisted(t).await;
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    persisted(t).await;
    let files = redis_files(t);
    assert!(
        files
            .iter()
            .any(|(p, b)| p.ends_with("dump.rdb") && b.len() > 1000),
        "a snapshot was written: {:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(
        found(&files),
        Vec::<String>::new(),
        "in the snapshot or AOF"
    );
}

/// A log writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go while a canary test runs on it.
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes into the buffer of the canary test running on this thread, if any.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(logs) = c.borrow().as_ref() {
                logs.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing on this thread when dropped.
struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

/// Captures every log line of this test's app (the test's runtime runs its tasks on this
/// thread): tipline's own at every level, its libraries' from `debug`. One global subscriber
/// is installed for the whole test binary, its filter asked at every event (a thread
/// capturing or not), so that no callsite's interest is cached from another test's thread
/// (scoped subscribers per test miss lines when tests run in parallel).
fn capture_logs() -> (Captured, CaptureGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::{Layer, filter};
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Tipline's own lines at every level, its libraries' from `debug`, and only on a
        // thread that captures: a dynamic filter, asked at every event (a `filter_fn` is
        // cached per callsite, from whichever thread met it first).
        let capturing = filter::dynamic_filter_fn(|meta, _| {
            CAPTURE.with(|c| c.borrow().is_some())
                && (meta.target().starts_with("tipline") || *meta.level() <= tracing::Level::DEBUG)
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(|| ThreadWriter)
            .with_ansi(false)
            .with_filter(capturing);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other global subscriber in the test binary");
    });
    let logs = Captured::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(logs.clone()));
    (logs, CaptureGuard)
}

fn assert_no_canary_in_logs(logs: &Captured) {
    let bytes = logs.0.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("intake started")
            && text.contains(" DEBUG hyper")
            && text.lines().count() > 20,
        "the logs were captured: {text}"
    );
    assert_eq!(
        found(&[("the logs".to_owned(), bytes)]),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_telegram_and_a_zalo_citizen_leave_no_identity_in_redis_its_files_or_the_logs() {
    let (logs, _guard) = capture_logs();
    let z = FakeZalo::start().await;
    let url = z.url();
    let t = spawn_app_with(ReceiveMode::Polling, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = ReceiveMode::Polling;
        s.zalo.poll_timeout_secs = 1;
        s.desk.enabled = true;
        s.desk.default_group = GROUP;
    })
    .await;

    let code = telegram_report(&t, POLLED, false).await;
    // A status lookup too (rate windows, the citizen's list of tips).
    let c = t.citizen(POLLED);
    deliver(
        &t,
        disguise(c.text_update(&format!("/status {code}"))),
        None,
    )
    .await;
    let status = t.fake.messages_to(POLLED).last().unwrap().text().to_owned();
    assert!(status.contains(&code), "{status}");
    assert!(
        t.tip(&code)["contact_sealed"].is_string(),
        "the shared phone is kept, sealed"
    );
    let said = zalo_report(&t, &z).await;
    assert_eq!(t.tip_codes().len(), 2, "the Zalo citizen's tip: {said}");
    t.process_until_idle().await;

    // The duty group got both cards, and nothing of who sent them.
    let to_group: Vec<(String, Vec<u8>)> = t
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.chat_id() == Some(GROUP))
        .map(|c| {
            (
                format!("{} to the duty group", c.method),
                c.body.to_string().into_bytes(),
            )
        })
        .collect();
    let cards = to_group
        .iter()
        .filter(|(m, _)| m.starts_with("sendmessage"))
        .count();
    assert!(cards >= 2, "{cards} cards");
    assert_eq!(found(&to_group), Vec::<String>::new());

    assert_no_canary_in_redis(&t).await;
    assert_no_canary_in_logs(&logs);
}

#[tokio::test]
async fn a_citizen_through_the_webhook_leaves_no_identity_in_redis_its_files_or_the_logs() {
    let (logs, _guard) = capture_logs();
    let t = spawn_app_with(ReceiveMode::Webhook, |_| {}).await;
    let code = telegram_report(&t, HOOKED, true).await;
    assert!(
        t.tip(&code)["contact_sealed"].is_string(),
        "the shared phone is kept, sealed"
    );
    // A redelivery of a stored update changes nothing (its mark is found by its keyed hash).
    let again = disguise(t.citizen(HOOKED).text_update("/report"));
    deliver(&t, again, Some(700_001)).await;
    assert_eq!(t.tip_codes().len(), 1);
    t.process_until_idle().await;

    assert_no_canary_in_redis(&t).await;
    assert_no_canary_in_logs(&logs);
}
