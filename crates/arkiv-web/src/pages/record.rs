//! The abstract page of a record (`/{id}/`, and `/id/eprint/{id}/` as
//! EPrints addresses it) and the tombstone of a withdrawn one.
//!
//! One store read per page: the record itself. Labels come from the item
//! types and the subject tree the repository holds in memory. A record in
//! a workarea or under review answers 404, exactly like an id that was
//! never used, so the site does not reveal what is being prepared.

use arkiv_services::access::{restriction, visibility, Restriction, Visibility};
use crate::http::{http_date, moved, Problem};
use crate::auth::Viewer;
use crate::pages::{landing, no_such_record, parse_id, RecordPath};
use crate::present::{
    cite, date_label, day_label, doi_link, download_path, format_label, human_size, record_path, safe_link, timestamp_label,
    value_path, CiteView,
};
use crate::AppState;
use arkiv_model::{BrowseView, Record, RecordId};
use axum::extract::rejection::PathRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use crate::page_cache::style_key;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

/// A record's abstract page at its own address and at EPrints'.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/id/eprint/{id}", get(eprint_redirect))
        .route("/id/eprint/{id}/", get(abstract_page))
        .route("/{id}", get(add_slash))
        .route("/{id}/", get(abstract_page))
}

/// `/{id}` → `/{id}/`, the record's one address.
pub async fn add_slash(RecordPath(id): RecordPath) -> Response {
    moved(&record_path(id))
}

/// `/id/eprint/{id}` → `/{id}/`.
pub async fn eprint_redirect(id: RecordPath) -> Response {
    add_slash(id).await
}

/// The abstract page. A visitor who is not logged in gets it from the page
/// cache when nothing it shows has changed (`page_cache.rs`).
pub async fn abstract_page(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    request_headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<std::collections::HashMap<String, String>>, QueryRejection>,
) -> Result<Response, Problem> {
    let style = query.ok().and_then(|Query(q)| q.get("style").cloned());
    let Path(raw) = path.map_err(|_| no_such_record())?;
    let id = parse_id(&raw).ok_or_else(no_such_record)?;
    if raw != id.to_string() {
        // `/007/` is `/7/`: one address per record.
        return Ok(moved(&record_path(id)));
    }
    let if_none_match = request_headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let cache_style = if viewer.is_none() { style_key(style.as_deref()) } else { None };
    let miss = match cache_style {
        Some(cache_style) => match state.pages.lookup(&state.repo, id, cache_style).await? {
            Ok(page) => return Ok(page.response(if_none_match)),
            Err(miss) => Some((miss, cache_style)),
        },
        None => None,
    };
    let user = viewer.map(|s| s.user);
    let res = render_abstract_page(&state, user.as_ref(), id, style.as_deref()).await?;
    Ok(match miss {
        Some((miss, cache_style)) => state.pages.insert(&state.repo, miss, (id, cache_style), res, if_none_match).await,
        None => res,
    })
}

/// The abstract page (or tombstone) as rendered for this visitor.
async fn render_abstract_page(
    state: &AppState,
    user: Option<&arkiv_model::User>,
    id: RecordId,
    style: Option<&str>,
) -> Result<Response, Problem> {
    let (record, revision) =
        state.repo.store.get_record_with_revision(id).await?.ok_or_else(no_such_record)?;
    let mut res = match visibility(&record) {
        Visibility::Hidden => {
            // Its depositor and the editors in scope work on it at its
            // deposit page; to everyone else it does not exist.
            if arkiv_services::workflow::may(user, arkiv_services::workflow::Action::View, Some(&record)) {
                return Ok(crate::pages::deposit::see_other(&format!("/deposit/{id}")));
            }
            return Err(no_such_record());
        }
        Visibility::Withdrawn => state.page(StatusCode::GONE, "tombstone.html", tombstone(state, &record, revision))?,
        Visibility::Public => {
            let versions = versions(state, &record).await?;
            let mut ctx = abstract_ctx(state, &record, revision, style);
            ctx.rows.extend(versions);
            let mut res = state.page(StatusCode::OK, "record.html", ctx)?;
            let signposts = landing::signposts(&state.repo.export_context(), &record);
            if let Some(links) = landing::link_header(&signposts) {
                res.headers_mut().insert(header::LINK, links);
            }
            res
        }
    };
    if let Some(t) = record.lastmod {
        res.headers_mut().insert(header::LAST_MODIFIED, http_date(t.0));
    }
    Ok(res)
}

