//! Every inbound update finishes (issue 13): an inbox entry that keeps failing goes to the
//! inbox's dead letters (`dlq:intake`) after its budget, an unreadable one at once, and
//! `tipline dlq --group intake` lists, shows (without the citizen), replays and drops them;
//! one chat's thousands of entries do not hold up anyone else.

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use tipline::privacy::Channel;
use tipline::store::{InboxKind, Store};

use crate::support::{TestApp, receipt_code, spawn_app};

/// The inbox's dead letters: (id, fields).
fn dead_letters(t: &TestApp) -> Vec<(String, std::collections::HashMap<String, String>)> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:dlq:intake", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    reply
        .ids
        .into_iter()
        .map(|id| {
            let fields = id
                .map
                .keys()
                .map(|k| (k.clone(), id.get::<String>(k).unwrap_or_default()))
                .collect();
            (id.id, fields)
        })
        .collect()
}

fn inbox_len(t: &TestApp) -> u64 {
    redis::cmd("XLEN")
        .arg(format!("{}:inbox", t.ns()))
        .query(&mut t.redis())
        .unwrap()
}

/// Runs `tipline dlq --group intake <args>` against the test's Redis: (success, output).
fn dlq_cli(t: &TestApp, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["dlq", "--group", "intake"])
        .args(args)
        .env("TIPLINE__REDIS__URL", t.redis.url())
        .env("TIPLINE__TELEGRAM__API_URL", t.fake.url())
        .env("TIPLINE_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
        .env("TIPLINE_ALIAS_KEY", "test-alias-key-test-alias-key-test")
        .env("TIPLINE_ROUTE_KEY", "11".repeat(32))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The `tipline_inbox_dead_lettered_total` lines of `/metrics`.
async fn dead_metric(t: &TestApp) -> String {
    let text = t.scrape_metrics().await;
    text.lines()
        .filter(|l| l.starts_with("tipline_inbox_dead_lettered_total{"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Audit records of `action`.
fn audited(t: &TestApp, action: &str) -> usize {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    reply
        .ids
        .iter()
        .filter(|id| id.get::<String>("action").as_deref() == Some(action))
        .count()
}

/// Waits until `pred` holds, moving the app's clock forward two minutes at a time (retries
/// wait on it), for at most 30 s of real time.
async fn advance_until(t: &TestApp, what: &str, pred: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !pred() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        t.clock.advance(Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_update_that_keeps_failing_is_dead_lettered_after_its_budget_and_can_be_replayed() {
    let t = spawn_app().await;
    const STUCK: i64 = 6_001;
    let alias = t
        .app()
        .shared
        .vault
        .alias(Channel::Telegram, &STUCK.to_string());
    // A corrupt conversation state (not even a string): every update of this citizen fails,
    // for a reason no platform refusal explains.
    let convo = format!("{}:convo:tg:{alias}", t.ns());
    let _: () = redis::cmd("HSET")
        .arg(&convo)
        .arg("broken")
        .arg("1")
        .query(&mut t.redis())
        .unwrap();

    let stuck = t.citizen(STUCK);
    let first = t.fake.push_update(stuck.text_update("/start"));
    t.fake.push_update(stuck.text_update("/help"));
    // Another citizen is answered while the first one's update fails.
    let other = t.citizen(6_002);
    t.fake.push_update(other.text_update("/start"));
    t.fake.wait_sent(6_002, 1).await;
    assert!(dead_letters(&t).is_empty(), "not given up within seconds");

    // Past the budget (8 failures over at least ten minutes of the app's clock) the entry is
    // a dead letter, acknowledged and deleted from the inbox.
    advance_until(&t, "the update dead-lettered", || {
        !dead_letters(&t).is_empty()
    })
    .await;
    let letters = dead_letters(&t);
    assert_eq!(letters.len(), 1, "{letters:?}");
    let (id, letter) = &letters[0];
    assert_eq!(letter["kind"], "tg");
    assert_eq!(letter["key"], first.to_string());
    assert_eq!(letter["audience"], "citizen");
    assert!(
        letter["attempts"].parse::<u32>().unwrap() >= 8,
        "{letter:?}"
    );
    assert!(letter["error"].contains("WRONGTYPE"), "{letter:?}");
    // What replays it is kept, sealed: only the vault opens it.
    assert!(!letter["body"].contains("/start") && !letter["body"].contains("6001"));
    let opened = t
        .app()
        .shared
        .vault
        .open_inbox("tg", &letter["body"])
        .unwrap();
    assert!(opened.contains("/start"), "what replays it is kept");
    assert_eq!(t.fake.sent_count(STUCK), 0);
    assert!(
        dead_metric(&t)
            .await
            .contains("{audience=\"citizen\",reason=\"budget\"} 1"),
        "{}",
        dead_metric(&t).await
    );

    // The state is repaired: the citizen's later update, which waited behind, is answered.
    let _: () = redis::cmd("DEL").arg(&convo).query(&mut t.redis()).unwrap();
    t.fake.wait_sent(STUCK, 1).await;
    t.process_until_idle().await;
    let after_help = t.fake.sent_count(STUCK);

    // `list` and `show` tell what it is, why and when, without who.
    let (ok, out) = dlq_cli(&t, &["list"]);
    assert!(
        ok && out.contains(id.as_str()) && out.contains("citizen"),
        "{out}"
    );
    assert!(out.contains("1 dead letter(s) in dlq:intake"), "{out}");
    let (ok, out) = dlq_cli(&t, &["show", id]);
    assert!(ok, "{out}");
    for field in [
        "kind: tg",
        "audience: citizen",
        "attempts: ",
        "body_bytes: ",
    ] {
        assert!(out.contains(field), "{field} not in {out}");
    }
    // The stream ids and the time are numbers whose digits can hold "6001" by chance; no
    // other line may.
    let shown: Vec<&str> = out
        .lines()
        .filter(|l| {
            !["id: ", "entry_id: ", "at: "]
                .iter()
                .any(|f| l.starts_with(f))
        })
        .collect();
    for identity in ["6001", "Nguyễn", "user6001"] {
        assert!(
            !shown.iter().any(|l| l.contains(identity)),
            "{identity} shown: {out}"
        );
    }

    // `replay` puts it back into the inbox: it is worked again and answered, once.
    let (ok, out) = dlq_cli(&t, &["replay", id]);
    assert!(ok && out.contains("back in the inbox"), "{out}");
    t.fake.wait_sent(STUCK, after_help + 1).await;
    t.process_until_idle().await;
    assert!(dead_letters(&t).is_empty());
    assert_eq!(audited(&t, "dlq_replay"), 1);
    let (ok, out) = dlq_cli(&t, &["replay", id]);
    assert!(!ok && out.contains("no such dead letter"), "{out}");
}

#[tokio::test]
async fn a_draft_timer_given_up_lets_the_next_one_come() {
    let t = spawn_app().await;
    let store = Store::connect(&t.redis.url(), t.ns()).await.unwrap();
    let mut c = t.citizen(6_301);
    c.says("/report").await;
    let alias = t.app().shared.vault.alias(Channel::Telegram, "6301");
    let convo = format!("{}:convo:tg:{alias}", t.ns());
    let draft: String = redis::cmd("GET").arg(&convo).query(&mut t.redis()).unwrap();
    // The draft's state is corrupt while its timer's tick is worked.
    let _: () = redis::cmd("DEL").arg(&convo).query(&mut t.redis()).unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&convo)
        .arg("broken")
        .arg("1")
        .query(&mut t.redis())
        .unwrap();
    assert!(store.inbox_append_tick(&alias).await.unwrap());
    advance_until(&t, "the tick dead-lettered", || {
        dead_letters(&t).iter().any(|l| l.1["kind"] == "tick")
    })
    .await;
    let letters = dead_letters(&t);
    assert_eq!(letters[0].1["audience"], "tick");
    assert_eq!(letters[0].1["key"], alias);

    // Repaired, the draft's reminder comes with the next sweep: the tick given up no longer
    // blocks its alias's next one (its queued mark went with it).
    let _: () = redis::cmd("DEL").arg(&convo).query(&mut t.redis()).unwrap();
    let _: () = redis::cmd("SET")
        .arg(&convo)
        .arg(&draft)
        .query(&mut t.redis())
        .unwrap();
    t.clock.advance(Duration::from_secs(1900));
    t.fire_timers().await;
    t.fake
        .wait_until("the draft's reminder", |calls| {
            calls
                .iter()
                .any(|call| call.chat_id() == Some(6_301) && call.text().contains("chưa được gửi"))
        })
        .await;
}

#[tokio::test]
async fn an_unreadable_entry_is_dead_lettered_not_dropped_and_can_be_dropped() {
    let t = spawn_app().await;
    let store = t.app().shared.store.clone();
    store
        .inbox_append(InboxKind::Telegram, "77", "{ not json")
        .await
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(format!("{}:inbox", t.ns()))
        .arg("*")
        .arg("kind")
        .arg("sms")
        .arg("key")
        .arg("9")
        .arg("body")
        .arg("hello")
        .query(&mut t.redis())
        .unwrap();
    let mut c = t.citizen(6_101);
    assert!(!c.says("/start").await.is_empty(), "the intake goes on");
    t.process_until_idle().await;

    let letters = dead_letters(&t);
    assert_eq!(letters.len(), 2, "{letters:?}");
    // Each stands alone in the lanes, so either may be first.
    let by_kind = |kind: &str| &letters.iter().find(|l| l.1["kind"] == kind).unwrap().1;
    let (bad_json, unknown) = (by_kind("tg"), by_kind("sms"));
    // Bodies stay sealed in the dead letters (the kind bound to each), and open.
    let vault = &t.app().shared.vault;
    let open = |kind: &str, body: &str| vault.open_inbox(kind, body).unwrap().into_owned();
    assert_eq!(
        (
            bad_json["kind"].as_str(),
            open("tg", &bad_json["body"]).as_str()
        ),
        ("tg", "{ not json")
    );
    assert_eq!(bad_json["attempts"], "0");
    assert_eq!(bad_json["audience"], "unreadable");
    assert!(
        bad_json["error"].contains("unreadable tg update"),
        "{bad_json:?}"
    );
    // Written in clear (as by a version before sealing), it is sealed once dead-lettered.
    assert!(unknown["body"].starts_with("v1."), "{unknown:?}");
    assert_eq!(
        (
            unknown["kind"].as_str(),
            open("sms", &unknown["body"]).as_str()
        ),
        ("sms", "hello")
    );
    assert_eq!(inbox_len(&t), 0);
    assert!(
        dead_metric(&t)
            .await
            .contains("{audience=\"unreadable\",reason=\"unreadable\"} 2")
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{}:dlq:intake", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    assert!(
        ttl > 0 && ttl <= 30 * 24 * 3600 * 1000,
        "bounded retention: {ttl}"
    );

    let (ok, out) = dlq_cli(&t, &["drop", &letters[0].0, &letters[1].0]);
    assert!(ok, "{out}");
    assert!(dead_letters(&t).is_empty());
    assert_eq!(audited(&t, "dlq_drop"), 2);
    let (ok, _) = dlq_cli(&t, &["drop", &letters[0].0]);
    assert!(!ok, "dropping it again says it is not there");
}

#[tokio::test]
async fn one_chat_with_thousands_of_entries_does_not_hold_up_a_citizens_report() {
    let t = spawn_app().await;
    let store = t.app().shared.store.clone();
    // 2500 updates of one chat in the inbox at once (a backlog after an outage, or a flood),
    // more than the intake holds in memory (2048).
    let flood = t.citizen(6_201);
    let entries: Vec<(String, String)> = (0..2500)
        .map(|i| {
            let mut u = flood.text_update(&format!("tin nhắn {i}"));
            u["update_id"] = json!(5_000_000 + i);
            ((5_000_000 + i).to_string(), u.to_string())
        })
        .collect();
    store
        .inbox_append_all(InboxKind::Telegram, &entries)
        .await
        .unwrap();

    // A citizen reports meanwhile: each step is answered while most of the flood still waits.
    const CITIZEN: i64 = 6_202;
    let c = t.citizen(CITIZEN);
    let steps = [
        ("say", "/report"),
        ("press", "cat:drugs"),
        ("press", "com:thung-nai"),
        ("say", "Có người bán ma túy ở bãi sông"),
        ("press", "go:next"),
        ("press", "go:next"),
        ("say", "🕶 Ẩn danh"),
        ("press", "rv:send"),
    ];
    let mut backlog_at_first_answer = None;
    for (i, &(how, what)) in steps.iter().enumerate() {
        let step = match how {
            "say" => c.text_update(what),
            _ => c.press_update(what),
        };
        let before = t.fake.sent_count(CITIZEN);
        t.fake.push_update(step);
        // The answer, with the button the next step presses.
        let next = steps.get(i + 1).filter(|s| s.0 == "press").map(|s| s.1);
        t.fake
            .wait_until("the answer to a step", |calls| {
                let answers: Vec<_> = calls
                    .iter()
                    .filter(|c| c.method == "sendmessage" && c.chat_id() == Some(CITIZEN))
                    .skip(before)
                    .collect();
                !answers.is_empty()
                    && next
                        .is_none_or(|b| answers.iter().any(|a| a.buttons().iter().any(|x| x == b)))
            })
            .await;
        backlog_at_first_answer.get_or_insert_with(|| inbox_len(&t));
    }
    // Without a share per key, the intake would hold 2048 of the flood and work off
    // hundreds of them before reading the citizen's first update.
    let flood_done_first = 2500 - backlog_at_first_answer.unwrap();
    assert!(
        flood_done_first < 150,
        "{flood_done_first} of the flood were worked before the citizen's first answer"
    );
    t.fake
        .wait_until("the receipt", |calls| {
            receipt_code(
                &calls
                    .iter()
                    .filter(|c| c.chat_id() == Some(CITIZEN))
                    .cloned()
                    .collect::<Vec<_>>(),
            )
            .is_some()
        })
        .await;

    // The flood is worked off in the end (one entry after the other, which takes a while),
    // nothing lost or left pending.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while inbox_len(&t) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} left",
            inbox_len(&t)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.process_until_idle().await;
    assert!(dead_letters(&t).is_empty());
}
