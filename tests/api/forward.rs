//! Forwarding to the triage service: signed, in order per tip, retried, dead-lettered,
//! recovered after a crash; and the callback API and evidence links it relies on.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tipline::config::ReceiveMode;

use crate::support::{
    FakeTriage, Reply, TRIAGE_SECRET, TRIAGE_TOKEN, TestApp, receipt_code, spawn_app_with,
};

const PUBLIC_URL: &str = "https://tipline.test";

async fn forwarding_app(
    triage: &FakeTriage,
    tweak: impl FnOnce(&mut tipline::config::Settings),
) -> TestApp {
    let url = triage.url();
    spawn_app_with(ReceiveMode::Polling, move |s| {
        s.triage.enabled = true;
        s.triage.url = url;
        s.triage.backoff_initial_ms = 20;
        s.triage.backoff_max_secs = 600;
        s.triage.reclaim_after_secs = 1;
        s.http.public_url = PUBLIC_URL.into();
        tweak(s);
    })
    .await
}

/// A whole report by citizen `id`, with one photo and the citizen's own phone number.
async fn report(t: &TestApp, id: i64, text: &str) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says(text).await;
    c.presses("go:next").await;
    c.sends_photo(&format!("AgAD-{id}"), 52_000, None).await;
    c.presses("go:next").await;
    c.shares_contact("+84912345678", true).await;
    receipt_code(&c.presses("rv:send").await).expect("a receipt")
}

