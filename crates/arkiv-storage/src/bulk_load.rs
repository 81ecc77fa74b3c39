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
//! - browse entries wait in the loading store's memory
//!   (`pending_browse`), and `meta` says from which change on `browse`
//!   lacks them.
//!
//! [`finish`] then writes the browse entries in key order and rebuilds the
//! indexes from the kept SQL, each once, a transaction per step. Records
//! themselves, revisions, the change feed, browse counts and OAI-PMH sets
//! are written as always, so a load killed half-way loses nothing it
//! reported done: the store finishes the load when it is next opened, by
//! whatever process opens it, rebuilding the browse entries memory held
//! from the records. Until then queries are correct but may scan, and
//! browse pages leave out the records loaded (their counts include them).
//!
//! Databases of earlier versions kept the waiting entries in the table
//! `browse_pending`; one left unfinished is merged from there.

use crate::pending_browse::{PendingBrowse, COMPLETE_THROUGH};
use crate::queries::{read_meta, write_meta};
use crate::wal_checkpoints::WalCheckpoints;
use crate::Result;
use arkiv_model::BrowseView;
use sqlx::SqliteConnection;

/// `meta` key of the SQL of the indexes a bulk load dropped (a JSON array).
pub(crate) const DROPPED_INDEXES: &str = "bulk_load.dropped_indexes";

/// Starts a bulk load on the writer: drops the indexes of `records`,
/// keeping their SQL, and notes the change after which browse entries wait
/// in memory. Starting one while another is unfinished keeps both lists,
/// and the earlier change. Returns the memory for the entries.
pub(crate) async fn begin(conn: &mut SqliteConnection) -> Result<PendingBrowse> {
    let complete_through = in_transaction(conn, |conn| {
        Box::pin(async move {
            let complete_through = match complete_through_in_meta(conn).await? {
                Some(seq) => seq,
                None => {
                    let last: i64 =
                        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&mut *conn).await?;
                    write_meta(conn, COMPLETE_THROUGH, &last.to_string()).await?;
                    last
                }
            };
            let mut kept = dropped_indexes(conn).await?;
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL \
                 ORDER BY name",
            )
            .fetch_all(&mut *conn)
            .await?;
            for (name, sql) in indexes {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))))
                    .execute(&mut *conn)
                    .await?;
                kept.push(sql);
            }
            write_meta(conn, DROPPED_INDEXES, &serde_json::to_string(&kept).expect("strings serialize")).await?;
            Ok(complete_through)
        })
    })
    .await?;
    Ok(PendingBrowse::new(complete_through))
}

/// The change after which `browse` may lack entries, while a load is
/// unfinished.
async fn complete_through_in_meta(conn: &mut SqliteConnection) -> Result<Option<i64>> {
    read_meta(conn, COMPLETE_THROUGH)
        .await?
        .map(|v| {
            v.parse().map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("meta {COMPLETE_THROUGH} is not a number: {v:?}: {e}"),
                )
                .into()
            })
        })
        .transpose()
}

/// Whether a bulk load is unfinished: indexes dropped or entries pending.
pub(crate) async fn unfinished(conn: &mut SqliteConnection) -> Result<bool> {
    let pending: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM browse_pending LIMIT 1").fetch_optional(&mut *conn).await?;
    Ok(pending.is_some() || complete_through_in_meta(conn).await?.is_some() || !dropped_indexes(conn).await?.is_empty())
}

