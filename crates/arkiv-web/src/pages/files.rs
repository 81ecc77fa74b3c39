//! File downloads: `/{id}/{pos}/{filename}`, EPrints' document addresses.
//!
//! The bytes are found by the file's SHA-256 in the file store, never by
//! the name in the URL: the name only selects one of the record's own files
//! by exact comparison, so no path a visitor writes (`..%2F`, `%00`) can
//! reach anything else. Bytes are served to the public only for a live
//! record's public, unembargoed documents; beyond that, to whom the
//! workflow's rules allow (`may_read_document`: the depositor, staff in
//! scope, registered users for their documents), privately and never
//! cached. Checked before any validator is compared, so not even a 304 is
//! given for a restricted file. Bodies are streamed from the
//! store in chunks, so a large file costs a chunk of memory, not its size.
//!
//! With files on S3 and `[s3] presign_downloads`, an open-access file is
//! answered with a redirect to a short-lived presigned URL of its bytes
//! (`presigned`); access is decided here first, and the download counts
//! when the redirect is given. A file store that is down or too slow makes
//! a download a 503 with `Retry-After` (`Problem::from`), in the time the
//! store's timeouts allow.
//!
//! Downloads support the HTTP a reader's PDF viewer and a download manager
//! use: ETag (the SHA-256) and Last-Modified with conditional requests,
//! single byte ranges (with If-Range), and HEAD without reading the bytes.
//! Files a browser would run as a page (HTML, SVG, XML) are sent as
//! attachments under `Content-Security-Policy: sandbox`, so an uploaded
//! file can never act with the site's origin.

use crate::auth::Viewer;
use crate::http::{etag_matches, header_str, http_date, not_modified, unmodified_since, OwnHeaders, Problem};
use crate::pages::{no_such_record, parse_id};
use crate::present::{date_label, segment};
use crate::range::{answer, RangeAnswer};
use crate::AppState;
use arkiv_model::usage::UsageKind;
use arkiv_model::{Record, RecordId};
use arkiv_services::access::{readable_file, ReadableFile, Refusal, Restriction};
use arkiv_storage::FileStore;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// File downloads at EPrints' document addresses.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route("/{id}/{pos}/{filename}", get(download))
}

/// Bytes read from the store per chunk of a streamed body.
const CHUNK: u64 = 256 * 1024;

fn no_such_file() -> Problem {
    Problem::not_found("This item has no file by that name. The item's page lists the files it has.")
}

pub async fn download(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Path((id, pos, filename)) = path.map_err(|_| no_such_file())?;
    let id = parse_id(&id).ok_or_else(no_such_record)?;
    let Some(pos) = parse_id(&pos).and_then(|p| u32::try_from(p).ok()) else {
        // EPrints' thumbnail addresses: `/N/P.hassmallThumbnailVersion/FILE`.
        if arkiv_formats::eprints::paths::relation_tail(&pos).is_some() {
            return Ok(crate::http::moved(
                &crate::pages::eprints_urls::document_target(&state, id, &pos, &filename).await?,
            ));
        }
        return Err(no_such_file());
    };
    let record = state.repo.store.get_record(id).await?.ok_or_else(no_such_record)?;
    let viewer = viewer.map(|s| s.user);
    let readable =
        readable_file(viewer.as_ref(), &record, pos, &filename, state.repo.today()).map_err(|why| refused(id, why))?;
    let Some(len) = state.repo.files.size(readable.sha256).await? else {
        tracing::warn!(record = id, pos, file = %filename, sha = readable.sha256, "file bytes missing from the file store");
        return Err(Problem::not_found(
            "This file's bytes are missing from the repository's file store. The repository's staff have been told.",
        ));
    };
    let served = Served {
        sha: readable.sha256,
        etag: format!("\"{}\"", readable.sha256),
        len,
        lastmod: record.lastmod.map(|t| t.0),
    };
    let h = file_headers(&state, &record, &readable, &served.etag);
    // A Request for the statistics if it succeeds (`usage.rs` decides).
    let countable = crate::usage::Countable {
        record_id: id,
        target: arkiv_model::usage::file_target(pos, &readable.file.filename),
        kind: UsageKind::Download,
        open: readable.open,
    };
    let mut res = if fresh(&headers, &served.etag, served.lastmod) {
        let mut res = not_modified(&h, h[header::ETAG].clone());
        res.extensions_mut().insert(OwnHeaders);
        res
    } else if let Some(url) = presigned(&state, &readable, &h, served.sha).await? {
        // The bytes come from S3 itself; the download counts now, as the
        // redirect is given (a ranged request as part of one).
        let ranged = headers.contains_key(header::RANGE);
        let kind = if ranged { UsageKind::PartialDownload } else { UsageKind::Download };
        let countable = crate::usage::Countable { kind, ..countable };
        let mut res = redirect_to_store(&url);
        res.extensions_mut().insert(countable);
        return Ok(res);
    } else {
        body_response(&state, method, &headers, h, &served)
    };
    res.extensions_mut().insert(countable);
    Ok(res)
}

