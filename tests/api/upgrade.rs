//! An upgrade over the data of the version before sealing (issue 14): inbox entries whose
//! bodies it wrote in clear are still worked, and the `seen` marks it named by update id in
//! clear still keep an entry it left pending from being worked twice.

use serde_json::json;
use tipline::store::INTAKE_CONSUMER;

use crate::support::{TestApp, spawn_app};

/// Appends `update` to the inbox as the version before sealing did: its JSON in clear.
fn append_in_clear(t: &TestApp, key: &str, update: &serde_json::Value) -> String {
    redis::cmd("XADD")
        .arg(format!("{}:inbox", t.ns()))
        .arg("*")
        .arg("kind")
        .arg("tg")
        .arg("key")
        .arg(key)
        .arg("body")
        .arg(update.to_string())
        .query(&mut t.redis())
        .unwrap()
}

/// The names of the `seen` marks.
fn marks(t: &TestApp) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(format!("{}:seen:*", t.ns()))
        .query(&mut t.redis())
        .unwrap()
}

#[tokio::test]
async fn an_entry_the_previous_version_wrote_in_clear_is_worked_after_the_upgrade() {
    let t = spawn_app().await;
    let c = t.citizen(6_401);
    // As the version before sealing appended it: the update's JSON in clear.
    let mut update = c.text_update("/start");
    update["update_id"] = json!(4_242);
    append_in_clear(&t, "4242", &update);
    t.settle().await;
    let answer = t.fake.messages_to(6_401);
    assert!(
        answer.first().is_some_and(|m| m.text().contains("113")),
        "answered as any update: {answer:?}"
    );
    // Worked once and deleted: nothing of it is left in clear.
    assert!(t.redis_keys_holding("6401").is_empty());
    let seen = marks(&t);
    assert!(
        !seen.is_empty() && seen.iter().all(|k| !k.contains("4242")),
        "its mark is named by a keyed hash: {seen:?}"
    );
}

#[tokio::test]
async fn an_entry_the_previous_version_left_pending_with_its_mark_is_not_worked_twice() {
    let mut t = spawn_app().await;
    t.stop().await;
    // The version before sealing read the entry, worked it, sent the replies and set its mark
    // (named by the update id in clear), then stopped before acknowledging it.
    let mut update = t.citizen(6_402).text_update("/start");
    update["update_id"] = json!(4_243);
    let id = append_in_clear(&t, "4243", &update);
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("intake")
        .arg(INTAKE_CONSUMER)
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(format!("{}:inbox", t.ns()))
        .arg(">")
        .query(&mut t.redis())
        .unwrap();
    let clear = format!("{}:seen:tg:4243", t.ns());
    let _: () = redis::cmd("SET")
        .arg(&clear)
        .arg("done")
        .arg("EX")
        .arg(3600)
        .query(&mut t.redis())
        .unwrap();

    t.start().await;
    t.settle().await;
    t.process_until_idle().await;
    // Taken back as pending, its mark found under the new name: acknowledged, not answered
    // a second time.
    assert!(t.fake.messages_to(6_402).is_empty());
    let left: u64 = redis::cmd("XLEN")
        .arg(format!("{}:inbox", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(left, 0, "entry {id} acknowledged and deleted");
    let names = marks(&t);
    assert!(
        names.len() == 1 && !names[0].contains("4243"),
        "the mark was renamed to its keyed hash: {names:?}"
    );
}
