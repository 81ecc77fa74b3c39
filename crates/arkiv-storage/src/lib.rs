//! Storage: where records, their revisions, the change feed, the browse
//! tables and file bytes persist.
//!
//! The database is SQLite (the embedded default, [`sqlite::SqliteStore`]) or
//! PostgreSQL ([`postgres::PostgresStore`]), chosen by the URL in the
//! repository's configuration ([`open_stores`]), both held to the same test
//! suites. Callers see it through narrow seams, grouped by what they need:
//! [`Records`], [`ChangeFeed`], [`Browse`], [`OaiSets`], [`WorkQueues`],
//! [`Meta`], [`FileRefs`], [`Usage`], [`Harvests`], [`Leases`] and [`Citations`] (together [`RecordStore`]); [`accounts::Users`],
//! [`accounts::Sessions`], [`accounts::RateLimits`], [`accounts::Outbox`]
//! and [`accounts::CopyRequests`] (together [`AccountStore`]). Each seam is
//! implemented once, in `queries.rs`, `file_refs.rs`, `usage.rs`, `harvest.rs`, `leases.rs`, `citations.rs` and `accounts/queries.rs`, over the
//! small `sql::Backend` trait that each database implements; the SQL is
//! written once, in placeholders both read. [`FileStore`] keeps file bytes
//! addressed by their SHA-256 through the `object_store` crate.
//!
//! Invariants every backend keeps:
//! - a write of a batch is one transaction: every record in it, its revision,
//!   its change-feed entry and its browse entries land together or not at all;
//! - change sequence numbers increase in commit order, so a follower that has
//!   seen sequence N never later finds a change numbered below N;
//! - record ids are never reused;
//! - an import's progress note commits with the records it describes;
//! - a file is referenced by a record only after its bytes are stored.

pub mod accounts;
pub mod backup;
mod bulk_load;
pub mod citations;
pub mod file_refs;
pub mod files;
pub mod harvest;
pub mod history;
mod import_progress;
pub mod leases;
mod pending_browse;
mod pg_bulk_load;
pub mod postgres;
#[cfg(test)]
mod postgres_plans;
mod queries;
mod rows;
mod sql;
pub mod sqlite;
pub mod usage;
mod wal_checkpoints;

use arkiv_model::{BrowseView, Record, RecordId, Revision, Scheme, Status, Subject, SubjectTree, Timestamp};
use async_trait::async_trait;
use futures::stream::BoxStream;
use std::sync::Arc;

pub use accounts::{
    open_stores, AccountStore, ApiTokenRow, ApiTokens, Claim, CopyRequest, CopyRequests, NewUser, Outbox,
    OutboxMessage, RateLimits, RatePolicy, SessionRow, Sessions, Users,
};
pub use citations::{Citations, StoredCitation};
pub use file_refs::{FilePurge, FileRefs, NamedFile, RevisionFiles};
pub use files::{FileStore, Fixity, StoredObject};
pub use harvest::{HarvestConflict, HarvestOrigin, HarvestSourceRow, HarvestedEntry, Harvests};
pub use import_progress::ImportNote;
pub use leases::{Lease, Leases};
pub use usage::{DayUsage, ItemMonthAccess, MonthUsage, RollUp, SushiClient, Usage, UsagePeriod};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored record {id} cannot be read: {source}")]
    Corrupt { id: RecordId, source: serde_json::Error },
    #[error("record {id} was changed by someone else (now at revision {current}, the change was made to revision {expected})")]
    Conflict { id: RecordId, expected: i64, current: i64 },
    #[error("no record {0}")]
    NotFound(RecordId),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("file store: {0}")]
    Files(#[from] object_store::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A request the store will not carry out, and why (a restore into a
    /// database that holds records, a backup it cannot read).
    #[error("{0}")]
    Refused(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// True for a file store that could not be reached or did not answer
    /// in time (refused, timed out, a server error after the retries):
    /// something that may pass, which the site answers with 503 and
    /// `Retry-After` rather than as a fault of its own. Not for a missing
    /// object or a request the store refuses as such.
    pub fn file_store_unavailable(&self) -> bool {
        match self {
            StoreError::Files(e) => object_store_unavailable(e),
            // A streamed read carries the store's error inside an I/O error.
            StoreError::Io(e) => e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<StoreError>())
                .is_some_and(StoreError::file_store_unavailable),
            _ => false,
        }
    }
}

