//! Redis out of memory or down (issue 13): nothing is acknowledged that is not stored (the
//! webhooks answer 503, polling keeps its offset), `/readyz` fails with the reason and recovers
//! by itself, a metric says why, each citizen is told at most once in ten minutes that the line
//! is briefly unavailable, and once Redis is back everything held is processed in order.

use std::time::Duration;

use serde_json::Value;
use tipline::config::ReceiveMode;
use tipline::i18n::{Lang, Texts};

use crate::support::fake_zalo::{FakeZalo, post_webhook};
use crate::support::{
    Citizen, TestApp, WEBHOOK_SECRET, ZALO_SECRET, receipt_code, spawn_app, spawn_app_with, texts,
};

const DUTY_GROUP: i64 = -1_001_000_000_001;

/// Redis at `maxmemory` with the `noeviction` policy: every write is refused with `OOM`.
fn fill_memory(t: &TestApp) {
    let mut c = t.redis();
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query(&mut c)
        .unwrap();
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(1)
        .query(&mut c)
        .unwrap();
}

/// Lifts the limit: Redis takes writes again.
fn raise_memory(t: &TestApp) {
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(0)
        .query(&mut t.redis())
        .unwrap();
}

/// The notice, as the locale files word it.
fn notice(lang: Lang) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    Texts::load(&dir).unwrap().get(lang, "line-unavailable")
}

