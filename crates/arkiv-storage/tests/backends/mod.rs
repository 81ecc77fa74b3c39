//! The two backends a storage test runs against: a fresh SQLite file, and a
//! fresh PostgreSQL database on the server `ARKIV_TEST_POSTGRES_URL` names
//! (dropped afterwards; skipped without it, except under `CI=true`), each
//! opened as both stores. The one harness of the store and account suites.

use arkiv_storage::{open_stores, AccountStore, RecordStore};
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

/// The server to test against, or `None` (after saying so) to skip.
fn postgres_url() -> Option<String> {
    match std::env::var("ARKIV_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ => {
            // Fails under CI=true: the PostgreSQL store must be tested there.
            arkiv_testkit::skip(
                "ARKIV_TEST_POSTGRES_URL (a PostgreSQL server; scripts/postgres.sh starts one and prints it)",
            );
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

const DB_PREFIX: &str = "arkiv_t_";

/// A database of its own for one test, named `arkiv_t_<pid>_<n>_<nanos>`.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create(admin_url: &str) -> TestDatabase {
        use sqlx::Connection;
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to ARKIV_TEST_POSTGRES_URL: {e}"));
        if !SWEPT.swap(true, Ordering::SeqCst) {
            sweep_abandoned(&mut admin).await;
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("{DB_PREFIX}{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), nanos);
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database (the role needs CREATEDB): {e}"));
        admin.close().await.ok();
        TestDatabase { admin_url: admin_url.to_string(), url: with_database(admin_url, &name), name }
    }

    async fn drop_database(self) {
        use sqlx::Connection;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let dropped =
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
                    .execute(&mut admin)
                    .await;
            if let Err(e) = dropped {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
            admin.close().await.ok();
        }
    }
}

/// Drops test databases left by test processes that no longer run (killed
/// before they could clean up).
async fn sweep_abandoned(admin: &mut sqlx::PgConnection) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'arkiv\\_t\\_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    for name in names {
        let pid = name[DB_PREFIX.len()..].split('_').next().unwrap_or("");
        if !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit())
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut *admin)
                .await;
        }
    }
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(with_database("postgres://a:b@h:1/arkiv_test", "x"), "postgres://a:b@h:1/x");
    assert_eq!(
        with_database("postgres://a:b@h:1/arkiv_test?sslmode=disable", "x"),
        "postgres://a:b@h:1/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    assert_eq!(with_database("postgresql://h/", "x"), "postgresql://h/x");
}
