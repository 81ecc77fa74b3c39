//! Import progress: how far the import of each file got, so that an import
//! killed half-way can be resumed rather than run again from the start.
//!
//! A file is known by the SHA-256 of its bytes, not by its path (a copy
//! moved or renamed is the same file). Its row in `import_progress` says up
//! to which `<eprint>` of the file the import has committed, how many
//! records it wrote, and how many of them were given new ids (the ones a
//! second run would add twice). The row is written in the same transaction
//! as the batch of records it describes ([`crate::Records::put_records_noted`]
//! on both backends, bulk loads included): a kill can come before or after
//! that commit, never between the records and their note, so a resumed
//! import neither skips a record that was not committed nor writes one
//! again that was.

use crate::sql::{Backend, Bind, Sql, SqlRow};
use crate::Result;
use arkiv_model::Timestamp;

/// Where the import of one file stands: what its last committed write
/// noted. Written whole each time (the caller carries the counts on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportNote {
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// The file as the import named it (for messages; the hash is the key).
    pub file_name: String,
    /// 1-based position of the last `<eprint>` of the file that this
    /// import has dealt with (committed, or rejected before it); 0: none yet.
    pub position: u64,
    /// Records this import has committed from the file.
    pub records: u64,
    /// How many of them had no id in the file and were given a new one:
    /// the records that importing the file again would add a second time.
    pub new_ids: u64,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    /// Whether the import read the whole file.
    pub finished: bool,
}

const COLUMNS: &str = "sha256, file_name, position, records, new_ids, started_at, updated_at, finished";

/// Writes `note` on `conn`, inside the caller's transaction if there is one
/// (the batch of records it describes).
pub(crate) async fn write<B: Backend>(conn: &mut impl Sql, note: &ImportNote) -> Result<()> {
    B::check_text(&|| format!("import of {:?}: the file name", note.file_name), &note.file_name)?;
    conn.run(
        &format!(
            "INSERT INTO import_progress ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (sha256) DO UPDATE SET file_name = excluded.file_name, position = excluded.position, \
             records = excluded.records, new_ids = excluded.new_ids, started_at = excluded.started_at, \
             updated_at = excluded.updated_at, finished = excluded.finished"
        ),
        &[
            Bind::Text(&note.sha256),
            Bind::Text(&note.file_name),
            Bind::Int(count(note.position)),
            Bind::Int(count(note.records)),
            Bind::Int(count(note.new_ids)),
            Bind::Int(note.started_at.0),
            Bind::Int(note.updated_at.0),
            Bind::Bool(note.finished),
        ],
    )
    .await?;
    Ok(())
}

/// Writes `note` with no records beside it (an import's end).
pub(crate) async fn write_alone<B: Backend>(store: &B, note: &ImportNote) -> Result<()> {
    write::<B>(&mut *store.writer().await?, note).await
}

/// The note of the file whose bytes hash to `sha256`, if it was ever imported.
pub(crate) async fn read(conn: &mut impl Sql, sha256: &str) -> Result<Option<ImportNote>> {
    let row =
        conn.row(&format!("SELECT {COLUMNS} FROM import_progress WHERE sha256 = $1"), &[Bind::Text(sha256)]).await?;
    Ok(row.map(|row| ImportNote {
        sha256: row.text(0).to_string(),
        file_name: row.text(1).to_string(),
        position: row.int(2).max(0) as u64,
        records: row.int(3).max(0) as u64,
        new_ids: row.int(4).max(0) as u64,
        started_at: Timestamp(row.int(5)),
        updated_at: Timestamp(row.int(6)),
        finished: row.flag(7),
    }))
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