/// `object_store` reports transport failures (connection refused, timeouts,
/// 5xx after its retries) as `Generic`; the other kinds are answers.
fn object_store_unavailable(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::Generic { .. })
}

/// One record to write, with who writes it.
#[derive(Debug, Clone)]
pub struct RecordWrite {
    pub record: Record,
    /// User name, `import`, `system`...
    pub actor: String,
    /// For edits: the revision the editor started from. The write fails with
    /// [`StoreError::Conflict`] if the record has moved on since.
    pub expected_revision: Option<i64>,
}

impl RecordWrite {
    pub fn new(record: Record, actor: &str) -> Self {
        RecordWrite { record, actor: actor.to_string(), expected_revision: None }
    }
}

/// An entry of the change feed: record `record_id` reached revision
/// `revision` (with status `status`) at sequence `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub record_id: RecordId,
    pub revision: i64,
    pub status: Status,
    pub at: Timestamp,
}

/// Which records a scan walks.
#[derive(Debug, Clone, Default)]
pub struct ScanFilter {
    /// Only records in this status.
    pub status: Option<Status>,
    /// Start after this id (scans run in id order).
    pub after_id: Option<RecordId>,
}

/// A value of a browse view with the number of live records under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseValue {
    pub value: String,
    pub count: i64,
}

/// Where a page of a browse view starts: after this (sort key, id).
pub type BrowseCursor = (String, RecordId);

/// A page of records and where the next page starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Record>,
    pub next: Option<BrowseCursor>,
}

/// Counts of records per status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub inbox: i64,
    pub buffer: i64,
    pub archive: i64,
    pub deletion: i64,
}

/// Which OAI-visible records a harvest asks for (see [`OaiSets::oai_records`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OaiQuery {
    /// Only records in this set (an encoded setSpec, `type:article`).
    pub set: Option<String>,
    /// Only records last modified at or after this moment (Unix seconds).
    pub from: Option<i64>,
    /// Only records last modified at or before this moment.
    pub until: Option<i64>,
}

/// Which records a workflow list shows: one status (the review buffer is
/// `Buffer`), optionally only one depositor's, in order of last change,
/// oldest first, after `after` (a `(lastmod, id)` keyset cursor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkQuery {
    pub status: Status,
    pub owner: Option<i64>,
    /// Only items of this type (the review buffer's filter).
    pub item_type: Option<String>,
    pub after: Option<(i64, RecordId)>,
    /// Newest change first instead (a depositor's own lists).
    pub newest_first: bool,
}

/// The database behind a repository: every seam below, from one URL
/// ([`open_store`]). See the crate docs for the invariants. Implemented for
/// any type that implements the seams, so a caller holding an
/// `Arc<dyn RecordStore>` reaches every method.
pub trait RecordStore:
    Records
    + ChangeFeed
    + Browse
    + OaiSets
    + WorkQueues
    + Meta
    + FileRefs
    + backup::Backup
    + usage::Usage
    + Harvests
    + Leases
    + Citations
{
}

impl<
        T: Records
            + ChangeFeed
            + Browse
            + OaiSets
            + WorkQueues
            + Meta
            + FileRefs
            + backup::Backup
            + usage::Usage
            + Harvests
            + Leases
            + Citations,
    > RecordStore for T
{
}

