//! The question each step asks, with its buttons. Used when a step is entered and again when
//! the citizen's input did not fit, so a wrong answer always ends with the same question.

use super::{Button, Ctx, Draft, Keyboard, Place, Reply, State};
use crate::buttons::{ButtonData, Part};
use crate::config::Settings;
use crate::i18n::{Lang, Msg, Texts};

fn button(id: &str, data: ButtonData) -> Button {
    Button::msg(id, &data)
}

/// Category buttons, two per row.
fn category_keyboard(ctx: &Ctx, lang: Lang) -> Keyboard {
    let buttons: Vec<Button> = ctx
        .settings
        .categories
        .iter()
        .map(|c| {
            let label = if lang == Lang::Vi { &c.vi } else { &c.en };
            Button::plain(label, &ButtonData::Category(c.id.clone()))
        })
        .collect();
    Keyboard::Inline(buttons.chunks(2).map(<[Button]>::to_vec).collect())
}

fn commune_keyboard(ctx: &Ctx) -> Keyboard {
    let all: Vec<&crate::config::Commune> = ctx.settings.communes.iter().collect();
    Keyboard::Inline(super::place::commune_buttons(&all))
}

/// The question of the current step, with its buttons; empty when idle. While answering an
/// officer it is the reminder that more can be written, with «Xong».
pub fn prompt(state: &State, ctx: &Ctx, lang: Lang) -> Vec<Reply> {
    match state {
        State::Idle => Vec::new(),
        State::Answering { code } => vec![Reply::with(
            Msg::new("answer-sent").arg("code", code),
            super::answer::answer_done_keyboard(),
        )],
        State::Category(_) => vec![Reply::with(
            Msg::new("ask-category"),
            category_keyboard(ctx, lang),
        )],
        State::NearMailbox(d) => vec![super::place::near_mailbox_prompt(d, ctx)],
        State::Commune(d) => vec![super::place::commune_prompt(d, ctx)],
        State::Place(_) => {
            let communes = ctx.settings.communes.len();
            // A province-wide list is too long for buttons: the commune is then typed, in the
            // commune step after the address, and the question does not offer a list.
            let list = communes > 0 && communes <= super::place::MAX_COMMUNE_BUTTONS;
            let mut replies = vec![Reply::with(
                Msg::new("ask-place").arg("list", if list { "yes" } else { "no" }),
                Keyboard::RequestLocation,
            )];
            if list {
                replies.push(Reply::with(
                    Msg::new("ask-place-commune"),
                    commune_keyboard(ctx),
                ));
            }
            replies
        }
        State::Description(d) => {
            let keyboard = if d.is_described() {
                Keyboard::Inline(vec![vec![button("button-next", ButtonData::Next)]])
            } else {
                Keyboard::Remove
            };
            vec![Reply::with(
                Msg::new("ask-description")
                    .arg("max", ctx.settings.limits.description_max_chars)
                    .arg("voice", super::evidence::voice_accepted(ctx)),
                keyboard,
            )]
        }
        State::Evidence(d) => vec![Reply::with(
            Msg::new("ask-evidence")
                .arg("max", ctx.settings.limits.evidence_max_files)
                .arg("mb", ctx.settings.limits.evidence_max_bytes / 1_000_000),
            Keyboard::Inline(vec![vec![if d.evidence.is_empty() {
                button("button-skip", ButtonData::Next)
            } else {
                button("button-done", ButtonData::Next)
            }]]),
        )],
        State::Contact(_) => vec![Reply::with(
            Msg::new("ask-contact"),
            Keyboard::RequestContact,
        )],
        State::Review(d) => vec![review(d, ctx, lang)],
        State::Edit(_) => vec![Reply::with(
            Msg::new("ask-edit"),
            Keyboard::Inline(vec![
                vec![
                    button("edit-category", ButtonData::EditPart(Part::Category)),
                    button("edit-place", ButtonData::EditPart(Part::Place)),
                ],
                vec![
                    button("edit-description", ButtonData::EditPart(Part::Description)),
                    button("edit-evidence", ButtonData::EditPart(Part::Evidence)),
                ],
                vec![
                    button("edit-contact", ButtonData::EditPart(Part::Contact)),
                    button("button-back", ButtonData::EditBack),
                ],
            ]),
        )],
    }
}

/// The place in words, in `lang`.
pub fn place_summary(place: &Place, settings: &Settings, texts: &Texts, lang: Lang) -> String {
    let msg = match place {
        Place::Pin { lat, lon } => Msg::new("place-pin")
            .arg("lat", format!("{lat:.5}"))
            .arg("lon", format!("{lon:.5}")),
        Place::Commune { id } => Msg::new("place-commune").arg(
            "name",
            settings
                .commune(id)
                .map_or(id.as_str(), |c| c.name.as_str()),
        ),
        Place::Mailbox { code } => {
            let mailbox = settings.mailbox(code);
            let commune = mailbox
                .and_then(|m| settings.commune(&m.commune))
                .map_or("", |c| c.name.as_str());
            Msg::new("place-mailbox")
                .arg("name", mailbox.map_or(code.as_str(), |m| m.name.as_str()))
                .arg("commune", commune)
        }
        Place::Text { text } => Msg::new("place-text").arg("text", text),
    };
    texts.render(lang, &msg)
}

/// Characters of the description shown in the review; Telegram messages hold 4096 at most,
/// and the full text is stored whatever its length.
const REVIEW_DESCRIPTION_CHARS: usize = 1500;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

/// The description as the review shows it: the text, or that it was told by voice.
fn described(d: &Draft, ctx: &Ctx, lang: Lang) -> String {
    if d.description.trim().is_empty() && d.voice_count() > 0 {
        return ctx.texts.render(
            lang,
            &Msg::new("review-voice-description").arg("count", d.voice_count()),
        );
    }
    shorten(&d.description, REVIEW_DESCRIPTION_CHARS)
}

fn review(d: &Draft, ctx: &Ctx, lang: Lang) -> Reply {
    let category = d
        .category
        .as_deref()
        .map_or(String::new(), |id| ctx.settings.category_label(id, lang));
    let mut place = d.place.as_ref().map_or(String::new(), |p| {
        place_summary(p, ctx.settings, ctx.texts, lang)
    });
    // A typed address or a pin, with the commune the citizen gave for it.
    if let (Some(Place::Text { .. } | Place::Pin { .. }), Some(c)) = (
        &d.place,
        d.commune.as_deref().and_then(|c| ctx.settings.commune(c)),
    ) {
        place.push_str(&format!(" · {}", c.name));
    }
    let contact = match &d.phone {
        Some(phone) => phone.masked(),
        None => ctx.texts.get(lang, "review-anonymous"),
    };
    let evidence = if d.evidence.is_empty() {
        ctx.texts.get(lang, "review-no-evidence")
    } else {
        d.evidence.len().to_string()
    };
    Reply::with(
        Msg::new("review")
            .arg("category", category)
            .arg("place", place)
            .arg("description", described(d, ctx, lang))
            .arg("evidence", evidence)
            .arg("contact", contact),
        Keyboard::Inline(vec![vec![
            button("button-send", ButtonData::ReviewSend),
            button("button-edit", ButtonData::ReviewEdit),
            button("button-cancel", ButtonData::ReviewCancel),
        ]]),
    )
}
