//! The officer card of a tip: what a duty officer reads in the group. It shows the receipt code
//! and the alias-free facts of the tip, never who sent it; a minimal card (config) shows only
//! code, category, commune and priority.

use crate::channels::fit;
use crate::config::{Priority, Settings};
use crate::conversation::{Place, place_summary};
use crate::i18n::{Lang, Msg, Texts};
use crate::rules::defang::defang;
use crate::store::Tip;

/// Length of the description a card shows, in UTF-16 units (a Telegram message holds 4096).
const CARD_DESCRIPTION_CHARS: usize = 3000;

fn marker(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "🔴",
        Priority::High => "🟠",
        Priority::Normal => "🟡",
        Priority::Low => "⚪",
    }
}

fn priority_id(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "priority-urgent",
        Priority::High => "priority-high",
        Priority::Normal => "priority-normal",
        Priority::Low => "priority-low",
    }
}

/// The card text for `tip`, in `lang`; `local_time` formats the received time.
pub fn render(
    tip: &Tip,
    settings: &Settings,
    texts: &Texts,
    lang: Lang,
    local_time: &str,
) -> String {
    let category = settings.category_label(&tip.category, lang);
    let commune = tip
        .commune
        .as_deref()
        .and_then(|c| settings.commune(c))
        .map_or_else(
            || texts.get(lang, "card-commune-unknown"),
            |c| c.name.clone(),
        );
    let priority = texts.get(lang, priority_id(tip.priority));
    let duplicate = tip.duplicate_of.as_ref().map(|code| {
        format!(
            "\n{}",
            texts.render(lang, &Msg::new("card-duplicate").arg("code", code))
        )
    });
    if settings.desk.minimal_cards {
        let mut text = texts.render(
            lang,
            &Msg::new("card-minimal")
                .arg("marker", marker(tip.priority))
                .arg("code", &tip.code)
                .arg("category", category)
                .arg("commune", commune)
                .arg("priority", priority),
        );
        // Minimal cards keep personal data out of the group: a short excerpt, redacted.
        if let Some(excerpt) = minimal_excerpt(&tip.description, settings) {
            text.push('\n');
            text.push_str(&texts.render(
                lang,
                &Msg::new("card-minimal-excerpt").arg("excerpt", excerpt),
            ));
        }
        text.push_str(duplicate.as_deref().unwrap_or_default());
        return text;
    }
    // What the citizen typed reaches the group with its links unclickable: a planted link
    // (a tracker, a phishing page) cannot be opened by a tap, and stays readable as evidence.
    let mut place = defang(&place_summary(&tip.place, settings, texts, lang));
    if let (Place::Text { .. } | Place::Pin { .. }, Some(c)) = (
        &tip.place,
        tip.commune.as_deref().and_then(|c| settings.commune(c)),
    ) {
        place.push_str(&format!(" · {}", c.name));
    }
    if let Place::Pin { lat, lon } = tip.place {
        place.push_str(&format!(
            "\nhttps://www.google.com/maps?q={lat:.6},{lon:.6}"
        ));
    }
    if let (Some(code), false) = (&tip.mailbox, matches!(tip.place, Place::Mailbox { .. })) {
        let mailbox = Place::Mailbox { code: code.clone() };
        place.push_str(&format!(
            " · {}",
            place_summary(&mailbox, settings, texts, lang)
        ));
    }
    let contact = texts.get(
        lang,
        if tip.contact_sealed.is_some() {
            "card-contact-phone"
        } else {
            "card-contact-anonymous"
        },
    );
    let voices = tip.evidence.iter().filter(|e| e.kind.is_voice()).count();
    let told_by_voice = tip.description.trim().is_empty() && voices > 0;
    let voice_line = told_by_voice.then(|| {
        texts.render(
            lang,
            &Msg::new("card-voice-description").arg("count", voices),
        )
    });
    let defanged = defang(&tip.description);
    let description = match &voice_line {
        Some(line) => std::borrow::Cow::Borrowed(line.as_str()),
        None => fit::truncate(&defanged, CARD_DESCRIPTION_CHARS),
    };
    let mut text = texts.render(
        lang,
        &Msg::new("card")
            .arg("marker", marker(tip.priority))
            .arg("code", &tip.code)
            .arg("category", category)
            .arg("priority", priority)
            .arg("place", place)
            .arg("time", local_time)
            .arg("evidence", tip.evidence.len())
            .arg("contact", contact)
            .arg("description", description.as_ref()),
    );
    if tip.emergency {
        text.push('\n');
        text.push_str(&texts.get(lang, "card-emergency"));
    }
    if !tip.priority_reasons.is_empty() {
        text.push('\n');
        text.push_str(&texts.render(
            lang,
            &Msg::new("card-reasons").arg("reasons", tip.priority_reasons.join(", ")),
        ));
    }
    text.push_str(duplicate.as_deref().unwrap_or_default());
    text
}

