//! Feeds: RSS 2.0 and Atom of the latest additions (`/feed/rss`,
//! `/feed/atom`) and of any search (`/search/feed/rss?q=...`, the
//! parameters of `/search`, newest first), for feed readers and the
//! alerting services that poll them.
//!
//! Written by hand: a feed is a dozen fixed elements whose only hazard is
//! escaping text, which `arkiv_formats::escape_markup` does; a feed crate would add a
//! dependency for no gain. Entries carry title, link, authors, dates and a
//! summary cut from the abstract: nothing of the files, so nothing
//! restricted can leave this way.

use crate::http::{http_date, Problem};
use crate::pages::search::{self, pairs, Params};
use crate::AppState;
use arkiv_formats::escape_markup;
use arkiv_model::Record;
use arkiv_search::Sort;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Entries in a feed.
const ENTRIES: usize = 30;
/// Characters of the abstract in an entry's summary.
const SUMMARY_CHARS: usize = 600;

pub fn routes() -> Router<AppState> {
    Router::new().route("/feed/{kind}", get(latest)).route("/search/feed/{kind}", get(search_feed))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rss,
    Atom,
}

fn kind(path: Result<Path<String>, PathRejection>) -> Result<Kind, Problem> {
    match path.map(|Path(k)| k).as_deref() {
        Ok("rss") | Ok("rss.xml") => Ok(Kind::Rss),
        Ok("atom") | Ok("atom.xml") => Ok(Kind::Atom),
        _ => Err(Problem::not_found("The feeds are /feed/rss (RSS 2.0) and /feed/atom (Atom).")),
    }
}

/// `/feed/{rss,atom}`: the latest additions.
pub async fn latest(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let kind = kind(path)?;
    let records = state.repo.store.latest(ENTRIES as i64).await?;
    let name = state.repo.settings().name.clone();
    let feed = Feed {
        title: format!("{name}: latest additions"),
        page: "/".into(),
        self_path: format!("/feed/{}", path_kind(kind)),
    };
    Ok(render(&state, kind, &feed, &records))
}

/// `/search/feed/{rss,atom}?q=...`: a search's newest matches.
pub async fn search_feed(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let kind = kind(path)?;
    let mut params = Params::read(&pairs(query));
    params.sort = Sort::Newest;
    params.cursor = None;
    params.size = ENTRIES;
    let Some(results) = search::run(&state, params.request()).await? else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Search unavailable",
            "Search is not available at the moment. Please try again later.",
        ));
    };
    let found = search::records(&state, &results).await?;
    let records: Vec<Record> = results.hits.iter().filter_map(|h| found.get(&h.id).cloned()).collect();
    let name = state.repo.settings().name.clone();
    let what = if params.q.trim().is_empty() {
        "search".to_string()
    } else {
        format!("search for \u{201c}{}\u{201d}", params.q.trim())
    };
    let feed = Feed {
        title: format!("{name}: {what}"),
        page: params.url("/search", &params.filters, None),
        self_path: params.url(&format!("/search/feed/{}", path_kind(kind)), &params.filters, None),
    };
    Ok(render(&state, kind, &feed, &records))
}

fn path_kind(kind: Kind) -> &'static str {
    match kind {
        Kind::Rss => "rss",
        Kind::Atom => "atom",
    }
}

struct Feed {
    title: String,
    /// The HTML page the feed follows (a path).
    page: String,
    /// The feed's own address (a path).
    self_path: String,
}

fn summary(record: &Record) -> Option<String> {
    let text = record.abstract_text.as_deref()?.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return None;
    }
    let mut cut: String = text.chars().take(SUMMARY_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('\u{2026}');
    }
    Some(cut)
}

fn render(state: &AppState, kind: Kind, feed: &Feed, records: &[Record]) -> Response {
    let base = state.repo.base_url();
    let e = escape_markup;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let updated = records.iter().filter_map(|r| r.datestamp.or(r.lastmod)).max();
    let content_type = match kind {
        Kind::Rss => {
            x.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n");
            x.push_str(&format!(
                "<title>{}</title>\n<link>{}</link>\n",
                e(&feed.title),
                e(&format!("{base}{}", feed.page))
            ));
            x.push_str(&format!("<description>{}</description>\n", e(&feed.title)));
            x.push_str(&format!(
                "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
                e(&format!("{base}{}", feed.self_path))
            ));
            if let Some(t) = updated {
                x.push_str(&format!("<lastBuildDate>{}</lastBuildDate>\n", http_date(t.0).to_str().unwrap_or("")));
            }
            for r in records {
                let url = state.repo.record_url(r);
                x.push_str(&format!(
                    "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"true\">{}</guid>\n",
                    e(&r.title),
                    e(&url),
                    e(&url)
                ));
                for c in &r.creators {
                    x.push_str(&format!("<dc:creator>{}</dc:creator>\n", e(&c.name.inverted())));
                }
                if let Some(t) = r.datestamp {
                    x.push_str(&format!("<pubDate>{}</pubDate>\n", http_date(t.0).to_str().unwrap_or("")));
                }
                // RSS readers render a description as HTML: the abstract
                // is escaped for HTML, then for XML, so it reads as the
                // plain text it is and no markup in it becomes an element.
                if let Some(s) = summary(r) {
                    x.push_str(&format!("<description>{}</description>\n", e(&e(&s))));
                }
                x.push_str("</item>\n");
            }
            x.push_str("</channel>\n</rss>\n");
            "application/rss+xml; charset=utf-8"
        }
        Kind::Atom => {
            x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
            x.push_str(&format!(
                "<title>{}</title>\n<id>{}</id>\n",
                e(&feed.title),
                e(&format!("{base}{}", feed.self_path))
            ));
            x.push_str(&format!("<link rel=\"self\" href=\"{}\"/>\n", e(&format!("{base}{}", feed.self_path))));
            x.push_str(&format!(
                "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
                e(&format!("{base}{}", feed.page))
            ));
            let stamp = updated.unwrap_or(arkiv_model::Timestamp(0)).to_iso8601();
            x.push_str(&format!("<updated>{stamp}</updated>\n"));
            x.push_str(&format!("<author><name>{}</name></author>\n", e(&state.repo.settings().name)));
            for r in records {
                let url = state.repo.record_url(r);
                x.push_str(&format!("<entry>\n<title>{}</title>\n<id>{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", e(&r.title), e(&url), e(&url)));
                let updated = r.lastmod.or(r.datestamp).unwrap_or(arkiv_model::Timestamp(0));
                x.push_str(&format!("<updated>{}</updated>\n", updated.to_iso8601()));
                if let Some(t) = r.datestamp {
                    x.push_str(&format!("<published>{}</published>\n", t.to_iso8601()));
                }
                for c in &r.creators {
                    x.push_str(&format!("<author><name>{}</name></author>\n", e(&c.name.inverted())));
                }
                if let Some(s) = summary(r) {
                    x.push_str(&format!("<summary>{}</summary>\n", e(&s)));
                }
                x.push_str("</entry>\n");
            }
            x.push_str("</feed>\n");
            "application/atom+xml; charset=utf-8"
        }
    };
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], x).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(escape_markup("a <b> & \"c\" 'd'\u{1}\u{FFFF}"), "a &lt;b&gt; &amp; &quot;c&quot; 'd'");
    }
}
