//! The PostgreSQL store: the same tables and the same write logic as
//! [`crate::sqlite::SqliteStore`] (both build their rows with
//! [`crate::rows`]); only the SQL differs.
//!
//! Writers are serialised by a transaction-scoped advisory lock, taken first
//! in every write transaction and released by PostgreSQL when it commits or
//! rolls back. That is what keeps the change feed in commit order: a
//! `BIGSERIAL` hands out numbers when rows are inserted, not when they
//! commit, so two concurrent writers could commit 11 before 10, and a
//! follower that had already read 11 would never see 10. Under the lock, the
//! next writer can only draw numbers after the previous one has committed.
//! It also makes the read-check-write of optimistic concurrency
//! (`expected_revision`) and the id allocation race-free. Readers take no
//! lock and never wait for writers.
//!
//! Rows go in with one statement per table per batch, binding each column as
//! an array and inserting `UNNEST(...)` of them: no limit on the batch size
//! from the 65,535 bind parameters per statement, and one prepared statement
//! reused for every batch. During a bulk load (`pg_bulk_load`) the new rows
//! of the big tables go in with `COPY` instead, into tables whose other
//! indexes wait for the load's end.

use crate::pg_bulk_load::Copy;
use crate::queries::{current_by_id, subject_tree, CURRENT_JSON};
use crate::rows::{count_deltas, prepare_batch, PreparedBatch, PreparedWrite};
use crate::sql::{Backend, WriteTx};
use crate::*;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row};
use std::collections::HashMap;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Key of the advisory lock that serialises writers ("arkivwr" in ASCII).
/// Advisory locks are scoped to the database, so two repositories in one
/// cluster do not contend.
const WRITE_LOCK_KEY: i64 = 0x61_726b_6976_7772;

pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// Record writes committed through this store (`ChangeFeed::local_writes`).
    writes: std::sync::atomic::AtomicU64,
    /// Whether this store is bulk loading: its new rows go in with `COPY`.
    bulk: std::sync::atomic::AtomicBool,
    /// Whether the server can compress with lz4 (`pg_bulk_load::lz4`),
    /// asked when a bulk load begins.
    lz4: std::sync::atomic::AtomicBool,
}

/// PostgreSQL's TEXT cannot hold the NUL character. The model's validation
/// refuses control characters, so this only catches a caller that skipped
/// it, with an error that says what is wrong instead of the server's
/// "invalid byte sequence".
fn no_nul(what: impl FnOnce() -> String, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(StoreError::Database(sqlx::Error::InvalidArgument(format!(
            "{} contains a NUL character, which PostgreSQL cannot store",
            what()
        ))));
    }
    Ok(())
}

fn check_batch_text(batch: &PreparedBatch) -> Result<()> {
    for w in &batch.writes {
        // `json` and `changed_json` are JSON: serde_json escapes NUL as \u0000.
        no_nul(|| format!("record {}: the actor", w.id), &w.actor)?;
        no_nul(|| format!("record {}: the item type", w.id), &w.item_type)?;
    }
    for c in &batch.browse {
        for e in c.add.iter().chain(&c.remove) {
            no_nul(|| format!("record {}: a {} browse entry", c.id, e.view.as_str()), &e.value)?;
            no_nul(|| format!("record {}: the title or creator", c.id), &e.sort_key)?;
        }
    }
    Ok(())
}

