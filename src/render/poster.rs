//! The printed Hòm thư ANTT 4.0 poster of one mailbox: an A4 page with the mailbox's
//! Telegram QR code, which opens the bot with the mailbox preset, and optionally a Zalo code.
//!
//! Police print these and pin them up in communes, so the page is high-contrast, sober and
//! readable from a few steps away; the QR code is the largest thing on it. Every word comes
//! from the caller (the locale files), so a province can reword the poster without a release.
//! Long texts shrink and wrap, and are cut with an ellipsis only past a generous limit; the
//! one failure is content so long that the QR code would become too small to scan, which is
//! an error rather than a poster nobody can use.

use super::qr::Qr;
use super::text::{Fitted, fit, wrap};
use super::{escape, num, svg_to_png};

/// What one mailbox's poster says; every text is already in the reader's language.
#[derive(Debug, Clone, Copy)]
pub struct Poster<'a> {
    /// The headline in the top band, e.g. "HÒM THƯ ANTT 4.0".
    pub title: &'a str,
    /// Where the mailbox is, e.g. "Nhà văn hóa xóm Bưng".
    pub mailbox_name: &'a str,
    /// Commune and district, e.g. "Xã Thung Nai · Huyện Cao Phong".
    pub place_line: &'a str,
    /// The mailbox code, printed small for officers who need to tell posters apart.
    pub code: &'a str,
    /// The deep link the big QR code holds: `https://t.me/<bot>?start=mb_<code>`.
    pub telegram_link: &'a str,
    /// A Zalo link for a second, smaller QR code, when the province has one.
    pub zalo_link: Option<&'a str>,
    /// Three to five short steps, each already numbered by the caller ("1. …").
    pub instructions: &'a [&'a str],
    /// The confidentiality promise, one or two sentences.
    pub promise: &'a str,
    /// The emergency line in the bottom band, e.g. "Khẩn cấp: gọi 113".
    pub emergency: &'a str,
    /// The call to action above the Telegram code, e.g. "Quét mã bằng Telegram".
    pub scan_label: &'a str,
    /// The label above the Zalo code, e.g. "Hoặc quét bằng Zalo".
    pub zalo_label: &'a str,
}

/// Width of the poster PNG: A4 at 150 dpi, sharp enough to print and small enough to send.
pub const PNG_WIDTH: u32 = 1240;

// The page is 2100 × 2970 user units, a tenth of a millimetre each.
const PAGE_W: f32 = 2100.0;
const PAGE_H: f32 = 2970.0;
const MARGIN: f32 = 110.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Distance between baselines, as a multiple of the font size.
const LEADING: f32 = 1.25;
/// Side of the Telegram code including its quiet zone: at least 6 cm so an old phone reads
/// it from arm's length, at most 11 cm so the texts keep their room.
const QR_MIN: f32 = 600.0;
const QR_MAX: f32 = 1100.0;
const ZALO_COL_W: f32 = 600.0;
const ZALO_QR: f32 = 420.0;

const RED: &str = "#C8102E";
const YELLOW: &str = "#FFD100";
const INK: &str = "#111111";
const GREY: &str = "#404040";

/// How a block of lines is aligned on its `x`.
#[derive(Clone, Copy)]
enum Align {
    Start,
    Middle,
    End,
}

/// Writes `block` with its first line's top at `top`; returns the y just below the block.
fn lines(
    out: &mut String,
    block: &Fitted,
    x: f32,
    top: f32,
    align: Align,
    bold: bool,
    fill: &str,
) -> f32 {
    let anchor = match align {
        Align::Start => "start",
        Align::Middle => "middle",
        Align::End => "end",
    };
    let weight = if bold { "bold" } else { "normal" };
    for (i, line) in block.lines.iter().enumerate() {
        // DejaVu's ascent is 0.93 em, so the first baseline sits just under `top`.
        let baseline = top + block.size * (0.95 + LEADING * i as f32);
        out.push_str(&format!(
            r#"<text x="{}" y="{}" font-size="{}" font-weight="{weight}" text-anchor="{anchor}" fill="{fill}">{}</text>"#,
            num(x),
            num(baseline),
            num(block.size),
            escape(line)
        ));
        out.push('\n');
    }
    top + block.height(LEADING)
}

