//! The two backends a storage test runs against: a fresh SQLite file, and a
//! fresh PostgreSQL database on the server `ARKIV_TEST_POSTGRES_URL` names
//! (dropped afterwards; skipped without it, except under `CI=true`), each
//! opened as both stores. The one harness of the store and account suites.

use arkiv_storage::{open_stores, AccountStore, RecordStore};
use arkiv_testkit::postgres::{server_url as postgres_url, TestDatabase};
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

pub type Stores = (Arc<dyn RecordStore>, Arc<dyn AccountStore>);

pub async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Stores) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("arkiv.db").display());
    let stores = open_stores(&url).await.expect("open SQLite store");
    test(stores).await;
}

pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(Stores) -> Fut,
    Fut: Future<Output = ()>,
{
    with_postgres_url(|url| async move {
        let stores = open_stores(&url).await.expect("open PostgreSQL store");
        test(stores).await;
    })
    .await;
}

/// A fresh PostgreSQL database's URL, for a test that opens it itself (a
/// whole repository: arkiv-services' tests include this module too);
/// dropped afterwards.
pub async fn with_postgres_url<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(admin_url) = postgres_url() else { return };
    let db = TestDatabase::create(&admin_url).await;
    let outcome = AssertUnwindSafe(test(db.url.clone())).catch_unwind().await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