/// The receiver's check, written from docs/triage-api.md and nothing else: split the header
/// at commas into `t=` and `v1=`, HMAC-SHA256 the bytes `"<t>.<body>"` with the shared secret,
/// compare hex.
fn verify_as_documented(header: &str, body: &[u8], secret: &str) -> bool {
    let mut t = "";
    let mut v1 = "";
    for part in header.split(',') {
        if let Some(v) = part.strip_prefix("t=") {
            t = v;
        } else if let Some(v) = part.strip_prefix("v1=") {
            v1 = v;
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let fresh = t.parse::<i64>().is_ok_and(|t| {
        (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            - t)
            .abs()
            < 300
    });
    fresh && hex::encode(mac.finalize().into_bytes()) == v1
}

fn pending(t: &TestApp, group: &str) -> u64 {
    let summary: Vec<::redis::Value> = ::redis::cmd("XPENDING")
        .arg(format!("{}:events", t.ns()))
        .arg(group)
        .query(&mut t.redis())
        .unwrap();
    match summary.first() {
        Some(::redis::Value::Int(n)) => *n as u64,
        _ => 0,
    }
}

fn dlq_len(t: &TestApp) -> u64 {
    ::redis::cmd("XLEN")
        .arg(format!("{}:dlq:forward", t.ns()))
        .query(&mut t.redis())
        .unwrap()
}

async fn call_api(t: &TestApp, code: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = t
        .http
        .post(format!("{}/api/v1/tips/{code}/events", t.base_url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(tok) = token {
        req = req.bearer_auth(tok);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_tip_is_forwarded_signed_whole_and_without_the_citizens_identity() {
    let triage = FakeTriage::start().await;
    let t = forwarding_app(&triage, |_| {}).await;
    let code = report(
        &t,
        4242,
        "Có người bán ma túy ở quán nước đầu xóm, tối nào cũng có",
    )
    .await;
    triage.wait_delivered(1).await;

    let got = &triage.delivered()[0];
    assert_eq!(got.key, format!("{code}:1"));
    assert_eq!(got.content_type, "application/json");
    assert!(
        verify_as_documented(&got.signature, &got.body, TRIAGE_SECRET),
        "signature {} does not verify",
        got.signature
    );
    assert!(!verify_as_documented(&got.signature, b"{}", TRIAGE_SECRET));

    let b = &got.json;
    assert_eq!(b["schema"], "tipline.event.v1");
    assert_eq!(b["id"], format!("{code}:1"));
    assert_eq!(b["type"], "submitted");
    assert_eq!(b["seq"], 1);
    assert_eq!(b["actor"]["kind"], "citizen");
    let tip = &b["tip"];
    assert_eq!(tip["code"], code);
    assert_eq!(tip["category"]["id"], "drugs");
    assert_eq!(tip["category"]["vi"], "Ma túy");
    assert_eq!(tip["priority"], "high");
    assert_eq!(tip["place"]["kind"], "commune");
    assert_eq!(tip["commune"]["name"], "Xã Thung Nai");
    assert_eq!(
        tip["description"],
        "Có người bán ma túy ở quán nước đầu xóm, tối nào cũng có"
    );
    assert_eq!(tip["contact"]["phone"], "+84912345678");
    let ev = &tip["evidence"][0];
    assert_eq!(ev["kind"], "photo");
    assert_eq!(ev["size"], 52_000);
    assert!(
        ev["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{PUBLIC_URL}/api/v1/evidence/{code}/0?exp=")),
        "{ev}"
    );
    // The citizen's Telegram id and name appear nowhere; the alias does.
    let raw = String::from_utf8(got.body.clone()).unwrap();
    assert!(!raw.contains("4242"), "{raw}");
    assert!(!raw.contains("Nguyễn"), "{raw}");
    assert!(tip["alias"].as_str().unwrap().starts_with('c'));

    // Acknowledged and pending nothing.
    t.fake.wait_until("idle", |_| true).await;
    for _ in 0..100 {
        if pending(&t, "forward") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(pending(&t, "forward"), 0);
    assert_eq!(t.tip(&code)["seq"], 1);
}

#[tokio::test]
async fn two_server_errors_then_success_deliver_once_under_one_key() {
    let triage = FakeTriage::start().await;
    triage.fail_next(&[Reply::Status(500), Reply::RetryAfter(503, 0)]);
    let t = forwarding_app(&triage, |_| {}).await;
    let code = report(&t, 5001, "Nhóm thanh niên tụ tập bán ma túy ở bãi sông").await;
    triage.wait_delivered(1).await;
    t.process_until_idle().await;

    let all = triage.received();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|r| r.key == format!("{code}:1")));
    assert_eq!(
        all.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 503, 200]
    );
    // The same event each time: only the signature's timestamp may differ.
    assert_eq!(all[0].json, all[2].json);
    assert_eq!(pending(&t, "forward"), 0);
    assert_eq!(dlq_len(&t), 0);
    let attempts: u64 = ::redis::cmd("HLEN")
        .arg(format!("{}:fwd:attempts", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(attempts, 0, "attempt counters are cleared on delivery");
}

#[tokio::test]
async fn a_client_error_dead_letters_at_once_later_events_still_go_and_replay_delivers() {
    let triage = FakeTriage::start().await;
    triage.fail_next(&[Reply::Status(400)]);
    let t = forwarding_app(&triage, |_| {}).await;
    let code = report(&t, 5002, "Có người lạ cất giấu hàng cấm trong kho").await;
    triage
        .wait_until("the refusal", |r| r.iter().any(|r| r.status == 400))
        .await;
    for _ in 0..100 {
        if dlq_len(&t) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(dlq_len(&t), 1);
    assert_eq!(triage.received().len(), 1, "a 400 is not retried");

    // The tip's next event is not held back by the dead letter.
    let (status, _) = call_api(&t, &code, Some(TRIAGE_TOKEN), r#"{"type":"acknowledge"}"#).await;
    assert_eq!(status, 200);
    triage.wait_delivered(1).await;
    assert_eq!(triage.delivered()[0].key, format!("{code}:2"));

    // The dead letter says what happened, and replaying it delivers it.
    let shared = t.app().shared.clone();
    let letters = shared.store.dlq_list("forward", 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].get("code"), code);
    assert_eq!(letters[0].get("type"), "submitted");
    assert!(
        letters[0].get("error").contains("HTTP 400"),
        "{:?}",
        letters[0]
    );
    let forwarder = tipline::forward::Forwarder::new(
        shared.clone(),
        TRIAGE_SECRET.as_bytes(),
        shared.links.clone(),
    )
    .unwrap();
    let replay = forwarder
        .replay(&letters[0].id, "admin:test")
        .await
        .unwrap();
    assert!(
        matches!(replay, tipline::forward::dlq::Replay::Delivered),
        "{replay:?}"
    );
    let delivered = triage.delivered();
    assert_eq!(delivered.len(), 2);
    assert_eq!(delivered[1].key, format!("{code}:1"));
    assert_eq!(delivered[1].json["tip"]["code"], code);
    assert_eq!(dlq_len(&t), 0);
    let unknown = forwarder.replay("1-1", "admin:test").await.unwrap();
    assert!(matches!(unknown, tipline::forward::dlq::Replay::Unknown));
}

#[tokio::test]
async fn a_long_outage_is_ridden_out_and_the_backlog_arrives_in_order_per_tip() {
    let triage = FakeTriage::start().await;
    triage.set_default(Some(Reply::Status(503)));
    let t = forwarding_app(&triage, |s| {
        s.triage.backoff_initial_ms = 1000;
        s.triage.concurrency = 2;
        s.rules.hotspots.enabled = false; // three tips in one commune would raise one
    })
    .await;
    let mut codes = Vec::new();
    for id in 0..3 {
        let code = report(&t, 6000 + id, &format!("Điểm bán ma túy số {id} ở chợ")).await;
        for body in [
            r#"{"type":"acknowledge","officer":"Đại úy Hà"}"#,
            r#"{"type":"note","text":"Đã chuyển tổ trinh sát"}"#,
            r#"{"type":"close","disposition":"handled"}"#,
        ] {
            let (status, _) = call_api(&t, &code, Some(TRIAGE_TOKEN), body).await;
            assert_eq!(status, 200, "{body}");
        }
        codes.push(code);
    }
    // Three hours of outage, in ten-minute steps of the app's clock.
    for _ in 0..18 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        t.clock.advance(Duration::from_secs(600));
    }
    let tries = triage.received().len();
    assert!(tries >= 18, "kept trying through the outage: {tries}");
    assert!(triage.delivered().is_empty());
    assert_eq!(dlq_len(&t), 0, "nothing given up on");

    triage.set_default(None);
    // The service is back. A try that was under way when it came back failed and waits out
    // its backoff on the app's clock, so the clock keeps moving until all have gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while triage.delivered().len() < 12 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivered after the outage: {}",
            triage.delivered().len()
        );
        t.clock.advance(Duration::from_secs(600));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    triage.wait_delivered(12).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let delivered = triage.delivered();
    assert_eq!(delivered.len(), 12, "each event once");
    for code in &codes {
        let seqs: Vec<u64> = delivered
            .iter()
            .filter(|r| r.code() == code)
            .map(|r| r.seq())
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4], "tip {code} out of order");
        let kinds: Vec<&str> = delivered
            .iter()
            .filter(|r| r.code() == code)
            .map(|r| r.json["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["submitted", "acknowledged", "noted", "closed"]);
    }
    assert_eq!(pending(&t, "forward"), 0);
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_is_taken_over_and_nothing_is_lost() {
    let triage = FakeTriage::start().await;
    triage.fail_next(&[Reply::Hang]);
    let mut t = forwarding_app(&triage, |s| {
        s.app.instance = "first".into();
        s.triage.timeout_secs = 120;
    })
    .await;
    let code = report(&t, 7001, "Có kẻ gạ gẫm bán ma túy cho học sinh").await;
    triage
        .wait_until("the hung request", |r| r.iter().any(|r| r.status == 0))
        .await;
    let (status, _) = call_api(&t, &code, Some(TRIAGE_TOKEN), r#"{"type":"acknowledge"}"#).await;
    assert_eq!(status, 200);
    t.kill();

    // Another worker, under another name, takes the stuck events over.
    t.settings.app.instance = "second".into();
    t.start().await;
    triage.wait_delivered(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delivered = triage.delivered();
    let keys: Vec<&str> = delivered.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, [format!("{code}:1"), format!("{code}:2")]);
    assert_eq!(pending(&t, "forward"), 0);
}

const GROUP: i64 = -1_001_000_000_001;

async fn desk_app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = GROUP;
        s.notify.on = vec!["acknowledged".into(), "closed".into()];
    })
    .await
}

fn event_count(t: &TestApp) -> usize {
    t.events().len()
}

#[tokio::test]
async fn the_callback_api_refuses_bad_calls_and_changes_nothing() {
    let t = desk_app().await;
    let code = report(&t, 8001, "Có người bán ma túy trong ngõ 5").await;
    let before = event_count(&t);
    let ack = r#"{"type":"acknowledge"}"#;
    for (token, body, want) in [
        (None, ack, 401),
        (Some("wrong-token-wrong-token-wrong-token!"), ack, 401),
        (Some(TRIAGE_TOKEN), "this is not json", 400),
        (Some(TRIAGE_TOKEN), r#"{"type":"explode"}"#, 422),
        (Some(TRIAGE_TOKEN), r#"{"type":"close"}"#, 422),
        (
            Some(TRIAGE_TOKEN),
            r#"{"type":"close","disposition":"burn"}"#,
            422,
        ),
        (Some(TRIAGE_TOKEN), r#"{"type":"ask"}"#, 422),
        (Some(TRIAGE_TOKEN), r#"{"type":"note","text":"   "}"#, 422),
        (Some(TRIAGE_TOKEN), r#"{"kind":"acknowledge"}"#, 422),
        (
            Some(TRIAGE_TOKEN),
            r#"{"type":"acknowledge","extra":1}"#,
            422,
        ),
        (Some(TRIAGE_TOKEN), r#"[1,2]"#, 422),
    ] {
        let (status, json) = call_api(&t, &code, token, body).await;
        assert_eq!(status, want, "{body}: {json}");
        assert!(json["error"].is_string(), "{body}: a JSON error: {json}");
    }
    let long = format!(r#"{{"type":"ask","text":"{}"}}"#, "a".repeat(1001));
    assert_eq!(call_api(&t, &code, Some(TRIAGE_TOKEN), &long).await.0, 422);
    for unknown in ["TB-0000-0000", "nonsense"] {
        let (status, json) = call_api(&t, unknown, Some(TRIAGE_TOKEN), ack).await;
        assert_eq!(status, 404, "{unknown}: {json}");
    }
    assert_eq!(event_count(&t), before, "nothing was appended");
    assert_eq!(t.tip(&code)["status"], "submitted");
}

#[tokio::test]
async fn the_callback_api_acts_as_an_officer_would() {
    let t = desk_app().await;
    let mut citizen = t.citizen(8002);
    let code = report(&t, 8002, "Có người bán ma túy trong ngõ 7").await;
    t.fake
        .wait_until("the card", |calls| {
            calls
                .iter()
                .any(|c| c.method == "sendmessage" && c.chat_id() == Some(GROUP))
        })
        .await;
    citizen.new_messages();

    let (status, json) = call_api(
        &t,
        &code,
        Some(TRIAGE_TOKEN),
        r#"{"type":"acknowledge","officer":"Đại úy Hà"}"#,
    )
    .await;
    assert_eq!(
        (status, json["status"].as_str()),
        (200, Some("acknowledged")),
        "{json}"
    );
    assert_eq!(json["seq"], 2);
    t.fake
        .wait_until("the card redrawn and the citizen told", |calls| {
            calls
                .iter()
                .any(|c| c.method == "editmessagetext" && c.text().contains("Đại úy Hà"))
                && calls.iter().any(|c| {
                    c.chat_id() == Some(8002) && c.text().contains("đã được cán bộ tiếp nhận")
                })
        })
        .await;

    // A question, sent twice with one idempotency key, reaches the citizen once.
    let ask = r#"{"type":"ask","text":"Người bán thường đến lúc mấy giờ?"}"#;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let resp = t
            .http
            .post(format!("{}/api/v1/tips/{code}/events", t.base_url()))
            .bearer_auth(TRIAGE_TOKEN)
            .header("Idempotency-Key", "question-1")
            .body(ask)
            .send()
            .await
            .unwrap();
        answers.push((resp.status().as_u16(), resp.json::<Value>().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 200);
    t.fake
        .wait_until("the question", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(8002) && c.text().contains("lúc mấy giờ"))
        })
        .await;
    t.settle().await;
    let questions = t
        .events()
        .iter()
        .filter(|e| e["type"] == "info_requested")
        .count();
    assert_eq!(questions, 1);

    // The citizen's answer comes back under the card, as for an officer's question.
    citizen.says("Khoảng 9 giờ tối").await;
    t.fake
        .wait_until("the answer under the card", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(GROUP) && c.text().contains("Khoảng 9 giờ tối"))
        })
        .await;

    let (status, _) = call_api(
        &t,
        &code,
        Some(TRIAGE_TOKEN),
        r#"{"type":"note","text":"Đã giao tổ trinh sát số 2"}"#,
    )
    .await;
    assert_eq!(status, 200);
    t.fake
        .wait_until("the note under the card", |calls| {
            calls.iter().any(|c| {
                c.chat_id() == Some(GROUP) && c.text().contains("Đã giao tổ trinh sát số 2")
            })
        })
        .await;

    let close = r#"{"type":"close","disposition":"handled"}"#;
    let (status, json) = call_api(&t, &code, Some(TRIAGE_TOKEN), close).await;
    assert_eq!(
        (status, json["status"].as_str()),
        (200, Some("closed")),
        "{json}"
    );
    let (status, json) = call_api(&t, &code, Some(TRIAGE_TOKEN), close).await;
    assert_eq!(
        (status, json["status"].as_str()),
        (409, Some("closed")),
        "{json}"
    );
    assert_eq!(t.tip(&code)["status"], "closed");

    // Audited like an officer's buttons.
    let audit: ::redis::streams::StreamRangeReply = ::redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    let actions: Vec<(String, String)> = audit
        .ids
        .iter()
        .map(|id| {
            (
                id.get::<String>("actor").unwrap_or_default(),
                id.get::<String>("action").unwrap_or_default(),
            )
        })
        .collect();
    for want in ["acknowledged", "info_requested", "noted", "closed"] {
        assert!(
            actions.iter().any(|(a, x)| a == "triage" && x == want),
            "{want} missing from {actions:?}"
        );
    }
    let key = crate::support::AUDIT_KEY.as_bytes();
    let audit_ok = tipline::audit::verify(&t.app().shared.store, key, None)
        .await
        .unwrap();
    assert!(audit_ok.is_ok());
}

#[tokio::test]
async fn evidence_links_stream_the_file_and_refuse_bad_or_expired_ones() {
    let triage = FakeTriage::start().await;
    let t = forwarding_app(&triage, |_| {}).await;
    let code = report(&t, 8003, "Ảnh chụp nơi cất giấu ma túy").await;
    triage.wait_delivered(1).await;
    let url = triage.delivered()[0].json["tip"]["evidence"][0]["url"]
        .as_str()
        .unwrap()
        .replace(PUBLIC_URL, &t.base_url());

    // A real photo with EXIF GPS: served from the platform, without its metadata.
    t.fake
        .serve_file("AgAD-8003", crate::support::fake_zalo::PHOTO_WITH_GPS);
    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let body = resp.bytes().await.unwrap();
    assert!(body.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
    assert!(!body.windows(4).any(|w| w == b"Exif"), "without its EXIF");
    assert!(t.fake.calls_of("getFile").len() == 1);

    let get = |u: String| {
        let http = t.http.clone();
        async move { http.get(u).send().await.unwrap().status().as_u16() }
    };
    let mut bad_sig = url.clone();
    let last = bad_sig.pop().unwrap();
    bad_sig.push(if last == '0' { '1' } else { '0' });
    assert_eq!(get(bad_sig).await, 403);
    assert_eq!(
        get(url.replace(&format!("{code}/0"), &format!("{code}/1"))).await,
        403
    );
    assert_eq!(
        get(url.split("&sig=").next().unwrap().to_owned()).await,
        403
    );
    let later_exp = url.replace("exp=", "exp=9");
    assert_eq!(
        get(later_exp).await,
        403,
        "a longer life is a different link"
    );

    t.clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(get(url).await, 410);
    assert_eq!(
        t.fake.calls_of("getFile").len(),
        1,
        "refused links fetch nothing"
    );
}

#[tokio::test]
async fn metrics_count_deliveries_retries_and_dead_letters() {
    let triage = FakeTriage::start().await;
    triage.fail_next(&[Reply::Status(502), Reply::Status(422)]);
    let t = forwarding_app(&triage, |_| {}).await;
    let code = report(&t, 8004, "Nhóm người lạ mặt bán ma túy ở bến xe").await;
    triage
        .wait_until("the refusal", |r| r.iter().any(|r| r.status == 422))
        .await;
    let (status, _) = call_api(&t, &code, Some(TRIAGE_TOKEN), r#"{"type":"acknowledge"}"#).await;
    assert_eq!(status, 200);
    triage.wait_delivered(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = t
        .http
        .get(format!("{}/metrics", t.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "tipline_forward_delivered_total 1",
        "tipline_forward_retried_total 1",
        "tipline_forward_dead_lettered_total 1",
        "tipline_queue_backlog{group=\"forward\",state=\"pending\"} 0",
        "tipline_callbacks_total{status=\"200\"} 1",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

fn schema(name: &str) -> Value {
    let path = format!("{}/docs/schema/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

/// `schema` with its root replaced by one of its `$defs` (keeping the `$defs` for references).
fn sub_schema(schema: &Value, def: &str) -> Value {
    let mut sub = schema["$defs"][def].clone();
    sub["$defs"] = schema["$defs"].clone();
    sub["$schema"] = schema["$schema"].clone();
    sub
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the schema: {errors:?}\n{instance:#}"
    );
}

#[tokio::test]
async fn every_payload_and_callback_matches_the_published_schemas() {
    let triage = FakeTriage::start().await;
    let t = forwarding_app(&triage, |s| {
        s.desk.enabled = true;
        s.desk.default_group = GROUP;
        s.rules.hotspots.count = 2;
    })
    .await;
    let events = validator(&schema("triage-event.v1.json"));
    let callback_schema = schema("triage-callback.v1.json");
    let calls = validator(&callback_schema);
    let responses = validator(&sub_schema(&callback_schema, "response"));
    let errors = validator(&sub_schema(&callback_schema, "error"));

    // Two tips of one citizen in one commune, the second a near-duplicate, then another
    // citizen's there (a hotspot: two citizens), and a tip with a typed place.
    let first = report(
        &t,
        8101,
        "Có người bán ma túy ở quán nước đầu xóm, tối nào cũng có",
    )
    .await;
    let second = report(
        &t,
        8101,
        "Co nguoi ban ma tuy o quan nuoc dau xom, toi nao cung co!",
    )
    .await;
    report(&t, 8103, "Người lạ giao hàng cấm ở bến đò lúc nửa đêm").await;
    let mut c = t.citizen(8102);
    c.says("/report").await;
    c.presses("cat:fraud").await;
    c.says("Chợ Cao Phong, cổng phía đông").await;
    c.presses("pl:unknown").await;
    c.says("Nhắn tin giả danh ngân hàng đòi mã OTP").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let third = receipt_code(&c.presses("rv:send").await).unwrap();

    let mut bodies = vec![
        (
            first.as_str(),
            r#"{"type":"acknowledge","officer":"Đại úy Hà"}"#,
        ),
        (first.as_str(), r#"{"type":"claim"}"#),
        (
            first.as_str(),
            r#"{"type":"ask","text":"Quán nước tên gì?"}"#,
        ),
        (
            first.as_str(),
            r#"{"type":"note","text":"Đã giao tổ trinh sát"}"#,
        ),
        (
            second.as_str(),
            r#"{"type":"close","disposition":"duplicate"}"#,
        ),
        (
            third.as_str(),
            r#"{"type":"close","disposition":"transferred","officer":"Trung úy Lan"}"#,
        ),
    ];
    for (code, body) in bodies.drain(..) {
        let call: Value = serde_json::from_str(body).unwrap();
        assert_valid(&calls, &call, body);
        let (status, answer) = call_api(&t, code, Some(TRIAGE_TOKEN), body).await;
        assert_eq!(status, 200, "{body}: {answer}");
        assert_valid(&responses, &answer, "a 200 answer");
    }
    // The citizen answers the question.
    t.fake
        .wait_until("the question", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(8101) && c.text().contains("Quán nước tên gì?"))
        })
        .await;
    t.citizen(8101).says("Quán Bà Tư").await;
    for (code, body) in [
        (first.as_str(), r#"{"type":"explode"}"#),
        ("TB-0000-0000", r#"{"type":"acknowledge"}"#),
        (second.as_str(), r#"{"type":"close","disposition":"spam"}"#),
    ] {
        let (status, answer) = call_api(&t, code, Some(TRIAGE_TOKEN), body).await;
        assert!(status >= 400, "{body}");
        assert_valid(&errors, &answer, &format!("the {status} answer"));
    }

    // submitted ×4, hotspot, acknowledged, claimed, info_requested, noted, citizen_replied,
    // closed ×2.
    triage.wait_delivered(12).await;
    let delivered = triage.delivered();
    let mut kinds: Vec<&str> = delivered
        .iter()
        .map(|r| r.json["type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "acknowledged",
            "citizen_replied",
            "claimed",
            "closed",
            "closed",
            "hotspot",
            "info_requested",
            "noted",
            "submitted",
            "submitted",
            "submitted",
            "submitted"
        ]
    );
    for r in &delivered {
        assert_valid(&events, &r.json, &format!("{} {}", r.key, r.json["type"]));
    }
    let dup = delivered
        .iter()
        .find(|r| r.json["type"] == "submitted" && r.code() == second)
        .unwrap();
    assert_eq!(dup.json["tip"]["duplicate_of"], first.as_str());
    // A body that breaks the contract is caught (the check can fail).
    let mut broken = delivered[0].json.clone();
    broken["surprise"] = Value::Bool(true);
    assert!(!events.is_valid(&broken));
}

#[tokio::test]
async fn the_documented_python_recipe_verifies_a_real_signature() {
    let Ok(out) = std::process::Command::new("python3")
        .arg("--version")
        .output()
    else {
        eprintln!("python3 is not installed: the Rust recipe test above covers the signature");
        return;
    };
    assert!(out.status.success());
    let doc = std::fs::read_to_string(format!("{}/docs/triage-api.md", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let code = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a ```python block in docs/triage-api.md");

    let triage = FakeTriage::start().await;
    let t = forwarding_app(&triage, |_| {}).await;
    report(&t, 8201, "Có người bán ma túy ở bến xe, tối nào cũng thấy").await;
    triage.wait_delivered(1).await;
    let got = &triage.delivered()[0];

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body.bin"), &got.body).unwrap();
    let script = format!(
        "{code}\n\nimport sys\nbody = open(sys.argv[1], 'rb').read()\nsecret = sys.argv[2].encode()\nheader = sys.argv[3]\nprint(verify(secret, header, body), verify(secret, header, body + b' '), verify(b'wrong', header, body))\n"
    );
    std::fs::write(dir.path().join("check.py"), script).unwrap();
    let out = std::process::Command::new("python3")
        .arg(dir.path().join("check.py"))
        .arg(dir.path().join("body.bin"))
        .arg(TRIAGE_SECRET)
        .arg(&got.signature)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "True False False");
    drop(t);
}

#[tokio::test]
async fn every_event_on_the_stream_decodes_and_encodes_to_the_same_fields() {
    let triage = FakeTriage::start().await;
    let t = forwarding_app(&triage, |s| s.rules.hotspots.count = 2).await;
    // The submit commit writes `submitted` and `hotspot`, and `citizen_replied` below; the
    // transition script and the Rust writers the rest.
    let first = report(&t, 8301, "Có người bán ma túy ở quán nước đầu xóm").await;
    report(&t, 8302, "Tối nào cũng có người lạ đến mua hàng ở bến xe").await;
    for body in [
        r#"{"type":"acknowledge","officer":"Đại úy Hà"}"#,
        r#"{"type":"ask","text":"Quán nước tên gì?"}"#,
        r#"{"type":"note","text":"Đã giao tổ trinh sát"}"#,
    ] {
        let (status, answer) = call_api(&t, &first, Some(TRIAGE_TOKEN), body).await;
        assert_eq!(status, 200, "{body}: {answer}");
    }
    t.fake
        .wait_until("the question", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(8301) && c.text().contains("Quán nước tên gì?"))
        })
        .await;
    t.citizen(8301).says("Quán Bà Tư").await;
    let close = r#"{"type":"close","disposition":"handled"}"#;
    let (status, answer) = call_api(&t, &first, Some(TRIAGE_TOKEN), close).await;
    assert_eq!(status, 200, "{answer}");

    let mut kinds = Vec::new();
    for raw in t.events() {
        let event =
            tipline::events::TipEvent::decode(&raw).unwrap_or_else(|e| panic!("{e}: {raw:?}"));
        let encoded: std::collections::HashMap<String, String> = event
            .encode()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(encoded, raw, "{}", event.kind());
        kinds.push(event.kind());
    }
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "acknowledged",
            "citizen_replied",
            "closed",
            "hotspot",
            "info_requested",
            "noted",
            "submitted",
            "submitted"
        ]
    );
}

#[tokio::test]
async fn an_event_that_cannot_be_read_is_dead_lettered_and_never_sent() {
    let triage = FakeTriage::start().await;
    let t = forwarding_app(&triage, |_| {}).await;
    // No body of it could follow the schema: kept for a look, and a replay after an upgrade.
    let _: String = redis::cmd("XADD")
        .arg(format!("{}:events", t.ns()))
        .arg("*")
        .arg("type")
        .arg("reopened")
        .arg("code")
        .arg("TB-7K3Q-X9MD")
        .arg("seq")
        .arg("1")
        .query(&mut t.redis())
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while dlq_len(&t) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let letters = t.app().shared.store.dlq_list("forward", 10).await.unwrap();
    assert_eq!(
        letters[0].get("error"),
        r#"the event cannot be read: unknown event type "reopened""#
    );
    assert!(triage.received().is_empty());
}