/// Every step at one common size (mixed sizes look careless): one line each if that still
/// reads from a step away, else two lines each, else three at the smallest size.
fn fit_steps(steps: &[&str], width: f32) -> Vec<Fitted> {
    const MAX: f32 = 54.0;
    let all_within = |size: f32, lines: usize| {
        steps
            .iter()
            .all(|s| wrap(s, width, size, false).len() <= lines)
    };
    let size = [(1, 46.0), (2, 44.0)]
        .into_iter()
        .find_map(|(lines, min)| {
            let mut size = MAX;
            while size >= min {
                if all_within(size, lines) {
                    return Some(size);
                }
                size -= 2.0;
            }
            None
        })
        .unwrap_or(44.0);
    steps
        .iter()
        .map(|s| fit(s, width, 3, (size, size), false))
        .collect()
}

/// The poster as an SVG document (A4 portrait, `viewBox="0 0 2100 2970"`).
pub fn poster_svg(p: &Poster) -> anyhow::Result<String> {
    anyhow::ensure!(
        !p.telegram_link.is_empty(),
        "the poster's Telegram link is empty"
    );
    let telegram = Qr::new(p.telegram_link)?;
    let zalo = p
        .zalo_link
        .filter(|l| !l.is_empty())
        .map(Qr::new)
        .transpose()?;

    // Measure everything first; the QR code takes whatever height is left.
    let title = fit(p.title, CONTENT_W, 2, (130.0, 84.0), true);
    let name = fit(p.mailbox_name, CONTENT_W, 3, (104.0, 60.0), true);
    let place = fit(p.place_line, CONTENT_W, 2, (64.0, 48.0), false);
    let scan = fit(p.scan_label, CONTENT_W, 2, (72.0, 56.0), true);
    let link = fit(p.telegram_link, CONTENT_W, 2, (40.0, 32.0), false);
    let steps_w = if zalo.is_some() {
        CONTENT_W - ZALO_COL_W - 60.0
    } else {
        CONTENT_W
    };
    let steps = fit_steps(p.instructions, steps_w);
    let zalo_label = fit(p.zalo_label, ZALO_COL_W, 2, (44.0, 36.0), true);
    let promise = fit(p.promise, CONTENT_W - 100.0, 4, (52.0, 42.0), true);
    let emergency = fit(p.emergency, CONTENT_W, 2, (84.0, 60.0), true);
    let code = fit(p.code, CONTENT_W, 1, (36.0, 28.0), false);

    const STEP_GAP: f32 = 22.0;
    let steps_h: f32 = steps
        .iter()
        .map(|s| s.height(LEADING) + STEP_GAP)
        .sum::<f32>();
    let zalo_h = if zalo.is_some() {
        zalo_label.height(LEADING) + 20.0 + ZALO_QR
    } else {
        0.0
    };
    let row_h = steps_h.max(zalo_h);
    let band_h = 70.0 + title.height(LEADING) + 50.0;
    let footer_h = 50.0 + emergency.height(LEADING) + 45.0;
    let promise_h = 45.0 + promise.height(LEADING) + 35.0;
    let code_h = 80.0;
    // Gaps that grow evenly when the page has room to spare.
    let gaps = [70.0, 60.0, 60.0, 60.0, 50.0];
    let fixed = band_h
        + 20.0
        + name.height(LEADING)
        + 20.0
        + place.height(LEADING)
        + scan.height(LEADING)
        + 40.0
        + 30.0
        + link.height(LEADING)
        + row_h
        + promise_h
        + code_h
        + footer_h
        + gaps.iter().sum::<f32>();
    let room = PAGE_H - fixed;
    anyhow::ensure!(
        room >= QR_MIN,
        "the poster texts are too long: the QR code would be {:.0} mm wide, below {:.0} mm",
        room / 10.0,
        QR_MIN / 10.0
    );
    let qr_size = room.min(QR_MAX);
    let extra = (room - qr_size) / gaps.len() as f32;
    let gap = |i: usize| gaps[i] + extra;

    let mut out = String::new();
    out.push_str(&format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" "#,
            r#"viewBox="0 0 2100 2970" font-family="{}, sans-serif">"#,
            "\n"
        ),
        super::FONT_FAMILY
    ));
    out.push_str(&format!(
        r##"<rect width="2100" height="2970" fill="#fff"/><rect width="2100" height="{}" fill="{RED}"/><rect y="{}" width="2100" height="20" fill="{YELLOW}"/>"##,
        num(band_h),
        num(band_h)
    ));
    out.push('\n');
    let mid = PAGE_W / 2.0;
    lines(&mut out, &title, mid, 70.0, Align::Middle, true, YELLOW);

    let mut y = band_h + 20.0 + gap(0);
    y = lines(&mut out, &name, mid, y, Align::Middle, true, INK) + 20.0;
    y = lines(&mut out, &place, mid, y, Align::Middle, false, GREY) + gap(1);
    y = lines(&mut out, &scan, mid, y, Align::Middle, true, RED) + 40.0;

    // A frame outside the quiet zone shows where the code is without eating into it.
    let qr_x = mid - qr_size / 2.0;
    out.push_str(&format!(
        r#"<rect x="{}" y="{}" width="{}" height="{}" rx="28" fill="none" stroke="{INK}" stroke-width="8"/>"#,
        num(qr_x - 16.0),
        num(y - 16.0),
        num(qr_size + 32.0),
        num(qr_size + 32.0)
    ));
    out.push_str(&telegram.svg(qr_x, y, qr_size));
    out.push('\n');
    y += qr_size + 30.0;
    y = lines(&mut out, &link, mid, y, Align::Middle, false, GREY) + gap(2);

    let row_top = y;
    for step in &steps {
        y = lines(&mut out, step, MARGIN, y, Align::Start, false, INK) + STEP_GAP;
    }
    if let Some(zalo) = &zalo {
        let col_mid = PAGE_W - MARGIN - ZALO_COL_W / 2.0;
        let label_end = lines(
            &mut out,
            &zalo_label,
            col_mid,
            row_top,
            Align::Middle,
            true,
            INK,
        );
        out.push_str(&zalo.svg(col_mid - ZALO_QR / 2.0, label_end + 20.0, ZALO_QR));
        out.push('\n');
    }
    y = row_top + row_h + gap(3);

    out.push_str(&format!(
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="24" fill="#FFF6D6" stroke="#E0A800" stroke-width="6"/>"##,
        num(MARGIN),
        num(y),
        num(CONTENT_W),
        num(promise_h)
    ));
    out.push('\n');
    lines(&mut out, &promise, mid, y + 45.0, Align::Middle, true, INK);

    let footer_top = PAGE_H - footer_h;
    lines(
        &mut out,
        &code,
        PAGE_W - MARGIN,
        footer_top - code_h + 20.0,
        Align::End,
        false,
        GREY,
    );
    out.push_str(&format!(
        r#"<rect y="{}" width="2100" height="{}" fill="{RED}"/>"#,
        num(footer_top),
        num(footer_h)
    ));
    out.push('\n');
    lines(
        &mut out,
        &emergency,
        mid,
        footer_top + 50.0,
        Align::Middle,
        true,
        "#fff",
    );
    out.push_str("</svg>\n");
    Ok(out)
}

/// The poster as a PNG, [`PNG_WIDTH`] pixels wide (A4 at 150 dpi).
pub fn poster_png(p: &Poster) -> anyhow::Result<Vec<u8>> {
    svg_to_png(&poster_svg(p)?, PNG_WIDTH)
}