/// A presigned URL of the bytes on S3 when downloads are handed to the
/// store (`[s3] presign_downloads`) and this file may be: open to everyone
/// (a URL that anyone holding it may use for its lifetime is no
/// restriction to them) and not one a browser would run as a page (those
/// are passed through under `Content-Security-Policy: sandbox`, which S3
/// cannot add). `None`: pass the bytes through.
async fn presigned(
    state: &AppState,
    readable: &ReadableFile<'_>,
    h: &HeaderMap,
    sha: &str,
) -> Result<Option<String>, Problem> {
    let s3 = &state.repo.config.s3;
    if !s3.presign_downloads || !state.repo.files.is_s3() || !readable.open {
        return Ok(None);
    }
    let content_type = h[header::CONTENT_TYPE].to_str().unwrap_or("application/octet-stream");
    if is_active(content_type, &readable.file.filename) {
        return Ok(None);
    }
    let disposition = h[header::CONTENT_DISPOSITION].to_str().unwrap_or("attachment");
    let expires = std::time::Duration::from_secs(s3.presign_seconds.max(1));
    Ok(state.repo.files.presigned_get(sha, expires, content_type, disposition).await?)
}

/// `307 Temporary Redirect` to the store (the method kept, so a HEAD stays
/// one), kept by no cache: the URL expires, and access may change.
fn redirect_to_store(url: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(url) else {
        return Problem::internal(format!("a presigned URL that is not a header value: {url}")).into_response();
    };
    let headers =
        [(header::LOCATION, location), (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"))];
    (StatusCode::TEMPORARY_REDIRECT, headers).into_response()
}

/// A file as an answer serves it: where its bytes are, its validators and
/// its length.
struct Served<'a> {
    sha: &'a str,
    /// The SHA-256, quoted: the file's strong ETag.
    etag: String,
    len: u64,
    lastmod: Option<i64>,
}

/// The page for a file this viewer may not have.
fn refused(id: RecordId, why: Refusal) -> Problem {
    match why {
        Refusal::NoRecord => no_such_record(),
        Refusal::NoFile => no_such_file(),
        Refusal::Withdrawn => Problem::new(
            StatusCode::GONE,
            "Withdrawn",
            format!("This item has been withdrawn, and its files with it. Its page at /{id}/ says why."),
        ),
        Refusal::Restricted(Restriction::Security(security)) => {
            Problem::forbidden(format!("This document is available to {} only.", security.label().to_lowercase()))
        }
        Refusal::Restricted(Restriction::Embargo(until)) => {
            Problem::forbidden(format!("This document is embargoed until {}.", date_label(until)))
        }
        Refusal::BytesNotHeld => Problem::not_found(
            "The repository lists this file but does not hold its bytes: it was imported from an address \
             that could not be fetched. The repository's staff can restore it.",
        ),
    }
}

/// The headers of an answer about a file: its validators (`etag`, the
/// SHA-256), who may cache it, byte ranges, the record it belongs to
/// (Signposting), and how a browser is to take it (a 304 keeps only the
/// validators and caching).
fn file_headers(state: &AppState, record: &Record, readable: &ReadableFile<'_>, etag: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, HeaderValue::from_str(etag).expect("hex is a valid header value"));
    if let Some(t) = record.lastmod {
        h.insert(header::LAST_MODIFIED, http_date(t.0));
    }
    // Access may change (a document made staff-only), so caches must ask;
    // bytes only this viewer may read are kept by no cache at all.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if readable.open { "no-cache" } else { "private, no-store" }),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(up) = crate::pages::landing::collection_link(state.repo.base_url(), record.id.unwrap_or(0)) {
        h.insert(header::LINK, up);
    }
    let filename = readable.file.filename.as_str();
    let content_type = content_type(readable.file.mime_type.as_deref(), filename);
    let inline = !is_active(&content_type, filename) && essence(&content_type) == "application/pdf";
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&content_type).expect("checked in content_type"));
    h.insert(header::CONTENT_DISPOSITION, disposition(inline, filename));
    if !inline {
        // Belt and braces: even if a browser did render it, it would run
        // in a sandbox with no origin, no script and no forms.
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    }
    h
}

