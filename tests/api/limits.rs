//! Limits that cannot drop a Send (issue 13): per-citizen limits count by send time, a
//! report's send is never dropped, new citizens over a ceiling get one summary card per
//! interval, and hotspots count citizens, not tips.

use serde_json::{Value, json};
use tipline::config::ReceiveMode;

use crate::support::{TestApp, receipt_code, spawn_app_with, texts};

const DUTY_GROUP: i64 = -1_001_000_000_001;

/// Message and press ids, unique within the test binary.
fn next_id() -> i64 {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(100);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A citizen's private message with `fields`, sent at `sent_ms` (Telegram dates in seconds).
fn message(id: i64, sent_ms: i64, fields: Value) -> Value {
    let mut msg = json!({"message_id": next_id(),
        "from": {"id": id, "is_bot": false, "first_name": "Dân", "language_code": "vi"},
        "chat": {"id": id, "type": "private", "first_name": "Dân"},
        "date": sent_ms / 1000});
    for (k, v) in fields.as_object().unwrap() {
        msg[k] = v.clone();
    }
    json!({"message": msg})
}

fn text(id: i64, sent_ms: i64, text: &str) -> Value {
    let mut fields = json!({"text": text});
    if text.starts_with('/') {
        fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": text.len()}]);
    }
    message(id, sent_ms, fields)
}

/// A press of a button with `data` (Telegram does not date presses).
fn press(id: i64, data: &str) -> Value {
    json!({"callback_query": {"id": format!("cb{}", next_id()), "chat_instance": "-1",
        "from": {"id": id, "is_bot": false, "first_name": "Dân", "language_code": "vi"},
        "data": data, "message": {"message_id": 1, "date": 1_700_000_000, "text": "…",
            "chat": {"id": id, "type": "private", "first_name": "Dân"},
            "from": {"id": crate::support::fake_telegram::BOT_ID, "is_bot": true,
                "first_name": "TipBot"}}}})
}

/// The counter `name` on `/metrics`.
async fn metric(t: &TestApp, name: &str) -> f64 {
    let text = t.scrape_metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("tipline_{name}_total ")))
        .map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn a_backlog_of_forty_messages_sent_over_four_minutes_loses_nothing_after_an_outage() {
    let mut t = spawn_app_with(ReceiveMode::Polling, |_| {}).await;
    t.align_clock(60);
    let id = 6_101;
    // tipline is down while the citizen writes: 40 updates over four minutes (the limit is
    // 30 a minute), the report's steps with 33 lines of description, then «Gửi».
    t.stop().await;
    let start = t.clock.now_ms() - 5 * 60_000;
    let at = |i: i64| start + i * 6_000;
    let mut backlog = vec![
        text(id, at(0), "/report"),
        press(id, "cat:drugs"),
        press(id, "com:thung-nai"),
    ];
    for i in 0..33 {
        backlog.push(text(id, at(2 + i), &format!("dòng {i} của lời kể")));
    }
    backlog.extend([
        press(id, "go:next"),
        press(id, "go:next"),
        text(id, at(36), "🕶 Ẩn danh"),
        press(id, "rv:send"),
    ]);
    assert_eq!(backlog.len(), 40);
    for update in backlog {
        t.fake.push_update(update);
    }

    // Back up, it takes all 40 at once and works them in one burst.
    t.start().await;
    t.process_until_idle().await;
    let sent = t.fake.messages_to(id);
    let code = receipt_code(&sent).unwrap_or_else(|| panic!("no receipt: {}", texts(&sent)));
    assert!(
        !texts(&sent).contains("quá nhanh"),
        "nothing was refused: {}",
        texts(&sent)
    );
    let description = t.tip(&code)["description"].as_str().unwrap().to_owned();
    for i in 0..33 {
        assert!(
            description.contains(&format!("dòng {i} của")),
            "line {i} kept: {description}"
        );
    }
    assert_eq!(metric(&t, "flood_dropped").await, 0.0);
}

