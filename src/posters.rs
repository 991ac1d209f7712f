//! Hòm thư ANTT 4.0 posters for `tipline qr`: one printable A4 poster per configured mailbox,
//! as SVG and PNG, with the QR code of the mailbox's Telegram deep link
//! `https://t.me/<posters.bot_username>?start=mb_<code>` (and, when configured, a second QR
//! code for Zalo). The texts come from the locale files, so a province can reword them.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::{Mailbox, Settings};
use crate::i18n::{Lang, Texts};
use crate::render::poster::{Poster, poster_png, poster_svg};

/// The deep link a mailbox's QR code opens.
pub fn deep_link(settings: &Settings, code: &str) -> String {
    format!(
        "https://t.me/{}?start=mb_{code}",
        settings.posters.bot_username
    )
}

/// Writes `<code>.svg` and `<code>.png` for `mailbox` into `dir`; returns the paths.
pub fn write_poster(
    settings: &Settings,
    texts: &Texts,
    mailbox: &Mailbox,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    anyhow::ensure!(
        !settings.posters.bot_username.is_empty(),
        "posters.bot_username is not set: the QR code needs the bot's username"
    );
    let lang = Lang::Vi;
    let link = deep_link(settings, &mailbox.code);
    let commune = settings.commune(&mailbox.commune);
    let name = commune.map_or(mailbox.commune.as_str(), |c| c.name.as_str());
    let province = settings.app.province.trim();
    let place_line = if province.is_empty() {
        name.to_owned()
    } else {
        format!("{name} · Tỉnh {province}")
    };
    let steps: Vec<String> = [
        "poster-step-1",
        "poster-step-2",
        "poster-step-3",
        "poster-step-4",
    ]
    .iter()
    .map(|id| texts.get(lang, id))
    .collect();
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let (title, promise, emergency, scan, zalo) = (
        texts.get(lang, "poster-title"),
        texts.get(lang, "poster-promise"),
        texts.get(lang, "poster-emergency"),
        texts.get(lang, "poster-scan"),
        texts.get(lang, "poster-zalo"),
    );
    let zalo_link = Some(settings.posters.zalo_url.as_str()).filter(|z| !z.is_empty());
    let poster = Poster {
        title: &title,
        mailbox_name: &mailbox.name,
        place_line: &place_line,
        code: &mailbox.code,
        telegram_link: &link,
        zalo_link,
        instructions: &steps,
        promise: &promise,
        emergency: &emergency,
        scan_label: &scan,
        zalo_label: &zalo,
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let svg_path = dir.join(format!("{}.svg", mailbox.code));
    let png_path = dir.join(format!("{}.png", mailbox.code));
    std::fs::write(&svg_path, poster_svg(&poster)?)
        .with_context(|| format!("writing {}", svg_path.display()))?;
    std::fs::write(&png_path, poster_png(&poster)?)
        .with_context(|| format!("writing {}", png_path.display()))?;
    Ok(vec![svg_path, png_path])
}
