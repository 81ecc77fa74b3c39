//! The site's own static files: one stylesheet, an icon and the deposit
//! page's upload script, compiled into the binary so a repository needs no
//! web root. The stylesheet's and the script's addresses carry a hash of
//! their content, so they can be cached for a year and a new build is
//! still seen at once.

use crate::http::{etag_matches, not_modified};
use axum::extract::RawQuery;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::AppState;
/// The static files built into the binary.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/static/arkiv.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .route("/static/upload.js", get(upload_script))
        .route("/robots.txt", get(robots))
}

const CSS: &str = include_str!("../../static/arkiv.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");
/// The deposit page's one script (upload progress); no other page has any.
const UPLOAD_JS: &str = include_str!("../../static/upload.js");

static CSS_HASH: LazyLock<String> = LazyLock::new(|| hex::encode(&Sha256::digest(CSS.as_bytes())[..8]));

static UPLOAD_JS_HASH: LazyLock<String> = LazyLock::new(|| hex::encode(&Sha256::digest(UPLOAD_JS.as_bytes())[..8]));

/// The upload script's versioned address.
pub fn upload_js_url() -> String {
    format!("/static/upload.js?v={}", *UPLOAD_JS_HASH)
}

pub async fn upload_script(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let cache = versioned_cache(query.as_deref(), &UPLOAD_JS_HASH);
    asset(&headers, UPLOAD_JS, "text/javascript; charset=utf-8", &UPLOAD_JS_HASH, cache)
}

/// The stylesheet's versioned address, as pages link it.
pub fn css_url() -> String {
    format!("/static/arkiv.css?v={}", *CSS_HASH)
}

pub async fn stylesheet(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let cache = versioned_cache(query.as_deref(), &CSS_HASH);
    asset(&headers, CSS, "text/css; charset=utf-8", &CSS_HASH, cache)
}

/// Versioned links (carrying the content's hash) may be cached for good; a
/// bare one for an hour.
fn versioned_cache(query: Option<&str>, hash: &str) -> &'static str {
    if query.is_some_and(|q| q.contains(hash)) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    }
}

pub async fn favicon(headers: HeaderMap) -> Response {
    asset(&headers, FAVICON, "image/svg+xml", "favicon-1", "public, max-age=86400")
}

pub async fn robots(axum::extract::State(state): axum::extract::State<crate::AppState>) -> Response {
    let base = state.repo.base_url();
    let body = format!("User-agent: *\nDisallow:\n\nSitemap: {base}/sitemap.xml\n");
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

fn asset(req: &HeaderMap, body: &'static str, content_type: &'static str, tag: &str, cache: &'static str) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{tag}\"")).expect("hex tags are valid header values");
    let mut full = HeaderMap::new();
    full.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| etag_matches(h, etag.to_str().unwrap_or("")))
    {
        return not_modified(&full, etag);
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}
