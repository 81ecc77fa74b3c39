//! Which stored bytes the records name: the reads the file-store garbage
//! collector, the draft quota and the history need ([`FileRefs`]), and the
//! `file_purges` table that records each file purged from a draft that
//! never went live. Written once over [`Backend`], like `queries.rs`.
//!
//! Only the files of each revision are decoded (a light view of the
//! record's JSON), so a walk of every revision costs the JSON parse, not
//! whole records.

use crate::sql::{Backend, Bind, Sql, SqlRow};
use crate::{RecordId, Result, StoreError};
use arkiv_model::{Status, Timestamp};
use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use serde::Deserialize;

/// Revisions a walk of every revision reads at a time.
const PAGE: i64 = 500;

/// One file a revision names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFile {
    pub sha256: String,
    pub filename: String,
    pub size: u64,
}

/// A revision, as much of it as decides what its files are owed: whether
/// its record was live then, when it was made, and the files it names.
#[derive(Debug, Clone)]
pub struct RevisionFiles {
    pub record_id: RecordId,
    pub number: i64,
    pub status: Status,
    /// When the record first went live, if it had by this revision.
    pub datestamp: Option<Timestamp>,
    /// The revision's `lastmod` (the repository's clock when the workflow
    /// wrote it); `None` in records written without one.
    pub lastmod: Option<Timestamp>,
    /// When the store wrote the revision (the system clock).
    pub at: Timestamp,
    /// The files with bytes in the store (a file whose bytes were never
    /// stored names no SHA-256 and is left out).
    pub files: Vec<NamedFile>,
}

impl RevisionFiles {
    /// Whether this revision shows its record live once: live, withdrawn,
    /// or stamped with the moment it went live.
    pub fn ever_live(&self) -> bool {
        self.datestamp.is_some() || matches!(self.status, Status::Archive | Status::Deletion)
    }
}

/// A file purged from a draft: its bytes may be gone (unless something
/// else still names them), and the draft's history says when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePurge {
    pub record_id: RecordId,
    pub sha256: String,
    pub filename: String,
    pub bytes: u64,
    pub purged_at: Timestamp,
}

/// What the stored bytes are named by, and the purges of drafts' files.
#[async_trait]
pub trait FileRefs: Send + Sync + 'static {
    /// Every revision of every record with the files it names, in (record
    /// id, number) order, read a page at a time: a walk of the whole
    /// repository, for jobs (the garbage collector, fsck), never a page.
    fn revision_files(&self) -> BoxStream<'_, Result<RevisionFiles>>;

    /// Every revision of `owner`'s records that are in the workarea or the
    /// review buffer and never went live: a range of the owner's index,
    /// then each record's revisions by primary key, whatever the size of
    /// the repository.
    async fn draft_revision_files(&self, owner: i64) -> Result<Vec<RevisionFiles>>;

    /// The purges of `owner`'s records.
    async fn owner_file_purges(&self, owner: i64) -> Result<Vec<FilePurge>>;

    /// The purges of one record, oldest first.
    async fn record_file_purges(&self, id: RecordId) -> Result<Vec<FilePurge>>;

    /// Every purge so far.
    async fn all_file_purges(&self) -> Result<Vec<FilePurge>>;

    /// Records purges (a purge already recorded is left as it was).
    async fn add_file_purges(&self, purges: &[FilePurge]) -> Result<()>;
}

/// The part of a record's JSON that names files.
#[derive(Deserialize)]
struct FilesView {
    #[serde(default)]
    status: Status,
    #[serde(default)]
    datestamp: Option<Timestamp>,
    #[serde(default)]
    lastmod: Option<Timestamp>,
    #[serde(default)]
    documents: Vec<DocumentView>,
}

#[derive(Deserialize)]
struct DocumentView {
    #[serde(default)]
    files: Vec<FileView>,
}

#[derive(Deserialize)]
struct FileView {
    filename: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    sha256: Option<String>,
}

/// A row of (record_id, number, at, data) as the files it names.
fn revision_files(row: &impl SqlRow) -> Result<RevisionFiles> {
    let record_id = row.int(0);
    let view: FilesView =
        serde_json::from_str(row.text(3)).map_err(|source| StoreError::Corrupt { id: record_id, source })?;
    let files = view
        .documents
        .into_iter()
        .flat_map(|d| d.files)
        .filter_map(|f| Some(NamedFile { sha256: f.sha256?, filename: f.filename, size: f.size }))
        .collect();
    Ok(RevisionFiles {
        record_id,
        number: row.int(1),
        status: view.status,
        datestamp: view.datestamp,
        lastmod: view.lastmod,
        at: Timestamp(row.int(2)),
        files,
    })
}

