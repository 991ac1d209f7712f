//! Recognisers for personal data in free text: Vietnamese phone numbers, 12-digit citizen ids
//! (CCCD) and licence plates, so that text can be shown or stored with them masked.
//!
//! The regular expressions only propose candidates; a candidate counts only when it does not sit
//! inside a longer run of digits (plates: of letters or digits), checked by hand because the
//! `regex` crate has no look-around. A rejected candidate does not hide the text it covered:
//! the search resumes one character after its start. Amounts ("500.000 đồng", whose groups of
//! three never line up into a phone number), years, times ("14:30") and dates ("26/11/2026")
//! are left alone.
//!
//! Where two kinds overlap, the earlier kind wins: phone, then citizen id, then plate. A phone
//! is 10 digits starting `0` (11 for landlines `02x`), or `84`/`+84` and 9 digits; a run of 12
//! digits is a citizen id, never a phone followed by two more digits.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// The kind of personal data a span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A Vietnamese mobile or landline number.
    Phone,
    /// A 12-digit citizen identity card number (CCCD).
    CitizenId,
    /// A vehicle licence plate.
    Plate,
}

impl Kind {
    /// What replaces a span of this kind in [`redact`].
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::Phone => "[SĐT]",
            Kind::CitizenId => "[CCCD]",
            Kind::Plate => "[BIỂN SỐ]",
        }
    }
}

/// Digits may be grouped by one space, dot or dash between any two of them.
const SEP: &str = r"[ .\-]?";

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    let digits = |n: usize| format!(r"(?:{SEP}[0-9]){{{n}}}");
    let national = format!("(?:[35789]{}|2{})", digits(8), digits(9));
    let pattern = [
        // +84 912 345 678, +84 24 3825 1234, and the common +84 0912 345 678.
        format!(r"\+84{SEP}(?:0{SEP})?{national}"),
        // 84912345678; no dot or dash after 84, which reads as an amount (84.912.345.678).
        format!(r"84 ?{national}"),
        // 0912 345 678
        format!("0[35789]{}", digits(8)),
        // 024 3825 1234, (024) 3825 1234
        format!(r"(?:\(02[0-9]\)|02[0-9]){}", digits(8)),
    ]
    .join("|");
    compile(&pattern)
});

static CITIZEN_ID: LazyLock<Regex> = LazyLock::new(|| {
    // Twelve digits in a row, or grouped 3-3-3-3, 4-4-4 or 6-6 with one kind of separator; a
    // grouped id starts with 0 (province codes run 001-096), unlike a grouped amount.
    let mut alternatives = vec!["[0-9]{12}".to_owned()];
    for sep in [" ", r"\.", "-"] {
        alternatives.push(format!("0[0-9]{{2}}(?:{sep}[0-9]{{3}}){{3}}"));
        alternatives.push(format!("0[0-9]{{3}}(?:{sep}[0-9]{{4}}){{2}}"));
        alternatives.push(format!("0[0-9]{{5}}{sep}[0-9]{{6}}"));
    }
    compile(&alternatives.join("|"))
});

static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    // Province (2 digits), series (1-2 letters, maybe a digit), number (4-5 digits, the last two
    // maybe set apart). Lowercase series are accepted only without a space before the number,
    // so that "10kg 1000 đồng" is not a plate.
    let number = "(?:[0-9]{3}[ .][0-9]{2}|[0-9]{4,5})";
    compile(&format!(
        r"[0-9]{{2}}-?[A-ZĐ]{{1,2}}[0-9]?[ .\-]?{number}|[0-9]{{2}}-?[a-zđ]{{1,2}}[0-9]?[.\-]?{number}"
    ))
});

/// Compiles one of the fixed patterns above.
fn compile(pattern: &str) -> Regex {
    // The patterns are constants of this module, covered by its tests: they always compile.
    Regex::new(pattern).expect("built-in personal-data pattern compiles")
}

/// Decides whether a candidate span stands on its own in the text.
type Accept = fn(&str, &Range<usize>) -> bool;

/// Every span of personal data in `text`, by start, as byte ranges into `text`.
pub fn find(text: &str) -> Vec<(Kind, Range<usize>)> {
    let recognisers: [(Kind, &Regex, Accept); 3] = [
        (Kind::Phone, &PHONE, digits_apart),
        (Kind::CitizenId, &CITIZEN_ID, digits_apart),
        (Kind::Plate, &PLATE, word_apart),
    ];
    let mut found: Vec<(Kind, Range<usize>)> = Vec::new();
    for (kind, re, accept) in recognisers {
        for range in candidates(re, text, accept) {
            if !found
                .iter()
                .any(|(_, r)| r.start < range.end && range.start < r.end)
            {
                found.push((kind, range));
            }
        }
    }
    found.sort_by_key(|(_, r)| r.start);
    found
}

/// `text` with every span [`find`] reports replaced by its kind's placeholder (`[SĐT]`,
/// `[CCCD]`, `[BIỂN SỐ]`).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (kind, range) in find(text) {
        out.push_str(&text[last..range.start]);
        out.push_str(kind.placeholder());
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The matches of `re` that `accept` keeps, not overlapping one another.
fn candidates(re: &Regex, text: &str, accept: Accept) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(m) = re.find_at(text, pos) {
        let range = m.range();
        if accept(text, &range) {
            pos = range.end.max(range.start + 1);
            out.push(range);
        } else {
            pos = range.start + text[range.start..].chars().next().map_or(1, char::len_utf8);
        }
        if pos > text.len() {
            break;
        }
    }
    out
}

/// No digit right before a span that starts with a digit, nor right after it. A span that
/// starts with `+` or `(` is set apart by that sign.
fn digits_apart(text: &str, range: &Range<usize>) -> bool {
    let is_digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let first = text[range.start..].chars().next();
    let before = text[..range.start].chars().next_back();
    let after = text[range.end..].chars().next();
    let glued_before = is_digit(first) && is_digit(before);
    !(glued_before || is_digit(after))
}

/// No letter or digit right before or right after the span.
fn word_apart(text: &str, range: &Range<usize>) -> bool {
    let before = text[..range.start].chars().next_back();
    let after = text[range.end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}