#[tokio::test]
async fn a_send_over_the_per_minute_limit_is_never_dropped() {
    let t = spawn_app_with(ReceiveMode::Polling, |_| {}).await;
    t.align_clock(60);
    let id = 6_102;
    let now = t.clock.now_ms();
    // 40 updates within one minute: the report, 31 lines at the review, then «Gửi».
    let mut burst = vec![
        text(id, now, "/report"),
        press(id, "cat:drugs"),
        press(id, "com:thung-nai"),
        text(id, now, "Có người bán ma túy ở bãi sông"),
        press(id, "go:next"),
        press(id, "go:next"),
        text(id, now, "🕶 Ẩn danh"),
    ];
    for i in 0..32 {
        burst.push(text(id, now, &format!("thêm {i}")));
    }
    burst.push(press(id, "rv:send"));
    assert_eq!(burst.len(), 40);
    for update in burst {
        t.fake.push_update(update);
    }
    t.process_until_idle().await;

    let sent = t.fake.messages_to(id);
    let all = texts(&sent);
    assert_eq!(all.matches("quá nhanh").count(), 1, "told once: {all}");
    assert!(
        receipt_code(&sent).is_some(),
        "the send went through: {all}"
    );
    assert_eq!(t.tip_codes().len(), 1);
    // Nine messages over 30 were ignored; «Gửi», the 40th, was not.
    assert_eq!(metric(&t, "flood_dropped").await, 9.0);
}

/// A citizen's whole drugs report in `commune`, through the testkit's citizen; the receipt code.
async fn report(t: &TestApp, id: i64, commune: &str, text: &str) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses(&format!("com:{commune}")).await;
    c.says(text).await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let sent = c.presses("rv:send").await;
    receipt_code(&sent).unwrap_or_else(|| panic!("no receipt: {}", texts(&sent)))
}

fn hotspots(t: &TestApp) -> Vec<std::collections::HashMap<String, String>> {
    t.events()
        .into_iter()
        .filter(|e| e["type"] == "hotspot")
        .collect()
}

#[tokio::test]
async fn one_citizen_sending_many_tips_counts_once_for_a_hotspot() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.limits.tips_per_hour = 10;
        s.limits.messages_per_minute = 1000;
        s.rules.hotspots.count = 3;
    })
    .await;
    let mut codes = Vec::new();
    for i in 0..4 {
        let text = format!("Tối nay điểm bán ma túy số {i} lại mở ở xóm {i}");
        codes.push(report(&t, 6_201, "thung-nai", &text).await);
    }
    t.process_until_idle().await;
    assert!(hotspots(&t).is_empty(), "four tips of one citizen are one");

    codes.push(report(&t, 6_202, "thung-nai", "Có người bán ma túy ở bãi sông").await);
    assert!(hotspots(&t).is_empty(), "two citizens are not three");
    codes.push(report(&t, 6_203, "thung-nai", "Xe máy giao hàng cấm ở cổng chợ").await);
    t.process_until_idle().await;
    let found = hotspots(&t);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["count"], "3");
    assert_eq!(found[0]["code"], codes[5]);
    assert_eq!(found[0]["codes"], codes.join(","));
    let alert = t
        .fake
        .messages_to(DUTY_GROUP)
        .into_iter()
        .find(|c| c.text().contains("Điểm nóng"))
        .expect("the alert in the duty group");
    assert!(
        alert.text().contains("3 người dân báo") && alert.text().contains("(6 tin báo:"),
        "{}",
        alert.text()
    );
}

/// A whole drugs report in Xã Thung Nai from citizen `id`, as updates that need no earlier
/// reply.
fn report_updates(id: i64, now: i64) -> Vec<Value> {
    vec![
        text(id, now, "/report"),
        press(id, "cat:drugs"),
        press(id, "com:thung-nai"),
        text(
            id,
            now,
            &format!("Có điểm bán ma túy ở bãi sông, người báo {id}"),
        ),
        press(id, "go:next"),
        press(id, "go:next"),
        text(id, now, "🕶 Ẩn danh"),
        press(id, "rv:send"),
    ]
}

/// Cards in the duty group: the messages with an officer's buttons, by the code they show.
fn cards(t: &TestApp) -> Vec<String> {
    t.fake
        .messages_to(DUTY_GROUP)
        .into_iter()
        .filter(|c| c.buttons().iter().any(|b| b.starts_with("dk:ack:")))
        .filter_map(|c| receipt_code(std::slice::from_ref(&c)))
        .collect()
}

