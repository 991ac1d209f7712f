//! Vietnamese text as the rules see it, below configuration and every other module: keyword
//! patterns in their two forms, tone folding, the full fold without diacritics, normalising
//! and similarity for near-duplicates.
//!
//! Citizens often type Vietnamese without diacritics ("co nguoi ban ma tuy"), and write the same
//! tone mark in two places ("hoà" and "hòa"). A keyword pattern is written once, with diacritics,
//! and compiled twice:
//!
//! - a *toned* form (tone mark position folded, see [`fold_tones`]), matched against text that is
//!   folded the same way, so diacritics keep their meaning: "bơm xăng" (pump petrol) never
//!   matches a pattern `bom` (bomb);
//! - a *plain* form with every diacritic removed ([`fold`]), matched only against text that has
//!   no Vietnamese letter with a diacritic at all: there "bom xang" may well mean "bơm xăng", but
//!   we cannot tell, and a missed weapon report costs more than a raised priority.
//!
//! Regex syntax is ASCII, so both forms are made by folding the pattern's non-ASCII characters
//! one by one, leaving every ASCII character (and so every escape such as `\D`) as written.

use std::collections::HashSet;

use regex::{Regex, RegexBuilder};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// One keyword pattern in both of its forms (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    toned: Regex,
    plain: Regex,
}

/// A text prepared once for matching against every pattern.
pub(crate) struct Prepared {
    toned: String,
    /// The fully folded text, present only when the text has no diacritics at all.
    plain: Option<String>,
}

/// Whether `pattern` compiles as a keyword pattern, with the reason when it does not; used by
/// configuration checks so that they compile exactly as [`crate::rules::Rules::compile`] does.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let compiled = Pattern::new(pattern)?;
    if compiled.toned.is_match("") || compiled.plain.is_match("") {
        return Err("matches the empty text, so it would match every tip".to_owned());
    }
    Ok(())
}

impl Pattern {
    pub(crate) fn new(pattern: &str) -> Result<Pattern, String> {
        let build = |form: String, which: &str| {
            RegexBuilder::new(&form)
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("is not a valid regular expression ({which} form): {e}"))
        };
        Ok(Pattern {
            toned: build(toned_pattern(pattern), "written")?,
            plain: build(plain_pattern(pattern), "without diacritics")?,
        })
    }

    pub(crate) fn is_match(&self, text: &Prepared) -> bool {
        self.toned.is_match(&text.toned)
            || text
                .plain
                .as_deref()
                .is_some_and(|t| self.plain.is_match(t))
    }
}

impl Prepared {
    pub(crate) fn new(text: &str) -> Prepared {
        let nfc: String = text.nfc().collect();
        let plain = (!has_diacritics(&nfc)).then(|| fold(&nfc));
        Prepared {
            toned: fold_tones(&nfc.to_lowercase()),
            plain,
        }
    }
}

/// The pattern with non-ASCII letters lowercased and composed, tone marks folded like text.
fn toned_pattern(pattern: &str) -> String {
    let mut lowered = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if c.is_ascii() {
            lowered.push(c);
        } else {
            lowered.extend(c.to_lowercase());
        }
    }
    fold_tones(&lowered.nfc().collect::<String>())
}

/// The pattern with every non-ASCII character folded as [`fold`] does; ASCII kept as written.
fn plain_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            fold_char(c, &mut out);
        }
    }
    out
}

/// The full fold used for matching text typed without diacritics and for comparing texts:
/// lowercase, every diacritic removed, `đ` → `d`. "Đồng Hới" → "dong hoi".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out
}

fn fold_char(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        for d in std::iter::once(lower).nfd() {
            match d {
                'đ' => out.push('d'),
                d if is_combining_mark(d) => {}
                d => out.push(d),
            }
        }
    }
}

/// Whether `text` (in NFC) holds a Latin letter with a diacritic, such as `ơ`, `ấ` or `đ`.
fn has_diacritics(text: &str) -> bool {
    text.chars().any(|c| {
        !c.is_ascii()
            && c.is_alphabetic()
            && (matches!(c, 'đ' | 'Đ')
                || std::iter::once(c)
                    .nfd()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic()))
    })
}

/// A text reduced for duplicate detection: [`fold`]ed, every run of characters that are not
/// letters or digits replaced by one space, trimmed. "Có  người bán ma túy!!" → "co nguoi ban
/// ma tuy".
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in fold(text).chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// How alike two texts are, from 0 (nothing in common) to 1 (the same once [`normalise`]d):
/// the Jaccard index of the sets of character trigrams of the normalised texts. Texts shorter
/// than three characters after normalising are 1 when equal and 0 otherwise. Linear in the
/// length of the texts.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a.chars().nth(2).is_none() || b.chars().nth(2).is_none() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let (ta, tb) = (trigrams(&a), trigrams(&b));
    let (small, large) = if ta.len() <= tb.len() {
        (&ta, &tb)
    } else {
        (&tb, &ta)
    };
    let common = small.iter().filter(|t| large.contains(*t)).count();
    let union = ta.len() + tb.len() - common;
    // Both sets are non-empty here (each text has at least three characters).
    common as f64 / union as f64
}

fn trigrams(text: &str) -> HashSet<[char; 3]> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

/// Vietnamese is written with the tone mark in two places in `oa`, `oe` and `uy` (`hòa` and
/// `hoà`, `dọa` and `doạ`, `thúy` and `thuý`); both are correct and NFC keeps them apart. For
/// matching only, this moves the mark to the first vowel (`oà` → `òa`).
pub fn fold_tones(text: &str) -> String {
    const MOVES: [(char, [char; 5], [char; 5]); 3] = [
        ('a', ['à', 'á', 'ả', 'ã', 'ạ'], ['ò', 'ó', 'ỏ', 'õ', 'ọ']),
        ('e', ['è', 'é', 'ẻ', 'ẽ', 'ẹ'], ['ò', 'ó', 'ỏ', 'õ', 'ọ']),
        ('y', ['ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ'], ['ù', 'ú', 'ủ', 'ũ', 'ụ']),
    ];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        let lower_first = c.to_lowercase().next().unwrap_or(c);
        let moved = next.and_then(|n| {
            let n_lower = n.to_lowercase().next().unwrap_or(n);
            MOVES.iter().find_map(|(base, marked, firsts)| {
                let expected_first = if *base == 'y' { 'u' } else { 'o' };
                let tone = marked.iter().position(|m| *m == n_lower)?;
                (lower_first == expected_first).then(|| (firsts[tone], *base))
            })
        });
        match moved {
            Some((first, base)) => {
                out.push(first);
                out.push(base);
                i += 2;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}
