//! A tip's files on their way to the duty group and the evidence links, cleaned first
//! ([`crate::scrub`]). A photo the citizen sent *as a photo* on Telegram is copied by message
//! (`copyMessage`): Telegram re-encoded it when it was sent and it carries no EXIF. Any other
//! file that may be an image (a Telegram document, i.e. a photo sent "as a file" with its EXIF
//! GPS and original name; every Zalo file) is downloaded (at most `limits.evidence_max_bytes`),
//! fingerprinted (the SHA-256 of the original, sealed with the route key, kept in Redis for the
//! chain of custody), cleaned, and uploaded under the tip's name (`TB-…-1.jpg`). A file that
//! cannot be cleaned (a corrupt image, HEIC) is withheld: a note under the card says so, and the
//! evidence link refuses it too.
//!
//! Failures: a file that will not come (gone, too large, refused) is counted and skipped; a
//! network or server hiccup fails the event, which is tried again from the next file.

use teloxide::prelude::*;
use teloxide::types::{ChatId, InputFile};

use crate::channels::SendError;
use crate::channels::telegram::send::with_retries;
use crate::conversation::{Evidence, EvidenceKind};
use crate::i18n::{Lang, Msg};
use crate::scrub::{self, Clean, ScrubError};
use crate::shared::Shared;
use crate::store::Tip;

use super::{Fetch, fetch};

/// Whether this file goes out by `copyMessage` (already clean on Telegram's side) rather than
/// downloaded, cleaned and uploaded again.
pub fn copied_as_is(evidence: &Evidence) -> bool {
    evidence.kind != EvidenceKind::Document && evidence.message_id.is_some()
}

/// Downloads a file Telegram hosts, at most `limits.evidence_max_bytes`.
pub async fn download_telegram(shared: &Shared, file_id: &str) -> Result<Vec<u8>, Fetch> {
    use futures_util::StreamExt;
    use teloxide::net::Download;
    let bot = shared
        .telegram()
        .map_err(|e| Fetch::Failed(e.to_string()))?;
    let id = teloxide::types::FileId(file_id.to_owned());
    let meta = match with_retries(|| bot.get_file(id.clone()).send()).await {
        Ok(meta) => meta,
        Err(SendError::Refused(why)) => return Err(Fetch::Gone(why)),
        Err(SendError::Blocked) => return Err(Fetch::Gone("refused".into())),
        Err(e) => return Err(Fetch::Failed(e.to_string())),
    };
    let max = shared.settings.limits.evidence_max_bytes as usize;
    if meta.size as usize > max {
        return Err(Fetch::Gone("larger than limits.evidence_max_bytes".into()));
    }
    let mut stream = bot.download_file_stream(&meta.path);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Fetch::Failed(e.to_string()))?;
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return Err(Fetch::Gone("larger than limits.evidence_max_bytes".into()));
        }
    }
    Ok(out)
}

/// Fetches file `index` of a tip as the citizen sent it: from Telegram by its id, or from the
/// platform's link.
pub async fn original(shared: &Shared, tip: &Tip, index: usize) -> Result<Vec<u8>, Fetch> {
    let Some(file) = tip.evidence.get(index) else {
        return Err(Fetch::Gone("no such file".into()));
    };
    if shared.channels.capabilities(tip.channel).files == crate::channels::Files::Links {
        fetch(shared, &file.file_id).await
    } else {
        download_telegram(shared, &file.file_id).await
    }
}

