//! A rotation of the route key as an operator does it (issue 14): `tipline keys rotate` prints
//! the new environment; every process started with it seals the stored routes, phones and file
//! fingerprints again in the background, once across replicas, and says on `/metrics` when
//! nothing is left under the retired key.

use std::time::{Duration, Instant};

use tipline::app::{App, Options};
use tipline::config::ReceiveMode;
use tipline::privacy::{Channel, Vault};

use crate::support::{TestApp, receipt_code, secrets_with, spawn_app};

const OLD: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const ALIAS_KEY: &[u8] = b"test-alias-key-test-alias-key-test";

async fn report_with_phone(t: &TestApp, id: i64) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:theft").await;
    c.says("Thôn Bưng").await;
    c.presses("pl:unknown").await;
    c.says("Mất trộm xe máy").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.shares_contact("+84912345678", true).await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.process_until_idle().await;
    code
}

fn get(t: &TestApp, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(&mut t.redis()).unwrap()
}

fn field(t: &TestApp, key: &str, field: &str) -> String {
    redis::cmd("HGET")
        .arg(key)
        .arg(field)
        .query(&mut t.redis())
        .unwrap()
}

/// The value of metric `name` on `/metrics`.
async fn metric(t: &TestApp, name: &str) -> Option<String> {
    let text = t.scrape_metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
}

async fn wait_for_key(t: &TestApp, key: &str) {
    let start = Instant::now();
    while get(t, key).is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "{key} never set");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn after_a_rotation_the_running_line_seals_everything_again_in_the_background_once() {
    let mut t = spawn_app().await;
    let code = report_with_phone(&t, 6_501).await;
    let alias = t.app().shared.vault.alias(Channel::Telegram, "6501");
    let route_key = format!("{}:route:{alias}", t.ns());
    let evidence_key = format!("{}:evidence:{code}", t.ns());
    // A file's fingerprint, as the desk seals it for a document it cleaned.
    let fingerprint = t.app().shared.vault.seal(b"sha256:00ff");
    let _: () = redis::cmd("HSET")
        .arg(&evidence_key)
        .arg("sha:0")
        .arg(&fingerprint)
        .arg("withheld:1")
        .arg("corrupt")
        .query(&mut t.redis())
        .unwrap();
    let old_kid = t.app().shared.vault.key_id().to_owned();
    assert!(
        get(&t, &route_key)
            .unwrap()
            .starts_with(&format!("v1.{old_kid}."))
    );

    // Restarted with the environment `keys rotate` prints, beside a second replica.
    t.stop().await;
    let rotated = [
        ("TIPLINE_ROUTE_KEY", NEW),
        ("TIPLINE_ROUTE_KEYS_RETIRED", OLD),
    ];
    let mut second_settings = t.settings.clone();
    second_settings.app.instance = "second".into();
    second_settings.telegram.mode = ReceiveMode::Webhook;
    let (second, ()) = tokio::join!(
        App::start(
            second_settings.clone(),
            secrets_with(&second_settings, &rotated),
            Options {
                clock: t.clock.clone(),
                sweep_every: Duration::from_millis(20),
                code_seed: None,
            },
        ),
        t.start_with(secrets_with(&t.settings, &rotated)),
    );
    let second = second.unwrap();
    let new_only = Vault::from_keys(ALIAS_KEY, &[0x22; 32]);
    let new_kid = new_only.key_id().to_owned();
    wait_for_key(&t, &format!("{}:reseal:done:{new_kid}", t.ns())).await;

    // The new key alone opens the route, the phone and the fingerprint; the rest is as it was.
    let route = new_only.open_route(&get(&t, &route_key).unwrap()).unwrap();
    assert_eq!(
        (route.channel, route.chat.as_str()),
        (Channel::Telegram, "6501")
    );
    let tip = t.tip(&code);
    let phone = tip["contact_sealed"].as_str().unwrap();
    assert_eq!(new_only.open(phone).unwrap(), b"+84912345678");
    assert_eq!(tip["description"], "Mất trộm xe máy");
    assert_eq!(
        new_only.open(&field(&t, &evidence_key, "sha:0")).unwrap(),
        b"sha256:00ff"
    );
    assert_eq!(field(&t, &evidence_key, "withheld:1"), "corrupt");
    // One of the two ran it: three values sealed again between them, one audit record.
    let ours: u64 = metric(&t, "tipline_resealed_total")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ours + second.shared.metrics.resealed.get(), 3);
    let ran = if ours == 3 { t.app() } else { &second };
    assert_eq!(ran.shared.metrics.reseal_left.get(), 0);
    let records: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    let resealed: Vec<&str> = records
        .iter()
        .filter(|(_, f)| f.iter().any(|(k, v)| k == "action" && v == "keys_resealed"))
        .flat_map(|(_, f)| {
            f.iter()
                .filter(|(k, _)| k == "detail")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    assert_eq!(resealed, [format!("key {new_kid}: 3 sealed again, 0 left")]);

    // The citizen's conversation goes on under the new key.
    let mut c = t.citizen(6_501);
    let reply = crate::support::texts(&c.says(&format!("/status {code}")).await);
    assert!(reply.contains(&code), "{reply}");

    // Started again (a deploy): the key is done, nothing runs twice.
    second.stop().await.unwrap();
    t.stop().await;
    t.start_with(secrets_with(&t.settings, &rotated)).await;
    t.process_until_idle().await;
    assert_eq!(
        metric(&t, "tipline_resealed_total").await.as_deref(),
        Some("0")
    );
    let after: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(after.len(), records.len());
}

#[tokio::test]
async fn keys_rotate_prints_a_new_key_and_retires_the_current_one_after_those_retired_before() {
    let run = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tipline"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["keys", "rotate"])
            .env_remove("TIPLINE_ROUTE_KEY")
            .env_remove("TIPLINE_ROUTE_KEYS_RETIRED");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let older = "33".repeat(32);
    let (ok, stdout, stderr) = run(&[
        ("TIPLINE_ROUTE_KEY", NEW),
        ("TIPLINE_ROUTE_KEYS_RETIRED", &older),
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let new = lines[0]
        .strip_prefix("export TIPLINE_ROUTE_KEY=")
        .expect("the new key first");
    assert!(new.len() == 64 && new.chars().all(|c| c.is_ascii_hexdigit()) && new != NEW);
    assert_eq!(
        lines[1],
        format!("export TIPLINE_ROUTE_KEYS_RETIRED={NEW},{older}")
    );
    let kid = Vault::from_keys(ALIAS_KEY, &[0x22; 32]).key_id().to_owned();
    assert!(stderr.contains(&format!("replaces {kid}")), "{stderr}");
    assert!(
        !stderr.contains(new),
        "the new key is printed once, on stdout"
    );

    // Nothing to retire, or a malformed list: refused, with the key named.
    let (ok, _, stderr) = run(&[]);
    assert!(!ok && stderr.contains("TIPLINE_ROUTE_KEY"), "{stderr}");
    let (ok, _, stderr) = run(&[
        ("TIPLINE_ROUTE_KEY", NEW),
        ("TIPLINE_ROUTE_KEYS_RETIRED", "abc"),
    ]);
    assert!(
        !ok && stderr.contains("TIPLINE_ROUTE_KEYS_RETIRED"),
        "{stderr}"
    );
}
