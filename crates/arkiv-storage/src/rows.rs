//! What a write means, independent of the database: the revision number, the
//! JSON, the changed fields, and which browse entries come and go. Both
//! backends call [`prepare_batch`] and then only run SQL.

use crate::{RecordWrite, Result, StoreError};
use arkiv_model::browse::browse_entries;
use arkiv_model::document::next_embargo_end;
use arkiv_model::oai_sets::{record_sets, scheme_set};
use arkiv_model::{changed_fields, BrowseEntry, Record, RecordId, Status, SubjectTree, Timestamp};
use std::collections::{BTreeMap, HashMap};

/// A record write ready for SQL.
pub struct PreparedWrite {
    pub id: RecordId,
    pub revision: i64,
    pub status: Status,
    pub item_type: String,
    /// The depositing user (a column, so workareas are range reads).
    pub userid: Option<i64>,
    /// A live record's next embargo end (YYYYMMDD), if one is ahead.
    pub embargo_until: Option<i64>,
    /// The earlier version this record is a new version of.
    pub succeeds: Option<RecordId>,
    pub datestamp: Option<i64>,
    pub lastmod: i64,
    pub at: i64,
    pub actor: String,
    pub changed_json: String,
    pub json: String,
}

/// How one record's browse entries change over a whole batch.
pub struct BrowseChange {
    pub id: RecordId,
    pub remove: Vec<BrowseEntry>,
    pub add: Vec<BrowseEntry>,
}

/// How one record's OAI-PMH set memberships change over a whole batch.
pub struct SetChange {
    pub id: RecordId,
    pub remove: Vec<String>,
    pub add: Vec<String>,
}

/// A batch ready for SQL: the rows of every write, and the browse and OAI
/// set changes from the stored state of each record to its final state in
/// the batch.
pub struct PreparedBatch {
    pub ids: Vec<RecordId>,
    pub writes: Vec<PreparedWrite>,
    pub browse: Vec<BrowseChange>,
    pub sets: Vec<SetChange>,
}

/// The OAI-PMH sets a record is listed in: none until it has been live once
/// (OAI-PMH never shows it before), then its sets whatever its status, so
/// a withdrawn record is reported deleted in a set harvest too.
///
/// Membership is computed from the subject tree as it is at the write. A
/// later change to the tree (a subject moved under another parent) is
/// carried to the records it concerns by [`prepare_tree_refresh`], in the
/// transaction that changes the tree.
fn oai_sets(record: &Record, subjects: &SubjectTree, now: Timestamp) -> Vec<String> {
    if record.datestamp.is_none() {
        return Vec::new();
    }
    record_sets(record, subjects, now.date())
}

/// Prepares a batch. `stored` holds the current state of the records the
/// batch names by id; `allocate` hands out ids for new records. A batch may
/// write one record several times: each write builds on the one before, and
/// each gets its own revision and change-feed entry.
pub(crate) fn prepare_batch(
    batch: Vec<RecordWrite>,
    stored: &HashMap<RecordId, (Record, i64)>,
    mut allocate: impl FnMut() -> RecordId,
    now: Timestamp,
    subjects: &SubjectTree,
) -> Result<PreparedBatch> {
    let mut latest: HashMap<RecordId, (Record, i64)> = HashMap::new();
    let mut ids = Vec::with_capacity(batch.len());
    let mut writes = Vec::with_capacity(batch.len());
    let mut order = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for write in batch {
        let id = write.record.id.unwrap_or_else(&mut allocate);
        let previous = latest.remove(&id).or_else(|| stored.get(&id).cloned());
        if seen.insert(id) {
            order.push(id);
        }
        let (prepared, record) = prepare(write, id, previous, now)?;
        latest.insert(id, (record, prepared.revision));
        ids.push(id);
        writes.push(prepared);
    }
    let mut browse = Vec::new();
    let mut sets = Vec::new();
    for id in order {
        let old_sets = stored.get(&id).map(|(r, _)| oai_sets(r, subjects, now)).unwrap_or_default();
        let new_sets = latest.get(&id).map(|(r, _)| oai_sets(r, subjects, now)).unwrap_or_default();
        let remove: Vec<_> = old_sets.iter().filter(|s| !new_sets.contains(s)).cloned().collect();
        let add: Vec<_> = new_sets.iter().filter(|s| !old_sets.contains(s)).cloned().collect();
        if !remove.is_empty() || !add.is_empty() {
            sets.push(SetChange { id, remove, add });
        }
        let old_entries = stored.get(&id).map(|(r, _)| browse_entries(r)).unwrap_or_default();
        let new_entries = latest.get(&id).map(|(r, _)| browse_entries(r)).unwrap_or_default();
        let remove: Vec<_> = old_entries.iter().filter(|e| !new_entries.contains(e)).cloned().collect();
        let add: Vec<_> = new_entries.iter().filter(|e| !old_entries.contains(e)).cloned().collect();
        if !remove.is_empty() || !add.is_empty() {
            browse.push(BrowseChange { id, remove, add });
        }
    }
    Ok(PreparedBatch { ids, writes, browse, sets })
}