impl PostgresStore {
    /// Connects to `postgres://...` and applies pending migrations. The
    /// database must exist.
    pub async fn open(url: &str) -> Result<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        MIGRATOR.run(&pool).await?;
        // A bulk load that a killed process left unfinished.
        crate::pg_bulk_load::finish(&mut *pool.acquire().await?).await?;
        Ok(PostgresStore { pool, writes: Default::default(), bulk: Default::default(), lz4: Default::default() })
    }

    async fn lock_writers(conn: &mut PgConnection) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK_KEY).execute(conn).await?;
        Ok(())
    }

    /// The highest id ever handed out: the sequence's position, or a larger
    /// id already in the table.
    async fn highest_id(conn: &mut PgConnection) -> Result<i64> {
        let row = sqlx::query(
            "SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END, \
             (SELECT COALESCE(MAX(id), 0) FROM records) FROM records_id_seq s",
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok(row.get::<i64, _>(0).max(row.get::<i64, _>(1)))
    }

    /// Set rows that go and come; with `copy` (a bulk load), those that
    /// come with `COPY`.
    async fn write_oai_sets(conn: &mut PgConnection, batch: &PreparedBatch, copy: bool) -> Result<()> {
        for (remove, rows) in [
            (
                true,
                batch.sets.iter().flat_map(|c| c.remove.iter().map(move |s| (s.as_str(), c.id))).collect::<Vec<_>>(),
            ),
            (false, batch.sets.iter().flat_map(|c| c.add.iter().map(move |s| (s.as_str(), c.id))).collect()),
        ] {
            if rows.is_empty() {
                continue;
            }
            for (spec, id) in &rows {
                no_nul(|| format!("record {id}: the set"), spec)?;
            }
            if copy && !remove {
                let mut added = Copy::default();
                for (spec, id) in &rows {
                    added.text(spec).int(*id).end_row();
                }
                added.send(conn, "COPY oai_sets (set_spec, record_id) FROM STDIN").await?;
                continue;
            }
            let sql = if remove {
                "DELETE FROM oai_sets o USING UNNEST($1::text[], $2::bigint[]) AS d(set_spec, record_id) \
                 WHERE o.set_spec = d.set_spec AND o.record_id = d.record_id"
            } else {
                "INSERT INTO oai_sets (set_spec, record_id) SELECT * FROM UNNEST($1::text[], $2::bigint[])"
            };
            sqlx::query(sql)
                .bind(rows.iter().map(|(s, _)| *s).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, id)| *id).collect::<Vec<_>>())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Revisions, changes and browse entries of a batch with `COPY`
    /// (a bulk load: see `pg_bulk_load`). Rows are sent in the batch's
    /// order, so sequence numbers follow it as below.
    async fn copy_rows(
        conn: &mut PgConnection,
        batch: &PreparedBatch,
        removed: &[(RecordId, &arkiv_model::BrowseEntry)],
        added: &[(RecordId, &arkiv_model::BrowseEntry)],
    ) -> Result<()> {
        let mut revisions = Copy::default();
        let mut changes = Copy::default();
        for w in &batch.writes {
            revisions.int(w.id).int(w.revision).text(&w.actor).int(w.at).text(&w.changed_json).text(&w.json).end_row();
            changes.int(w.id).int(w.revision).text(w.status.as_str()).int(w.at).end_row();
        }
        revisions.send(conn, "COPY revisions (record_id, number, actor, at, changed, data) FROM STDIN").await?;
        changes.send(conn, "COPY changes (record_id, rev, status, at) FROM STDIN").await?;
        Self::delete_browse(conn, removed).await?;
        let mut browse = Copy::default();
        for (id, e) in added {
            browse.text(e.view.as_str()).text(&e.value).text(&e.sort_key).int(*id).end_row();
        }
        browse.send(conn, "COPY browse (view, value, sort_key, record_id) FROM STDIN").await
    }

    /// Revisions, changes and browse entries of a batch, one `UNNEST` per
    /// table.
    async fn insert_rows(
        conn: &mut PgConnection,
        batch: &PreparedBatch,
        removed: &[(RecordId, &arkiv_model::BrowseEntry)],
        added: &[(RecordId, &arkiv_model::BrowseEntry)],
    ) -> Result<()> {
        let col = |f: fn(&PreparedWrite) -> i64, ws: &[&PreparedWrite]| ws.iter().map(|w| f(w)).collect::<Vec<i64>>();
        let writes: Vec<&PreparedWrite> = batch.writes.iter().collect();
        sqlx::query(
            "INSERT INTO revisions (record_id, number, actor, at, changed, data) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[])",
        )
        .bind(col(|w| w.id, &writes))
        .bind(col(|w| w.revision, &writes))
        .bind(writes.iter().map(|w| w.actor.as_str()).collect::<Vec<_>>())
        .bind(col(|w| w.at, &writes))
        .bind(writes.iter().map(|w| w.changed_json.as_str()).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.json.as_str()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;

        // WITH ORDINALITY ... ORDER BY: sequence numbers follow the batch's
        // order, so two writes of one record in a batch are numbered in the
        // order they were made.
        sqlx::query(
            "INSERT INTO changes (record_id, rev, status, at) \
             SELECT record_id, rev, status, at \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[]) \
                  WITH ORDINALITY AS c(record_id, rev, status, at, i) \
             ORDER BY i",
        )
        .bind(col(|w| w.id, &writes))
        .bind(col(|w| w.revision, &writes))
        .bind(writes.iter().map(|w| w.status.as_str()).collect::<Vec<_>>())
        .bind(col(|w| w.at, &writes))
        .execute(&mut *conn)
        .await?;

        Self::delete_browse(conn, removed).await?;
        if !added.is_empty() {
            sqlx::query(
                "INSERT INTO browse (view, value, sort_key, record_id) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])",
            )
            .bind(added.iter().map(|(_, e)| e.view.as_str()).collect::<Vec<_>>())
            .bind(added.iter().map(|(_, e)| e.value.as_str()).collect::<Vec<_>>())
            .bind(added.iter().map(|(_, e)| e.sort_key.as_str()).collect::<Vec<_>>())
            .bind(added.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn delete_browse(conn: &mut PgConnection, removed: &[(RecordId, &arkiv_model::BrowseEntry)]) -> Result<()> {
        if removed.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "DELETE FROM browse b \
             USING UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS d(view, value, sort_key, record_id) \
             WHERE b.view = d.view AND b.value = d.value AND b.sort_key = d.sort_key AND b.record_id = d.record_id",
        )
        .bind(removed.iter().map(|(_, e)| e.view.as_str()).collect::<Vec<_>>())
        .bind(removed.iter().map(|(_, e)| e.value.as_str()).collect::<Vec<_>>())
        .bind(removed.iter().map(|(_, e)| e.sort_key.as_str()).collect::<Vec<_>>())
        .bind(removed.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Writes a prepared batch on `conn` (inside its transaction). With
    /// `copy` (a bulk load), rows that are new (records not in `stored`,
    /// every revision, change and browse entry added) go in with `COPY`.
    async fn run_batch(
        conn: &mut PgConnection,
        batch: &PreparedBatch,
        copy: Option<&HashMap<RecordId, (Record, i64)>>,
    ) -> Result<()> {
        Self::write_oai_sets(conn, batch, copy.is_some()).await?;
        let mut finals = batch.final_writes();
        if let Some(stored) = copy {
            // Under the writers' lock, an id not stored is in no row.
            let mut rows = Copy::default();
            for w in finals.iter().filter(|w| !stored.contains_key(&w.id)) {
                rows.int(w.id)
                    .int(w.revision)
                    .text(w.status.as_str())
                    .text(&w.item_type)
                    .opt_int(w.datestamp)
                    .int(w.lastmod)
                    .opt_int(w.userid)
                    .opt_int(w.embargo_until)
                    .opt_int(w.succeeds)
                    .end_row();
            }
            rows.send(
                conn,
                "COPY records (id, rev, status, item_type, datestamp, lastmod, userid, embargo_until, succeeds) \
                 FROM STDIN",
            )
            .await?;
            finals.retain(|w| stored.contains_key(&w.id));
        }
        let col = |f: fn(&PreparedWrite) -> i64, ws: &[&PreparedWrite]| ws.iter().map(|w| f(w)).collect::<Vec<i64>>();
        if !finals.is_empty() {
            sqlx::query(
            "INSERT INTO records (id, rev, status, item_type, datestamp, lastmod, userid, embargo_until, succeeds) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], \
             $7::bigint[], $8::bigint[], $9::bigint[]) \
             ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, status = excluded.status, \
             item_type = excluded.item_type, datestamp = excluded.datestamp, lastmod = excluded.lastmod, \
             userid = excluded.userid, embargo_until = excluded.embargo_until, succeeds = excluded.succeeds",
        )
        .bind(col(|w| w.id, &finals))
        .bind(col(|w| w.revision, &finals))
        .bind(finals.iter().map(|w| w.status.as_str()).collect::<Vec<_>>())
        .bind(finals.iter().map(|w| w.item_type.as_str()).collect::<Vec<_>>())
        .bind(finals.iter().map(|w| w.datestamp).collect::<Vec<Option<i64>>>())
        .bind(col(|w| w.lastmod, &finals))
        .bind(finals.iter().map(|w| w.userid).collect::<Vec<Option<i64>>>())
        .bind(finals.iter().map(|w| w.embargo_until).collect::<Vec<Option<i64>>>())
        .bind(finals.iter().map(|w| w.succeeds).collect::<Vec<Option<i64>>>())
        .execute(&mut *conn)
        .await?;
        }

        let removed: Vec<(RecordId, &arkiv_model::BrowseEntry)> =
            batch.browse.iter().flat_map(|c| c.remove.iter().map(move |e| (c.id, e))).collect();
        let added: Vec<(RecordId, &arkiv_model::BrowseEntry)> =
            batch.browse.iter().flat_map(|c| c.add.iter().map(move |e| (c.id, e))).collect();
        if copy.is_some() {
            Self::copy_rows(conn, batch, &removed, &added).await?;
        } else {
            Self::insert_rows(conn, batch, &removed, &added).await?;
        }

        let deltas: Vec<_> = count_deltas(&batch.browse).into_iter().collect();
        if !deltas.is_empty() {
            sqlx::query(
                "INSERT INTO browse_counts (view, value, n) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[]) \
                 ON CONFLICT (view, value) DO UPDATE SET n = browse_counts.n + excluded.n",
            )
            .bind(deltas.iter().map(|((view, _), _)| *view).collect::<Vec<_>>())
            .bind(deltas.iter().map(|((_, value), _)| value.as_str()).collect::<Vec<_>>())
            .bind(deltas.iter().map(|(_, n)| *n).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
            if deltas.iter().any(|(_, n)| *n < 0) {
                sqlx::query("DELETE FROM browse_counts WHERE n <= 0").execute(&mut *conn).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Backend for PostgresStore {
    type Conn = PgConnection;
    type Reader = PoolConnection<Postgres>;
    type Writer<'a> = PoolConnection<Postgres>;

    // PostgreSQL's planner weighs the primary key walk against the status
    // index by itself (and text has no unary plus to hide a column with).
    const STATUS_OFF_INDEX: &'static str = "r.status";

    fn write_counter(&self) -> &std::sync::atomic::AtomicU64 {
        &self.writes
    }

    async fn reader(&self) -> Result<PoolConnection<Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    async fn writer(&self) -> Result<PoolConnection<Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    async fn begin_write(conn: &mut PgConnection) -> Result<WriteTx<'_, Self>> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        // First, before reading anything: see the module docs.
        Self::lock_writers(&mut tx).await?;
        Ok(tx)
    }

    fn check_text(what: &dyn Fn() -> String, text: &str) -> Result<()> {
        no_nul(what, text)
    }

    async fn write_records(&self, batch: Vec<RecordWrite>, note: Option<&ImportNote>) -> Result<Vec<RecordId>> {
        let mut conn = self.writer().await?;
        // Dropping `tx` without commit (any `?` below) rolls it back.
        let mut tx = Self::begin_write(&mut conn).await?;
        let known: Vec<RecordId> = batch.iter().filter_map(|w| w.record.id).collect();
        let stored = if known.is_empty() { HashMap::new() } else { Self::current(&mut tx, &known).await? };
        // New records get ids above every id handed out so far and above the
        // explicit ids of this batch, so that a new record never takes an id
        // the batch names.
        let mut next_id = Self::highest_id(&mut tx).await?.max(known.iter().copied().max().unwrap_or(0));
        let subjects = subject_tree(&mut *tx).await?;
        let batch = prepare_batch(
            batch,
            &stored,
            || {
                next_id += 1;
                next_id
            },
            Timestamp::now(),
            &subjects,
        )?;
        check_batch_text(&batch)?;
        let copy = self.bulk.load(std::sync::atomic::Ordering::Relaxed).then_some(&stored);
        if copy.is_some() && self.lz4.load(std::sync::atomic::Ordering::Relaxed) {
            crate::pg_bulk_load::compress_with_lz4(&mut tx).await?;
        }
        Self::run_batch(&mut tx, &batch, copy).await?;
        if let Some(note) = note {
            crate::import_progress::write::<Self>(&mut *tx, note).await?;
        }
        // Move the sequence past every id written. setval is not undone by a
        // rollback: a failed batch leaves a gap, never an id to reuse.
        if let Some(max) = batch.ids.iter().copied().max() {
            sqlx::query("SELECT setval('records_id_seq', GREATEST($1, (SELECT last_value FROM records_id_seq)))")
                .bind(max)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.note_write();
        Ok(batch.ids)
    }

    async fn write_prepared(&self, tx: &mut PgConnection, batch: &PreparedBatch) -> Result<()> {
        check_batch_text(batch)?;
        Self::run_batch(tx, batch, None).await
    }

    async fn current(conn: &mut PgConnection, ids: &[RecordId]) -> Result<HashMap<RecordId, (Record, i64)>> {
        // An array binds as one value: one prepared statement for any count.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{CURRENT_JSON} WHERE r.id = ANY($1)")))
            .bind(ids)
            .fetch_all(conn)
            .await?;
        current_by_id(rows)
    }

    async fn begin_bulk_load(&self) -> Result<()> {
        let mut conn = self.writer().await?;
        crate::pg_bulk_load::begin(&mut conn).await?;
        self.lz4.store(crate::pg_bulk_load::lz4(&mut conn).await?, std::sync::atomic::Ordering::Relaxed);
        self.bulk.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    async fn end_bulk_load(&self) -> Result<()> {
        self.bulk.store(false, std::sync::atomic::Ordering::Relaxed);
        crate::pg_bulk_load::finish(&mut *self.writer().await?).await
    }

    fn pool_use(&self) -> crate::PoolUse {
        crate::PoolUse {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn size_bytes(&self) -> Result<Option<u64>> {
        let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&self.pool).await?;
        Ok(u64::try_from(size).ok())
    }
}