/// The rows linking a record to its other versions: the one it succeeds
/// and the live ones that succeed it (an index seek; two reads at most).
async fn versions(state: &AppState, record: &Record) -> Result<Vec<Row>, Problem> {
    let id = record.id.unwrap_or(0);
    let later = state.repo.store.later_versions(id).await?;
    let earlier: Vec<RecordId> = record.succeeds.filter(|&e| e > 0 && e != id).into_iter().collect();
    if later.is_empty() && earlier.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<RecordId> = earlier.iter().chain(&later).copied().collect();
    let found = state.repo.store.get_records(&wanted).await?;
    let item = |r: &Record| {
        let year = r.year().map(|y| format!(" ({y})")).unwrap_or_default();
        Item { text: format!("{}{year}", r.title), url: r.id.map(record_path) }
    };
    let shown = |ids: &[RecordId]| -> Vec<Item> {
        found.iter().filter(|r| r.id.is_some_and(|i| ids.contains(&i)) && r.is_live()).map(item).collect()
    };
    let mut rows = Vec::new();
    for (label, items) in [("Earlier Version", shown(&earlier)), ("Later Versions", shown(&later))] {
        if !items.is_empty() {
            rows.push(Row { label, items });
        }
    }
    Ok(rows)
}

/// One entry of a metadata row: text, linked where there is somewhere to go.
#[derive(Serialize)]
struct Item {
    text: String,
    url: Option<String>,
}

#[derive(Serialize)]
struct Row {
    label: &'static str,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct FileView {
    filename: String,
    url: Option<String>,
    size: String,
}

#[derive(Serialize)]
struct DocView {
    pos: u32,
    format: String,
    /// A short tag for the file icon: "PDF", "DOCX", or "FILE".
    badge: String,
    content: Option<String>,
    language: Option<String>,
    license: Option<Item>,
    /// Why the bytes cannot be had, in words; `None` if they can.
    restriction: Option<String>,
    /// Where to ask the depositor for a copy, for restricted documents.
    copy_url: Option<String>,
    main: Option<FileView>,
    others: Vec<FileView>,
}

#[derive(Serialize)]
struct AbstractPage {
    nav: &'static str,
    cite: CiteView,
    type_label: String,
    uri: String,
    documents: Vec<DocView>,
    abstract_paragraphs: Vec<String>,
    rows: Vec<Row>,
    /// What machines read: meta tags, JSON-LD, exports, COinS, the Cite box.
    landing: landing::Landing,
    login_url: String,
    actions: crate::pages::account::RecordActions,
}

fn abstract_ctx(state: &AppState, record: &Record, revision: i64, style: Option<&str>) -> AbstractPage {
    let repo = &state.repo;
    let id = record.id.unwrap_or(0);
    let today = arkiv_model::PartialDate::today();
    let documents: Vec<DocView> = record.documents.iter().map(|d| doc_view(id, d, today)).collect();
    AbstractPage {
        nav: "",
        cite: cite(repo, record),
        type_label: repo.types.label(&record.item_type).to_string(),
        uri: repo.record_url(record),
        documents,
        abstract_paragraphs: paragraphs(record.abstract_text.as_deref().unwrap_or("")),
        rows: rows(state, record),
        landing: landing::landing(state, record, revision, style),
        login_url: format!("/login?target={}", crate::present::query_value(&record_path(id))),
        actions: crate::pages::account::record_actions(record, revision),
    }
}

/// Paragraphs of an abstract: split at blank lines, inner line breaks
/// folded into spaces (imports often wrap lines at 72 columns).
fn paragraphs(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn doc_view(id: i64, doc: &arkiv_model::Document, today: arkiv_model::PartialDate) -> DocView {
    let restricted = restriction(doc, today);
    let restriction_text = match restricted {
        None => None,
        Some(Restriction::Security(security)) => Some(format!("Restricted: {}", security.label().to_lowercase())),
        Some(Restriction::Embargo(until)) => Some(format!("Embargoed until {}", date_label(until))),
    };
    let file_view = |f: &arkiv_model::StoredFile| FileView {
        filename: f.filename.clone(),
        url: (restricted.is_none() && f.sha256.is_some()).then(|| download_path(id, doc.pos, &f.filename)),
        size: human_size(f.size),
    };
    let main = doc.main_file();
    let main_name = main.map(|f| f.filename.as_str());
    let format = format_label(doc);
    DocView {
        pos: doc.pos,
        badge: badge(&format, main_name.unwrap_or("")),
        format,
        content: doc.content.as_deref().map(content_label),
        language: doc.language.clone(),
        license: doc.license.as_deref().filter(|l| !l.trim().is_empty()).map(license_item),
        copy_url: restricted.is_some().then(|| format!("/copy-request/{id}/{}", doc.pos)),
        restriction: restriction_text
            .or_else(|| main.filter(|f| f.sha256.is_none()).map(|_| "File not held by the repository".to_string())),
        main: main.map(file_view),
        others: doc.files.iter().filter(|f| Some(f.filename.as_str()) != main_name).map(file_view).collect(),
    }
}

/// The icon's tag: a short format name, else the file's extension.
fn badge(format: &str, filename: &str) -> String {
    let ext = filename.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let pick = if format.len() <= 4 && format.is_ascii() { format } else { ext };
    if pick.is_empty() || pick.len() > 4 || !pick.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "FILE".into()
    } else {
        pick.to_ascii_uppercase()
    }
}

