//! EPrints' addresses. A repository that moves from EPrints 3.4 keeps every
//! link Google Scholar, Wikipedia, library catalogues and old e-mails hold:
//! each address EPrints served answers here with a permanent redirect
//! (301) to the Arkiv page, file or export that serves the same thing, or
//! with a page saying what exists instead. Lookups only: no address here
//! renders anything itself, so each costs a parse and at most one record
//! read (an EPrints document or file id costs one more, an index lookup).
//!
//! The list, with the EPrints source each entry comes from, is the table of
//! `crates/arkiv-web/tests/eprints_urls.rs`. What EPrints writes into its
//! paths (view values, plugin ids, relation tails, serialised searches) is
//! read by `arkiv_formats::eprints::paths`. Addresses Arkiv already shared
//! with EPrints (`/N/`, `/id/eprint/N/`, `/N/P/FILE`, `/cgi/oai2`,
//! `/view/year/YYYY.html`) are served where they always were.

use crate::http::{moved, Problem};
use crate::pages::search::{advanced_query, pairs};
use crate::pages::{no_such_record, parse_id};
use crate::present::{query_value, record_path, segment, value_path};
use crate::AppState;
use arkiv_formats::eprints::paths::{
    export_plugin, relation_tail, search_terms, unescape_filename, view_name, EXPORT_PLUGINS,
};
use arkiv_model::{BrowseView, Document, Record, RecordId};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        // Documents (perl_lib/EPrints/Apache/Rewrite.pm, CRUD.pm).
        .route("/id/eprint/{id}/{pos}/{*file}", get(long_document))
        .route("/id/eprint/{id}/index.html", get(long_abstract))
        .route("/id/eprint/{id}/{pos}", get(document_or_contents))
        .route("/id/document/{docid}", get(document_by_id))
        .route("/id/file/{fileid}", get(file_by_id))
        // Exports (cgi/export, cgi/exportview, cgi/export_redirect).
        .route("/cgi/export/eprint/{id}/{format}/{name}", get(export_one))
        .route("/cgi/export/{id}/{format}/{name}", get(export_one))
        .route("/cgi/export/{id}", get(export_list))
        .route("/cgi/exportview/{view}/{*rest}", get(export_view))
        .route("/cgi/export_redirect", get(export_redirect))
        // Search and lists (cgi/search, cgi/latest, cgi/latest_tool, ...).
        .route("/cgi/search", get(search))
        .route("/cgi/search/{*rest}", get(search))
        .route("/cgi/latest", get(latest))
        .route("/cgi/latest_tool", get(latest_tool))
        .route("/cgi/opensearchdescription", get(|| async { moved("/opensearch.xml") }))
        .route("/cgi/users/home", get(|| async { moved("/workarea") }))
        .route("/cgi/users/login", get(login))
        .route("/cgi/register", get(|| async { moved("/register") }))
        .route("/cgi/reset_password", get(|| async { moved("/password/forgot") }))
        .route("/cgi/request_doc", get(request_doc))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn no_such_document() -> Problem {
    Problem::not_found("This item has no such document. The item's page lists the files it has.")
}

async fn live_record(state: &AppState, id: RecordId) -> Result<Record, Problem> {
    state.repo.store.get_record(id).await?.ok_or_else(no_such_record)
}

/// The address of a document's main file.
fn document_path(id: RecordId, doc: &Document) -> Option<String> {
    let file = doc.main_file()?;
    Some(format!("/{id}/{}/{}", doc.pos, segment(&file.filename)))
}

/// The document a relation tail names: the one derived from the document
/// at `pos` with each kind in turn (a thumbnail of a PDF). EPrints serves
/// that document's main file whatever file name the address gives.
pub fn derived_document<'r>(record: &'r Record, pos: u32, kinds: &[String]) -> Option<&'r Document> {
    let mut current = record.document(pos)?;
    for kind in kinds {
        current = record
            .documents
            .iter()
            .filter(|d| d.derived.as_ref().is_some_and(|of| of.of == current.pos && of.kind.eq_ignore_ascii_case(kind)))
            .min_by_key(|d| d.eprints_docid.unwrap_or(i64::MAX))?;
    }
    Some(current)
}