/// Ends a bulk load: the browse entries written (those `memory` holds, and
/// those it does not vouch for rebuilt from the records; with no memory, as
/// after a killed process, every entry since the load began), dropped
/// indexes made again. Does nothing when none is unfinished.
///
/// One transaction for the browse entries, then one per index, each
/// removing its SQL from the kept list: a load killed in between is taken
/// up where it stopped. The writer does not checkpoint inline meanwhile
/// (`checkpoints`), so that the background checkpointer copies each
/// committed step's pages into the database while the next step runs; what
/// is left of the log is copied back at the end, as a commit would have.
pub(crate) async fn finish(
    conn: &mut SqliteConnection,
    memory: Option<PendingBrowse>,
    checkpoints: Option<&WalCheckpoints>,
) -> Result<()> {
    // With memory, this store's entries go in even if another store on the
    // database (two imports begun at once) has finished the load already.
    if memory.is_none() && !unfinished(conn).await? {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // SQLite's sorter (each CREATE INDEX) may use helper threads, one per
    // core, for this connection until we are done.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA threads = {cores}"))).execute(&mut *conn).await?;
    if let Some(c) = checkpoints {
        c.set_inline(false);
    }
    let done = finish_steps(conn, memory, started).await;
    if let Some(c) = checkpoints {
        c.set_inline(true);
    }
    sqlx::query("PRAGMA threads = 0").execute(&mut *conn).await?;
    done?;
    if checkpoints.is_some() {
        // FULL: waits (busy timeout) for a checkpoint the background task
        // may be running, rather than returning at once as PASSIVE would.
        sqlx::query("PRAGMA wal_checkpoint(FULL)").execute(&mut *conn).await?;
    }
    tracing::info!(took = ?started.elapsed(), "bulk load finished: browse entries written, indexes rebuilt");
    Ok(())
}

async fn finish_steps(
    conn: &mut SqliteConnection,
    memory: Option<PendingBrowse>,
    started: std::time::Instant,
) -> Result<()> {
    in_transaction(conn, |conn| {
        Box::pin(async move {
            // A load by an earlier version: its entries wait in a table.
            // One view (one range of it) at a time: each sort holds only
            // that view's entries.
            let legacy: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM browse_pending LIMIT 1").fetch_optional(&mut *conn).await?;
            if legacy.is_some() {
                for view in BrowseView::ALL {
                    sqlx::query(
                        "INSERT OR IGNORE INTO browse (view, value, sort_key, record_id) \
                         SELECT view, value, sort_key, record_id FROM browse_pending WHERE view = ? \
                         ORDER BY value, sort_key, record_id",
                    )
                    .bind(view.as_str())
                    .execute(&mut *conn)
                    .await?;
                }
                sqlx::query("DELETE FROM browse_pending").execute(&mut *conn).await?;
            }
            let complete_through = complete_through_in_meta(conn).await?;
            // Memory vouches for changes after its own mark. If the table is
            // complete through an earlier one than that (it never should be),
            // memory starts over from there; if through a later one (another
            // store wrote its entries out), what memory holds again is
            // ignored as it goes in.
            let memory = match (memory, complete_through) {
                (Some(mut m), Some(through)) if through < m.complete_through() => {
                    m.reset(through);
                    Some(m)
                }
                (Some(m), _) => Some(m),
                (None, Some(through)) => Some(PendingBrowse::new(through)),
                (None, None) => None,
            };
            if let Some(mut memory) = memory {
                memory.flush(conn).await?;
            }
            sqlx::query("DELETE FROM meta WHERE key = ?").bind(COMPLETE_THROUGH).execute(&mut *conn).await?;
            Ok(())
        })
    })
    .await?;
    tracing::debug!(at = ?started.elapsed(), "browse entries written");
    loop {
        let built = in_transaction(conn, |conn| {
            Box::pin(async move {
                let mut kept = dropped_indexes(conn).await?;
                if kept.is_empty() {
                    sqlx::query("DELETE FROM meta WHERE key = ?").bind(DROPPED_INDEXES).execute(&mut *conn).await?;
                    return Ok(None);
                }
                let sql = kept.remove(0);
                let create = match sql.strip_prefix("CREATE INDEX ") {
                    Some(rest) if !rest.starts_with("IF NOT EXISTS") => format!("CREATE INDEX IF NOT EXISTS {rest}"),
                    _ => sql,
                };
                // The statement SQLite itself stored for an index this
                // store dropped (sqlite_master), not anything from input.
                sqlx::query(sqlx::AssertSqlSafe(create.as_str())).execute(&mut *conn).await?;
                write_meta(conn, DROPPED_INDEXES, &serde_json::to_string(&kept).expect("strings serialize")).await?;
                Ok(Some(create))
            })
        })
        .await?;
        match built {
            Some(sql) => tracing::debug!(at = ?started.elapsed(), "{sql}"),
            None => return Ok(()),
        }
    }
}

/// The SQL of the indexes an unfinished bulk load dropped, on either
/// backend (`pg_bulk_load.rs` keeps its list under the same key).
pub(crate) async fn dropped_indexes(conn: &mut impl crate::sql::Sql) -> Result<Vec<String>> {
    match read_meta(conn, DROPPED_INDEXES).await? {
        None => Ok(Vec::new()),
        Some(j) => serde_json::from_str(&j).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("meta {DROPPED_INDEXES} is not a list of SQL: {e}"),
            )
            .into()
        }),
    }
}

/// Runs `work` in a `BEGIN IMMEDIATE` transaction on `conn`, committed if
/// it succeeds and rolled back if not.
async fn in_transaction<'c, F, T>(conn: &'c mut SqliteConnection, work: F) -> Result<T>
where
    F: for<'a> FnOnce(&'a mut SqliteConnection) -> futures::future::BoxFuture<'a, Result<T>>,
{
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    match work(conn).await {
        Ok(value) => {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok(value)
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}
