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

use crate::rows::{
    count_deltas, decode, decode_stream, moved_subject_sets, parse_status, prepare_batch, prepare_tree_refresh, work_items_tail, Bind,
    oai_records_query, CURRENT_JSON,
    PreparedBatch, TREE_REFRESH_BATCH,
};
use crate::bulk_load;
use crate::pending_browse::PendingBrowse;
use crate::wal_checkpoints::{self, WalCheckpoints};
use crate::*;
use futures::StreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
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
}

/// A `meta` value read on `conn` (inside the caller's transaction, if any).
pub(crate) async fn read_meta(conn: &mut SqliteConnection, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(&mut *conn).await?)
}

/// Sets a `meta` value on `conn` (inside the caller's transaction, if any).
pub(crate) async fn write_meta(conn: &mut SqliteConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
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
        let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT {conflict} INTO browse (view, value, sort_key, record_id) "));
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

/// Ids as a JSON array, for `json_each(?)`: one bound parameter whatever
/// the number of ids, and one prepared statement for every count.
fn id_list(ids: &[RecordId]) -> String {
    serde_json::to_string(ids).expect("integers serialize")
}

// `+status`: the unary plus keeps SQLite from answering these with the
// status index and a sort of every record in that status (a page would cost
// the whole repository); they walk the primary key from `after` instead.
// The query-plan test below holds them to it.
const SCAN_BY_STATUS: &str = "WHERE r.id > ? AND +r.status = ? ORDER BY r.id LIMIT ?";
const LIVE_IDS: &str = "SELECT id, lastmod FROM records WHERE id > ? AND id <= ? AND +status = 'archive' ORDER BY id";

/// What the embargo job reads: the embargo index up to a day.
const EMBARGOES_DUE: &str = "SELECT id FROM records WHERE embargo_until IS NOT NULL AND embargo_until <= ? \
     ORDER BY embargo_until LIMIT ?";

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
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options.clone()).await?;
        MIGRATOR.run(&pool).await?;
        let mut writer = options.clone().pragma("cache_size", (-WRITER_CACHE_KIB).to_string()).connect().await?;
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
        })
    }

    /// Sets how much memory the browse entries of a bulk load begun after
    /// this may take before they are written out, rather than the default
    /// 256 MiB. For tests of that path.
    #[doc(hidden)]
    pub fn set_bulk_memory_budget(&self, bytes: usize) {
        self.bulk_memory_budget.store(bytes, Ordering::Relaxed);
    }

    /// The current state of the records with these ids, read on `conn`.
    pub(crate) async fn current(conn: &mut SqliteConnection, ids: &[RecordId]) -> Result<HashMap<RecordId, (Record, i64)>> {
        let mut found = HashMap::with_capacity(ids.len());
        let rows = sqlx::query(&format!("{CURRENT_JSON} WHERE r.id IN (SELECT value FROM json_each(?))"))
            .bind(id_list(ids))
            .fetch_all(conn)
            .await?;
        for row in rows {
            let id: i64 = row.get(0);
            found.insert(id, (decode(id, row.get(2))?, row.get(1)));
        }
        Ok(found)
    }

    /// The subject tree as the write transaction sees it (small: read whole
    /// per batch, so OAI set membership follows the tree without a cache).
    async fn subject_tree(conn: &mut SqliteConnection) -> Result<SubjectTree> {
        let rows = sqlx::query("SELECT id, name, parent FROM subjects").fetch_all(conn).await?;
        Ok(SubjectTree::new(rows.iter().map(|row| Subject { id: row.get(0), name: row.get(1), parent: row.get(2) }).collect()))
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
    async fn write_prepared(&self, tx: &mut SqliteConnection, batch: &PreparedBatch, defer_browse: bool) -> Result<()> {
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

    /// [`RecordStore::put_subjects`] inside its transaction: the subjects
    /// upserted, then the records whose sets moved rewritten, a keyset page
    /// of an old set's members at a time (a rewritten record leaves the old
    /// set before the next page is read).
    async fn put_subjects_in(&self, tx: &mut SqliteConnection, subjects: &[Subject]) -> Result<u64> {
        let old = Self::subject_tree(tx).await?;
        let base: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(pos), 0) FROM subjects").fetch_one(&mut *tx).await?;
        for (i, s) in subjects.iter().enumerate() {
            sqlx::query(
                "INSERT INTO subjects (id, name, parent, pos) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent = excluded.parent",
            )
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.parent)
            .bind(base + i as i64 + 1)
            .execute(&mut *tx)
            .await?;
        }
        let new = Self::subject_tree(tx).await?;
        let now = Timestamp::now();
        let mut rewritten = 0;
        for spec in moved_subject_sets(&old, &new) {
            let mut after: RecordId = 0;
            loop {
                let ids: Vec<RecordId> = sqlx::query_scalar(
                    "SELECT record_id FROM oai_sets WHERE set_spec = ? AND record_id > ? ORDER BY record_id LIMIT ?",
                )
                .bind(&spec)
                .bind(after)
                .bind(TREE_REFRESH_BATCH)
                .fetch_all(&mut *tx)
                .await?;
                let Some(&last) = ids.last() else { break };
                after = last;
                let stored = Self::current(tx, &ids).await?;
                let batch = prepare_tree_refresh(&stored, &old, &new, now)?;
                // Browse entries go straight in even during a bulk load:
                // the next flush finds these changes in a gap of its memory.
                self.write_prepared(tx, &batch, false).await?;
                rewritten += batch.writes.len() as u64;
            }
        }
        Ok(rewritten)
    }

    /// [`RecordStore::put_records`] on the writer: one transaction. During
    /// a bulk load (`memory`), the batch's browse entries go to memory once
    /// it has committed, and memory over its budget is written out first.
    async fn put_records_in(
        &self,
        conn: &mut SqliteConnection,
        batch: Vec<RecordWrite>,
        memory: &mut Option<PendingBrowse>,
    ) -> Result<Vec<RecordId>> {
        let t0 = std::time::Instant::now();
        let complete_through = memory.as_ref().map(|m| m.complete_through());
        let mut flushing = false;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = async {
            let known: Vec<RecordId> = batch.iter().filter_map(|w| w.record.id).collect();
            let stored = if known.is_empty() { HashMap::new() } else { Self::current(conn, &known).await? };
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
            let subjects = Self::subject_tree(conn).await?;
            let batch = prepare_batch(batch, &stored, || {
                next_id += 1;
                next_id
            }, Timestamp::now(), &subjects)?;
            let t2 = std::time::Instant::now();
            self.write_prepared(conn, &batch, memory.is_some()).await?;
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
                match sqlx::query("COMMIT").execute(&mut *conn).await {
                    Ok(_) => {
                        tracing::debug!(commit = ?tc.elapsed(), "batch committed");
                        Ok(done)
                    }
                    Err(e) => {
                        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                        Err(e.into())
                    }
                }
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        };
        match committed {
            Ok((batch, last_change)) => {
                if let Some(m) = memory.as_mut() {
                    m.record(last_change - batch.writes.len() as i64 + 1, last_change, &batch.browse);
                }
                crate::note_local_write();
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

    async fn fetch_records(&self, sql_tail: &str, binds: Vec<Bind<'_>>) -> Result<Vec<Record>> {
        self.fetch_decoded(&format!("{CURRENT_JSON} {sql_tail}"), binds).await
    }

    /// The records of a query whose columns are id, revision and JSON.
    async fn fetch_decoded(&self, sql: &str, binds: Vec<Bind<'_>>) -> Result<Vec<Record>> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        decode_stream(q.fetch(&self.pool), |row| decode(row.get(0), row.get(2))).await
    }
}


#[async_trait]
impl RecordStore for SqliteStore {
    async fn put_records(&self, batch: Vec<RecordWrite>) -> Result<Vec<RecordId>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.writer.lock().await;
        // A bulk load's memory, out of its mutex while this holds the writer
        // (which everything that touches it does), and always put back.
        let mut memory = self.bulk.lock().expect("not poisoned").take();
        let result = self.put_records_in(&mut conn, batch, &mut memory).await;
        *self.bulk.lock().expect("not poisoned") = memory;
        result
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

    async fn get_record(&self, id: RecordId) -> Result<Option<Record>> {
        Ok(self.get_record_with_revision(id).await?.map(|(r, _)| r))
    }

    async fn get_record_with_revision(&self, id: RecordId) -> Result<Option<(Record, i64)>> {
        let row = sqlx::query(&format!("{CURRENT_JSON} WHERE r.id = ?")).bind(id).fetch_optional(&self.pool).await?;
        match row {
            Some(row) => Ok(Some((decode(id, row.get(2))?, row.get(1)))),
            None => Ok(None),
        }
    }

    async fn get_records(&self, ids: &[RecordId]) -> Result<Vec<Record>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        let mut found = Self::current(&mut conn, ids).await?;
        Ok(ids.iter().filter_map(|id| found.remove(id).map(|(r, _)| r)).collect())
    }

    async fn revisions(&self, id: RecordId) -> Result<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT number, actor, at, changed, data FROM revisions WHERE record_id = ? ORDER BY number",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Revision {
                    record_id: id,
                    number: row.get(0),
                    actor: row.get(1),
                    at: Timestamp(row.get(2)),
                    changed: serde_json::from_str(row.get(3)).unwrap_or_default(),
                    record: decode(id, row.get(4))?,
                })
            })
            .collect()
    }

    fn scan(&self, filter: ScanFilter) -> BoxStream<'_, Result<Record>> {
        const PAGE: i64 = 500;
        let start = filter.after_id.unwrap_or(0);
        futures::stream::unfold(Some(start), move |after| {
            let status = filter.status;
            async move {
                let after = after?;
                let page = match status {
                    Some(s) => {
                        self.fetch_records(
                            SCAN_BY_STATUS,
                            vec![Bind::Int(after), Bind::Text(s.as_str()), Bind::Int(PAGE)],
                        )
                        .await
                    }
                    None => {
                        self.fetch_records("WHERE r.id > ? ORDER BY r.id LIMIT ?", vec![Bind::Int(after), Bind::Int(PAGE)])
                            .await
                    }
                };
                match page {
                    Ok(records) => {
                        let next = if (records.len() as i64) < PAGE { None } else { records.last().and_then(|r| r.id) };
                        Some((futures::stream::iter(records.into_iter().map(Ok)).boxed(), next))
                    }
                    Err(e) => Some((futures::stream::iter(vec![Err(e)]).boxed(), None)),
                }
            }
        })
        .flatten()
        .boxed()
    }

    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<Change>> {
        let rows = sqlx::query("SELECT seq, record_id, rev, status, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| Change {
                seq: row.get(0),
                record_id: row.get(1),
                revision: row.get(2),
                status: parse_status(row.get(3)),
                at: Timestamp(row.get(4)),
            })
            .collect())
    }

    async fn last_change(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&self.pool).await?)
    }

    async fn latest(&self, limit: i64) -> Result<Vec<Record>> {
        self.fetch_records(
            "WHERE r.status = 'archive' ORDER BY r.datestamp DESC, r.id DESC LIMIT ?",
            vec![Bind::Int(limit)],
        )
        .await
    }

    async fn browse_values(&self, view: BrowseView, after: Option<&str>, limit: i64) -> Result<Vec<BrowseValue>> {
        let rows = sqlx::query(
            "SELECT value, n FROM browse_counts WHERE view = ? AND value > ? AND n > 0 ORDER BY value LIMIT ?",
        )
        .bind(view.as_str())
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|row| BrowseValue { value: row.get(0), count: row.get(1) }).collect())
    }

    async fn browse_count(&self, view: BrowseView, value: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(n), 0) FROM browse_counts WHERE view = ? AND value = ?")
            .bind(view.as_str())
            .bind(value)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn browse_page(
        &self,
        view: BrowseView,
        value: &str,
        after: Option<&BrowseCursor>,
        limit: i64,
    ) -> Result<Page> {
        let (after_key, after_id) = after.cloned().unwrap_or((String::new(), 0));
        let rows = sqlx::query(
            "SELECT b.sort_key, b.record_id, v.data FROM browse b \
             JOIN records r ON r.id = b.record_id \
             JOIN revisions v ON v.record_id = r.id AND v.number = r.rev \
             WHERE b.view = ? AND b.value = ? AND (b.sort_key, b.record_id) > (?, ?) \
             ORDER BY b.sort_key, b.record_id LIMIT ?",
        )
        .bind(view.as_str())
        .bind(value)
        .bind(&after_key)
        .bind(after_id)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut records = Vec::with_capacity(rows.len());
        let mut next = None;
        for (i, row) in rows.iter().enumerate() {
            if i as i64 == limit {
                let last = &rows[i - 1];
                next = Some((last.get::<String, _>(0), last.get::<i64, _>(1)));
                break;
            }
            records.push(decode(row.get(1), row.get(2))?);
        }
        Ok(Page { records, next })
    }

    async fn live_ids(&self, after: RecordId, through: RecordId) -> Result<Vec<(RecordId, Timestamp)>> {
        let rows = sqlx::query(LIVE_IDS)
        .bind(after)
        .bind(through)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|row| (row.get(0), Timestamp(row.get(1)))).collect())
    }

    async fn max_record_id(&self) -> Result<RecordId> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM records").fetch_one(&self.pool).await?)
    }

    async fn status_counts(&self) -> Result<StatusCounts> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM records GROUP BY status").fetch_all(&self.pool).await?;
        let mut counts = StatusCounts::default();
        for row in rows {
            let n: i64 = row.get(1);
            match parse_status(row.get(0)) {
                Status::Inbox => counts.inbox = n,
                Status::Buffer => counts.buffer = n,
                Status::Archive => counts.archive = n,
                Status::Deletion => counts.deletion = n,
            }
        }
        Ok(counts)
    }

    async fn work_items(&self, query: &WorkQuery, limit: i64) -> Result<Vec<Record>> {
        let (tail, binds) = work_items_tail(query, limit, "?");
        self.fetch_records(&tail, binds).await
    }

    async fn embargoes_due(&self, day: i64, limit: i64) -> Result<Vec<RecordId>> {
        Ok(sqlx::query_scalar(EMBARGOES_DUE).bind(day).bind(limit).fetch_all(&self.pool).await?)
    }

    async fn later_versions(&self, id: RecordId) -> Result<Vec<RecordId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM records WHERE succeeds = ? AND succeeds IS NOT NULL AND status = 'archive' ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn subjects(&self) -> Result<Vec<Subject>> {
        let rows = sqlx::query("SELECT id, name, parent FROM subjects ORDER BY pos, id").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|row| Subject { id: row.get(0), name: row.get(1), parent: row.get(2) }).collect())
    }

    async fn put_subjects(&self, subjects: &[Subject]) -> Result<u64> {
        let mut conn = self.writer.lock().await;
        // IMMEDIATE, as for records: the tree is read before it is written,
        // and the rewrite of its records may be long; no other process may
        // write in between.
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = self.put_subjects_in(&mut conn, subjects).await;
        match result {
            Ok(rewritten) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                if rewritten > 0 {
                    crate::note_local_write();
                }
                Ok(rewritten)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
    }

    async fn oai_records(&self, query: &OaiQuery, after: RecordId, limit: i64) -> Result<Vec<Record>> {
        let (sql, binds) = oai_records_query(query, after, limit, "?");
        self.fetch_decoded(&sql, binds).await
    }

    async fn oai_count(&self, query: &OaiQuery) -> Result<i64> {
        let (from, until) = (query.from.unwrap_or(i64::MIN), query.until.unwrap_or(i64::MAX));
        let n = match &query.set {
            Some(set) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM oai_sets s JOIN records r ON r.id = s.record_id \
                     WHERE s.set_spec = ? AND r.lastmod BETWEEN ? AND ?",
                )
                .bind(set)
                .bind(from)
                .bind(until)
                .fetch_one(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM records WHERE datestamp IS NOT NULL AND lastmod BETWEEN ? AND ?",
                )
                .bind(from)
                .bind(until)
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok(n)
    }

    async fn oai_earliest(&self) -> Result<Option<Timestamp>> {
        let t: Option<i64> = sqlx::query_scalar("SELECT MIN(lastmod) FROM records WHERE datestamp IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(t.map(Timestamp))
    }

    async fn oai_set_specs(&self, after: &str, limit: i64) -> Result<Vec<String>> {
        // A loose index scan: one seek per distinct set, never a walk of
        // every membership row.
        Ok(sqlx::query_scalar(
            "WITH RECURSIVE s(spec, n) AS ( \
               SELECT (SELECT MIN(set_spec) FROM oai_sets WHERE set_spec > ?), 1 \
               UNION ALL \
               SELECT (SELECT MIN(set_spec) FROM oai_sets WHERE set_spec > s.spec), n + 1 FROM s \
               WHERE s.spec IS NOT NULL AND n < ? \
             ) SELECT spec FROM s WHERE spec IS NOT NULL",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn meta(&self, key: &str) -> Result<Option<String>> {
        read_meta(&mut *self.pool.acquire().await?, key).await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let mut conn = self.writer.lock().await;
        write_meta(&mut conn, key, value).await
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

    /// Paged reads walk the primary key from where the last page ended;
    /// none sorts a whole status's records to find one page.
    #[tokio::test]
    async fn paged_reads_walk_the_primary_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap();
        for sql in [format!("{CURRENT_JSON} {SCAN_BY_STATUS}"), LIVE_IDS.to_string()] {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
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
            sqlx::query(&format!("EXPLAIN QUERY PLAN {EMBARGOES_DUE}"))
                .bind(20300101_i64)
                .bind(10_i64)
                .fetch_all(&store.pool)
                .await
                .unwrap(),
        );
        assert!(due.iter().any(|p| p.contains("records_by_embargo")), "{due:?}");
        let query = WorkQuery { status: Status::Buffer, item_type: Some("report".into()), ..Default::default() };
        let (tail, _) = work_items_tail(&query, 10, "?");
        let typed = plan(
            sqlx::query(&format!("EXPLAIN QUERY PLAN {CURRENT_JSON} {tail}"))
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
