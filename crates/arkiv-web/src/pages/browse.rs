//! Browse views: `/view/` lists them, `/view/{view}/` lists a view's values
//! with their counts, `/view/{view}/{value}.html` lists the records under a
//! value (EPrints' addresses, so `/view/year/2014.html` keeps working).
//!
//! Every list is read a page at a time with the store's keyset cursors and
//! precomputed counts, never by loading a whole view: a value holding
//! 100,000 records opens as fast as one holding ten. Only the year and type
//! views (a few dozen values) and the subject and division views (bounded
//! by their trees, which are in memory anyway) are read whole, to be sorted
//! and nested.

use crate::http::{moved, Problem};
use crate::pages::eprints_urls;
use crate::present::{cite, query_value, value_path, view_path, CiteView};
use crate::AppState;
use arkiv_model::{BrowseView, Scheme, SubjectTree};
use arkiv_storage::BrowseValue;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The browse views and the addresses that lead to them (cached for
/// anonymous visitors until any record changes: `page_cache.rs`).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/view/", get(index))
        .route("/view/{view}/", get(values))
        .route("/view/{view}/{file}", get(value_page))
        .route("/view/{view}/{value}/", get(menu_page))
        .route("/view/{view}/{value}/{file}", get(menu_page))
        .route("/view", get(to_index))
        .route("/view/{view}", get(to_values))
}

/// Records per page of a value.
pub const PAGE_SIZE: i64 = 50;
/// Values per page of a long view (creators, series).
const VALUES_PER_PAGE: i64 = 500;
/// Views read whole hold at most this many values (years, types, subjects).
const WHOLE_VIEW_LIMIT: i64 = 20_000;
/// Longest value a URL may name; stored values are at most 200 bytes.
const MAX_VALUE_BYTES: usize = 1000;

#[derive(Serialize)]
pub struct ViewLink {
    pub url: String,
    pub label: &'static str,
    pub about: &'static str,
}

/// The views, as the home page and `/view/` link them.
pub fn view_links() -> Vec<ViewLink> {
    BrowseView::ALL
        .into_iter()
        .map(|v| ViewLink {
            url: view_path(v),
            label: v.label(),
            about: match v {
                BrowseView::Year => "Items by the year they appeared",
                BrowseView::Type => "Papers, reports, articles, books…",
                BrowseView::Subject => "Items by topic and region",
                BrowseView::Division => "Items by faculty, department or programme",
                BrowseView::Creator => "Items by author",
                BrowseView::Series => "Items by publication series",
            },
        })
        .collect()
}

fn no_such_view() -> Problem {
    Problem::not_found("There is no such browse view. The views are listed at /view/.")
}

fn parse_view(path: Result<Path<String>, PathRejection>) -> Result<BrowseView, Problem> {
    path.ok().and_then(|Path(v)| BrowseView::parse(&v)).ok_or_else(no_such_view)
}

pub async fn to_index() -> Response {
    moved("/view/")
}

pub async fn to_values(path: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    if let Ok(Path(v)) = &path {
        if let Some(alias) = eprints_urls::view_alias(v) {
            return Ok(moved(&view_path(alias)));
        }
    }
    Ok(moved(&view_path(parse_view(path)?)))
}

#[derive(Serialize)]
struct Index {
    nav: &'static str,
    views: Vec<ViewLink>,
}

pub async fn index(State(state): State<AppState>) -> Result<Response, Problem> {
    state.page(StatusCode::OK, "views.html", Index { nav: "browse", views: view_links() })
}

#[derive(Debug, Default, Deserialize)]
pub struct ValuesQuery {
    after: Option<String>,
}

#[derive(Serialize)]
struct ValueLink {
    label: String,
    url: String,
    count: i64,
}

#[derive(Serialize)]
struct Values {
    nav: &'static str,
    view: &'static str,
    label: &'static str,
    values: Vec<ValueLink>,
    next: Option<String>,
    first: Option<String>,
    letters: Vec<ValueLink>,
}

#[derive(Serialize)]
struct SubjectNode {
    label: String,
    url: String,
    count: i64,
    total: i64,
    children: Vec<SubjectNode>,
}

