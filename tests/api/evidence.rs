//! Evidence without metadata (issue 14): photos sent "as a file" reach the duty group and the
//! evidence links without their EXIF GPS and under the tip's name; the original's SHA-256 is
//! kept sealed; an image that cannot be cleaned is withheld; every download is a sandboxed,
//! audited attachment; a unit may refuse voice notes.

use std::collections::HashMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tipline::config::ReceiveMode;

use crate::support::{Citizen, FakeTriage, TestApp, receipt_code, spawn_app_with, texts};

const GROUP: i64 = -1_001_000_000_014;
const PUBLIC_URL: &str = "https://tipline.test";
const JPEG: &[u8] = include_bytes!("../fixtures/gps.jpg");
const PNG: &[u8] = include_bytes!("../fixtures/gps.png");
/// What the citizen's phone named the files: it must reach no officer.
const ORIGINAL_NAME: &str = "IMG_20261204_nha-rieng";

async fn app(triage: &FakeTriage, tweak: impl FnOnce(&mut tipline::config::Settings)) -> TestApp {
    let url = triage.url();
    spawn_app_with(ReceiveMode::Polling, move |s| {
        s.desk.enabled = true;
        s.desk.default_group = GROUP;
        s.triage.enabled = true;
        s.triage.url = url;
        s.http.public_url = PUBLIC_URL.into();
        tweak(s);
    })
    .await
}

/// A photo sent "as a file": a Telegram document with the phone's own name and type.
fn document(c: &Citizen<'_>, file_id: &str, ext: &str, mime: &str, size: usize) -> Value {
    let mut u = c.text_update("x");
    let msg = u["message"].as_object_mut().unwrap();
    msg.remove("text");
    msg.insert(
        "document".into(),
        json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
            "file_name": format!("{ORIGINAL_NAME}.{ext}"), "mime_type": mime, "file_size": size}),
    );
    u
}

/// A report whose evidence is `files` (file id, extension, mime, bytes), each sent as a file.
async fn report_with_files(t: &TestApp, id: i64, files: &[(&str, &str, &str, &[u8])]) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Ảnh chụp nơi cất giấu ma túy").await;
    c.presses("go:next").await;
    for (file_id, ext, mime, bytes) in files {
        t.fake.serve_file(file_id, bytes);
        let u = document(&c, file_id, ext, mime, bytes.len());
        let r = c.send(u).await;
        assert!(texts(&r).contains("Đã nhận"), "{}", texts(&r));
    }
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    receipt_code(&c.presses("rv:send").await).expect("a receipt")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// No EXIF (JPEG `Exif` / PNG `eXIf`), no XMP, no GPS tag text, no comment.
fn assert_no_metadata(bytes: &[u8]) {
    for trace in [
        &b"Exif"[..],
        b"eXIf",
        b"xmpmeta",
        b"GPSLatitude",
        b"taken at home",
    ] {
        assert!(
            !contains(bytes, trace),
            "{} left",
            String::from_utf8_lossy(trace)
        );
    }
}

async fn uploads_to_group(t: &TestApp, n: usize) -> Vec<crate::support::Call> {
    t.fake
        .wait_until("the files under the card", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "senddocument" && c.chat_id() == Some(GROUP))
                .count()
                >= n
        })
        .await;
    t.fake
        .calls_of("sendDocument")
        .into_iter()
        .filter(|c| c.chat_id() == Some(GROUP))
        .collect()
}

