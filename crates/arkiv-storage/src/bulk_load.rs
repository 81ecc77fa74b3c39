//! Bulk loads into the SQLite store: a large import into an empty
//! repository, written without keeping the secondary indexes up to date
//! record by record.
//!
//! Every secondary index of `records` (by status, owner, date, type) and the
//! browse index are keyed by values that arrive in random order (an
//! EPrints export's dates, creators, subjects), so each batch of an import
//! would rewrite pages all over them: at 100,000 records about nine pages
//! of log per record for one page of data. During a bulk load instead:
//! - the indexes on `records` are dropped; the SQL that made them is kept
//!   in `meta` (under [`DROPPED_INDEXES`]) in the same transaction;
//! - browse entries go to `browse_pending`, keyed by view and record, so
//!   they are appended (see `SqliteStore::write_prepared`).
//!
//! [`finish`] then merges the pending entries into `browse` in its key order
//! and rebuilds the indexes from the kept SQL, each once, in one
//! transaction. Records themselves, revisions, the change feed and OAI-PMH
//! sets are written as always, so a load killed half-way loses nothing it
//! reported done: the store finishes the load when it is next opened, by
//! whatever process opens it. Until then queries are correct but may scan,
//! and browse pages leave out the pending records (their counts include
//! them).

use crate::Result;
use arkiv_model::BrowseView;
use sqlx::SqliteConnection;

/// `meta` key of the SQL of the indexes a bulk load dropped (a JSON array).
pub(crate) const DROPPED_INDEXES: &str = "bulk_load.dropped_indexes";

/// Starts a bulk load on the writer: drops the indexes of `records`,
/// keeping their SQL. Starting one while another is unfinished keeps both
/// lists.
pub(crate) async fn begin(conn: &mut SqliteConnection) -> Result<()> {
    in_transaction(conn, |conn| {
        Box::pin(async move {
            let mut kept = dropped_indexes(conn).await?;
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL \
                 ORDER BY name",
            )
            .fetch_all(&mut *conn)
            .await?;
            for (name, sql) in indexes {
                sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))).execute(&mut *conn).await?;
                kept.push(sql);
            }
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(DROPPED_INDEXES)
                .bind(serde_json::to_string(&kept).expect("strings serialize"))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    })
    .await
}

/// Whether a bulk load is unfinished: indexes dropped or entries pending.
pub(crate) async fn unfinished(conn: &mut SqliteConnection) -> Result<bool> {
    let pending: Option<i64> = sqlx::query_scalar("SELECT 1 FROM browse_pending LIMIT 1").fetch_optional(&mut *conn).await?;
    Ok(pending.is_some() || !dropped_indexes(conn).await?.is_empty())
}

/// Ends a bulk load: pending browse entries merged, dropped indexes made
/// again. Does nothing when none is unfinished.
pub(crate) async fn finish(conn: &mut SqliteConnection) -> Result<()> {
    if !unfinished(conn).await? {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // SQLite's sorter (the merge's ORDER BY, each CREATE INDEX) may use
    // helper threads, one per core, for this connection until we are done.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    sqlx::query(&format!("PRAGMA threads = {cores}")).execute(&mut *conn).await?;
    let done = in_transaction(conn, |conn| {
        Box::pin(async move {
            // One view (one range of the pending table) at a time: each sort
            // holds only that view's entries.
            for view in BrowseView::ALL {
                sqlx::query(
                    "INSERT OR IGNORE INTO browse (view, value, sort_key, record_id) \
                     SELECT view, value, sort_key, record_id FROM browse_pending WHERE view = ? \
                     ORDER BY value, sort_key, record_id",
                )
                .bind(view.as_str())
                .execute(&mut *conn)
                .await?;
                tracing::debug!(view = view.as_str(), at = ?started.elapsed(), "browse entries merged");
            }
            sqlx::query("DELETE FROM browse_pending").execute(&mut *conn).await?;
            tracing::debug!(at = ?started.elapsed(), "pending entries deleted");
            for sql in dropped_indexes(conn).await? {
                let sql = match sql.strip_prefix("CREATE INDEX ") {
                    Some(rest) if !rest.starts_with("IF NOT EXISTS") => format!("CREATE INDEX IF NOT EXISTS {rest}"),
                    _ => sql,
                };
                sqlx::query(&sql).execute(&mut *conn).await?;
                tracing::debug!(at = ?started.elapsed(), "{sql}");
            }
            sqlx::query("DELETE FROM meta WHERE key = ?").bind(DROPPED_INDEXES).execute(&mut *conn).await?;
            Ok(())
        })
    })
    .await;
    tracing::debug!(at = ?started.elapsed(), committed = done.is_ok(), "transaction ended");
    sqlx::query("PRAGMA threads = 0").execute(&mut *conn).await?;
    done?;
    tracing::info!(took = ?started.elapsed(), "bulk load finished: browse entries merged, indexes rebuilt");
    Ok(())
}

async fn dropped_indexes(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let json: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(DROPPED_INDEXES).fetch_optional(&mut *conn).await?;
    match json {
        None => Ok(Vec::new()),
        Some(j) => serde_json::from_str(&j).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("meta {DROPPED_INDEXES} is not a list of SQL: {e}")).into()
        }),
    }
}

/// Runs `work` in a `BEGIN IMMEDIATE` transaction on `conn`, committed if
/// it succeeds and rolled back if not.
async fn in_transaction<'c, F>(conn: &'c mut SqliteConnection, work: F) -> Result<()>
where
    F: for<'a> FnOnce(&'a mut SqliteConnection) -> futures::future::BoxFuture<'a, Result<()>>,
{
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    match work(conn).await {
        Ok(()) => {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}
