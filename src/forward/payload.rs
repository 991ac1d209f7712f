//! The body of a request to the triage service (schema `tipline.event.v1`,
//! `docs/schema/triage-event.v1.json`). Every event carries its tip's code, its per-tip
//! sequence number and the idempotency key `<code>:<seq>`; a `submitted` event carries the
//! whole tip; the others carry what changed. Citizens appear only by alias, officers only as
//! `officer` with their alias; a phone number is included only when the citizen chose to
//! leave one.

use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value, json};

use crate::codes::ReceiptCode;
use crate::config::Settings;
use crate::conversation::Place;
use crate::events::TipEvent;
use crate::privacy::Vault;
use crate::store::Tip;

use crate::links::LinkSigner;

/// The schema name in every body; bumped only with a breaking change.
pub const SCHEMA: &str = "tipline.event.v1";

/// What building a body needs besides the event.
pub struct Context<'a> {
    /// The configuration (labels, communes, links).
    pub settings: &'a Settings,
    /// Opens a shared phone number.
    pub vault: &'a Vault,
    /// Signs evidence links.
    pub links: &'a LinkSigner,
    /// Now, in unix seconds (links expire from here).
    pub now_unix: i64,
}

/// `2026-11-26T16:05:09.123Z`.
pub fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn actor(raw: &str) -> Value {
    if let Some(alias) = raw.strip_prefix("officer:") {
        json!({"kind": "officer", "alias": alias})
    } else if raw == "triage" || raw.starts_with("triage:") {
        json!({"kind": "triage"})
    } else if raw == "sla" || raw == "system" || raw.starts_with("system:") {
        json!({"kind": "system"})
    } else {
        json!({"kind": "citizen", "alias": raw})
    }
}

