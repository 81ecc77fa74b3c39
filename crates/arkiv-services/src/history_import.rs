//! Importing a record's EPrints history (`arkiv import history FILE
//! --revisions DIR`): the `history` dataset's export says who did what to
//! each eprint and when, and EPrints kept the eprint's state after each
//! revision as a file (`documents/disk0/00/00/01/23/revisions/4.xml`).
//! Each such state becomes an earlier revision of the imported record,
//! beneath the revisions it has in Arkiv, by `eprints:` and the EPrints
//! actor, at the entry's time; the record's current state stays as it is.
//!
//! An entry whose state file is missing cannot be a revision (a revision
//! is a whole state) and is counted as such; entries for other datasets
//! (users, documents) and for eprints this repository does not hold are
//! counted and left; a bad entry or state file is reported with its line
//! or path while the rest land. A record whose history was imported once
//! is left alone the second time.

use crate::Repository;
use anyhow::Result;
use arkiv_formats::eprints::history::{eprint_dir, HistoryEntry, HistoryLine};
use arkiv_formats::eprints::EprintsReader;
use arkiv_model::{Record, RecordId};
use arkiv_storage::history::{EarlierRevision, Prepended};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a history import did.
#[derive(Debug, Default)]
pub struct HistoryReport {
    /// Records that took earlier revisions.
    pub records: usize,
    /// Earlier revisions added, over all records.
    pub revisions: usize,
    /// (line, why) for each entry that could not be read.
    pub rejected: Vec<(usize, String)>,
    /// (state file, why) for each state file that could not be read.
    pub bad_states: Vec<(PathBuf, String)>,
    /// Entries of eprints whose state EPrints kept no file of here.
    pub without_state: usize,
    /// Entries of eprints this repository does not hold.
    pub unknown_records: usize,
    /// Entries about other datasets (users, documents...).
    pub other_datasets: usize,
    /// Records left alone: their history was already imported (or their
    /// first revision is older than the states).
    pub already: Vec<RecordId>,
}

/// The prefix of the actor of an imported earlier revision.
pub const EPRINTS_ACTOR: &str = "eprints:";

/// Largest state file read: an eprint's XML without file contents.
const MAX_STATE_BYTES: u64 = 64 << 20;

/// Imports the entries of a history export, with the state files found
/// under `revisions` (EPrints' `documents` directory, or a directory of
/// `EPRINTID/REVISION.xml`).
pub async fn import_history(repo: &Repository, lines: Vec<HistoryLine>, revisions: &Path) -> Result<HistoryReport> {
    let mut report = HistoryReport::default();
    let disks = disks(revisions);
    let mut by_eprint: BTreeMap<i64, Vec<HistoryEntry>> = BTreeMap::new();
    for line in lines {
        match line.result {
            Err(why) => report.rejected.push((line.line, why)),
            Ok(e) if e.datasetid != "eprint" => report.other_datasets += 1,
            Ok(e) => by_eprint.entry(e.objectid).or_default().push(e),
        }
    }
    for (eprintid, mut entries) in by_eprint {
        let Some(current) = repo.store.get_record(eprintid).await? else {
            report.unknown_records += entries.len();
            continue;
        };
        entries.sort_by_key(|e| (e.revision, e.timestamp, e.historyid));
        // One state per revision: the last entry that reached it names who
        // and when (EPrints writes a `modify` and a move with one number).
        let mut states: BTreeMap<i64, &HistoryEntry> = BTreeMap::new();
        for e in &entries {
            match e.revision {
                Some(r) if r > 0 => drop(states.insert(r, e)),
                _ => report.without_state += 1,
            }
        }
        let mut earlier = Vec::new();
        for (revision, entry) in states {
            let Some(path) = state_file(revisions, &disks, eprintid, revision) else {
                report.without_state += 1;
                continue;
            };
            match read_state(&path, eprintid) {
                Ok(mut record) => {
                    keep_stored_files(&mut record, &current);
                    let actor = if entry.actor.trim().is_empty() {
                        entry.userid.map(|u| format!("user {u}")).unwrap_or_else(|| "a script".into())
                    } else {
                        entry.actor.trim().to_string()
                    };
                    earlier.push(EarlierRevision {
                        actor: format!("{EPRINTS_ACTOR}{actor}"),
                        at: entry.timestamp,
                        record,
                    });
                }
                Err(why) => report.bad_states.push((path, why)),
            }
        }
        if earlier.is_empty() {
            continue;
        }
        match repo.store.prepend_revisions(eprintid, earlier).await? {
            Prepended::Added(n) => {
                report.records += 1;
                report.revisions += n;
            }
            Prepended::NoRecord => report.unknown_records += entries.len(),
            Prepended::NotEarlier { .. } => report.already.push(eprintid),
        }
    }
    report.rejected.sort();
    Ok(report)
}

/// The state file of an eprint's revision: EPrints' layout under its
/// `documents` directory (`disk*/00/00/01/23/revisions/N.xml`), or
/// `EPRINTID/N.xml`.
fn state_file(root: &Path, disks: &[PathBuf], eprintid: i64, revision: i64) -> Option<PathBuf> {
    let plain = root.join(eprintid.to_string()).join(format!("{revision}.xml"));
    if plain.is_file() {
        return Some(plain);
    }
    let dir = eprint_dir(eprintid);
    disks.iter().map(|d| d.join(&dir).join("revisions").join(format!("{revision}.xml"))).find(|p| p.is_file())
}

/// The directories directly under `root` (EPrints' `disk0`, `disk1`...),
/// sorted: listed once per import, not once per revision.
fn disks(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut disks: Vec<PathBuf> = entries.filter_map(|d| d.ok()).map(|d| d.path()).filter(|p| p.is_dir()).collect();
    disks.sort();
    disks
}

/// An eprint's state from its revision file: one `<eprint>`, the id it
/// must carry.
fn read_state(path: &Path, eprintid: i64) -> Result<Record, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_STATE_BYTES {
        return Err(format!("{size} bytes, more than an eprint's state takes"));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut items = EprintsReader::new(std::io::BufReader::new(file));
    let item = items.next().ok_or("no <eprint> in the file")?;
    let imported = item.result.map_err(|e| e.to_string())?;
    let mut record = imported.record;
    if record.id.is_some_and(|id| id != eprintid) {
        return Err(format!("the file holds eprint {}, not {eprintid}", record.id.unwrap_or_default()));
    }
    record.id = Some(eprintid);
    Ok(record)
}

/// A state file names files without their bytes: where the record still
/// holds a file of the same document and name, the state points at the
/// same stored bytes, so the old revision's file still opens.
fn keep_stored_files(record: &mut Record, current: &Record) {
    for doc in &mut record.documents {
        let Some(now) = current.documents.iter().find(|d| d.pos == doc.pos) else { continue };
        for file in &mut doc.files {
            if let Some(same) = now.files.iter().find(|f| f.filename == file.filename) {
                file.sha256.clone_from(&same.sha256);
                file.size = same.size;
            }
        }
    }
}
