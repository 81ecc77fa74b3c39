//! The abstract-page cache against a write by another process (an `arkiv
//! import`, another node over the same database): a second repository is
//! opened on the same database, with a store of its own, so its writes are
//! not among the ones the serving process counts (`ChangeFeed::local_writes`)
//! and only the cache's recheck of the change feed can reveal them. The
//! recheck interval is set per cache, so the test decides when a recheck is
//! due instead of waiting on a clock.

use arkiv_model::{Record, RecordId, Status};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use arkiv_testkit::html::visible;
use arkiv_web::page_cache::{PageCache, CAPACITY_BYTES};
use arkiv_web::templates::{Site, Templates};
use arkiv_web::AppState;
use std::sync::Arc;
use std::time::Duration;

/// The abstract page's routes over `repo`, with this page cache, on a free
/// local port; the server's address.
async fn serve(repo: &Arc<Repository>, pages: Arc<PageCache>) -> String {
    let live = repo.clone();
    let site = Site::new(repo.base_url().to_string(), arkiv_web::pages::assets::css_url(), move || live.settings());
    let state = AppState {
        repo: repo.clone(),
        templates: Arc::new(Templates::builtin(site)),
        search: None,
        pages,
        metrics: Arc::default(),
    };
    let app = arkiv_web::pages::record::routes().with_state(state);
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The abstract page as an anonymous visitor reads it.
async fn view(base: &str, id: RecordId) -> String {
    let res = reqwest::get(format!("{base}/{id}/")).await.unwrap();
    assert_eq!(res.status(), 200);
    visible(&res.text().await.unwrap())
}

/// Retitles record `id` through `repo`.
async fn retitle(repo: &Repository, id: RecordId, title: &str) {
    let mut record = repo.store.get_record(id).await.unwrap().unwrap();
    record.title = title.into();
    record.lastmod = None;
    repo.store.put_records(vec![RecordWrite::new(record, "import")]).await.unwrap();
}

#[tokio::test]
async fn a_write_by_another_process_shows_on_a_cached_page_at_the_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Arc::new(Repository::init(dir.path(), Config::default()).await.unwrap());
    let mut record = Record::new("article", "The title as first published");
    record.status = Status::Archive;
    let id = repo.store.put_records(vec![RecordWrite::new(record, "test")]).await.unwrap()[0];
    // The other process: the same database, a store of its own.
    let other = Repository::open(dir.path()).await.unwrap();

    // A cache whose recheck is not due for an hour: the page it holds is
    // what visitors get, the other process's write notwithstanding. (This
    // is what shows the page is served from the cache at all.)
    let pages = Arc::new(PageCache::with_recheck(CAPACITY_BYTES, Duration::from_secs(3600)));
    let base = serve(&repo, pages.clone()).await;
    assert!(view(&base, id).await.contains("The title as first published"));
    assert_eq!(pages.len(), 1, "the page is kept");
    retitle(&other, id, "The title as the import corrected it").await;
    let page = view(&base, id).await;
    assert!(page.contains("The title as first published"), "the cached page, until the recheck is due");
    assert!(!page.contains("corrected"));

    // A cache whose recheck is due at every lookup: the other process's
    // next write shows on the page cached before it.
    let pages = Arc::new(PageCache::with_recheck(CAPACITY_BYTES, Duration::ZERO));
    let base = serve(&repo, pages.clone()).await;
    assert!(view(&base, id).await.contains("The title as the import corrected it"));
    assert_eq!(pages.len(), 1, "the page is kept");
    retitle(&other, id, "The title as another node changed it").await;
    let page = view(&base, id).await;
    assert!(page.contains("The title as another node changed it"), "the other process's write shows");
    assert!(!page.contains("corrected"));
    assert_eq!(pages.len(), 1, "the page rendered afresh is kept in its turn");
}