/// The body for `event`; `tip` is needed for a `submitted` event.
pub fn body(event: &TipEvent, tip: Option<&Tip>, ctx: &Context<'_>) -> Value {
    let head = event.head();
    let mut out = json!({
        "schema": SCHEMA,
        "id": idempotency_key(event),
        "type": event.kind(),
        "code": head.code.as_str(),
        "seq": head.seq,
        "at": iso(head.at),
        "actor": actor(&head.actor),
    });
    let mut data = Map::new();
    match event {
        TipEvent::Submitted { .. } => {
            if let Some(t) = tip {
                out["tip"] = tip_json(t, ctx);
            }
        }
        TipEvent::Acknowledged { .. } => {
            data.insert("status".into(), "acknowledged".into());
        }
        TipEvent::Claimed { .. } => {
            data.insert("status".into(), "in_progress".into());
        }
        TipEvent::Closed { disposition, .. } => {
            data.insert("status".into(), "closed".into());
            data.insert("disposition".into(), disposition.as_str().into());
        }
        TipEvent::InfoRequested { text, .. }
        | TipEvent::CitizenReplied { text, .. }
        | TipEvent::Noted { text, .. } => {
            data.insert("text".into(), text.as_str().into());
        }
        TipEvent::Hotspot {
            commune,
            category,
            count,
            window_mins,
            codes,
            ..
        } => {
            data.insert("commune".into(), commune.as_str().into());
            data.insert("category".into(), category.as_str().into());
            data.insert("count".into(), (*count).into());
            data.insert("window_mins".into(), (*window_mins).into());
            data.insert(
                "codes".into(),
                codes
                    .iter()
                    .map(ReceiptCode::as_str)
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
        // Nothing changes on the tip; the type says it all.
        TipEvent::Escalated { .. } => {}
        // The tip's content is gone here: the triage service deletes its copy too.
        TipEvent::Purged { .. } => {
            data.insert("status".into(), "purged".into());
        }
    }
    out["data"] = Value::Object(data);
    out
}

/// Whether the body of `event` carries the whole tip.
pub fn needs_tip(event: &TipEvent) -> bool {
    match event {
        TipEvent::Submitted { .. } => true,
        TipEvent::Hotspot { .. }
        | TipEvent::Acknowledged { .. }
        | TipEvent::Claimed { .. }
        | TipEvent::Closed { .. }
        | TipEvent::Escalated { .. }
        | TipEvent::InfoRequested { .. }
        | TipEvent::CitizenReplied { .. }
        | TipEvent::Noted { .. }
        | TipEvent::Purged { .. } => false,
    }
}

/// `<code>:<seq>`, the same for every attempt at one event.
pub fn idempotency_key(event: &TipEvent) -> String {
    let head = event.head();
    format!("{}:{}", head.code, head.seq)
}

fn tip_json(tip: &Tip, ctx: &Context<'_>) -> Value {
    let settings = ctx.settings;
    let place = match &tip.place {
        Place::Pin { lat, lon } => json!({"kind": "pin", "lat": lat, "lon": lon}),
        Place::Commune { id } => json!({
            "kind": "commune",
            "id": id,
            "name": settings.commune(id).map(|c| c.name.as_str()),
        }),
        Place::Mailbox { code } => json!({
            "kind": "mailbox",
            "code": code,
            "name": settings.mailbox(code).map(|m| m.name.as_str()),
        }),
        Place::Text { text } => json!({"kind": "text", "text": text}),
    };
    let commune = tip.commune.as_deref().map(|id| {
        let c = settings.commune(id);
        // The current commune: a tip of a unit merged since is sent as the new commune's.
        let province = settings.app.province.trim();
        json!({
            "id": c.map_or(id, |c| c.id.as_str()),
            "name": c.map(|c| c.name.as_str()),
            "province": (!province.is_empty()).then_some(province),
            "district": c.map(|c| c.district.as_str()).filter(|d| !d.is_empty()),
        })
    });
    let mailbox = tip
        .mailbox
        .as_deref()
        .map(|code| json!({"code": code, "name": settings.mailbox(code).map(|m| m.name.as_str())}));
    // Valid for the configured time from the tip's submission, so that every retry of the
    // event carries the same body; an event delivered late still gets at least half of it.
    let ttl = ctx.settings.triage.evidence_url_ttl_secs as i64;
    let exp = (tip.received_ms / 1000 + ttl).max(ctx.now_unix + ttl / 2);
    let base = ctx.settings.http.public_url.trim_end_matches('/');
    let evidence: Vec<Value> = tip
        .evidence
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "index": i,
                "kind": serde_json::to_value(e.kind).unwrap_or(Value::Null),
                "mime": e.mime,
                "size": e.size,
                "url": format!("{base}{}", ctx.links.path(tip.code.as_str(), i, exp)),
                "expires_at": iso(exp * 1000),
            })
        })
        .collect();
    let phone = tip
        .contact_sealed
        .as_deref()
        .and_then(|s| ctx.vault.open(s).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let category = settings.category(&tip.category);
    json!({
        "code": tip.code.as_str(),
        "received_at": iso(tip.received_ms),
        "started_at": iso(tip.started_ms),
        "channel": serde_json::to_value(tip.channel).unwrap_or(Value::Null),
        "lang": serde_json::to_value(tip.lang).unwrap_or(Value::Null),
        "category": {
            "id": tip.category,
            "vi": category.map(|c| c.vi.as_str()),
            "en": category.map(|c| c.en.as_str()),
        },
        "priority": serde_json::to_value(tip.priority).unwrap_or(Value::Null),
        "reasons": tip.priority_reasons,
        "emergency": tip.emergency,
        "place": place,
        "commune": commune,
        "mailbox": mailbox,
        "description": tip.description,
        "evidence": evidence,
        "contact": phone.map(|p| json!({"phone": p})),
        "alias": tip.alias,
        "duplicate_of": tip.duplicate_of.as_deref(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use figment::providers::Env;

    use super::*;

    fn settings() -> Settings {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Settings::load_with(
            &root.join("config/tipline.toml"),
            Env::prefixed("TIPLINE_TEST_NOTHING__"),
        )
        .unwrap()
    }

    fn event(fields: &[(&str, &str)]) -> TipEvent {
        let fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>();
        TipEvent::decode(&fields).unwrap()
    }

    /// The body of every kind of event (a `submitted` one without its tip, which the schema
    /// tests cover) is pinned byte for byte: it is the triage service's contract.
    #[test]
    fn every_kind_of_event_gives_the_same_bytes_as_before() {
        let settings = settings();
        let vault = Vault::from_keys(b"an alias key of at least 32 chars!!", &[7; 32]);
        let links = LinkSigner::new(b"a link key of at least 32 chars!!!!");
        let ctx = Context {
            settings: &settings,
            vault: &vault,
            links: &links,
            now_unix: 1_795_734_000,
        };
        let head = |kind: &'static str, seq: &'static str, actor: &'static str| {
            vec![
                ("type", kind),
                ("code", "TB-7K3Q-X9MD"),
                ("seq", seq),
                ("actor", actor),
                ("at", "1795734012345"),
            ]
        };
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                [head("submitted", "1", "a1b2c3"), vec![("priority", "high")]].concat(),
                r#"{"actor":{"alias":"a1b2c3","kind":"citizen"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{},"id":"TB-7K3Q-X9MD:1","schema":"tipline.event.v1","seq":1,"type":"submitted"}"#,
            ),
            (
                [
                    head("acknowledged", "2", "officer:0f9e"),
                    vec![("ack_ms", "1795734012345")],
                ]
                .concat(),
                r#"{"actor":{"alias":"0f9e","kind":"officer"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"status":"acknowledged"},"id":"TB-7K3Q-X9MD:2","schema":"tipline.event.v1","seq":2,"type":"acknowledged"}"#,
            ),
            (
                [
                    head("claimed", "3", "triage"),
                    vec![("claim_ms", "1795734012345")],
                ]
                .concat(),
                r#"{"actor":{"kind":"triage"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"status":"in_progress"},"id":"TB-7K3Q-X9MD:3","schema":"tipline.event.v1","seq":3,"type":"claimed"}"#,
            ),
            (
                [
                    head("closed", "9", "officer:0f9e"),
                    vec![("close_ms", "1795734012345"), ("disposition", "handled")],
                ]
                .concat(),
                r#"{"actor":{"alias":"0f9e","kind":"officer"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"disposition":"handled","status":"closed"},"id":"TB-7K3Q-X9MD:9","schema":"tipline.event.v1","seq":9,"type":"closed"}"#,
            ),
            (
                head("escalated", "4", "sla"),
                r#"{"actor":{"kind":"system"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{},"id":"TB-7K3Q-X9MD:4","schema":"tipline.event.v1","seq":4,"type":"escalated"}"#,
            ),
            (
                head("escalated", "5", "officer:0f9e"),
                r#"{"actor":{"alias":"0f9e","kind":"officer"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{},"id":"TB-7K3Q-X9MD:5","schema":"tipline.event.v1","seq":5,"type":"escalated"}"#,
            ),
            (
                [
                    head("info_requested", "6", "officer:0f9e"),
                    vec![("text", "Quán nước tên gì? \"A\"")],
                ]
                .concat(),
                r#"{"actor":{"alias":"0f9e","kind":"officer"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"text":"Quán nước tên gì? \"A\""},"id":"TB-7K3Q-X9MD:6","schema":"tipline.event.v1","seq":6,"type":"info_requested"}"#,
            ),
            (
                [
                    head("citizen_replied", "7", "a1b2c3"),
                    vec![("text", "Quán Bà Tư")],
                ]
                .concat(),
                r#"{"actor":{"alias":"a1b2c3","kind":"citizen"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"text":"Quán Bà Tư"},"id":"TB-7K3Q-X9MD:7","schema":"tipline.event.v1","seq":7,"type":"citizen_replied"}"#,
            ),
            (
                [
                    head("noted", "8", "triage"),
                    vec![("text", "Đã giao tổ trinh sát")],
                ]
                .concat(),
                r#"{"actor":{"kind":"triage"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"text":"Đã giao tổ trinh sát"},"id":"TB-7K3Q-X9MD:8","schema":"tipline.event.v1","seq":8,"type":"noted"}"#,
            ),
            (
                [
                    head("hotspot", "2", "system"),
                    vec![
                        ("commune", "cao-phong"),
                        ("category", "drugs"),
                        ("count", "3"),
                        ("window_mins", "1440"),
                        ("codes", "TB-7K3Q-X9MD,TB-0000-0001,TB-ZZZZ-ZZZZ"),
                    ],
                ]
                .concat(),
                r#"{"actor":{"kind":"system"},"at":"2026-11-26T23:00:12.345Z","code":"TB-7K3Q-X9MD","data":{"category":"drugs","codes":["TB-7K3Q-X9MD","TB-0000-0001","TB-ZZZZ-ZZZZ"],"commune":"cao-phong","count":3,"window_mins":1440},"id":"TB-7K3Q-X9MD:2","schema":"tipline.event.v1","seq":2,"type":"hotspot"}"#,
            ),
        ];
        for (fields, want) in cases {
            let got = serde_json::to_string(&body(&event(&fields), None, &ctx)).unwrap();
            assert_eq!(got, want);
        }
    }
}
