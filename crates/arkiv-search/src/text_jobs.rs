//! Background text extraction: PDFs are extracted by a few workers while
//! the follower goes on indexing, so one slow file never delays the
//! records after it.
//!
//! The follower indexes a record at once with the texts it has (cached, or
//! plain text read up to the cap), marks it in the index as owed a text
//! (`text_pending`, see [`crate::SearchIndex::index_records_pending`]), and
//! hands each PDF still to extract to [`TextJobs::submit`]. Workers (a
//! fixed number, [`crate::Follower::extract_workers`]) take files from a
//! bounded queue; a file several records share is extracted once, for all
//! of them. When a file's text is settled (cached, or cached as empty after
//! a failure or a timeout), its records are handed back as ready
//! ([`TextJobs::take_ready`]); the follower reads them again from the store
//! (their current state: an edit made meanwhile is kept, a record withdrawn
//! meanwhile is not put back) and indexes them with their text in its next
//! commit.
//!
//! Nothing here is durable, and need not be: the mark in the index is. A
//! file the queue has no room for, and every marked record after a restart
//! or a switch to another generation, is found again by a sweep of the
//! marked records ([`TextJobs::sweep_from`] is where it stands), run by
//! the follower whenever the queue has room. A file whose extraction could
//! not even be attempted (the child did not start, the store could not be
//! read, the text could not be cached) is not tried again by this process:
//! its records keep their mark, and the next start tries again.

