//! Pictures the bot hands out: the printable Hòm thư ANTT 4.0 poster of a mailbox
//! ([`poster`]) and the admins' chart of tips per day ([`chart`]).
//!
//! Both are written as SVG strings first, because SVG is what a print shop wants and it is easy
//! to test as text, and then rasterised to PNG here for Telegram. Rasterising uses only the
//! DejaVu fonts embedded in the binary: a fresh server has no system fonts, and a poster whose
//! Vietnamese diacritics fall back to boxes must never be printed. Failures are reported as
//! `anyhow` errors (an SVG we wrote that does not parse, an impossible size); nothing here
//! touches the network or the disk.

pub mod chart;
pub mod poster;
mod qr;
mod text;

#[cfg(test)]
mod tests;

use std::sync::{Arc, LazyLock};

use anyhow::Context;
use resvg::{tiny_skia, usvg};

/// The family every SVG we write asks for; it is also the fallback for `sans-serif`.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans";

/// The widest PNG we agree to make; a larger request is a caller's mistake, not a wish.
const MAX_PNG_WIDTH: u32 = 8000;

/// The embedded fonts, loaded once: parsing the TTF tables is the slow part of a first render.
static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(include_bytes!("../../assets/fonts/DejaVuSans.ttf").to_vec());
    db.load_font_data(include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf").to_vec());
    db.set_sans_serif_family(FONT_FAMILY);
    Arc::new(db)
});

/// Parser options whose only fonts are the embedded DejaVu faces.
pub(crate) fn usvg_options() -> usvg::Options<'static> {
    usvg::Options {
        font_family: FONT_FAMILY.to_owned(),
        fontdb: Arc::clone(&FONTS),
        ..usvg::Options::default()
    }
}

/// Escapes `text` for use inside SVG/XML character data or an attribute value.
///
/// Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return, and
/// the non-characters U+FFFE and U+FFFF) are dropped, since one of them would make the whole
/// document unreadable.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Rasterises `svg` to a PNG `width_px` wide on a white background, keeping its aspect ratio.
pub fn svg_to_png(svg: &str, width_px: u32) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        (1..=MAX_PNG_WIDTH).contains(&width_px),
        "PNG width {width_px} is outside 1..={MAX_PNG_WIDTH}"
    );
    let tree = usvg::Tree::from_str(svg, &usvg_options()).context("parsing the SVG")?;
    let size = tree.size();
    let scale = width_px as f32 / size.width();
    let height_px = (size.height() * scale).round().max(1.0) as u32;
    anyhow::ensure!(
        height_px <= MAX_PNG_WIDTH * 4,
        "PNG height {height_px} is too large"
    );
    let mut pixmap = tiny_skia::Pixmap::new(width_px, height_px)
        .with_context(|| format!("allocating a {width_px}×{height_px} image"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().context("encoding the PNG")
}

/// Formats an SVG coordinate with at most one decimal, which is finer than any printer dot.
pub(crate) fn num(v: f32) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}