/// The bytes (all, or the one range asked for, while If-Range holds),
/// streamed from the store; none for HEAD.
fn body_response(
    state: &AppState,
    method: Method,
    headers: &HeaderMap,
    mut h: HeaderMap,
    served: &Served<'_>,
) -> Response {
    let (sha, len) = (served.sha, served.len);
    let wanted =
        if_range_holds(headers, &served.etag, served.lastmod).then(|| header_str(headers, &header::RANGE)).flatten();
    let (status, start, end) = match answer(wanted, len) {
        RangeAnswer::Full => (StatusCode::OK, 0, len),
        RangeAnswer::Partial { start, end } => {
            let range = format!("bytes {start}-{end}/{len}");
            h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).expect("digits are a valid header value"));
            (StatusCode::PARTIAL_CONTENT, start, end + 1)
        }
        RangeAnswer::Unsatisfiable => {
            let mut res = Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "Range not satisfiable",
                format!("The file is {len} bytes long; the part asked for lies beyond its end."),
            )
            .into_response();
            let range = HeaderValue::from_str(&format!("bytes */{len}")).expect("digits are a valid header value");
            res.headers_mut().insert(header::CONTENT_RANGE, range);
            res.headers_mut().insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return res;
        }
    };
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        stream(state.repo.files.clone(), sha.to_string(), start, end)
    };
    let mut res = (status, h, body).into_response();
    res.extensions_mut().insert(OwnHeaders);
    res
}

/// True if the client's copy is current: If-None-Match when sent, else
/// If-Modified-Since (RFC 9110 §13.2.2).
fn fresh(req: &HeaderMap, etag: &str, lastmod: Option<i64>) -> bool {
    if let Some(inm) = header_str(req, &header::IF_NONE_MATCH) {
        return etag_matches(inm, etag);
    }
    match (header_str(req, &header::IF_MODIFIED_SINCE), lastmod) {
        (Some(ims), Some(t)) => unmodified_since(ims, t),
        _ => false,
    }
}

/// If-Range: the range applies only if the client's copy is this one
/// (strong comparison for tags, exact date otherwise).
fn if_range_holds(req: &HeaderMap, etag: &str, lastmod: Option<i64>) -> bool {
    let Some(v) = header_str(req, &header::IF_RANGE) else { return true };
    let v = v.trim();
    if v.starts_with('"') {
        return v == etag;
    }
    match (httpdate::parse_http_date(v), lastmod) {
        (Ok(t), Some(ours)) => t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs() as i64) == Some(ours),
        _ => false,
    }
}

