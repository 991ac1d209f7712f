//! The admins' chart of tips per day: bars stacked by category, sent as a PNG in chat.
//!
//! It is read on a phone, so the canvas is square (1080 × 1080), every text is at least 28
//! units high, totals stand above the bars and the legend repeats each category's total for
//! the period. Labels that would collide are rotated or thinned out rather than shrunk. The
//! texts come from the caller; the only words drawn here are numbers, and a chart without a
//! single tip shows "Σ = 0" over empty axes. Drawing the SVG cannot fail.

use super::text::{fit, width};
use super::{escape, num, svg_to_png};

/// Tips per day by category, as the chart shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaySeries {
    /// The headline, e.g. "Tin báo theo ngày, tuần 47".
    pub title: String,
    /// One label per day, e.g. "24/11", oldest first.
    pub days: Vec<String>,
    /// Per category: its label and one count per day. Missing counts are drawn as 0, extra
    /// ones ignored; categories are stacked bottom-up in this order.
    pub series: Vec<(String, Vec<u32>)>,
}

/// Width and height of the chart PNG, in pixels: Telegram shows it full width on a phone.
pub const PNG_SIZE: u32 = 1080;

/// Twelve distinct colours (Tableau 10 and two more); categories past the twelfth reuse them
/// in order.
pub const PALETTE: [&str; 12] = [
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F",
    "#BCBD22", "#17BECF", "#393B79", "#E7BA52",
];

/// What an empty chart says instead of bars: a sum of zero reads the same in every language.
const EMPTY_NOTE: &str = "Σ = 0";
const SIZE: f32 = 1080.0;
const PAD: f32 = 40.0;
/// Size of axis labels, day labels, legend entries and totals; 28 is the least a phone shows
/// legibly when the picture is fitted to its width.
const LABEL: f32 = 30.0;
/// The widest a day label may be; longer ones are cut.
const DAY_LABEL_MAX: f32 = 170.0;
const LEGEND_ROW: f32 = 46.0;
/// Swatch, gap before the label, and space after the label, of one legend entry.
const SWATCH: f32 = 32.0;
const SWATCH_GAP: f32 = 12.0;
const ENTRY_GAP: f32 = 36.0;
/// The plot keeps at least this height however long the legend is.
const MIN_PLOT: f32 = 360.0;
const INK: &str = "#1A1A1A";
const GREY: &str = "#555555";

/// How the totals above the bars are set, decided by the width of a day's slot.
#[derive(Clone, Copy, PartialEq)]
enum Totals {
    Across,
    Upwards,
    Hidden,
}

/// A round step and a top for a y axis that has to reach `max`, with about five ticks.
pub(crate) fn nice_axis(max: u32) -> (u32, u32) {
    if max == 0 {
        return (1, 4);
    }
    let raw = f64::from(max) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0) as u32;
    (step, max.div_ceil(step).saturating_mul(step))
}

/// Appends one `<text>` element; `attrs` are written as given, `body` is escaped.
fn text(out: &mut String, (x, y): (f32, f32), size: f32, attrs: &str, body: &str) {
    out.push_str(&format!(
        r#"<text x="{}" y="{}" font-size="{}" {attrs}>{}</text>"#,
        num(x),
        num(y),
        num(size),
        escape(body)
    ));
    out.push('\n');
}