#[derive(Serialize)]
struct Subjects {
    nav: &'static str,
    label: &'static str,
    /// What the tree's nodes are called, plural: `subjects`, `divisions`.
    plural: &'static str,
    nodes: Vec<SubjectNode>,
    /// Values with records whose subject id is not in the tree.
    unknown: Vec<ValueLink>,
}

pub async fn values(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ValuesQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    // EPrints' names of views Arkiv has under another (`/view/subjects/`).
    if let Ok(Path(v)) = &path {
        if let Some(alias) = eprints_urls::view_alias(v) {
            return Ok(moved(&view_path(alias)));
        }
    }
    let view = parse_view(path)?;
    let Query(q) = query.map_err(|_| Problem::bad_request("The address's query could not be read."))?;
    let repo = &state.repo;
    let store = &repo.store;
    match view {
        BrowseView::Subject | BrowseView::Division => {
            let scheme = tree_of(view).unwrap_or_default();
            let counts = whole_view(&state, view).await?;
            let (nodes, unknown) = subject_tree(&repo.subjects(), scheme, counts);
            state.page(
                StatusCode::OK,
                "view_subjects.html",
                Subjects {
                    nav: if view == BrowseView::Subject { "subject" } else { "browse" },
                    label: view.label(),
                    plural: scheme.as_str(),
                    nodes,
                    unknown,
                },
            )
        }
        BrowseView::Year | BrowseView::Type => {
            let mut values: Vec<ValueLink> = whole_view(&state, view)
                .await?
                .into_iter()
                .map(|v| ValueLink {
                    label: if view == BrowseView::Type {
                        repo.types().label(&v.value).to_string()
                    } else {
                        v.value.clone()
                    },
                    url: value_path(view, &v.value),
                    count: v.count,
                })
                .collect();
            if view == BrowseView::Year {
                values.reverse();
            } else {
                values.sort_by_key(|v| v.label.to_lowercase());
            }
            let ctx = Values {
                nav: if view == BrowseView::Year { "year" } else { "browse" },
                view: view.as_str(),
                label: view.label(),
                values,
                next: None,
                first: None,
                letters: Vec::new(),
            };
            state.page(StatusCode::OK, "view_values.html", ctx)
        }
        BrowseView::Creator | BrowseView::Series => {
            let after = q.after.as_deref().filter(|a| !a.is_empty() && a.len() <= MAX_VALUE_BYTES);
            let found = store.browse_values(view, after, VALUES_PER_PAGE + 1).await?;
            let more = found.len() as i64 > VALUES_PER_PAGE;
            let values: Vec<ValueLink> = found
                .into_iter()
                .take(VALUES_PER_PAGE as usize)
                .map(|v| ValueLink { label: v.value.clone(), url: value_path(view, &v.value), count: v.count })
                .collect();
            let base = view_path(view);
            let next = more.then(|| values.last().map(|v| format!("{base}?after={}", query_value(&v.label)))).flatten();
            // A jump list: values after "B" start with "B" (or sort right
            // after it), the same keyset the store pages by.
            let letters = ('A'..='Z')
                .map(|c| ValueLink {
                    label: c.to_string(),
                    url: if c == 'A' { base.clone() } else { format!("{base}?after={}", query_value(&c.to_string())) },
                    count: 0,
                })
                .collect();
            let ctx = Values {
                nav: "browse",
                view: view.as_str(),
                label: view.label(),
                values,
                next,
                first: after.map(|_| base.clone()),
                letters,
            };
            state.page(StatusCode::OK, "view_values.html", ctx)
        }
    }
}

/// Every value of a small view, read in pages.
async fn whole_view(state: &AppState, view: BrowseView) -> Result<Vec<BrowseValue>, Problem> {
    const BATCH: i64 = 5000;
    let mut all: Vec<BrowseValue> = Vec::new();
    loop {
        let after = all.last().map(|v| v.value.clone());
        let batch = state.repo.store.browse_values(view, after.as_deref(), BATCH).await?;
        let done = (batch.len() as i64) < BATCH;
        all.extend(batch);
        if done || all.len() as i64 >= WHOLE_VIEW_LIMIT {
            return Ok(all);
        }
    }
}

