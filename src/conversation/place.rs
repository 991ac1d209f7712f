//! Where it happened, on the 2025 map (issue 15): a typed address or a pin is always followed
//! by its commune or ward, so that routing, hotspots and exports know it; a citizen who came
//! through a mailbox's QR code is asked whether it happened near that mailbox.
//!
//! ```text
//! bot: Where?  (📍) / [commune] … / type it
//! citizen: "xóm Bưng, gần cầu"         bot: Which commune or ward?  [Xã Cao Phong] … [❔ Không rõ]
//! citizen: "nam phong"                 bot: Commune: Xã Mường Thàng.  (an old name, no diacritics)
//!                                      bot: What happened? …
//!
//! (from a mailbox QR code, after the category)
//!                                      bot: Near the mailbox «Chợ Thung Nai», or elsewhere?
//! citizen: [📍 Nơi khác]                bot: Where? …
//! ```

use super::step::{back_to_review, enter, refuse};
use super::{Button, Ctx, Draft, Input, Keyboard, Outcome, Place, Reply, State};
use crate::buttons::ButtonData;
use crate::config::Commune;
use crate::i18n::Msg;

/// Up to this many communes are offered as buttons; a province-wide list is typed instead.
pub const MAX_COMMUNE_BUTTONS: usize = 12;

/// Buttons for `communes`, two per row.
pub(super) fn commune_buttons(communes: &[&Commune]) -> Vec<Vec<Button>> {
    let buttons: Vec<Button> = communes
        .iter()
        .map(|c| Button::plain(&c.name, &ButtonData::Commune(c.id.clone())))
        .collect();
    buttons.chunks(2).map(<[Button]>::to_vec).collect()
}

/// The commune step's buttons: `first` (what the citizen's words matched), then every
/// commune when the list is short, then "not known".
fn commune_keyboard(first: &[&Commune], ctx: &Ctx) -> Keyboard {
    let all: Vec<&Commune> = ctx.settings.communes.iter().collect();
    let mut rows = commune_buttons(first);
    if first.is_empty() && all.len() <= MAX_COMMUNE_BUTTONS {
        rows.extend(commune_buttons(&all));
    }
    rows.push(vec![Button::msg(
        "button-commune-unknown",
        &ButtonData::CommuneUnknown,
    )]);
    Keyboard::Inline(rows)
}

/// The commune step's question; the communes a typed address names come first.
pub(super) fn commune_prompt(d: &Draft, ctx: &Ctx) -> Reply {
    let named = match &d.place {
        Some(Place::Text { text }) => ctx.settings.find_communes(text),
        _ => Vec::new(),
    };
    Reply::with(Msg::new("ask-commune"), commune_keyboard(&named, ctx))
}

/// The mailbox question: near it, or elsewhere.
pub(super) fn near_mailbox_prompt(d: &Draft, ctx: &Ctx) -> Reply {
    let mailbox = d.mailbox.as_deref().and_then(|m| ctx.settings.mailbox(m));
    let commune = mailbox
        .and_then(|m| ctx.settings.commune(&m.commune))
        .map_or("", |c| c.name.as_str());
    Reply::with(
        Msg::new("ask-near-mailbox")
            .arg("mailbox", mailbox.map_or("", |m| m.name.as_str()))
            .arg("commune", commune),
        Keyboard::Inline(vec![vec![
            Button::msg("button-near-mailbox", &ButtonData::NearMailbox),
            Button::msg("button-elsewhere", &ButtonData::Elsewhere),
        ]]),
    )
}

/// After the category: a draft from a mailbox asks whether it was near it; one with a place
/// goes on to the description; any other asks where.
pub(super) fn after_category(out: &mut Outcome, d: Draft, ctx: &Ctx) -> State {
    match &d.place {
        Some(Place::Mailbox { .. }) => enter(out, State::NearMailbox(d), ctx),
        Some(_) => after_place(out, d, ctx),
        None => enter(out, State::Place(d), ctx),
    }
}

/// After the place: a typed address or a pin asks its commune (when communes are
/// configured and it is not known yet); then the description, or the review when editing.
pub(super) fn after_place(out: &mut Outcome, d: Draft, ctx: &Ctx) -> State {
    let needs_commune = matches!(d.place, Some(Place::Text { .. } | Place::Pin { .. }))
        && !ctx.settings.communes.is_empty();
    if needs_commune {
        // The location keyboard goes away with the commune question's first line.
        out.replies
            .push(Reply::with(Msg::new("button-pressed"), Keyboard::Remove));
        return enter(out, State::Commune(d), ctx);
    }
    if d.editing {
        // The location keyboard goes away with the review's first line.
        out.replies
            .push(Reply::with(Msg::new("button-pressed"), Keyboard::Remove));
    }
    after_commune(out, d, ctx)
}

/// The description next, or the review when editing.
fn after_commune(out: &mut Outcome, d: Draft, ctx: &Ctx) -> State {
    if d.editing {
        back_to_review(out, d, ctx)
    } else {
        enter(out, State::Description(d), ctx)
    }
}

/// The commune step: a button, a typed name (found with or without diacritics, old names
/// too), or "not known".
pub(super) fn on_commune(out: &mut Outcome, mut d: Draft, input: Input, ctx: &Ctx) -> State {
    match input {
        Input::Button(Some(ButtonData::Commune(id))) => match ctx.settings.commune(&id) {
            Some(c) => {
                d.commune = Some(c.id.clone());
                after_commune(out, d, ctx)
            }
            None => refuse(out, "stale-button", State::Commune(d), ctx),
        },
        Input::Button(Some(ButtonData::CommuneUnknown)) => {
            d.commune = None;
            after_commune(out, d, ctx)
        }
        Input::Button(_) => refuse(out, "stale-button", State::Commune(d), ctx),
        Input::Text(typed) => {
            let found = ctx.settings.find_communes(&typed);
            match found.as_slice() {
                [one] => {
                    d.commune = Some(one.id.clone());
                    out.replies.push(Reply::text(
                        Msg::new("commune-found").arg("name", &one.name),
                    ));
                    after_commune(out, d, ctx)
                }
                [] => {
                    out.replies.push(Reply::text(
                        Msg::new("commune-not-found").arg("typed", typed.trim()),
                    ));
                    enter(out, State::Commune(d), ctx)
                }
                several => {
                    out.replies.push(Reply::with(
                        Msg::new("commune-several").arg("typed", typed.trim()),
                        commune_keyboard(several, ctx),
                    ));
                    State::Commune(d)
                }
            }
        }
        _ => refuse(out, "expect-commune", State::Commune(d), ctx),
    }
}

/// Near the mailbox the QR code named, or elsewhere (then: where?).
pub(super) fn on_near_mailbox(out: &mut Outcome, mut d: Draft, input: Input, ctx: &Ctx) -> State {
    match input {
        Input::Button(Some(ButtonData::NearMailbox)) => after_commune(out, d, ctx),
        Input::Button(Some(ButtonData::Elsewhere)) => {
            // The mailbox stays recorded as the way the tip came; the place is asked.
            d.place = None;
            enter(out, State::Place(d), ctx)
        }
        Input::Button(_) => refuse(out, "stale-button", State::NearMailbox(d), ctx),
        _ => refuse(out, "expect-button", State::NearMailbox(d), ctx),
    }
}
