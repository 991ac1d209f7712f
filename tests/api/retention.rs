//! Retention (issue 14): with the app clock moved past the retention period, a closed tip
//! loses its content, evidence, contact and route and keeps its statistics; the triage
//! service is told (`purged`); the audit trail records it; a younger tip is untouched; a dry
//! run changes nothing; two instances purge a tip once; events the forwarder has not
//! delivered yet are not trimmed away.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tipline::app::{App, Options};
use tipline::config::ReceiveMode;
use tipline::export::week::Range;

use crate::support::{
    FakeTriage, Reply, TRIAGE_TOKEN, TestApp, receipt_code, secrets, spawn_app_with, texts,
};

const DUTY_GROUP: i64 = -1_001_000_000_014;
const DAY: Duration = Duration::from_secs(86_400);
/// What the first citizen wrote, their phone and their photo: none may survive the purge.
const SECRET_TEXT: &str = "Kho hàng lậu số 77 sau nhà ông Tư Sáu";
const PHONE: &str = "+84987650014";
const PHOTO: &str = "AgAD-RETENTION-77";
const NOTE: &str = "Ghi chú mật của tổ trinh sát 5521";

async fn app(triage: &FakeTriage, tweak: impl FnOnce(&mut tipline::config::Settings)) -> TestApp {
    let url = triage.url();
    spawn_app_with(ReceiveMode::Polling, move |s| {
        s.triage.enabled = true;
        s.triage.url = url;
        s.triage.backoff_initial_ms = 20;
        s.triage.reclaim_after_secs = 1;
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.rules.hotspots.enabled = false;
        tweak(s);
    })
    .await
}

/// A whole report by citizen `id`: a photo and their own phone number.
async fn report(t: &TestApp, id: i64, text: &str, photo: &str, phone: &str) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says(text).await;
    c.presses("go:next").await;
    c.sends_photo(photo, 52_000, None).await;
    c.presses("go:next").await;
    c.shares_contact(phone, true).await;
    receipt_code(&c.presses("rv:send").await).expect("a receipt")
}

async fn call_api(t: &TestApp, code: &str, body: &str) {
    let status = t
        .http
        .post(format!("{}/api/v1/tips/{code}/events", t.base_url()))
        .header("content-type", "application/json")
        .bearer_auth(TRIAGE_TOKEN)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200, "{body}");
}

