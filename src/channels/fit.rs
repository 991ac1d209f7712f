//! Texts that fit a platform's limits. Telegram takes at most 4096 characters of text in a
//! message, 1024 in a caption and 200 in a button press's answer, and counts them in UTF-16 code
//! units (an emoji outside the Basic Multilingual Plane counts two); Zalo takes 2000 and runs on
//! Java, whose strings count the same way, so the same count is the safe one there too. Every
//! length here is therefore in UTF-16 code units ([`len`]).
//!
//! A long text that can be sent in several messages is cut by [`split`] at the most natural
//! boundary that fits (paragraph, line, sentence, word); one that cannot (a caption, a card that
//! is edited later, a press's answer) is shortened by [`truncate`] with an ellipsis. Neither
//! cuts inside a character, nor between a letter and its combining marks (Vietnamese typed
//! decomposed), nor inside an emoji sequence joined by ZWJ. The bot sends plain text (no
//! `parse_mode`), so a cut cannot break markup or an entity.

use std::borrow::Cow;

/// Longest text of a Telegram message (after entity parsing), in UTF-16 code units.
pub const TELEGRAM_TEXT: usize = 4096;
/// Longest caption of a Telegram photo or document, in UTF-16 code units.
pub const TELEGRAM_CAPTION: usize = 1024;
/// Longest text of Telegram's answer to a button press, in UTF-16 code units.
pub const TELEGRAM_CALLBACK_ANSWER: usize = 200;

/// The length of `text` as the platforms count it: in UTF-16 code units.
pub fn len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Whether a cut may not fall just before `c`: it belongs to the character before it (a
/// combining mark, a variation selector, an emoji skin tone, a zero-width joiner).
fn clings(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
        || matches!(c, '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}')
}

/// The byte offset just past the longest prefix of `text` of at most `max` units that ends
/// between clusters, or `None` when the whole text fits. The prefix is never empty: when the
/// first cluster alone is longer than `max`, it is cut between characters, and when the first
/// character is, the prefix is that character (over `max`; only with `max` under 2).
fn prefix_end(text: &str, max: usize) -> Option<usize> {
    let mut used = 0;
    // The last cluster boundary after the start; the prefix before it fits.
    let mut last_ok = None;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if i > 0 && !clings(c) && prev != Some('\u{200D}') {
            last_ok = Some(i);
        }
        used += c.len_utf16();
        if used > max {
            let first = text.chars().next().map_or(0, char::len_utf8);
            return Some(last_ok.unwrap_or(i).max(first));
        }
        prev = Some(c);
    }
    None
}

/// `text` shortened to at most `max` units, ending with `…` when it was cut (after the last
/// whole word when that keeps at least half of the room); as it is when it fits.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if len(text) <= max {
        return Cow::Borrowed(text);
    }
    let keep = max.saturating_sub(1);
    let end = if keep == 0 {
        0
    } else {
        prefix_end(text, keep).unwrap_or(text.len())
    };
    let mut kept = &text[..end];
    // The first cluster alone is over the room: the ellipsis alone, rather than half of it.
    if text[end..].starts_with(clings) || kept.ends_with('\u{200D}') {
        kept = "";
    }
    if text[end..].starts_with(|c: char| !c.is_whitespace())
        && let Some(space) = kept.rfind(char::is_whitespace)
        && len(&kept[..space]) * 2 >= keep
    {
        kept = &kept[..space];
    }
    let mut out = kept.trim_end().to_owned();
    // A cut cluster over the whole budget: better nothing than over the limit.
    if len(&out) > keep {
        out.clear();
    }
    out.push('…');
    Cow::Owned(out)
}

/// Where a long text may be cut, best first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Boundary {
    Paragraph,
    Line,
    Sentence,
    Word,
}

/// `text` in parts of at most `max` units ([`len`]) each, for a platform with a length limit.
/// A text that fits is one part as it is; a longer one is trimmed and cut at the last paragraph
/// break that fits, else the last line break, else after the last sentence (`. ` `! ` `? ` `… `),
/// else the last space; only a single word longer than `max` is cut inside (between clusters).
/// The whitespace at a cut is dropped, so no part is empty or starts or ends with it; a text of
/// whitespace only gives no parts.
pub fn split(text: &str, max: usize) -> Vec<String> {
    pieces(text, max)
        .into_iter()
        .map(|(part, _)| part.to_owned())
        .collect()
}