/// Who writes the revisions a change of the subject tree makes.
pub(crate) const SUBJECTS_ACTOR: &str = "system:subjects";

/// Records rewritten per statement batch when the subject tree changes: the
/// records of a subject are read, rewritten and let go this many at a time,
/// so a subject with 100,000 records never sits in memory at once.
pub(crate) const TREE_REFRESH_BATCH: i64 = 500;

/// The sets (as `old` names them) of the subjects whose setSpec differs
/// between the tree before a change (`old`) and after it (`new`): a moved
/// subject and each of its descendants, or a subject records already named
/// that now takes a place under a parent. Every record filed under one of
/// them is a member of that old set (a record is in each ancestor's set),
/// so these sets are where the records to rewrite are found: an index range
/// walk of `oai_sets` per subject.
///
/// Only setSpecs depend on the tree among what a write derives: browse
/// entries keep a record's own subject ids (the subject view sums over the
/// tree as it is when the page is drawn), so a move changes no browse row
/// or count.
///
/// Divisions are nodes of the same kind; a node's tree in `new` decides the
/// set an id unknown to `old` had (`division:x` for a division records
/// named before it was defined).
pub(crate) fn moved_subject_sets(old: &SubjectTree, new: &SubjectTree) -> Vec<String> {
    let mut specs: Vec<String> = new
        .all()
        .filter_map(|s| {
            let scheme = new.scheme_of(&s.id).unwrap_or_default();
            let before = scheme_set(old, scheme, &s.id);
            (before != scheme_set(new, scheme, &s.id)).then_some(before)
        })
        .collect();
    specs.sort();
    specs.dedup();
    specs
}

/// The rewrite of records whose sets a change of the subject tree moved:
/// each record (as `stored`) gets a new revision by [`SUBJECTS_ACTOR`] with
/// nothing changed but `lastmod` (now), so its change-feed entry makes the
/// search index file it under its new subject path and its OAI-PMH
/// datestamp moves (a change of set membership is a change of the record
/// for a harvester). Its set rows are rebuilt rather than diffed with one
/// tree (which would find nothing to do): every set it had under `old` and
/// every set it has under `new` is deleted, then the latter inserted.
pub(crate) fn prepare_tree_refresh(
    stored: &HashMap<RecordId, (Record, i64)>,
    old: &SubjectTree,
    new: &SubjectTree,
    now: Timestamp,
) -> Result<PreparedBatch> {
    let mut ids: Vec<RecordId> = stored.keys().copied().collect();
    ids.sort_unstable();
    let writes = ids
        .iter()
        .map(|id| {
            let (record, revision) = &stored[id];
            let mut record = record.clone();
            record.lastmod = Some(now);
            RecordWrite { record, actor: SUBJECTS_ACTOR.into(), expected_revision: Some(*revision) }
        })
        .collect();
    let mut batch = prepare_batch(writes, stored, || unreachable!("every record rewritten has an id"), now, new)?;
    batch.sets = ids
        .iter()
        .map(|&id| {
            let record = &stored[&id].0;
            let add = oai_sets(record, new, now);
            let mut remove = oai_sets(record, old, now);
            remove.extend(add.iter().cloned());
            remove.sort();
            remove.dedup();
            SetChange { id, remove, add }
        })
        .collect();
    Ok(batch)
}

/// Turns a write into rows. `old` is the stored record and its revision, if
/// the id exists. Fills the bookkeeping fields the store owns: `lastmod`
/// when missing, and `datestamp` the first time a record goes live.
fn prepare(
    mut write: RecordWrite,
    id: RecordId,
    old: Option<(Record, i64)>,
    now: Timestamp,
) -> Result<(PreparedWrite, Record)> {
    let current = old.as_ref().map(|(_, rev)| *rev).unwrap_or(0);
    if let Some(expected) = write.expected_revision {
        if expected != current {
            return Err(StoreError::Conflict { id, expected, current });
        }
    }
    let record = &mut write.record;
    record.id = Some(id);
    if record.lastmod.is_none() {
        record.lastmod = Some(now);
    }
    if record.datestamp.is_none() {
        // Kept even by a write that does not carry it (a withdrawal, say).
        record.datestamp = old.as_ref().and_then(|(o, _)| o.datestamp);
    }
    if record.datestamp.is_none() {
        match record.status {
            Status::Archive => record.datestamp = Some(now),
            // Withdrawn without ever having been made live here: an import
            // of EPrints' deletion buffer (records there were live once;
            // their exports carry no datestamp). Its last modification, else
            // now, stands in, so that OAI-PMH, whose Identify promises
            // `persistent` deletions, reports it deleted from the start.
            Status::Deletion => record.datestamp = Some(record.lastmod.unwrap_or(now)),
            Status::Inbox | Status::Buffer => {}
        }
    }
    let old_record = old.as_ref().map(|(r, _)| r);
    let changed = changed_fields(old_record, record);
    // Only live records have embargoes that the embargo job lifts; an item
    // under review is lifted (if still due) when it is accepted.
    let embargo_until =
        (record.status == Status::Archive).then(|| next_embargo_end(&record.documents, now.date())).flatten();
    let prepared = PreparedWrite {
        id,
        revision: current + 1,
        status: record.status,
        item_type: record.item_type.clone(),
        userid: record.userid,
        embargo_until,
        succeeds: record.succeeds,
        datestamp: record.datestamp.map(|t| t.0),
        lastmod: record.lastmod.map(|t| t.0).unwrap_or(now.0),
        at: now.0,
        actor: write.actor,
        changed_json: serde_json::to_string(&changed).expect("strings serialize"),
        json: record_json(record),
    };
    Ok((prepared, write.record))
}

