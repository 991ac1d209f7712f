//! What follows a citizen's input: the conversation's step, the work its effects ask for
//! (a status lookup, a submitted tip with its triage, an answer to an officer), one atomic
//! commit of all of it with the update's `seen` mark and the replies to send, then the replies.
//! A tip over the hourly limit is refused with the conversation put back as it was.
//!
//! The commit is the point of no return: before it nothing is stored, so a failure retries the
//! update from the start; after it the mark holds the replies, so a failure resends them.

use super::{Intake, Sent};
use crate::channels::Outgoing;
use crate::conversation::{
    self, Conversation, Ctx, Draft, Effect, Input, Keyboard, Phone, Place, Reply, State, prompt,
};
use crate::i18n::{Lang, Msg};
use crate::outbound::render_for;
use crate::privacy::{Channel, Route};
use crate::store::{Commit, CommitOutcome, Hotspot, NewTip, Tip, TipStatus};

/// Seconds an idle conversation (language choice) is kept.
const IDLE_CONVERSATION_TTL: u64 = 90 * 24 * 3600;

impl Intake {
    /// Runs one input through the conversation for `alias` (`stored`, with the tip whose
    /// officer's `question` is open, as read just before; `None` for the draft timer, which
    /// never answers) and does all that follows. `counted_ms` is when the input counts for the
    /// citizen's tip and lookup limits (its send time, see `flood.rs`).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn converse(
        &self,
        alias: &str,
        route: &Route,
        lang: Lang,
        input: Input,
        seen_key: &str,
        counted_ms: i64,
        stored: Option<Conversation>,
        question: Option<String>,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let now = sh.clock.now_ms();

        if input == Input::Tick && stored.is_none() {
            sh.store.mark_seen(seen_key).await?;
            return Ok(None);
        }
        let is_new = stored.is_none();
        // An officer asked about one of this citizen's tips: while idle, what they write goes
        // to that tip until they press «Xong» (`State::Answering`).
        let conv = stored
            .unwrap_or_else(|| Conversation::new(lang, now))
            .resume(question);
        let before = conv.clone();
        let ctx = Ctx {
            settings: &sh.settings,
            texts: &sh.texts,
            emergency: &sh.emergency,
            now_ms: now,
        };
        let outcome = conversation::step(conv, input, &ctx);
        let mut conv = outcome.conversation;
        let mut replies = outcome.replies;
        let mut tip = None;
        let mut answer = None;
        for effect in outcome.effects {
            match effect {
                Effect::Status(code) => {
                    replies.push(
                        self.status(alias, seen_key, &code, conv.lang, counted_ms)
                            .await?,
                    );
                }
                Effect::StatusList => replies.extend(self.status_list(alias, conv.lang).await?),
                Effect::Submit(draft) => {
                    let tips = sh
                        .store
                        .rate_hit("tip", alias, seen_key, counted_ms, 3600)
                        .await?;
                    if tips > u64::from(sh.settings.limits.tips_per_hour) {
                        tracing::info!(%alias, "tip over the hourly limit refused");
                        conv = before.clone();
                        conv.last_activity_ms = now;
                        replies.push(Reply::text(Msg::new("flood-tips")));
                        replies.extend(prompt(&conv.state, &ctx, conv.lang));
                    } else {
                        let recent = sh.store.recent_tips(alias).await?;
                        tip = Some(self.new_tip(
                            *draft,
                            alias,
                            route.channel,
                            conv.lang,
                            now,
                            &recent,
                        ));
                    }
                }
                // Stored with the commit, as the tip's `citizen_replied` event.
                Effect::Answer { code, text } => answer = Some((code, text)),
                Effect::EndAnswer => sh.store.answering_clear(alias).await?,
            }
        }
        conv.settle();

        let limits = &sh.settings.limits;
        let draft_due_ms = match conv.state {
            State::Idle => None,
            _ if !conv.reminded => {
                Some(conv.last_activity_ms + (limits.draft_remind_after_secs * 1000) as i64)
            }
            _ => Some(conv.last_activity_ms + (limits.draft_expire_after_secs * 1000) as i64),
        };
        let conversation_ttl_secs = match conv.state {
            State::Idle => IDLE_CONVERSATION_TTL,
            _ => limits.draft_expire_after_secs + 24 * 3600,
        };
        let route_sealed = (is_new || tip.is_some()).then(|| sh.vault.seal_route(route));

