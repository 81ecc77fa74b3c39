//! HTTP plumbing shared by every page: HTML responses, error pages,
//! validators (ETag, Last-Modified, 304s), security headers and
//! compression.
//!
//! Handlers return either a response or a [`Problem`]; the [`finish`]
//! middleware then gives every response the same treatment, so no handler
//! can forget it: a problem (or a bare error status from the framework, such
//! as a 405) becomes the site's error page; a 200 HTML page gets a weak ETag
//! computed from its body and becomes a 304 when the browser already has
//! it; every response gets the security headers. Downloads of stored files
//! mark themselves with [`OwnHeaders`]: they carry their own validators and
//! content policy and their bodies are never buffered here.

use crate::AppState;
use arkiv_formats::escape_markup as escape;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;

/// The policy of every HTML page: nothing but our own stylesheet and
/// images; no script at all, no framing, no foreign form targets.
pub const PAGE_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The deposit page's policy: the page policy, plus our own upload script
/// and its requests back to us (a file's upload progress).
pub const DEPOSIT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Why a request could not be answered with the page it asked for. Turned
/// into the site's error page by [`finish`], which has the templates.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, title: &str, message: impl Into<String>) -> Problem {
        Problem { status, title: title.to_string(), message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Not available to the public", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad request", message)
    }

    /// A failure on our side (the database, the file store). The details go
    /// to the log, not to the visitor.
    pub fn internal(error: impl std::fmt::Display) -> Problem {
        tracing::error!(%error, "request failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The repository could not answer this request. Please try again later.",
        )
    }

    /// The file store could not be reached or did not answer in time: a
    /// 503 with `Retry-After` (added by `into_response`), not a fault of
    /// ours to log as one. Pages that need no file go on meanwhile.
    pub fn file_store_unavailable(error: impl std::fmt::Display) -> Problem {
        tracing::warn!(%error, "the file store is unavailable");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Files unavailable for a moment",
            "The repository's file store is not answering just now, so files can be neither downloaded nor \
             uploaded. Everything else works. Please try again in a minute.",
        )
    }

    /// The generic problem for a status the framework answered by itself.
    fn from_status(status: StatusCode) -> Problem {
        let title = status.canonical_reason().unwrap_or("Error");
        let message = match status {
            StatusCode::NOT_FOUND => "There is no page at this address.",
            StatusCode::METHOD_NOT_ALLOWED => "This address can only be read, not written to.",
            s if s.is_server_error() => "The repository could not answer this request. Please try again later.",
            _ => "The request could not be understood.",
        };
        Problem::new(status, title, message)
    }
}

/// Any failure on our side becomes a 500 page through `?`: the log gets the
/// error with its whole chain of causes (`{:#}`), the visitor a page that
/// says to try again, never the details. Errors a visitor caused are made
/// into their own problems (404, 422...) before they reach a `?`.
impl<E: Into<anyhow::Error>> From<E> for Problem {
    fn from(error: E) -> Problem {
        let error: anyhow::Error = error.into();
        if file_store_unavailable(&error) {
            return Problem::file_store_unavailable(format!("{error:#}"));
        }
        Problem::internal(format!("{error:#}"))
    }
}

/// Whether an error, anywhere in its chain of causes, is the file store
/// being unreachable or too slow
/// (`arkiv_storage::StoreError::file_store_unavailable`).
pub fn file_store_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.downcast_ref::<arkiv_storage::StoreError>().is_some_and(|e| e.file_store_unavailable()))
}

/// Seconds a 503 asks a client to wait before it tries again.
const RETRY_AFTER_SECS: &str = "30";

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        res.extensions_mut().insert(self);
        res
    }
}

/// The answer to any address the site does not have.
pub async fn not_found() -> Problem {
    Problem::not_found("There is no page at this address. It may have moved, or the link may be mistyped.")
}

/// Marks a response that set its own content policy and validators (a file
/// download): [`finish`] leaves its body and those headers alone.
#[derive(Debug, Clone, Copy)]
pub struct OwnHeaders;

impl AppState {
    /// Renders a template into an HTML response.
    pub fn page<S: Serialize>(&self, status: StatusCode, template: &str, ctx: S) -> Result<Response, Problem> {
        match self.templates.render(template, ctx) {
            Ok(body) => Ok(html(status, body)),
            Err(e) => Err(Problem::internal(format!("template {template}: {e:#}"))),
        }
    }
}

