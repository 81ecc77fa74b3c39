//! Export URLs: one record (`/{id}/export/{format}`, also under EPrints'
//! `/id/eprint/{id}/export/{format}`), the results of a search
//! (`/search/export/{format}?q=...`, the parameters of `/search`) and a
//! browse view's value (`/view/{view}/{value}/export/{format}`), in every
//! format of [`arkiv_formats::export::FORMATS`]; and unAPI (`/unapi`), the
//! small protocol reference managers use to find those formats.
//!
//! Lists are streamed: records are fetched a page at a time (the search
//! cursor, the browse keyset) and each page is written and sent before the
//! next is read, so an export holds one page in memory whatever its
//! length. A search export stops after [`MAX_SEARCH_EXPORT`] records:
//! every page of a search re-runs the query, so the cost of one request
//! must have a ceiling; the whole repository is `arkiv export`'s job (or
//! OAI-PMH's), not a web request's. A format whose list cannot be empty
//! (MODS) reads its first records before answering, so a search or view
//! with none gets a "nothing to export" page (404), never an invalid file.

use crate::http::Problem;
use crate::pages::search::{self, pairs, Params};
use crate::pages::{no_such_record, parse_id};
use crate::AppState;
use arkiv_formats::export::{self, ExportContext, ExportFormat, ExportWriter};
use arkiv_model::{BrowseView, Record, RecordId};
use arkiv_services::access::{visibility, Visibility};
use arkiv_storage::BrowseCursor;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Records a search export holds at most. See the module documentation.
pub const MAX_SEARCH_EXPORT: usize = 10_000;
/// Records fetched per page of a list export.
const PAGE: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{id}/export/{format}", get(one))
        .route("/id/eprint/{id}/export/{format}", get(one))
        .route("/search/export/{format}", get(search))
        .route("/view/{view}/{value}/export/{format}", get(browse))
        .route("/unapi", get(unapi))
}

/// The answer for a format id the registry does not know, naming those it
/// does.
pub fn unknown_format(id: &str) -> Problem {
    let known: Vec<&str> = export::FORMATS.iter().map(|f| f.id).collect();
    let shown: String = id.chars().take(40).collect();
    Problem::not_found(format!(
        "There is no export format called \u{201c}{shown}\u{201d}. The formats are: {}.",
        known.join(", ")
    ))
}

fn format(id: &str) -> Result<&'static ExportFormat, Problem> {
    export::find(id).ok_or_else(|| unknown_format(id))
}

/// A file-name-safe form of a text: lower-case ASCII letters and digits
/// joined by single dashes, at most 40 characters.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "arkiv".into()
    } else {
        out
    }
}

/// The download name of an export: `{repository}-{what}.{extension}`.
fn file_name(state: &AppState, what: &str, format: &ExportFormat) -> String {
    format!("{}-{}.{}", slug(&state.repo.settings().name), what, format.extension)
}

fn headers(format: &ExportFormat, filename: &str) -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(format.media_type)),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
        ),
    ]
}

/// The record an export or a machine-readable page of one record is
/// about: 404 for an unknown or unpublished id, 410 for a withdrawn one.
pub async fn public_record(state: &AppState, id: RecordId) -> Result<Record, Problem> {
    let record = state.repo.store.get_record(id).await?.ok_or_else(no_such_record)?;
    match visibility(&record) {
        Visibility::Public => Ok(record),
        Visibility::Hidden => Err(no_such_record()),
        Visibility::Withdrawn => Err(Problem::new(
            StatusCode::GONE,
            "Withdrawn",
            format!(
                "This item has been withdrawn and is no longer exported. Its tombstone page, {}, says why.",
                crate::present::record_path(id)
            ),
        )),
    }
}

/// `/{id}/export/{format}`.
pub async fn one(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Path((raw_id, format_id)) = path.map_err(|_| no_such_record())?;
    let format = format(&format_id)?;
    let record = public_record(&state, parse_id(&raw_id).ok_or_else(no_such_record)?).await?;
    let ctx = state.repo.export_context();
    let mut body = Vec::new();
    export::write_all(format, &ctx, [&record], &mut body)?;
    let name = file_name(&state, &record.id.unwrap_or(0).to_string(), format);
    Ok((headers(format, &name), body).into_response())
}

/// Where the next page of a list export comes from.
enum Source {
    Search { params: Params, cursor: Option<String>, sent: usize, done: bool },
    Browse { view: BrowseView, value: String, after: Option<BrowseCursor>, done: bool },
}

