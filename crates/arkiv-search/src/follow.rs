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
//! The follower never waits for a PDF to be extracted. A record is indexed
//! at once with the texts already known (cached texts, plain-text files
//! read up to the cap); its PDFs still to extract go to background workers
//! ([`crate::text_jobs`]), and the record is marked in the index as owed a
//! text. So the sequence committed covers every record's metadata, and the
//! mark, committed with it, covers the texts still to come: when a text is
//! settled the record is read again from the store and indexed in the next
//! commit; a mark left by a restart is found by a sweep. One slow or
//! hostile file delays its own record's text, never another record.
//!
//! [`reindex`] builds a new generation from a scan of the live records while
//! the old one keeps serving, then publishes it (see [`crate::index`]). It
//! records the store's last sequence *before* the scan, so changes made
//! during the scan are applied again by the follower afterwards. It waits
//! for each PDF's text (one at a time, through the same cache), so the
//! generation it publishes is complete; a file it could not extract at all
//! is marked, and a server's follower sweeps the new generation when it
//! switches to it.

use crate::extract::{Extractor, RecordText};
use crate::index::SearchIndex;
use crate::text_jobs::{Submitted, TextJobs};
use anyhow::Result;
use arkiv_model::{Record, RecordId, Status, StoredFile};
use arkiv_storage::{FileStore, RecordStore, ScanFilter};
use futures::StreamExt;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Marked records a sweep looks at in one step.
const SWEEP_PAGE: usize = 200;

/// Follows a store's change feed into a [`SearchIndex`].
#[derive(Debug, Clone)]
pub struct Follower {
    /// Changes read per batch (one commit per batch).
    pub batch: i64,
    /// Pause between polls when there is nothing new.
    pub poll: Duration,
    /// Extracts the text of public documents; `None`: metadata only.
    pub extractor: Option<Extractor>,
    /// PDFs extracted at once, in the background.
    pub extract_workers: usize,
    /// PDFs waiting for a worker, at most; one past it is left to the
    /// sweep of marked records.
    pub extract_queue: usize,
    /// Changes applied in one stretch (a backlog: a bulk load, a start
    /// far behind, a rebuild after a schema change) after which the index,
    /// once caught up, is merged into one segment, as `arkiv reindex`
    /// leaves it. A backlog applied batch by batch leaves a segment per
    /// commit that the merge policy leaves be (eight of 12,000 records at
    /// 100,000), and a search resolves its facets' values once per segment
    /// (`top_values.rs`): 18 ms a search against about 5 in one segment.
    pub merge_after: usize,
    /// The workers, started by the first step with an extractor; shared by
    /// clones.
    jobs: Arc<OnceLock<TextJobs>>,
}

impl Default for Follower {
    fn default() -> Self {
        Follower {
            batch: 500,
            poll: Duration::from_millis(200),
            extractor: None,
            extract_workers: 2,
            extract_queue: 256,
            merge_after: 10_000,
            jobs: Arc::default(),
        }
    }
}

/// The full texts of a batch's live records as known now, and the PDFs
/// each still lacks.
async fn texts_now(
    ex: &Extractor,
    files: &FileStore,
    records: &[Record],
) -> (HashMap<RecordId, String>, Vec<(RecordId, Vec<StoredFile>)>) {
    let mut texts = HashMap::new();
    let mut pending = Vec::new();
    for r in records.iter().filter(|r| r.is_live()) {
        let Some(id) = r.id else { continue };
        let RecordText { text, pending: files_pending } = ex.record_text_now(files, r).await;
        if let Some(t) = text {
            texts.insert(id, t);
        }
        if !files_pending.is_empty() {
            pending.push((id, files_pending));
        }
    }
    (texts, pending)
}