/// EPrints' content roles, as readers know them.
fn content_label(c: &str) -> String {
    match c {
        "published" => "Published Version".into(),
        "accepted" => "Accepted Version".into(),
        "submitted" => "Submitted Version".into(),
        "supplemental" => "Supplemental Material".into(),
        "cover" => "Cover Image".into(),
        other => other.to_string(),
    }
}

/// A licence as text, linked when it is a URL or a Creative Commons id,
/// either SPDX's (`CC-BY-4.0`) or EPrints' (`cc_by`, `cc_by_nc_4`).
fn license_item(l: &str) -> Item {
    let l = l.trim();
    if let Some(url) = safe_link(l) {
        return Item { text: l.to_string(), url: Some(url) };
    }
    let lower = l.to_ascii_lowercase();
    if lower == "cc0-1.0" || lower == "cc_public_domain" || lower == "cc0" {
        return Item {
            text: "Creative Commons Public Domain Dedication (CC0)".into(),
            url: Some("https://creativecommons.org/publicdomain/zero/1.0/".into()),
        };
    }
    // SPDX: cc-by-nc-4.0.
    if let Some((kind, version)) = lower.strip_prefix("cc-").and_then(|rest| rest.rsplit_once('-')) {
        if cc_name(kind).is_some() && !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Item { text: l.to_string(), url: Some(format!("https://creativecommons.org/licenses/{kind}/{version}/")) };
        }
    }
    // EPrints: cc_by_nc, optionally with a major version (cc_by_nc_4).
    if let Some(rest) = lower.strip_prefix("cc_") {
        let (kind, version) = match rest.rsplit_once('_') {
            Some((k, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => (k.replace('_', "-"), Some(format!("{v}.0"))),
            _ => (rest.replace('_', "-"), None),
        };
        if let Some(name) = cc_name(&kind) {
            return match version {
                Some(v) => Item {
                    text: format!("Creative Commons {name} {v}"),
                    url: Some(format!("https://creativecommons.org/licenses/{kind}/{v}/")),
                },
                None => Item { text: format!("Creative Commons {name}"), url: None },
            };
        }
    }
    Item { text: l.to_string(), url: None }
}

fn cc_name(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "by" => "Attribution",
        "by-sa" => "Attribution-ShareAlike",
        "by-nd" => "Attribution-NoDerivatives",
        "by-nc" => "Attribution-NonCommercial",
        "by-nc-sa" => "Attribution-NonCommercial-ShareAlike",
        "by-nc-nd" => "Attribution-NonCommercial-NoDerivatives",
        _ => return None,
    })
}

fn text(s: impl Into<String>) -> Item {
    Item { text: s.into(), url: None }
}