fn summaries(t: &TestApp) -> Vec<String> {
    t.fake
        .messages_to(DUTY_GROUP)
        .into_iter()
        .map(|c| c.text().to_owned())
        .filter(|text| text.starts_with("📋"))
        .collect()
}

#[tokio::test]
async fn fifty_new_accounts_flooding_one_commune_get_one_summary_card_and_one_hotspot_alert() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
    })
    .await;
    let now = t.clock.now_ms();
    let ids: Vec<i64> = (0..50).map(|i| 6_300 + i).collect();
    let reports: Vec<Vec<Value>> = ids.iter().map(|id| report_updates(*id, now)).collect();
    for step in 0..reports[0].len() {
        for r in &reports {
            t.fake.push_update(r[step].clone());
        }
    }
    t.process_until_idle().await;

    // Nothing is dropped: 50 tips, each receipted.
    assert_eq!(t.tip_codes().len(), 50);
    for id in &ids {
        assert!(
            receipt_code(&t.fake.messages_to(*id)).is_some(),
            "{id} got a receipt"
        );
    }
    // The first ten (limits.new_citizens_per_commune_per_hour) get cards, the rest wait.
    let carded = cards(&t);
    assert_eq!(carded.len(), 10, "{carded:?}");
    assert!(
        summaries(&t).is_empty(),
        "the summary waits for its interval"
    );

    t.clock.advance(std::time::Duration::from_secs(10 * 60));
    t.fire_timers().await;
    // The app's own summary role may have taken the summary first: wait for its post.
    t.fake
        .wait_until("the summary card", |calls| {
            calls.iter().any(|c| c.text().starts_with("📋"))
        })
        .await;
    let posted = summaries(&t);
    assert_eq!(posted.len(), 1, "one summary card: {posted:?}");
    let summary = &posted[0];
    assert!(summary.contains("Tổng hợp 40 tin báo"), "{summary}");
    assert!(summary.contains("/tip TB-"), "{summary}");
    assert!(
        t.fake.messages_to(DUTY_GROUP).iter().all(|c| c.protected()),
        "summary cards, cards and alerts cannot be forwarded (issue 14)"
    );
    let listed: Vec<String> = t
        .tip_codes()
        .into_iter()
        .filter(|c| !carded.contains(c))
        .collect();
    assert_eq!(listed.len(), 40);
    for code in &listed {
        assert!(
            summary.contains(&format!("{code} · Ma túy · Xã Thung Nai")),
            "{code} in {summary}"
        );
    }
    assert_eq!(cards(&t).len(), 10, "no card was posted one by one");

    // One hotspot alert, not one per tip.
    let alerts: Vec<_> = t
        .fake
        .messages_to(DUTY_GROUP)
        .into_iter()
        .filter(|c| c.text().contains("Điểm nóng"))
        .collect();
    assert_eq!(alerts.len(), 1, "{}", texts(&alerts));
    assert_eq!(hotspots(&t).len(), 1);

    // Exactly once: the next interval has nothing to post.
    t.clock.advance(std::time::Duration::from_secs(10 * 60));
    t.fire_timers().await;
    assert_eq!(summaries(&t).len(), 1);
    assert_eq!(metric(&t, "tips_summarised").await, 40.0);
    assert_eq!(metric(&t, "summaries_posted").await, 1.0);

    // An officer opens one: its card, with its buttons, becomes the tip's card.
    t.fake.push_update(json!({"message": {
        "message_id": next_id(), "date": t.clock.now_ms() / 1000,
        "from": {"id": 555, "is_bot": false, "first_name": "Cán bộ"},
        "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"},
        "text": format!("/tip {}", listed[7]),
        "entities": [{"type": "bot_command", "offset": 0, "length": 4}]}}));
    t.process_until_idle().await;
    assert_eq!(cards(&t).last(), Some(&listed[7]));
    let card: Option<String> = ::redis::cmd("HGET")
        .arg(format!("{}:card:{}", t.ns(), listed[7]))
        .arg("chat")
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(card, Some(DUTY_GROUP.to_string()));
}

