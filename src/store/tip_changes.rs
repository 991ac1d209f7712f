//! Changes of a stored tip, each one script: an officer's action (`transition.lua`: checks
//! the tip's status, sets the new one and its fields, appends the event with the next
//! sequence number) and an event that changes no state (`append_event.lua`, optionally once
//! per idempotency key). Of several presses at once only the first finds the tip in a state
//! the action applies to; the others get [`Transition::NotNow`].
//!
//! Keys: the tip's hash and the events stream (see `tips.rs` and `mod.rs`), and for a
//! once-only event the caller's own key of this namespace (kept a week).

use super::script::{APPEND_EVENT, Call, TRANSITION};
use super::tips::{TipStatus, parse_status, status_name};
use super::{AuditAppend, Store};
use crate::codes::ReceiptCode;

/// What an officer's action on a tip did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Done now; the event has this sequence number.
    Done(u64),
    /// The tip is not in a state this action applies to (somebody was quicker).
    NotNow(TipStatus),
    /// No such tip.
    Unknown,
}

/// One officer action: the states it applies to, the state it leads to, and what it records.
#[derive(Debug, Clone)]
pub struct Action<'a> {
    /// The event type appended (`acknowledged`, `claimed`, `closed`).
    pub event: &'a str,
    /// States the action applies to.
    pub from: &'a [TipStatus],
    /// The state after it.
    pub to: TipStatus,
    /// Fields set on the tip and copied into the event, e.g. `("disposition", "spam")`.
    pub fields: Vec<(&'a str, String)>,
}

/// Arguments of `transition.lua`.
struct TransitionArgs<'a> {
    tip: String,
    events: String,
    code: &'a str,
    at_ms: i64,
    to_status: String,
    event_type: &'a str,
    actor: &'a str,
    /// Comma-separated status names.
    from_statuses: String,
    audit: &'a AuditAppend,
    fields: &'a [(&'a str, String)],
}

impl TransitionArgs<'_> {
    fn call(&self, keys: &super::Keys) -> Call {
        let mut call = TRANSITION.call();
        call.key(&self.tip).key(&self.events);
        AuditAppend::push_keys(keys, &mut call);
        call.arg(self.code)
            .arg(self.at_ms)
            .arg(&self.to_status)
            .arg(self.event_type)
            .arg(self.actor)
            .arg(&self.from_statuses);
        self.audit.push_args(&mut call);
        for (k, v) in self.fields {
            call.arg(*k).arg(v);
        }
        call
    }
}

/// Arguments of `append_event.lua`.
struct AppendEventArgs<'a> {
    tip: String,
    events: String,
    /// The once-only key, or (unused) the tip's key, so the script stays in one cluster slot.
    once_key: String,
    code: &'a str,
    event_type: &'a str,
    actor: &'a str,
    at_ms: i64,
    once: bool,
    /// The audit record written with the event, if the event is an audited action.
    audit: Option<&'a AuditAppend>,
    fields: &'a [(&'a str, &'a str)],
}

impl AppendEventArgs<'_> {
    fn call(&self, keys: &super::Keys) -> Call {
        let mut call = APPEND_EVENT.call();
        call.key(&self.tip).key(&self.events).key(&self.once_key);
        AuditAppend::push_keys(keys, &mut call);
        call.arg(self.code)
            .arg(self.event_type)
            .arg(self.actor)
            .arg(self.at_ms)
            .arg(if self.once { "1" } else { "0" })
            .arg(if self.audit.is_some() { "1" } else { "0" });
        match self.audit {
            Some(audit) => audit.push_args(&mut call),
            None => AuditAppend::push_none(&mut call),
        }
        for (k, v) in self.fields {
            call.arg(*k).arg(*v);
        }
        call
    }
}

