//! PostgreSQL for tests: a database of its own per test on the server
//! `ARKIV_TEST_POSTGRES_URL` names (`scripts/postgres.sh` starts one and
//! prints it), dropped afterwards. Without the variable a test says so and
//! skips, except under `CI=true`, where it fails: the PostgreSQL store must
//! be tested there.
//!
//! Databases are named `arkiv_t_<pid>_<n>_<nanos>`, so that the first test
//! of a process can drop those left by test processes that were killed
//! before they could clean up (their pid no longer runs).

use sqlx::Connection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const DB_PREFIX: &str = "arkiv_t_";

/// The server to test against, or `None` (after saying so) to skip.
pub fn server_url() -> Option<String> {
    match std::env::var("ARKIV_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ => {
            crate::skip("ARKIV_TEST_POSTGRES_URL (a PostgreSQL server; scripts/postgres.sh starts one and prints it)");
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
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

/// A fresh database; [`TestDatabase::drop_database`] drops it.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// The URL a store opens.
    pub url: String,
}

impl TestDatabase {
    /// Creates a database on the server at `admin_url` (whose role needs
    /// CREATEDB).
    pub async fn create(admin_url: &str) -> TestDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SWEPT: AtomicBool = AtomicBool::new(false);
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

    /// Drops the database, closing whatever connections are left to it.
    pub async fn drop_database(self) {
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

/// Drops test databases left by test processes that no longer run.
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
