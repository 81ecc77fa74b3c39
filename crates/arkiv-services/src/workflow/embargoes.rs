//! Embargoes that lift by themselves on their date.
//!
//! Who may read a document is decided at every request
//! ([`arkiv_model::Document::is_open_access`] compares the embargo with
//! today), so a download opens on the day without anyone doing anything.
//! What was derived from the record when it was written does not: OAI-PMH's
//! `driver` set (open access with full text), the search index's full text
//! and snippets, and `lastmod`, which tells harvesters to come back. The
//! job here rewrites each record whose embargo has ended, clearing the
//! dates that are over: a revision by `system:embargo` that the history
//! shows, and a change that every follower (search, OAI sets, caches)
//! applies like any other.
//!
//! The store indexes each live record's next embargo end as it is written,
//! so a run reads what is due, never the whole repository. The web server
//! runs it every hour; `arkiv lift-embargoes` runs it from cron.

use crate::Repository;
use arkiv_model::document::embargo_over;
use arkiv_model::{PartialDate, RecordId};
use arkiv_storage::{RecordWrite, StoreError};
use std::collections::HashSet;

/// The actor of the revisions this job writes.
pub const EMBARGO_ACTOR: &str = "system:embargo";

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LiftReport {
    /// Records rewritten with their ended embargoes cleared.
    pub lifted: Vec<RecordId>,
    /// Records changed by someone else meanwhile: the next run takes them.
    pub deferred: Vec<RecordId>,
}

/// Records taken per store read.
const BATCH: i64 = 200;

/// Lifts every embargo that has ended by `today` (a full date).
pub async fn lift_embargoes(repo: &Repository, today: PartialDate) -> Result<LiftReport, StoreError> {
    let day =
        i64::from(today.year) * 10_000 + i64::from(today.month.unwrap_or(1)) * 100 + i64::from(today.day.unwrap_or(1));
    let mut report = LiftReport::default();
    let mut seen = HashSet::new();
    loop {
        let due = repo.store.embargoes_due(day, BATCH).await?;
        let fresh: Vec<RecordId> = due.into_iter().filter(|id| seen.insert(*id)).collect();
        // A record met twice in one run was rewritten and is still due (or
        // could not be written): stop rather than go round.
        if fresh.is_empty() {
            return Ok(report);
        }
        for id in fresh {
            let Some((mut record, revision)) = repo.store.get_record_with_revision(id).await? else { continue };
            for document in &mut record.documents {
                if document.embargo.is_some_and(|until| embargo_over(until, today)) {
                    document.embargo = None;
                }
            }
            record.lastmod = Some(repo.now());
            let mut write = RecordWrite::new(record, EMBARGO_ACTOR);
            write.expected_revision = Some(revision);
            match repo.store.put_records(vec![write]).await {
                Ok(_) => {
                    tracing::info!(record = id, "embargo lifted");
                    report.lifted.push(id);
                }
                Err(StoreError::Conflict { .. }) => report.deferred.push(id),
                Err(e) => return Err(e),
            }
        }
    }
}