/// Where a document segment (`1`, or `1.hassmallThumbnailVersion`) and a
/// file name of record `id` are served in Arkiv.
pub(crate) async fn document_target(state: &AppState, id: RecordId, pos: &str, file: &str) -> Result<String, Problem> {
    if let Some(p) = parse_id(pos).and_then(|p| u32::try_from(p).ok()) {
        return Ok(format!("/{id}/{p}/{}", segment(file)));
    }
    let (pos, kinds) = relation_tail(pos).ok_or_else(no_such_document)?;
    let record = live_record(state, id).await?;
    let doc = derived_document(&record, pos, &kinds).ok_or_else(no_such_document)?;
    document_path(id, doc).ok_or_else(no_such_document)
}

/// `/id/eprint/N/P/FILE` (EPrints 3.4's long address format, the pub
/// flavour's default) and `/id/eprint/N/P.hasXVersion/FILE`.
async fn long_document(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Path((id, pos, file)) = path.map_err(|_| no_such_document())?;
    let id = parse_id(&id).ok_or_else(no_such_record)?;
    Ok(moved(&document_target(&state, id, &pos, &file).await?))
}

/// `/id/eprint/N/P` (no file name: EPrints sends it on to the document)
/// and `/id/eprint/N/contents` (EPrints' CRUD address of a record's
/// documents: the one document, or the item's page when there are more).
async fn document_or_contents(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Path((id, pos)) = path.map_err(|_| no_such_document())?;
    let id = parse_id(&id).ok_or_else(no_such_record)?;
    let record = live_record(&state, id).await?;
    let doc = if pos == "contents" {
        let mut deposited = record.documents.iter().filter(|d| d.is_deposited());
        match (deposited.next(), deposited.next()) {
            (Some(only), None) => only,
            _ => return Ok(moved(&record_path(id))),
        }
    } else {
        let pos = parse_id(&pos).and_then(|p| u32::try_from(p).ok()).ok_or_else(no_such_document)?;
        record.document(pos).ok_or_else(no_such_document)?
    };
    Ok(moved(&document_path(id, doc).ok_or_else(no_such_document)?))
}

/// `GET /id/eprint/N/contents`, routed with SWORD's other methods on the
/// EM-IRI (`sword.rs`).
pub(crate) async fn contents(state: State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    document_or_contents(state, Ok(Path((id, "contents".to_string())))).await
}

/// `/id/eprint/N/index.html`: the abstract page.
async fn long_abstract(path: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let Path(id) = path.map_err(|_| no_such_record())?;
    Ok(moved(&record_path(parse_id(&id).ok_or_else(no_such_record)?)))
}

/// The record holding the document or file EPrints knew by `raw` (its
/// digits only), read.
async fn by_eprints_id(state: &AppState, kind: &str, raw: &str) -> Result<(Record, i64), Problem> {
    let eprints_id = parse_id(raw).ok_or_else(no_such_document)?;
    let id = state.repo.store.eprints_id_record(kind, eprints_id).await?.ok_or_else(no_such_document)?;
    Ok((live_record(state, id).await?, eprints_id))
}

/// The record holding the document EPrints knew as `docid`, and that
/// document's position in it.
async fn eprints_document(state: &AppState, docid: &str) -> Result<(Record, u32), Problem> {
    let (record, docid) = by_eprints_id(state, "document", docid).await?;
    let pos = record.documents.iter().find(|d| d.eprints_docid == Some(docid)).ok_or_else(no_such_document)?.pos;
    Ok((record, pos))
}

