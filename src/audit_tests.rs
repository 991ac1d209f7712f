//! The chain's checks on records built in memory: keyed records verify with the key only, a
//! record edited without the key is found whether or not it was re-hashed with the plain
//! hash, and the previous version's plain records still verify.

use std::collections::HashMap;

use redis::streams::StreamId;

use super::*;

const KEY: &[u8] = b"audit-key-audit-key-audit-key-32";

fn record(n: u64, action: &str) -> Record {
    Record {
        n,
        at: 1_000 + n as i64,
        actor: "officer:oabc".into(),
        action: action.into(),
        code: "TB-0000-0001".into(),
        detail: String::new(),
    }
}

/// The stream entry of `r` after `prev`, with `hash` and `v` as given.
fn entry(r: &Record, prev: &str, hash: &str, v: Option<&str>) -> StreamId {
    let mut map = HashMap::new();
    let mut put = |k: &str, v: String| {
        map.insert(k.to_owned(), redis::Value::BulkString(v.into_bytes()));
    };
    put("n", r.n.to_string());
    put("at", r.at.to_string());
    put("actor", r.actor.clone());
    put("action", r.action.clone());
    put("code", r.code.clone());
    put("detail", r.detail.clone());
    put("prev", prev.to_owned());
    put("hash", hash.to_owned());
    if let Some(v) = v {
        put("v", v.to_owned());
    }
    StreamId {
        id: format!("{}-0", r.n),
        map,
        ..StreamId::default()
    }
}

/// Checks entries in order as `verify` does; the first broken record, or the keyed start.
fn walk(entries: &[StreamId], key: &[u8]) -> Result<Option<u64>, Broken> {
    let mut prev = GENESIS.to_owned();
    let mut keyed_from = None;
    for (i, e) in entries.iter().enumerate() {
        let (r, v2, h) = check(e, i as u64 + 1, &prev, keyed_from.is_some(), key)?;
        if v2 && keyed_from.is_none() {
            keyed_from = Some(r.n);
        }
        prev = h;
    }
    Ok(keyed_from)
}

/// Two plain records of the previous version, then two keyed ones.
fn mixed_chain() -> Vec<StreamId> {
    let mut prev = GENESIS.to_owned();
    let mut out = Vec::new();
    for n in 1..=4 {
        let r = record(n, "acknowledged");
        let (h, v) = if n <= 2 {
            (plain_hash(&r, &prev), None)
        } else {
            (keyed_hash(KEY, &r, &prev), Some("2"))
        };
        out.push(entry(&r, &prev, &h, v));
        prev = h;
    }
    out
}

#[test]
fn the_previous_versions_records_verify_and_the_keyed_chain_follows_them() {
    assert_eq!(walk(&mixed_chain(), KEY), Ok(Some(3)));
}

#[test]
fn keyed_records_do_not_verify_under_another_key() {
    assert!(matches!(
        walk(&mixed_chain(), b"another-key-another-key-another!!"),
        Err(Broken::Changed { n: 3, .. })
    ));
}

#[test]
fn a_keyed_record_edited_without_the_key_is_detected() {
    let mut chain = mixed_chain();
    let prev = chain[2].get::<String>("prev").unwrap();
    let hash = chain[2].get::<String>("hash").unwrap();
    let edited = record(3, "closed");
    chain[2] = entry(&edited, &prev, &hash, Some("2"));
    assert!(matches!(
        walk(&chain, KEY),
        Err(Broken::Changed { n: 3, .. })
    ));
}

#[test]
fn a_keyed_record_rewritten_with_the_plain_hash_is_detected() {
    let mut chain = mixed_chain();
    let prev = chain[2].get::<String>("prev").unwrap();
    let edited = record(3, "closed");
    // Consistent as the previous version would check it, with or without the `v` mark.
    let plain = plain_hash(&edited, &prev);
    for v in [Some("2"), None, Some("1")] {
        chain[2] = entry(&edited, &prev, &plain, v);
        // Changed, or (without the mark) record 4, keyed, no longer follows it.
        assert!(
            matches!(
                walk(&chain, KEY),
                Err(Broken::Changed { n: 3, .. } | Broken::Gap { n: 4, .. })
            ),
            "v = {v:?}"
        );
    }
}

#[test]
fn a_whole_tail_rewritten_as_plain_records_is_detected_by_the_switch_or_the_pinned_head() {
    // Whoever lacks the key rewrites record 3 and re-chains record 4 with plain hashes.
    let mut chain = mixed_chain();
    let pinned = chain[3].get::<String>("hash").unwrap();
    let mut prev = chain[1].get::<String>("hash").unwrap();
    for n in 3..=4 {
        let r = record(n, "closed");
        let h = plain_hash(&r, &prev);
        chain[n as usize - 1] = entry(&r, &prev, &h, None);
        prev = h;
    }
    // The chain now reads as the previous version's throughout: the keyed chain no longer
    // starts where `audit verify` reported it did, and the reported head is gone.
    assert_eq!(walk(&chain, KEY), Ok(None));
    assert_ne!(chain[3].get::<String>("hash").unwrap(), pinned);
}

#[test]
fn a_plain_record_edited_is_still_detected() {
    let mut chain = mixed_chain();
    let prev = chain[0].get::<String>("prev").unwrap();
    let hash = chain[0].get::<String>("hash").unwrap();
    chain[0] = entry(&record(1, "closed"), &prev, &hash, None);
    assert!(matches!(
        walk(&chain, KEY),
        Err(Broken::Changed { n: 1, .. })
    ));
}

#[test]
fn a_head_is_parsed_as_the_report_prints_it() {
    let h = "ab".repeat(32);
    assert_eq!(parse_head(&format!("#12:{h}")), Some((12, h.clone())));
    assert_eq!(
        parse_head(&format!("12:{}", h.to_uppercase())),
        Some((12, h))
    );
    assert_eq!(parse_head("12:abc"), None);
    assert_eq!(parse_head("x:ab"), None);
}