/// The full texts of a batch's live records, PDFs extracted first, and
/// the records some file of which could not be extracted at all.
async fn texts_waiting(
    extractor: Option<&Extractor>,
    files: &FileStore,
    records: &[Record],
) -> (HashMap<RecordId, String>, HashSet<RecordId>) {
    let mut texts = HashMap::new();
    let mut pending = HashSet::new();
    let Some(ex) = extractor else { return (texts, pending) };
    for r in records.iter().filter(|r| r.is_live()) {
        let Some(id) = r.id else { continue };
        let t = ex.record_text_waiting(files, r).await;
        if let Some(text) = t.text {
            texts.insert(id, text);
        }
        if !t.pending.is_empty() {
            pending.insert(id);
        }
    }
    (texts, pending)
}

impl Follower {
    pub fn new(extractor: Option<Extractor>) -> Self {
        Follower { extractor, ..Default::default() }
    }

    /// The extraction workers, started on first use. Their extractor caches
    /// in the index's text cache if it has no cache of its own: the cache
    /// is how a text reaches the index.
    fn jobs(&self, index: &SearchIndex) -> Option<&TextJobs> {
        let ex = self.extractor.as_ref()?;
        Some(self.jobs.get_or_init(|| {
            let ex = if ex.cache_dir.is_some() { ex.clone() } else { ex.clone().with_cache(index.text_cache_dir()) };
            TextJobs::start(ex, self.extract_workers, self.extract_queue)
        }))
    }

    /// Applies one batch of changes, and indexes again the records whose
    /// texts became ready; returns how many changes it applied (0: the
    /// index is up to date with the feed; texts may still be coming).
    pub async fn step(&self, store: &dyn RecordStore, files: &FileStore, index: &Arc<SearchIndex>) -> Result<usize> {
        let jobs = self.jobs(index);
        let ready = jobs.map(|j| j.take_ready(self.batch.max(1) as usize)).unwrap_or_default();
        let applied = self.apply(store, files, index, jobs, &ready).await;
        if let (Err(_), Some(j)) = (&applied, jobs) {
            j.put_back_ready(ready);
        }
        let n = applied?;
        if let Some(j) = jobs {
            self.sweep(j, store, files, index).await?;
        }
        Ok(n)
    }