async fn readyz(t: &TestApp) -> (u16, String) {
    let resp = reqwest::get(format!("{}/readyz", t.base_url()))
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Waits until `/readyz` answers `status`; the last body.
async fn readyz_until(t: &TestApp, status: u16) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (got, body) = readyz(t).await;
        if got == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still answers {got}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the sample `name` (with its labels) on `/metrics`.
async fn metric(t: &TestApp, name: &str) -> Option<f64> {
    let text = t.scrape_metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// A Telegram update as JSON with `id`, for the webhook.
fn body(mut update: Value, id: i64) -> String {
    update["update_id"] = serde_json::json!(id);
    update.to_string()
}

/// The bot's messages to `chat`, as texts.
fn texts_to(t: &TestApp, chat: i64) -> Vec<String> {
    t.fake
        .messages_to(chat)
        .iter()
        .map(|m| m.text().to_owned())
        .collect()
}

/// Finishes a report whose description was written, and returns the stored description.
async fn finish_report(t: &TestApp, c: &mut Citizen<'_>) -> String {
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let r = c.presses("rv:send").await;
    let code = receipt_code(&r).unwrap_or_else(|| panic!("a receipt: {}", texts(&r)));
    t.tip(&code)["description"].as_str().unwrap().to_owned()
}

/// Finishes a report through the webhook, each step once stored, and returns the stored
/// description.
async fn finish_report_by_webhook(t: &TestApp, c: &Citizen<'_>, mut id: i64) -> String {
    for step in ["go:next", "go:next", "", "rv:send"] {
        id += 1;
        let update = if step.is_empty() {
            c.text_update("🕶 Ẩn danh")
        } else {
            c.press_update(step)
        };
        assert_eq!(
            t.post_webhook(Some(WEBHOOK_SECRET), body(update, id)).await,
            200
        );
        t.settle().await;
    }
    let code = receipt_code(&t.fake.messages_to(c.id)).expect("a receipt");
    t.tip(&code)["description"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn at_maxmemory_the_webhook_answers_503_each_citizen_is_told_once_and_nothing_is_lost() {
    let t = spawn_app_with(ReceiveMode::Webhook, |_| {}).await;
    let a = t.citizen(8_101);
    let mut b = t.citizen(8_102);
    b.lang = "en";
    // Citizen A is writing the description of a report.
    let mut id = 100;
    for step in ["/report", "cat:drugs", "Bến xe phía nam", "pl:unknown"] {
        id += 1;
        let update = if step.contains(':') && !step.starts_with('/') {
            a.press_update(step)
        } else {
            a.text_update(step)
        };
        assert_eq!(
            t.post_webhook(Some(WEBHOOK_SECRET), body(update, id)).await,
            200
        );
        t.settle().await;
    }
    let before = texts_to(&t, a.id).len();

    fill_memory(&t);
    let lines = [
        "Người bán mặc áo đỏ",
        "Đi xe máy, thường đến lúc 9 giờ tối",
        "Giao hàng sau quán nước",
    ];
    let mut held = Vec::new();
    for line in lines {
        id += 1;
        held.push(body(a.text_update(line), id));
    }
    id += 1;
    held.push(body(b.text_update("/start"), id));
    id += 1;
    let group = serde_json::json!({"message": {"message_id": 9, "date": 1_700_000_000,
        "from": {"id": 777, "is_bot": false, "first_name": "Cán bộ"},
        "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"},
        "text": "/pending", "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}});
    let group = body(group, id);
    for update in held.iter().chain([&group]) {
        assert_eq!(
            t.post_webhook(Some(WEBHOOK_SECRET), update.clone()).await,
            503,
            "nothing is acknowledged that is not stored"
        );
    }
    // Telegram delivers again while Redis is still full: 503 again, no second notice.
    assert_eq!(
        t.post_webhook(Some(WEBHOOK_SECRET), held[0].clone()).await,
        503
    );
    let c = t.citizen(8_103);
    assert_eq!(
        t.post_webhook(Some(WEBHOOK_SECRET), body(c.text_update("/help"), 999))
            .await,
        503
    );
    t.fake
        .wait_until("the notices", |_| {
            t.fake.sent_count(a.id) > before
                && t.fake.sent_count(b.id) > 0
                && t.fake.sent_count(c.id) > 0
        })
        .await;
    assert_eq!(texts_to(&t, a.id)[before..], [notice(Lang::Vi)]);
    assert_eq!(
        texts_to(&t, b.id),
        [notice(Lang::En)],
        "in the app's language"
    );
    assert!(
        t.fake.messages_to(DUTY_GROUP).is_empty(),
        "a duty group is not a citizen"
    );

    let body_ = readyz_until(&t, 503).await;
    assert!(body_.contains("redis: out of memory"), "{body_}");
    assert_eq!(metric(&t, "tipline_redis_up").await, Some(0.0));
    let errors = metric(&t, "tipline_redis_errors_total{reason=\"out_of_memory\"}")
        .await
        .unwrap_or_default();
    assert!(errors >= 7.0, "every refused write counted: {errors}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&t, "tipline_unavailable_notices_total").await != Some(3.0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "three notices counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Ten minutes on, a citizen still held is told again, once.
    t.clock.advance(Duration::from_secs(10 * 60 + 1));
    assert_eq!(
        t.post_webhook(Some(WEBHOOK_SECRET), held[1].clone()).await,
        503
    );
    t.fake.wait_sent(a.id, before + 2).await;
    assert_eq!(texts_to(&t, a.id).len(), before + 2);

    // Memory raised: ready again by itself, and Telegram's redeliveries are processed in order.
    raise_memory(&t);
    assert_eq!(readyz_until(&t, 200).await, "ready");
    assert_eq!(metric(&t, "tipline_redis_up").await, Some(1.0));
    for update in &held {
        assert_eq!(
            t.post_webhook(Some(WEBHOOK_SECRET), update.clone()).await,
            200
        );
    }
    t.settle().await;
    let welcome = texts_to(&t, b.id);
    assert_eq!(
        welcome.len(),
        3,
        "the notice, then the welcome: {welcome:?}"
    );
    let description = finish_report_by_webhook(&t, &a, 1_000).await;
    assert_eq!(description, lines.join("\n"), "every line, in order");
}

#[tokio::test]
async fn with_redis_stopped_polling_keeps_its_offset_tells_each_citizen_once_and_loses_nothing() {
    let t = spawn_app().await;
    let mut a = t.citizen(8_201);
    let mut b = t.citizen(8_202);
    a.says("/report").await;
    a.presses("cat:theft").await;
    a.says("Chợ trung tâm").await;
    a.presses("pl:unknown").await;
    a.new_messages();

    t.redis.kill();
    let first = t.fake.push_update(a.text_update("Móc túi ở cổng chợ"));
    t.fake.push_update(b.text_update("/start"));
    t.fake
        .wait_until("the notices", |_| {
            t.fake.sent_count(a.id) > 0 && t.fake.sent_count(b.id) > 0
        })
        .await;
    // The poller asks again from the offset it kept, and gets what came since.
    let asked = t.fake.get_updates_calls();
    let later = t.fake.push_update(a.text_update("Hai người, một xe máy"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while t.fake.delivered() < later || t.fake.get_updates_calls() < asked + 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poller stopped asking"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        t.fake.confirmed() < first,
        "nothing confirmed that is not stored"
    );
    let body_ = readyz_until(&t, 503).await;
    assert!(body_.contains("redis: unreachable"), "{body_}");
    assert_eq!(metric(&t, "tipline_redis_up").await, Some(0.0));
    assert!(
        metric(&t, "tipline_redis_errors_total{reason=\"unreachable\"}")
            .await
            .is_some_and(|n| n >= 2.0)
    );
    let told = a.new_messages();
    assert_eq!(told.len(), 1, "one notice: {}", texts(&told));
    assert_eq!(told[0].text(), notice(Lang::Vi));
    assert_eq!(b.new_messages().len(), 1);

    t.redis.restart();
    t.settle().await;
    assert_eq!(readyz_until(&t, 200).await, "ready");
    let r = a.new_messages();
    assert_eq!(r.len(), 2, "each line answered: {}", texts(&r));
    assert!(
        b.new_messages()[0].text().contains("113"),
        "B's /start answered"
    );
    let description = finish_report(&t, &mut a).await;
    assert_eq!(description, "Móc túi ở cổng chợ\nHai người, một xe máy");
}

#[tokio::test]
async fn at_maxmemory_the_zalo_webhook_answers_503_and_the_citizen_is_told_once() {
    let z = FakeZalo::start().await;
    let url = z.url();
    let t = spawn_app_with(ReceiveMode::Polling, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = ReceiveMode::Webhook;
    })
    .await;
    let hook = format!("{}{}", t.base_url(), t.settings.zalo.webhook_path);
    let http = reqwest::Client::new();
    let chat = "zl-oom-1";

    fill_memory(&t);
    let held = [z.text_update(chat, "Xin chào"), z.text_update(chat, "1")];
    for event in &held {
        assert_eq!(
            post_webhook(&http, &hook, Some(ZALO_SECRET), event).await,
            503
        );
    }
    let other = z.text_update("zl-oom-2", "Xin chào");
    assert_eq!(
        post_webhook(&http, &hook, Some(ZALO_SECRET), &other).await,
        503
    );
    z.wait_until("the notices", |_| {
        !z.messages_to(chat).is_empty() && !z.messages_to("zl-oom-2").is_empty()
    })
    .await;
    assert_eq!(
        z.messages_to(chat),
        [notice(Lang::Vi)],
        "once, in Vietnamese"
    );
    let body_ = readyz_until(&t, 503).await;
    assert!(body_.contains("redis: out of memory"), "{body_}");

    raise_memory(&t);
    for event in &held {
        assert_eq!(
            post_webhook(&http, &hook, Some(ZALO_SECRET), event).await,
            200
        );
    }
    t.settle().await;
    let all = z.messages_to(chat);
    let got = all[1..].join("\n---\n");
    let (welcome, categories) = (
        got.find("hệ thống tự động").expect(&got),
        got.find("Ma túy").expect(&got),
    );
    assert!(welcome < categories, "in order: {got}");
    assert_eq!(readyz_until(&t, 200).await, "ready");
}

#[tokio::test]
async fn at_maxmemory_polling_keeps_its_offset_and_names_the_reason() {
    let t = spawn_app().await;
    let mut c = t.citizen(8_301);
    c.says("/start").await;
    c.new_messages();

    fill_memory(&t);
    let id = t.fake.push_update(c.text_update("/help"));
    t.fake.wait_sent(c.id, 3).await;
    let told = c.new_messages();
    assert_eq!(told.len(), 1, "{}", texts(&told));
    assert_eq!(told[0].text(), notice(Lang::Vi));
    assert!(t.fake.confirmed() < id, "not confirmed while Redis is full");
    // The poller's batch goes in as one transaction; its refusal still reads as out of memory.
    assert!(
        metric(&t, "tipline_redis_errors_total{reason=\"out_of_memory\"}")
            .await
            .is_some_and(|n| n >= 1.0)
    );
    let body_ = readyz_until(&t, 503).await;
    assert!(body_.contains("redis: out of memory"), "{body_}");

    raise_memory(&t);
    t.settle().await;
    let r = c.new_messages();
    assert!(r[0].text().contains("/report"), "{}", texts(&r));
    assert_eq!(readyz_until(&t, 200).await, "ready");
}

#[tokio::test]
async fn a_process_restarted_at_maxmemory_holds_the_inbox_and_works_it_off_in_order() {
    let mut t = spawn_app().await;
    let lines = ["Ba người lạ mặt", "Đến bằng thuyền lúc nửa đêm"];
    let held: Vec<(i64, String)> = {
        let mut c = t.citizen(8_401);
        c.says("/report").await;
        c.presses("cat:drugs").await;
        c.says("Bãi sông").await;
        c.presses("pl:unknown").await;
        (0..lines.len())
            .map(|i| {
                let id = 50_000 + i as i64;
                (id, body(c.text_update(lines[i]), id))
            })
            .collect()
    };

    // The process crashes just after the poller stored two lines, before the intake read them.
    t.kill();
    for (id, update) in &held {
        let _: String = ::redis::cmd("XADD")
            .arg(format!("{}:inbox", t.ns()))
            .arg("*")
            .arg("kind")
            .arg("tg")
            .arg("key")
            .arg(id)
            .arg("body")
            .arg(update)
            .query(&mut t.redis())
            .unwrap();
    }
    fill_memory(&t);
    // It starts again although Redis takes no write, says why it is not ready, and holds them.
    t.start().await;
    let body_ = readyz_until(&t, 503).await;
    assert!(body_.contains("redis: out of memory"), "{body_}");
    let len: u64 = ::redis::cmd("XLEN")
        .arg(format!("{}:inbox", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(len, 2, "nothing worked off while nothing can be written");

    let mut c = t.citizen(8_401);
    c.new_messages();
    raise_memory(&t);
    t.settle().await;
    assert_eq!(readyz_until(&t, 200).await, "ready");
    let r = c.new_messages();
    assert_eq!(r.len(), 2, "each line answered once: {}", texts(&r));
    assert_eq!(finish_report(&t, &mut c).await, lines.join("\n"));
}
