//! Round trips of every kind of event, and what decoding makes of entries that are not events.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

fn map(fields: &[(&str, String)]) -> HashMap<String, String> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn code() -> impl Strategy<Value = ReceiptCode> {
    "[0-9A-HJKMNP-TV-Z]{8}".prop_map(|body| {
        // The pattern is exactly a code's body.
        ReceiptCode::parse(&body).expect("a code body")
    })
}

fn head() -> impl Strategy<Value = Head> {
    (code(), any::<u64>(), ".*", any::<i64>()).prop_map(|(code, seq, actor, at)| Head {
        code,
        seq,
        actor,
        at,
    })
}

fn priority() -> impl Strategy<Value = Priority> {
    prop_oneof![
        Just(Priority::Low),
        Just(Priority::Normal),
        Just(Priority::High),
        Just(Priority::Urgent),
    ]
}

fn event() -> impl Strategy<Value = TipEvent> {
    prop_oneof![
        (head(), priority()).prop_map(|(head, priority)| TipEvent::Submitted { head, priority }),
        (
            head(),
            ".*",
            ".*",
            any::<u64>(),
            any::<u64>(),
            prop::collection::vec(code(), 0..5)
        )
            .prop_map(|(head, commune, category, count, window_mins, codes)| {
                TipEvent::Hotspot {
                    head,
                    commune,
                    category,
                    count,
                    window_mins,
                    codes,
                }
            }),
        head().prop_map(|head| TipEvent::Acknowledged { head }),
        head().prop_map(|head| TipEvent::Claimed { head }),
        (head(), ".*").prop_map(|(head, disposition)| TipEvent::Closed { head, disposition }),
        head().prop_map(|head| TipEvent::Escalated { head }),
        (head(), ".*").prop_map(|(head, text)| TipEvent::InfoRequested { head, text }),
        (head(), ".*").prop_map(|(head, text)| TipEvent::CitizenReplied { head, text }),
        (head(), ".*").prop_map(|(head, text)| TipEvent::Noted { head, text }),
    ]
}

proptest! {
    #[test]
    fn every_event_decodes_to_itself(e in event()) {
        prop_assert_eq!(TipEvent::decode(&map(&e.encode())), Ok(e));
    }

    #[test]
    fn decoding_any_fields_never_panics(
        fields in prop::collection::hash_map(
            prop_oneof![
                Just("type".to_owned()), Just("code".to_owned()), Just("seq".to_owned()),
                Just("actor".to_owned()), Just("at".to_owned()), Just("codes".to_owned()),
                Just("count".to_owned()), Just("priority".to_owned()), ".*",
            ],
            ".*",
            0..8,
        )
    ) {
        let _ = TipEvent::decode(&fields);
    }

    #[test]
    fn an_event_without_any_one_of_its_fields_is_an_error(e in event(), drop in any::<prop::sample::Index>()) {
        let fields = e.encode();
        let (gone, _) = fields[drop.index(fields.len())];
        let mut m = map(&fields);
        m.remove(gone);
        let decoded = TipEvent::decode(&m);
        match gone {
            "type" => prop_assert_eq!(decoded, Err(DecodeError::UnknownType(String::new()))),
            // These repeat `at` and are only read from the tip hash.
            "ack_ms" | "claim_ms" | "close_ms" => prop_assert_eq!(decoded, Ok(e)),
            _ => prop_assert_eq!(decoded, Err(DecodeError::Missing(gone))),
        }
    }
}

fn fields(kind: &str) -> HashMap<String, String> {
    map(&[
        ("type", kind.to_owned()),
        ("code", "TB-7K3Q-X9MD".to_owned()),
        ("seq", "2".to_owned()),
        ("actor", "officer:0f9e".to_owned()),
        ("at", "1795734012345".to_owned()),
    ])
}

#[test]
fn an_unknown_type_is_an_error_that_names_it() {
    let err = TipEvent::decode(&fields("reopened")).unwrap_err();
    assert_eq!(err, DecodeError::UnknownType("reopened".into()));
    assert_eq!(err.to_string(), r#"unknown event type "reopened""#);
}

#[test]
fn a_missing_field_is_an_error_that_names_it() {
    let err = TipEvent::decode(&fields("closed")).unwrap_err();
    assert_eq!(err, DecodeError::Missing("disposition"));
    assert_eq!(err.to_string(), "event field `disposition` is missing");
}

#[test]
fn an_invalid_field_is_an_error_that_names_it_but_not_its_value() {
    let mut f = fields("escalated");
    f.insert("seq".into(), "secret-ish".into());
    let err = TipEvent::decode(&f).unwrap_err();
    assert!(
        matches!(err, DecodeError::Invalid { field: "seq", .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("secret-ish"), "{err}");
    let mut f = fields("submitted");
    f.insert("priority".into(), "huge".into());
    assert!(matches!(
        TipEvent::decode(&f),
        Err(DecodeError::Invalid {
            field: "priority",
            ..
        })
    ));
    let mut f = fields("acknowledged");
    f.insert("code".into(), "TB-UUUU-UUUU".into());
    assert!(matches!(
        TipEvent::decode(&f),
        Err(DecodeError::Invalid { field: "code", .. })
    ));
}

#[test]
fn events_written_before_names_left_events_still_decode() {
    // Before officers' names were kept out of events, `ack_by` was copied into them.
    let mut f = fields("acknowledged");
    f.insert("ack_ms".into(), "1795734012345".into());
    f.insert("ack_by".into(), "Đại úy Hà".into());
    let e = TipEvent::decode(&f).unwrap();
    assert_eq!(e.kind(), "acknowledged");
    assert_eq!(e.head().seq, 2);
    assert_eq!(e.code().as_str(), "TB-7K3Q-X9MD");
}

#[test]
fn the_kinds_are_exactly_the_types_the_triage_schema_lists() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/schema/triage-event.v1.json")).unwrap();
    let mut listed: Vec<&str> = schema["properties"]["type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    listed.sort_unstable();
    let mut kinds = KINDS.to_vec();
    kinds.sort_unstable();
    assert_eq!(kinds, listed);
}
