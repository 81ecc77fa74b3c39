//! The home page: what the repository is, what arrived lately, and the ways
//! into it. Two cheap store reads: the ten newest live records, and the
//! item-type counts (a handful of rows, whose sum is the number of live
//! records — cheaper than counting the records table).

use crate::http::Problem;
use crate::pages::browse::{view_links, ViewLink};
use crate::present::{cite, CiteView};
use crate::AppState;
use arkiv_model::BrowseView;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

/// The home page (cached for anonymous visitors with the browse views).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route("/", get(home))
}

#[derive(Serialize)]
struct Home {
    nav: &'static str,
    latest: Vec<CiteView>,
    total: i64,
    views: Vec<ViewLink>,
}

pub async fn home(State(state): State<AppState>) -> Result<Response, Problem> {
    let repo = &state.repo;
    let latest = repo.store.latest(10).await?;
    let types = repo.store.browse_values(BrowseView::Type, None, 10_000).await?;
    let ctx = Home {
        nav: "home",
        latest: latest.iter().map(|r| cite(repo, r)).collect(),
        total: types.iter().map(|t| t.count).sum(),
        views: view_links(),
    };
    state.page(StatusCode::OK, "home.html", ctx)
}