fn purge(row: &impl SqlRow) -> FilePurge {
    FilePurge {
        record_id: row.int(0),
        sha256: row.text(1).to_string(),
        filename: row.text(2).to_string(),
        bytes: row.int(3).max(0) as u64,
        purged_at: Timestamp(row.int(4)),
    }
}

const PURGE_COLUMNS: &str = "p.record_id, p.sha256, p.filename, p.bytes, p.purged_at";

async fn purges<B: Backend>(store: &B, tail: &str, binds: &[Bind<'_>]) -> Result<Vec<FilePurge>> {
    let sql = format!("SELECT {PURGE_COLUMNS} FROM file_purges p {tail}");
    let rows = store.reader().await?.rows(&sql, binds).await?;
    Ok(rows.iter().map(purge).collect())
}

#[async_trait]
impl<B: Backend> FileRefs for B {
    fn revision_files(&self) -> BoxStream<'_, Result<RevisionFiles>> {
        futures::stream::unfold(Some((0i64, 0i64)), move |after| async move {
            let (id, number) = after?;
            let page = async {
                let rows = self
                    .reader()
                    .await?
                    .rows(
                        "SELECT v.record_id, v.number, v.at, v.data FROM revisions v \
                         WHERE (v.record_id, v.number) > ($1, $2) \
                         ORDER BY v.record_id, v.number LIMIT $3",
                        &[Bind::Int(id), Bind::Int(number), Bind::Int(PAGE)],
                    )
                    .await?;
                rows.iter().map(revision_files).collect::<Result<Vec<_>>>()
            };
            match page.await {
                Ok(revisions) => {
                    let next = if (revisions.len() as i64) < PAGE {
                        None
                    } else {
                        revisions.last().map(|r| (r.record_id, r.number))
                    };
                    Some((futures::stream::iter(revisions.into_iter().map(Ok)).boxed(), next))
                }
                Err(e) => Some((futures::stream::iter([Err(e)]).boxed(), None)),
            }
        })
        .flatten()
        .boxed()
    }

    async fn draft_revision_files(&self, owner: i64) -> Result<Vec<RevisionFiles>> {
        // records_by_user (userid, status, ...) gives the owner's drafts;
        // the revisions' primary key gives their revisions.
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT v.record_id, v.number, v.at, v.data FROM records r \
                 JOIN revisions v ON v.record_id = r.id \
                 WHERE r.userid = $1 AND r.status IN ('inbox', 'buffer') AND r.datestamp IS NULL \
                 ORDER BY v.record_id, v.number",
                &[Bind::Int(owner)],
            )
            .await?;
        rows.iter().map(revision_files).collect()
    }

    async fn owner_file_purges(&self, owner: i64) -> Result<Vec<FilePurge>> {
        purges(
            self,
            "JOIN records r ON r.id = p.record_id WHERE r.userid = $1 ORDER BY p.record_id, p.purged_at",
            &[Bind::Int(owner)],
        )
        .await
    }

    async fn record_file_purges(&self, id: RecordId) -> Result<Vec<FilePurge>> {
        purges(self, "WHERE p.record_id = $1 ORDER BY p.purged_at", &[Bind::Int(id)]).await
    }

    async fn all_file_purges(&self) -> Result<Vec<FilePurge>> {
        purges(self, "ORDER BY p.record_id", &[]).await
    }

    async fn add_file_purges(&self, purges: &[FilePurge]) -> Result<()> {
        for p in purges {
            B::check_text(&|| format!("the purged file {:?}", p.filename), &p.filename)?;
        }
        let mut writer = self.writer().await?;
        for p in purges {
            writer
                .run(
                    "INSERT INTO file_purges (record_id, sha256, filename, bytes, purged_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (record_id, sha256) DO NOTHING",
                    &[
                        Bind::Int(p.record_id),
                        Bind::Text(&p.sha256),
                        Bind::Text(&p.filename),
                        Bind::Int(p.bytes as i64),
                        Bind::Int(p.purged_at.0),
                    ],
                )
                .await?;
        }
        Ok(())
    }
}