pub fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], body).into_response()
}

/// A permanent redirect to a path of this site.
pub fn moved(path: &str) -> Response {
    match HeaderValue::from_str(path) {
        Ok(location) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, location)]).into_response(),
        Err(_) => Problem::not_found("There is no page at this address.").into_response(),
    }
}

/// The middleware every response passes through; see the module docs.
pub async fn finish(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let own = res.extensions().get::<OwnHeaders>().is_some();
    let problem = match res.extensions_mut().remove::<Problem>() {
        Some(p) => Some(p),
        None if !own
            && (res.status().is_client_error() || res.status().is_server_error())
            && !is_html(res.headers()) =>
        {
            Some(Problem::from_status(res.status()))
        }
        None => None,
    };
    if let Some(problem) = problem {
        // The REST API's errors are problem+json, whoever made them (the
        // router's 404 and 405, a layer's 413, a caught panic).
        res = if api { problem_json(res, problem) } else { error_page(&state, res, problem) };
    }
    if !own && res.status() == StatusCode::OK && is_html(res.headers()) && !res.headers().contains_key(header::ETAG) {
        res = validate(res, if_none_match.as_deref()).await;
    }
    security_headers(res.headers_mut(), own);
    res
}

fn is_html(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("text/html"))
}

/// Replaces a response's body with an RFC 9457 problem (JSON), keeping its
/// status and headers: the REST API's errors.
fn problem_json(res: Response, problem: Problem) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status.as_u16(),
        "detail": problem.message,
    });
    let (mut parts, _) = res.into_parts();
    parts.status = problem.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(body.to_string()))
}

/// Replaces a response's body with the error page, keeping its status and
/// headers (a 416 keeps its `Content-Range`, a 405 its `Allow`).
fn error_page(state: &AppState, res: Response, problem: Problem) -> Response {
    #[derive(Serialize)]
    struct Ctx<'a> {
        status: u16,
        title: &'a str,
        message: &'a str,
    }
    let ctx = Ctx { status: problem.status.as_u16(), title: &problem.title, message: &problem.message };
    let body = state.templates.render("error.html", &ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the error page template failed");
        format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{t}</title><h1>{t}</h1><p>{m}</p><p><a href=\"/\">Home</a></p></html>",
            t = escape(&problem.title),
            m = escape(&problem.message)
        )
    });
    let (mut parts, _) = res.into_parts();
    parts.status = problem.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_DISPOSITION);
    parts.headers.remove(header::ETAG);
    parts.headers.remove(header::LAST_MODIFIED);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(body))
}

/// Gives a page a weak ETag from its body (weak, because compression may
/// change the bytes but not the page) and answers 304 if the browser sent
/// it back. Pages are rendered whole, so buffering the body costs nothing.
async fn validate(res: Response, if_none_match: Option<&str>) -> Response {
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return Problem::internal(format!("page body: {e}")).into_response(),
    };
    let etag_value = weak_etag(&bytes);
    let etag = etag_value.to_str().expect("ASCII").to_string();
    parts.headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
    if if_none_match.is_some_and(|h| etag_matches(h, &etag)) {
        return not_modified(&parts.headers, etag_value);
    }
    parts.headers.insert(header::ETAG, etag_value);
    Response::from_parts(parts, Body::from(bytes))
}

/// A page's weak ETag: the first 128 bits of its body's SHA-256.
pub fn weak_etag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::from_str(&format!("W/\"{}\"", hex::encode(&digest[..16]))).expect("hex is a valid header value")
}

/// A 304 carrying the validators and caching headers of the full answer.
pub fn not_modified(full: &HeaderMap, etag: HeaderValue) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    for name in [header::CACHE_CONTROL, header::LAST_MODIFIED, header::VARY, header::CONTENT_LOCATION] {
        if let Some(v) = full.get(&name) {
            h.insert(name, v.clone());
        }
    }
    res
}

/// If-None-Match's weak comparison: `*`, or any listed tag equal to ours
/// once `W/` is set aside.
pub fn etag_matches(header: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = opaque(etag);
    header.split(',').any(|t| t.trim() == "*" || opaque(t) == ours)
}