/// A record as the JSON its revision keeps, written into a buffer of about
/// a record's size rather than one that doubles from a few bytes up.
fn record_json(record: &Record) -> String {
    let mut json = Vec::with_capacity(4096);
    serde_json::to_writer(&mut json, record).expect("records serialize");
    String::from_utf8(json).expect("serde_json writes UTF-8")
}

impl PreparedBatch {
    /// The last write of each record: the state its `records` row takes.
    pub fn final_writes(&self) -> Vec<&PreparedWrite> {
        let mut seen = std::collections::HashSet::new();
        let mut last: Vec<&PreparedWrite> = self.writes.iter().rev().filter(|w| seen.insert(w.id)).collect();
        last.reverse();
        last
    }
}

/// Net change of each browse value's count over a batch, so that a batch of
/// a thousand records from one year updates that year's count once.
pub(crate) fn count_deltas(changes: &[BrowseChange]) -> BTreeMap<(&'static str, String), i64> {
    let mut deltas = BTreeMap::new();
    for c in changes {
        for e in &c.add {
            *deltas.entry((e.view.as_str(), e.value.clone())).or_insert(0) += 1;
        }
        for e in &c.remove {
            *deltas.entry((e.view.as_str(), e.value.clone())).or_insert(0) -= 1;
        }
    }
    deltas.retain(|_, d| *d != 0);
    deltas
}

pub(crate) fn decode(id: RecordId, json: &str) -> Result<Record> {
    serde_json::from_str(json).map_err(|source| StoreError::Corrupt { id, source })
}

/// Rows decoded as one task by [`decode_stream`].
const DECODE_CHUNK: usize = 64;

/// Decodes a query's rows as they arrive, [`DECODE_CHUNK`] at a time on
/// the CPU pool, so decoding overlaps the reading of the rows that follow
/// (a harvest page of 500 records spends about as long in each; BENCHMARKS.md,
/// OAI-PMH); the rows are freed where they were decoded. In query order.
pub(crate) async fn decode_stream<R, S>(rows: S, decode_row: fn(&R) -> Result<Record>) -> Result<Vec<Record>>
where
    R: Send + 'static,
    S: futures::Stream<Item = std::result::Result<R, sqlx::Error>>,
{
    use futures::StreamExt;
    let mut rows = std::pin::pin!(rows);
    let mut parts = Vec::new();
    let mut chunk = Vec::with_capacity(DECODE_CHUNK);
    while let Some(row) = rows.next().await {
        chunk.push(row?);
        if chunk.len() == DECODE_CHUNK {
            parts.push(decode_on_pool(std::mem::replace(&mut chunk, Vec::with_capacity(DECODE_CHUNK)), decode_row));
        }
    }
    if parts.is_empty() {
        return chunk.iter().map(decode_row).collect();
    }
    if !chunk.is_empty() {
        parts.push(decode_on_pool(chunk, decode_row));
    }
    let mut records = Vec::with_capacity(parts.len() * DECODE_CHUNK);
    for part in parts {
        let decoded =
            part.await.map_err(|_| StoreError::Io(std::io::Error::other("a decoding task ended without an answer")))?;
        records.extend(decoded?);
    }
    Ok(records)
}

fn decode_on_pool<R: Send + 'static>(
    rows: Vec<R>,
    decode_row: fn(&R) -> Result<Record>,
) -> tokio::sync::oneshot::Receiver<Result<Vec<Record>>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        // A panic in a task of rayon's pool would end the process: it is
        // caught and becomes this list's error instead.
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rows.iter().map(decode_row).collect()))
            .unwrap_or_else(|_| Err(StoreError::Io(std::io::Error::other("decoding a stored record panicked"))));
        let _ = tx.send(decoded);
    });
    rx
}

pub(crate) fn parse_status(s: &str) -> Status {
    Status::parse(s).unwrap_or_default()
}
