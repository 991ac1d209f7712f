//! Line breaking for SVG text, which has none of its own.
//!
//! Widths are estimated from character classes measured on DejaVu Sans (the only font we
//! render with), after stripping Vietnamese diacritics, which sit above or below a letter and
//! add no width. The estimates lean wide, so a wrapped line may end a little early but never
//! runs past its box; `tests.rs` checks them against the widths usvg actually lays out.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The mark put at the end of text that had to be cut to fit.
const ELLIPSIS: char = '…';

/// The advance of `c` in em, rounded up from DejaVu Sans (regular) metrics.
fn advance_em(c: char) -> f32 {
    match c {
        ' ' => 0.32,
        'i' | 'j' | 'l' | 'I' | 'J' | '!' | '\'' | ',' | '.' | ':' | ';' | '|' | '·' => 0.31,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '/' | '\\' | '"' => 0.44,
        'a'..='l' | 'n'..='v' | 'x'..='z' | 'đ' | 'ð' | 'ı' => 0.64,
        '0'..='9' | '$' | '?' | '_' | '*' => 0.64,
        'A'..='L' | 'N'..='V' | 'X'..='Z' | 'Đ' => 0.80,
        '#' | '+' | '=' | '<' | '>' | '~' | '^' | '&' => 0.84,
        // m, w, M, W, wide symbols, the ellipsis, and anything unknown (symbols, other scripts).
        _ => 1.0,
    }
}

/// The estimated width of `text` set at `size` in the regular or bold face.
pub(crate) fn width(text: &str, size: f32, bold: bool) -> f32 {
    let em: f32 = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(advance_em)
        .sum();
    // DejaVu Sans Bold is at most 13 % wider than the regular face, glyph for glyph.
    em * size * if bold { 1.13 } else { 1.0 }
}

/// Breaks `text` into lines no wider than `max_width`: at spaces where possible, inside a word
/// when the word alone is too wide (links, long compound names). Newlines in `text` are kept
/// as line breaks; runs of other whitespace count as one space.
pub(crate) fn wrap(text: &str, max_width: f32, size: f32, bold: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word starts a fresh line; cut it wherever it overflows.
            for c in word.chars() {
                line.push(c);
                if width(&line, size, bold) > max_width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// Text laid out for a box: the font size chosen and the lines at that size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fitted {
    /// Font size in SVG user units.
    pub size: f32,
    /// The lines, none wider than the box.
    pub lines: Vec<String>,
}

impl Fitted {
    /// Height of the block with lines `leading` × size apart.
    pub(crate) fn height(&self, leading: f32) -> f32 {
        self.lines.len() as f32 * self.size * leading
    }
}

/// Sets `text` as large as possible between `max_size` and `min_size` in at most `max_lines`
/// lines of `max_width`. Text that does not fit even at `min_size` is cut after `max_lines`
/// lines and ends with an ellipsis.
pub(crate) fn fit(
    text: &str,
    max_width: f32,
    max_lines: usize,
    (max_size, min_size): (f32, f32),
    bold: bool,
) -> Fitted {
    let max_lines = max_lines.max(1);
    let mut size = max_size;
    loop {
        let lines = wrap(text, max_width, size, bold);
        if lines.len() <= max_lines {
            let lines = balance(text, lines, max_width, size, bold);
            return Fitted { size, lines };
        }
        if size <= min_size {
            return Fitted {
                size,
                lines: truncate(lines, max_width, max_lines, size, bold),
            };
        }
        // Steps of about 4 % keep the search short and the chosen size close to the best one.
        size = (size * 0.96).floor().max(min_size);
    }
}

/// Rewraps `lines` (the wrap of `text` at `max_width`) to the narrowest width that needs no
/// more lines, so that a two-line name breaks near its middle instead of leaving one word alone
/// on the second line.
fn balance(text: &str, lines: Vec<String>, max_width: f32, size: f32, bold: bool) -> Vec<String> {
    if lines.len() < 2 {
        return lines;
    }
    let (mut lo, mut hi) = (0.0, max_width);
    let mut best = lines;
    // Bisection to within a few units; the line count only grows as the width shrinks.
    while hi - lo > size * 0.25 {
        let mid = (lo + hi) / 2.0;
        let candidate = wrap(text, mid, size, bold);
        if candidate.len() <= best.len() {
            hi = mid;
            best = candidate;
        } else {
            lo = mid;
        }
    }
    best
}

/// Keeps the first `max_lines` lines and marks the cut with an ellipsis on the last one.
fn truncate(
    mut lines: Vec<String>,
    max_width: f32,
    max_lines: usize,
    size: f32,
    bold: bool,
) -> Vec<String> {
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        loop {
            let candidate = format!("{}{ELLIPSIS}", last.trim_end());
            if width(&candidate, size, bold) <= max_width || last.is_empty() {
                *last = candidate;
                break;
            }
            last.pop();
        }
    }
    lines
}
