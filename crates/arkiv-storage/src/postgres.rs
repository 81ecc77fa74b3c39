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
//! reused for every batch.

use crate::rows::{
    count_deltas, decode, decode_stream, moved_subject_sets, parse_status, prepare_batch, prepare_tree_refresh, work_items_tail, Bind,
    oai_records_query, CURRENT_JSON,
    PreparedBatch, PreparedWrite, TREE_REFRESH_BATCH,
};
use crate::*;
use futures::StreamExt;
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::collections::HashMap;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Key of the advisory lock that serialises writers ("arkivwr" in ASCII).
/// Advisory locks are scoped to the database, so two repositories in one
/// cluster do not contend.
const WRITE_LOCK_KEY: i64 = 0x61_726b_6976_7772;

pub struct PostgresStore {
    pub(crate) pool: PgPool,
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
        Ok(PostgresStore { pool })
    }

    async fn current(&self, conn: &mut PgConnection, ids: &[RecordId]) -> Result<HashMap<RecordId, (Record, i64)>> {
        let rows = sqlx::query(&format!("{CURRENT_JSON} WHERE r.id = ANY($1)")).bind(ids).fetch_all(conn).await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.get(0);
            found.insert(id, (decode(id, row.get(2))?, row.get(1)));
        }
        Ok(found)
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

    /// The subject tree as the write transaction sees it (small: read whole
    /// per batch, so OAI set membership follows the tree without a cache).
    async fn subject_tree(conn: &mut PgConnection) -> Result<SubjectTree> {
        let rows = sqlx::query("SELECT id, name, parent FROM subjects").fetch_all(conn).await?;
        Ok(SubjectTree::new(rows.iter().map(|row| Subject { id: row.get(0), name: row.get(1), parent: row.get(2) }).collect()))
    }

    async fn write_oai_sets(conn: &mut PgConnection, batch: &PreparedBatch) -> Result<()> {
        for (remove, rows) in [(true, batch.sets.iter().flat_map(|c| c.remove.iter().map(move |s| (s.as_str(), c.id))).collect::<Vec<_>>()),
                               (false, batch.sets.iter().flat_map(|c| c.add.iter().map(move |s| (s.as_str(), c.id))).collect())] {
            if rows.is_empty() {
                continue;
            }
            for (spec, id) in &rows {
                no_nul(|| format!("record {id}: the set"), spec)?;
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

    async fn write_prepared(conn: &mut PgConnection, batch: &PreparedBatch) -> Result<()> {
        Self::write_oai_sets(conn, batch).await?;
        let finals = batch.final_writes();
        let col = |f: fn(&PreparedWrite) -> i64, ws: &[&PreparedWrite]| ws.iter().map(|w| f(w)).collect::<Vec<i64>>();
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

        let removed: Vec<(RecordId, &arkiv_model::BrowseEntry)> =
            batch.browse.iter().flat_map(|c| c.remove.iter().map(move |e| (c.id, e))).collect();
        if !removed.is_empty() {
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
        }

        let added: Vec<(RecordId, &arkiv_model::BrowseEntry)> =
            batch.browse.iter().flat_map(|c| c.add.iter().map(move |e| (c.id, e))).collect();
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
impl RecordStore for PostgresStore {
    async fn put_records(&self, batch: Vec<RecordWrite>) -> Result<Vec<RecordId>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // Dropping `tx` without commit (any `?` below) rolls it back.
        let mut tx = self.pool.begin().await?;
        // First, before reading anything: see the module docs.
        Self::lock_writers(&mut tx).await?;
        let known: Vec<RecordId> = batch.iter().filter_map(|w| w.record.id).collect();
        let stored = if known.is_empty() { HashMap::new() } else { self.current(&mut tx, &known).await? };
        // New records get ids above every id handed out so far and above the
        // explicit ids of this batch, so that a new record never takes an id
        // the batch names.
        let mut next_id = Self::highest_id(&mut tx).await?.max(known.iter().copied().max().unwrap_or(0));
        let subjects = Self::subject_tree(&mut tx).await?;
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
        Self::write_prepared(&mut tx, &batch).await?;
        // Move the sequence past every id written. setval is not undone by a
        // rollback: a failed batch leaves a gap, never an id to reuse.
        if let Some(max) = batch.ids.iter().copied().max() {
            sqlx::query("SELECT setval('records_id_seq', GREATEST($1, (SELECT last_value FROM records_id_seq)))")
                .bind(max)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        crate::note_local_write();
        Ok(batch.ids)
    }

    async fn get_record(&self, id: RecordId) -> Result<Option<Record>> {
        Ok(self.get_record_with_revision(id).await?.map(|(r, _)| r))
    }

    async fn get_record_with_revision(&self, id: RecordId) -> Result<Option<(Record, i64)>> {
        let row = sqlx::query(&format!("{CURRENT_JSON} WHERE r.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        match row {
            Some(row) => Ok(Some((decode(id, row.get(2))?, row.get(1)))),
            None => Ok(None),
        }
    }

    async fn get_records(&self, ids: &[RecordId]) -> Result<Vec<Record>> {
        let mut conn = self.pool.acquire().await?;
        let mut found = self.current(&mut conn, ids).await?;
        Ok(ids.iter().filter_map(|id| found.remove(id).map(|(r, _)| r)).collect())
    }

    async fn revisions(&self, id: RecordId) -> Result<Vec<Revision>> {
        let rows =
            sqlx::query("SELECT number, actor, at, changed, data FROM revisions WHERE record_id = $1 ORDER BY number")
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
                            "WHERE r.id > $1 AND r.status = $2 ORDER BY r.id LIMIT $3",
                            vec![Bind::Int(after), Bind::Text(s.as_str()), Bind::Int(PAGE)],
                        )
                        .await
                    }
                    None => {
                        self.fetch_records(
                            "WHERE r.id > $1 ORDER BY r.id LIMIT $2",
                            vec![Bind::Int(after), Bind::Int(PAGE)],
                        )
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
        let rows =
            sqlx::query("SELECT seq, record_id, rev, status, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2")
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
            "WHERE r.status = 'archive' ORDER BY r.datestamp DESC NULLS LAST, r.id DESC LIMIT $1",
            vec![Bind::Int(limit)],
        )
        .await
    }

    async fn browse_values(&self, view: BrowseView, after: Option<&str>, limit: i64) -> Result<Vec<BrowseValue>> {
        let rows = sqlx::query(
            "SELECT value, n FROM browse_counts WHERE view = $1 AND value > $2 AND n > 0 ORDER BY value LIMIT $3",
        )
        .bind(view.as_str())
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|row| BrowseValue { value: row.get(0), count: row.get(1) }).collect())
    }

    async fn browse_count(&self, view: BrowseView, value: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(n), 0) FROM browse_counts WHERE view = $1 AND value = $2")
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
             WHERE b.view = $1 AND b.value = $2 AND (b.sort_key, b.record_id) > ($3, $4) \
             ORDER BY b.sort_key, b.record_id LIMIT $5",
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
        let rows = sqlx::query(
            "SELECT id, lastmod FROM records WHERE id > $1 AND id <= $2 AND status = 'archive' ORDER BY id",
        )
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
        let (tail, binds) = work_items_tail(query, limit, "$");
        self.fetch_records(&tail, binds).await
    }

    async fn embargoes_due(&self, day: i64, limit: i64) -> Result<Vec<RecordId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM records WHERE embargo_until IS NOT NULL AND embargo_until <= $1 \
             ORDER BY embargo_until LIMIT $2",
        )
        .bind(day)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn later_versions(&self, id: RecordId) -> Result<Vec<RecordId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM records WHERE succeeds = $1 AND succeeds IS NOT NULL AND status = 'archive' ORDER BY id",
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
        for s in subjects {
            no_nul(|| format!("subject {:?}: the id", s.id), &s.id)?;
            no_nul(|| format!("subject {:?}: the name", s.id), &s.name)?;
            no_nul(|| format!("subject {:?}: the parent", s.id), s.parent.as_deref().unwrap_or(""))?;
        }
        let mut tx = self.pool.begin().await?;
        // Positions are read then written: one writer at a time.
        Self::lock_writers(&mut tx).await?;
        let old = Self::subject_tree(&mut tx).await?;
        let base: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(pos), 0) FROM subjects").fetch_one(&mut *tx).await?;
        for (i, s) in subjects.iter().enumerate() {
            sqlx::query(
                "INSERT INTO subjects (id, name, parent, pos) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent = excluded.parent",
            )
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.parent)
            .bind(base + i as i64 + 1)
            .execute(&mut *tx)
            .await?;
        }
        let new = Self::subject_tree(&mut tx).await?;
        let now = Timestamp::now();
        let mut rewritten = 0;
        // Keyset pages of each old set's members; a rewritten record leaves
        // the old set before the next page is read.
        for spec in moved_subject_sets(&old, &new) {
            let mut after: RecordId = 0;
            loop {
                let ids: Vec<RecordId> = sqlx::query_scalar(
                    "SELECT record_id FROM oai_sets WHERE set_spec = $1 AND record_id > $2 ORDER BY record_id LIMIT $3",
                )
                .bind(&spec)
                .bind(after)
                .bind(TREE_REFRESH_BATCH)
                .fetch_all(&mut *tx)
                .await?;
                let Some(&last) = ids.last() else { break };
                after = last;
                let stored = self.current(&mut tx, &ids).await?;
                let batch = prepare_tree_refresh(&stored, &old, &new, now)?;
                check_batch_text(&batch)?;
                Self::write_prepared(&mut tx, &batch).await?;
                rewritten += batch.writes.len() as u64;
            }
        }
        tx.commit().await?;
        if rewritten > 0 {
            crate::note_local_write();
        }
        Ok(rewritten)
    }

    async fn oai_records(&self, query: &OaiQuery, after: RecordId, limit: i64) -> Result<Vec<Record>> {
        let (sql, binds) = oai_records_query(query, after, limit, "$");
        self.fetch_decoded(&sql, binds).await
    }

    async fn oai_count(&self, query: &OaiQuery) -> Result<i64> {
        let (from, until) = (query.from.unwrap_or(i64::MIN), query.until.unwrap_or(i64::MAX));
        let n = match &query.set {
            Some(set) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM oai_sets s JOIN records r ON r.id = s.record_id \
                     WHERE s.set_spec = $1 AND r.lastmod BETWEEN $2 AND $3",
                )
                .bind(set)
                .bind(from)
                .bind(until)
                .fetch_one(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM records WHERE datestamp IS NOT NULL AND lastmod BETWEEN $1 AND $2",
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
        // A loose index scan: one seek per distinct set.
        Ok(sqlx::query_scalar(
            "WITH RECURSIVE s(spec, n) AS ( \
               SELECT (SELECT MIN(set_spec) FROM oai_sets WHERE set_spec > $1), 1 \
               UNION ALL \
               SELECT (SELECT MIN(set_spec) FROM oai_sets WHERE set_spec > s.spec), n + 1 FROM s \
               WHERE s.spec IS NOT NULL AND n < $2 \
             ) SELECT spec FROM s WHERE spec IS NOT NULL",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        no_nul(|| format!("setting {key:?}: the key"), key)?;
        no_nul(|| format!("setting {key:?}: the value"), value)?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn size_bytes(&self) -> Result<Option<u64>> {
        let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&self.pool).await?;
        Ok(u64::try_from(size).ok())
    }
}
