//! The audit trail: officer actions are recorded in a keyed chain that `audit verify` checks;
//! an officer's action on a tip and its record land in one script; `/tip` and `/pending` are
//! recorded; the weekly report carries the head that `audit verify --head` checks.

use std::process::Command;

use tipline::audit::{self, Broken, Intact};
use tipline::store::Store;

use crate::support::{AUDIT_KEY, spawn_app};

#[path = "audit_atomic.rs"]
mod atomic;

fn verify_cli(t: &crate::support::TestApp) -> (bool, String) {
    verify_cli_with(t, &[])
}

/// `tipline audit verify` with `extra` arguments, run as the operator would, with the key.
pub(crate) fn verify_cli_with(t: &crate::support::TestApp, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "verify"])
        .args(extra)
        .env("TIPLINE__REDIS__URL", t.redis.url())
        .env("TIPLINE__APP__NAMESPACE", t.ns())
        .env("TIPLINE_AUDIT_KEY", AUDIT_KEY)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn officer_actions_are_chained_and_tampering_is_detected() {
    let t = spawn_app().await;
    let store = Store::connect(&t.redis.url(), t.ns())
        .await
        .unwrap()
        .with_audit_key(AUDIT_KEY.as_bytes());
    for (i, action) in ["acknowledged", "claimed", "closed", "escalated"]
        .iter()
        .enumerate()
    {
        audit::append(
            &store,
            1_000 + i as i64,
            "officer:cabc",
            action,
            "TB-0000-0001",
            "",
        )
        .await
        .unwrap();
    }
    assert_eq!(
        audit::verify(&store, AUDIT_KEY.as_bytes(), None)
            .await
            .unwrap(),
        Ok(Intact {
            records: 4,
            keyed_from: Some(1)
        })
    );
    let (ok, out) = verify_cli(&t);
    assert!(ok && out.contains("intact: 4 records"), "{out}");
    // Without the key (another one), the records do not verify.
    assert!(matches!(
        audit::verify(&store, b"not-the-key-not-the-key-not-the-key", None)
            .await
            .unwrap(),
        Err(Broken::Changed { n: 1, .. })
    ));

    let ids: Vec<String> = {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(format!("{}:audit", t.ns()))
            .arg("-")
            .arg("+")
            .query(&mut t.redis())
            .unwrap();
        reply.ids.into_iter().map(|i| i.id).collect()
    };

    // A changed record: rewritten at the end with another action but its old hash.
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg(&ids[1])
        .arg(&ids[1])
        .query(&mut t.redis())
        .unwrap();
    let fields = &reply.ids[0];
    let get = |k: &str| fields.get::<String>(k).unwrap();
    let mut changed = vec![];
    for k in [
        "n", "at", "actor", "action", "code", "detail", "prev", "hash", "v",
    ] {
        changed.push((
            k,
            if k == "action" {
                "unfounded".to_owned()
            } else {
                get(k)
            },
        ));
    }
    // Rebuild the stream: records 1, changed 2, 3, 4.
    let all: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:audit", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    for (i, entry) in all.ids.iter().enumerate() {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(format!("{}:audit", t.ns())).arg("*");
        for k in [
            "n", "at", "actor", "action", "code", "detail", "prev", "hash", "v",
        ] {
            let v = if i == 1 {
                changed.iter().find(|(f, _)| *f == k).unwrap().1.clone()
            } else {
                entry.get::<String>(k).unwrap()
            };
            cmd.arg(k).arg(v);
        }
        let _: String = cmd.query(&mut t.redis()).unwrap();
    }
    assert!(matches!(
        audit::verify(&store, AUDIT_KEY.as_bytes(), None)
            .await
            .unwrap(),
        Err(Broken::Changed { n: 2, .. })
    ));
    let (ok, out) = verify_cli(&t);
    assert!(
        !ok && out.contains("record 2") && out.contains("changed"),
        "{out}"
    );

    // A removed record.
    let now: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    let _: i64 = redis::cmd("XDEL")
        .arg(format!("{}:audit", t.ns()))
        .arg(&now.ids[1].id)
        .query(&mut t.redis())
        .unwrap();
    assert!(matches!(
        audit::verify(&store, AUDIT_KEY.as_bytes(), None)
            .await
            .unwrap(),
        Err(Broken::Gap { n: 3, .. })
    ));

    // The last record cut off (after putting record 2 back is impossible, start a fresh trail).
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:audit", t.ns()))
        .arg(format!("{}:audit:head", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    for i in 0..3 {
        audit::append(
            &store,
            i,
            "officer:cabc",
            "acknowledged",
            "TB-0000-0002",
            "",
        )
        .await
        .unwrap();
    }
    let last: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query(&mut t.redis())
        .unwrap();
    let _: i64 = redis::cmd("XDEL")
        .arg(format!("{}:audit", t.ns()))
        .arg(&last.ids[0].id)
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(
        audit::verify(&store, AUDIT_KEY.as_bytes(), None)
            .await
            .unwrap(),
        Err(Broken::Truncated { last: 2, head: 3 })
    );
}
