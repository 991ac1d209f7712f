//! The audit trail against the actions it records: an officer's acknowledgement and its record
//! land in one script or not at all; `/tip` views and `/pending` listings are recorded; the
//! weekly report carries the chain's head, which finds a history rewritten even with the key.

use std::collections::HashMap;

use redis::streams::StreamRangeReply;
use tipline::audit::{self, Record};
use tipline::codes::ReceiptCode;
use tipline::config::ReceiveMode;
use tipline::store::{Action, Store, TipStatus, Transition};

use super::verify_cli_with;
use crate::support::{AUDIT_KEY, TestApp, receipt_code, spawn_app_with};

const DUTY_GROUP: i64 = -1_001_000_000_001;
const ADMIN: i64 = 4_243;

async fn app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.admin.users = vec![ADMIN as u64];
    })
    .await
}

async fn report(t: &TestApp, id: i64) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.process_until_idle().await;
    code
}

/// Every audit record, as field maps, oldest first.
fn records(t: &TestApp) -> Vec<HashMap<String, String>> {
    let reply: StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    reply
        .ids
        .iter()
        .map(|e| {
            e.map
                .keys()
                .map(|k| (k.clone(), e.get::<String>(k).unwrap_or_default()))
                .collect()
        })
        .collect()
}

/// Whether a record names officer 501 by their Telegram id, where it would name them (not in
/// the hashes or times, whose digits hold "501" by chance).
fn names_officer_501(recs: &[HashMap<String, String>]) -> bool {
    recs.iter()
        .any(|r| ["actor", "detail"].iter().any(|k| r[*k].contains("501")))
}

fn officer_press(officer: i64, card: i64, data: &str) -> serde_json::Value {
    serde_json::json!({"callback_query": {"id": format!("q{officer}-{card}"), "chat_instance": "-5",
        "from": {"id": officer, "is_bot": false, "first_name": "Hùng"},
        "data": data,
        "message": {"message_id": card, "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"}}}})
}

