//! Keeping the index in step with the store.
//!
//! [`Follower`] tails the change feed: it reads changes after the sequence
//! the index last committed ([`SearchIndex::indexed_seq`]), fetches the
//! current version of each changed record, indexes the live ones and removes
//! the others, and commits with the last sequence as the commit's payload.
//! Because the sequence and the documents are committed together, a crash
//! at any point leaves the index at some committed sequence, and the next
//! start resumes from there; applying a change twice is harmless (a record
//! is replaced by its current version). The store's invariant that
//! sequences increase in commit order means nothing is skipped.
//!
//! [`reindex`] builds a new generation from a scan of the live records while
//! the old one keeps serving, then publishes it (see [`crate::index`]). It
//! records the store's last sequence *before* the scan, so changes made
//! during the scan are applied again by the follower afterwards.

use crate::extract::Extractor;
use crate::index::SearchIndex;
use anyhow::Result;
use arkiv_model::{Record, RecordId, Status, SubjectTree};
use arkiv_storage::{FileStore, RecordStore, ScanFilter};
use futures::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Follows a store's change feed into a [`SearchIndex`].
#[derive(Debug, Clone)]
pub struct Follower {
    /// Changes read per batch (one commit per batch).
    pub batch: i64,
    /// Pause between polls when there is nothing new.
    pub poll: Duration,
    /// Extracts the text of public documents; `None`: metadata only.
    pub extractor: Option<Extractor>,
}

impl Default for Follower {
    fn default() -> Self {
        Follower { batch: 500, poll: Duration::from_millis(200), extractor: None }
    }
}

/// Fetches full texts for the live records of a batch.
async fn full_texts(extractor: Option<&Extractor>, files: &FileStore, records: &[Record]) -> HashMap<RecordId, String> {
    let mut out = HashMap::new();
    let Some(ex) = extractor else { return out };
    for r in records.iter().filter(|r| r.is_live()) {
        if let (Some(id), Some(text)) = (r.id, ex.record_text(files, r).await) {
            out.insert(id, text);
        }
    }
    out
}

impl Follower {
    pub fn new(extractor: Option<Extractor>) -> Self {
        Follower { extractor, ..Default::default() }
    }

    /// Applies one batch of changes; returns how many changes it applied
    /// (0: the index is up to date).
    pub async fn step(&self, store: &dyn RecordStore, files: &FileStore, index: &Arc<SearchIndex>) -> Result<usize> {
        let seq = index.indexed_seq();
        let changes = store.changes_since(seq, self.batch.max(1)).await?;
        let Some(last) = changes.last().map(|c| c.seq) else { return Ok(0) };
        let ids: Vec<RecordId> = changes.iter().map(|c| c.record_id).collect::<BTreeSet<_>>().into_iter().collect();
        let records = store.get_records(&ids).await?;
        index.set_subjects(Arc::new(SubjectTree::new(store.subjects().await?)));
        let texts = full_texts(self.extractor.as_ref(), files, &records).await;
        let found: BTreeSet<RecordId> = records.iter().filter_map(|r| r.id).collect();
        let n = changes.len();
        let index = index.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            for id in ids.iter().filter(|id| !found.contains(id)) {
                index.delete(*id)?;
            }
            index.index_records(&records, &texts)?;
            index.commit_at(last)
        })
        .await??;
        Ok(n)
    }

    /// Applies changes until the index is up to date; returns how many.
    pub async fn catch_up(
        &self,
        store: &dyn RecordStore,
        files: &FileStore,
        index: &Arc<SearchIndex>,
    ) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.step(store, files, index).await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Follows the feed until `shutdown` completes: polls every
    /// [`Follower::poll`], switches to a generation another process
    /// published, logs errors and retries after a pause.
    pub async fn run(
        &self,
        store: Arc<dyn RecordStore>,
        files: FileStore,
        index: Arc<SearchIndex>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        match store.subjects().await {
            Ok(s) => index.set_subjects(Arc::new(SubjectTree::new(s))),
            Err(e) => tracing::warn!("search index: cannot read the subject tree: {e}"),
        }
        loop {
            let pause = match index.reload_if_swapped() {
                Err(e) => {
                    tracing::warn!("search index: cannot switch generation: {e:#}");
                    Duration::from_secs(2)
                }
                Ok(_) => match self.step(&*store, &files, &index).await {
                    Ok(0) => self.poll,
                    Ok(_) => Duration::ZERO,
                    Err(e) => {
                        tracing::warn!("search index: cannot apply changes: {e:#}");
                        Duration::from_secs(2)
                    }
                },
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// How far a [`reindex`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexProgress {
    pub done: u64,
    /// Live records when the rebuild started.
    pub total: u64,
}

/// Rebuilds the index of `root` from the store in a new generation while
/// the current one keeps serving, then publishes it. Returns the number of
/// records indexed. A running server's follower switches to it on its next
/// poll.
pub async fn reindex(
    store: &dyn RecordStore,
    files: &FileStore,
    extractor: Option<&Extractor>,
    root: &Path,
    mut progress: impl FnMut(ReindexProgress),
) -> Result<u64> {
    let seq = store.last_change().await?;
    let total = store.status_counts().await?.archive.max(0) as u64;
    let fresh = Arc::new(SearchIndex::create_unpublished(root)?);
    fresh.start_bulk_build();
    fresh.set_subjects(Arc::new(SubjectTree::new(store.subjects().await?)));
    let mut done = 0u64;
    progress(ReindexProgress { done, total });
    let mut scan = store.scan(ScanFilter { status: Some(Status::Archive), after_id: None });
    let mut batch = Vec::new();
    loop {
        let next = scan.next().await;
        let end = next.is_none();
        if let Some(r) = next {
            batch.push(r?);
        }
        if batch.len() >= 200 || (end && !batch.is_empty()) {
            let records = std::mem::take(&mut batch);
            let texts = full_texts(extractor, files, &records).await;
            done += records.len() as u64;
            let f = fresh.clone();
            tokio::task::spawn_blocking(move || f.index_records(&records, &texts)).await??;
            progress(ReindexProgress { done, total: total.max(done) });
        }
        if end {
            break;
        }
    }
    let f = fresh.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        f.commit_at(seq)?;
        // Only an optimisation: an index of several segments serves the
        // same answers.
        if let Err(e) = f.merge_segments() {
            tracing::warn!(error = %format!("{e:#}"), "the new index could not be merged into one segment");
        }
        Ok(())
    })
    .await??;
    fresh.publish()?;
    Ok(done)
}