/// Records and their revisions: the stored truth, and the reads of it that
/// are not lists of a view.
#[async_trait]
pub trait Records: Send + Sync + 'static {
    /// Writes records in one transaction. Records without an id get a new
    /// one; a record with an id is created or updated under that id. Each
    /// gets a revision, a change-feed entry and its browse entries. Returns
    /// the ids in input order.
    async fn put_records(&self, batch: Vec<RecordWrite>) -> Result<Vec<RecordId>>;

    /// [`Records::put_records`] with where an import of a file stands after
    /// this batch, written in the same transaction (so a kill can never
    /// leave records without their note, or a note without its records).
    /// An empty batch writes the note alone.
    async fn put_records_noted(&self, batch: Vec<RecordWrite>, note: Option<ImportNote>) -> Result<Vec<RecordId>>;

    /// The last note of an import of the file whose bytes hash to `sha256`.
    async fn import_progress(&self, sha256: &str) -> Result<Option<ImportNote>>;

    /// The record that holds the document (`kind` "document") or file
    /// ("file") EPrints knew by `eprints_id`, as written by the last record
    /// write that named it. A hint: look the id up in the record.
    async fn eprints_id_record(&self, kind: &str, eprints_id: i64) -> Result<Option<RecordId>>;

    /// Puts earlier states of a record beneath its revisions (its history
    /// from before it came to Arkiv): they become revisions 1, 2, ... in
    /// the order of their times, the record's own revisions are numbered
    /// on after them, and its current state does not change. Refused
    /// (nothing written) when the last state given is not older than the
    /// record's first revision: a second import of the same history adds
    /// nothing. See `history.rs`.
    async fn prepend_revisions(
        &self,
        id: RecordId,
        earlier: Vec<history::EarlierRevision>,
    ) -> Result<history::Prepended>;

    /// Notes the EPrints depositor (EPrints' user id) of imported records:
    /// (record, EPrints user id) pairs, the last note of a record winning.
    /// Written after the records (see the `eprints_depositors` migration).
    async fn note_eprints_depositors(&self, depositors: &[(RecordId, i64)]) -> Result<()>;

    /// The records whose EPrints depositor was the user EPrints knew by
    /// `eprints_userid`, in id order.
    async fn eprints_depositor_records(&self, eprints_userid: i64) -> Result<Vec<RecordId>>;

    /// Starts a bulk load: a large import into a repository that holds
    /// nothing yet. Until [`Records::end_bulk_load`], this store's
    /// writes may leave secondary indexes and browse entries to be brought
    /// up to date at the end, in one pass in key order instead of a random
    /// page per entry. Records, revisions, the change feed and OAI-PMH sets
    /// are written as always, and so are writes through other stores on
    /// the same database. Meanwhile browse pages may leave out the records
    /// loaded and queries may be slower. A load that never ends (a killed
    /// process) is finished when the database is next opened. On SQLite
    /// see `bulk_load`, on PostgreSQL `pg_bulk_load` (rows with `COPY`,
    /// browse entries written as they come).
    async fn begin_bulk_load(&self) -> Result<()>;

    /// Ends a bulk load: what it deferred is brought up to date before this
    /// returns. Does nothing when no bulk load is under way.
    async fn end_bulk_load(&self) -> Result<()>;

    async fn get_record(&self, id: RecordId) -> Result<Option<Record>>;

    /// Deletes a record that was never live (in the workarea or the review
    /// buffer, no datestamp) at revision `expected_revision`, with every
    /// revision of it, in one transaction: a draft or a deposit its
    /// depositor gives up. Its files
    /// are left to the file clean-up, which deletes what nothing names.
    /// `Conflict` if it moved on, `Refused` if it is not such a draft,
    /// `NotFound` if there is none. The change feed is not written: a
    /// record never live was never indexed, cached or harvested.
    async fn delete_draft(&self, id: RecordId, expected_revision: i64) -> Result<()>;

    /// The record and its current revision number.
    async fn get_record_with_revision(&self, id: RecordId) -> Result<Option<(Record, i64)>>;

    /// Records by id, in the order asked; unknown ids are left out.
    async fn get_records(&self, ids: &[RecordId]) -> Result<Vec<Record>>;

    /// Every revision of a record, oldest first.
    async fn revisions(&self, id: RecordId) -> Result<Vec<Revision>>;

    /// Records in id order, streamed in constant memory.
    fn scan(&self, filter: ScanFilter) -> BoxStream<'_, Result<Record>>;

    /// Live records, newest first by datestamp.
    async fn latest(&self, limit: i64) -> Result<Vec<Record>>;

    /// Ids and last-modified times of the live records with
    /// `after < id <= through`, in id order: a keyset range read on the
    /// primary key, so a sitemap of any part of the repository costs the
    /// same whatever its size.
    async fn live_ids(&self, after: RecordId, through: RecordId) -> Result<Vec<(RecordId, Timestamp)>>;

    /// The highest record id given so far (0 for an empty store).
    async fn max_record_id(&self) -> Result<RecordId>;

    async fn status_counts(&self) -> Result<StatusCounts>;
}