/// Notes and closes a tip through the callback API.
async fn close(t: &TestApp, code: &str) {
    call_api(t, code, &format!(r#"{{"type":"note","text":"{NOTE}"}}"#)).await;
    call_api(t, code, r#"{"type":"close","disposition":"handled"}"#).await;
}

fn hash(t: &TestApp, code: &str) -> HashMap<String, String> {
    ::redis::cmd("HGETALL")
        .arg(format!("{}:tip:{code}", t.ns()))
        .query(&mut t.redis())
        .unwrap()
}

fn keys(t: &TestApp, pattern: &str) -> Vec<String> {
    let mut k: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{}:{pattern}", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    k.sort();
    k
}

/// The audit records of `action`, as (actor, code).
fn audited(t: &TestApp, action: &str) -> Vec<(String, String)> {
    let reply: ::redis::streams::StreamRangeReply = ::redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    reply
        .ids
        .iter()
        .filter(|e| e.get::<String>("action").as_deref() == Some(action))
        .map(|e| {
            (
                e.get::<String>("actor").unwrap_or_default(),
                e.get::<String>("code").unwrap_or_default(),
            )
        })
        .collect()
}

/// The `type`s the triage service took for `code`, in order.
fn delivered_kinds(triage: &FakeTriage, code: &str) -> Vec<String> {
    triage
        .delivered()
        .iter()
        .filter(|r| r.code() == code)
        .map(|r| r.json["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The JSON Lines export of the days around `at_ms`.
async fn export_rows(t: &TestApp, at_ms: i64) -> Vec<Value> {
    let range = Range {
        from_ms: at_ms - DAY.as_millis() as i64,
        to_ms: at_ms + DAY.as_millis() as i64,
        label: "around".into(),
    };
    let mut out = Vec::new();
    {
        use tipline::export::{Format, Output, Writer};
        let mut w =
            Writer::new(Format::Jsonl, Output::stream(&mut out), &t.settings.export).unwrap();
        tipline::export::source::export(
            t.app().shared.export_reads(),
            &range,
            &Default::default(),
            &mut [&mut w],
            None,
            "admin:test",
        )
        .await
        .unwrap();
        w.finish().unwrap();
    }
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_closed_tip_past_retention_loses_its_content_and_keeps_its_statistics() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |_| {}).await;
    let received = t.clock.now_ms();
    let old = report(&t, 14_001, SECRET_TEXT, PHOTO, PHONE).await;
    close(&t, &old).await;
    let young = report(
        &t,
        14_002,
        "Đánh bạc ở quán nước đầu ngõ",
        "AgAD-Y",
        "+84911110002",
    )
    .await;
    t.process_until_idle().await;
    assert_eq!(keys(&t, "route:*").len(), 2, "one route per citizen");
    assert!(
        !t.redis_keys_holding(SECRET_TEXT).is_empty(),
        "stored before"
    );
    assert!(!t.redis_keys_holding(PHOTO).is_empty(), "stored before");

    // A file's sealed fingerprint, as the desk keeps it for a document it cleaned.
    let _: () = redis::cmd("HSET")
        .arg(format!("{}:evidence:{old}", t.ns()))
        .arg("sha:0")
        .arg("sealed-fingerprint")
        .query(&mut t.redis())
        .unwrap();

    // 89 days after closing: nothing yet.
    t.clock.advance(DAY * 89);
    t.fire_timers().await;
    assert!(!hash(&t, &old).contains_key("purged"));

    t.clock.advance(DAY * 2);
    t.fire_timers().await;
    let stone = hash(&t, &old);
    assert!(stone.contains_key("purged"), "{stone:?}");
    assert_eq!(stone["status"], "closed");
    assert_eq!(stone["disposition"], "handled");
    for needle in [SECRET_TEXT, PHOTO, NOTE, "987650014", "987 650 014"] {
        assert_eq!(
            t.redis_keys_holding(needle),
            Vec::<String>::new(),
            "{needle} is still in Redis"
        );
    }
    let json: Value = serde_json::from_str(&stone["json"]).unwrap();
    assert_eq!(json["contact_sealed"], Value::Null);
    assert_eq!(json["alias"], "");
    assert_eq!(json["evidence"], serde_json::json!([]));
    assert_eq!(json["category"], "drugs");
    assert_eq!(json["commune"], "thung-nai");
    assert_eq!(
        keys(&t, "route:*").len(),
        1,
        "the first citizen's route went"
    );
    assert_eq!(keys(&t, &format!("card:{old}")), Vec::<String>::new());
    assert_eq!(
        keys(&t, &format!("evidence:{old}")),
        Vec::<String>::new(),
        "the files' fingerprints went"
    );
    assert!(
        !keys(&t, "cardmsg:*").is_empty(),
        "the younger tip's card link stays"
    );

    // The younger tip is untouched.
    assert!(!hash(&t, &young).contains_key("purged"));
    assert!(
        hash(&t, &young)["json"].contains("Đánh bạc ở quán nước"),
        "the open tip keeps its content"
    );

    // The triage service was told, after everything else of the tip.
    assert_eq!(
        delivered_kinds(&triage, &old),
        ["submitted", "noted", "closed", "purged"]
    );
    let purged = triage
        .delivered()
        .into_iter()
        .find(|r| r.code() == old && r.json["type"] == "purged")
        .unwrap();
    assert_eq!(purged.json["data"]["status"], "purged");
    assert_eq!(purged.json["actor"]["kind"], "system");
    let path = format!(
        "{}/docs/schema/triage-event.v1.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&purged.json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{:#}", purged.json);

    // Audited, and the chain still verifies.
    assert_eq!(
        audited(&t, "purged"),
        [("system:retention".to_owned(), old.clone())]
    );
    assert!(
        tipline::audit::verify(
            &t.app().shared.store,
            crate::support::AUDIT_KEY.as_bytes(),
            None,
        )
        .await
        .unwrap()
        .is_ok()
    );

    // Exports and statistics still count it, and say it was purged.
    let rows = export_rows(&t, received).await;
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(codes.contains(&old.as_str()) && codes.contains(&young.as_str()));
    let row = rows.iter().find(|r| r["code"] == old.as_str()).unwrap();
    assert_eq!(row["description"], tipline::export::PURGED_DESCRIPTION);
    assert_eq!(row["category"], "drugs");
    assert_eq!(row["disposition"], "handled");

    // Counted on /metrics (by whichever run of this process purged it).
    let metrics = t.scrape_metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "tipline_retention_purged_total 1"),
        "{metrics}"
    );

    // The citizen asking about it is told it was closed and its details deleted.
    let mut c = t.citizen(14_001);
    let said = texts(&c.says(&format!("/status {old}")).await);
    assert!(
        said.contains("nội dung tin báo đã được xoá sau thời hạn lưu giữ"),
        "{said}"
    );
}

#[tokio::test]
async fn an_open_tip_is_purged_after_its_own_longer_period() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |_| {}).await;
    let code = report(&t, 14_011, SECRET_TEXT, PHOTO, PHONE).await;
    t.process_until_idle().await;
    t.clock.advance(DAY * 364);
    t.fire_timers().await;
    assert!(
        !hash(&t, &code).contains_key("purged"),
        "an open tip waits a year"
    );
    assert!(!t.redis_keys_holding(SECRET_TEXT).is_empty());
    t.clock.advance(DAY * 2);
    t.fire_timers().await;
    assert_eq!(hash(&t, &code)["status"], "submitted");
    assert!(hash(&t, &code).contains_key("purged"));
    assert_eq!(t.redis_keys_holding(SECRET_TEXT), Vec::<String>::new());
    // (Nobody acknowledged it: the SLA timer escalated it on the way.)
    let kinds = delivered_kinds(&triage, &code);
    assert_eq!(kinds.first().map(String::as_str), Some("submitted"));
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("purged"),
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| *k == "purged").count(), 1);

    // The tombstone is final: the triage service can no longer close it (409, nothing appended).
    let seq = hash(&t, &code)["seq"].clone();
    let status = t
        .http
        .post(format!("{}/api/v1/tips/{code}/events", t.base_url()))
        .bearer_auth(TRIAGE_TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"type":"close","disposition":"handled"}"#)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 409);
    assert_eq!(hash(&t, &code)["seq"], seq);
    assert_eq!(hash(&t, &code)["status"], "submitted");
}

