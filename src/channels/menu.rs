//! Buttons as numbered menus, for a platform without buttons. A reply's options are written under
//! its text as numbered lines with a hint; the citizen answers with a number or the option's
//! words, and [`resolve`] turns that back into the button's data (the wire string of a
//! [`ButtonData`], which the intake decodes), so the conversation steps as if a button had been
//! pressed:
//!
//! ```text
//! bot: Tin báo liên quan đến việc gì?
//!
//!      1. 💊 Ma túy
//!      2. 🔓 Trộm cắp
//!      Trả lời bằng số hoặc tên mục.
//! citizen: 2            → "cat:theft"
//! citizen: trom cap     → "cat:theft"
//! citizen: Có người …   → None (free text, as typed)
//! ```
//!
//! Zalo takes at most 2000 characters a message: longer texts go in parts
//! ([`super::fit::split`]).

use crate::buttons::ButtonData;
use crate::channels::{OutKeyboard, Outgoing};
use crate::rules::fold;

/// One numbered choice (defined by the store, which keeps the last menu shown); its `data`
/// is [`ButtonData::encode`]'s wire string, kept as such because the menu shown is stored
/// with it.
pub use crate::store::MenuOption;

/// The choices of a message, in the order they are numbered (row by row, left to right).
///
/// A location request has no Zalo equivalent and adds nothing (the conversation also accepts a
/// typed address). Of the contact request only "stay anonymous" remains: Zalo cannot share a
/// verified phone number and the conversation takes a number only from a contact card.
pub fn options(out: &Outgoing) -> Vec<MenuOption> {
    let option = |label: &str, data: &str| MenuOption {
        // A label is one line of the menu.
        label: label.split_whitespace().collect::<Vec<_>>().join(" "),
        data: data.to_owned(),
    };
    match &out.keyboard {
        OutKeyboard::None | OutKeyboard::Remove | OutKeyboard::Location(_) => Vec::new(),
        OutKeyboard::Inline(rows) => rows
            .iter()
            .flatten()
            .map(|(label, data)| option(label, data))
            .collect(),
        OutKeyboard::Contact { anonymous, .. } => {
            vec![option(anonymous, &ButtonData::Anonymous.encode())]
        }
    }
}

/// The message as Zalo shows it: the text, then the options as numbered lines and `hint` (e.g.
/// "Reply with a number or the option's name."). Without options it is the text alone.
pub fn render_text(out: &Outgoing, hint: &str) -> String {
    let options = options(out);
    if options.is_empty() {
        return out.text.clone();
    }
    let mut text = out.text.trim_end().to_owned();
    text.push_str("\n\n");
    for (i, o) in options.iter().enumerate() {
        text.push_str(&format!("{}. {}\n", i + 1, o.label));
    }
    let hint = hint.trim();
    if hint.is_empty() {
        text.pop();
    } else {
        text.push_str(hint);
    }
    text
}

/// Folded words: lower case, no diacritics (`đ` → `d`), no emoji or punctuation, single spaces.
fn key(text: &str) -> String {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The option number in a reply such as `2`, ` 2. `, `số 2`, `#2`, `2)`; `None` when the reply
/// is not a number alone.
fn number(reply: &str) -> Option<usize> {
    let folded = fold(reply);
    let mut s = folded.trim();
    for prefix in ["so", "#", "no."] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim_start();
            break;
        }
    }
    let s = s.trim_end_matches(['.', ')', ':']).trim_end();
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Letters a typed prefix must have to choose an option.
const MIN_PREFIX_LETTERS: usize = 3;

/// The data of the option the citizen's reply chooses: its number, its label typed with or
/// without diacritics and emoji in any case, or a prefix of at least three letters that only
/// one label starts with. `None` when nothing or more than one option fits; the reply is then
/// free text. A number out of range is `None` too, never a label match.
pub fn resolve(options: &[MenuOption], reply: &str) -> Option<String> {
    if let Some(n) = number(reply) {
        return n
            .checked_sub(1)
            .and_then(|i| options.get(i))
            .map(|o| o.data.clone());
    }
    let typed = key(reply);
    if typed.is_empty() {
        return None;
    }
    let keys: Vec<String> = options.iter().map(|o| key(&o.label)).collect();
    let unique = |hits: Vec<usize>| match hits.as_slice() {
        [i] => Some(options[*i].data.clone()),
        _ => None,
    };
    let exact: Vec<usize> = (0..keys.len()).filter(|&i| keys[i] == typed).collect();
    if !exact.is_empty() {
        return unique(exact);
    }
    if typed.chars().filter(|c| c.is_alphanumeric()).count() < MIN_PREFIX_LETTERS {
        return None;
    }
    unique(
        (0..keys.len())
            .filter(|&i| keys[i].starts_with(&typed))
            .collect(),
    )
}
