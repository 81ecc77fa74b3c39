//! The record store's seams ([`Records`], [`ChangeFeed`], [`Browse`],
//! [`OaiSets`], [`WorkQueues`], [`Meta`]), implemented once for every
//! [`Backend`]: each query is written here, in SQL both databases read.
//!
//! A new read goes here, on the seam its callers need; what a backend must
//! do differently (writing batches, listing ids, a planner hint) is a method
//! or constant of [`Backend`], implemented in `sqlite.rs` and `postgres.rs`.

use crate::rows::{decode, decode_stream, moved_subject_sets, parse_status, prepare_tree_refresh, TREE_REFRESH_BATCH};
use crate::sql::{Backend, Bind, RowOf, Sql, SqlRow};
use crate::*;
use futures::StreamExt;

/// Selects a record's current JSON (id, revision, JSON).
pub(crate) const CURRENT_JSON: &str =
    "SELECT r.id, r.rev, v.data FROM records r JOIN revisions v ON v.record_id = r.id AND v.number = r.rev";

/// Records a paged scan reads at a time.
const SCAN_PAGE: i64 = 500;

/// The `WHERE` of a scan of one status: the primary key walked from the
/// cursor, the status kept off its index (see [`Backend::STATUS_OFF_INDEX`]).
pub(crate) fn scan_by_status<B: Backend>() -> String {
    format!("WHERE r.id > $1 AND {} = $2 ORDER BY r.id LIMIT $3", B::STATUS_OFF_INDEX)
}

/// The live records of an id range, by the primary key.
pub(crate) fn live_ids_sql<B: Backend>() -> String {
    format!(
        "SELECT r.id, r.lastmod FROM records r WHERE r.id > $1 AND r.id <= $2 AND {} = 'archive' ORDER BY r.id",
        B::STATUS_OFF_INDEX
    )
}

/// What the embargo job reads: the embargo index up to a day.
pub(crate) const EMBARGOES_DUE: &str =
    "SELECT id FROM records WHERE embargo_until IS NOT NULL AND embargo_until <= $1 \
     ORDER BY embargo_until LIMIT $2";

/// The change feed after a sequence number, by the primary key.
pub(crate) const CHANGES_SINCE: &str =
    "SELECT seq, record_id, rev, status, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2";

/// The newest live records: a live record always has a datestamp (the
/// store sets it when it first goes live), so no NULL is met and both
/// databases walk records_by_status_datestamp backwards.
pub(crate) const LATEST_TAIL: &str = "WHERE r.status = 'archive' ORDER BY r.datestamp DESC, r.id DESC LIMIT $1";

/// A browse view's values after one, by browse_counts' primary key.
pub(crate) const BROWSE_VALUES: &str =
    "SELECT value, n FROM browse_counts WHERE view = $1 AND value > $2 AND n > 0 ORDER BY value LIMIT $3";

/// A page of a browse value's records (sort key, id, JSON), after a cursor,
/// by browse's primary key.
pub(crate) const BROWSE_PAGE: &str = "SELECT b.sort_key, b.record_id, v.data FROM browse b \
     JOIN records r ON r.id = b.record_id \
     JOIN revisions v ON v.record_id = r.id AND v.number = r.rev \
     WHERE b.view = $1 AND b.value = $2 AND (b.sort_key, b.record_id) > ($3, $4) \
     ORDER BY b.sort_key, b.record_id LIMIT $5";

/// The records that succeed one (its later versions), by records_by_succeeds.
pub(crate) const LATER_VERSIONS: &str =
    "SELECT id FROM records WHERE succeeds = $1 AND succeeds IS NOT NULL AND status = 'archive' ORDER BY id";

/// How many records of a set changed in a time range (OAI-PMH's
/// completeListSize).
pub(crate) const OAI_COUNT_SET: &str = "SELECT COUNT(*) FROM oai_sets s JOIN records r ON r.id = s.record_id \
     WHERE s.set_spec = $1 AND r.lastmod BETWEEN $2 AND $3";

/// How many OAI-visible records changed in a time range.
pub(crate) const OAI_COUNT_ALL: &str =
    "SELECT COUNT(*) FROM records WHERE datestamp IS NOT NULL AND lastmod BETWEEN $1 AND $2";