/// Runs `tipline purge <args>` against the test's Redis: (success, stdout).
async fn purge_cli(t: &TestApp, args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config", "config/tipline.toml", "purge"])
        .args(args)
        .env("TIPLINE__REDIS__URL", t.redis.url())
        .env("TIPLINE__TELEGRAM__API_URL", t.fake.url())
        .env("TIPLINE_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
        .env("TIPLINE_ALIAS_KEY", "test-alias-key-test-alias-key-test")
        .env("TIPLINE_ROUTE_KEY", "11".repeat(32))
        .env("USER", "ops")
        .env("RUST_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || !stderr.is_empty());
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Every key with its `DUMP`, to compare Redis before and after.
fn snapshot(t: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut c = t.redis();
    let mut keys: Vec<String> = ::redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let d: Vec<u8> = ::redis::cmd("DUMP").arg(&k).query(&mut c).unwrap();
            (k, d)
        })
        .collect()
}

#[tokio::test]
async fn tipline_purge_dry_run_lists_the_due_tip_and_changes_nothing_then_purges_it() {
    let triage = FakeTriage::start().await;
    // The command runs on the real clock: the tip is made 100 days ago by the app's clock,
    // and nothing purges in the background.
    let mut t = app(&triage, |s| s.retention.enabled = false).await;
    let now = t.clock.now_ms();
    t.clock.jump_to(now - 100 * DAY.as_millis() as i64);
    let code = report(&t, 14_021, SECRET_TEXT, PHOTO, PHONE).await;
    close(&t, &code).await;
    t.process_until_idle().await;
    t.clock.jump_to(now);
    t.process_until_idle().await;
    // Only the command touches Redis from here.
    t.stop().await;

    let before = snapshot(&t);
    let (ok, out) = purge_cli(&t, &["--dry-run"]).await;
    assert!(ok, "{out}");
    assert!(out.contains(&code), "{out}");
    assert!(
        out.contains("1 tip(s) past retention would be purged"),
        "{out}"
    );
    assert_eq!(snapshot(&t), before, "a dry run changes nothing");

    let (ok, out) = purge_cli(&t, &[]).await;
    assert!(ok, "{out}");
    assert!(out.contains("1 tip(s) purged of 1 due"), "{out}");
    assert!(hash(&t, &code).contains_key("purged"));
    assert_eq!(t.redis_keys_holding(SECRET_TEXT), Vec::<String>::new());
    assert_eq!(
        audited(&t, "purged"),
        [("cli:ops".to_owned(), code.clone())]
    );
}

#[tokio::test]
async fn two_instances_on_one_redis_purge_each_tip_exactly_once() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |_| {}).await;
    let mut codes = Vec::new();
    for id in 0..3 {
        let code = report(
            &t,
            14_030 + id,
            &format!("Tin báo số {id} về điểm bán ma túy"),
            &format!("AgAD-TWO-{id}"),
            &format!("+8491234{id:04}"),
        )
        .await;
        close(&t, &code).await;
        codes.push(code);
    }
    t.process_until_idle().await;
    let mut second_settings = t.settings.clone();
    second_settings.app.instance = "second".into();
    second_settings.telegram.mode = ReceiveMode::Webhook;
    let second = App::start(
        second_settings.clone(),
        secrets(&second_settings),
        Options {
            clock: t.clock.clone(),
            sweep_every: Duration::from_millis(20),
            code_seed: None,
        },
    )
    .await
    .unwrap();

    // Both schedules tick as the clock moves, and both run the purge by hand as well.
    t.clock.advance(DAY * 91);
    let (a, b) = tokio::join!(
        tipline::retention::run_once(
            &t.app().shared,
            tipline::retention::Mode::Purge,
            "system:retention"
        ),
        tipline::retention::run_once(
            &second.shared,
            tipline::retention::Mode::Purge,
            "system:retention"
        ),
    );
    assert!(a.unwrap().purged + b.unwrap().purged <= 3);
    t.fire_timers().await;

    for code in &codes {
        assert!(hash(&t, code).contains_key("purged"));
        assert_eq!(
            delivered_kinds(&triage, code)
                .iter()
                .filter(|k| *k == "purged")
                .count(),
            1,
            "{code}: one purged event"
        );
    }
    let mut purged: Vec<String> = audited(&t, "purged").into_iter().map(|(_, c)| c).collect();
    purged.sort();
    let mut expected = codes.clone();
    expected.sort();
    assert_eq!(purged, expected, "one audit record per tip");
    second.stop().await.expect("no role failed");
}