impl Source {
    /// The next page of records, or `None` at the end.
    async fn next_page(&mut self, state: &AppState) -> Result<Option<Vec<Record>>, Problem> {
        match self {
            Source::Search { params, cursor, sent, done } => {
                if *done || *sent >= MAX_SEARCH_EXPORT {
                    return Ok(None);
                }
                let mut req = params.request();
                req.cursor = cursor.take();
                req.page_size = PAGE;
                let Some(results) = search::run(state, req).await? else { return Ok(None) };
                let found = search::records(state, &results).await?;
                // In the search's order; a record withdrawn since it was
                // indexed is left out.
                let mut page: Vec<Record> = results.hits.iter().filter_map(|h| found.get(&h.id).cloned()).collect();
                page.truncate(MAX_SEARCH_EXPORT - *sent);
                *sent += page.len();
                *cursor = results.next_cursor.clone();
                *done = cursor.is_none();
                Ok(if results.hits.is_empty() { None } else { Some(page) })
            }
            Source::Browse { view, value, after, done } => {
                if *done {
                    return Ok(None);
                }
                let page = state.repo.store.browse_page(*view, value, after.as_ref(), PAGE as i64).await?;
                *done = page.next.is_none();
                *after = page.next;
                Ok(if page.records.is_empty() { None } else { Some(page.records) })
            }
        }
    }
}

/// The answer to a list export with no record in a format that has no
/// empty list form (MODS): a page saying so, instead of a document the
/// format's schema refuses.
pub fn nothing_to_export(format: &ExportFormat, what: &str) -> Problem {
    Problem::not_found(format!(
        "Nothing to export: {what}, and a {} file must hold at least one record. The other formats export an empty list.",
        format.label
    ))
}

/// For a format whose list cannot be empty ([`ExportFormat::list_may_be_empty`]),
/// the first records of `source`, read before any byte is sent so that no
/// record at all can still be answered with [`nothing_to_export`]. Other
/// formats start streaming at once (`None`).
async fn first_records(
    state: &AppState,
    source: &mut Source,
    format: &ExportFormat,
    what: &str,
) -> Result<Option<Vec<Record>>, Problem> {
    if format.list_may_be_empty {
        return Ok(None);
    }
    // A page can be empty (a search's hits all withdrawn since they were
    // indexed): read on until a record or the end.
    loop {
        match source.next_page(state).await? {
            Some(page) if page.is_empty() => continue,
            Some(page) => return Ok(Some(page)),
            None => return Err(nothing_to_export(format, what)),
        }
    }
}

/// Streams `source` through a fresh writer of `format`, `first` (records
/// already read from it) first.
fn stream(
    state: AppState,
    source: Source,
    first: Option<Vec<Record>>,
    format: &'static ExportFormat,
    ctx: ExportContext,
) -> Body {
    struct Run {
        state: AppState,
        source: Source,
        first: Option<Vec<Record>>,
        writer: Box<dyn ExportWriter>,
        stage: u8, // 0: begin, 1: pages, 2: end written
    }
    let run = Run { state, source, first, writer: (format.writer)(&ctx), stage: 0 };
    let chunks = futures::stream::unfold(run, |mut run| async move {
        let mut out = Vec::new();
        let result = match run.stage {
            0 => {
                run.stage = 1;
                run.writer.begin(&mut out)
            }
            1 => {
                let page = match run.first.take() {
                    Some(records) => Ok(Some(records)),
                    None => run.source.next_page(&run.state).await,
                };
                match page {
                    Ok(Some(records)) => records.iter().try_for_each(|r| run.writer.record(r, &mut out)),
                    Ok(None) => {
                        run.stage = 2;
                        run.writer.end(&mut out)
                    }
                    Err(p) => {
                        run.stage = 3;
                        Err(std::io::Error::other(p.message))
                    }
                }
            }
            _ => return None,
        };
        Some((result.map(|()| Bytes::from(out)), run))
    });
    Body::from_stream(chunks)
}

/// `/search/export/{format}?q=...`: the results of a search, in the order
/// the search ranks them.
pub async fn search(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let Path(format_id) = path.map_err(|_| unknown_format(""))?;
    let format = format(&format_id)?;
    if state.search.is_none() {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Search unavailable",
            "Search is not available at the moment. Please try again later.",
        ));
    }
    let params = Params::read(&pairs(query));
    let ctx = state.repo.export_context();
    let name = file_name(&state, "search", format);
    let mut source = Source::Search { params, cursor: None, sent: 0, done: false };
    let first = first_records(&state, &mut source, format, "this search finds no records").await?;
    Ok((headers(format, &name), stream(state, source, first, format, ctx)).into_response())
}

/// `/view/{view}/{value}/export/{format}`: the records listed under a value
/// of a browse view, in the view's order.
pub async fn browse(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let nothing = || Problem::not_found("Nothing is listed under this value. The view's page lists every value.");
    let Path((view, value, format_id)) = path.map_err(|_| nothing())?;
    let format = format(&format_id)?;
    let view = BrowseView::parse(&view).ok_or_else(nothing)?;
    let value = value.strip_suffix(".html").unwrap_or(&value).to_string();
    if value.is_empty() || value.len() > 1000 {
        return Err(nothing());
    }
    if state.repo.store.browse_count(view, &value).await? == 0 {
        return Err(nothing());
    }
    let ctx = state.repo.export_context();
    let name = file_name(&state, &format!("{}-{}", view.as_str(), slug(&value)), format);
    let mut source = Source::Browse { view, value, after: None, done: false };
    // The count said there were records; they may have gone since.
    let first = first_records(&state, &mut source, format, "nothing is listed under this value").await?;
    Ok((headers(format, &name), stream(state, source, first, format, ctx)).into_response())
}