fn rows(state: &AppState, r: &Record) -> Vec<Row> {
    let repo = &state.repo;
    let subjects = repo.subjects();
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut rows = Vec::new();
    let mut add = |label: &'static str, items: Vec<Item>| {
        if !items.is_empty() {
            rows.push(Row { label, items });
        }
    };
    add(
        "Item Type",
        vec![Item {
            text: repo.types.label(&r.item_type).to_string(),
            url: Some(value_path(BrowseView::Type, &r.item_type)),
        }],
    );
    add(
        "Creators",
        r.creators
            .iter()
            .map(|c| {
                let name = c.name.inverted();
                Item { url: Some(value_path(BrowseView::Creator, &name)), text: name }
            })
            .collect(),
    );
    add("Corporate Creators", r.corp_creators.iter().map(|c| text(c.name.clone())).collect());
    add("Editors", r.editors.iter().map(|c| text(c.name.inverted())).collect());
    add(
        "Subjects",
        r.subjects
            .iter()
            .map(|s| Item { text: subjects.path_label(s), url: Some(value_path(BrowseView::Subject, s)) })
            .collect(),
    );
    add(
        "Series",
        nonempty(&r.series).map(|s| Item { url: Some(value_path(BrowseView::Series, &s)), text: s }).into_iter().collect(),
    );
    add("Number", nonempty(&r.number).map(text).into_iter().collect());
    add("Date", r.date.map(|d| text(date_label(d))).into_iter().collect());
    add("Publisher", nonempty(&r.publisher).map(text).into_iter().collect());
    add("Institution", nonempty(&r.institution).map(text).into_iter().collect());
    add("Place of Publication", nonempty(&r.place_of_pub).map(text).into_iter().collect());
    add("Publication", nonempty(&r.publication).map(text).into_iter().collect());
    add("Pages", nonempty(&r.pages).map(text).into_iter().collect());
    let keywords: Vec<&str> = r.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    add("Keywords", if keywords.is_empty() { vec![] } else { vec![text(keywords.join(", "))] });
    add(
        "DOI",
        nonempty(&r.doi).map(|d| Item { url: doi_link(&d), text: d }).into_iter().collect(),
    );
    add(
        "Official URL",
        nonempty(&r.official_url).map(|u| Item { url: safe_link(&u), text: u }).into_iter().collect(),
    );
    add("ISBN", nonempty(&r.isbn).map(text).into_iter().collect());
    add("ISSN", nonempty(&r.issn).map(text).into_iter().collect());
    add(
        "Related URLs",
        r.related
            .iter()
            .filter(|l| !l.url.trim().is_empty())
            .map(|l| Item {
                text: l.description.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| l.url.clone()),
                url: safe_link(&l.url),
            })
            .collect(),
    );
    add("Licence", nonempty(&r.license).map(|l| license_item(&l)).into_iter().collect());
    let dash = || text("—");
    add("Depositing User", vec![r.userid.map(|u| text(u.to_string())).unwrap_or_else(dash)]);
    add("Date Deposited", vec![r.datestamp.map(|t| text(timestamp_label(t))).unwrap_or_else(dash)]);
    add("Last Modified", vec![r.lastmod.map(|t| text(timestamp_label(t))).unwrap_or_else(dash)]);
    let uri = repo.record_url(r);
    add("URI", vec![Item { text: uri.clone(), url: safe_link(&uri) }]);
    rows
}

#[derive(Serialize)]
struct Tombstone {
    nav: &'static str,
    actions: crate::pages::account::RecordActions,
    cite: CiteView,
    reason: Option<String>,
    replaced_by: Option<String>,
    withdrawn: Option<String>,
}

fn tombstone(state: &AppState, record: &Record, revision: i64) -> Tombstone {
    Tombstone {
        actions: crate::pages::account::record_actions(record, revision),
        nav: "",
        cite: cite(&state.repo, record),
        reason: record.withdrawn_reason.clone().filter(|r| !r.trim().is_empty()),
        replaced_by: record.replaced_by.filter(|&id| id > 0).map(record_path),
        withdrawn: record.lastmod.map(day_label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstracts_keep_paragraphs_and_fold_lines() {
        assert_eq!(paragraphs("One\ntwo.\r\n\r\nThree.\n\n\n"), vec!["One two.", "Three."]);
        assert!(paragraphs("  ").is_empty());
    }

    #[test]
    fn creative_commons_ids_link_to_their_deeds() {
        assert_eq!(license_item("CC-BY-4.0").url.as_deref(), Some("https://creativecommons.org/licenses/by/4.0/"));
        assert_eq!(license_item("cc-by-nc-nd-3.0").url.as_deref(), Some("https://creativecommons.org/licenses/by-nc-nd/3.0/"));
        assert_eq!(license_item("all rights reserved").url, None);
        assert_eq!(license_item("cc_by").text, "Creative Commons Attribution");
        assert_eq!(license_item("cc_by_nc_4").url.as_deref(), Some("https://creativecommons.org/licenses/by-nc/4.0/"));
        assert_eq!(license_item("cc_public_domain").url.as_deref(), Some("https://creativecommons.org/publicdomain/zero/1.0/"));
        assert_eq!(license_item("javascript:x").url, None);
    }
}