/// The tree a view is drawn over, for the subject and division views.
fn tree_of(view: BrowseView) -> Option<Scheme> {
    match view {
        BrowseView::Subject => Some(Scheme::Subjects),
        BrowseView::Division => Some(Scheme::Divisions),
        _ => None,
    }
}

/// The view that lists a tree's records.
fn view_of(scheme: Scheme) -> BrowseView {
    match scheme {
        Scheme::Subjects => BrowseView::Subject,
        Scheme::Divisions => BrowseView::Division,
    }
}

/// One tree (subjects or divisions) with each node's own count and the sum
/// over its subtree. The sum counts a record once per node it names, so a
/// record filed under two subjects of one branch counts twice there
/// (telling otherwise would need a distinct count per subtree from the
/// store).
fn subject_tree(tree: &SubjectTree, scheme: Scheme, counts: Vec<BrowseValue>) -> (Vec<SubjectNode>, Vec<ValueLink>) {
    let mut own: HashMap<String, i64> = counts.iter().map(|v| (v.value.clone(), v.count)).collect();
    let view = view_of(scheme);
    fn build(
        tree: &SubjectTree,
        scheme: Scheme,
        parent: Option<&str>,
        own: &HashMap<String, i64>,
        depth: usize,
    ) -> Vec<SubjectNode> {
        // The model stops at cycles when walking up; walking down, depth does.
        if depth > 32 {
            return Vec::new();
        }
        tree.children_in(scheme, parent)
            .map(|s| {
                let children = build(tree, scheme, Some(&s.id), own, depth + 1);
                let count = own.get(&s.id).copied().unwrap_or(0);
                let total = count + children.iter().map(|c| c.total).sum::<i64>();
                SubjectNode { label: s.name.clone(), url: value_path(view_of(scheme), &s.id), count, total, children }
            })
            .collect()
    }
    let nodes = build(tree, scheme, None, &own, 0);
    own.retain(|id, _| tree.scheme_of(id) != Some(scheme));
    let mut unknown: Vec<ValueLink> = own
        .into_iter()
        .map(|(id, count)| ValueLink { label: tree.path_label(&id), url: value_path(view, &id), count })
        .collect();
    unknown.sort_by(|a, b| a.label.cmp(&b.label));
    (nodes, unknown)
}

/// EPrints' views of two menus (`/view/divisions/ID/`,
/// `/view/divisions/ID/2014.html`): see [`eprints_urls::view_menu_page`].
pub async fn menu_page(path: Result<Path<Vec<String>>, PathRejection>) -> Result<Response, Problem> {
    let Path(parts) = path.map_err(|_| no_such_view())?;
    let [view, value, rest @ ..] = parts.as_slice() else { return Err(no_such_view()) };
    let to = eprints_urls::view_menu_page(view, value, rest.first().map(String::as_str));
    to.map(|p| moved(&p))
        .ok_or_else(|| Problem::not_found("There is no such view or value. The views are listed at /view/."))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The sort key of the last record of the previous page.
    after: Option<String>,
    /// The id of that record (sort keys may repeat).
    id: Option<String>,
    /// Where the page starts in the list, for "51–100 of 120" (display only).
    from: Option<String>,
}

#[derive(Serialize)]
struct ValuePage {
    nav: &'static str,
    view: &'static str,
    view_label: &'static str,
    view_url: String,
    heading: String,
    total: i64,
    first_shown: i64,
    last_shown: i64,
    records: Vec<CiteView>,
    next: Option<String>,
    first: Option<String>,
    children: Vec<ValueLink>,
    /// The group's downloads and views (its items' summed), when
    /// statistics are kept.
    usage: Option<crate::present::usage::UsageView>,
}