/// `/id/document/D` (and `/id/document/D.hasXVersion`): the document's
/// main file, found by the id EPrints gave the document.
async fn document_by_id(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let Path(raw) = path.map_err(|_| no_such_document())?;
    let (docid, tail) = raw.split_once('.').map_or((raw.as_str(), None), |(d, t)| (d, Some(t)));
    let (record, pos) = eprints_document(&state, docid).await?;
    let doc = match tail {
        Some(tail) => {
            let (_, kinds) = relation_tail(&format!("{pos}.{tail}")).ok_or_else(no_such_document)?;
            derived_document(&record, pos, &kinds)
        }
        None => record.document(pos),
    }
    .ok_or_else(no_such_document)?;
    Ok(moved(&document_path(record.id.unwrap_or(0), doc).ok_or_else(no_such_document)?))
}

/// `/id/file/F`: the file, found by the id EPrints gave it.
async fn file_by_id(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let Path(raw) = path.map_err(|_| no_such_document())?;
    let (record, fileid) = by_eprints_id(&state, "file", &raw).await?;
    let (pos, file) = record.files().find(|(_, f)| f.eprints_fileid == Some(fileid)).ok_or_else(no_such_document)?;
    Ok(moved(&format!("/{}/{pos}/{}", record.id.unwrap_or(0), segment(&file.filename))))
}

/// The Arkiv format of an EPrints export plugin id, or a 404 naming those
/// Arkiv has.
fn arkiv_format(plugin: &str) -> Result<&'static str, Problem> {
    export_plugin(plugin).ok_or_else(|| {
        let shown: String = plugin.chars().take(40).collect();
        Problem::not_found(format!(
            "There is no export called \u{201c}{shown}\u{201d} here. The EPrints exports this repository serves are: {}; \
             every format Arkiv has is listed on each item's page.",
            EXPORT_PLUGINS.join(", ")
        ))
    })
}

/// `/cgi/export/eprint/N/FORMAT/NAME` (and EPrints 3.0's
/// `/cgi/export/N/FORMAT/NAME`): the record in that format. The last
/// segment is a file name EPrints ignores; so does Arkiv.
async fn export_one(path: Result<Path<(String, String, String)>, PathRejection>) -> Result<Response, Problem> {
    let Path((id, plugin, _name)) = path.map_err(|_| no_such_record())?;
    let id = parse_id(&id).ok_or_else(no_such_record)?;
    Ok(moved(&format!("/{id}/export/{}", arkiv_format(&plugin)?)))
}

/// `/cgi/export/N`: EPrints' page of formats for a record; the abstract
/// page lists them.
async fn export_list(path: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let Path(id) = path.map_err(|_| no_such_record())?;
    Ok(moved(&record_path(parse_id(&id).ok_or_else(no_such_record)?)))
}

/// `/cgi/export_redirect?eprintid=N&format=F`: where EPrints' export menu
/// sent its form.
async fn export_redirect(query: Params) -> Result<Response, Problem> {
    let pairs = pairs(query);
    let id = param(&pairs, "eprintid").or_else(|| param(&pairs, "dataobj")).and_then(|i| parse_id(&i));
    let id = id.ok_or_else(no_such_record)?;
    let plugin = param(&pairs, "format").unwrap_or_default();
    let plugin = plugin.strip_prefix("Export::").unwrap_or(&plugin);
    Ok(moved(&format!("/{id}/export/{}", arkiv_format(plugin)?)))
}

/// An EPrints view id and a value as its file name gives it (decoded), as
/// the Arkiv view and value. `None` for views Arkiv has no equivalent of.
pub fn view_value(view: &str, value: &str) -> Option<(BrowseView, String)> {
    let value = unescape_filename(value)?;
    Some(match view {
        "year" => (BrowseView::Year, value),
        "subjects" | "subject" => (BrowseView::Subject, value),
        "divisions" | "division" => (BrowseView::Division, value),
        "type" | "types" => (BrowseView::Type, value),
        "creators" | "creators_name" | "people" => (BrowseView::Creator, view_name(&value)?.inverted()),
        "series" => (BrowseView::Series, value),
        _ => return None,
    })
}

/// EPrints' view ids Arkiv has under another name.
pub fn view_alias(view: &str) -> Option<BrowseView> {
    match view {
        "subjects" => Some(BrowseView::Subject),
        "divisions" => Some(BrowseView::Division),
        "creators" | "people" => Some(BrowseView::Creator),
        "types" => Some(BrowseView::Type),
        _ => None,
    }
}

