//! Hostile input over HTTP (issue 13): generated bodies, headers, signatures, codes and query
//! strings sent to the webhooks, the triage callback API and the evidence links of a running
//! tipline. Every call gets a clear 4xx (a JSON `error` where tipline answers) and leaves Redis
//! exactly as it was; nothing is ever a 5xx or a panic; afterwards the line still answers a
//! citizen. The generators are proptest's, run with a fixed seed so a failure repeats.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use tipline::config::ReceiveMode;
use tipline_testkit::fake_zalo::FakeZalo;

use crate::support::{
    TRIAGE_TOKEN, TestApp, WEBHOOK_SECRET, ZALO_SECRET, receipt_code, spawn_app_with,
};

/// Generated cases per kind of call.
const CASES: usize = 120;

async fn app(zalo: &FakeZalo, mode: ReceiveMode) -> TestApp {
    let url = zalo.url();
    let t = spawn_app_with(mode, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = mode;
        s.zalo.poll_timeout_secs = 1;
    })
    .await;
    // The workers have read once (their consumers exist) before anything is compared.
    t.process_until_idle().await;
    t
}

/// Every key of the app's namespace with its serialised value (`DUMP`): equal snapshots mean
/// nothing was written.
fn snapshot(t: &TestApp) -> BTreeMap<String, Vec<u8>> {
    let mut r = t.redis();
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{}*", t.ns()))
        .query(&mut r)
        .unwrap();
    keys.into_iter()
        .filter_map(|k| {
            let kind: String = ::redis::cmd("TYPE").arg(&k).query(&mut r).ok()?;
            // A stream by its entries: its consumer groups' bookkeeping moves as workers poll.
            let v: Option<Vec<u8>> = if kind == "stream" {
                let entries: ::redis::Value = ::redis::cmd("XRANGE")
                    .arg(&k)
                    .arg("-")
                    .arg("+")
                    .query(&mut r)
                    .ok()?;
                Some(format!("{entries:?}").into_bytes())
            } else {
                ::redis::cmd("DUMP").arg(&k).query(&mut r).ok()?
            };
            Some((k, v?))
        })
        .collect()
}

/// Samples `n` values of `strategy` with a fixed seed.
fn samples<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just("\u{202E}\u{0000}\u{FEFF}".into()),
        Just("e\u{0302}\u{0301}".repeat(3_000)),
        Just("😀".repeat(3_000)),
        (1usize..100_000).prop_map(|n| "a".repeat(n)),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        odd_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::hash_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies that are no update: bytes (often not UTF-8), JSON of any shape but an update's,
/// nesting deeper than any parser recurses.
fn not_an_update() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..3_000),
        any_json()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(|v| v.to_string().into_bytes()),
        (1usize..50_000).prop_map(|n| "[".repeat(n).into_bytes()),
        Just(br#"{"update_id": "one"}"#.to_vec()),
        Just(br#"{"event_name": 5, "message": []}"#.to_vec()),
    ]
}

/// A header value from anyone: printable, control bytes, obs-text bytes, huge.
fn any_header() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[ -~]{0,80}".prop_map(String::into_bytes),
        proptest::collection::vec(0x80u8..=0xff, 1..40),
        Just(WEBHOOK_SECRET.to_uppercase().into_bytes()),
        Just(format!("{ZALO_SECRET} x").into_bytes()),
        (1usize..6_000).prop_map(|n| vec![b'a'; n]),
    ]
}

async fn post(t: &TestApp, path: &str, headers: &[(&str, &[u8])], body: Vec<u8>) -> (u16, String) {
    let mut req = t
        .http
        .post(format!("{}{path}", t.base_url()))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value) {
            req = req.header(*name, v);
        }
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// The line still works: a citizen gets the conversation's answer.
async fn still_answers(t: &TestApp) {
    let mut update = t.citizen(7_777).text_update("/start");
    if t.settings.telegram.mode == ReceiveMode::Webhook {
        update["update_id"] = json!(900_001);
        let status = t
            .post_webhook(Some(WEBHOOK_SECRET), update.to_string())
            .await;
        assert_eq!(status, 200);
    } else {
        t.fake.push_update(update);
    }
    t.fake
        .wait_until("the welcome", |_| !t.fake.messages_to(7_777).is_empty())
        .await;
}

