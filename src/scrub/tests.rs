//! The fixtures (`tests/fixtures/gps.jpg`, `gps.png`, made by `make_fixtures.py`) carry an EXIF
//! block with a GPS position, an XMP packet with the same position, an IPTC city (JPEG) and a
//! comment "taken at home".

use super::*;

const JPEG: &[u8] = include_bytes!("../../tests/fixtures/gps.jpg");
const PNG: &[u8] = include_bytes!("../../tests/fixtures/gps.png");

/// Every marker of metadata the fixtures carry.
const TRACES: [&[u8]; 6] = [
    b"Exif",
    b"xmpmeta",
    b"GPSLatitude",
    b"Photoshop 3.0",
    b"Ha Noi",
    b"taken at home",
];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn jpeg_pixels(bytes: &[u8]) -> (u16, u16, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let pixels = d.decode().expect("a valid JPEG");
    let info = d.info().expect("decoded");
    (info.width, info.height, pixels)
}

fn png_pixels(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn a_jpeg_loses_exif_gps_xmp_iptc_and_comments_and_keeps_its_pixels() {
    assert!(
        TRACES.iter().all(|t| contains(JPEG, t)),
        "the fixture has them"
    );
    let clean = clean(JPEG, "application/octet-stream").unwrap();
    assert!(clean.changed);
    assert_eq!((clean.ext, clean.mime), ("jpg", "image/jpeg"));
    for t in TRACES {
        assert!(
            !contains(&clean.bytes, t),
            "{} left",
            String::from_utf8_lossy(t)
        );
    }
    let markers: Vec<u8> = img_parts::jpeg::Jpeg::from_bytes(clean.bytes.clone().into())
        .unwrap()
        .segments()
        .iter()
        .map(|s| s.marker())
        .collect();
    assert!(
        !markers
            .iter()
            .any(|m| (0xE1..=0xEF).contains(m) || *m == 0xFE),
        "{markers:x?}"
    );
    use img_parts::ImageEXIF;
    let before = img_parts::jpeg::Jpeg::from_bytes(Bytes::from_static(JPEG)).unwrap();
    assert!(before.exif().is_some(), "the fixture has an EXIF block");
    let after = img_parts::jpeg::Jpeg::from_bytes(clean.bytes.clone().into()).unwrap();
    assert!(after.exif().is_none());
    let (w, h, pixels) = jpeg_pixels(&clean.bytes);
    assert_eq!((w, h), (16, 12));
    assert_eq!(pixels, jpeg_pixels(JPEG).2, "the picture is not re-encoded");
    assert!(clean.bytes.len() < JPEG.len());
    // Cleaning a clean file changes nothing.
    assert_eq!(
        super::clean(&clean.bytes, "image/jpeg").unwrap().bytes,
        clean.bytes
    );
}

#[test]
fn a_second_picture_after_the_end_of_a_jpeg_is_cut_off() {
    let mut file = JPEG.to_vec();
    file.extend_from_slice(JPEG);
    let clean = clean(&file, "image/jpeg").unwrap();
    assert!(!contains(&clean.bytes, b"Exif"));
    assert!(clean.bytes.ends_with(&[0xFF, 0xD9]));
    assert_eq!(jpeg_pixels(&clean.bytes).2, jpeg_pixels(JPEG).2);
}

#[test]
fn a_png_loses_exif_xmp_and_text_and_keeps_its_pixels() {
    assert!(contains(PNG, b"eXIf") && contains(PNG, b"xmpmeta"));
    let clean = clean(PNG, "image/png").unwrap();
    assert_eq!((clean.ext, clean.mime), ("png", "image/png"));
    for t in [&b"eXIf"[..], b"iTXt", b"tEXt", b"xmpmeta", b"taken at home"] {
        assert!(
            !contains(&clean.bytes, t),
            "{} left",
            String::from_utf8_lossy(t)
        );
    }
    let (w, h, pixels) = png_pixels(&clean.bytes);
    assert_eq!((w, h), (16, 12));
    assert_eq!(pixels, png_pixels(PNG).2);
}

#[test]
fn a_webp_loses_its_exif_and_xmp_chunks_and_flags() {
    use img_parts::riff::{RiffChunk, RiffContent};
    use img_parts::webp::WebP;
    let chunk = |id: &[u8; 4], data: &[u8]| {
        RiffChunk::new(*id, RiffContent::Data(Bytes::copy_from_slice(data)))
    };
    // VP8X with the EXIF and XMP flags set, a picture, and both metadata chunks.
    let riff = RiffChunk::new(
        *b"RIFF",
        RiffContent::List {
            kind: Some(*b"WEBP"),
            subchunks: vec![
                chunk(b"VP8X", &[0b0000_1100, 0, 0, 0, 15, 0, 0, 11, 0, 0]),
                chunk(b"VP8 ", b"\x50\x5a\x00\x9d\x01\x2a\x10\x00\x0c\x00"),
                chunk(b"EXIF", b"II*\x00GPS"),
                chunk(b"XMP ", b"<x:xmpmeta/>"),
            ],
        },
    );
    let mut file = Vec::new();
    for c in WebP::new(riff).unwrap().encoder() {
        file.extend_from_slice(&c);
    }
    let clean = clean(&file, "image/webp").unwrap();
    assert_eq!(clean.mime, "image/webp");
    let image = WebP::from_bytes(clean.bytes.clone().into()).unwrap();
    let ids: Vec<[u8; 4]> = image.chunks().iter().map(|c| c.id()).collect();
    assert!(!ids.contains(b"EXIF") && !ids.contains(b"XMP "), "{ids:?}");
    assert!(ids.contains(b"VP8 "));
    if let Some(vp8x) = image.chunk_by_id(*b"VP8X") {
        let flags = vp8x.content().data().unwrap()[0];
        assert_eq!(flags & 0b0000_1100, 0, "EXIF and XMP flags cleared");
    }
}

#[test]
fn a_corrupt_or_uncleanable_image_is_an_error_never_passed_through() {
    let truncated = &JPEG[..JPEG.len() / 2];
    assert_eq!(
        clean(truncated, "image/jpeg"),
        Err(ScrubError::Corrupt(ImageFormat::Jpeg))
    );
    assert_eq!(
        clean(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF], "image/jpeg"),
        Err(ScrubError::Corrupt(ImageFormat::Jpeg))
    );
    let mut png = PNG.to_vec();
    png.truncate(40);
    assert_eq!(
        clean(&png, "image/png"),
        Err(ScrubError::Corrupt(ImageFormat::Png))
    );
    let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic";
    assert_eq!(
        clean(heic, "image/heic"),
        Err(ScrubError::Unsupported(ImageFormat::Heif))
    );
}