/// The SHA-256 of `bytes` and the file cleaned, worked out on a blocking thread: both are
/// linear in the size (a 4 MB photo takes a fraction of a second in a debug build), and the
/// async workers must not stall meanwhile.
pub async fn fingerprint_and_clean(
    bytes: Vec<u8>,
    declared: String,
) -> anyhow::Result<(String, Result<Clean, ScrubError>)> {
    let work = move || (scrub::sha256_hex(&bytes), scrub::clean(&bytes, &declared));
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// The content type `file` was declared with, or the one of its kind.
pub fn declared(file: &Evidence) -> String {
    file.mime
        .clone()
        .unwrap_or_else(|| default_mime(file.kind).to_owned())
}

/// Keeps the sealed fingerprint of an original and cleans it; a file that cannot be cleaned
/// is marked withheld.
pub async fn prepare(
    shared: &Shared,
    code: &str,
    index: usize,
    file: &Evidence,
    bytes: Vec<u8>,
) -> anyhow::Result<Result<Clean, ScrubError>> {
    let (sha, cleaned) = fingerprint_and_clean(bytes, declared(file)).await?;
    let sealed = shared.vault.seal(format!("sha256:{sha}").as_bytes());
    shared
        .store
        .evidence_fingerprint_set(code, index, &sealed)
        .await?;
    let result = match &cleaned {
        Ok(c) if c.changed => "cleaned",
        Ok(_) => "unchanged",
        Err(e) => {
            let why = match e {
                ScrubError::Corrupt(_) => "corrupt",
                ScrubError::Unsupported(_) => "uncleanable",
            };
            shared.store.evidence_withheld_set(code, index, why).await?;
            tracing::warn!(tip = %code, index, why, "an evidence file is withheld");
            "withheld"
        }
    };
    shared.metrics.evidence_file(result);
    Ok(cleaned)
}

/// The content type a file is declared with when the platform gave none.
pub fn default_mime(kind: EvidenceKind) -> &'static str {
    match kind {
        EvidenceKind::Photo => "image/jpeg",
        EvidenceKind::Video | EvidenceKind::VideoNote => "video/mp4",
        EvidenceKind::Voice => "audio/ogg",
        EvidenceKind::Audio => "audio/mpeg",
        EvidenceKind::Document => "application/octet-stream",
    }
}

/// Fetches, cleans and uploads file `index` of `tip` under its card, or posts the note that it
/// is withheld. `Err` only for a failure worth retrying.
pub async fn upload_one(
    shared: &Shared,
    tip: &Tip,
    index: usize,
    chat: i64,
    card: i32,
) -> anyhow::Result<()> {
    let code = tip.code.as_str();
    let file = &tip.evidence[index];
    let bytes = match original(shared, tip, index).await {
        Ok(b) => b,
        // Gone (expired link, refused, too large): the card still counts it.
        Err(Fetch::Gone(why)) => {
            tracing::warn!(tip = %code, why, "an evidence file is gone; skipped");
            return Ok(());
        }
        Err(Fetch::Failed(why)) => anyhow::bail!("fetching an evidence file failed: {why}"),
    };
    let bot = shared.telegram()?;
    let reply = crate::channels::telegram::reply_to(card);
    let clean = match prepare(shared, code, index, file, bytes).await? {
        Ok(clean) => clean,
        Err(_) => {
            let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
            let text = shared
                .texts
                .render(lang, &Msg::new("desk-file-withheld").arg("n", index + 1));
            let sent = with_retries(|| {
                bot.send_message(ChatId(chat), text.clone())
                    .reply_parameters(reply.clone())
                    .protect_content(true)
                    .send()
            })
            .await;
            return match sent {
                Ok(_) | Err(SendError::Refused(_)) | Err(SendError::Blocked) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
    };
    let name = scrub::safe_name(code, index + 1, clean.ext);
    let upload = InputFile::memory(clean.bytes).file_name(name);
    // A photo stays a photo; a file sent as a file stays a file (full resolution).
    let res = if file.kind == EvidenceKind::Photo && clean.mime.starts_with("image/") {
        with_retries(|| {
            bot.send_photo(ChatId(chat), upload.clone())
                .reply_parameters(reply.clone())
                .protect_content(true)
                .send()
        })
        .await
    } else {
        with_retries(|| {
            bot.send_document(ChatId(chat), upload.clone())
                .reply_parameters(reply.clone())
                .protect_content(true)
                .send()
        })
        .await
    };
    match res {
        Ok(msg) => {
            // Telegram keeps the clean upload: evidence links serve it from then on.
            let kept = msg
                .photo()
                .and_then(|sizes| sizes.last())
                .map(|p| p.file.id.0.clone())
                .or_else(|| msg.document().map(|d| d.file.id.0.clone()));
            if let Some(file_id) = kept {
                shared
                    .store
                    .telegram_copy_set(code, index, &file_id)
                    .await?;
            }
            Ok(())
        }
        Err(SendError::Refused(_)) | Err(SendError::Blocked) => {
            tracing::warn!(tip = %code, "a file could not be uploaded; skipped");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