fn officer_command(t: &TestApp, message_id: i64, text: &str) {
    let len = text.split(' ').next().unwrap_or_default().len();
    t.fake.push_update(serde_json::json!({"message": {
        "message_id": message_id, "date": 1_700_000_000,
        "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len}]}}));
}

fn status(t: &TestApp, code: &str) -> String {
    t.tip(code)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn acknowledged_events(t: &TestApp, code: &str) -> usize {
    t.events()
        .iter()
        .filter(|e| e["type"] == "acknowledged" && e["code"] == code)
        .count()
}

#[tokio::test]
async fn an_acknowledgement_and_its_audit_record_land_together_or_not_at_all() {
    let t = app().await;
    let code = report(&t, 7_101).await;
    let card = t.fake.messages_to(DUTY_GROUP)[0].message_id.unwrap();
    t.fake
        .push_update(officer_press(501, card, &format!("dk:ack:{code}")));
    t.process_until_idle().await;
    assert_eq!(status(&t, &code), "acknowledged");
    assert_eq!(acknowledged_events(&t, &code), 1);
    let recs = records(&t);
    let ack: Vec<_> = recs
        .iter()
        .filter(|r| r["action"] == "acknowledged" && r["code"] == code)
        .collect();
    assert_eq!(ack.len(), 1, "{recs:?}");
    assert!(ack[0]["actor"].starts_with("officer:o") && ack[0]["v"] == "2");
    assert!(!names_officer_501(&recs), "{recs:?}");

    // The same script call, driven directly: when the audit record cannot be written (its
    // stream is sabotaged), the tip does not change and no event is appended.
    let other = report(&t, 7_102).await;
    let store = Store::connect(&t.redis.url(), t.ns())
        .await
        .unwrap()
        .with_audit_key(AUDIT_KEY.as_bytes());
    let parsed = ReceiptCode::parse(&other).unwrap();
    let action = Action {
        event: "acknowledged",
        from: &[TipStatus::Submitted],
        to: TipStatus::Acknowledged,
        fields: vec![("ack_by", "Lan".to_owned())],
    };
    let actor = "officer:otest";
    let audit_key = format!("{}:audit", t.ns());
    let _: () = redis::cmd("RENAME")
        .arg(&audit_key)
        .arg(format!("{audit_key}:saved"))
        .query(&mut t.redis())
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(&audit_key)
        .arg("not a stream")
        .query(&mut t.redis())
        .unwrap();
    let record = audit::next(&store, 5, actor, "acknowledged", &other, "")
        .await
        .unwrap();
    let failed = store.transition(&parsed, &action, 5, actor, &record).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(
        status(&t, &other),
        "submitted",
        "no change without its record"
    );
    assert_eq!(acknowledged_events(&t, &other), 0);
    let _: () = redis::cmd("RENAME")
        .arg(format!("{audit_key}:saved"))
        .arg(&audit_key)
        .query(&mut t.redis())
        .unwrap();

    // A record computed against a head that has moved since writes nothing either.
    let stale = audit::next(&store, 6, actor, "acknowledged", &other, "")
        .await
        .unwrap();
    audit::append(&store, 6, actor, "exported", "", "")
        .await
        .unwrap();
    let moved = store.transition(&parsed, &action, 6, actor, &stale).await;
    assert_eq!(moved.unwrap(), None);
    assert_eq!(status(&t, &other), "submitted");

    // Computed again, change and record land together, and the chain holds.
    let fresh = audit::next(&store, 7, actor, "acknowledged", &other, "")
        .await
        .unwrap();
    let done = store.transition(&parsed, &action, 7, actor, &fresh).await;
    assert!(matches!(done.unwrap(), Some(Transition::Done(_))));
    assert_eq!(status(&t, &other), "acknowledged");
    let last = records(&t).pop().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["code"].as_str()),
        ("acknowledged", other.as_str())
    );
    let (ok, out) = verify_cli_with(&t, &[]);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn a_tip_view_and_a_pending_listing_are_audited() {
    let t = app().await;
    let code = report(&t, 7_201).await;
    officer_command(&t, 30_001, &format!("/tip {code}"));
    officer_command(&t, 30_002, "/pending");
    t.process_until_idle().await;
    let recs = records(&t);
    let viewed: Vec<_> = recs
        .iter()
        .filter(|r| r["action"] == "tip_viewed")
        .collect();
    assert_eq!(viewed.len(), 1, "{recs:?}");
    assert_eq!(viewed[0]["code"], code);
    assert!(viewed[0]["actor"].starts_with("officer:o"));
    assert_eq!(viewed[0]["detail"], format!("group {DUTY_GROUP}"));
    let listed: Vec<_> = recs
        .iter()
        .filter(|r| r["action"] == "pending_listed")
        .collect();
    assert_eq!(listed.len(), 1, "{recs:?}");
    assert_eq!(listed[0]["detail"], format!("group {DUTY_GROUP} 1 tips"));
    assert!(!names_officer_501(&recs), "{recs:?}");
    let (ok, out) = verify_cli_with(&t, &[]);
    assert!(ok && out.contains("keyed from record 1"), "{out}");
}

#[tokio::test]
async fn the_weekly_report_carries_the_head_and_verify_head_finds_a_rewritten_history() {
    let t = app().await;
    let code = report(&t, 7_301).await;
    officer_command(&t, 30_101, &format!("/tip {code}"));
    t.process_until_idle().await;
    let admin = t.citizen(ADMIN);
    t.fake.push_update(admin.text_update("/stats"));
    t.process_until_idle().await;
    let summary = t
        .fake
        .messages_to(ADMIN)
        .iter()
        .map(|m| m.text().to_owned())
        .find(|m| m.contains("#"))
        .expect("the report's summary");
    let found = regex::Regex::new(r"Đầu chuỗi nhật ký kiểm tra: #(\d+) ([0-9a-f]{64})")
        .unwrap()
        .captures(&summary)
        .map(|c| (c[1].parse::<u64>().unwrap(), c[2].to_owned()))
        .unwrap_or_else(|| panic!("no audit head in: {summary}"));
    let (n, hash) = found;
    assert_eq!(
        n as usize,
        records(&t).len(),
        "the head is the last record, the report's own"
    );
    let pin = format!("{n}:{hash}");
    let (ok, out) = verify_cli_with(&t, &["--head", &pin]);
    assert!(
        ok && out.contains(&format!("record {n} as pinned")),
        "{out}"
    );

    // Someone with Redis access and the key rewrites the view of the tip out of the history
    // and re-keys the chain after it: the chain itself verifies, the reported head does not.
    let mut prev = "0".repeat(64);
    let old = records(&t);
    let audit_key = format!("{}:audit", t.ns());
    let _: () = redis::cmd("DEL")
        .arg(&audit_key)
        .query(&mut t.redis())
        .unwrap();
    for (i, r) in old.iter().enumerate() {
        let record = Record {
            n: i as u64 + 1,
            at: r["at"].parse().unwrap(),
            actor: r["actor"].clone(),
            action: if r["action"] == "tip_viewed" {
                "pending_listed".into()
            } else {
                r["action"].clone()
            },
            code: r["code"].clone(),
            detail: r["detail"].clone(),
        };
        let h = audit::keyed_hash(AUDIT_KEY.as_bytes(), &record, &prev);
        let _: String = redis::cmd("XADD")
            .arg(&audit_key)
            .arg("*")
            .arg(&[
                ("n", record.n.to_string()),
                ("at", record.at.to_string()),
                ("actor", record.actor.clone()),
                ("action", record.action.clone()),
                ("code", record.code.clone()),
                ("detail", record.detail.clone()),
                ("prev", prev.clone()),
                ("hash", h.clone()),
                ("v", "2".into()),
            ])
            .query(&mut t.redis())
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("{audit_key}:head"))
            .arg(format!("{}:{h}", record.n))
            .query(&mut t.redis())
            .unwrap();
        prev = h;
    }
    let (ok, out) = verify_cli_with(&t, &[]);
    assert!(ok, "consistent under the key: {out}");
    let (ok, out) = verify_cli_with(&t, &["--head", &pin]);
    assert!(
        !ok && out.contains(&format!("record {n} is not the one pinned")),
        "{out}"
    );

    // A malformed head is refused with what it should look like.
    let (ok, out) = verify_cli_with(&t, &["--head", "12:abc"]);
    assert!(!ok && out.contains("--head must be N:HASH"), "{out}");
}

/// Replaces the audit stream with a string, so that no record can be written; returns the key
/// the stream was saved under, if there was one.
fn sabotage_audit(t: &TestApp) -> Option<String> {
    let audit_key = format!("{}:audit", t.ns());
    let saved = format!("{audit_key}:saved");
    let moved: Result<(), _> = redis::cmd("RENAME")
        .arg(&audit_key)
        .arg(&saved)
        .query(&mut t.redis());
    let _: () = redis::cmd("SET")
        .arg(&audit_key)
        .arg("not a stream")
        .query(&mut t.redis())
        .unwrap();
    moved.ok().map(|()| saved)
}

fn restore_audit(t: &TestApp, saved: Option<String>) {
    let audit_key = format!("{}:audit", t.ns());
    let _: () = redis::cmd("DEL")
        .arg(&audit_key)
        .query(&mut t.redis())
        .unwrap();
    if let Some(saved) = saved {
        let _: () = redis::cmd("RENAME")
            .arg(saved)
            .arg(&audit_key)
            .query(&mut t.redis())
            .unwrap();
    }
}

fn events_of(t: &TestApp, code: &str, kind: &str) -> usize {
    t.events()
        .iter()
        .filter(|e| e["type"] == kind && e["code"] == code)
        .count()
}

fn records_of(t: &TestApp, code: &str, action: &str) -> usize {
    records(t)
        .iter()
        .filter(|r| r["action"] == action && r["code"] == code)
        .count()
}

async fn ask(t: &TestApp, code: &str, key: &str) -> (u16, serde_json::Value) {
    let resp = t
        .http
        .post(format!("{}/api/v1/tips/{code}/events", t.base_url()))
        .bearer_auth(crate::support::TRIAGE_TOKEN)
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(r#"{"type":"ask","text":"Người bán thường đến lúc mấy giờ?"}"#)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_question_and_its_audit_record_land_together_or_not_at_all() {
    let t = app().await;
    let code = report(&t, 7_401).await;

    // No record can be written: the call fails with a status the triage service retries, and
    // no question reaches the event log, so no citizen is asked anything the audit trail does
    // not show.
    let saved = sabotage_audit(&t);
    let (status, _) = ask(&t, &code, "q-7401").await;
    assert_eq!(status, 503);
    assert_eq!(events_of(&t, &code, "info_requested"), 0);
    restore_audit(&t, saved);

    // Retried with the same idempotency key, question and record land once; a repeat gets the
    // first answer and adds neither.
    let (status, first) = ask(&t, &code, "q-7401").await;
    assert_eq!(status, 200, "{first}");
    assert!(first["seq"].as_u64().unwrap() > 0, "{first}");
    let (status, again) = ask(&t, &code, "q-7401").await;
    assert_eq!((status, &again), (200, &first));
    assert_eq!(events_of(&t, &code, "info_requested"), 1);
    assert_eq!(records_of(&t, &code, "info_requested"), 1);
    let (ok, out) = verify_cli_with(&t, &[]);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn an_escalation_and_its_audit_record_land_together_or_not_at_all() {
    let t = app().await;
    let code = report(&t, 7_501).await;
    let store = Store::connect(&t.redis.url(), t.ns())
        .await
        .unwrap()
        .with_audit_key(AUDIT_KEY.as_bytes());
    let event = tipline::events::TipEvent::Escalated {
        head: tipline::events::Head::new(ReceiptCode::parse(&code).unwrap(), "officer:otest", 9),
    };

    let saved = sabotage_audit(&t);
    assert!(audit::event(&store, None, &event, "").await.is_err());
    assert_eq!(events_of(&t, &code, "escalated"), 0);
    restore_audit(&t, saved);

    // A record computed against a head that has moved since writes nothing either.
    let stale = audit::next(&store, 9, "officer:otest", "escalated", &code, "")
        .await
        .unwrap();
    audit::append(&store, 9, "admin:test", "exported", "", "")
        .await
        .unwrap();
    let moved = store.events_append_audited(None, &event, &stale).await;
    assert_eq!(moved.unwrap(), None);
    assert_eq!(events_of(&t, &code, "escalated"), 0);

    let seq = audit::event(&store, None, &event, "").await.unwrap();
    assert!(seq > 0);
    assert_eq!(events_of(&t, &code, "escalated"), 1);
    assert_eq!(records_of(&t, &code, "escalated"), 1);
    let (ok, out) = verify_cli_with(&t, &[]);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn a_purge_and_its_audit_record_land_together_or_not_at_all() {
    use tipline::store::{PurgeTip, Purged};
    let t = app().await;
    let code = report(&t, 7_601).await;
    let store = Store::connect(&t.redis.url(), t.ns())
        .await
        .unwrap()
        .with_audit_key(AUDIT_KEY.as_bytes());
    let alias = t.tip(&code)["alias"].as_str().unwrap().to_owned();
    let purge = PurgeTip {
        code: &code,
        alias: &alias,
        channel: tipline::privacy::Channel::Telegram,
        status: "submitted",
        tombstone_json: "{}",
        actor: "system:retention",
        at_ms: 11,
    };
    let record = || audit::next(&store, 11, "system:retention", "purged", &code, "");

    let saved = sabotage_audit(&t);
    let fresh = record().await.unwrap();
    assert!(store.purge_tip(&purge, &fresh).await.is_err());
    assert!(t.tip(&code)["description"].is_string(), "the tip is whole");
    assert_eq!(events_of(&t, &code, "purged"), 0);
    restore_audit(&t, saved);

    let stale = record().await.unwrap();
    audit::append(&store, 11, "admin:test", "exported", "", "")
        .await
        .unwrap();
    assert_eq!(store.purge_tip(&purge, &stale).await.unwrap(), None);
    assert_eq!(events_of(&t, &code, "purged"), 0);

    let fresh = record().await.unwrap();
    let done = store.purge_tip(&purge, &fresh).await.unwrap();
    assert!(matches!(done, Some(Purged::Done(_))), "{done:?}");
    assert_eq!(events_of(&t, &code, "purged"), 1);
    assert_eq!(records_of(&t, &code, "purged"), 1);
    let (ok, out) = verify_cli_with(&t, &[]);
    assert!(ok, "{out}");
}
