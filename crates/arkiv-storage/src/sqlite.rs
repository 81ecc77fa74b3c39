//! The embedded store: one SQLite file in WAL mode.
//!
//! SQLite allows one writer at a time; rather than let concurrent writers
//! collide and retry, every write goes through one dedicated connection
//! behind an in-process mutex, and each batch is one `BEGIN IMMEDIATE`
//! transaction on it. Reads run concurrently on the pool. With
//! `synchronous = NORMAL` in WAL mode a committed transaction survives a
//! killed process (it may be lost only if the operating system itself
//! crashes before the next checkpoint), which is the guarantee `kill -9`
//! tests check.
//!
//! Bulk writes (an import writes thousands of records a second) are shaped
//! for SQLite:
//! - the writer keeps its own, larger page cache, warm from one batch to
//!   the next: the browse index grows at random places, and a cold cache
//!   would read most of the pages a batch touches back from the file;
//! - rows go in with multi-row `INSERT`s of a few fixed sizes
//!   ([`ROWS_PER_INSERT`]), so that a handful of prepared statements serve
//!   every batch instead of one new statement per batch size;
//! - the inserts say `OR ROLLBACK`: a failing row aborts the whole
//!   transaction (which the caller rolls back anyway), so SQLite need not
//!   keep a statement journal to undo a statement's partial effects;
//! - browse entries are inserted in index order, so consecutive inserts
//!   land on the same pages.

use crate::bulk_load;
use crate::pending_browse::PendingBrowse;
use crate::queries::{current_by_id, subject_tree, CURRENT_JSON};
use crate::rows::{count_deltas, prepare_batch, PreparedBatch};
use crate::sql::{Backend, Bind, Sql, WriteTx};
use crate::wal_checkpoints::{self, WalCheckpoints};
use crate::*;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per `INSERT` statement, largest first: a batch's rows go in chunks
/// of these sizes (1,000 rows: three of 256, seven of 32, two of 4). Few
/// sizes, few prepared statements; 256 rows of at most 6 columns stay far
/// below SQLite's limit of 32,766 bound parameters per statement.
const ROWS_PER_INSERT: [usize; 4] = [256, 32, 4, 1];

/// Page cache of the writing connection (KiB, as `PRAGMA cache_size` takes
/// negative numbers): enough for the upper levels and much of the leaves of
/// the browse index of a million records.
const WRITER_CACHE_KIB: i64 = 256 * 1024;
/// Page cache of each reading connection (KiB): the upper levels of the
/// tables and indexes. Reads also go through [`MMAP_BYTES`] of the file
/// mapped into memory, so more would mostly copy what the operating
/// system's cache holds, once per connection (up to 8).
const READER_CACHE_KIB: i64 = 16 * 1024;
/// How much of the database file connections read through a memory map
/// (`PRAGMA mmap_size`) rather than a `pread` and a copy per page: a
/// harvest or an export reads every page once, and at 1,000,000 records
/// (a 4 GB file) this was a fifth of a harvest's time (BENCHMARKS.md).
/// SQLite maps no more than the file's size, and no more than its
/// compile-time cap (raised from 2 GiB in `.cargo/config.toml`). The
/// mapped pages are the operating system's file cache, shared by every
/// connection and process, not memory of ours; only address space.
const MMAP_BYTES: i64 = 256 * 1024 * 1024 * 1024;

/// Page size of a database this store creates (an existing one keeps its
/// own). A record's revision (about 2 KB of JSON) fits once on a page of
/// SQLite's default 4 KiB, leaving half of it empty; on 16 KiB pages seven
/// fit. At 1,000,000 records the file is 3.9 GB instead of 4.8, and an
/// import writes (and checkpoints) that much less (BENCHMARKS.md).
const PAGE_BYTES: u32 = 16 * 1024;

pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// The only connection that writes; its mutex queues the writers.
    pub(crate) writer: Mutex<SqliteConnection>,
    path: Option<std::path::PathBuf>,
    /// Checkpoints of the write-ahead log, off the writer's path (none for
    /// an in-memory database, which has no log).
    wal_checkpoints: Option<WalCheckpoints>,
    /// During a bulk load by this store, the browse entries it defers
    /// (see `bulk_load`). Only touched while holding `writer`.
    bulk: std::sync::Mutex<Option<PendingBrowse>>,
    /// Memory the deferred entries may take (0: the default); for tests.
    bulk_memory_budget: AtomicUsize,
    /// Record writes committed through this store (`ChangeFeed::local_writes`).
    writes: std::sync::atomic::AtomicU64,
}

/// Inserts browse rows (view, value, sort key, record), in the order given,
/// with `conflict` ("OR ROLLBACK", "OR IGNORE") saying what a row already
/// there does.
pub(crate) async fn insert_browse_rows(
    tx: &mut SqliteConnection,
    rows: &[(&str, &str, &str, RecordId)],
    conflict: &str,
) -> Result<()> {
    for chunk in insert_chunks(rows) {
        let mut q =
            QueryBuilder::<Sqlite>::new(format!("INSERT {conflict} INTO browse (view, value, sort_key, record_id) "));
        q.push_values(chunk, |mut b, (view, value, sort_key, id)| {
            b.push_bind(*view).push_bind(*value).push_bind(*sort_key).push_bind(*id);
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// `rows` cut into chunks of the sizes in [`ROWS_PER_INSERT`].
fn insert_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        let size = ROWS_PER_INSERT.iter().copied().find(|n| *n <= rest.len())?;
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// Makes a connection plan each statement once, when it is prepared, not
/// again for the values bound to it (SQLite's query planner stability
/// guarantee, `SQLITE_DBCONFIG_ENABLE_QPSG`).
///
/// Without it SQLite marks a statement to be prepared again whenever a new
/// value is bound to a parameter the planner looked at: every `LIMIT $n`,
/// and a parameter compared where a partial index's condition could match.
/// sqlx binds every parameter on every run, so each run of such a cached
/// statement was parsed and planned afresh (`sqlite3Reprepare`, about 5% of
/// a first view of an abstract page). The plans do not depend on the
/// values: pages are read in an index's order and `sqlite.rs`'s plan tests
/// check them with the flag on.
async fn plan_once(conn: &mut SqliteConnection) -> sqlx::Result<()> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: a valid open connection, locked for the call; the variadic
    // arguments are the documented (int, int*) pair, a null int* allowed.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Configuration(format!("SQLite refused SQLITE_DBCONFIG_ENABLE_QPSG ({rc})").into()));
    }
    Ok(())
}

/// Ids as a JSON array, for `json_each(?)`: one bound parameter whatever
/// the number of ids, and one prepared statement for every count.
fn id_list(ids: &[RecordId]) -> String {
    serde_json::to_string(ids).expect("integers serialize")
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `sqlite://PATH` and applies
    /// pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .page_size(PAGE_BYTES)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", (-READER_CACHE_KIB).to_string())
            .pragma("mmap_size", MMAP_BYTES.to_string())
            .pragma("temp_store", "memory");
        let mut options = options;
        if let Ok(extra) = std::env::var("ARKIV_SQLITE_PRAGMA") {
            for kv in extra.split(';').filter(|s| !s.is_empty()) {
                let (k, v) = kv.split_once('=').unwrap();
                options = options.pragma(k.to_string(), v.to_string());
            }
        }
        let path = Some(options.get_filename().to_path_buf()).filter(|p| p.as_os_str() != ":memory:");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _| Box::pin(async move { plan_once(conn).await }))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let mut writer = options.clone().pragma("cache_size", (-WRITER_CACHE_KIB).to_string()).connect().await?;
        plan_once(&mut writer).await?;
        let wal_checkpoints = match path {
            Some(_) => Some(wal_checkpoints::install(&mut writer, options.connect().await?).await?),
            None => None,
        };
        // A bulk load that a killed process left unfinished.
        bulk_load::finish(&mut writer, None, wal_checkpoints.as_ref()).await?;
        Ok(SqliteStore {
            pool,
            writer: Mutex::new(writer),
            path,
            wal_checkpoints,
            bulk: std::sync::Mutex::new(None),
            bulk_memory_budget: AtomicUsize::new(0),
            writes: Default::default(),
        })
    }

    /// Sets how much memory the browse entries of a bulk load begun after
    /// this may take before they are written out, rather than the default
    /// 256 MiB. For tests of that path.
    #[doc(hidden)]
    pub fn set_bulk_memory_budget(&self, bytes: usize) {
        self.bulk_memory_budget.store(bytes, Ordering::Relaxed);
    }

    async fn write_oai_sets(tx: &mut SqliteConnection, batch: &PreparedBatch) -> Result<()> {
        let removed: Vec<_> =
            batch.sets.iter().flat_map(|c| c.remove.iter().map(move |s| (s.as_str(), c.id))).collect();
        if !removed.is_empty() {
            sqlx::query(
                "DELETE FROM oai_sets WHERE (set_spec, record_id) IN (SELECT value->>0, value->>1 FROM json_each(?))",
            )
            .bind(serde_json::to_string(&removed).expect("strings and integers serialize"))
            .execute(&mut *tx)
            .await?;
        }
        let mut added: Vec<_> = batch.sets.iter().flat_map(|c| c.add.iter().map(move |s| (s.as_str(), c.id))).collect();
        added.sort_unstable();
        for chunk in insert_chunks(&added) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT OR ROLLBACK INTO oai_sets (set_spec, record_id) ");
            q.push_values(chunk, |mut b, (spec, id)| {
                b.push_bind(*spec).push_bind(*id);
            });
            q.build().execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// Runs a prepared batch's SQL. With `defer_browse` (a bulk load), the
    /// browse entries it adds are left to the caller, for memory.
    async fn run_batch(&self, tx: &mut SqliteConnection, batch: &PreparedBatch, defer_browse: bool) -> Result<()> {
        Self::write_oai_sets(tx, batch).await?;
        let writes = &batch.writes;
        for chunk in insert_chunks(&batch.final_writes()) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR ROLLBACK INTO records (id, rev, status, item_type, userid, datestamp, lastmod, embargo_until, succeeds) ",
            );
            q.push_values(chunk, |mut b, w| {
                b.push_bind(w.id)
                    .push_bind(w.revision)
                    .push_bind(w.status.as_str())
                    .push_bind(w.item_type.as_str())
                    .push_bind(w.userid)
                    .push_bind(w.datestamp)
                    .push_bind(w.lastmod)
                    .push_bind(w.embargo_until)
                    .push_bind(w.succeeds);
            });
            q.push(
                " ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, status = excluded.status, \
                 item_type = excluded.item_type, userid = excluded.userid, datestamp = excluded.datestamp, \
                 lastmod = excluded.lastmod, embargo_until = excluded.embargo_until, succeeds = excluded.succeeds",
            );
            q.build().execute(&mut *tx).await?;
        }
        for chunk in insert_chunks(writes) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR ROLLBACK INTO revisions (record_id, number, actor, at, changed, data) ",
            );
            q.push_values(chunk, |mut b, w| {
                b.push_bind(w.id)
                    .push_bind(w.revision)
                    .push_bind(w.actor.as_str())
                    .push_bind(w.at)
                    .push_bind(w.changed_json.as_str())
                    .push_bind(w.json.as_str());
            });
            q.build().execute(&mut *tx).await?;
        }
        // In batch order: sequence numbers follow the order of the writes.
        for chunk in insert_chunks(writes) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT OR ROLLBACK INTO changes (record_id, rev, status, at) ");
            q.push_values(chunk, |mut b, w| {
                b.push_bind(w.id).push_bind(w.revision).push_bind(w.status.as_str()).push_bind(w.at);
            });
            q.build().execute(&mut *tx).await?;
        }
        let removed: Vec<_> = batch
            .browse
            .iter()
            .flat_map(|c| c.remove.iter().map(move |e| (e.view.as_str(), e.value.as_str(), e.sort_key.as_str(), c.id)))
            .collect();
        if !removed.is_empty() {
            // Rows as one JSON array of arrays: one statement, one bound
            // parameter, however many entries go.
            let removed = serde_json::to_string(&removed).expect("strings and integers serialize");
            sqlx::query(
                "DELETE FROM browse WHERE (view, value, sort_key, record_id) IN \
                 (SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?))",
            )
            .bind(&removed)
            .execute(&mut *tx)
            .await?;
            // An entry a bulk load holds in memory (this store's, or
            // another's on this database) is not there: that load rebuilds
            // the record's entries (see `pending_browse`).
        }
        let mut added: Vec<_> = batch
            .browse
            .iter()
            .filter(|_| !defer_browse)
            .flat_map(|c| c.add.iter().map(move |e| (e.view.as_str(), e.value.as_str(), e.sort_key.as_str(), c.id)))
            .collect();
        // In the table's key order, so that consecutive inserts land on the
        // same pages (TEXT compares bytewise, as str does).
        added.sort_unstable();
        insert_browse_rows(tx, &added, "OR ROLLBACK").await?;
        let deltas: Vec<_> = count_deltas(&batch.browse).into_iter().collect();
        for chunk in insert_chunks(&deltas) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT OR ROLLBACK INTO browse_counts (view, value, n) ");
            q.push_values(chunk, |mut b, ((view, value), n)| {
                b.push_bind(*view).push_bind(value.as_str()).push_bind(*n);
            });
            q.push(" ON CONFLICT (view, value) DO UPDATE SET n = n + excluded.n");
            q.build().execute(&mut *tx).await?;
        }
        if deltas.iter().any(|(_, n)| *n < 0) {
            sqlx::query("DELETE FROM browse_counts WHERE n <= 0").execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// [`Records::put_records_noted`] on the writer: one transaction, with
    /// the import's note if there is one. During
    /// a bulk load (`memory`), the batch's browse entries go to memory once
    /// it has committed, and memory over its budget is written out first.
    async fn put_records_in(
        &self,
        conn: &mut SqliteConnection,
        batch: Vec<RecordWrite>,
        note: Option<&ImportNote>,
        memory: &mut Option<PendingBrowse>,
    ) -> Result<Vec<RecordId>> {
        let t0 = std::time::Instant::now();
        let complete_through = memory.as_ref().map(|m| m.complete_through());
        let mut flushing = false;
        let mut tx = Self::begin_write(conn).await?;
        let result = async {
            let conn: &mut SqliteConnection = &mut tx;
            let known: Vec<RecordId> = batch.iter().filter_map(|w| w.record.id).collect();
            let stored = if known.is_empty() { HashMap::new() } else { <Self as Backend>::current(conn, &known).await? };
            let mut next_id: i64 = sqlx::query_scalar(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0), \
                 COALESCE((SELECT MAX(id) FROM records), 0))",
            )
            .fetch_one(&mut *conn)
            .await?;
            // Above the batch's explicit ids too: a new record must not take an id the batch names.
            next_id = next_id.max(known.iter().copied().max().unwrap_or(0));
            let t1 = std::time::Instant::now();
            if let Some(m) = memory.as_mut().filter(|m| m.over_budget()) {
                flushing = true;
                m.flush(conn).await?;
            }
            let subjects = subject_tree(conn).await?;
            let batch = prepare_batch(batch, &stored, || {
                next_id += 1;
                next_id
            }, Timestamp::now(), &subjects)?;
            let t2 = std::time::Instant::now();
            self.run_batch(conn, &batch, memory.is_some()).await?;
            if let Some(note) = note {
                crate::import_progress::write::<Self>(conn, note).await?;
            }
            // The batch's change-feed entries: the last `writes.len()`.
            let last_change: i64 = if memory.is_some() {
                sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&mut *conn).await?
            } else {
                0
            };
            // Where a batch's time goes (BENCHMARKS.md's import section):
            // ARKIV_LOG=arkiv_storage=debug.
            tracing::debug!(lookup = ?(t1 - t0), prepare = ?(t2 - t1), write = ?t2.elapsed(), records = batch.ids.len(), "batch written");
            Ok::<_, StoreError>((batch, last_change))
        }
        .await;
        let committed = match result {
            Ok(done) => {
                let tc = std::time::Instant::now();
                // A commit that fails drops the transaction, which rolls it back.
                match tx.commit().await {
                    Ok(()) => {
                        tracing::debug!(commit = ?tc.elapsed(), "batch committed");
                        Ok(done)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        };
        match committed {
            Ok((batch, last_change)) => {
                if let Some(m) = memory.as_mut() {
                    m.record(last_change - batch.writes.len() as i64 + 1, last_change, &batch.browse);
                }
                self.note_write();
                Ok(batch.ids)
            }
            Err(e) => {
                // A flush rolled back took memory's entries with it: vouch
                // for nothing after the last flush that committed, so that
                // the next one rebuilds them from the records.
                if let (true, Some(m), Some(through)) = (flushing, memory.as_mut(), complete_through) {
                    m.reset(through);
                }
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Backend for SqliteStore {
    type Conn = SqliteConnection;
    type Reader = PoolConnection<Sqlite>;
    type Writer<'a> = tokio::sync::MutexGuard<'a, SqliteConnection>;

    // The unary plus keeps SQLite from answering a paged read with the
    // status index and a sort of every record in that status (a page would
    // cost the whole repository); it walks the primary key from the cursor
    // instead. The query-plan test below holds the reads to it.
    const STATUS_OFF_INDEX: &'static str = "+r.status";

    fn write_counter(&self) -> &std::sync::atomic::AtomicU64 {
        &self.writes
    }

    async fn reader(&self) -> Result<PoolConnection<Sqlite>> {
        Ok(self.pool.acquire().await?)
    }

    async fn writer(&self) -> Result<tokio::sync::MutexGuard<'_, SqliteConnection>> {
        Ok(self.writer.lock().await)
    }

    async fn begin_write(conn: &mut SqliteConnection) -> Result<WriteTx<'_, Self>> {
        // IMMEDIATE: the write lock is taken at once, so nothing read in
        // the transaction can be changed by another process before it
        // writes (a deferred transaction would fail to upgrade instead).
        Ok(sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?)
    }

    async fn write_records(&self, batch: Vec<RecordWrite>, note: Option<&ImportNote>) -> Result<Vec<RecordId>> {
        let mut conn = self.writer.lock().await;
        // A bulk load's memory, out of its mutex while this holds the writer
        // (which everything that touches it does), and always put back.
        let mut memory = self.bulk.lock().expect("not poisoned").take();
        let result = self.put_records_in(&mut conn, batch, note, &mut memory).await;
        *self.bulk.lock().expect("not poisoned") = memory;
        result
    }

    async fn write_prepared(&self, tx: &mut SqliteConnection, batch: &PreparedBatch) -> Result<()> {
        // Browse entries go straight in even during a bulk load: the next
        // flush finds these changes in a gap of its memory.
        self.run_batch(tx, batch, false).await
    }

    async fn current(conn: &mut SqliteConnection, ids: &[RecordId]) -> Result<HashMap<RecordId, (Record, i64)>> {
        let sql = format!("{CURRENT_JSON} WHERE r.id IN (SELECT value FROM json_each($1))");
        current_by_id(conn.rows(&sql, &[Bind::Text(&id_list(ids))]).await?)
    }

    async fn begin_bulk_load(&self) -> Result<()> {
        let mut conn = self.writer.lock().await;
        let memory = bulk_load::begin(&mut conn).await?;
        let budget = self.bulk_memory_budget.load(Ordering::Relaxed);
        let mut bulk = self.bulk.lock().expect("not poisoned");
        if bulk.is_none() {
            *bulk = Some(if budget > 0 { memory.with_budget(budget) } else { memory });
        }
        Ok(())
    }

    async fn end_bulk_load(&self) -> Result<()> {
        let mut conn = self.writer.lock().await;
        let memory = self.bulk.lock().expect("not poisoned").take();
        bulk_load::finish(&mut conn, memory, self.wal_checkpoints.as_ref()).await
    }

    fn pool_use(&self) -> crate::PoolUse {
        crate::PoolUse {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    /// The writer's page cache ([`WRITER_CACHE_KIB`], sized for imports)
    /// fills as a background follower writes a backlog (while the
    /// citations of a million records were rendered ahead, the server's
    /// RssAnon went from 211 to 394 MB); `shrink_memory` frees the pages it
    /// holds (about 70 MB of that came back: see BENCHMARKS.md). The next
    /// import warms it again.
    async fn release_write_cache(&self) -> Result<()> {
        sqlx::query("PRAGMA shrink_memory").execute(&mut *self.writer.lock().await).await?;
        Ok(())
    }

    async fn size_bytes(&self) -> Result<Option<u64>> {
        let Some(path) = &self.path else { return Ok(None) };
        let mut total = 0;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            if let Ok(m) = tokio::fs::metadata(&p).await {
                total += m.len();
            }
        }
        Ok(Some(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::{live_ids_sql, scan_by_status, work_items_tail, EMBARGOES_DUE};
    use sqlx::Row;

    /// Paged reads walk the primary key from where the last page ended;
    /// none sorts a whole status's records to find one page.
    #[tokio::test]
    async fn paged_reads_walk_the_primary_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap();
        for sql in [format!("{CURRENT_JSON} {}", scan_by_status::<SqliteStore>()), live_ids_sql::<SqliteStore>()] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind(0_i64)
                .bind("archive")
                .bind(10_i64)
                .fetch_all(&store.pool)
                .await
                .unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(3)).collect();
            assert!(plan.iter().any(|p| p.contains("INTEGER PRIMARY KEY")), "{sql}: {plan:?}");
            assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{sql} sorts: {plan:?}");
        }
    }

    /// The embargo job and the review buffer by type read their own
    /// indexes, never the records table in full.
    #[tokio::test]
    async fn embargo_and_typed_buffer_reads_use_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap();
        let plan = |rows: Vec<sqlx::sqlite::SqliteRow>| rows.iter().map(|r| r.get::<String, _>(3)).collect::<Vec<_>>();
        let due = plan(
            sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {EMBARGOES_DUE}")))
                .bind(20300101_i64)
                .bind(10_i64)
                .fetch_all(&store.pool)
                .await
                .unwrap(),
        );
        assert!(due.iter().any(|p| p.contains("records_by_embargo")), "{due:?}");
        let query = WorkQuery { status: Status::Buffer, item_type: Some("report".into()), ..Default::default() };
        let (tail, _) = work_items_tail(&query, 10);
        let typed = plan(
            sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {CURRENT_JSON} {tail}")))
                .bind("buffer")
                .bind("report")
                .bind(10_i64)
                .fetch_all(&store.pool)
                .await
                .unwrap(),
        );
        assert!(typed.iter().any(|p| p.contains("records_by_status_type")), "{typed:?}");
        assert!(!typed.iter().any(|p| p.contains("TEMP B-TREE")), "sorts: {typed:?}");
    }
}