/// The earliest datestamp OAI-PMH's Identify names: the lastmod index's first entry.
pub(crate) const OAI_EARLIEST: &str = "SELECT MIN(lastmod) FROM records WHERE datestamp IS NOT NULL";

/// The set specs after one: a loose index scan, one seek per distinct set,
/// never a walk of every membership row.
pub(crate) const OAI_SET_SPECS: &str = "WITH RECURSIVE s(spec, n) AS ( \
       SELECT (SELECT MIN(set_spec) FROM oai_sets WHERE set_spec > $1), 1 \
       UNION ALL \
       SELECT (SELECT MIN(set_spec) FROM oai_sets WHERE set_spec > s.spec), n + 1 FROM s \
       WHERE s.spec IS NOT NULL AND n < $2 \
     ) SELECT spec FROM s WHERE spec IS NOT NULL";

/// The `WHERE ... ORDER BY ... LIMIT` of [`WorkQueues::work_items`], built
/// from parts so that each shape of the query meets its index
/// (records_by_user, records_by_status_lastmod or records_by_status_type)
/// with plain equalities.
pub(crate) fn work_items_tail(query: &WorkQuery, limit: i64) -> (String, Vec<Bind<'_>>) {
    let mut binds = vec![Bind::Text(query.status.as_str())];
    let mut tail = String::from("WHERE r.status = $1");
    if let Some(owner) = query.owner {
        binds.push(Bind::Int(owner));
        tail.push_str(&format!(" AND r.userid = ${}", binds.len()));
    }
    if let Some(item_type) = &query.item_type {
        binds.push(Bind::Text(item_type.as_str()));
        tail.push_str(&format!(" AND r.item_type = ${}", binds.len()));
    }
    let (cmp, dir) = if query.newest_first { ("<", "DESC") } else { (">", "ASC") };
    if let Some((lastmod, id)) = query.after {
        binds.push(Bind::Int(lastmod));
        binds.push(Bind::Int(id));
        tail.push_str(&format!(" AND (r.lastmod, r.id) {cmp} (${}, ${})", binds.len() - 1, binds.len()));
    }
    binds.push(Bind::Int(limit));
    tail.push_str(&format!(" ORDER BY r.lastmod {dir}, r.id {dir} LIMIT ${}", binds.len()));
    (tail, binds)
}

/// The query of [`OaiSets::oai_records`] (id, revision, JSON): a keyset
/// page of a set's members, or of every OAI-visible record.
pub(crate) fn oai_records_query(query: &OaiQuery, after: RecordId, limit: i64) -> (String, Vec<Bind<'_>>) {
    let (from, until) = (query.from.unwrap_or(i64::MIN), query.until.unwrap_or(i64::MAX));
    let dated = query.from.is_some() || query.until.is_some();
    match &query.set {
        // Without dates, no date condition: PostgreSQL's generic plan (which
        // a prepared statement switches to) guesses that a range of unknown
        // bounds keeps a two-hundredth of the rows, finds sorting so few
        // cheaper than walking the set in order, and would then read and
        // sort every member of a large set for each page (postgres_plans.rs).
        Some(set) if !dated => (
            "SELECT r.id, r.rev, v.data FROM oai_sets s JOIN records r ON r.id = s.record_id \
             JOIN revisions v ON v.record_id = r.id AND v.number = r.rev \
             WHERE s.set_spec = $1 AND s.record_id > $2 \
             ORDER BY s.record_id LIMIT $3"
                .to_string(),
            vec![Bind::Text(set), Bind::Int(after), Bind::Int(limit)],
        ),
        Some(set) => (
            "SELECT r.id, r.rev, v.data FROM oai_sets s JOIN records r ON r.id = s.record_id \
             JOIN revisions v ON v.record_id = r.id AND v.number = r.rev \
             WHERE s.set_spec = $1 AND s.record_id > $2 AND r.lastmod BETWEEN $3 AND $4 \
             ORDER BY s.record_id LIMIT $5"
                .to_string(),
            vec![Bind::Text(set), Bind::Int(after), Bind::Int(from), Bind::Int(until), Bind::Int(limit)],
        ),
        // Without dates, the primary key walk; with them, the planner
        // picks between it and the lastmod index.
        None if !dated => (
            format!("{CURRENT_JSON} WHERE r.id > $1 AND r.datestamp IS NOT NULL ORDER BY r.id LIMIT $2"),
            vec![Bind::Int(after), Bind::Int(limit)],
        ),
        None => (
            format!(
                "{CURRENT_JSON} WHERE r.id > $1 AND r.datestamp IS NOT NULL AND r.lastmod BETWEEN $2 AND $3 \
                 ORDER BY r.id LIMIT $4"
            ),
            vec![Bind::Int(after), Bind::Int(from), Bind::Int(until), Bind::Int(limit)],
        ),
    }
}

