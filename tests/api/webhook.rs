//! Webhook mode: the secret header is checked; an update is answered 200 only once stored.

use tipline::config::ReceiveMode;

use crate::support::{WEBHOOK_SECRET, receipt_code, spawn_app_with, texts};

#[tokio::test]
async fn the_webhook_refuses_a_wrong_secret_and_accepts_the_right_one() {
    let t = spawn_app_with(ReceiveMode::Webhook, |_| {}).await;
    let c = t.citizen(3001);
    let update = serde_json::to_string(&{
        let mut u = c.text_update("/start");
        u["update_id"] = serde_json::json!(42);
        u
    })
    .unwrap();

    assert_eq!(t.post_webhook(None, update.clone()).await, 401);
    assert_eq!(t.post_webhook(Some("wrong"), update.clone()).await, 401);
    assert_eq!(
        t.post_webhook(Some(&format!("{WEBHOOK_SECRET}x")), update.clone())
            .await,
        401
    );
    t.settle().await;
    assert!(
        t.fake.messages_to(3001).is_empty(),
        "a refused update does nothing"
    );

    assert_eq!(
        t.post_webhook(Some(WEBHOOK_SECRET), update.clone()).await,
        200
    );
    t.settle().await;
    let r = t.fake.messages_to(3001);
    assert!(r[0].text().contains("113"), "{}", texts(&r));
    assert_eq!(t.fake.get_updates_calls(), 0, "webhook mode does not poll");
}

#[tokio::test]
async fn a_broken_webhook_body_gets_400_and_changes_nothing() {
    let t = spawn_app_with(ReceiveMode::Webhook, |_| {}).await;
    for body in ["", "{", "[]", "{\"hello\":1}", "{\"update_id\":\"x\"}"] {
        assert_eq!(
            t.post_webhook(Some(WEBHOOK_SECRET), body.to_owned()).await,
            400,
            "{body:?}"
        );
    }
    let len: u64 = ::redis::cmd("XLEN")
        .arg(format!("{}:inbox", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(len, 0);
}

#[tokio::test]
async fn a_webhook_update_delivered_twice_creates_one_tip() {
    let t = spawn_app_with(ReceiveMode::Webhook, |_| {}).await;
    let c = t.citizen(3002);
    let mut id = 500;
    let mut post = |u: serde_json::Value| {
        id += 1;
        let mut u = u;
        u["update_id"] = serde_json::json!(id);
        serde_json::to_string(&u).unwrap()
    };
    let steps = [c.text_update("/start")];
    for u in steps {
        assert_eq!(t.post_webhook(Some(WEBHOOK_SECRET), post(u)).await, 200);
        t.settle().await;
    }
    let presses = ["cat:drugs"];
    for p in presses {
        let u = c.press_update(p);
        assert_eq!(t.post_webhook(Some(WEBHOOK_SECRET), post(u)).await, 200);
        t.settle().await;
    }
    for (i, text) in ["Bến xe", "Buôn bán ma túy"].into_iter().enumerate() {
        assert_eq!(
            t.post_webhook(Some(WEBHOOK_SECRET), post(c.text_update(text)))
                .await,
            200
        );
        t.settle().await;
        if i == 0 {
            // The typed place's commune: not known.
            let u = c.press_update("pl:unknown");
            assert_eq!(t.post_webhook(Some(WEBHOOK_SECRET), post(u)).await, 200);
            t.settle().await;
        }
    }
    for p in ["go:next", "go:next"] {
        let u = c.press_update(p);
        assert_eq!(t.post_webhook(Some(WEBHOOK_SECRET), post(u)).await, 200);
        t.settle().await;
    }
    assert_eq!(
        t.post_webhook(Some(WEBHOOK_SECRET), post(c.text_update("🕶 Ẩn danh")))
            .await,
        200
    );
    t.settle().await;
    let send = post(c.press_update("rv:send"));
    assert_eq!(
        t.post_webhook(Some(WEBHOOK_SECRET), send.clone()).await,
        200
    );
    t.settle().await;
    // Telegram did not see the 200 in time and posts the same update again.
    let messages = t.fake.messages_to(3002).len();
    assert_eq!(t.post_webhook(Some(WEBHOOK_SECRET), send).await, 200);
    t.settle().await;
    assert_eq!(
        t.fake.messages_to(3002).len(),
        messages,
        "the repeated update is recognised, not answered as a stale button"
    );
    assert_eq!(t.tip_codes().len(), 1);
    assert_eq!(t.events().len(), 1);
    let receipts: Vec<_> = t
        .fake
        .messages_to(3002)
        .into_iter()
        .filter(|m| receipt_code(std::slice::from_ref(m)).is_some())
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt");
}

#[tokio::test]
async fn health_and_readiness_follow_redis() {
    let t = crate::support::spawn_app().await;
    let get = |path: &'static str| {
        let url = format!("{}{path}", t.base_url());
        let http = t.http.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(get("/healthz").await, 200);
    assert_eq!(get("/readyz").await, 200);
    t.redis.kill();
    assert_eq!(get("/healthz").await, 200, "the process itself is fine");
    assert_eq!(get("/readyz").await, 503);
    t.redis.restart();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while get("/readyz").await != 200 {
        assert!(tokio::time::Instant::now() < deadline, "never ready again");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // In polling mode there is no webhook route.
    assert_eq!(t.post_webhook(Some(WEBHOOK_SECRET), "{}".into()).await, 404);
}

#[tokio::test]
async fn webhook_mode_registers_its_url_and_secret_with_telegram() {
    let t = spawn_app_with(ReceiveMode::Webhook, |s| {
        s.telegram.webhook_url = "https://tip.example.vn/telegram/webhook".into();
    })
    .await;
    let calls = t.fake.calls_of("setWebhook");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].body["url"],
        "https://tip.example.vn/telegram/webhook"
    );
    assert_eq!(calls[0].body["secret_token"], WEBHOOK_SECRET);
    assert_eq!(
        calls[0].body["allowed_updates"],
        // my_chat_member: the bot learns it was added to a group, and leaves a stranger's.
        serde_json::json!(["message", "callback_query", "my_chat_member"])
    );
}