/// Where an EPrints view page is in Arkiv: `/view/subjects/` and its
/// `index.html`, `index.A.html` (a section of a long list); a value's
/// `VALUE.html`, `VALUE.type.html`, `VALUE.default.html`. `None` when the
/// view is not one Arkiv has.
pub fn view_page(view: &str, file: Option<&str>) -> Option<String> {
    let arkiv = BrowseView::parse(view).or_else(|| view_alias(view))?;
    let Some(file) = file else { return Some(format!("/view/{}/", arkiv.as_str())) };
    // EPrints cuts the value at the first dot: escaped values hold none.
    let stem = file.split('.').next().unwrap_or("");
    // What `escape_filename` writes, and nothing else.
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_alphanumeric() || b"_=,-".contains(&b)) {
        return None;
    }
    if stem == "index" {
        return Some(format!("/view/{}/", arkiv.as_str()));
    }
    let (view, value) = view_value(view, stem).or_else(|| Some((arkiv, unescape_filename(stem)?)))?;
    Some(value_path(view, &value))
}

/// A view of two menus (pub's `divisions`: a division, then its years):
/// `/view/divisions/sch=5Fecs/` lists the division's years in EPrints and
/// goes to the division's page here; `/view/divisions/sch=5Fecs/2014.html`
/// (and its `.type.html`, `.default.html` groupings) lists one year's
/// records and goes to the search filtered on both, which lists exactly
/// those. A second value that is not a year (`NULL`, a local second menu)
/// goes to the first value's page.
pub fn view_menu_page(view: &str, value: &str, file: Option<&str>) -> Option<String> {
    let (view, value) = view_value(view, value).or_else(|| {
        let arkiv = BrowseView::parse(view).or_else(|| view_alias(view))?;
        Some((arkiv, unescape_filename(value)?))
    })?;
    let year = file.and_then(|f| f.split('.').next()).filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()));
    let facet = match view {
        BrowseView::Subject => Some("subject"),
        BrowseView::Division => Some("division"),
        BrowseView::Type => Some("type"),
        BrowseView::Creator => Some("creator"),
        BrowseView::Series => Some("series"),
        BrowseView::Year => None,
    };
    match (year, facet) {
        (Some(year), Some(facet)) => Some(format!("/search?{facet}={}&year={year}", query_value(&value))),
        _ => Some(value_path(view, &value)),
    }
}

/// `/cgi/exportview/VIEW/VALUE[/VALUE2]/FORMAT/NAME`: a view's list in a
/// format.
async fn export_view(path: Result<Path<(String, String)>, PathRejection>) -> Result<Response, Problem> {
    let Path((view, rest)) = path.map_err(|_| Problem::not_found("There is no such view."))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let nothing = || Problem::not_found("There is no such view or value. Every view is listed at /view/.");
    let [value, .., plugin, _name] = parts.as_slice() else { return Err(nothing()) };
    let (view, value) = view_value(&view, value).ok_or_else(nothing)?;
    let format = arkiv_format(plugin)?;
    Ok(moved(&format!("/view/{}/{}/export/{format}", view.as_str(), segment(&value))))
}

/// What an EPrints search's fields ask, in Arkiv's query language: the
/// simple search's `q`, the advanced search's fields by EPrints' names.
fn query_of(fields: &[(String, String)]) -> String {
    let mut advanced = HashMap::new();
    let mut words = Vec::new();
    for (name, value) in fields {
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        // A field may be several joined by `/` (`creators_name/editors_name`).
        let first = name.split('/').next().unwrap_or("");
        match first {
            "q" => words.push(value),
            "title" => drop(advanced.insert("title".to_string(), value)),
            "creators_name" | "editors_name" | "creators" => drop(advanced.insert("creator".to_string(), value)),
            "abstract" => drop(advanced.insert("abstract".to_string(), value)),
            "keywords" | "subjects" | "divisions" => drop(advanced.insert("subject".to_string(), value)),
            "publication" | "series" => drop(advanced.insert("series".to_string(), value)),
            "type" => drop(advanced.insert("type".to_string(), value)),
            "documents" => words.push(format!("text:({value})")),
            "date" => {
                let (from, to) = value.split_once('-').unwrap_or((&value, &value));
                advanced.insert("year_from".to_string(), from.trim().to_string());
                advanced.insert("year_to".to_string(), to.trim().to_string());
            }
            _ => {}
        }
    }
    let advanced = advanced_query(&advanced);
    words.into_iter().chain((!advanced.is_empty()).then_some(advanced)).collect::<Vec<_>>().join(" ")
}

