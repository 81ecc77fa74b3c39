//! Sitemaps, so that crawlers (Google Scholar's among them) find every
//! abstract page: `/sitemap.xml` is a plain URL set while the repository
//! fits in one sitemap, else a sitemap index of `/sitemaps/{n}.xml`.
//!
//! Sitemap `n` covers the record ids `n*size+1 ..= (n+1)*size` (`size` is
//! 50,000, the protocol's limit, unless a test lowers it): one keyset range
//! read on the primary key, whatever the repository's size, and a part
//! keeps its address as the repository grows. Ids of withdrawn or
//! unpublished records leave gaps, so a part holds at most `size` URLs.
//! Whether an index is needed is read from the maximum id, which costs one
//! index lookup (a part may be nearly empty if many ids were never
//! published; that costs a crawler one small request).

use crate::http::Problem;
use crate::AppState;
use arkiv_formats::escape_markup as xml_escape;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicI64, Ordering};

/// URLs per sitemap: the protocol's limit.
pub const SITEMAP_SIZE: i64 = 50_000;

/// URLs per sitemap in this process: [`SITEMAP_SIZE`] unless a test set
/// another with [`set_sitemap_size`] (so that the index can be tested
/// without 50,000 records).
static SIZE: AtomicI64 = AtomicI64::new(SITEMAP_SIZE);

/// Lowers the URLs per sitemap; for tests only.
#[doc(hidden)]
pub fn set_sitemap_size(size: i64) {
    SIZE.store(size.clamp(1, SITEMAP_SIZE), Ordering::Relaxed);
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/sitemap.xml", get(sitemap)).route("/sitemaps/{part}", get(part))
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"))], body).into_response()
}

/// `/sitemap.xml`.
pub async fn sitemap(State(state): State<AppState>) -> Result<Response, Problem> {
    let size = SIZE.load(Ordering::Relaxed);
    let max = state.repo.store.max_record_id().await?;
    if max <= size {
        return urlset(&state, 0, size).await;
    }
    let base = state.repo.base_url();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for n in 0..=(max - 1) / size {
        x.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", xml_escape(&format!("{base}/sitemaps/{n}.xml"))));
    }
    x.push_str("</sitemapindex>\n");
    Ok(xml(x))
}

/// `/sitemaps/{n}.xml`.
pub async fn part(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let none = || Problem::not_found("There is no such sitemap. /sitemap.xml lists them.");
    let Path(file) = path.map_err(|_| none())?;
    let n = file
        .strip_suffix(".xml")
        .filter(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(none)?;
    let size = SIZE.load(Ordering::Relaxed);
    let max = state.repo.store.max_record_id().await?;
    if n * size >= max.max(1) {
        return Err(none());
    }
    urlset(&state, n, size).await
}

async fn urlset(state: &AppState, n: i64, size: i64) -> Result<Response, Problem> {
    let live = state.repo.store.live_ids(n * size, (n + 1) * size).await?;
    let base = state.repo.base_url();
    let mut x = String::with_capacity(64 + live.len() * 100);
    x.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (id, lastmod) in live {
        let day = lastmod.to_iso8601();
        x.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{day}</lastmod></url>\n",
            xml_escape(&format!("{base}/{id}/"))
        ));
    }
    x.push_str("</urlset>\n");
    Ok(xml(x))
}