/// The last second an HTTP date can name (`Fri, 31 Dec 9999 23:59:59 GMT`):
/// the year has four digits, and `httpdate` panics past it.
const LAST_HTTP_DATE: i64 = 253_402_300_799;

/// An HTTP date for a Unix time (clamped to the epoch and to the year 9999).
pub fn http_date(unix_seconds: i64) -> HeaderValue {
    let secs = unix_seconds.clamp(0, LAST_HTTP_DATE) as u64;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("HTTP dates are valid header values")
}

/// True if `If-Modified-Since` says the client's copy is as new as ours.
pub fn unmodified_since(header: &str, unix_seconds: i64) -> bool {
    match httpdate::parse_http_date(header.trim()) {
        Ok(t) => {
            let theirs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            unix_seconds <= theirs
        }
        Err(_) => false,
    }
}

fn security_headers(h: &mut HeaderMap, own: bool) {
    if !own {
        h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(PAGE_CSP));
        h.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    }
    h.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
}

/// Gzip for text the site renders (pages, the stylesheet, the icon), never
/// for stored files: compressing a PDF gains little and would break byte
/// ranges.
pub fn compression() -> CompressionLayer<impl Predicate> {
    let textual = |_status: StatusCode, _v: axum::http::Version, h: &HeaderMap, _e: &axum::http::Extensions| {
        let ct = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let text = ct.starts_with("text/html") || ct.starts_with("text/css") || ct.starts_with("image/svg+xml");
        text && !h.contains_key(header::ACCEPT_RANGES) && !h.contains_key(header::CONTENT_RANGE)
    };
    CompressionLayer::new().compress_when(SizeAbove::new(256).and(textual))
}

/// A header by name as text, if it is text.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly() {
        assert!(etag_matches("\"abc\"", "W/\"abc\""));
        assert!(etag_matches("W/\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
        assert!(!etag_matches("", "\"abc\""));
    }

    /// Known answers, worked out apart from `httpdate`: RFC 9110's example
    /// (section 5.6.7), the epoch, both ends of a leap day, both sides of
    /// 2^31 (where a signed 32-bit `time_t` ends), a century year that is
    /// not a leap year, and the last second a four-digit year can name.
    const KNOWN_DATES: &[(i64, &str)] = &[
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (951_868_799, "Tue, 29 Feb 2000 23:59:59 GMT"),
        (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"),
        (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
        (4_107_542_399, "Sun, 28 Feb 2100 23:59:59 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ];

    #[test]
    fn http_dates_match_known_answers() {
        for &(secs, expected) in KNOWN_DATES {
            assert_eq!(http_date(secs).to_str().unwrap(), expected, "{secs}");
        }
    }

    #[test]
    fn http_dates_out_of_range_are_clamped_not_panics() {
        assert_eq!(http_date(-1).to_str().unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(i64::MIN).to_str().unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(253_402_300_800).to_str().unwrap(), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http_date(i64::MAX).to_str().unwrap(), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    /// If-Modified-Since read from the known strings: the copy is as new as
    /// ours at that second, and older one second later.
    #[test]
    fn if_modified_since_reads_known_dates() {
        for &(secs, text) in KNOWN_DATES {
            assert!(unmodified_since(text, secs), "{text}");
            assert!(!unmodified_since(text, secs + 1), "{text}");
        }
    }

    /// RFC 9110 (5.6.7): a recipient MUST accept the two obsolete forms too,
    /// RFC 850's and C's asctime, here RFC's own examples of them.
    #[test]
    fn if_modified_since_reads_obsolete_forms() {
        for text in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert!(unmodified_since(text, 784_111_777), "{text}");
            assert!(!unmodified_since(text, 784_111_778), "{text}");
        }
        // Not a date in any of the three forms: never "unmodified".
        for text in ["", "yesterday", "Sun, 06 Nov 1994", "1994-11-06T08:49:37Z", "Sun, 32 Nov 1994 08:49:37 GMT"] {
            assert!(!unmodified_since(text, 0), "{text:?}");
        }
    }

    #[test]
    fn dates_round_trip() {
        let d = http_date(1_400_000_000);
        assert!(unmodified_since(d.to_str().unwrap(), 1_400_000_000));
        assert!(!unmodified_since(d.to_str().unwrap(), 1_400_000_001));
        assert!(!unmodified_since("yesterday", 0));
    }
}