/// The records of a query whose columns are id, revision and JSON, decoded
/// as they arrive (see [`decode_stream`]).
async fn fetch_decoded<B: Backend>(store: &B, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<Record>> {
    let mut conn = store.reader().await?;
    decode_stream(conn.stream(sql, binds), |row: &RowOf<B>| decode(row.int(0), row.text(2))).await
}

/// [`fetch_decoded`] of [`CURRENT_JSON`] with a `WHERE ...` tail.
async fn fetch_records<B: Backend>(store: &B, tail: &str, binds: &[Bind<'_>]) -> Result<Vec<Record>> {
    fetch_decoded(store, &format!("{CURRENT_JSON} {tail}"), binds).await
}

/// The current state of records from rows of [`CURRENT_JSON`], by id.
pub(crate) fn current_by_id<R: SqlRow>(rows: Vec<R>) -> Result<std::collections::HashMap<RecordId, (Record, i64)>> {
    rows.iter().map(|row| Ok((row.int(0), (decode(row.int(0), row.text(2))?, row.int(1))))).collect()
}

fn subject_of(row: &impl SqlRow) -> Subject {
    Subject { id: row.text(0).to_string(), name: row.text(1).to_string(), parent: row.opt_text(2).map(str::to_string) }
}

/// The subject tree, with the divisions, as `conn` sees it (inside a write
/// transaction, the tree that write changes; small, so read whole).
pub(crate) async fn subject_tree(conn: &mut impl Sql) -> Result<SubjectTree> {
    Ok(tree_of(&conn.rows(SUBJECT_TREE, &[]).await?))
}

const SUBJECT_TREE: &str = "SELECT id, name, parent, scheme FROM subjects ORDER BY pos, id";

fn tree_of(rows: &[impl SqlRow]) -> SubjectTree {
    let (divisions, subjects): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.text(3) == Scheme::Divisions.as_str());
    SubjectTree::with_divisions(
        subjects.into_iter().map(subject_of).collect(),
        divisions.into_iter().map(subject_of).collect(),
    )
}

/// The EPrints document and file ids a batch's records carry: (index in
/// the batch, kind, id). Only imported records have any.
fn eprints_ids_of(batch: &[RecordWrite]) -> Vec<(usize, &'static str, i64)> {
    let mut out = Vec::new();
    for (i, write) in batch.iter().enumerate() {
        for doc in &write.record.documents {
            out.extend(doc.eprints_docid.map(|d| (i, "document", d)));
            out.extend(doc.files.iter().filter_map(|f| f.eprints_fileid).map(|f| (i, "file", f)));
        }
    }
    // One row per id, the last write naming it winning (PostgreSQL refuses
    // an upsert that would touch one row twice).
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<_> = out.into_iter().rev().filter(|(_, kind, id)| seen.insert((*kind, *id))).collect();
    unique.reverse();
    unique
}

/// Notes which record holds each EPrints id, after the records' own write
/// (see the `eprints_ids` migration: a hint, so not in the records'
/// transaction; a write that fails here leaves the records written, and
/// the next write of the record notes them again). Multi-row upserts of a
/// few thousand rows, the same SQL on both backends.
async fn note_eprints_ids<B: Backend>(
    store: &B,
    legacy: &[(usize, &'static str, i64)],
    ids: &[RecordId],
) -> Result<()> {
    const ROWS: usize = 2000;
    let mut conn = store.writer().await?;
    for chunk in legacy.chunks(ROWS) {
        let mut sql = String::from("INSERT INTO eprints_ids (kind, eprints_id, record_id) VALUES ");
        let mut binds = Vec::with_capacity(chunk.len() * 3);
        for (n, (i, kind, eprints_id)) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            let values: Vec<String> = (3 * n + 1..=3 * n + 3).map(B::Conn::placeholder).collect();
            sql.push_str(&format!("({})", values.join(", ")));
            binds.extend([Bind::Text(kind), Bind::Int(*eprints_id), Bind::Int(ids[*i])]);
        }
        sql.push_str(" ON CONFLICT (kind, eprints_id) DO UPDATE SET record_id = excluded.record_id");
        conn.run(&sql, &binds).await?;
    }
    Ok(())
}

#[async_trait]
impl<B: Backend> Records for B {
    async fn put_records(&self, batch: Vec<RecordWrite>) -> Result<Vec<RecordId>> {
        self.put_records_noted(batch, None).await
    }

    async fn put_records_noted(&self, batch: Vec<RecordWrite>, note: Option<ImportNote>) -> Result<Vec<RecordId>> {
        if batch.is_empty() {
            if let Some(note) = &note {
                crate::import_progress::write_alone(self, note).await?;
            }
            return Ok(Vec::new());
        }
        let legacy = eprints_ids_of(&batch);
        let ids = self.write_records(batch, note.as_ref()).await?;
        if !legacy.is_empty() {
            note_eprints_ids(self, &legacy, &ids).await?;
        }
        Ok(ids)
    }

    async fn import_progress(&self, sha256: &str) -> Result<Option<ImportNote>> {
        crate::import_progress::read(&mut *self.reader().await?, sha256).await
    }

    async fn eprints_id_record(&self, kind: &str, eprints_id: i64) -> Result<Option<RecordId>> {
        let row = self
            .reader()
            .await?
            .row(
                "SELECT record_id FROM eprints_ids WHERE kind = $1 AND eprints_id = $2",
                &[Bind::Text(kind), Bind::Int(eprints_id)],
            )
            .await?;
        Ok(row.map(|r| r.int(0)))
    }

    async fn prepend_revisions(
        &self,
        id: RecordId,
        earlier: Vec<crate::history::EarlierRevision>,
    ) -> Result<crate::history::Prepended> {
        crate::history::prepend(self, id, earlier).await
    }

    async fn note_eprints_depositors(&self, depositors: &[(RecordId, i64)]) -> Result<()> {
        // One row per record, the last pair winning (PostgreSQL refuses an
        // upsert that would touch one row twice).
        let mut seen = std::collections::HashSet::new();
        let mut unique: Vec<&(RecordId, i64)> = depositors.iter().rev().filter(|(r, _)| seen.insert(*r)).collect();
        unique.reverse();
        let mut conn = self.writer().await?;
        for chunk in unique.chunks(2000) {
            let mut sql = String::from("INSERT INTO eprints_depositors (record_id, eprints_userid) VALUES ");
            let mut binds = Vec::with_capacity(chunk.len() * 2);
            for (n, (record, userid)) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                // SQLite's placeholders are anonymous: 4,000 numbered ones
                // cost the square of their number to bind (see
                // `Sql::placeholder`), a tenth of an import's time.
                let (a, b) = (<B::Conn as Sql>::placeholder(2 * n + 1), <B::Conn as Sql>::placeholder(2 * n + 2));
                sql.push_str(&format!("({a}, {b})"));
                binds.extend([Bind::Int(*record), Bind::Int(*userid)]);
            }
            sql.push_str(" ON CONFLICT (record_id) DO UPDATE SET eprints_userid = excluded.eprints_userid");
            conn.run(&sql, &binds).await?;
        }
        Ok(())
    }

    async fn eprints_depositor_records(&self, eprints_userid: i64) -> Result<Vec<RecordId>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT record_id FROM eprints_depositors WHERE eprints_userid = $1 ORDER BY record_id",
                &[Bind::Int(eprints_userid)],
            )
            .await?;
        Ok(rows.iter().map(|r| r.int(0)).collect())
    }

    async fn begin_bulk_load(&self) -> Result<()> {
        Backend::begin_bulk_load(self).await
    }

    async fn end_bulk_load(&self) -> Result<()> {
        Backend::end_bulk_load(self).await
    }

    async fn get_record(&self, id: RecordId) -> Result<Option<Record>> {
        Ok(self.get_record_with_revision(id).await?.map(|(r, _)| r))
    }

    async fn delete_draft(&self, id: RecordId, expected_revision: i64) -> Result<()> {
        let mut writer = self.writer().await?;
        let mut tx = B::begin_write(&mut writer).await?;
        let Some(row) = tx.row("SELECT rev, status, datestamp FROM records WHERE id = $1", &[Bind::Int(id)]).await?
        else {
            return Err(StoreError::NotFound(id));
        };
        let (current, status, datestamp) = (row.int(0), row.text(1).to_string(), row.opt_int(2));
        if current != expected_revision {
            return Err(StoreError::Conflict { id, expected: expected_revision, current });
        }
        let waiting = status == Status::Inbox.as_str() || status == Status::Buffer.as_str();
        if !waiting || datestamp.is_some() {
            return Err(StoreError::Refused(format!(
                "record {id} is not a draft that was never live ({status}): it cannot be deleted"
            )));
        }
        for sql in [
            "DELETE FROM revisions WHERE record_id = $1",
            "DELETE FROM file_purges WHERE record_id = $1",
            "DELETE FROM records WHERE id = $1",
        ] {
            tx.run(sql, &[Bind::Int(id)]).await?;
        }
        tx.commit().await?;
        self.note_write();
        Ok(())
    }

    async fn get_record_with_revision(&self, id: RecordId) -> Result<Option<(Record, i64)>> {
        let sql = format!("{CURRENT_JSON} WHERE r.id = $1");
        match self.reader().await?.row(&sql, &[Bind::Int(id)]).await? {
            Some(row) => Ok(Some((decode(id, row.text(2))?, row.int(1)))),
            None => Ok(None),
        }
    }

    async fn get_records(&self, ids: &[RecordId]) -> Result<Vec<Record>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = B::current(&mut *self.reader().await?, ids).await?;
        Ok(ids.iter().filter_map(|id| found.remove(id).map(|(r, _)| r)).collect())
    }

    async fn revisions(&self, id: RecordId) -> Result<Vec<Revision>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT number, actor, at, changed, data FROM revisions WHERE record_id = $1 ORDER BY number",
                &[Bind::Int(id)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Revision {
                    record_id: id,
                    number: row.int(0),
                    actor: row.text(1).to_string(),
                    at: Timestamp(row.int(2)),
                    changed: serde_json::from_str(row.text(3)).unwrap_or_default(),
                    record: decode(id, row.text(4))?,
                })
            })
            .collect()
    }

    fn scan(&self, filter: ScanFilter) -> BoxStream<'_, Result<Record>> {
        let start = filter.after_id.unwrap_or(0);
        let by_status = scan_by_status::<B>();
        futures::stream::unfold(Some(start), move |after| {
            let status = filter.status;
            let by_status = by_status.clone();
            async move {
                let after = after?;
                let page = match status {
                    Some(s) => {
                        fetch_records(
                            self,
                            &by_status,
                            &[Bind::Int(after), Bind::Text(s.as_str()), Bind::Int(SCAN_PAGE)],
                        )
                        .await
                    }
                    None => {
                        fetch_records(
                            self,
                            "WHERE r.id > $1 ORDER BY r.id LIMIT $2",
                            &[Bind::Int(after), Bind::Int(SCAN_PAGE)],
                        )
                        .await
                    }
                };
                match page {
                    Ok(records) => {
                        let next =
                            if (records.len() as i64) < SCAN_PAGE { None } else { records.last().and_then(|r| r.id) };
                        Some((futures::stream::iter(records.into_iter().map(Ok)).boxed(), next))
                    }
                    Err(e) => Some((futures::stream::iter(vec![Err(e)]).boxed(), None)),
                }
            }
        })
        .flatten()
        .boxed()
    }

    async fn latest(&self, limit: i64) -> Result<Vec<Record>> {
        fetch_records(self, LATEST_TAIL, &[Bind::Int(limit)]).await
    }

    async fn live_ids(&self, after: RecordId, through: RecordId) -> Result<Vec<(RecordId, Timestamp)>> {
        let rows = self.reader().await?.rows(&live_ids_sql::<B>(), &[Bind::Int(after), Bind::Int(through)]).await?;
        Ok(rows.iter().map(|row| (row.int(0), Timestamp(row.int(1)))).collect())
    }

    async fn max_record_id(&self) -> Result<RecordId> {
        scalar(self, "SELECT COALESCE(MAX(id), 0) FROM records", &[]).await
    }

    async fn status_counts(&self) -> Result<StatusCounts> {
        let rows = self.reader().await?.rows("SELECT status, COUNT(*) FROM records GROUP BY status", &[]).await?;
        let mut counts = StatusCounts::default();
        for row in rows {
            let n = row.int(1);
            match parse_status(row.text(0)) {
                Status::Inbox => counts.inbox = n,
                Status::Buffer => counts.buffer = n,
                Status::Archive => counts.archive = n,
                Status::Deletion => counts.deletion = n,
            }
        }
        Ok(counts)
    }
}