#[tokio::test]
async fn two_photos_sent_as_files_reach_the_duty_group_without_gps_under_the_tips_name() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |_| {}).await;
    let code = report_with_files(
        &t,
        14_001,
        &[
            ("BQAD-gps-jpg", "jpg", "image/jpeg", JPEG),
            ("BQAD-gps-png", "png", "image/png", PNG),
        ],
    )
    .await;
    let uploads = uploads_to_group(&t, 2).await;
    assert_eq!(uploads.len(), 2);
    let names: Vec<String> = uploads.iter().filter_map(|c| c.file_name()).collect();
    assert_eq!(names, [format!("{code}-1.jpg"), format!("{code}-2.png")]);
    assert!(
        t.fake.calls_of("copyMessage").is_empty(),
        "a document is never copied as it is"
    );

    use img_parts::ImageEXIF;
    let jpeg = t.fake.uploaded(uploads[0].message_id.unwrap()).unwrap();
    assert_no_metadata(&jpeg);
    let parsed = img_parts::jpeg::Jpeg::from_bytes(jpeg.clone().into()).expect("a JPEG");
    assert!(parsed.exif().is_none(), "no EXIF block");
    let mut decoder = jpeg_decoder::Decoder::new(&jpeg[..]);
    decoder.decode().expect("still a valid JPEG");
    assert_eq!(decoder.info().unwrap().width, 16);
    let png = t.fake.uploaded(uploads[1].message_id.unwrap()).unwrap();
    assert_no_metadata(&png);
    let parsed = img_parts::png::Png::from_bytes(png.clone().into()).expect("a PNG");
    assert!(parsed.exif().is_none(), "no eXIf chunk");
    png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .expect("still a valid PNG");

    // The phone's file name reached no call to the group.
    let to_group: String = t
        .fake
        .calls()
        .iter()
        .filter(|c| c.chat_id() == Some(GROUP))
        .map(|c| c.body.to_string())
        .collect();
    assert!(!to_group.contains(ORIGINAL_NAME));

    // The original's fingerprint is kept sealed: not in clear in Redis, and it opens to the
    // SHA-256 of what the citizen sent.
    let fingerprints: HashMap<String, String> = ::redis::cmd("HGETALL")
        .arg(format!("{}:evidence:{code}", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    let original = hex::encode(Sha256::digest(JPEG));
    assert!(t.redis_keys_holding(&original).is_empty(), "not in clear");
    let opened = t
        .app()
        .shared
        .vault
        .open(&fingerprints["sha:0"])
        .expect("sealed with the route key");
    assert_eq!(
        String::from_utf8(opened).unwrap(),
        format!("sha256:{original}")
    );
    assert!(fingerprints.contains_key("sha:1"));
}

#[tokio::test]
async fn an_evidence_link_is_a_sandboxed_download_without_gps_and_is_audited() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |s| s.desk.enabled = false).await;
    let code = report_with_files(&t, 14_002, &[("BQAD-link-jpg", "jpg", "image/jpeg", JPEG)]).await;
    triage.wait_delivered(1).await;
    let url = triage.delivered()[0].json["tip"]["evidence"][0]["url"]
        .as_str()
        .unwrap()
        .replace(PUBLIC_URL, &t.base_url());

    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"{code}-1.jpg\"").as_str()
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert_eq!(h["cache-control"], "no-store");
    let body = resp.bytes().await.unwrap();
    assert_no_metadata(&body);
    jpeg_decoder::Decoder::new(&body[..])
        .decode()
        .expect("a valid JPEG");

    // The download is in the audit trail: who (the link's holder), which tip, which file.
    let records: Vec<(String, HashMap<String, String>)> = ::redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    let downloads: Vec<&HashMap<String, String>> = records
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["action"] == "evidence_downloaded")
        .collect();
    assert_eq!(downloads.len(), 1, "{records:?}");
    assert_eq!(downloads[0]["actor"], "triage:link");
    assert_eq!(downloads[0]["code"], code);
    assert_eq!(downloads[0]["detail"], "file=1");
    let verified = tipline::audit::verify(
        &t.app().shared.store,
        crate::support::AUDIT_KEY.as_bytes(),
        None,
    )
    .await
    .unwrap();
    assert!(verified.is_ok(), "the chain still verifies: {verified:?}");

    // A file that is not on the allow-list is an octet-stream attachment.
    let code2 = report_with_files(
        &t,
        14_003,
        &[("BQAD-html", "html", "text/html", b"<script>")],
    )
    .await;
    triage.wait_delivered(2).await;
    let url2 = triage
        .delivered()
        .iter()
        .find(|d| d.code() == code2)
        .unwrap()
        .json["tip"]["evidence"][0]["url"]
        .as_str()
        .unwrap()
        .replace(PUBLIC_URL, &t.base_url());
    let resp = t.http.get(&url2).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        resp.headers()["content-disposition"],
        format!("attachment; filename=\"{code2}-1.bin\"").as_str()
    );
}

#[tokio::test]
async fn a_corrupt_photo_sent_as_a_file_is_withheld_with_a_note_on_the_card() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |_| {}).await;
    let broken = &JPEG[..JPEG.len() / 2];
    let code = report_with_files(&t, 14_004, &[("BQAD-broken", "jpg", "image/jpeg", broken)]).await;
    t.fake
        .wait_until("the note under the card", |calls| {
            calls.iter().any(|c| {
                c.method == "sendmessage"
                    && c.chat_id() == Some(GROUP)
                    && c.text().contains("Tệp 1 bị giữ lại")
            })
        })
        .await;
    t.process_until_idle().await;
    assert!(
        uploads_now(&t).is_empty(),
        "the broken file is not sent as it is"
    );
    triage.wait_delivered(1).await;
    let url = triage.delivered()[0].json["tip"]["evidence"][0]["url"]
        .as_str()
        .unwrap()
        .replace(PUBLIC_URL, &t.base_url());
    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 410, "the link refuses it too");
    let _ = code;
}

fn uploads_now(t: &TestApp) -> Vec<crate::support::Call> {
    t.fake
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(c.method.as_str(), "senddocument" | "sendphoto") && c.chat_id() == Some(GROUP)
        })
        .collect()
}

#[tokio::test]
async fn a_unit_that_refuses_voice_notes_says_why_and_adds_nothing() {
    let triage = FakeTriage::start().await;
    let t = app(&triage, |s| s.report.accept_voice = false).await;
    let mut c = t.citizen(14_005);
    c.says("/report").await;
    let place = texts(&c.presses("cat:drugs").await);
    assert!(
        place.contains("nơi điện thoại của bạn đang ở lúc này"),
        "the place step warns what the location button sends: {place}"
    );
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông").await;
    let prompt = texts(&c.presses("go:next").await);
    assert!(prompt.contains("giọng nói của bạn"), "{prompt}");
    let mut u = c.text_update("x");
    let msg = u["message"].as_object_mut().unwrap();
    msg.remove("text");
    msg.insert(
        "voice".into(),
        json!({"file_id": "AwAD-voice", "file_unique_id": "u-voice", "duration": 4,
            "mime_type": "audio/ogg", "file_size": 9000}),
    );
    let r = texts(&c.send(u).await);
    assert!(r.contains("không nhận tin nhắn thoại"), "{r}");
    assert!(!r.contains("Đã nhận"), "{r}");
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    assert_eq!(t.tip(&code)["evidence"], json!([]), "nothing was added");
}