#[test]
fn other_files_pass_unchanged_with_an_allowed_type_or_octet_stream() {
    let cases: [(&[u8], &str, &str, &str); 5] = [
        (b"%PDF-1.7 ...", "application/pdf", "application/pdf", "pdf"),
        (b"OggS...", "audio/ogg", "audio/ogg", "ogg"),
        (
            b"\x00\x00\x00\x18ftypmp42",
            "video/mp4; codecs=x",
            "video/mp4",
            "mp4",
        ),
        (
            b"<html><script>",
            "text/html",
            "application/octet-stream",
            "bin",
        ),
        (
            b"<svg onload=1>",
            "image/svg+xml",
            "application/octet-stream",
            "bin",
        ),
    ];
    for (bytes, declared, mime, ext) in cases {
        let clean = clean(bytes, declared).unwrap();
        assert_eq!((clean.mime, clean.ext), (mime, ext), "{declared}");
        assert_eq!(clean.bytes, bytes);
        assert!(!clean.changed);
    }
    // Declared an image, and not one: not served as an image.
    assert_eq!(
        clean(b"not a jpeg", "image/jpeg").unwrap().mime,
        "application/octet-stream"
    );
}

#[test]
fn names_and_fingerprints() {
    assert_eq!(safe_name("TB-7K3Q-X9MD", 1, "jpg"), "TB-7K3Q-X9MD-1.jpg");
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
