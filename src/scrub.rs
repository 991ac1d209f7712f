//! Evidence without metadata: what a file may carry out of tipline. An image (JPEG, PNG, WebP)
//! loses its EXIF (with the GPS position and the camera's serial number), XMP, IPTC, comments
//! and text chunks before anyone sees it; its pixels are not touched. Every file leaves under a
//! name made from the tip (`TB-7K3Q-X9MD-1.jpg`), never the citizen's, with a content type from
//! a short allow-list.
//!
//! The segments are removed with `img-parts`, which parses the container and writes it back
//! without decoding or re-encoding the picture: no loss of quality, no decoder's attack surface,
//! and a run time linear in the size. A file that looks like an image but does not parse (corrupt,
//! truncated) or is in a format this module cannot clean (HEIC, AVIF) is a [`ScrubError`]: the
//! callers withhold it rather than send it as it is. Pure functions; no I/O.

use img_parts::Bytes;
use sha2::{Digest, Sha256};

/// An image format this module recognises by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (RIFF container).
    Webp,
    /// HEIF/HEIC or AVIF (ISO base media `ftyp`): recognised, not cleaned.
    Heif,
}

impl ImageFormat {
    /// The file extension a cleaned file of this format gets.
    pub fn ext(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heif => "heic",
        }
    }

    /// The content type it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heif => "image/heic",
        }
    }
}

/// Why an image cannot be let out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrubError {
    /// It looks like an image of this format but does not parse.
    #[error("a corrupt {0:?} image")]
    Corrupt(ImageFormat),
    /// A format whose metadata this module cannot remove.
    #[error("an image format that cannot be cleaned ({0:?})")]
    Unsupported(ImageFormat),
}

/// A file ready to leave: its bytes, extension and content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    /// The bytes to send.
    pub bytes: Vec<u8>,
    /// The extension of its safe name.
    pub ext: &'static str,
    /// Its content type (from the allow-list).
    pub mime: &'static str,
    /// Whether the bytes were changed (metadata removed).
    pub changed: bool,
}

/// The image format of `bytes`, by their signature, if they are an image.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(ImageFormat::Webp);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        let heif: [&[u8; 4]; 9] = [
            b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevm", b"mif1", b"msf1", b"avif",
        ];
        if heif.iter().any(|b| brand == *b) {
            return Some(ImageFormat::Heif);
        }
    }
    None
}

/// The SHA-256 of a file, in hex: the chain-of-custody fingerprint of the original.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The name file `n` (from 1) of tip `code` leaves under.
pub fn safe_name(code: &str, n: usize, ext: &str) -> String {
    format!("{code}-{n}.{ext}")
}

/// The allowed content type for a declared one, and the extension that goes with it; anything
/// not on the list is `application/octet-stream` (`bin`), always served as an attachment.
pub fn allowed(mime: &str) -> (&'static str, &'static str) {
    let m = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    const LIST: [(&str, &str); 13] = [
        ("image/jpeg", "jpg"),
        ("image/png", "png"),
        ("image/webp", "webp"),
        ("audio/ogg", "ogg"),
        ("audio/mpeg", "mp3"),
        ("audio/mp4", "m4a"),
        ("audio/x-m4a", "m4a"),
        ("audio/aac", "aac"),
        ("audio/wav", "wav"),
        ("video/mp4", "mp4"),
        ("video/quicktime", "mov"),
        ("video/webm", "webm"),
        ("application/pdf", "pdf"),
    ];
    LIST.iter()
        .find(|(allowed, _)| *allowed == m)
        .map(|(allowed, ext)| (*allowed, *ext))
        .unwrap_or(("application/octet-stream", "bin"))
}

/// Cleans a file that is about to leave. An image loses its metadata; any other file passes
/// unchanged, with its declared type checked against the allow-list.
pub fn clean(bytes: &[u8], declared_mime: &str) -> Result<Clean, ScrubError> {
    let Some(format) = sniff(bytes) else {
        let (mime, ext) = allowed(declared_mime);
        // A file that claims to be an image and is not one is not served as an image.
        let (mime, ext) = if mime.starts_with("image/") {
            ("application/octet-stream", "bin")
        } else {
            (mime, ext)
        };
        return Ok(Clean {
            bytes: bytes.to_vec(),
            ext,
            mime,
            changed: false,
        });
    };
    let cleaned = match format {
        ImageFormat::Jpeg => jpeg(bytes),
        ImageFormat::Png => png(bytes),
        ImageFormat::Webp => webp(bytes),
        ImageFormat::Heif => return Err(ScrubError::Unsupported(format)),
    }
    .ok_or(ScrubError::Corrupt(format))?;
    Ok(Clean {
        changed: cleaned != bytes,
        bytes: cleaned,
        ext: format.ext(),
        mime: format.mime(),
    })
}

