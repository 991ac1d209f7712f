//! The `tipline` binary as an operator runs it: real signals, a real crash, `check-config`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{FakeTelegram, RedisServer, receipt_code, texts};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running {
    child: Child,
    port: u16,
}

fn start_binary(redis: &RedisServer, fake: &FakeTelegram) -> Running {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config", "config/tipline.toml", "run"])
        .env("TIPLINE__REDIS__URL", redis.url())
        .env("TIPLINE__TELEGRAM__API_URL", fake.url())
        .env("TIPLINE__TELEGRAM__POLL_TIMEOUT_SECS", "5")
        .env("TIPLINE__HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("TIPLINE_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
        .env("TIPLINE_ALIAS_KEY", "test-alias-key-test-alias-key-test")
        .env("TIPLINE_ROUTE_KEY", "22".repeat(32))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Running { child, port }
}

async fn wait_healthy(port: u16) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("tipline did not become ready");
}

async fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tipline did not exit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Citizen helper over the fake without an in-process app.
async fn say(
    fake: &FakeTelegram,
    update: serde_json::Value,
    chat: i64,
    expect: usize,
) -> Vec<crate::support::Call> {
    let before = fake.messages_to(chat).len();
    fake.push_update(update);
    fake.wait_until("the bot's replies", |_| {
        fake.messages_to(chat).len() >= before + expect
    })
    .await;
    fake.messages_to(chat)[before..].to_vec()
}

fn text_update(chat: i64, text: &str) -> serde_json::Value {
    let mut msg = serde_json::json!({"message_id": 1, "date": 1_700_000_000, "text": text,
        "from": {"id": chat, "is_bot": false, "first_name": "A", "language_code": "vi"},
        "chat": {"id": chat, "type": "private", "first_name": "A"}});
    if text.starts_with('/') {
        msg["entities"] = serde_json::json!([{"type": "bot_command", "offset": 0,
            "length": text.split(' ').next().unwrap().len()}]);
    }
    serde_json::json!({"message": msg})
}

fn press_update(fake: &FakeTelegram, chat: i64, data: &str) -> serde_json::Value {
    let msg = fake
        .messages_to(chat)
        .into_iter()
        .rev()
        .find(|c| c.buttons().iter().any(|b| b == data))
        .unwrap();
    serde_json::json!({"callback_query": {"id": "cb", "chat_instance": "-1", "data": data,
        "from": {"id": chat, "is_bot": false, "first_name": "A", "language_code": "vi"},
        "message": {"message_id": msg.message_id.unwrap(), "date": 1_700_000_000, "text": "…",
            "chat": {"id": chat, "type": "private", "first_name": "A"}}}})
}

#[tokio::test]
async fn sigterm_stops_the_binary_cleanly() {
    let redis = RedisServer::start();
    let fake = FakeTelegram::start().await;
    let mut run = start_binary(&redis, &fake);
    wait_healthy(run.port).await;
    let r = say(&fake, text_update(4001, "/start"), 4001, 2).await;
    assert!(r[0].text().contains("113"), "{}", texts(&r));
    // The shell's built-in kill: no procps needed.
    Command::new("sh")
        .args(["-c", "kill -TERM \"$0\"", &run.child.id().to_string()])
        .status()
        .unwrap();
    let status = wait_exit(&mut run.child, Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_killed_binary_resumes_the_conversation_after_restart() {
    let redis = RedisServer::start();
    let fake = FakeTelegram::start().await;
    let chat = 4002;
    let mut run = start_binary(&redis, &fake);
    wait_healthy(run.port).await;
    say(&fake, text_update(chat, "/start"), chat, 2).await;
    say(&fake, press_update(&fake, chat, "cat:weapons"), chat, 2).await;
    // Killed between two steps: once the last step is fully done (its inbox entry is gone).
    // A kill in the middle of sending may repeat a reply after the restart, by design.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let len: u64 = redis::cmd("XLEN")
            .arg("{tl}:inbox")
            .query(&mut redis.conn())
            .unwrap();
        if len == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the step never finished"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run.child.kill().unwrap();
    run.child.wait().unwrap();

    let mut run = start_binary(&redis, &fake);
    wait_healthy(run.port).await;
    say(&fake, text_update(chat, "Bãi sông Đà"), chat, 2).await;
    say(&fake, press_update(&fake, chat, "pl:unknown"), chat, 1).await;
    let r = say(
        &fake,
        text_update(chat, "Có người tàng trữ thuốc nổ đánh cá"),
        chat,
        1,
    )
    .await;
    assert!(r[0].text().contains("Đã ghi nhận"), "{}", texts(&r));
    say(&fake, press_update(&fake, chat, "go:next"), chat, 1).await;
    say(&fake, press_update(&fake, chat, "go:next"), chat, 1).await;
    say(&fake, text_update(chat, "🕶 Ẩn danh"), chat, 2).await;
    let r = say(&fake, press_update(&fake, chat, "rv:send"), chat, 1).await;
    assert!(receipt_code(&r).is_some(), "{}", texts(&r));
    run.child.kill().unwrap();
    run.child.wait().unwrap();
}

#[test]
fn check_config_lists_every_problem_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/tipline.toml"))
            .unwrap();
    std::fs::write(
        &path,
        shipped
            .replace("default_lang = \"vi\"", "default_lang = \"fr\"")
            .replace("evidence_max_files = 10", "evidence_max_files = 500")
            .replace("commune = \"thung-nai\"", "commune = \"nowhere\""),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check-config", "--config"])
        .arg(&path)
        .env_remove("TIPLINE_TELEGRAM_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for key in [
        "app.default_lang",
        "limits.evidence_max_files",
        "mailboxes[2].commune",
    ] {
        assert!(err.contains(key), "{key} not in: {err}");
    }

    let ok = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check-config"])
        .env("TIPLINE_TELEGRAM_TOKEN", "1:x")
        .env("TIPLINE_ALIAS_KEY", "k".repeat(32))
        .env("TIPLINE_ROUTE_KEY", "ab".repeat(32))
        .output()
        .unwrap();
    let warned = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{warned}");
    // Keys left to be derived from the alias key are allowed, and named.
    for key in [
        "TIPLINE_AUDIT_KEY: is not set",
        "TIPLINE_LINK_KEY: is not set",
    ] {
        assert!(warned.contains(key), "{key} not in: {warned}");
    }
    let own = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check-config"])
        .env("TIPLINE_TELEGRAM_TOKEN", "1:x")
        .env("TIPLINE_ALIAS_KEY", "k".repeat(32))
        .env("TIPLINE_ROUTE_KEY", "ab".repeat(32))
        .env("TIPLINE_AUDIT_KEY", "a".repeat(32))
        .env("TIPLINE_LINK_KEY", "l".repeat(32))
        .output()
        .unwrap();
    let quiet = String::from_utf8_lossy(&own.stderr);
    assert!(
        own.status.success() && !quiet.contains("is not set"),
        "{quiet}"
    );
}