/// `/cgi/search`, `/cgi/search/simple`, `/cgi/search/advanced` (also under
/// `/cgi/search/archive/`), with EPrints' field names; and a search's
/// export, `/cgi/search/archive/simple/export_REPO_FORMAT.EXT?exp=...`.
async fn search(path: Option<Path<String>>, query: Params) -> Result<Response, Problem> {
    let pairs = pairs(query);
    let rest = path.map(|Path(r)| r).unwrap_or_default();
    let last = rest.rsplit('/').next().unwrap_or("");
    let mut fields: Vec<(String, String)> = pairs.clone();
    if let Some(exp) = param(&pairs, "exp") {
        fields.extend(search_terms(&exp));
    }
    let q = query_of(&fields);
    if let Some(export) = last.strip_prefix("export_") {
        let plugin = param(&pairs, "output").unwrap_or_else(|| {
            // `export_REPOID_FORMAT.EXT`: the format sits between the last `_` and the dot.
            export.rsplit('_').next().unwrap_or("").split('.').next().unwrap_or("").to_string()
        });
        if matches!(plugin.as_str(), "RSS2" | "RSS" | "Atom") {
            let kind = if plugin == "Atom" { "atom" } else { "rss" };
            return Ok(moved(&format!("/search/feed/{kind}?q={}", query_value(&q))));
        }
        return Ok(moved(&format!("/search/export/{}?q={}", arkiv_format(&plugin)?, query_value(&q))));
    }
    if q.is_empty() {
        let advanced = last == "advanced" || param(&pairs, "screen").is_some_and(|s| s.contains("Advanced"));
        return Ok(moved(if advanced { "/search/advanced" } else { "/search" }));
    }
    Ok(moved(&format!("/search?q={}", query_value(&q))))
}

/// `/cgi/latest`: what was added lately; the home page lists it, and the
/// feeds carry it.
async fn latest() -> Response {
    moved("/")
}

/// `/cgi/latest_tool?output=RSS2|RSS|Atom`: the feeds; without `output`,
/// the latest additions (the home page).
async fn latest_tool(query: Params) -> Response {
    let pairs = pairs(query);
    match param(&pairs, "output").as_deref() {
        Some("RSS2") | Some("RSS") => moved("/feed/rss"),
        Some("Atom") => moved("/feed/atom"),
        _ => moved("/"),
    }
}

/// `/cgi/users/login?target=...`: the login page, sending the visitor back
/// where they were if that is a path of this site.
async fn login(query: Params) -> Response {
    let pairs = pairs(query);
    match param(&pairs, "target") {
        Some(t) => moved(&format!("/login?target={}", query_value(&t))),
        None => moved("/login"),
    }
}

/// `/cgi/request_doc?docid=D` (or `?eprintid=N`): the form asking for a
/// copy of a restricted document.
async fn request_doc(State(state): State<AppState>, query: Params) -> Result<Response, Problem> {
    let pairs = pairs(query);
    if let Some(docid) = param(&pairs, "docid") {
        let (record, pos) = eprints_document(&state, &docid).await?;
        return Ok(moved(&format!("/copy-request/{}/{pos}", record.id.unwrap_or(0))));
    }
    let id = param(&pairs, "eprintid").and_then(|i| parse_id(&i)).ok_or_else(no_such_record)?;
    Ok(moved(&record_path(id)))
}