/// A JPEG keeps its coding segments, JFIF (APP0), ICC colour profile (APP2) and Adobe colour
/// transform (APP14); EXIF and XMP (APP1), IPTC (APP13), every other APPn and comments go, and
/// so does anything after the end of the first image (a phone's second picture with its own
/// EXIF).
fn jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    use img_parts::jpeg::{Jpeg, markers};
    let mut image = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).ok()?;
    let has_frame = image
        .segments()
        .iter()
        .any(|s| matches!(s.marker(), 0xC0..=0xCF) && !matches!(s.marker(), 0xC4 | 0xC8 | 0xCC));
    if !has_frame || !image.segments().iter().any(|s| s.has_entropy()) {
        return None;
    }
    image.segments_mut().retain(|s| {
        let c = s.contents();
        match s.marker() {
            markers::APP0 => c.starts_with(b"JFIF\0"),
            markers::APP2 => c.starts_with(b"ICC_PROFILE\0"),
            markers::APP14 => c.starts_with(b"Adobe"),
            0xE1..=0xEF | markers::COM => false,
            _ => true,
        }
    });
    let header: usize = 2 + image.segments().iter().map(|s| s.len()).sum::<usize>();
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in image.encoder() {
        out.extend_from_slice(&chunk);
    }
    // The entropy-coded data has every 0xFF stuffed, so the first FF D9 after the headers is
    // the end of the image; a file without one is truncated.
    let end = out
        .get(header..)?
        .windows(2)
        .position(|w| w == [0xFF, 0xD9])?;
    out.truncate(header + end + 2);
    Some(out)
}

/// A PNG keeps the chunks that draw the picture (and its colour, transparency, pixel size and
/// animation); text (`tEXt`, `zTXt`, `iTXt`, where XMP lives), `eXIf`, `tIME` and any private
/// chunk go.
fn png(bytes: &[u8]) -> Option<Vec<u8>> {
    use img_parts::png::Png;
    let mut image = Png::from_bytes(Bytes::copy_from_slice(bytes)).ok()?;
    let kinds: Vec<[u8; 4]> = image.chunks().iter().map(|c| c.kind()).collect();
    if kinds.first() != Some(b"IHDR") || !kinds.contains(b"IDAT") || kinds.last() != Some(b"IEND") {
        return None;
    }
    const KEEP: [&[u8; 4]; 16] = [
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
        b"bKGD", b"pHYs", b"hIST", b"acTL", b"fcTL", b"fdAT",
    ];
    image.chunks_mut().retain(|c| KEEP.contains(&&c.kind()));
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in image.encoder() {
        out.extend_from_slice(&chunk);
    }
    Some(out)
}

/// A WebP keeps its picture, alpha, animation and colour profile chunks; `EXIF`, `XMP ` and
/// unknown chunks go, and the `VP8X` flags are written again to match.
fn webp(bytes: &[u8]) -> Option<Vec<u8>> {
    use img_parts::ImageEXIF;
    use img_parts::webp::{
        CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP, CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X, WebP,
    };
    let mut image = WebP::from_bytes(Bytes::copy_from_slice(bytes)).ok()?;
    let picture = [CHUNK_VP8, CHUNK_VP8L, CHUNK_ANMF];
    if !image.chunks().iter().any(|c| picture.contains(&c.id())) {
        return None;
    }
    let keep = [
        CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X, CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP,
    ];
    image.chunks_mut().retain(|c| keep.contains(&c.id()));
    // Removes nothing more; rewrites the VP8X flags for the chunks that are left.
    image.set_exif(None);
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in image.encoder() {
        out.extend_from_slice(&chunk);
    }
    Some(out)
}

#[cfg(test)]
mod tests;
