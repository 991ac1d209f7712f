//! Nothing lost, nothing twice: restarts, Redis going away, redelivery, Telegram's 429.

use std::time::Duration;

use crate::support::{Fault, receipt_code, spawn_app, texts};

#[tokio::test]
async fn the_process_killed_between_two_steps_resumes_the_conversation_after_restart() {
    let mut t = spawn_app().await;
    let mut c = t.citizen(2001);
    c.says("/start").await;
    c.presses("cat:smuggling").await;
    c.says("Kho hàng ven sông").await;
    c.presses("pl:unknown").await;

    t.kill();
    t.start().await;

    let mut c = t.citizen(2001);
    c.new_messages();
    let r = c.says("Xe tải chở thuốc lá lậu vào ban đêm").await;
    assert!(r[0].text().contains("Đã ghi nhận"), "{}", texts(&r));
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).unwrap();
    let tip = t.tip(&code);
    assert_eq!(tip["category"], "smuggling");
    assert_eq!(tip["place"]["text"], "Kho hàng ven sông");
}

#[tokio::test]
async fn redis_restarted_between_two_steps_loses_nothing() {
    let t = spawn_app().await;
    let mut c = t.citizen(2002);
    c.says("/start").await;
    c.presses("cat:gambling").await;
    c.says("Sân bóng xóm Chiềng").await;
    c.presses("pl:unknown").await;

    t.redis.restart();

    let r = c.says("Đánh bạc ăn tiền mỗi tối").await;
    assert!(r[0].text().contains("Đã ghi nhận"), "{}", texts(&r));
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).unwrap();
    assert_eq!(t.tip(&code)["place"]["text"], "Sân bóng xóm Chiềng");
}

#[tokio::test]
async fn updates_sent_while_redis_is_down_are_kept_by_telegram_and_processed_later() {
    let t = spawn_app().await;
    let mut c = t.citizen(2003);
    c.says("/start").await;
    t.redis.kill();
    let id = t.fake.push_update(c.text_update("/cancel"));
    // The poller takes the update from Telegram and cannot store it...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while t.fake.delivered() < id {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poller never took the update"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...so it does not confirm it, however long Redis stays down.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(t.fake.confirmed() < id, "not confirmed while Redis is down");
    // Only the notice that the line is briefly unavailable (redis_down.rs): nothing processed.
    let told = c.new_messages();
    assert!(
        told.iter().all(|m| m.text().contains("tạm gián đoạn")),
        "{}",
        texts(&told)
    );
    t.redis.restart();
    t.settle().await;
    let r = c.new_messages();
    assert!(
        r.iter().any(|m| m.text().contains("Đã hủy")),
        "{}",
        texts(&r)
    );
}

#[tokio::test]
async fn a_redelivered_update_creates_no_second_tip() {
    let mut t = spawn_app().await;
    let mut c = t.citizen(2004);
    c.says("/start").await;
    c.presses("cat:theft").await;
    c.says("Chợ trung tâm").await;
    c.presses("pl:unknown").await;
    c.says("Móc túi ở chợ").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let send = c.press_update("rv:send");
    let r = c.send(send.clone()).await;
    let code = receipt_code(&r).unwrap();

    // Telegram sends the same update again, as after a crash before the offset moved on:
    // a fresh process starts from offset 0 and gets it.
    t.kill();
    let sent_before = t.fake.calls_of("sendMessage").len();
    let mut again = send.clone();
    again["update_id"] = serde_json::json!(t.fake.confirmed());
    t.fake.redeliver(again);
    t.start().await;
    t.settle().await;

    assert_eq!(t.tip_codes(), vec![code]);
    assert_eq!(t.events().len(), 1);
    assert_eq!(
        t.fake.calls_of("sendMessage").len(),
        sent_before,
        "the replies were already sent, so nothing is sent again"
    );
}

#[tokio::test]
async fn a_429_from_telegram_is_waited_out_and_the_reply_still_arrives() {
    let t = spawn_app().await;
    let mut c = t.citizen(2005);
    t.fake.fail_next("sendMessage", Fault::TooManyRequests(1));
    let r = c.says("/start").await;
    assert_eq!(r.len(), 2, "{}", texts(&r));
    assert!(r[0].text().contains("113"));
    assert_eq!(t.fake.calls_of("sendMessage!failed").len(), 1);
}

#[tokio::test]
async fn a_502_from_telegram_is_retried() {
    let t = spawn_app().await;
    let mut c = t.citizen(2006);
    t.fake.fail_next("sendMessage", Fault::BadGateway);
    let r = c.says("/help").await;
    assert!(r[0].text().contains("/report"), "{}", texts(&r));
}

#[tokio::test]
async fn a_citizen_who_blocked_the_bot_does_not_stall_the_line() {
    let t = spawn_app().await;
    let mut blocked = t.citizen(2007);
    t.fake.fail_next("sendMessage", Fault::Blocked);
    let r = blocked.says("/start").await;
    assert!(r.is_empty());
    let mut other = t.citizen(2008);
    let r = other.says("/start").await;
    assert_eq!(r.len(), 2);
}