#[tokio::test]
async fn a_citizen_with_a_tip_a_day_before_is_not_new_and_gets_a_card_over_the_ceiling() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.limits.new_citizens_per_hour = 1;
        s.limits.new_citizens_per_commune_per_hour = 1;
        s.rules.hotspots.enabled = false;
    })
    .await;
    let first = report(&t, 6_401, "muong-thang", "Có người lạ bán ma túy ở bến đò").await;
    t.clock.advance(std::time::Duration::from_secs(25 * 3600));
    let newcomer = report(&t, 6_402, "thung-nai", "Điểm bán ma túy sau chợ").await;
    let over = report(&t, 6_403, "thung-nai", "Xe lạ giao hàng cấm ban đêm").await;
    let known = report(&t, 6_401, "thung-nai", "Lại thấy bán ma túy ở bến đò").await;
    t.process_until_idle().await;
    let mut carded = cards(&t);
    carded.sort();
    let mut want = vec![first, newcomer, known];
    want.sort();
    assert_eq!(carded, want, "the known citizen's tip has a card");
    assert_eq!(
        t.redis_keys_holding(&format!("listed:{over}")).len(),
        1,
        "the second newcomer of the hour waits for the summary"
    );
}

#[tokio::test]
async fn a_send_typed_from_a_numbered_menu_over_the_limit_is_not_dropped() {
    use crate::support::fake_zalo::FakeZalo;
    let z = FakeZalo::start().await;
    let url = z.url();
    let t = spawn_app_with(ReceiveMode::Polling, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = ReceiveMode::Polling;
        s.zalo.poll_timeout_secs = 1;
        s.limits.messages_per_minute = 8;
    })
    .await;
    t.align_clock(60);
    let chat = "zalo-6501";
    // The whole report within one minute; «1» at the review («Gửi») is the 10th message.
    let steps = [
        "Xin chào",
        "1",
        "ma tuy",
        "xa thung nai",
        "Có người bán ma túy ở bãi sông",
        "1",
        "1",
        "0912 345 678",
        "thêm một dòng",
        "1",
    ];
    for text in steps {
        let mut update = z.text_update(chat, text);
        update["message"]["date"] = json!(t.clock.now_ms());
        z.push_update(update);
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while z.pending_updates() > 0 || t.tip_codes().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no tip: {}",
            z.messages_to(chat).join("\n---\n")
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.process_until_idle().await;
    let said = z.messages_to(chat).join("\n---\n");
    assert_eq!(said.matches("quá nhanh").count(), 1, "{said}");
    assert_eq!(t.tip_codes().len(), 1, "{said}");
    assert!(said.contains(&t.tip_codes()[0]), "the receipt: {said}");
}

#[tokio::test]
async fn a_summary_card_telegram_refuses_is_posted_once_when_the_group_is_back() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.limits.new_citizens_per_hour = 1;
        s.rules.hotspots.enabled = false;
    })
    .await;
    let now = t.clock.now_ms();
    for id in [6_601, 6_602, 6_603] {
        for update in report_updates(id, now) {
            t.fake.push_update(update);
        }
    }
    t.process_until_idle().await;
    assert_eq!(cards(&t).len(), 1);

    // The bot may not write in the group when the summary is due: the attempt fails, the
    // summary stays in Redis.
    t.fake
        .refuse_chat(DUTY_GROUP, Some(crate::support::Fault::NoRights));
    t.clock.advance(std::time::Duration::from_secs(10 * 60));
    let shared = &t.app().shared;
    let _ = tipline::desk::summary::fire_due(shared).await;
    t.fake
        .wait_until("the refused summary", |calls| {
            calls
                .iter()
                .any(|c| c.method == "sendmessage!failed" && c.chat_id() == Some(DUTY_GROUP))
        })
        .await;
    assert!(summaries(&t).is_empty());

    // Fixed: after the lease it goes out, once, with both tips.
    t.fake.refuse_chat(DUTY_GROUP, None);
    t.clock.advance(std::time::Duration::from_secs(61));
    t.fire_timers().await;
    t.clock.advance(std::time::Duration::from_secs(10 * 60));
    t.fire_timers().await;
    t.fake
        .wait_until("the summary card", |calls| {
            calls.iter().any(|c| c.text().starts_with("📋"))
        })
        .await;
    let posted = summaries(&t);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(posted[0].contains("Tổng hợp 2 tin báo"), "{}", posted[0]);
}