/// The change feed: every write in commit order, what followers (the
/// search index, page caches, OAI-PMH pages made ahead) read.
#[async_trait]
pub trait ChangeFeed: Send + Sync + 'static {
    /// Change-feed entries after `seq`, oldest first.
    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<Change>>;

    /// The sequence number of the newest change (0 for an empty store).
    async fn last_change(&self) -> Result<i64>;

    /// How many batches of record writes this store has committed (a
    /// [`Records::put_records`], or a [`Browse::put_subjects`] that
    /// rewrote records): a counter in memory, so that caches of what
    /// records show (the web's page cache) learn of a write made through
    /// the store they hold at once, without a query. Writes by other
    /// processes (or other stores) they learn from the change feed.
    fn local_writes(&self) -> u64;
}

/// Browse views (counts per value, keyset pages of a value's records) and
/// the subject tree they are drawn over.
#[async_trait]
pub trait Browse: Send + Sync + 'static {
    /// Values of a browse view with counts, in value order, starting after
    /// `after`.
    async fn browse_values(&self, view: BrowseView, after: Option<&str>, limit: i64) -> Result<Vec<BrowseValue>>;

    /// Number of live records under a value of a view.
    async fn browse_count(&self, view: BrowseView, value: &str) -> Result<i64>;

    /// A page of the live records under a value of a view.
    async fn browse_page(
        &self,
        view: BrowseView,
        value: &str,
        after: Option<&BrowseCursor>,
        limit: i64,
    ) -> Result<Page>;

    /// The subjects and the divisions, each tree in the order its nodes
    /// were first written.
    async fn subject_tree(&self) -> Result<SubjectTree>;

    /// The subjects (not the divisions), in order.
    async fn subjects(&self) -> Result<Vec<Subject>> {
        Ok(self.subject_tree().await?.iter().cloned().collect())
    }

    /// Adds, renames or moves nodes of one tree (`scheme`: subjects or
    /// divisions; a node given under the other tree's scheme moves there). In the same transaction,
    /// every record whose OAI-PMH sets the change moves (those filed under a
    /// moved subject or below it; sets name a subject's path) is rewritten:
    /// a new revision by `system:subjects` changing only `lastmod`, so that
    /// harvesters see the change and the search index (which follows the
    /// change feed) files it under the new path, with its set rows rebuilt.
    /// The records are found through `oai_sets` and rewritten a few hundred
    /// at a time. Returns how many were rewritten.
    async fn put_subjects(&self, scheme: Scheme, subjects: &[Subject]) -> Result<u64>;
}