/// Text set upwards, reading bottom to top, anchored at (`x`, `y`).
fn upright(out: &mut String, (x, y): (f32, f32), attrs: &str, body: &str) {
    let attrs = format!(r#"{attrs} transform="rotate(-90 {} {})""#, num(x), num(y));
    text(out, (x, y), LABEL, &attrs, body);
}

/// The width a legend entry takes in its row, spacing included.
fn entry_width(label: &str) -> f32 {
    SWATCH + SWATCH_GAP + width(label, LABEL, false) + ENTRY_GAP
}

/// Flows the legend entries into at most `max_rows` rows; returns the rows (entry indices)
/// and, when some entries had no room, the "+N" that counts them.
fn legend_rows(labels: &[String], max_rows: usize) -> (Vec<Vec<usize>>, Option<String>) {
    // Entries end with ENTRY_GAP, which the last one in a row does not need.
    let room = SIZE - 2.0 * PAD + ENTRY_GAP;
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = f32::INFINITY;
    for (i, label) in labels.iter().enumerate() {
        let w = entry_width(label);
        match rows.last_mut() {
            Some(row) if used + w <= room => {
                row.push(i);
                used += w;
            }
            _ => {
                rows.push(vec![i]);
                used = w;
            }
        }
    }
    if rows.len() <= max_rows.max(1) {
        return (rows, None);
    }
    rows.truncate(max_rows.max(1));
    loop {
        let shown: usize = rows.iter().map(Vec::len).sum();
        let more = format!("+{}", labels.len() - shown);
        let Some(last) = rows.last_mut() else {
            return (rows, Some(more));
        };
        let used: f32 = last.iter().map(|&i| entry_width(&labels[i])).sum();
        if used + width(&more, LABEL, false) <= room - ENTRY_GAP || last.is_empty() {
            return (rows, Some(more));
        }
        last.pop();
    }
}

/// The chart as an SVG document, 1080 × 1080.
pub fn chart_svg(data: &DaySeries) -> String {
    let days = data.days.len();
    let count = |s: &[u32], d: usize| s.get(d).copied().unwrap_or(0);
    let sum = |counts: &mut dyn Iterator<Item = u32>| counts.fold(0u32, u32::saturating_add);
    let totals: Vec<u32> = (0..days)
        .map(|d| sum(&mut data.series.iter().map(|(_, s)| count(s, d))))
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    let (step, top_value) = nice_axis(max);

    let mut out = String::new();
    out.push_str(&format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1080" "#,
            r#"viewBox="0 0 1080 1080" font-family="{}, sans-serif">"#,
            "\n",
            r##"<rect width="1080" height="1080" fill="#fff"/>"##,
            "\n"
        ),
        super::FONT_FAMILY
    ));

    let title = fit(&data.title, SIZE - 2.0 * PAD, 2, (46.0, 34.0), true);
    let bold_ink = format!(r#"font-weight="bold" fill="{INK}""#);
    for (i, line) in title.lines.iter().enumerate() {
        let y = PAD + title.size * (0.95 + 1.2 * i as f32);
        let attrs = format!(r#"{bold_ink} text-anchor="middle""#);
        text(&mut out, (SIZE / 2.0, y), title.size, &attrs, line);
    }
    let title_bottom = PAD + title.lines.len() as f32 * title.size * 1.2;

    // Horizontal frame: y labels on the left, one slot per day.
    let left = PAD + width(&top_value.to_string(), LABEL, false) + 16.0;
    let right = SIZE - PAD;
    let slot = (right - left) / days.max(1) as f32;
    // Day labels read across when they fit their slot, else upwards; upright labels still need
    // about a line height each, so only every n-th is shown when slots are thinner than that.
    let day_labels: Vec<String> = data
        .days
        .iter()
        .map(|d| {
            fit(d, DAY_LABEL_MAX, 1, (LABEL, LABEL), false)
                .lines
                .concat()
        })
        .collect();
    let day_w = day_labels
        .iter()
        .map(|d| width(d, LABEL, false))
        .fold(0.0, f32::max);
    let upright_days = day_w > slot * 0.92;
    let day_every = if upright_days {
        (LABEL * 1.15 / slot).ceil().max(1.0) as usize
    } else {
        1
    };
    let days_h = if upright_days {
        day_w + 24.0
    } else {
        LABEL + 22.0
    };
    let total_w = width(&max.to_string(), LABEL, true);
    let totals_mode = if total_w <= slot * 0.98 {
        Totals::Across
    } else if slot >= LABEL * 1.1 {
        Totals::Upwards
    } else {
        Totals::Hidden
    };
    let headroom = match totals_mode {
        Totals::Across => LABEL + 16.0,
        Totals::Upwards => total_w + 16.0,
        Totals::Hidden => 12.0,
    };
    let plot_top = title_bottom + 24.0 + headroom;

    // Legend at the bottom, each category with its total for the period.
    let labels: Vec<String> = data
        .series
        .iter()
        .map(|(label, s)| {
            let n = sum(&mut (0..days).map(|d| count(s, d)));
            let room = SIZE - 2.0 * PAD - SWATCH - SWATCH_GAP;
            fit(&format!("{label} ({n})"), room, 1, (LABEL, LABEL), false)
                .lines
                .concat()
        })
        .collect();
    let max_rows = ((SIZE - PAD - 28.0 - days_h - MIN_PLOT - plot_top) / LEGEND_ROW).max(1.0);
    let (rows, more) = legend_rows(&labels, max_rows as usize);
    let legend_top = SIZE - PAD - rows.len() as f32 * LEGEND_ROW;
    for (r, row) in rows.iter().enumerate() {
        let y = legend_top + r as f32 * LEGEND_ROW;
        let mut x = PAD;
        for &i in row {
            out.push_str(&format!(
                r#"<rect x="{}" y="{}" width="{SWATCH}" height="{SWATCH}" rx="6" fill="{}"/>"#,
                num(x),
                num(y + 4.0),
                PALETTE[i % PALETTE.len()]
            ));
            let attrs = format!(r#"fill="{INK}""#);
            text(
                &mut out,
                (x + SWATCH + SWATCH_GAP, y + 31.0),
                LABEL,
                &attrs,
                &labels[i],
            );
            x += entry_width(&labels[i]);
        }
        if let Some(more) = more.as_deref().filter(|_| r + 1 == rows.len()) {
            text(
                &mut out,
                (x, y + 31.0),
                LABEL,
                &format!(r#"fill="{GREY}""#),
                more,
            );
        }
    }

    // Grid and y labels.
    let base = legend_top - 28.0 - days_h;
    let scale = (base - plot_top) / top_value as f32;
    for k in 0..=(top_value / step) {
        let v = k * step;
        let y = num(base - v as f32 * scale);
        let (colour, stroke) = if v == 0 {
            ("#333333", 3)
        } else {
            ("#DDDDDD", 2)
        };
        out.push_str(&format!(
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="{stroke}"/>"#,
            num(left),
            num(right),
        ));
        let attrs = format!(r#"text-anchor="end" fill="{GREY}""#);
        let y = base - v as f32 * scale + LABEL * 0.35;
        text(&mut out, (left - 12.0, y), LABEL, &attrs, &v.to_string());
    }

    // Bars, their totals and the day labels.
    let bar_w = (slot * 0.64).min(110.0);
    for (d, label) in day_labels.iter().enumerate() {
        let cx = left + slot * (d as f32 + 0.5);
        let mut y = base;
        for (i, (_, s)) in data.series.iter().enumerate() {
            let n = count(s, d);
            if n == 0 {
                continue;
            }
            let h = n as f32 * scale;
            y -= h;
            // A white edge keeps neighbouring segments apart when their colours are close.
            out.push_str(&format!(
                r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#fff" stroke-width="2"/>"##,
                num(cx - bar_w / 2.0),
                num(y),
                num(bar_w),
                num(h),
                PALETTE[i % PALETTE.len()]
            ));
        }
        let total = totals[d].to_string();
        match totals_mode {
            _ if totals[d] == 0 => {}
            Totals::Across => {
                let attrs = format!(r#"{bold_ink} text-anchor="middle""#);
                text(&mut out, (cx, y - 10.0), LABEL, &attrs, &total);
            }
            // 0.36 em right of the slot's centre centres the digits' height on it.
            Totals::Upwards => upright(&mut out, (cx + LABEL * 0.36, y - 8.0), &bold_ink, &total),
            Totals::Hidden => {}
        }
        if d % day_every != 0 {
            continue;
        }
        if upright_days {
            let attrs = format!(r#"text-anchor="end" fill="{GREY}""#);
            upright(&mut out, (cx + LABEL * 0.36, base + 14.0), &attrs, label);
        } else {
            let attrs = format!(r#"text-anchor="middle" fill="{GREY}""#);
            text(&mut out, (cx, base + LABEL + 10.0), LABEL, &attrs, label);
        }
    }

    if max == 0 {
        // A white plate keeps the grid lines from striking through the note.
        let (cx, cy) = ((left + right) / 2.0, (plot_top + base) / 2.0);
        let plate_w = width(EMPTY_NOTE, 68.0, true) + 60.0;
        out.push_str(&format!(
            r##"<rect x="{}" y="{}" width="{}" height="110" rx="20" fill="#fff"/>"##,
            num(cx - plate_w / 2.0),
            num(cy - 55.0),
            num(plate_w)
        ));
        let attrs = r##"font-weight="bold" text-anchor="middle" fill="#888888""##;
        text(&mut out, (cx, cy + 24.0), 68.0, attrs, EMPTY_NOTE);
    }
    out.push_str("</svg>\n");
    out
}

/// The chart as a [`PNG_SIZE`] × [`PNG_SIZE`] PNG.
pub fn chart_png(data: &DaySeries) -> anyhow::Result<Vec<u8>> {
    svg_to_png(&chart_svg(data), PNG_SIZE)
}