        let caps = sh.channels.capabilities(route.channel);
        let mut outgoing: Vec<Outgoing>;
        loop {
            outgoing = replies
                .iter()
                .map(|r| render_for(&caps, r, conv.lang, &sh.texts))
                .collect();
            if let Some(t) = &tip {
                outgoing.push(render_for(
                    &caps,
                    &Reply::with(
                        Msg::new("receipt").arg("code", &t.tip.code),
                        Keyboard::Remove,
                    ),
                    conv.lang,
                    &sh.texts,
                ));
            }
            let commit = Commit {
                channel: route.channel,
                seen_key: seen_key.to_owned(),
                replies_json: serde_json::to_string(&outgoing)?,
                alias,
                conversation_json: serde_json::to_string(&conv)?,
                last_activity_ms: conv.last_activity_ms,
                conversation_ttl_secs,
                draft_due_ms,
                route_sealed: route_sealed.clone(),
                tip: tip.clone(),
                answer: answer.clone(),
            };
            match sh.store.commit(&commit).await? {
                CommitOutcome::Done => break,
                CommitOutcome::AlreadySeen => {
                    // Another run processed this update meanwhile: its mark decides.
                    tracing::info!("update already processed elsewhere; not applied twice");
                    return Ok(None);
                }
                CommitOutcome::CodeTaken => {}
            }
            // The drawn code is taken (1 in 2^40 per stored tip): draw another.
            if let Some(t) = &mut tip {
                tracing::info!("receipt code already taken; drawing another");
                t.tip.code = sh.next_code();
            }
        }
        if let Some(t) = &tip {
            sh.metrics.tips_submitted.inc();
            tracing::info!(
                tip = %t.tip.code,
                category = %t.tip.category,
                priority = ?t.tip.priority,
                emergency = t.tip.emergency,
                evidence = t.tip.evidence.len(),
                "tip submitted"
            );
        }
        tracing::debug!(
            state = conv.state.name(),
            replies = outgoing.len(),
            "step done"
        );
        self.send_replies(seen_key, route, &outgoing).await
    }

    /// The tip a submitted draft becomes, with its triage decision and a fresh code.
    fn new_tip(
        &self,
        draft: Draft,
        alias: &str,
        channel: Channel,
        lang: Lang,
        now: i64,
        recent: &[crate::triage::Recent],
    ) -> NewTip {
        let settings = &self.shared.settings;
        let decision = crate::triage::decide(&draft, settings, &self.shared.rules, recent, now);
        let commune = crate::triage::draft_commune(&draft, settings);
        let code = self.shared.next_code();
        let place = draft.place.clone().unwrap_or(Place::Text {
            text: String::new(),
        });
        let hotspots = &settings.rules.hotspots;
        let hotspot = commune
            .as_ref()
            .filter(|_| hotspots.enabled)
            .map(|c| Hotspot {
                commune: c.clone(),
                category: draft.category.clone().unwrap_or_else(|| "other".into()),
                window_mins: hotspots.window_mins,
                count: hotspots.count,
            });
        NewTip {
            recent: serde_json::to_string(&crate::triage::Recent::new(
                code.as_str(),
                now,
                &draft.description,
            ))
            .unwrap_or_default(),
            recent_ttl_ms: (settings.rules.duplicates.window_mins * 60_000) as i64,
            hotspot,
            tip: Tip {
                code,
                status: TipStatus::Submitted,
                received_ms: now,
                started_ms: draft.started_ms,
                channel,
                alias: alias.to_owned(),
                lang,
                category: draft.category.clone().unwrap_or_else(|| "other".into()),
                priority: decision.priority,
                priority_reasons: decision.reasons,
                emergency: decision.emergency,
                place,
                commune,
                mailbox: draft.mailbox.clone(),
                description: draft.description.clone(),
                evidence: draft.evidence.clone(),
                contact_sealed: match &draft.phone {
                    Some(Phone::Sealed { sealed, .. }) => Some(sealed.clone()),
                    Some(Phone::Plain { number }) => {
                        Some(self.shared.vault.seal(number.as_bytes()))
                    }
                    None => None,
                },
                seq: 1,
                acknowledged_ms: None,
                acknowledged_by: None,
                claimed_ms: None,
                claimed_by: None,
                closed_ms: None,
                closed_by: None,
                disposition: None,
                duplicate_of: decision.duplicate_of,
                purged_ms: None,
            },
        }
    }
}