/// What OAI-PMH harvests: the records that were ever live, by set and
/// datestamp.
#[async_trait]
pub trait OaiSets: Send + Sync + 'static {
    /// OAI-visible records (live once, live or not now) matching `query`,
    /// in id order, after id `after`. Keyset paging by id: a record that
    /// changes during a harvest is met once, as it is when the walk reaches
    /// it. The cost of a page is the page (an index range walk), whatever
    /// the repository's size, except a from/until range that matches few
    /// records of many, which costs the range (the lastmod index).
    async fn oai_records(&self, query: &OaiQuery, after: RecordId, limit: i64) -> Result<Vec<Record>>;

    /// How many records `oai_records` walks in all (a count of the set's
    /// or the range's index entries, made once per harvest).
    async fn oai_count(&self, query: &OaiQuery) -> Result<i64>;

    /// The oldest lastmod of an OAI-visible record.
    async fn oai_earliest(&self) -> Result<Option<Timestamp>>;

    /// Non-empty setSpecs after `after` in byte order, each found by one
    /// index seek.
    async fn oai_set_specs(&self, after: &str, limit: i64) -> Result<Vec<String>>;
}

/// The lists the workflow and its jobs walk: workareas, the review buffer,
/// embargoes due, later versions.
#[async_trait]
pub trait WorkQueues: Send + Sync + 'static {
    /// A page of a workflow list (a workarea, the review buffer, the
    /// withdrawn records): an index range read on (owner,) status and
    /// lastmod, whatever the repository's size.
    async fn work_items(&self, query: &WorkQuery, limit: i64) -> Result<Vec<Record>>;

    /// Live records with a document whose embargo ends on or before `day`
    /// (YYYYMMDD), earliest first: a range read on the embargo index, so
    /// the daily job costs what is due, not the repository.
    async fn embargoes_due(&self, day: i64, limit: i64) -> Result<Vec<RecordId>>;

    /// The live records that are new versions of `id`, oldest first (an
    /// index seek).
    async fn later_versions(&self, id: RecordId) -> Result<Vec<RecordId>>;
}

/// The repository's own key-value settings, and the database's size.
#[async_trait]
pub trait Meta: Send + Sync + 'static {
    /// A value of the repository's own settings table.
    async fn meta(&self, key: &str) -> Result<Option<String>>;

    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;

    /// The value under `key`, `value` stored there first if there was none:
    /// one insert that yields to a value already there, then a read. Two
    /// nodes making a secret at once both get the one that landed, where a
    /// `set_meta` each would let the later replace the earlier's after the
    /// earlier had started using it.
    async fn meta_or_insert(&self, key: &str, value: &str) -> Result<String>;

    /// Adds entries to the JSON object kept under `key` (made if absent),
    /// each whose name it does not hold yet, in one write transaction with
    /// the writers' lock: two nodes adding at once both land, where a read
    /// here and a `set_meta` there would let the later lose the earlier's.
    /// Returns the names added.
    async fn add_meta_entries(&self, key: &str, entries: &[(String, String)]) -> Result<Vec<String>>;

    /// Bytes the database takes on disk, where the backend can tell.
    async fn size_bytes(&self) -> Result<Option<u64>>;

    /// Gives back the memory a long run of writes left in the writer's
    /// caches (SQLite's writer keeps a page cache sized for imports): what
    /// a background follower calls once it has written a backlog, so a
    /// serving node does not keep an import's cache for good.
    async fn release_write_cache(&self) -> Result<()>;

    /// One round trip to the database (`SELECT 1` on a reader): what a
    /// node's readiness check asks.
    async fn ping(&self) -> Result<()>;

    /// The connection pool as it stands, for `/metrics`.
    fn pool_use(&self) -> PoolUse;
}

/// The `meta` key [`Browse::put_subjects`] counts the changes of the
/// subject tree under, in the same transaction: what a node reads to learn
/// that another node changed the tree.
pub const SUBJECTS_VERSION: &str = "subjects.version";

/// A store's pool of database connections at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open, idle or lent out.
    pub open: u32,
    /// Open connections waiting to be lent.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Opens the store a URL names (`sqlite://path/arkiv.db`, `postgres://...`),
/// creating and migrating it as needed.
pub async fn open_store(url: &str) -> Result<Arc<dyn RecordStore>> {
    Ok(open_stores(url).await?.0)
}