#[tokio::test]
async fn a_purge_does_not_trim_events_the_forwarder_has_not_delivered() {
    let triage = FakeTriage::start().await;
    triage.set_default(Some(Reply::Status(503)));
    let t = app(&triage, |s| {
        s.triage.max_attempts = 1000;
        s.triage.backoff_initial_ms = 1000;
        s.triage.backoff_max_secs = 3600;
    })
    .await;
    let code = report(&t, 14_041, SECRET_TEXT, PHOTO, PHONE).await;
    close(&t, &code).await;
    triage
        .wait_until("a first attempt", |r| r.iter().any(|r| r.code() == code))
        .await;

    t.clock.advance(DAY * 91);
    let report = tipline::retention::run_once(
        &t.app().shared,
        tipline::retention::Mode::Purge,
        "system:retention",
    )
    .await
    .unwrap();
    assert!(report.purged <= 1);
    assert!(hash(&t, &code).contains_key("purged"));
    let kinds: Vec<String> = t
        .events()
        .iter()
        .filter(|e| e["code"] == code)
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        ["submitted", "noted", "closed", "purged"],
        "nothing the forwarder still owes was trimmed"
    );

    // The service comes back: every event arrives, in order, the purge last.
    triage.set_default(None);
    t.clock.advance(Duration::from_secs(3600));
    triage
        .wait_until("the purge delivered", |r| {
            r.iter()
                .any(|r| r.code() == code && r.json["type"] == "purged" && r.status == 200)
        })
        .await;
    assert_eq!(
        delivered_kinds(&triage, &code),
        ["submitted", "noted", "closed", "purged"]
    );
    // Once delivered everywhere, the next run trims them.
    t.process_until_idle().await;
    let report = tipline::retention::run_once(
        &t.app().shared,
        tipline::retention::Mode::Purge,
        "system:retention",
    )
    .await
    .unwrap();
    assert!(report.due.is_empty(), "{report:?}");
    assert!(
        t.events()
            .iter()
            .all(|e| e["code"] != code || e["type"] == "purged")
    );
}