/// The unAPI identifier of a record, as the abstract page states it.
pub fn unapi_id(ctx: &ExportContext, record: &Record) -> String {
    ctx.oai_identifier(record)
}

#[derive(serde::Deserialize, Default)]
pub struct UnapiQuery {
    id: Option<String>,
    format: Option<String>,
}

/// `/unapi`: the formats (for all records, or for one with `?id=`), or
/// with `?id=&format=` a redirect to the export. See unAPI 1.0.
pub async fn unapi(
    State(state): State<AppState>,
    query: Result<Query<UnapiQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.unwrap_or_default();
    let xml = |status: StatusCode, id: Option<&str>| {
        let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        match id {
            Some(id) => body.push_str(&format!("<formats id=\"{}\">\n", arkiv_formats::escape_markup(id))),
            None => body.push_str("<formats>\n"),
        }
        for f in unapi_formats() {
            let ty = f.media_type.split(';').next().unwrap_or(f.media_type).trim();
            body.push_str(&format!("  <format name=\"{}\" type=\"{ty}\"/>\n", f.id));
        }
        body.push_str("</formats>\n");
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"))], body)
            .into_response()
    };
    let Some(id) = q.id.filter(|i| !i.trim().is_empty()) else { return Ok(xml(StatusCode::OK, None)) };
    let record_id = record_of_unapi_id(&state, &id).ok_or_else(no_such_record)?;
    let record = public_record(&state, record_id).await?;
    match q.format.filter(|f| !f.trim().is_empty()) {
        None => Ok(xml(StatusCode::MULTIPLE_CHOICES, Some(&unapi_id(&state.repo.export_context(), &record)))),
        Some(f) => {
            let format = format(&f)?;
            let location = format!("/{record_id}/export/{}", format.id);
            Ok((StatusCode::FOUND, [(header::LOCATION, HeaderValue::from_str(&location)?)]).into_response())
        }
    }
}

/// The formats unAPI offers, best first: RIS, then every format but MODS
/// and MARCXML.
///
/// A reference manager's unAPI reader does not take the first format
/// offered but the one it ranks highest: Zotero's unAPI.js ranks MARC and
/// MARCXML, then MODS, above RIS (`RECOGNIZABLE_FORMATS`), and its unAPI
/// reader outranks the page's own `citation_*` tags. Its MARC reader makes
/// every report a book with a year, and its MODS reader drops a report's
/// number, where its RIS reader keeps type, number, series, full date,
/// roles and the PDF (docs/reference-managers.md walks through each). So
/// the two XML formats stay on the export menu and in OAI-PMH, where
/// catalogues read them, but unAPI does not offer them.
pub fn unapi_formats() -> impl Iterator<Item = &'static ExportFormat> {
    let ris = export::FORMATS.iter().filter(|f| f.id == "ris");
    ris.chain(export::FORMATS.iter().filter(|f| !matches!(f.id, "ris" | "mods" | "marcxml")))
}

/// The record id in an unAPI identifier: `oai:HOST:ID` as we state it, or
/// a bare id.
fn record_of_unapi_id(state: &AppState, id: &str) -> Option<RecordId> {
    let prefix = format!("oai:{}:", state.repo.export_context().oai_host);
    parse_id(id.strip_prefix(&prefix).unwrap_or(id))
}

/// The feeds and exports of a search, as its results page links them.
#[derive(serde::Serialize)]
pub struct SearchLinks {
    pub atom: String,
    pub rss: String,
    pub exports: Vec<crate::pages::landing::ExportLink>,
    pub max: usize,
}

pub fn search_links(p: &Params) -> SearchLinks {
    let mut first = p.clone();
    first.cursor = None;
    first.size = 0;
    SearchLinks {
        atom: first.url("/search/feed/atom", &first.filters, None),
        rss: first.url("/search/feed/rss", &first.filters, None),
        exports: export::FORMATS
            .iter()
            .map(|f| crate::pages::landing::ExportLink {
                url: first.url(&format!("/search/export/{}", f.id), &first.filters, None),
                label: f.label,
                media_type: f.media_type.split(';').next().unwrap_or(f.media_type).trim(),
            })
            .collect(),
        max: MAX_SEARCH_EXPORT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("Arkiv Demo Repository"), "arkiv-demo-repository");
        assert_eq!(slug("Jaroslewicz, Aleksandra"), "jaroslewicz-aleksandra");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("—"), "arkiv");
        assert!(slug(&"x".repeat(100)).len() <= 40);
    }
}