    async fn apply(
        &self,
        store: &dyn RecordStore,
        files: &FileStore,
        index: &Arc<SearchIndex>,
        jobs: Option<&TextJobs>,
        ready: &[RecordId],
    ) -> Result<usize> {
        let seq = index.indexed_seq();
        let changes = store.changes_since(seq, self.batch.max(1)).await?;
        if changes.is_empty() && ready.is_empty() {
            return Ok(0);
        }
        let last = changes.last().map_or(seq, |c| c.seq);
        // Records ready are read again as they are now, like changed ones.
        let ids: Vec<RecordId> = changes
            .iter()
            .map(|c| c.record_id)
            .chain(ready.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let records = store.get_records(&ids).await?;
        if !changes.is_empty() {
            index.set_subjects(Arc::new(store.subject_tree().await?));
        }
        let (texts, pending) = match jobs {
            Some(j) => texts_now(j.extractor(), files, &records).await,
            None => Default::default(),
        };
        let marked: HashSet<RecordId> = pending.iter().map(|(id, _)| *id).collect();
        let found: BTreeSet<RecordId> = records.iter().filter_map(|r| r.id).collect();
        let n = changes.len();
        let idx = index.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            for id in ids.iter().filter(|id| !found.contains(id)) {
                idx.delete(*id)?;
            }
            idx.index_records_pending(&records, &texts, &marked)?;
            idx.commit_at(last)
        })
        .await??;
        // After the commit: a text settled from here on finds its record
        // marked, and indexes it again.
        if let Some(j) = jobs {
            for (id, pdfs) in &pending {
                for pdf in pdfs {
                    j.submit(*id, pdf, files);
                }
            }
        }
        Ok(n)
    }

    /// Goes on with the sweep of marked records, one page, if one is due
    /// and the queue has room: each gets its PDFs queued again, or is made
    /// ready if it lacks none (its text was settled by another process, or
    /// it changed).
    async fn sweep(
        &self,
        jobs: &TextJobs,
        store: &dyn RecordStore,
        files: &FileStore,
        index: &Arc<SearchIndex>,
    ) -> Result<()> {
        let Some(from) = jobs.sweep_from() else { return Ok(()) };
        let idx = index.clone();
        let ids = tokio::task::spawn_blocking(move || idx.text_pending_ids(from, SWEEP_PAGE)).await??;
        let Some(&last) = ids.last() else {
            jobs.swept_all(from);
            return Ok(());
        };
        let records: HashMap<RecordId, Record> =
            store.get_records(&ids).await?.into_iter().filter_map(|r| Some((r.id?, r))).collect();
        for id in ids {
            let pdfs = match records.get(&id).filter(|r| r.is_live()) {
                Some(r) => jobs.extractor().record_text_now(files, r).await.pending,
                None => Vec::new(),
            };
            if pdfs.is_empty() {
                jobs.mark_ready(id);
            }
            for pdf in &pdfs {
                if jobs.submit(id, pdf, files) == Submitted::Dropped {
                    // The sweep goes on from this record when there is room.
                    return Ok(());
                }
            }
        }
        jobs.swept_to(from, last);
        Ok(())
    }

    /// Applies changes until the index is up to date with the feed; returns
    /// how many. Texts being extracted in the background may still come.
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
                self.merge_after_backlog(index, total).await;
                return Ok(total);
            }
            total += n;
        }
    }

    /// Merges the index into one segment if `applied` changes, just caught
    /// up with, make a backlog ([`Follower::merge_after`]). Searches go on
    /// meanwhile; changes wait for the merge (seconds at 100,000 records).
    async fn merge_after_backlog(&self, index: &Arc<SearchIndex>, applied: usize) {
        if applied < self.merge_after.max(1) {
            return;
        }
        let idx = index.clone();
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || idx.merge_segments()).await {
            Ok(Ok(())) => tracing::info!(applied, took = ?started.elapsed(), "search index merged after a backlog"),
            // Only an optimisation: the segments serve the same answers.
            Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "search index: cannot merge after a backlog"),
            Err(e) => tracing::warn!(error = %e, "search index: the merge after a backlog failed"),
        }
    }

    /// Follows the feed until `shutdown` completes: polls every
    /// [`Follower::poll`] (at once when a text is ready), switches to a
    /// generation another process published, logs errors and retries
    /// after a pause. Stopping stops the extractions under way; what they
    /// owed is found again at the next start.
    pub async fn run(
        &self,
        store: Arc<dyn RecordStore>,
        files: FileStore,
        index: Arc<SearchIndex>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        match store.subject_tree().await {
            Ok(tree) => index.set_subjects(Arc::new(tree)),
            Err(e) => tracing::warn!("search index: cannot read the subject tree: {e}"),
        }
        let ready = self.jobs(&index).map(TextJobs::ready_signal);
        // Changes applied since the index was last caught up.
        let mut backlog = 0;
        loop {
            let pause = match index.reload_if_swapped() {
                Err(e) => {
                    tracing::warn!("search index: cannot switch generation: {e:#}");
                    Duration::from_secs(2)
                }
                Ok(swapped) => {
                    if let (true, Some(j)) = (swapped, self.jobs(&index)) {
                        j.sweep_again();
                    }
                    match self.step(&*store, &files, &index).await {
                        Ok(0) => {
                            self.merge_after_backlog(&index, std::mem::take(&mut backlog)).await;
                            if self.jobs(&index).is_some_and(TextJobs::has_ready) {
                                Duration::ZERO
                            } else {
                                self.poll
                            }
                        }
                        Ok(n) => {
                            backlog += n;
                            Duration::ZERO
                        }
                        Err(e) => {
                            tracing::warn!("search index: cannot apply changes: {e:#}");
                            Duration::from_secs(2)
                        }
                    }
                }
            };
            let text_ready = async {
                match &ready {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(pause) => {}
                _ = text_ready => {}
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
    fresh.set_subjects(Arc::new(store.subject_tree().await?));
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
            let (texts, marked) = texts_waiting(extractor, files, &records).await;
            done += records.len() as u64;
            let f = fresh.clone();
            tokio::task::spawn_blocking(move || f.index_records_pending(&records, &texts, &marked)).await??;
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