use crate::extract::{Extractor, FileText};
use arkiv_model::{RecordId, StoredFile};
use arkiv_storage::FileStore;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What became of a file handed to [`TextJobs::submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued for a worker.
    Queued,
    /// Already queued or being extracted: the record waits for it too.
    Joined,
    /// Could not be attempted in this process (see the module docs), or
    /// has no SHA-256: the record keeps its mark.
    Ignored,
    /// The queue is full: left to the sweep.
    Dropped,
}

/// A file queued or being extracted, and the records waiting for it.
struct Job {
    file: StoredFile,
    files: FileStore,
    records: BTreeSet<RecordId>,
}

#[derive(Default)]
struct State {
    /// SHA-256s waiting for a worker, in order.
    queue: VecDeque<String>,
    /// Every file queued or being extracted, by SHA-256.
    jobs: HashMap<String, Job>,
    /// Records whose text is settled, to index again.
    ready: BTreeSet<RecordId>,
    /// Files not to try again in this process.
    given_up: HashSet<String>,
    /// Marked records with an id above this one may have no job: the sweep
    /// goes on from here. `None`: nothing to sweep.
    sweep: Option<RecordId>,
}

struct Shared {
    extractor: Extractor,
    capacity: usize,
    state: Mutex<State>,
    /// A file was queued.
    work: Notify,
    /// A record is ready.
    ready: Arc<Notify>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: go on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The extraction workers and their queue; see the module docs. Dropping
/// it stops the workers and kills their children.
pub struct TextJobs {
    shared: Arc<Shared>,
    workers: Vec<tokio::task::AbortHandle>,
}

impl std::fmt::Debug for TextJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.state();
        f.debug_struct("TextJobs")
            .field("workers", &self.workers.len())
            .field("queued", &st.queue.len())
            .field("jobs", &st.jobs.len())
            .field("ready", &st.ready.len())
            .finish()
    }
}

impl Drop for TextJobs {
    fn drop(&mut self) {
        for w in &self.workers {
            w.abort();
        }
    }
}

impl TextJobs {
    /// Starts `workers` workers (at least one) on the current runtime, with
    /// room for `capacity` files waiting (at least one). The extractor must
    /// cache: the cache is how a text reaches the index. A sweep of the
    /// marked records is due at once.
    pub fn start(extractor: Extractor, workers: usize, capacity: usize) -> TextJobs {
        let shared = Arc::new(Shared {
            extractor,
            capacity: capacity.max(1),
            state: Mutex::new(State { sweep: Some(0), ..Default::default() }),
            work: Notify::new(),
            ready: Arc::new(Notify::new()),
        });
        let workers =
            (0..workers.max(1)).map(|_| tokio::spawn(work(shared.clone())).abort_handle()).collect::<Vec<_>>();
        TextJobs { shared, workers }
    }

    /// The extractor the workers use (with its cache).
    pub fn extractor(&self) -> &Extractor {
        &self.shared.extractor
    }

    /// Asks for the text of `file`, which `record` waits for.
    pub fn submit(&self, record: RecordId, file: &StoredFile, files: &FileStore) -> Submitted {
        let Some(sha) = file.sha256.clone() else { return Submitted::Ignored };
        let mut st = self.shared.state();
        if st.given_up.contains(&sha) {
            return Submitted::Ignored;
        }
        if let Some(job) = st.jobs.get_mut(&sha) {
            job.records.insert(record);
            return Submitted::Joined;
        }
        if st.queue.len() >= self.shared.capacity {
            // The record is marked in the index: the sweep finds it again.
            st.sweep = Some(st.sweep.map_or(record - 1, |s| s.min(record - 1)));
            return Submitted::Dropped;
        }
        st.jobs
            .insert(sha.clone(), Job { file: file.clone(), files: files.clone(), records: BTreeSet::from([record]) });
        st.queue.push_back(sha);
        drop(st);
        self.shared.work.notify_one();
        Submitted::Queued
    }

    /// Up to `max` records whose texts are settled, to index again.
    pub fn take_ready(&self, max: usize) -> Vec<RecordId> {
        let mut st = self.shared.state();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(id) = st.ready.pop_first() else { break };
            out.push(id);
        }
        out
    }

    /// Hands records back as ready (their indexing failed: try again).
    pub fn put_back_ready(&self, ids: impl IntoIterator<Item = RecordId>) {
        self.shared.state().ready.extend(ids);
    }

    pub fn has_ready(&self) -> bool {
        !self.shared.state().ready.is_empty()
    }

    /// Notified when a record becomes ready.
    pub fn ready_signal(&self) -> Arc<Notify> {
        self.shared.ready.clone()
    }

    /// Where a sweep of the marked records should go on from (their ids
    /// above it), if one is due and the queue has room for it.
    pub fn sweep_from(&self) -> Option<RecordId> {
        let st = self.shared.state();
        let room = st.queue.len() < self.shared.capacity.div_ceil(2);
        st.sweep.filter(|_| room)
    }

    /// The sweep went through the marked records up to `id`.
    pub fn swept_to(&self, from: RecordId, id: RecordId) {
        let mut st = self.shared.state();
        // A file dropped meanwhile may have moved the sweep back.
        if st.sweep == Some(from) {
            st.sweep = Some(id);
        }
    }

    /// The sweep found no marked record after `from`.
    pub fn swept_all(&self, from: RecordId) {
        let mut st = self.shared.state();
        if st.sweep == Some(from) {
            st.sweep = None;
        }
    }

    /// Sweeps every marked record again (the index switched generation).
    pub fn sweep_again(&self) {
        self.shared.state().sweep = Some(0);
    }

    /// A record is ready as it is (the sweep found its text settled).
    pub fn mark_ready(&self, id: RecordId) {
        self.shared.state().ready.insert(id);
        self.shared.ready.notify_one();
    }
}

/// One worker: takes a file, settles its text, hands back its records.
async fn work(shared: Arc<Shared>) {
    loop {
        let next = {
            let mut st = shared.state();
            st.queue.pop_front().and_then(|sha| st.jobs.get(&sha).map(|j| (sha, j.file.clone(), j.files.clone())))
        };
        let Some((sha, file, files)) = next else {
            shared.work.notified().await;
            continue;
        };
        let ex = &shared.extractor;
        let settled = match ex.file_text_now(&files, &file).await {
            FileText::Text(_) | FileText::Nothing => true,
            FileText::Pending => matches!(ex.extract_to_cache(&files, &file).await, Ok((_, true))),
        };
        let mut st = shared.state();
        let records = st.jobs.remove(&sha).map(|j| j.records).unwrap_or_default();
        if settled {
            st.ready.extend(records);
            drop(st);
            shared.ready.notify_one();
        } else {
            st.given_up.insert(sha);
        }
    }
}
