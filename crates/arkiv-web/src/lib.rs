//! Arkiv over HTTP: the public site for readers and crawlers (home page,
//! abstract pages with EPrints' URL scheme, file downloads, browse views,
//! search, feeds, exports), OAI-PMH for harvesters, and the pages of
//! people with accounts (login, deposit, review, admin).
//!
//! This file wires things together: it builds the shared state (the
//! repository and the templates, parsed once at startup), the routes, and
//! the layers every response passes through (compression, caching headers,
//! security headers, error pages). The handlers in [`pages`] are thin: they
//! ask the repository's store, shape what they found for a template, and
//! render it. Nothing here prints; the caller decides what to tell the user.

pub mod api;
pub mod auth;
pub mod client_address;
pub mod connections;
pub mod http;
pub mod operations;
pub mod page_cache;
pub mod pages;
pub mod present;
pub mod range;
pub mod search_index;
pub mod sword;
pub mod templates;
pub mod usage;

use anyhow::Result;
use arkiv_search::SearchIndex;
use arkiv_services::Repository;
use axum::Router;
pub use search_index::FullText;
use std::future::Future;
use std::sync::Arc;
use templates::{Site, Templates};
use tokio::net::TcpListener;

/// What every handler shares: the repository, the parsed templates and the
/// search index (`None`: search is unavailable, the search pages say so).
#[derive(Clone)]
pub struct AppState {
    pub repo: Arc<Repository>,
    pub templates: Arc<Templates>,
    pub search: Option<Arc<SearchIndex>>,
    /// Anonymous visitors' abstract pages, as rendered (`page_cache.rs`).
    pub pages: Arc<page_cache::PageCache>,
    /// Requests counted for `/metrics` (`operations.rs`).
    pub metrics: Arc<operations::Metrics>,
}

/// Binds the listening socket (`127.0.0.1:8080`, `[::]:80`, port 0 for any
/// free port), so a caller can print the address before serving.
pub async fn bind(listen: &str) -> Result<TcpListener> {
    use anyhow::Context;
    TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))
}

/// Serves the site on an already bound socket until `shutdown` completes
/// (letting requests in flight finish) or the server fails: the one way to
/// run it. Opens the search index (`<repo>/search`) and runs its follower
/// meanwhile; stops it before returning. Fails if a template override
/// cannot be read or parsed. The repository's hourly jobs are the caller's
/// (`arkiv_services::jobs`).
pub async fn serve(
    listener: TcpListener,
    repo: Arc<Repository>,
    full_text: FullText,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let templates = load_templates(&repo)?;
    let searching = search_index::Searching::start(&repo, full_text);
    let limits = connections::Limits::from_settings(&repo.config.server).within_open_files();
    tracing::info!(
        max_connections = limits.max_connections,
        header_timeout = ?limits.header_timeout,
        idle_timeout = ?limits.idle_timeout,
        body_timeout = ?limits.body_timeout,
        "connection limits"
    );
    let repo_for_flush = repo.clone();
    let app = build(repo, templates, searching.as_ref().map(|s| s.index.clone()));
    let served = connections::serve(listener, app, limits, shutdown).await;
    repo_for_flush.usage.flush().await;
    let c = repo_for_flush.usage.counts();
    if c.dropped > 0 {
        tracing::warn!(
            written = c.written,
            merged = c.merged,
            robots = c.robots,
            dropped = c.dropped,
            "statistics: some visits were dropped, the queue to the database being full"
        );
    } else {
        tracing::info!(written = c.written, merged = c.merged, robots = c.robots, "statistics written");
    }
    if let Some(s) = searching {
        s.stop().await;
    }
    served?;
    Ok(())
}

/// The templates' `site`: the base URL as configured, the rest read from
/// the repository's live settings whenever a page is rendered.
fn site(repo: &Arc<Repository>) -> Site {
    let base_url = repo.base_url().to_string();
    let live = repo.clone();
    Site::new(base_url, pages::assets::css_url(), move || live.settings())
}

fn load_templates(repo: &Arc<Repository>) -> Result<Templates> {
    let dir = repo.dir.join(&repo.config.server.templates);
    Templates::load(Some(&dir), site(repo))
}

fn build(repo: Arc<Repository>, templates: Templates, search: Option<Arc<SearchIndex>>) -> Router {
    let upload_limit = repo.config.import.max_file_bytes;
    let state =
        AppState { repo, templates: Arc::new(templates), search, pages: Arc::default(), metrics: Arc::default() };
    // Pages of many records, kept for anonymous visitors until any record
    // changes (page_cache.rs).
    let views = Router::new()
        .merge(pages::home::routes())
        .merge(pages::browse::routes())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), page_cache::views));
    Router::new()
        .merge(views)
        .merge(pages::search::routes())
        .merge(pages::assets::routes())
        .merge(pages::exports::routes())
        .merge(pages::feeds::routes())
        .merge(pages::landing::routes())
        .merge(pages::sitemap::routes())
        .merge(pages::stats::routes())
        .merge(pages::sushi::routes())
        .merge(pages::record::routes())
        .merge(pages::files::routes())
        .merge(pages::oai::routes())
        .merge(pages::account::routes())
        .merge(pages::profile::routes())
        .merge(api::routes())
        .merge(sword::routes())
        .merge(pages::deposit::routes(upload_limit))
        .merge(pages::review::routes())
        .merge(pages::admin::routes())
        .merge(pages::copies::routes())
        .merge(pages::eprints_urls::routes())
        .merge(operations::routes())
        .fallback(http::not_found)
        // Innermost first: a panic becomes a 500 that `finish` still dresses
        // as a page; compression sees the final body.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), usage::note))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::finish))
        .layer(http::compression())
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::resolve))
        // Outermost: the request's id and time cover everything above.
        .layer(axum::middleware::from_fn_with_state(state.clone(), operations::observe))
        .with_state(state)
}