#[tokio::test]
async fn an_idle_draft_is_reminded_once_and_then_expires() {
    let t = spawn_app().await;
    let mut c = t.citizen(2009);
    c.says("/start").await;
    c.presses("cat:drugs").await;
    let limits = t.settings.limits.clone();

    t.clock
        .advance(Duration::from_secs(limits.draft_remind_after_secs + 1));
    t.fake
        .wait_until("the reminder", |calls| {
            calls.iter().any(|m| m.text().contains("chưa được gửi"))
        })
        .await;
    t.settle().await;
    let r = c.new_messages();
    assert_eq!(
        r.len(),
        3,
        "reminder and the place question again: {}",
        texts(&r)
    );

    t.clock
        .advance(Duration::from_secs(limits.draft_expire_after_secs));
    t.fake
        .wait_until("the expiry", |calls| {
            calls.iter().any(|m| m.text().contains("đã bị xóa"))
        })
        .await;
    t.settle().await;
    let r = c.new_messages();
    assert_eq!(r.len(), 1, "{}", texts(&r));
    // The draft is gone: what the citizen writes now starts a new report, which asks the
    // category again.
    let r = c.says("Chợ").await;
    assert!(
        r[0].text().contains("một tin báo mới") && r[1].text().contains("thuộc loại nào"),
        "the draft is gone: {}",
        texts(&r)
    );
}

#[tokio::test]
async fn a_burst_of_many_citizens_is_processed_in_order_for_each_of_them() {
    let t = crate::support::spawn_app_with(tipline::config::ReceiveMode::Polling, |s| {
        s.limits.messages_per_minute = 1000;
    })
    .await;
    let ids: Vec<i64> = (0..30).map(|i| 7000 + i).collect();
    // Every citizen's whole report is queued at once, interleaved with the others'.
    let reports: Vec<_> = ids
        .iter()
        .map(|id| crate::support::report_updates(*id))
        .collect();
    for step in 0..reports[0].len() {
        for r in &reports {
            t.fake.push_update(r[step].0.clone());
        }
    }
    t.settle().await;
    let codes = t.tip_codes();
    assert_eq!(codes.len(), ids.len());
    let mut described: Vec<String> = codes
        .iter()
        .map(|c| t.tip(c)["description"].as_str().unwrap().to_owned())
        .collect();
    described.sort();
    let mut want: Vec<String> = ids
        .iter()
        .map(|id| format!("Có người bán ma túy ở quán nước, người báo {id}"))
        .collect();
    want.sort();
    assert_eq!(described, want);
    for id in &ids {
        let expected: usize = crate::support::report_updates(*id)
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            t.fake.sent_count(*id),
            expected,
            "citizen {id}: {}",
            texts(&t.fake.messages_to(*id))
        );
    }
}

#[tokio::test]
async fn a_reply_that_fails_after_the_commit_is_sent_later_exactly_once() {
    let t = spawn_app().await;
    let mut c = t.citizen(2010);
    c.says("/start").await;
    c.presses("cat:fraud").await;
    c.says("Trên mạng xã hội").await;
    c.presses("pl:unknown").await;
    c.says("Lừa đảo bán vé máy bay giả").await;
    c.presses("go:next").await;
    c.presses("go:next").await;

    // "Anonymous" gets two replies; the first goes out, the second fails every attempt of
    // the first try, after the commit. (429s, because teloxide itself waits 10 s after a 5xx.)
    t.fake.pass_next("sendMessage");
    for _ in 0..4 {
        t.fake.fail_next("sendMessage", Fault::TooManyRequests(0));
    }
    let r = c.says("🕶 Ẩn danh").await;
    assert_eq!(r.len(), 2, "each reply exactly once: {}", texts(&r));
    assert!(r[0].text().contains("ẩn danh"));
    assert!(r[1].text().contains("Kiểm tra lại"));
    assert_eq!(t.fake.calls_of("sendMessage!failed").len(), 4);

    // The same on Send: the tip is stored once and the receipt arrives once.
    for _ in 0..4 {
        t.fake.fail_next("sendMessage", Fault::TooManyRequests(0));
    }
    let r = c.presses("rv:send").await;
    assert_eq!(r.len(), 1, "{}", texts(&r));
    assert!(receipt_code(&r).is_some());
    assert_eq!(t.tip_codes().len(), 1);
    assert_eq!(t.events().len(), 1);
}

#[tokio::test]
async fn a_refused_poll_and_an_update_of_an_unknown_kind_do_not_stop_the_line() {
    let t = spawn_app().await;
    // An update kind tipline does not ask for and cannot read, then Telegram refusing the
    // next poll ("retry after 1 s").
    t.fake
        .push_update(serde_json::json!({"poll": {"id": "7", "question": "?",
        "options": [], "total_voter_count": 0, "is_closed": true, "is_anonymous": true,
        "type": "regular", "allows_multiple_answers": false}}));
    t.fake.fail_next("getUpdates", Fault::TooManyRequests(1));
    t.settle().await;
    let mut c = t.citizen(2050);
    let r = c.says("/help").await;
    assert!(r[0].text().contains("/report"), "{}", texts(&r));
    assert_eq!(t.fake.calls_of("getUpdates!failed").len(), 1);
}

#[tokio::test]
async fn a_draft_timer_is_not_queued_again_while_its_last_tick_waits() {
    let redis = crate::support::RedisServer::start();
    let store = tipline::store::Store::connect(&redis.url(), "{tt}")
        .await
        .unwrap();
    store.ensure_inbox().await.unwrap();
    assert!(store.inbox_append_tick("a1").await.unwrap());
    assert!(
        !store.inbox_append_tick("a1").await.unwrap(),
        "one tick of a1 at a time"
    );
    assert!(store.inbox_append_tick("b2").await.unwrap(), "per alias");
    assert_eq!(store.inbox_len().await.unwrap(), 2);
    let entries = store.inbox_read("intake-1", None, 10, None).await.unwrap();
    assert_eq!(entries[0].key, "a1");
    store
        .inbox_ack(&entries[0].stream_id, None, Some("a1"))
        .await
        .unwrap();
    assert!(
        store.inbox_append_tick("a1").await.unwrap(),
        "the next tick once the last is done"
    );
    assert_eq!(store.inbox_len().await.unwrap(), 2);
}