/// The parts of [`split`], each with the whitespace it was cut at (empty after the last part and
/// after a cut inside a word): joining them gives back the text (trimmed, when it was cut).
pub(crate) fn pieces(text: &str, max: usize) -> Vec<(&str, &str)> {
    let max = max.max(1);
    if text.trim().is_empty() {
        return Vec::new();
    }
    if len(text) <= max {
        return vec![(text, "")];
    }
    let mut out = Vec::new();
    let mut rest = text.trim();
    loop {
        // `limit`: byte offset just past the longest prefix that fits, if the rest is longer.
        let limit = match prefix_end(rest, max) {
            Some(limit) if limit < rest.len() => limit,
            _ => {
                out.push((rest, ""));
                return out;
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_are_counted_in_utf16_units_as_telegram_counts() {
        assert_eq!(len("abc"), 3);
        assert_eq!(len("Đường"), 5, "precomposed Vietnamese: one unit a letter");
        assert_eq!(len("e\u{0302}\u{0301}"), 3, "decomposed: a unit a mark");
        assert_eq!(len("😀"), 2, "outside the BMP: a surrogate pair");
        assert_eq!(len(&"😀".repeat(2048)), TELEGRAM_TEXT);
    }

    #[test]
    fn emoji_count_double_so_a_text_of_3000_emoji_goes_in_two_messages() {
        let text = "😀".repeat(3000);
        let parts = split(&text, TELEGRAM_TEXT);
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts.iter().map(|p| len(p)).collect::<Vec<_>>(),
            [4096, 1904]
        );
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_cut_inside_a_long_word_never_separates_a_letter_from_its_marks_or_an_emoji_sequence() {
        // "ế" decomposed: e + circumflex + acute (3 units); a cut after 4 units would fall
        // between "e" and its marks.
        let word = "e\u{0302}\u{0301}".repeat(5);
        let parts = split(&word, 4);
        assert!(parts.iter().all(|p| p == "e\u{0302}\u{0301}"), "{parts:?}");
        let family = "👨\u{200D}👩\u{200D}👧"; // 8 units
        let parts = split(&format!("{family}{family}"), 10);
        assert_eq!(parts, [family, family]);
        let thumbs = "👍🏽"; // 4 units: the tone stays with its hand
        assert_eq!(split(&thumbs.repeat(3), 6), [thumbs; 3]);
    }

    #[test]
    fn truncate_keeps_a_text_that_fits_and_ends_a_cut_one_with_an_ellipsis() {
        assert_eq!(truncate("ngắn", 10), "ngắn");
        assert_eq!(truncate("Có người lạ đứng", 14), "Có người lạ…");
        assert_eq!(
            truncate("Có người", 7),
            "Có ngư…",
            "a word is cut rather than most room lost"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("😀😀😀", 4), "😀…");
        assert_eq!(truncate("😀😀😀", 2), "…");
        assert_eq!(
            truncate("e\u{0302}\u{0301}e\u{0302}\u{0301}", 5),
            "e\u{0302}\u{0301}…"
        );
        assert_eq!(truncate("abc", 0), "…", "nothing fits: the ellipsis alone");
    }

    /// Text of Vietnamese letters precomposed and decomposed, emoji (single, toned, joined),
    /// spaces, line breaks and sentence ends.
    fn mixed() -> impl Strategy<Value = String> {
        let atoms = prop_oneof![
            Just("a".to_owned()),
            Just("đ".to_owned()),
            Just("ệ".to_owned()),
            Just("e\u{0302}\u{0301}".to_owned()),
            Just("😀".to_owned()),
            Just("👍🏽".to_owned()),
            Just("👨\u{200D}👩\u{200D}👧".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\n\n".to_owned()),
            Just(". ".to_owned()),
            Just("… ".to_owned()),
        ];
        proptest::collection::vec(atoms, 0..300).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn every_part_fits_in_utf16_units_and_the_parts_give_back_the_text(
            text in mixed(),
            max in 8usize..200,
        ) {
            let pieces = pieces(&text, max);
            if text.trim().is_empty() {
                prop_assert!(pieces.is_empty());
                return Ok(());
            }
            let joined: String = pieces.iter().map(|(p, s)| format!("{p}{s}")).collect();
            let expected = if len(&text) <= max { text.as_str() } else { text.trim() };
            prop_assert_eq!(joined.as_str(), expected);
            for (part, _) in &pieces {
                prop_assert!(!part.is_empty());
                prop_assert!(len(part) <= max, "{} units over {}", len(part), max);
                let first = part.chars().next().unwrap_or('a');
                prop_assert!(!clings(first), "a part starts inside a cluster: {:?}", part);
                prop_assert!(!part.ends_with('\u{200D}'), "ends on a joiner");
            }
        }

        #[test]
        fn a_truncated_text_fits_and_is_a_prefix_of_the_text(
            text in mixed(),
            max in 1usize..200,
        ) {
            let short = truncate(&text, max);
            prop_assert!(len(&short) <= max);
            if len(&text) <= max {
                prop_assert_eq!(short.as_ref(), text.as_str());
            } else {
                let kept = short.strip_suffix('…').expect("an ellipsis");
                prop_assert!(text.starts_with(kept));
                if let Some(next) = text[kept.len()..].chars().next() {
                    prop_assert!(!clings(next) || kept.is_empty());
                }
            }
        }

        #[test]
        fn split_and_truncate_take_any_string_without_panicking(text in any::<String>(), max in 0usize..50) {
            let _ = split(&text, max);
            let _ = truncate(&text, max);
        }
    }
}
