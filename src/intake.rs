//! The intake worker (DESIGN.md §3): reads the inbox in order, runs each citizen update through
//! the conversation, writes the outcome in one atomic commit, sends the replies, and only then
//! acknowledges the entry. A redelivered update finds its `seen` mark: if its replies were
//! already sent nothing happens, otherwise they are sent again (at least once, never lost).
//!
//! One intake consumer runs per deployment, which keeps every chat's updates in order.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use teloxide::types::Update;
use tokio_util::sync::CancellationToken;

use crate::app::Shared;
use crate::channels::outbound::render_for;
use crate::channels::telegram::{parse, send};
use crate::channels::{Outgoing, SendError};
use crate::codes::ReceiptCode;
use crate::conversation::{
    self, Conversation, Ctx, Draft, Effect, Keyboard, Phone, Place, Reply, State, prompt,
};
use crate::i18n::{Lang, Msg};
use crate::lanes::{self, Keyed, Limits};
use crate::privacy::{Channel, Route};
use crate::store::{
    Commit, CommitOutcome, Hotspot, InboxEntry, InboxKind, NewTip, SeenMark, Store, Tip, TipStatus,
};

/// Consumer name of the intake in its group.
const CONSUMER: &str = "intake-1";
/// An inbox entry with its Telegram update parsed (when it is one and it parses).
type Parsed = (InboxEntry, Option<Update>);

/// The `seen` mark of an update whose replies all went out, to be marked done together with
/// its entry's acknowledgement; `None` when there is nothing to mark.
type Sent = Option<String>;

/// Most inbox entries read at once.
const BATCH: usize = 128;

/// Citizens (and cards) worked on at once, and entries held in memory.
const LIMITS: Limits = Limits {
    running: 256,
    queued: 2048,
};

/// The intake worker.
pub struct Intake {
    shared: Arc<Shared>,
    reader: Store,
    cursor: lanes::Cursor,
}

/// Seconds an idle conversation (language choice) is kept.
const IDLE_CONVERSATION_TTL: u64 = 90 * 24 * 3600;

impl Intake {
    /// A worker with its own blocking connection.
    pub async fn new(shared: Arc<Shared>) -> anyhow::Result<Self> {
        let reader = shared
            .store
            .blocking(Duration::from_secs(2))
            .await
            .context("connecting the intake reader to Redis")?;
        Ok(Self {
            shared,
            reader,
            cursor: lanes::Cursor::new("0"),
        })
    }

    /// Processes entries until `shutdown`, stopping only between entries: first those read
    /// before and not finished (a restart), then new ones. Entries of one citizen are handled
    /// in stream order, one after the other; different citizens' entries concurrently
    /// ([`crate::lanes`]), so one citizen whose replies keep failing (a 429 for that chat)
    /// holds up only themselves. Each entry is acknowledged as soon as its work is done; a
    /// failed one is retried with backoff, that citizen's later entries waiting behind it.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("intake started");
        let this = Arc::new(self);
        lanes::serve(this, LIMITS, shutdown).await;
        tracing::info!("intake stopped");
    }
}

impl lanes::Source for Intake {
    /// Every entry this worker read before and did not finish, oldest first.
    async fn pending(&self) -> anyhow::Result<Keyed<Parsed>> {
        let mut out = Vec::new();
        let mut after = "0".to_owned();
        loop {
            let page = match self
                .reader
                .inbox_read(CONSUMER, Some(&after), 500, None)
                .await
            {
                Ok(page) => page,
                Err(e) => return Err(self.read_failed(e).await),
            };
            let Some(last) = page.last() else {
                self.cursor.passed(Some(&after), false);
                return Ok(out);
            };
            after = last.stream_id.clone();
            out.extend(page.into_iter().map(|e| self.keyed(e)));
        }
    }

