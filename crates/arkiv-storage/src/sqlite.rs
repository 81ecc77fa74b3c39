//! The embedded store: one SQLite file in WAL mode.
//!
//! SQLite allows one writer at a time; rather than let concurrent writers
//! collide and retry, writes queue on an in-process mutex and each batch is
//! one `BEGIN IMMEDIATE` transaction. Reads run concurrently on the pool.
//! With `synchronous = NORMAL` in WAL mode a committed transaction survives a
//! killed process (it may be lost only if the operating system itself
//! crashes before the next checkpoint), which is the guarantee `kill -9`
//! tests check.

use crate::rows::{count_deltas, decode, parse_status, prepare_batch, PreparedBatch};
use crate::*;
use arkiv_model::BrowseEntry;
use futures::StreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite's limit on bound parameters per statement is 32,766; rows are
/// inserted in chunks that stay below it.
const MAX_PARAMS: usize = 30_000;

pub struct SqliteStore {
    pool: SqlitePool,
    write_lock: Mutex<()>,
    path: Option<std::path::PathBuf>,
}

/// Selects a record's current JSON.
const CURRENT_JSON: &str = "SELECT r.id, r.rev, v.data FROM records r JOIN revisions v ON v.record_id = r.id AND v.number = r.rev";

impl SqliteStore {
    /// Opens (creating if needed) the database at `sqlite://PATH` and applies
    /// pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let path = Some(options.get_filename().to_path_buf()).filter(|p| p.as_os_str() != ":memory:");
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool, write_lock: Mutex::new(()), path })
    }

    async fn current(&self, ids: &[RecordId]) -> Result<HashMap<RecordId, (Record, i64)>> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(MAX_PARAMS) {
            let mut q = QueryBuilder::<Sqlite>::new(CURRENT_JSON);
            q.push(" WHERE r.id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            q.push(")");
            for row in q.build().fetch_all(&self.pool).await? {
                let id: i64 = row.get(0);
                found.insert(id, (decode(id, row.get(2))?, row.get(1)));
            }
        }
        Ok(found)
    }

    async fn write_prepared(&self, tx: &mut sqlx::SqliteConnection, batch: &PreparedBatch) -> Result<()> {
        let writes = &batch.writes;
        for chunk in batch.final_writes().chunks(MAX_PARAMS / 6) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO records (id, rev, status, item_type, datestamp, lastmod) ",
            );
            q.push_values(chunk, |mut b, w| {
                b.push_bind(w.id)
                    .push_bind(w.revision)
                    .push_bind(w.status.as_str())
                    .push_bind(&w.item_type)
                    .push_bind(w.datestamp)
                    .push_bind(w.lastmod);
            });
            q.push(
                " ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, status = excluded.status, \
                 item_type = excluded.item_type, datestamp = excluded.datestamp, lastmod = excluded.lastmod",
            );
            q.build().execute(&mut *tx).await?;
        }
        for chunk in writes.chunks(MAX_PARAMS / 6) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT INTO revisions (record_id, number, actor, at, changed, data) ");
            q.push_values(chunk, |mut b, w| {
                b.push_bind(w.id)
                    .push_bind(w.revision)
                    .push_bind(&w.actor)
                    .push_bind(w.at)
                    .push_bind(&w.changed_json)
                    .push_bind(&w.json);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in writes.chunks(MAX_PARAMS / 4) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO changes (record_id, rev, status, at) ");
            q.push_values(chunk, |mut b, w| {
                b.push_bind(w.id).push_bind(w.revision).push_bind(w.status.as_str()).push_bind(w.at);
            });
            q.build().execute(&mut *tx).await?;
        }
        for change in &batch.browse {
            for e in &change.remove {
                sqlx::query("DELETE FROM browse WHERE view = ? AND value = ? AND sort_key = ? AND record_id = ?")
                    .bind(e.view.as_str())
                    .bind(&e.value)
                    .bind(&e.sort_key)
                    .bind(change.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let added: Vec<(RecordId, &BrowseEntry)> =
            batch.browse.iter().flat_map(|c| c.add.iter().map(move |e| (c.id, e))).collect();
        for chunk in added.chunks(MAX_PARAMS / 4) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO browse (view, value, sort_key, record_id) ");
            q.push_values(chunk, |mut b, (id, e)| {
                b.push_bind(e.view.as_str()).push_bind(&e.value).push_bind(&e.sort_key).push_bind(*id);
            });
            q.build().execute(&mut *tx).await?;
        }
        let deltas: Vec<_> = count_deltas(&batch.browse).into_iter().collect();
        for chunk in deltas.chunks(MAX_PARAMS / 3) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO browse_counts (view, value, n) ");
            q.push_values(chunk, |mut b, ((view, value), n)| {
                b.push_bind(*view).push_bind(value).push_bind(*n);
            });
            q.push(" ON CONFLICT (view, value) DO UPDATE SET n = n + excluded.n");
            q.build().execute(&mut *tx).await?;
        }
        if deltas.iter().any(|(_, n)| *n < 0) {
            sqlx::query("DELETE FROM browse_counts WHERE n <= 0").execute(&mut *tx).await?;
        }
        Ok(())
    }

    async fn fetch_records(&self, sql_tail: &str, binds: Vec<Bind<'_>>) -> Result<Vec<Record>> {
        let sql = format!("{CURRENT_JSON} {sql_tail}");
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        q.fetch_all(&self.pool).await?.iter().map(|row| decode(row.get(0), row.get(2))).collect()
    }
}

enum Bind<'a> {
    Int(i64),
    Text(&'a str),
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn put_records(&self, batch: Vec<RecordWrite>) -> Result<Vec<RecordId>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let _guard = self.write_lock.lock().await;
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let result = async {
            let known: Vec<RecordId> = batch.iter().filter_map(|w| w.record.id).collect();
            let stored = if known.is_empty() { HashMap::new() } else { self.current(&known).await? };
            let mut next_id: i64 = sqlx::query_scalar(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0), \
                 COALESCE((SELECT MAX(id) FROM records), 0))",
            )
            .fetch_one(&mut *conn)
            .await?;
            // Above the batch's explicit ids too: a new record must not take an id the batch names.
            next_id = next_id.max(known.iter().copied().max().unwrap_or(0));
            let batch = prepare_batch(batch, &stored, || {
                next_id += 1;
                next_id
            }, Timestamp::now())?;
            self.write_prepared(&mut conn, &batch).await?;
            Ok::<_, StoreError>(batch.ids)
        }
        .await;
        match result {
            Ok(ids) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                Ok(ids)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
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
        let mut found = self.current(ids).await?;
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
                            "WHERE r.id > ? AND r.status = ? ORDER BY r.id LIMIT ?",
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

    async fn subjects(&self) -> Result<Vec<Subject>> {
        let rows = sqlx::query("SELECT id, name, parent FROM subjects ORDER BY pos, id").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|row| Subject { id: row.get(0), name: row.get(1), parent: row.get(2) }).collect())
    }

    async fn put_subjects(&self, subjects: &[Subject]) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.pool.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(&self.pool).await?)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
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