#[tokio::test]
async fn webhook_calls_with_a_wrong_secret_or_a_body_that_is_no_update_get_a_4xx_and_store_nothing()
{
    let z = FakeZalo::start().await;
    let t = app(&z, ReceiveMode::Webhook).await;
    let before = snapshot(&t);
    let routes = [
        (
            t.settings.telegram.webhook_path.clone(),
            "x-telegram-bot-api-secret-token",
            WEBHOOK_SECRET,
            401,
        ),
        (
            t.settings.zalo.webhook_path.clone(),
            "x-bot-api-secret-token",
            ZALO_SECRET,
            403,
        ),
    ];
    let valid_tg = t
        .citizen(7_001)
        .text_update("Có người bán ma túy")
        .to_string();
    let valid_zalo = json!({"ok": true, "result": z.text_update("z1", "Xin chào")}).to_string();
    for (i, secret) in samples(any_header(), CASES).into_iter().enumerate() {
        for ((path, header, _, refused), body) in routes.iter().zip([&valid_tg, &valid_zalo]) {
            // A valid update with a made-up secret: refused.
            let (status, text) = post(
                &t,
                path,
                &[(header, secret.as_slice())],
                body.clone().into_bytes(),
            )
            .await;
            assert_eq!(status, *refused, "case {i}: {text}");
            assert!(text.contains("\"error\""), "case {i}: {text}");
        }
    }
    for (i, body) in samples(not_an_update(), CASES).into_iter().enumerate() {
        for (path, header, secret, _) in &routes {
            // The right secret and a body that is no update: 400, saying why.
            let (status, text) = post(&t, path, &[(header, secret.as_bytes())], body.clone()).await;
            assert_eq!(status, 400, "case {i}: {text}");
            assert!(text.contains("\"error\""), "case {i}: {text}");
        }
    }
    let (status, _) = post(
        &t,
        &routes[0].0,
        &[(routes[0].1, WEBHOOK_SECRET.as_bytes())],
        vec![b' '; 2 * 1024 * 1024],
    )
    .await;
    assert_eq!(status, 413, "a body over the limit");
    t.process_until_idle().await;
    assert_eq!(snapshot(&t), before, "nothing was written");
    still_answers(&t).await;
}

#[tokio::test]
async fn callback_calls_with_a_made_up_token_code_or_body_get_a_4xx_and_change_nothing() {
    let z = FakeZalo::start().await;
    let t = app(&z, ReceiveMode::Polling).await;
    // A real tip, so that a call on its code with a bad body is refused for its body alone.
    let mut c = t.citizen(7_002);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.process_until_idle().await;
    let before = snapshot(&t);

    let kinds = prop_oneof![
        Just("acknowledge".to_owned()),
        Just("close".to_owned()),
        Just("ask".to_owned()),
        odd_string(),
    ];
    // Almost valid calls: the right fields with wrong values, or unknown fields.
    let almost = (kinds, any_json(), any_json(), any::<bool>()).prop_map(|(kind, a, b, extra)| {
        let mut v = json!({"type": kind, "disposition": a, "officer": b});
        // Never a valid call: a known type always comes with a field no call has.
        if extra || ["acknowledge", "close", "ask"].contains(&kind.as_str()) {
            v["unknown"] = json!(1);
        }
        v.to_string().into_bytes()
    });
    let bodies = samples(prop_oneof![not_an_update(), almost], CASES);
    let tokens = samples(any_header(), CASES);
    let codes = samples(
        prop_oneof![
            Just(code.clone()),
            Just("TB-0000-0000".to_owned()),
            "[A-Za-z0-9-]{0,40}".prop_map(|s| if s.is_empty() { "x".into() } else { s }),
            "\\PC{1,20}".prop_map(|s| urlencoding(&s)),
        ],
        CASES,
    );
    let path = |code: &str| format!("/api/v1/tips/{code}/events");
    for i in 0..CASES {
        // A made-up token: 401 whatever the rest.
        let mut bearer = b"Bearer ".to_vec();
        bearer.extend(&tokens[i]);
        let (status, text) = post(
            &t,
            &path(&codes[i]),
            &[("authorization", &bearer)],
            bodies[i].clone(),
        )
        .await;
        // (400: a code that is not UTF-8 once decoded, refused by the router before the token.)
        assert!([400, 401].contains(&status), "case {i}: {status} {text}");
        // The right token: the body or the code is refused, with a reason.
        let right = format!("Bearer {TRIAGE_TOKEN}");
        let (status, text) = post(
            &t,
            &path(&codes[i]),
            &[
                ("authorization", right.as_bytes()),
                ("idempotency-key", &tokens[i]),
            ],
            bodies[i].clone(),
        )
        .await;
        assert!(
            [400, 404, 422].contains(&status),
            "case {i}: {status} {text}"
        );
        assert!(!text.is_empty(), "case {i}: a reason");
    }
    t.process_until_idle().await;
    assert_eq!(snapshot(&t), before, "nothing was written");
    still_answers(&t).await;
}

#[tokio::test]
async fn made_up_evidence_links_are_refused_and_change_nothing() {
    let z = FakeZalo::start().await;
    let t = app(&z, ReceiveMode::Polling).await;
    let before = snapshot(&t);
    let queries = samples(
        (
            "[A-Za-z0-9-]{1,20}",
            prop_oneof![
                any::<u64>().prop_map(|n| n.to_string()),
                "[ -~]{0,12}".prop_map(|s| urlencoding(&s))
            ],
            prop_oneof![
                any::<i64>().prop_map(|n| n.to_string()),
                "[ -~]{0,12}".prop_map(|s| urlencoding(&s))
            ],
            prop_oneof!["[0-9a-f]{64}", "[ -~]{0,80}".prop_map(|s| urlencoding(&s))],
        ),
        CASES,
    );
    for (i, (code, index, exp, sig)) in queries.into_iter().enumerate() {
        let url = format!(
            "{}/api/v1/evidence/{code}/{index}?exp={exp}&sig={sig}",
            t.base_url()
        );
        let resp = t.http.get(&url).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            [400, 403, 404, 410].contains(&status),
            "case {i}: {status} {text}"
        );
        assert!(!text.is_empty(), "case {i}: a reason for {status} to {url}");
    }
    assert_eq!(snapshot(&t), before, "nothing was written");
}

/// Percent-encodes everything but unreserved characters.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