/// The one integer a query answers (a count, a maximum).
async fn scalar<B: Backend>(store: &B, sql: &str, binds: &[Bind<'_>]) -> Result<i64> {
    let row = store.reader().await?.row(sql, binds).await?;
    Ok(row.map(|r| r.int(0)).unwrap_or(0))
}

/// The first column of every row, as integers (ids).
async fn ints<B: Backend>(store: &B, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<i64>> {
    Ok(store.reader().await?.rows(sql, binds).await?.iter().map(|r| r.int(0)).collect())
}

#[async_trait]
impl<B: Backend> ChangeFeed for B {
    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<Change>> {
        let rows = self.reader().await?.rows(CHANGES_SINCE, &[Bind::Int(seq), Bind::Int(limit)]).await?;
        Ok(rows
            .iter()
            .map(|row| Change {
                seq: row.int(0),
                record_id: row.int(1),
                revision: row.int(2),
                status: parse_status(row.text(3)),
                at: Timestamp(row.int(4)),
            })
            .collect())
    }

    async fn last_change(&self) -> Result<i64> {
        scalar(self, "SELECT COALESCE(MAX(seq), 0) FROM changes", &[]).await
    }

    fn local_writes(&self) -> u64 {
        self.write_counter().load(std::sync::atomic::Ordering::Acquire)
    }
}

#[async_trait]
impl<B: Backend> Browse for B {
    async fn browse_values(&self, view: BrowseView, after: Option<&str>, limit: i64) -> Result<Vec<BrowseValue>> {
        let rows = self
            .reader()
            .await?
            .rows(BROWSE_VALUES, &[Bind::Text(view.as_str()), Bind::Text(after.unwrap_or("")), Bind::Int(limit)])
            .await?;
        Ok(rows.iter().map(|row| BrowseValue { value: row.text(0).to_string(), count: row.int(1) }).collect())
    }

    async fn browse_count(&self, view: BrowseView, value: &str) -> Result<i64> {
        scalar(
            self,
            "SELECT COALESCE(MAX(n), 0) FROM browse_counts WHERE view = $1 AND value = $2",
            &[Bind::Text(view.as_str()), Bind::Text(value)],
        )
        .await
    }

    async fn browse_page(
        &self,
        view: BrowseView,
        value: &str,
        after: Option<&BrowseCursor>,
        limit: i64,
    ) -> Result<Page> {
        let (after_key, after_id) = after.map(|(k, id)| (k.as_str(), *id)).unwrap_or(("", 0));
        let rows = self
            .reader()
            .await?
            .rows(
                BROWSE_PAGE,
                &[
                    Bind::Text(view.as_str()),
                    Bind::Text(value),
                    Bind::Text(after_key),
                    Bind::Int(after_id),
                    Bind::Int(limit + 1),
                ],
            )
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        let mut next = None;
        for (i, row) in rows.iter().enumerate() {
            if i as i64 == limit {
                let last = &rows[i - 1];
                next = Some((last.text(0).to_string(), last.int(1)));
                break;
            }
            records.push(decode(row.int(1), row.text(2))?);
        }
        Ok(Page { records, next })
    }

    async fn subject_tree(&self) -> Result<SubjectTree> {
        Ok(tree_of(&self.reader().await?.rows(SUBJECT_TREE, &[]).await?))
    }

    async fn put_subjects(&self, scheme: Scheme, subjects: &[Subject]) -> Result<u64> {
        for s in subjects {
            B::check_text(&|| format!("subject {:?}: the id", s.id), &s.id)?;
            B::check_text(&|| format!("subject {:?}: the name", s.id), &s.name)?;
            B::check_text(&|| format!("subject {:?}: the parent", s.id), s.parent.as_deref().unwrap_or(""))?;
        }
        let mut writer = self.writer().await?;
        // One writer at a time: the tree is read before it is written, and
        // the rewrite of its records may be long.
        let mut tx = B::begin_write(&mut writer).await?;
        let rewritten = put_subjects_in(self, &mut tx, scheme, subjects).await?;
        // What other nodes watch to know the tree changed (one read of
        // `meta` rather than of the whole tree): a count of the changes,
        // moved on under the writers' lock.
        let version = read_meta(&mut *tx, crate::SUBJECTS_VERSION).await?;
        let next = version.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
        write_meta(&mut *tx, crate::SUBJECTS_VERSION, &next.to_string()).await?;
        tx.commit().await?;
        if rewritten > 0 {
            self.note_write();
        }
        Ok(rewritten)
    }
}

/// [`Browse::put_subjects`] inside its transaction: the subjects upserted,
/// then the records whose sets moved rewritten, a keyset page of an old
/// set's members at a time (a rewritten record leaves the old set before
/// the next page is read).
async fn put_subjects_in<B: Backend>(store: &B, tx: &mut B::Conn, scheme: Scheme, subjects: &[Subject]) -> Result<u64> {
    let old = subject_tree(tx).await?;
    let base = tx.row("SELECT COALESCE(MAX(pos), 0) FROM subjects", &[]).await?.map(|r| r.int(0)).unwrap_or(0);
    for (i, s) in subjects.iter().enumerate() {
        tx.run(
            "INSERT INTO subjects (id, name, parent, pos, scheme) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent = excluded.parent, scheme = excluded.scheme",
            &[
                Bind::Text(&s.id),
                Bind::Text(&s.name),
                Bind::OptText(s.parent.as_deref()),
                Bind::Int(base + i as i64 + 1),
                Bind::Text(scheme.as_str()),
            ],
        )
        .await?;
    }
    let new = subject_tree(tx).await?;
    let now = Timestamp::now();
    let mut rewritten = 0;
    for spec in moved_subject_sets(&old, &new) {
        let mut after: RecordId = 0;
        loop {
            let rows = tx
                .rows(
                    "SELECT record_id FROM oai_sets WHERE set_spec = $1 AND record_id > $2 ORDER BY record_id LIMIT $3",
                    &[Bind::Text(&spec), Bind::Int(after), Bind::Int(TREE_REFRESH_BATCH)],
                )
                .await?;
            let ids: Vec<RecordId> = rows.iter().map(|r| r.int(0)).collect();
            let Some(&last) = ids.last() else { break };
            after = last;
            let stored = B::current(tx, &ids).await?;
            let batch = prepare_tree_refresh(&stored, &old, &new, now)?;
            store.write_prepared(tx, &batch).await?;
            rewritten += batch.writes.len() as u64;
        }
    }
    Ok(rewritten)
}

#[async_trait]
impl<B: Backend> OaiSets for B {
    async fn oai_records(&self, query: &OaiQuery, after: RecordId, limit: i64) -> Result<Vec<Record>> {
        let (sql, binds) = oai_records_query(query, after, limit);
        fetch_decoded(self, &sql, &binds).await
    }

    async fn oai_count(&self, query: &OaiQuery) -> Result<i64> {
        let range = [Bind::Int(query.from.unwrap_or(i64::MIN)), Bind::Int(query.until.unwrap_or(i64::MAX))];
        match &query.set {
            Some(set) => scalar(self, OAI_COUNT_SET, &[Bind::Text(set), range[0], range[1]]).await,
            None => scalar(self, OAI_COUNT_ALL, &range).await,
        }
    }

    async fn oai_earliest(&self) -> Result<Option<Timestamp>> {
        let row = self.reader().await?.row(OAI_EARLIEST, &[]).await?;
        Ok(row.and_then(|r| r.opt_int(0)).map(Timestamp))
    }

    async fn oai_set_specs(&self, after: &str, limit: i64) -> Result<Vec<String>> {
        let rows = self.reader().await?.rows(OAI_SET_SPECS, &[Bind::Text(after), Bind::Int(limit)]).await?;
        Ok(rows.iter().map(|r| r.text(0).to_string()).collect())
    }
}

#[async_trait]
impl<B: Backend> WorkQueues for B {
    async fn work_items(&self, query: &WorkQuery, limit: i64) -> Result<Vec<Record>> {
        let (tail, binds) = work_items_tail(query, limit);
        fetch_records(self, &tail, &binds).await
    }

    async fn embargoes_due(&self, day: i64, limit: i64) -> Result<Vec<RecordId>> {
        ints(self, EMBARGOES_DUE, &[Bind::Int(day), Bind::Int(limit)]).await
    }

    async fn later_versions(&self, id: RecordId) -> Result<Vec<RecordId>> {
        ints(self, LATER_VERSIONS, &[Bind::Int(id)]).await
    }
}

/// A `meta` value read on `conn` (inside the caller's transaction, if any).
pub(crate) async fn read_meta(conn: &mut impl Sql, key: &str) -> Result<Option<String>> {
    let row = conn.row("SELECT value FROM meta WHERE key = $1", &[Bind::Text(key)]).await?;
    Ok(row.map(|r| r.text(0).to_string()))
}

/// Sets a `meta` value on `conn` (inside the caller's transaction, if any).
pub(crate) async fn write_meta(conn: &mut impl Sql, key: &str, value: &str) -> Result<()> {
    conn.run(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[Bind::Text(key), Bind::Text(value)],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl<B: Backend> Meta for B {
    async fn meta(&self, key: &str) -> Result<Option<String>> {
        read_meta(&mut *self.reader().await?, key).await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        B::check_text(&|| format!("setting {key:?}: the key"), key)?;
        B::check_text(&|| format!("setting {key:?}: the value"), value)?;
        write_meta(&mut *self.writer().await?, key, value).await
    }

    async fn meta_or_insert(&self, key: &str, value: &str) -> Result<String> {
        B::check_text(&|| format!("setting {key:?}: the key"), key)?;
        B::check_text(&|| format!("setting {key:?}: the value"), value)?;
        let mut writer = self.writer().await?;
        writer
            .run(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[Bind::Text(key), Bind::Text(value)],
            )
            .await?;
        // Read on the writer: a reader may lag behind it (a replica).
        Ok(read_meta(&mut *writer, key).await?.unwrap_or_else(|| value.to_string()))
    }

    async fn add_meta_entries(&self, key: &str, entries: &[(String, String)]) -> Result<Vec<String>> {
        for (name, value) in entries {
            B::check_text(&|| format!("setting {key:?}: the name {name:?}"), name)?;
            B::check_text(&|| format!("setting {key:?}: the value of {name:?}"), value)?;
        }
        let mut writer = self.writer().await?;
        let mut tx = B::begin_write(&mut writer).await?;
        let stored = read_meta(&mut *tx, key).await?;
        // A value that is not an object is replaced: nothing else writes it.
        let mut map: serde_json::Map<String, serde_json::Value> =
            stored.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
        let mut added = Vec::new();
        for (name, value) in entries {
            if !map.contains_key(name) {
                map.insert(name.clone(), serde_json::Value::String(value.clone()));
                added.push(name.clone());
            }
        }
        if !added.is_empty() {
            write_meta(&mut *tx, key, &serde_json::Value::Object(map).to_string()).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn size_bytes(&self) -> Result<Option<u64>> {
        Backend::size_bytes(self).await
    }

    async fn release_write_cache(&self) -> Result<()> {
        Backend::release_write_cache(self).await
    }

    async fn ping(&self) -> Result<()> {
        self.reader().await?.rows("SELECT 1", &[]).await?;
        Ok(())
    }

    fn pool_use(&self) -> crate::PoolUse {
        Backend::pool_use(self)
    }
}