/// What a minimal-card group may read of `text` (a description, a citizen's answer): its
/// first `desk.minimal_excerpt_chars` characters with phone numbers, citizen ids and licence
/// plates masked, or `None` when the unit shows none.
pub fn minimal_excerpt(text: &str, settings: &Settings) -> Option<String> {
    let max = settings.desk.minimal_excerpt_chars;
    let redacted = defang(&crate::rules::pii::redact(text));
    let mut excerpt: String = redacted.chars().take(max).collect();
    if excerpt.trim().is_empty() {
        return None;
    }
    if redacted.chars().count() > max {
        excerpt.push('…');
    }
    Some(excerpt)
}

/// The card text with lines for what officers did: acknowledged, claimed, closed.
pub fn render_with_state(tip: &Tip, shared: &crate::shared::Shared, lang: Lang) -> String {
    let texts = &shared.texts;
    let card = render(
        tip,
        &shared.settings,
        texts,
        lang,
        &shared.local_time(tip.received_ms),
    );
    // The lines of what officers did, under the card.
    let mut text = String::new();
    let minutes = |at: i64| ((at - tip.received_ms).max(0) / 60_000).to_string();
    let mut line = |id: &str, by: &Option<String>, at: i64, extra: Option<String>| {
        let mut msg = Msg::new(id)
            .arg("officer", by.as_deref().unwrap_or("?"))
            .arg("time", shared.local_time(at))
            .arg("minutes", minutes(at));
        if let Some(e) = extra {
            msg = msg.arg("disposition", e);
        }
        text.push('\n');
        text.push_str(&texts.render(lang, &msg));
    };
    if let Some(at) = tip.acknowledged_ms {
        line("card-acked", &tip.acknowledged_by, at, None);
    }
    if let Some(at) = tip.claimed_ms {
        line("card-claimed", &tip.claimed_by, at, None);
    }
    if let Some(at) = tip.closed_ms {
        let disposition = tip.disposition.as_deref().map(|id| {
            shared
                .settings
                .desk
                .dispositions
                .iter()
                .find(|d| d.id == id)
                .map_or(id.to_owned(), |d| {
                    if lang == Lang::Vi {
                        d.vi.clone()
                    } else {
                        d.en.clone()
                    }
                })
        });
        line("card-closed", &tip.closed_by, at, disposition);
    }
    // One Telegram message (a card is edited later, so it is never split): what does not fit
    // is cut from the card's end, the officers' lines stay.
    let room = fit::TELEGRAM_TEXT.saturating_sub(fit::len(&text));
    format!("{}{text}", fit::truncate(&card, room))
}

/// The outline of a tip: code, category, commune, priority and time, no content. It is what
/// a group gets when Telegram refuses the full card for its content (issue 13).
pub fn render_outline(tip: &Tip, shared: &crate::shared::Shared, lang: Lang) -> String {
    let (settings, texts) = (&shared.settings, &shared.texts);
    let commune = tip
        .commune
        .as_deref()
        .and_then(|c| settings.commune(c))
        .map_or_else(
            || texts.get(lang, "card-commune-unknown"),
            |c| c.name.clone(),
        );
    texts.render(
        lang,
        &Msg::new("card-outline")
            .arg("marker", marker(tip.priority))
            .arg("code", &tip.code)
            .arg("category", settings.category_label(&tip.category, lang))
            .arg("commune", commune)
            .arg("priority", texts.get(lang, priority_id(tip.priority)))
            .arg("time", shared.local_time(tip.received_ms)),
    )
}