fn dead_letters(t: &TestApp) -> u64 {
    ::redis::cmd("XLEN")
        .arg(format!("{}:dlq:forward", t.ns()))
        .query(&mut t.redis())
        .unwrap()
}

#[tokio::test]
async fn a_dead_letter_is_kept_its_own_days_then_trimmed() {
    let triage = FakeTriage::start().await;
    // The service refuses the tip for good: its `submitted` event is dead-lettered at once.
    triage.fail_next(&[Reply::Status(400)]);
    let t = app(&triage, |_| {}).await;
    report(&t, 14_051, SECRET_TEXT, PHOTO, PHONE).await;
    t.process_until_idle().await;
    assert_eq!(dead_letters(&t), 1);

    t.clock.advance(DAY * 29);
    t.fire_timers().await;
    assert_eq!(dead_letters(&t), 1, "kept retention.dead_letter_days (30)");
    t.clock.advance(DAY * 2);
    t.fire_timers().await;
    assert_eq!(dead_letters(&t), 0, "trimmed after 30 days");
}

#[tokio::test]
async fn a_citizen_who_never_reports_leaves_no_route_behind_and_one_who_does_keeps_it() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |_| {}).await;
    let ttl = |id: &str| -> i64 {
        let alias = t
            .app()
            .shared
            .vault
            .alias(tipline::privacy::Channel::Telegram, id);
        redis::cmd("TTL")
            .arg(format!("{}:route:{alias}", t.ns()))
            .query(&mut t.redis())
            .unwrap()
    };
    // Only looked: the route lives as long as the conversation, then goes with it.
    let mut c = t.citizen(14_101);
    c.says("/start").await;
    c.presses("cat:drugs").await;
    let left = ttl("14101");
    assert!(left > 0, "a route with no tip expires (TTL {left})");
    assert!(
        left as u64 <= t.settings.limits.draft_expire_after_secs + 86_400,
        "as long as the draft's conversation (TTL {left})"
    );
    // Reported: the route stays while the tip needs it (the purge removes it).
    report(
        &t,
        14_102,
        "Có người bán ma túy",
        "AgAD-ROUTE",
        "+84987650102",
    )
    .await;
    assert_eq!(ttl("14102"), -1, "kept with the tip");
    let mut again = t.citizen(14_102);
    again.says("/status").await;
    assert_eq!(ttl("14102"), -1, "still kept after another message");
}