    /// New entries, waiting up to a second for them (or, after a failed read, this worker's
    /// own pending entries that read may have taken: see [`lanes::Cursor`]).
    async fn read_new(&self) -> anyhow::Result<Keyed<Parsed>> {
        let after = self.cursor.next_read();
        let read = match &after {
            Some(after) => {
                self.reader
                    .inbox_read(CONSUMER, Some(after), BATCH, None)
                    .await
            }
            None => {
                self.reader
                    .inbox_read(CONSUMER, None, BATCH, Some(1000))
                    .await
            }
        };
        match read {
            Ok(entries) => {
                self.cursor.passed(
                    entries.last().map(|e| e.stream_id.as_str()),
                    after.is_some(),
                );
                Ok(entries.into_iter().map(|e| self.keyed(e)).collect())
            }
            Err(e) => {
                self.cursor.failed();
                Err(self.read_failed(e).await)
            }
        }
    }
}

impl Intake {
    /// Recreates the inbox when Redis lost it (data loss or failover); the error, for the
    /// retry.
    async fn read_failed(&self, e: redis::RedisError) -> anyhow::Error {
        if e.code() == Some("NOGROUP")
            && let Err(e) = self.shared.store.ensure_inbox().await
        {
            tracing::warn!(error = %e, "recreating the inbox failed");
        }
        e.into()
    }

    /// An entry with its lane's key.
    fn keyed(&self, entry: InboxEntry) -> (String, Parsed) {
        let (key, update) = self.order_key(&entry);
        (key, (entry, update))
    }

    /// Which citizen an entry belongs to (their alias), parsing a Telegram update once.
    fn order_key(&self, entry: &InboxEntry) -> (String, Option<Update>) {
        match entry.kind {
            Some(InboxKind::Tick) => (entry.key.clone(), None),
            Some(InboxKind::Zalo) => {
                match crate::channels::zalo::parse::parse(entry.body.as_bytes()) {
                    Ok(inb) => (self.shared.vault.alias(Channel::Zalo, &inb.user_id), None),
                    Err(_) => (entry.stream_id.clone(), None),
                }
            }
            Some(InboxKind::Telegram) => match serde_json::from_str::<Update>(&entry.body) {
                Ok(update) => {
                    let key = match (parse::parse(&update), parse::parse_officer(&update)) {
                        (Some(inb), _) => self
                            .shared
                            .vault
                            .alias(Channel::Telegram, &inb.user_id.to_string()),
                        // Presses on one card are handled one after the other.
                        (None, Some(press)) => format!(
                            "card:{}:{}",
                            press.chat_id,
                            press.message_id.unwrap_or_default()
                        ),
                        (None, None) => entry.stream_id.clone(),
                    };
                    (key, Some(update))
                }
                Err(_) => (entry.stream_id.clone(), None),
            },
            None => (entry.stream_id.clone(), None),
        }
    }

    /// Does an entry's work. What comes back is the `seen` mark of an update whose replies
    /// were all sent, to be marked done together with the entry's acknowledgement.
    async fn process(&self, entry: &InboxEntry, update: Option<&Update>) -> anyhow::Result<Sent> {
        match (entry.kind, update) {
            (Some(InboxKind::Telegram), Some(update)) => self.telegram(entry, update).await,
            (Some(InboxKind::Telegram), None) => {
                tracing::warn!(entry = %entry.stream_id, "unreadable Telegram update; dropped");
                Ok(None)
            }
            (Some(InboxKind::Tick), _) => self.tick(entry).await,
            (Some(InboxKind::Zalo), _) => self.zalo(entry).await,
            (None, _) => {
                tracing::warn!(entry = %entry.stream_id, "inbox entry of unknown kind; dropped");
                Ok(None)
            }
        }
    }