/// The body from `start` up to `end` (exclusive), read chunk by chunk.
pub(crate) fn stream(files: FileStore, sha: String, start: u64, end: u64) -> Body {
    Body::from_stream(files.stream_range(&sha, start, end, CHUNK))
}

/// The file's own type if it is a well-formed one, else one guessed from
/// the extension, else bytes; and bytes too for any type not known to be
/// safe (`sniff::is_safe_download_type`) or markup (served as a sandboxed
/// attachment): a file stored as `text/javascript` would otherwise be a
/// script of the site's origin.
pub(crate) fn content_type(declared: Option<&str>, filename: &str) -> String {
    let t = match declared.map(str::trim).filter(|t| well_formed_type(t)) {
        Some(t) => t.to_string(),
        None => guess(filename).unwrap_or("application/octet-stream").to_string(),
    };
    let e = essence(&t);
    if arkiv_services::workflow::sniff::is_safe_download_type(&e) || is_active_type(&e) {
        t
    } else {
        "application/octet-stream".into()
    }
}

fn well_formed_type(t: &str) -> bool {
    let e = essence(t);
    let Some((top, sub)) = e.split_once('/') else { return false };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    token(top) && token(sub) && t.len() <= 200 && HeaderValue::from_str(t).is_ok() && t.is_ascii()
}

fn essence(t: &str) -> String {
    t.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn extension(filename: &str) -> String {
    filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// Types (essences) a browser would run as a document with scripts.
fn is_active_type(e: &str) -> bool {
    matches!(e, "text/html" | "application/xhtml+xml" | "image/svg+xml" | "text/xml" | "application/xml" | "text/xsl")
        || e.ends_with("+xml")
}

/// Types a browser would run as a document with scripts, by type or name.
fn is_active(content_type: &str, filename: &str) -> bool {
    let active_type = is_active_type(&essence(content_type));
    let active_ext = matches!(
        extension(filename).as_str(),
        "html" | "htm" | "xhtml" | "shtml" | "svg" | "svgz" | "xml" | "xsl" | "xslt" | "mht" | "mhtml"
    );
    active_type || active_ext
}

fn guess(filename: &str) -> Option<&'static str> {
    Some(match extension(filename).as_str() {
        "pdf" => "application/pdf",
        "txt" | "text" => "text/plain; charset=utf-8",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "rtf" => "application/rtf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "epub" => "application/epub+zip",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "bib" => "text/x-bibtex",
        "tex" => "text/x-tex",
        _ => return None,
    })
}

/// `inline` or `attachment`, with the name twice: quoted in ASCII for old
/// clients, and RFC 5987-encoded for everyone else.
pub(crate) fn disposition(inline: bool, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    let value = format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}", segment(filename));
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_file_then_the_name() {
        assert_eq!(content_type(Some("application/pdf"), "x.bin"), "application/pdf");
        assert_eq!(content_type(None, "Paper.PDF"), "application/pdf");
        assert_eq!(content_type(Some("not a type"), "x.unknown"), "application/octet-stream");
        assert_eq!(content_type(Some("text/html\r\nX: y"), "x"), "application/octet-stream");
    }

    #[test]
    fn pages_and_images_that_run_script_are_active() {
        assert!(is_active("text/html; charset=utf-8", "a"));
        assert!(is_active("application/octet-stream", "a.svg"));
        assert!(is_active("application/atom+xml", "a"));
        assert!(!is_active("application/pdf", "a.pdf"));
    }

    #[test]
    fn names_are_quoted_and_encoded() {
        let d = disposition(true, "Łódź \"report\".pdf");
        assert_eq!(
            d.to_str().unwrap(),
            "inline; filename=\"__d_ _report_.pdf\"; filename*=UTF-8''%C5%81%C3%B3d%C5%BA%20%22report%22.pdf"
        );
    }
}
