//! The abstract page of a record (`/{id}/`, and `/id/eprint/{id}/` as
//! EPrints addresses it) and the tombstone of a withdrawn one. (A browser's
//! `/id/eprint/{id}` is sent here by `sword.rs`, which shares that address
//! with SWORD clients.)
//!
//! One store read for the record itself, and up to two more when it has
//! earlier or later versions (`versions`). Labels come from the item
//! types and the subject tree the repository holds in memory. A record in
//! a workarea or under review answers 404, exactly like an id that was
//! never used, so the site does not reveal what is being prepared.

use crate::auth::Viewer;
use crate::http::{http_date, moved, Problem};
use crate::page_cache::style_key;
use crate::pages::{landing, no_such_record, parse_id, RecordPath};
use crate::present::record::{abstract_ctx, tombstone, Item, Row};
use crate::present::record_path;
use crate::AppState;
use arkiv_model::{Record, RecordId};
use arkiv_services::access::{visibility, Visibility};
use axum::extract::rejection::PathRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;

/// A record's abstract page at its own address and at EPrints'.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/id/eprint/{id}/", get(abstract_page))
        .route("/{id}", get(add_slash))
        .route("/{id}/", get(abstract_page))
}

/// `/{id}` → `/{id}/`, the record's one address.
pub async fn add_slash(RecordPath(id): RecordPath) -> Response {
    moved(&record_path(id))
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
    let (record, revision) = state.repo.store.get_record_with_revision(id).await?.ok_or_else(no_such_record)?;
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
            // What the exports, meta tags, citation and Signposting name:
            // made once for the page.
            let export = state.repo.export_context();
            let cited = landing::stored_citation(state, &export, &record, revision, style).await;
            let mut ctx = abstract_ctx(state, &export, &record, revision, style, cited);
            ctx.rows.extend(versions);
            if state.repo.config.statistics.enabled {
                let months = state.repo.store.item_usage_by_month(id).await?;
                let this_month = arkiv_services::statistics::this_month(&state.repo);
                ctx.usage = Some(crate::present::usage::usage_view(&months, this_month));
            }
            let mut res = state.page(StatusCode::OK, "record.html", ctx)?;
            res.extensions_mut().insert(countable_view(state, &record, id));
            let signposts = landing::signposts(&export, &record);
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

/// A view of a live record's abstract page, for the statistics: an
/// Investigation (Access_Type by `arkiv_model::usage::view_is_open`).
fn countable_view(state: &AppState, record: &Record, id: RecordId) -> crate::usage::Countable {
    let open = arkiv_model::usage::view_is_open(record, state.repo.today());
    crate::usage::Countable { record_id: id, target: 0, kind: arkiv_model::usage::UsageKind::Page, open }
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