    async fn telegram(&self, entry: &InboxEntry, update: &Update) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("tg", &entry.key);
        let inbound = parse::parse(update);
        let admin = parse::parse_admin_command(update);
        // A citizen's update: its mark, the rate limit, the conversation and any open question
        // in one round trip to Redis, while Telegram is told the button press arrived.
        let citizen = match inbound.as_ref().filter(|_| admin.is_none()) {
            Some(inb) => {
                let alias = sh.vault.alias(Channel::Telegram, &inb.user_id.to_string());
                let answer = async {
                    if let (Some(cb), Ok(tg)) = (&inb.callback, sh.telegram()) {
                        send::answer_callback(tg, &cb.id).await;
                    }
                };
                let (state, ()) = tokio::join!(
                    sh.store.citizen(
                        &seen_key,
                        Channel::Telegram,
                        &alias,
                        Some(sh.clock.now_ms())
                    ),
                    answer
                );
                Some((alias, state?))
            }
            None => None,
        };
        let seen = match &citizen {
            Some((_, state)) => state.seen.clone(),
            None => sh.store.seen(&seen_key).await?,
        };
        match seen {
            Some(SeenMark::Done) => return Ok(None),
            Some(SeenMark::Pending(json)) => {
                // Processed before a crash or a send failure; its replies may not have gone out.
                return match &inbound {
                    Some(inb) => {
                        let route = Route {
                            channel: Channel::Telegram,
                            chat: inb.chat_id.to_string(),
                        };
                        self.resend(&seen_key, &route, &json).await
                    }
                    None => Ok(Some(seen_key)),
                };
            }
            None => {}
        }
        if let Some(command) = admin {
            crate::admin::on_command(sh, command).await?;
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        }
        let (Some(inb), Some((alias, state))) = (inbound, citizen) else {
            if let Some(press) = parse::parse_officer(update) {
                crate::desk::actions::on_press(sh, press).await?;
            } else if let Some(command) = parse::parse_group_command(update) {
                crate::desk::commands::on_command(sh, command).await?;
            } else if let Some(reply) = parse::parse_officer_reply(update) {
                crate::desk::relay::on_officer_reply(sh, reply).await?;
            } else if let Some((old, new)) = parse::parse_migration(update) {
                tracing::warn!("a group became a supergroup; its new id is recorded");
                sh.store.migrate_group(old, new).await?;
            }
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        };
        let tg = sh.telegram()?;
        let route = Route {
            channel: Channel::Telegram,
            chat: inb.chat_id.to_string(),
        };
        let lang = inb
            .lang_code
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(sh.default_lang);
        let stored = state
            .conversation_json
            .as_deref()
            .and_then(Conversation::from_stored);
        if self
            .flooded(&route, lang, state.messages, stored.as_ref(), &seen_key)
            .await?
        {
            return Ok(None);
        }
        // The pressed message's buttons go (every answer brings fresh ones where needed), while
        // the answer is worked out.
        let pressed = inb.callback.as_ref().and_then(|cb| cb.message_id);
        let chat = inb.chat_id;
        let clear = async {
            if let Some(mid) = pressed {
                send::clear_buttons(tg, chat, mid).await;
            }
        };
        let input = self.seal_input(inb.input);
        let (sent, ()) = tokio::join!(
            self.converse(
                &alias,
                &route,
                lang,
                input,
                &seen_key,
                stored,
                state.answering
            ),
            clear
        );
        sent
    }

    /// A Zalo event: the same conversation as on Telegram, with choices typed as numbers or
    /// labels instead of pressed.
    async fn zalo(&self, entry: &InboxEntry) -> anyhow::Result<Sent> {
        use crate::channels::zalo::parse::{self as zparse, ZaloKind};
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("zl", &entry.key);
        let inb = match zparse::parse(entry.body.as_bytes()) {
            Ok(inb) => inb,
            Err(e) => {
                tracing::warn!(entry = %entry.stream_id, error = %e, "unreadable Zalo event; dropped");
                return Ok(None);
            }
        };
        let route = Route {
            channel: Channel::Zalo,
            chat: inb.chat_id.clone(),
        };
        let alias = sh.vault.alias(Channel::Zalo, &inb.user_id);
        let state = sh
            .store
            .citizen(&seen_key, Channel::Zalo, &alias, Some(sh.clock.now_ms()))
            .await?;
        match state.seen {
            Some(SeenMark::Done) => return Ok(None),
            Some(SeenMark::Pending(json)) => return self.resend(&seen_key, &route, &json).await,
            None => {}
        }
        let stored = state
            .conversation_json
            .as_deref()
            .and_then(Conversation::from_stored);
        let lang = stored.as_ref().map_or(sh.default_lang, |c| c.lang);
        if self
            .flooded(&route, lang, state.messages, stored.as_ref(), &seen_key)
            .await?
        {
            return Ok(None);
        }
        let input = match &inb.kind {
            ZaloKind::Text(text) => match self
                .zalo_choice(&alias, &inb.chat_id, stored.as_ref(), text)
                .await?
            {
                Some(data) => Some(conversation::Input::Button(data)),
                // No contact button on Zalo: at the contact step a typed number is the share.
                None if matches!(stored.as_ref().map(|c| &c.state), Some(State::Contact(_)))
                    && typed_phone(text).is_some() =>
                {
                    typed_phone(text).map(|number| conversation::Input::Contact {
                        phone: Phone::Plain { number },
                        own: true,
                    })
                }
                None => zparse::to_input(&inb.kind),
            },
            ZaloKind::Sticker => Some(conversation::Input::Sticker),
            ZaloKind::Unsupported => Some(conversation::Input::Unsupported),
            _ => zparse::to_input(&inb.kind),
        };
        let Some(input) = input.map(|i| self.seal_input(i)) else {
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        };
        // Zalo's terms: say up front that this is an automated system and what it keeps.
        let starts = matches!(
            input,
            conversation::Input::Command(conversation::Command::Start(_))
        );
        if stored.is_none() && !starts {
            let intro = render_for(
                Channel::Zalo,
                &Reply::text(Msg::new("welcome")),
                lang,
                &sh.texts,
            );
            self.deliver(&route, &[intro]).await.map_err(|(_, e)| e)?;
        }
        self.converse(
            &alias,
            &route,
            lang,
            input,
            &seen_key,
            stored,
            state.answering,
        )
        .await
    }

    /// The button a Zalo citizen's typed reply chooses, from the menu they were last shown:
    /// the prompt of their conversation's state, or «Xong» while answering an officer.
    async fn zalo_choice(
        &self,
        alias: &str,
        chat: &str,
        stored: Option<&Conversation>,
        text: &str,
    ) -> anyhow::Result<Option<String>> {
        use crate::channels::zalo::menu;
        let sh = &self.shared;
        let shown = sh
            .store
            .zalo_menu(&sh.vault.alias(Channel::Zalo, chat))
            .await?;
        let answering =
            matches!(state_of(stored), State::Idle) && sh.store.answering(alias).await?.is_some();
        if answering {
            // Only the word «Xong» ends the answer; anything else, a bare number too ("how
            // many?" "2"), is part of it.
            if text.trim().trim_end_matches('.').parse::<u32>().is_ok() {
                return Ok(None);
            }
            let done = menu::MenuOption {
                label: sh.texts.get(
                    stored.map_or(sh.default_lang, |c| c.lang),
                    "button-answer-done",
                ),
                data: "qa:done".into(),
            };
            return Ok(menu::resolve(&[done], text));
        }
        // The last menu shown, unless it was a question's «Xong» and no question is open
        // any more (a notice can come in the middle of a report).
        if let Some(options) = shown.filter(|o| answering || !o.iter().any(|o| o.data == "qa:done"))
        {
            return Ok(menu::resolve(&options, text));
        }
        let lang = stored.map_or(sh.default_lang, |c| c.lang);
        let state = stored.map_or(&State::Idle, |c| &c.state);
        let ctx = Ctx {
            settings: &sh.settings,
            texts: &sh.texts,
            emergency: &sh.emergency,
            now_ms: sh.clock.now_ms(),
        };
        let replies = match state {
            State::Idle if sh.store.answering(alias).await?.is_some() => {
                vec![Reply::with(
                    Msg::new("answer-sent"),
                    Keyboard::Inline(vec![vec![conversation::Button {
                        label: conversation::Label::Msg(Msg::new("button-answer-done")),
                        data: "qa:done".into(),
                    }]]),
                )]
            }
            State::Idle => vec![Reply::with(
                Msg::new("help"),
                Keyboard::Inline(vec![vec![conversation::Button {
                    label: conversation::Label::Msg(Msg::new("button-report")),
                    data: "go:report".into(),
                }]]),
            )],
            other => prompt(other, &ctx, lang),
        };
        let options = replies
            .iter()
            .map(|r| menu::options(&render_for(Channel::Zalo, r, lang, &sh.texts)))
            .rfind(|o| !o.is_empty())
            .unwrap_or_default();
        Ok(menu::resolve(&options, text))
    }

    /// Seals a shared phone number before it reaches the conversation and Redis.
    fn seal_input(&self, input: conversation::Input) -> conversation::Input {
        match input {
            conversation::Input::Contact {
                phone: Phone::Plain { number },
                own,
            } => conversation::Input::Contact {
                phone: Phone::Sealed {
                    sealed: self.shared.vault.seal(number.as_bytes()),
                    masked: conversation::mask(&number),
                },
                own,
            },
            other => other,
        }
    }

    /// Applies the per-minute message limit to the `count`th message of this minute. Over it,
    /// the citizen is told once per window, the update is marked processed, and `true` comes
    /// back.
    async fn flooded(
        &self,
        route: &Route,
        lang: Lang,
        count: u64,
        stored: Option<&Conversation>,
        seen_key: &str,
    ) -> anyhow::Result<bool> {
        let sh = &self.shared;
        let limit = u64::from(sh.settings.limits.messages_per_minute);
        if count <= limit {
            return Ok(false);
        }
        tracing::info!("message over the per-minute limit ignored");
        let mut replies = Vec::new();
        if count == limit + 1 {
            let lang = stored.map_or(lang, |c| c.lang);
            replies.push(render_for(
                route.channel,
                &Reply::text(Msg::new("flood-messages")),
                lang,
                &sh.texts,
            ));
        }
        sh.store.mark_seen(seen_key).await?;
        self.deliver(route, &replies).await.map_err(|(_, e)| e)?;
        Ok(true)
    }

    /// Runs one input through the conversation for `alias` (`stored`, with the tip whose
    /// question they are `answering`, as read just before) and does all that follows.
    #[allow(clippy::too_many_arguments)]
    async fn converse(
        &self,
        alias: &str,
        route: &Route,
        lang: Lang,
        input: conversation::Input,
        seen_key: &str,
        stored: Option<Conversation>,
        answering: Option<String>,
    ) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let now = sh.clock.now_ms();
        let is_tick = input == conversation::Input::Tick;

        if is_tick && stored.is_none() {
            sh.store.mark_seen(seen_key).await?;
            return Ok(None);
        }
        let is_new = stored.is_none();
        let conv = stored.unwrap_or_else(|| Conversation::new(lang, now));
        let before = conv.clone();
        let ctx = Ctx {
            settings: &sh.settings,
            texts: &sh.texts,
            emergency: &sh.emergency,
            now_ms: now,
        };
        // An officer asked about one of this citizen's tips: while idle, what they write goes
        // to that tip until they press "Done".
        let answering = match (&conv.state, is_tick) {
            (State::Idle, false) => answering,
            _ => None,
        };
        let mut answer = None;
        let outcome = match (answering, input) {
            (Some(code), conversation::Input::Text(text)) => {
                answer = Some((code.clone(), text));
                answered(
                    conv,
                    now,
                    Reply::with(
                        Msg::new("answer-sent").arg("code", &code),
                        Keyboard::Inline(vec![vec![conversation::Button {
                            label: conversation::Label::Msg(Msg::new("button-answer-done")),
                            data: "qa:done".into(),
                        }]]),
                    ),
                )
            }
            (Some(code), conversation::Input::Button(b)) if b == "qa:done" => {
                sh.store.answering_clear(alias).await?;
                answered(
                    conv,
                    now,
                    Reply::text(Msg::new("answer-ended").arg("code", &code)),
                )
            }
            (Some(_), conversation::Input::Media(..)) => {
                answered(conv, now, Reply::text(Msg::new("answer-text-only")))
            }
            (_, input) => conversation::step(conv, input, &ctx),
        };
        let mut conv = outcome.conversation;
        let mut replies = outcome.replies;
        let mut tip = None;
        for effect in outcome.effects {
            match effect {
                Effect::Status(code) => {
                    replies.push(self.status(alias, seen_key, &code, conv.lang, now).await?);
                }
                Effect::StatusList => replies.extend(self.status_list(alias, conv.lang).await?),
                Effect::Submit(draft) => {
                    let tips = sh.store.rate_hit("tip", alias, seen_key, now, 3600).await?;
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
            }
        }

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

        let mut outgoing: Vec<Outgoing>;
        loop {
            outgoing = replies
                .iter()
                .map(|r| render_for(route.channel, r, conv.lang, &sh.texts))
                .collect();
            if let Some(t) = &tip {
                outgoing.push(render_for(
                    route.channel,
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

    /// Sends replies; once all went, the update's mark comes back to be marked done with the
    /// acknowledgement. After a failure the mark keeps the replies not yet sent, and the error
    /// goes back so the entry is retried.
    async fn send_replies(
        &self,
        seen_key: &str,
        route: &Route,
        replies: &[Outgoing],
    ) -> anyhow::Result<Sent> {
        let store = &self.shared.store;
        match self.deliver(route, replies).await {
            Ok(()) => Ok(Some(seen_key.to_owned())),
            Err((sent, e)) => {
                let rest = serde_json::to_string(&replies[sent..])?;
                store.seen_pending(seen_key, &rest).await?;
                Err(e)
            }
        }
    }

    /// Sends the replies a mark still holds.
    async fn resend(&self, seen_key: &str, route: &Route, json: &str) -> anyhow::Result<Sent> {
        let replies: Vec<Outgoing> = serde_json::from_str(json).unwrap_or_default();
        self.send_replies(seen_key, route, &replies).await
    }

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
            },
        }
    }

    async fn status(
        &self,
        alias: &str,
        seen_key: &str,
        code: &ReceiptCode,
        lang: Lang,
        now: i64,
    ) -> anyhow::Result<Reply> {
        let sh = &self.shared;
        let n = sh
            .store
            .rate_hit("status", alias, seen_key, now, 3600)
            .await?;
        if n > u64::from(sh.settings.limits.status_per_hour) {
            return Ok(Reply::text(Msg::new("flood-status")));
        }
        Ok(match sh.store.tip(code).await? {
            Some(tip) => self.status_line(&tip, lang),
            None => Reply::text(Msg::new("status-unknown").arg("code", code)),
        })
    }

    fn status_line(&self, tip: &Tip, lang: Lang) -> Reply {
        let sh = &self.shared;
        Reply::text(
            Msg::new("status-line")
                .arg("code", &tip.code)
                .arg("time", sh.local_time(tip.received_ms))
                .arg("status", sh.texts.get(lang, tip.status.msg_id())),
        )
    }

    async fn status_list(&self, alias: &str, lang: Lang) -> anyhow::Result<Vec<Reply>> {
        let codes = self.shared.store.my_tips(alias, 5).await?;
        let mut lines = Vec::new();
        for code in codes {
            if let Ok(code) = ReceiptCode::parse(&code)
                && let Some(tip) = self.shared.store.tip(&code).await?
            {
                lines.push(self.status_line(&tip, lang));
            }
        }
        if lines.is_empty() {
            return Ok(vec![Reply::text(Msg::new("status-none"))]);
        }
        let mut out = vec![Reply::text(Msg::new("status-list"))];
        out.extend(lines);
        Ok(out)
    }

    async fn tick(&self, entry: &InboxEntry) -> anyhow::Result<Sent> {
        let sh = &self.shared;
        let seen_key = sh.store.keys().seen("tick", &entry.stream_id);
        let mark = sh.store.seen(&seen_key).await?;
        if mark == Some(SeenMark::Done) {
            return Ok(None);
        }
        let alias = entry.key.as_str();
        let route = match sh.store.route(alias).await? {
            Some(sealed) => sh.vault.open_route(&sealed).ok(),
            None => None,
        };
        let Some(route) = route else {
            tracing::error!(%alias, "no readable route for a draft timer; timer dropped");
            sh.store.drop_draft_timer(alias).await?;
            sh.store.mark_seen(&seen_key).await?;
            return Ok(None);
        };
        if let Some(SeenMark::Pending(json)) = mark {
            return self.resend(&seen_key, &route, &json).await;
        }
        let state = sh
            .store
            .citizen(&seen_key, route.channel, alias, None)
            .await?;
        self.converse(
            alias,
            &route,
            sh.default_lang,
            conversation::Input::Tick,
            &seen_key,
            state
                .conversation_json
                .as_deref()
                .and_then(Conversation::from_stored),
            state.answering,
        )
        .await
    }

    /// Sends replies in order. A blocked citizen is logged and the rest skipped; a refused
    /// message is logged and skipped; a transient failure comes back with the number of replies
    /// already sent, so the caller can keep the rest.
    async fn deliver(
        &self,
        route: &Route,
        replies: &[Outgoing],
    ) -> Result<(), (usize, anyhow::Error)> {
        for (i, out) in replies.iter().enumerate() {
            match crate::channels::outbound::send(&self.shared, route, out).await {
                Ok(()) => {}
                Err(SendError::Blocked) => {
                    tracing::info!("citizen blocked the bot; replies dropped");
                    return Ok(());
                }
                Err(SendError::Refused(e)) => {
                    tracing::error!(msg = %out.id, error = %e, "the platform refused a reply");
                }
                // A private chat does not migrate; treat it as a refusal.
                Err(SendError::Migrated(_)) => {
                    tracing::error!(msg = %out.id, "the platform says a private chat moved");
                }
                Err(e @ SendError::Transient(_)) => return Err((i, e.into())),
            }
        }
        Ok(())
    }
}

impl lanes::Work for Intake {
    type Item = Parsed;
    const NAME: &'static str = "intake";

    /// Does an entry's work, then acknowledges it.
    async fn run(&self, (entry, update): &Parsed) -> anyhow::Result<()> {
        let sent = self.process(entry, update.as_ref()).await?;
        let tick_of = (entry.kind == Some(InboxKind::Tick)).then_some(entry.key.as_str());
        self.shared
            .store
            .inbox_ack(&entry.stream_id, sent.as_deref(), tick_of)
            .await?;
        Ok(())
    }
}

/// The state of a stored conversation, idle when there is none.
fn state_of(stored: Option<&Conversation>) -> &State {
    stored.map_or(&State::Idle, |c| &c.state)
}

/// A Vietnamese phone number that is (nearly) all a message says, in its digits.
fn typed_phone(text: &str) -> Option<String> {
    let found = crate::rules::pii::find(text);
    let (_, range) = found
        .iter()
        .find(|(kind, _)| *kind == crate::rules::pii::Kind::Phone)?;
    let rest = text.len() - range.len();
    (rest <= 4).then(|| {
        text[range.clone()]
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    })
}

/// The outcome of a message that answered an officer instead of going through the
/// conversation.
fn answered(mut conv: Conversation, now: i64, reply: Reply) -> conversation::Outcome {
    conv.last_activity_ms = now;
    conversation::Outcome {
        conversation: conv,
        replies: vec![reply],
        effects: Vec::new(),
    }
}

/// Pushes every open draft's timer into the inbox when it is due, until `shutdown`.
pub async fn run_sweeper(shared: Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = sweep(&shared).await {
            tracing::warn!(error = %e, "draft sweep failed");
        }
    }
}

/// One sweep: enqueues a tick for every draft whose reminder or expiry is due (unless its
/// last tick is still in the inbox); how many were enqueued.
pub async fn sweep(shared: &Shared) -> anyhow::Result<usize> {
    let now = shared.clock.now_ms();
    let due = shared.store.due_drafts(now, 60_000, 500).await?;
    let mut added = 0;
    for alias in &due {
        if shared.store.inbox_append_tick(alias).await? {
            added += 1;
        }
    }
    Ok(added)
}