impl Store {
    /// Applies an officer action and appends its event and its audit record, atomically: of
    /// several presses at once, only the first finds the tip in a state the action applies
    /// to. `None`: the audit head moved since `audit` was computed, nothing was written
    /// (compute the record again and retry).
    pub async fn transition(
        &self,
        code: &ReceiptCode,
        action: &Action<'_>,
        now_ms: i64,
        actor: &str,
        audit: &AuditAppend,
    ) -> redis::RedisResult<Option<Transition>> {
        let from: Vec<String> = action.from.iter().map(|s| status_name(*s)).collect();
        let args = TransitionArgs {
            tip: self.keys.tip(code.as_str()),
            events: self.keys.events(),
            code: code.as_str(),
            at_ms: now_ms,
            to_status: status_name(action.to),
            event_type: action.event,
            actor,
            from_statuses: from.join(","),
            audit,
            fields: &action.fields,
        };
        let (seq, status): (i64, String) = args.call(&self.keys).invoke(&mut self.conn()).await?;
        Ok(match seq {
            -2 => None,
            -1 => Some(Transition::Unknown),
            0 => Some(Transition::NotNow(
                parse_status(&status).unwrap_or(TipStatus::Closed),
            )),
            n => Some(Transition::Done(n as u64)),
        })
    }

    /// Appends an event that changes no state (e.g. `escalated`), with the tip's next
    /// sequence number, atomically.
    pub async fn append_event(
        &self,
        code: &str,
        kind: &str,
        actor: &str,
        now_ms: i64,
        fields: &[(&str, &str)],
    ) -> redis::RedisResult<u64> {
        self.append_event_once(None, code, kind, actor, now_ms, fields)
            .await
    }

    /// Like [`Store::append_event`], but only once per `once` key (kept a week): a retried
    /// update that carries the same action appends nothing and gets 0.
    pub async fn append_event_once(
        &self,
        once: Option<&str>,
        code: &str,
        kind: &str,
        actor: &str,
        now_ms: i64,
        fields: &[(&str, &str)],
    ) -> redis::RedisResult<u64> {
        let seq = self
            .append_event_audited(once, code, kind, actor, now_ms, fields, None)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// Like [`Store::append_event_once`], with the action's audit record written in the same
    /// script: the event and its record land together or not at all. `None`: the audit head
    /// moved since `audit` was computed, nothing was written (compute it again and retry).
    #[expect(
        clippy::too_many_arguments,
        reason = "the script's arguments, each named"
    )]
    pub async fn append_event_audited(
        &self,
        once: Option<&str>,
        code: &str,
        kind: &str,
        actor: &str,
        now_ms: i64,
        fields: &[(&str, &str)],
        audit: Option<&AuditAppend>,
    ) -> redis::RedisResult<Option<u64>> {
        let args = AppendEventArgs {
            tip: self.keys.tip(code),
            events: self.keys.events(),
            once_key: once.map_or_else(|| self.keys.tip(code), str::to_owned),
            code,
            event_type: kind,
            actor,
            at_ms: now_ms,
            once: once.is_some(),
            audit,
            fields,
        };
        let seq: i64 = args.call(&self.keys).invoke(&mut self.conn()).await?;
        Ok(u64::try_from(seq).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::tests::assert_matches;

    #[test]
    fn the_transition_builder_pushes_what_transition_lua_declares() {
        let fields = [("disposition", "spam".to_owned())];
        let audit = AuditAppend::sample();
        let keys = crate::store::Keys::new("{t}");
        let mut args = TransitionArgs {
            tip: "k".into(),
            events: "k".into(),
            code: "TB-0000-0000",
            at_ms: 1,
            to_status: "closed".into(),
            event_type: "closed",
            actor: "a",
            from_statuses: "submitted".into(),
            audit: &audit,
            fields: &[],
        };
        assert_matches(&TRANSITION, &args.call(&keys), 0);
        args.fields = &fields;
        assert_matches(&TRANSITION, &args.call(&keys), 2);
    }

    #[test]
    fn the_append_event_builder_pushes_what_append_event_lua_declares() {
        let mut args = AppendEventArgs {
            tip: "k".into(),
            events: "k".into(),
            once_key: "k".into(),
            code: "TB-0000-0000",
            event_type: "escalated",
            actor: "system",
            at_ms: 1,
            once: false,
            audit: None,
            fields: &[],
        };
        let keys = crate::store::Keys::new("{t}");
        assert_matches(&APPEND_EVENT, &args.call(&keys), 0);
        args.fields = &[("stage", "2")];
        assert_matches(&APPEND_EVENT, &args.call(&keys), 2);
        let audit = AuditAppend::sample();
        args.audit = Some(&audit);
        assert_matches(&APPEND_EVENT, &args.call(&keys), 2);
    }
}
