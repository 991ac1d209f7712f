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

/// Runs `tipline keys reseal` with the new route key `22…` and the old `11…` retired.
fn reseal_cli(t: &TestApp, extra: &[&str], retired: Option<&str>) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["keys", "reseal"])
        .args(extra)
        .env("TIPLINE__REDIS__URL", t.redis.url())
        .env("TIPLINE_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
        .env("TIPLINE_ALIAS_KEY", "test-alias-key-test-alias-key-test")
        .env("TIPLINE_ROUTE_KEY", "22".repeat(32));
    if let Some(r) = retired {
        cmd.env("TIPLINE_ROUTE_KEYS_RETIRED", r);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn after_a_key_rotation_routes_and_phones_are_sealed_again_under_the_new_key() {
    use tipline::privacy::{Channel, Vault};
    let t = spawn_app().await;
    let mut c = t.citizen(6_403);
    c.says("/report").await;
    c.presses("cat:theft").await;
    c.says("Thôn Bưng").await;
    c.presses("pl:unknown").await;
    c.says("Mất trộm xe máy").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.shares_contact("+84912345678", true).await;
    let code = crate::support::receipt_code(&c.presses("rv:send").await).unwrap();
    t.process_until_idle().await;
    let alias = t.app().shared.vault.alias(Channel::Telegram, "6403");
    let route_key = format!("{}:route:{alias}", t.ns());
    let route = || -> String {
        redis::cmd("GET")
            .arg(&route_key)
            .query(&mut t.redis())
            .unwrap()
    };
    let phone = || t.tip(&code)["contact_sealed"].as_str().unwrap().to_owned();
    let old_kid = t.app().shared.vault.key_id().to_owned();
    assert!(route().starts_with(&format!("v1.{old_kid}.")) && phone().starts_with("v1."));

    // Without the old key listed, nothing opens: refused, nothing changed.
    let (ok, out) = reseal_cli(&t, &[], None);
    assert!(!ok && out.contains("2 not opened"), "{out}");
    // A dry run counts and changes nothing.
    let before = (route(), phone());
    let (ok, out) = reseal_cli(&t, &["--dry-run"], Some(&"11".repeat(32)));
    assert!(ok && out.contains("2 to seal again"), "{out}");
    assert_eq!((route(), phone()), before);
    let (ok, out) = reseal_cli(&t, &[], Some(&"11".repeat(32)));
    assert!(ok && out.contains("2 sealed again"), "{out}");

    // The new key alone opens both; the tip kept everything else.
    let new_only = Vault::from_keys(b"test-alias-key-test-alias-key-test", &[0x22; 32]);
    let r = new_only.open_route(&route()).unwrap();
    assert_eq!((r.channel, r.chat.as_str()), (Channel::Telegram, "6403"));
    assert_eq!(new_only.open(&phone()).unwrap(), b"+84912345678");
    assert!(route().starts_with(&format!("v1.{}.", new_only.key_id())));
    assert_eq!(t.tip(&code)["description"], "Mất trộm xe máy");
    let (ok, out) = reseal_cli(&t, &[], Some(&"11".repeat(32)));
    assert!(
        ok && out.contains("0 sealed again, 2 already current"),
        "{out}"
    );
}
