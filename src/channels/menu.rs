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
//! Also [`split`]: Zalo takes at most 2000 characters a message, so longer texts go in parts cut
//! at the most natural boundary that fits.

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

/// Where a long text may be cut, best first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Boundary {
    Paragraph,
    Line,
    Sentence,
    Word,
}

/// `text` in parts of at most `max_chars` characters (not bytes), for a platform with a length
/// limit. A text that fits is one part as it is; a longer one is trimmed and cut at the last
/// paragraph break that fits, else the last line break, else after the last sentence (`. ` `! `
/// `? ` `… `), else the last space; only a single word longer than `max_chars` is cut inside.
/// The whitespace at a cut is dropped, so no part is empty or starts or ends with it; a text
/// of whitespace only gives no parts.
pub fn split(text: &str, max_chars: usize) -> Vec<String> {
    pieces(text, max_chars)
        .into_iter()
        .map(|(part, _)| part.to_owned())
        .collect()
}

/// The parts of [`split`], each with the whitespace it was cut at (empty after the last part and
/// after a cut inside a word): joining them gives back the text (trimmed, when it was cut).
pub(super) fn pieces(text: &str, max_chars: usize) -> Vec<(&str, &str)> {
    let max = max_chars.max(1);
    if text.trim().is_empty() {
        return Vec::new();
    }
    if text.chars().count() <= max {
        return vec![(text, "")];
    }
    let mut out = Vec::new();
    let mut rest = text.trim();
    loop {
        // `limit`: byte offset just past the first `max` characters, if the rest is longer.
        let Some((limit, _)) = rest.char_indices().nth(max) else {
            out.push((rest, ""));
            return out;
        };
        match best_cut(rest, limit) {
            Some((start, end)) => {
                out.push((&rest[..start], &rest[start..end]));
                rest = &rest[end..];
            }
            None => {
                out.push((&rest[..limit], ""));
                rest = &rest[limit..];
            }
        }
    }
}

/// The whitespace run `[start, end)` to cut `rest` at: of the runs starting after the first
/// character and at most at `limit`, the last one of the best kind. `rest` has no leading or
/// trailing whitespace.
fn best_cut(rest: &str, limit: usize) -> Option<(usize, usize)> {
    let mut best: Option<(Boundary, usize, usize)> = None;
    let mut chars = rest.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((start, c)) = chars.next() {
        if start > limit {
            break;
        }
        if !c.is_whitespace() {
            prev = Some(c);
            continue;
        }
        let mut end = start + c.len_utf8();
        let mut newlines = usize::from(c == '\n');
        while let Some(&(i, w)) = chars.peek() {
            if !w.is_whitespace() {
                break;
            }
            newlines += usize::from(w == '\n');
            end = i + w.len_utf8();
            chars.next();
        }
        let kind = match newlines {
            0 if matches!(prev, Some('.' | '!' | '?' | '…')) => Boundary::Sentence,
            0 => Boundary::Word,
            1 => Boundary::Line,
            _ => Boundary::Paragraph,
        };
        if start > 0 && best.is_none_or(|(b, _, _)| kind <= b) {
            best = Some((kind, start, end));
        }
    }
    best.map(|(_, start, end)| (start, end))
}
