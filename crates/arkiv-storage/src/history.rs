//! Earlier states of a record, put beneath the revisions it has: how the
//! history a record had in EPrints (its revision files) comes along after
//! the record itself was imported.
//!
//! The record's current state does not change; its revisions are numbered
//! anew, the earlier states first, so revision 1 is again the first state
//! the record ever had. Everything that names a revision by number (the
//! `records` row, the change feed) moves with it, in one transaction, and
//! a change-feed entry at the new number tells followers (the search
//! index, page caches) that the record's revision number moved. A form
//! opened on the old number then meets a conflict, as after any edit.

use crate::sql::{Backend, Bind, Sql, SqlRow};
use crate::Result;
use arkiv_model::{changed_fields, Record, RecordId, Timestamp};

/// One earlier state of a record, with who made it and when.
#[derive(Debug, Clone)]
pub struct EarlierRevision {
    pub actor: String,
    pub at: Timestamp,
    pub record: Record,
}

/// What [`crate::Records::prepend_revisions`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepended {
    /// This many revisions were put beneath the record's.
    Added(usize),
    /// Nothing: the record has no such id.
    NoRecord,
    /// Nothing: the record's first revision is not later than the last
    /// state given (its history was already imported, or the states are
    /// not earlier than it).
    NotEarlier { first: Timestamp },
}

pub(crate) async fn prepend<B: Backend>(
    store: &B,
    id: RecordId,
    mut earlier: Vec<EarlierRevision>,
) -> Result<Prepended> {
    if earlier.is_empty() {
        return Ok(Prepended::Added(0));
    }
    earlier.sort_by_key(|e| e.at);
    for e in &mut earlier {
        e.record.id = Some(id);
    }
    let mut writer = store.writer().await?;
    let mut tx = B::begin_write(&mut writer).await?;
    let Some(row) = tx.row("SELECT rev, status FROM records WHERE id = $1", &[Bind::Int(id)]).await? else {
        return Ok(Prepended::NoRecord);
    };
    let status = row.text(1).to_string();
    let first = tx
        .row("SELECT at, data FROM revisions WHERE record_id = $1 AND number = 1", &[Bind::Int(id)])
        .await?
        .map(|r| (Timestamp(r.int(0)), r.text(1).to_string()));
    let Some((first_at, first_json)) = first else { return Ok(Prepended::NoRecord) };
    let last_earlier = earlier.last().map(|e| e.at).unwrap_or(first_at);
    if last_earlier >= first_at {
        return Ok(Prepended::NotEarlier { first: first_at });
    }
    let k = earlier.len() as i64;
    // Two steps, so that no number is held twice on the way (the primary
    // key is checked row by row on PostgreSQL).
    tx.run("UPDATE revisions SET number = -number - $2 WHERE record_id = $1", &[Bind::Int(id), Bind::Int(k)]).await?;
    tx.run("UPDATE revisions SET number = -number WHERE record_id = $1", &[Bind::Int(id)]).await?;
    tx.run("UPDATE records SET rev = rev + $2 WHERE id = $1", &[Bind::Int(id), Bind::Int(k)]).await?;
    tx.run("UPDATE changes SET rev = rev + $2 WHERE record_id = $1", &[Bind::Int(id), Bind::Int(k)]).await?;
    let mut previous: Option<&Record> = None;
    for (i, e) in earlier.iter().enumerate() {
        let changed = serde_json::to_string(&changed_fields(previous, &e.record)).expect("strings serialize");
        let json = serde_json::to_string(&e.record).expect("records serialize");
        tx.run(
            "INSERT INTO revisions (record_id, number, actor, at, changed, data) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Bind::Int(id),
                Bind::Int(i as i64 + 1),
                Bind::Text(&e.actor),
                Bind::Int(e.at.0),
                Bind::Text(&changed),
                Bind::Text(&json),
            ],
        )
        .await?;
        previous = Some(&e.record);
    }
    // The first state the record had in Arkiv now follows the last earlier
    // one: what it changed is told against that, not against nothing.
    let first_record = crate::rows::decode(id, &first_json)?;
    let changed = serde_json::to_string(&changed_fields(previous, &first_record)).expect("strings serialize");
    tx.run(
        "UPDATE revisions SET changed = $3 WHERE record_id = $1 AND number = $2",
        &[Bind::Int(id), Bind::Int(k + 1), Bind::Text(&changed)],
    )
    .await?;
    let at = Timestamp::now();
    tx.run(
        "INSERT INTO changes (record_id, rev, status, at) SELECT id, rev, $2, $3 FROM records WHERE id = $1",
        &[Bind::Int(id), Bind::Text(&status), Bind::Int(at.0)],
    )
    .await?;
    tx.commit().await?;
    store.note_write();
    Ok(Prepended::Added(earlier.len()))
}