pub async fn value_page(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Path((view_name, file)) = path.map_err(|_| no_such_view())?;
    // An EPrints address the Arkiv view cannot read (`/view/subjects/QA75.html`,
    // `/view/creators/Jaroslewlcz=3AAleksandra=3A=3A.html`, `2014.type.html`)
    // goes where its value is listed. Tried only on a miss: an Arkiv value
    // may hold dots and `=` too.
    let eprints = |here: Option<String>| {
        eprints_urls::view_page(&view_name, Some(&file)).filter(|p| Some(p) != here.as_ref()).map(|p| moved(&p))
    };
    let Some(view) = BrowseView::parse(&view_name) else {
        return eprints(None).ok_or_else(no_such_view);
    };
    let value = file.strip_suffix(".html").unwrap_or(&file);
    let nothing_here = || Problem::not_found("Nothing is listed under this value. The view's page lists every value.");
    if value.is_empty() || value.len() > MAX_VALUE_BYTES {
        return Err(nothing_here());
    }
    let Query(q) = query.map_err(|_| Problem::bad_request("The address's query could not be read."))?;
    let cursor = match (q.after, q.id) {
        (Some(key), Some(id)) => {
            let id = id.parse::<i64>().map_err(|_| Problem::bad_request("The page cursor could not be read."))?;
            if key.len() > MAX_VALUE_BYTES {
                return Err(Problem::bad_request("The page cursor could not be read."));
            }
            Some((key, id))
        }
        (None, None) => None,
        _ => return Err(Problem::bad_request("The page cursor is incomplete.")),
    };
    let from = q.from.and_then(|f| f.parse::<i64>().ok()).filter(|&f| f >= 1).unwrap_or(1);

    let repo = &state.repo;
    let total = repo.store.browse_count(view, value).await?;
    if total == 0 {
        return eprints(Some(value_path(view, value))).ok_or_else(nothing_here);
    }
    let page = repo.store.browse_page(view, value, cursor.as_ref(), PAGE_SIZE).await?;
    let records: Vec<CiteView> = page.records.iter().map(|r| cite(repo, r)).collect();
    let here = value_path(view, value);
    let shown = records.len() as i64;
    let next = page
        .next
        .as_ref()
        .map(|(key, id)| format!("{here}?after={}&id={id}&from={}", query_value(key), from.saturating_add(shown)));
    let subjects = repo.subjects();
    let heading = match view {
        BrowseView::Type => repo.types().label(value).to_string(),
        BrowseView::Subject | BrowseView::Division => subjects.path_label(value),
        _ => value.to_string(),
    };
    let children = match tree_of(view) {
        Some(scheme) => subjects
            .children_in(scheme, Some(value))
            .map(|s| ValueLink { label: s.name.clone(), url: value_path(view, &s.id), count: 0 })
            .collect(),
        None => Vec::new(),
    };
    let usage = match repo.config.statistics.enabled {
        true => {
            let months = repo.store.group_usage_by_month(view.as_str(), value).await?;
            Some(crate::present::usage::usage_view(&months, arkiv_services::statistics::this_month(repo)))
        }
        false => None,
    };
    let ctx = ValuePage {
        usage,
        nav: match view {
            BrowseView::Year => "year",
            BrowseView::Subject => "subject",
            _ => "browse",
        },
        view: view.as_str(),
        view_label: view.label(),
        view_url: view_path(view),
        heading,
        total,
        first_shown: if shown == 0 { 0 } else { from },
        last_shown: from.saturating_add(shown).saturating_sub(1),
        records,
        next,
        first: cursor.as_ref().map(|_| here.clone()),
        children,
    };
    state.page(StatusCode::OK, "view_page.html", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::Subject;

    #[test]
    fn subject_counts_sum_over_descendants() {
        let s = |id: &str, parent: Option<&str>| Subject {
            id: id.into(),
            name: id.to_uppercase(),
            parent: parent.map(Into::into),
        };
        let tree =
            SubjectTree::new(vec![s("geo", None), s("asia", Some("geo")), s("kz", Some("asia")), s("econ", None)]);
        let v = |value: &str, count| BrowseValue { value: value.into(), count };
        let (nodes, unknown) = subject_tree(&tree, Scheme::Subjects, vec![v("asia", 2), v("kz", 3), v("zz", 1)]);
        assert_eq!(nodes.len(), 2);
        assert_eq!((nodes[0].count, nodes[0].total), (0, 5));
        assert_eq!((nodes[0].children[0].count, nodes[0].children[0].total), (2, 5));
        assert_eq!(nodes[1].total, 0);
        assert_eq!(unknown.len(), 1);
    }
}
