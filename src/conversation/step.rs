//! The transitions. A report, as a citizen on a phone sees it:
//!
//! ```text
//! citizen: /start                      bot: welcome (what is stored, who sees it, 113)
//!                                      bot: What is it about?   [Ma túy] [Trộm cắp] …
//! citizen: [Ma túy]                    bot: Where?  (📍 share location) / [commune] … / type it
//! citizen: 📍 pin                      bot: What happened? (one or more messages)
//! citizen: "Có người bán …"            bot: Added. Write more or press [Next]
//! citizen: [Next]                      bot: Photos, videos, voice?  [Skip]
//! citizen: 🖼 🖼                        bot: 2 files.  [Done]
//! citizen: [Done]                      bot: Anonymous, or share your number? (📞) (🕶)
//! citizen: 🕶 Ẩn danh                   bot: summary  [Send] [Edit] [Cancel]
//! citizen: [Send]                      bot: receipt TB-7K3Q-X9MD   (sent by the intake)
//! ```
//!
//! A report also starts from whatever a citizen sends first, and keeps it:
//!
//! ```text
//! citizen: "có người bán ma túy"        bot: Thank you, kept as the start of a new report …
//!                                      bot: What is it about?   [Ma túy] [Trộm cắp] …
//! citizen: 🖼 / 🎙 / 📍                  bot: (the same, the file or the pin kept)
//! citizen: "cảm ơn"                     bot: help (greetings and thanks start nothing)
//! ```

use super::evidence::{add_evidence, append_caption, voice_accepted, voice_first};
use super::place::{after_category, after_place, on_commune, on_near_mailbox};
use super::prompts::prompt;
use super::start::{opens_report, start_from};
use super::{
    Button, Command, Conversation, Ctx, Draft, Effect, Input, Keyboard, Outcome, Place, Reply,
    State,
};
use crate::buttons::{ButtonData, Part};
use crate::codes::ReceiptCode;
use crate::i18n::{Lang, Msg};

/// Advances `conv` by one input. Pure: the same arguments always give the same outcome.
pub fn step(conv: Conversation, input: Input, ctx: &Ctx) -> Outcome {
    let mut out = Outcome {
        conversation: conv,
        replies: Vec::new(),
        effects: Vec::new(),
    };
    if input == Input::Tick {
        tick(&mut out, ctx);
        return out;
    }
    if let State::Answering { code } = &out.conversation.state {
        let code = code.clone();
        return super::answer::step(out, code, input, ctx);
    }
    out.conversation.last_activity_ms = ctx.now_ms;
    out.conversation.reminded = false;

    // Whatever a citizen sends first (a sentence, a photo, a voice note, a pin) starts a
    // report and is kept as its first part: the draft exists before the emergency check, so
    // that an emergency in that first message marks it.
    let starts = out.conversation.state == State::Idle && opens_report(&input);
    if starts {
        out.conversation.state = State::Category(new_draft(ctx));
    }

    if let Input::Text(text) = &input {
        check_emergency(&mut out, text, ctx);
    }
    if let Input::Media(_, Some(caption)) = &input {
        check_emergency(&mut out, caption, ctx);
    }

    match input {
        Input::Command(cmd) => command(&mut out, cmd, ctx),
        Input::Button(Some(ButtonData::Lang(code))) => set_lang(&mut out, &code, ctx),
        Input::Sticker => {
            out.replies
                .push(Reply::text(Msg::new("unsupported-sticker")));
            reprompt(&mut out, ctx);
        }
        Input::Unsupported => {
            out.replies
                .push(Reply::text(Msg::new("unsupported-message")));
            reprompt(&mut out, ctx);
        }
        input => {
            let state = std::mem::replace(&mut out.conversation.state, State::Idle);
            out.conversation.state = match state {
                State::Category(d) if starts => start_from(&mut out, d, input, ctx),
                state => on_input(&mut out, state, input, ctx),
            };
        }
    }
    out
}

fn lang(out: &Outcome) -> Lang {
    out.conversation.lang
}

pub(super) fn enter(out: &mut Outcome, state: State, ctx: &Ctx) -> State {
    out.replies.extend(prompt(&state, ctx, lang(out)));
    state
}

fn reprompt(out: &mut Outcome, ctx: &Ctx) {
    let replies = prompt(&out.conversation.state, ctx, lang(out));
    out.replies.extend(replies);
}

pub(super) fn refuse(out: &mut Outcome, id: &str, state: State, ctx: &Ctx) -> State {
    out.replies.push(Reply::text(Msg::new(id)));
    enter(out, state, ctx)
}

