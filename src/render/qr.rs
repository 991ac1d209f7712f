//! QR codes drawn as SVG, for the posters.
//!
//! The `qrcode` crate is used only for the module matrix; drawing it ourselves keeps the SVG
//! small (one `<path>` whose subpaths are runs of dark modules in a row, in module units,
//! scaled by a transform) and lets the poster place the code in its own layout. Level Q
//! corrects a quarter of the code, which a crease or a smudge on a printed poster needs.

use anyhow::Context;
use qrcode::{Color, EcLevel, QrCode};

use super::num;

/// Light modules the standard asks for around a code, on every side.
pub(crate) const QUIET_ZONE: usize = 4;

/// A QR code's modules, ready to draw.
pub(crate) struct Qr {
    /// Modules per side, without the quiet zone.
    width: usize,
    /// Row-major, `true` for dark.
    dark: Vec<bool>,
}

impl Qr {
    /// Encodes `data` at error correction level Q.
    pub(crate) fn new(data: &str) -> anyhow::Result<Self> {
        let code = QrCode::with_error_correction_level(data, EcLevel::Q)
            .with_context(|| format!("encoding a QR code for {data:?}"))?;
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(Self {
            width: code.width(),
            dark,
        })
    }

    /// Modules per side including the quiet zone on both sides.
    pub(crate) fn total_modules(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The code as SVG: a white square of side `size` (the quiet zone included) with its
    /// top-left corner at (`x`, `y`), and the dark modules as one path.
    pub(crate) fn svg(&self, x: f32, y: f32, size: f32) -> String {
        let module = size / self.total_modules() as f32;
        let mut d = String::new();
        for row in 0..self.width {
            let mut col = 0;
            while col < self.width {
                if !self.dark[row * self.width + col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < self.width && self.dark[row * self.width + col] {
                    col += 1;
                }
                d.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + QUIET_ZONE,
                    row + QUIET_ZONE,
                    col - start,
                    col - start
                ));
            }
        }
        // crispEdges: runs that meet at a row boundary must not leave a hairline between them.
        format!(
            concat!(
                r##"<rect x="{x}" y="{y}" width="{s}" height="{s}" fill="#fff"/>"##,
                r##"<path transform="translate({x} {y}) scale({m})" fill="#000" "##,
                r##"shape-rendering="crispEdges" d="{d}"/>"##
            ),
            x = num(x),
            y = num(y),
            s = num(size),
            m = module,
            d = d
        )
    }
}
