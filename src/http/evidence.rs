//! `GET /api/v1/evidence/<code>/<n>?exp=&sig=`: one file of a tip, for whoever holds a signed
//! link (the triage service, which receives them in forwarded tips).
//!
//! 403 for a wrong signature, 410 when expired or when the file is withheld (an image whose
//! metadata could not be removed), 404 for an unknown tip or file, 502 when the platform does
//! not give the file, 503 when Redis does not answer or the download cannot be audited.
//! A photo or document is fetched whole (at most `limits.evidence_max_bytes`) and cleaned
//! ([`crate::scrub`]) before a byte leaves; a video or voice note is streamed through. Every
//! answer with a file is a download, never a page: `Content-Disposition: attachment` with the
//! tip's name for it (`TB-…-1.jpg`), a content type from the allow-list (anything else is
//! `application/octet-stream`), `X-Content-Type-Options: nosniff`, `Content-Security-Policy:
//! sandbox` and `Cache-Control: no-store`. Each download is written to the audit trail first
//! (actor `triage:link`, the tip, `file=<n>`): no audit, no file.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, HttpState, err};
use crate::conversation::EvidenceKind;
use crate::desk::Fetch;
use crate::desk::files;
use crate::scrub;

#[derive(serde::Deserialize)]
pub(super) struct LinkQuery {
    #[serde(default)]
    exp: i64,
    #[serde(default)]
    sig: String,
}

fn unavailable<E>(_: E) -> ApiError {
    err(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
}

fn not_given(code: &str, why: &str) -> ApiError {
    tracing::warn!(tip = %code, why, "evidence file not available from the platform");
    err(
        StatusCode::BAD_GATEWAY,
        "the platform did not give the file",
    )
}

fn withheld() -> ApiError {
    err(
        StatusCode::GONE,
        "withheld: an image whose metadata could not be removed",
    )
}

/// The headers that make every answer a download the browser neither renders nor caches.
fn download_headers(resp: &mut Response, mime: &str, name: &str) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // The name is made of the receipt code, a number and an extension: plain ASCII.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub(super) async fn evidence(
    State(st): State<HttpState>,
    Path((code, index)): Path<(String, usize)>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    use crate::links::LinkError;
    let sh = &st.shared;
    let now_ms = sh.clock.now_ms();
    match sh.links.check(&code, index, q.exp, &q.sig, now_ms / 1000) {
        Ok(()) => {}
        Err(LinkError::BadSignature) => {
            tracing::warn!("evidence link with a wrong signature refused");
            return Err(err(StatusCode::FORBIDDEN, "wrong signature"));
        }
        Err(LinkError::Expired) => return Err(err(StatusCode::GONE, "link expired")),
    }
    let not_found = || err(StatusCode::NOT_FOUND, "no such file");
    let parsed = crate::codes::ReceiptCode::parse(&code).map_err(|_| not_found())?;
    let tip = sh
        .store
        .tip(&parsed)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let code = tip.code.as_str();
    let file = tip.evidence.get(index).ok_or_else(not_found)?;
    if sh
        .store
        .evidence_withheld(code, index)
        .await
        .map_err(unavailable)?
        .is_some()
    {
        return Err(withheld());
    }
    // The clean copy the desk uploaded to Telegram, when there is one.
    let copy = sh
        .store
        .telegram_copy(code, index)
        .await
        .map_err(unavailable)?;
    let audit = || async {
        crate::audit::append(
            &sh.store,
            now_ms,
            "triage:link",
            "evidence_downloaded",
            code,
            &format!("file={}", index + 1),
        )
        .await
        .map_err(|e| {
            tracing::error!(tip = %code, error = %e, "an evidence download could not be audited; refused");
            unavailable(e)
        })
    };
    if matches!(file.kind, EvidenceKind::Photo | EvidenceKind::Document) {
        let fetched = match &copy {
            Some(id) => files::download_telegram(sh, id).await,
            None => files::original(sh, &tip, index).await,
        };
        let bytes = fetched.map_err(|e| match e {
            Fetch::Gone(why) | Fetch::Failed(why) => not_given(code, &why),
        })?;
        let clean = if copy.is_some() {
            // The desk's copy, cleaned once already; cleaned again all the same.
            files::fingerprint_and_clean(bytes, files::declared(file))
                .await
                .map_err(unavailable)?
                .1
        } else {
            files::prepare(sh, code, index, file, bytes)
                .await
                .map_err(unavailable)?
        }
        .map_err(|_| withheld())?;
        audit().await?;
        let name = scrub::safe_name(code, index + 1, clean.ext);
        let mut resp = clean.bytes.into_response();
        download_headers(&mut resp, clean.mime, &name);
        sh.metrics.evidence_downloads.inc();
        tracing::info!(tip = %code, index, "evidence file served");
        return Ok(resp);
    }
    // A video or a voice: streamed as it is read (nothing is stored here).
    let (mime, ext) = scrub::allowed(&files::declared(file));
    let links = sh.channels.capabilities(tip.channel).files == crate::channels::Files::Links;
    let body = if links && copy.is_none() {
        let resp = sh
            .http
            .get(&file.file_id)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| not_given(code, &e.without_url().to_string()))?;
        let stream = futures_util::stream::unfold(resp, |mut resp| async move {
            match resp.chunk().await {
                Ok(Some(chunk)) => Some((Ok::<_, reqwest::Error>(chunk), resp)),
                Ok(None) => None,
                Err(e) => Some((Err(e), resp)),
            }
        });
        axum::body::Body::from_stream(stream)
    } else {
        use teloxide::net::Download;
        use teloxide::prelude::Requester;
        let bot = sh
            .telegram()
            .map_err(|_| err(StatusCode::SERVICE_UNAVAILABLE, "channel disabled"))?;
        let file_id = copy.unwrap_or_else(|| file.file_id.clone());
        let meta = bot
            .get_file(teloxide::types::FileId(file_id))
            .await
            .map_err(|e| not_given(code, &crate::channels::telegram::send::describe(&e)))?;
        axum::body::Body::from_stream(bot.download_file_stream(&meta.path))
    };
    audit().await?;
    let mut resp = body.into_response();
    download_headers(&mut resp, mime, &scrub::safe_name(code, index + 1, ext));
    sh.metrics.evidence_downloads.inc();
    tracing::info!(tip = %code, index, "evidence file streamed");
    Ok(resp)
}