fn check_emergency(out: &mut Outcome, text: &str, ctx: &Ctx) {
    if !super::is_emergency(ctx.emergency, text) {
        return;
    }
    match out.conversation.draft() {
        Some(d) if d.emergency => {}
        Some(_) => out.replies.push(Reply::text(Msg::new("emergency"))),
        // No tip is being written: do not promise that one is marked.
        None => out
            .replies
            .push(Reply::text(Msg::new("emergency-no-draft"))),
    }
    if let Some(d) = out.conversation.state.draft_mut() {
        d.emergency = true;
    }
}

fn new_draft(ctx: &Ctx) -> Draft {
    Draft {
        started_ms: ctx.now_ms,
        ..Draft::default()
    }
}

fn tick(out: &mut Outcome, ctx: &Ctx) {
    let conv = &mut out.conversation;
    // Only a draft has a timer; idle and answering have nothing to remind of.
    if conv.state.draft().is_none() {
        return;
    }
    let idle_ms = ctx.now_ms - conv.last_activity_ms;
    let limits = &ctx.settings.limits;
    if idle_ms >= (limits.draft_expire_after_secs * 1000) as i64 {
        conv.state = State::Idle;
        out.replies
            .push(Reply::with(Msg::new("draft-expired"), Keyboard::Remove));
    } else if idle_ms >= (limits.draft_remind_after_secs * 1000) as i64 && !conv.reminded {
        conv.reminded = true;
        let hours =
            (limits.draft_expire_after_secs - limits.draft_remind_after_secs).div_ceil(3600);
        out.replies
            .push(Reply::text(Msg::new("draft-reminder").arg("hours", hours)));
        reprompt(out, ctx);
    }
}

fn set_lang(out: &mut Outcome, code: &str, ctx: &Ctx) {
    match Lang::parse(code) {
        Some(l) => {
            out.conversation.lang = l;
            out.replies.push(Reply::text(Msg::new("lang-set")));
            reprompt(out, ctx);
        }
        None => out.replies.push(lang_menu()),
    }
}

fn lang_menu() -> Reply {
    let b = |label: &str, code: &str| Button::plain(label, &ButtonData::Lang(code.to_owned()));
    Reply::with(
        Msg::new("lang-choose"),
        Keyboard::Inline(vec![vec![b("Tiếng Việt", "vi"), b("English", "en")]]),
    )
}

fn start_report(out: &mut Outcome, draft: Draft, ctx: &Ctx) {
    // With a mailbox QR code the place is already known; the category step then leads
    // straight to the description, and the place can still be changed from the review.
    out.conversation.state = enter(out, State::Category(draft), ctx);
}

fn command(out: &mut Outcome, cmd: Command, ctx: &Ctx) {
    let in_progress = out.conversation.state != State::Idle;
    match cmd {
        Command::Start(payload) => {
            let mailbox = payload
                .as_deref()
                .and_then(|p| p.strip_prefix("mb_").or_else(|| p.strip_prefix("MB_")));
            let found = mailbox.and_then(|code| ctx.settings.mailbox(code));
            out.replies
                .push(Reply::with(Msg::new("welcome"), Keyboard::Remove));
            if mailbox.is_some() && found.is_none() {
                out.replies.push(Reply::text(Msg::new("mailbox-unknown")));
            }
            if in_progress {
                if let (Some(m), Some(d)) = (found, out.conversation.state.draft_mut()) {
                    d.mailbox = Some(m.code.clone());
                    d.place = Some(Place::Mailbox {
                        code: m.code.clone(),
                    });
                }
                out.replies
                    .push(Reply::text(Msg::new("report-in-progress")));
                reprompt(out, ctx);
                return;
            }
            let mut draft = new_draft(ctx);
            if let Some(m) = found {
                draft.mailbox = Some(m.code.clone());
                draft.place = Some(Place::Mailbox {
                    code: m.code.clone(),
                });
            }
            start_report(out, draft, ctx);
        }
        Command::Report => {
            if in_progress {
                out.replies
                    .push(Reply::text(Msg::new("report-in-progress")));
                reprompt(out, ctx);
            } else {
                start_report(out, new_draft(ctx), ctx);
            }
        }
        Command::Status(None) => out.effects.push(Effect::StatusList),
        Command::Status(Some(arg)) => match ReceiptCode::parse(&arg) {
            Ok(code) => out.effects.push(Effect::Status(code)),
            Err(_) => out.replies.push(Reply::text(Msg::new("status-malformed"))),
        },
        Command::Cancel => {
            if in_progress {
                out.conversation.state = State::Idle;
                out.replies
                    .push(Reply::with(Msg::new("cancelled"), Keyboard::Remove));
            } else {
                out.replies.push(Reply::text(Msg::new("nothing-to-cancel")));
            }
        }
        Command::Help => {
            out.replies.push(Reply::text(
                Msg::new("help").arg("tips", ctx.settings.limits.tips_per_hour),
            ));
            reprompt(out, ctx);
        }
        Command::Lang(None) => out.replies.push(lang_menu()),
        Command::Lang(Some(code)) => set_lang(out, &code, ctx),
        Command::Unknown => {
            out.replies.push(Reply::text(Msg::new("unknown-command")));
            reprompt(out, ctx);
        }
    }
}

/// Input that depends on the step: buttons, text, pins, contacts, files.
fn on_input(out: &mut Outcome, state: State, input: Input, ctx: &Ctx) -> State {
    let limits = &ctx.settings.limits;
    match (state, input) {
        (State::Idle, Input::Button(Some(ButtonData::Report))) => {
            let state = State::Category(new_draft(ctx));
            enter(out, state, ctx)
        }
        (State::Idle, Input::Button(_)) => refuse(out, "stale-button", State::Idle, ctx),
        (State::Idle, _) => {
            out.replies.push(Reply::with(
                Msg::new("help").arg("tips", limits.tips_per_hour),
                Keyboard::Inline(vec![vec![Button::msg(
                    "button-report",
                    &ButtonData::Report,
                )]]),
            ));
            State::Idle
        }
        // `step` answers before it comes here; a question stays open under anything else.
        (State::Answering { code }, _) => State::Answering { code },

        (State::Category(mut d), Input::Button(data)) => {
            let category = match &data {
                Some(ButtonData::Category(id)) => ctx.settings.category(id),
                _ => None,
            };
            match category {
                Some(c) => {
                    d.category = Some(c.id.clone());
                    if d.editing {
                        back_to_review(out, d, ctx)
                    } else {
                        after_category(out, d, ctx)
                    }
                }
                None => refuse(out, "stale-button", State::Category(d), ctx),
            }
        }
        (State::Category(d), _) => refuse(out, "expect-button", State::Category(d), ctx),

        (State::NearMailbox(d), input) => on_near_mailbox(out, d, input, ctx),
        (State::Commune(d), input) => on_commune(out, d, input, ctx),

        (State::Place(mut d), Input::Location { lat, lon })
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            d.place = Some(Place::Pin { lat, lon });
            after_place(out, d, ctx)
        }
        (State::Place(mut d), Input::Button(data)) => {
            let commune = match &data {
                Some(ButtonData::Commune(id)) => ctx.settings.commune(id),
                _ => None,
            };
            match commune {
                Some(c) => {
                    d.place = Some(Place::Commune { id: c.id.clone() });
                    after_place(out, d, ctx)
                }
                None => refuse(out, "stale-button", State::Place(d), ctx),
            }
        }
        (State::Place(mut d), Input::Text(text)) => {
            let len = text.trim().chars().count();
            if (3..=300).contains(&len) {
                d.place = Some(Place::Text {
                    text: text.trim().to_owned(),
                });
                after_place(out, d, ctx)
            } else {
                refuse(out, "expect-place", State::Place(d), ctx)
            }
        }
        (State::Place(d), _) => refuse(out, "expect-place", State::Place(d), ctx),

        (State::Description(mut d), Input::Text(text)) => {
            if std::mem::take(&mut d.replace_description) {
                d.description.clear();
            }
            let text = text.trim();
            let used = d.description.chars().count();
            let extra = text.chars().count() + usize::from(used > 0);
            if text.is_empty() {
                refuse(out, "expect-description", State::Description(d), ctx)
            } else if used + extra > limits.description_max_chars {
                let msg = Msg::new("description-too-long")
                    .arg("max", limits.description_max_chars)
                    .arg("left", limits.description_max_chars.saturating_sub(used));
                out.replies.push(if used > 0 {
                    next_button(msg)
                } else {
                    Reply::text(msg)
                });
                State::Description(d)
            } else {
                if used > 0 {
                    d.description.push('\n');
                }
                d.description.push_str(text);
                out.replies.push(next_button(
                    Msg::new("description-added")
                        .arg("left", limits.description_max_chars - used - extra),
                ));
                State::Description(d)
            }
        }
        (State::Description(mut d), Input::Media(evidence, caption)) => {
            append_caption(&mut d, caption.as_deref(), limits.description_max_chars);
            // A voice note here is the description, told rather than typed.
            let added = if evidence.kind.is_voice() {
                "description-voice-added"
            } else {
                "evidence-added"
            };
            add_evidence(out, &mut d, evidence, "button-next", added, ctx);
            State::Description(d)
        }
        (State::Description(mut d), Input::Button(Some(ButtonData::Next))) => {
            d.replace_description = false;
            if !d.is_described() {
                out.replies.push(Reply::text(
                    Msg::new("description-empty").arg("voice", voice_accepted(ctx)),
                ));
                enter(out, State::Description(d), ctx)
            } else if d.editing {
                back_to_review(out, d, ctx)
            } else {
                enter(out, State::Evidence(d), ctx)
            }
        }
        (State::Description(d), Input::Button(_)) => {
            refuse(out, "stale-button", State::Description(d), ctx)
        }
        (State::Description(d), _) => refuse(out, "expect-description", State::Description(d), ctx),

        (State::Evidence(mut d), Input::Media(evidence, caption)) => {
            if std::mem::take(&mut d.replace_evidence) {
                d.evidence.clear();
            }
            append_caption(&mut d, caption.as_deref(), limits.description_max_chars);
            add_evidence(out, &mut d, evidence, "button-done", "evidence-added", ctx);
            State::Evidence(d)
        }
        (State::Evidence(mut d), Input::Button(Some(ButtonData::Next))) => {
            d.replace_evidence = false;
            if d.editing {
                back_to_review(out, d, ctx)
            } else {
                enter(out, State::Contact(d), ctx)
            }
        }
        (State::Evidence(d), Input::Button(_)) => {
            refuse(out, "stale-button", State::Evidence(d), ctx)
        }
        (State::Evidence(d), _) => refuse(out, "expect-evidence", State::Evidence(d), ctx),

        (State::Contact(mut d), Input::Contact { phone, own: true }) => {
            d.phone = Some(phone);
            out.replies
                .push(Reply::with(Msg::new("contact-saved"), Keyboard::Remove));
            back_to_review(out, d, ctx)
        }
        (State::Contact(d), Input::Contact { own: false, .. }) => {
            refuse(out, "contact-not-own", State::Contact(d), ctx)
        }
        (State::Contact(mut d), Input::Text(text)) if is_anonymous_choice(&text, ctx) => {
            d.phone = None;
            out.replies
                .push(Reply::with(Msg::new("contact-anonymous"), Keyboard::Remove));
            back_to_review(out, d, ctx)
        }
        (State::Contact(mut d), Input::Button(Some(ButtonData::Anonymous))) => {
            d.phone = None;
            out.replies
                .push(Reply::with(Msg::new("contact-anonymous"), Keyboard::Remove));
            back_to_review(out, d, ctx)
        }
        (State::Contact(d), Input::Button(_)) => {
            refuse(out, "stale-button", State::Contact(d), ctx)
        }
        (State::Contact(d), _) => refuse(out, "expect-contact", State::Contact(d), ctx),

        (State::Review(d), Input::Button(data)) => match data {
            Some(ButtonData::ReviewSend) => {
                out.effects.push(Effect::Submit(Box::new(voice_first(d))));
                State::Idle
            }
            Some(ButtonData::ReviewEdit) => enter(out, State::Edit(d), ctx),
            Some(ButtonData::ReviewCancel) => {
                out.replies
                    .push(Reply::with(Msg::new("cancelled"), Keyboard::Remove));
                State::Idle
            }
            _ => refuse(out, "stale-button", State::Review(d), ctx),
        },
        (State::Review(d), _) => refuse(out, "expect-button", State::Review(d), ctx),

        (State::Edit(mut d), Input::Button(data)) => {
            d.editing = true;
            match data {
                Some(ButtonData::EditPart(Part::Category)) => enter(out, State::Category(d), ctx),
                Some(ButtonData::EditPart(Part::Place)) => enter(out, State::Place(d), ctx),
                Some(ButtonData::EditPart(Part::Description)) => {
                    d.replace_description = true;
                    enter(out, State::Description(d), ctx)
                }
                Some(ButtonData::EditPart(Part::Evidence)) => {
                    d.replace_evidence = true;
                    enter(out, State::Evidence(d), ctx)
                }
                Some(ButtonData::EditPart(Part::Contact)) => enter(out, State::Contact(d), ctx),
                Some(ButtonData::EditBack) => back_to_review(out, d, ctx),
                _ => {
                    d.editing = false;
                    refuse(out, "stale-button", State::Edit(d), ctx)
                }
            }
        }
        (State::Edit(d), _) => refuse(out, "expect-button", State::Edit(d), ctx),
    }
}

pub(super) fn back_to_review(out: &mut Outcome, mut d: Draft, ctx: &Ctx) -> State {
    d.editing = false;
    enter(out, State::Review(d), ctx)
}

fn next_button(msg: Msg) -> Reply {
    Reply::with(
        msg,
        Keyboard::Inline(vec![vec![Button::msg("button-next", &ButtonData::Next)]]),
    )
}

fn is_anonymous_choice(text: &str, ctx: &Ctx) -> bool {
    let t = text.trim().to_lowercase();
    Lang::ALL.iter().any(|l| {
        let label = ctx.texts.get(*l, "button-anonymous").to_lowercase();
        t == label.trim()
    }) || matches!(t.as_str(), "ẩn danh" | "an danh" | "anonymous")
}
