//! Importing records: EPrints XML exports and RIS files (each a codec of
//! `arkiv_formats` yielding `ReadItem`s, [`RecordFormat`]) through one
//! pipeline: streamed, batched, and forgiving of bad records.
//!
//! A blocking thread parses the export and hands records over a bounded
//! channel, so a 5 GB export never sits in memory. The async side checks each
//! record against the repository's rules, stores its files (bytes first: a
//! record is written only after the bytes it references are durably in the
//! file store), and writes records in batches, one transaction each. A batch
//! that the database refuses is retried record by record, so one bad record
//! is reported with its position and the rest land.
//!
//! Three stages run at once: the parser reads ahead while the async side
//! checks the next batch, and the batch before it is written by a task of
//! its own. Batches still commit one at a time and in file order (a batch is
//! written only once the one before it has committed), and what the report
//! says (rejections in the same order, progress only for committed batches)
//! is what a one-stage import would say.
//!
//! Each batch commits with a note of how far into its file the import has
//! got (`arkiv_storage::ImportNote`, in the same transaction), the file
//! known by the SHA-256 of its bytes, hashed before anything is written.
//! So a file whose earlier import gave records new ids is refused rather
//! than imported twice ([`ImportRefused`]), and a killed import can be
//! resumed ([`Rerun::Resume`]) after its last commit.

use crate::repository::Repository;
use anyhow::{Context, Result};
use arkiv_formats::eprints::{EprintsReader, FileData, ImportedRecord, ReadItem};
use arkiv_model::{validate, Record, Timestamp};
use arkiv_storage::{ImportNote, RecordStore, RecordWrite};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Why one record of an import did not land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub file: PathBuf,
    /// 1-based position of the `<eprint>` within its file (0: the file itself).
    pub position: usize,
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.position == 0 {
            write!(f, "{}: {}", self.file.display(), self.reason)
        } else {
            write!(f, "{}, record {}: {}", self.file.display(), self.position, self.reason)
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub imported: u64,
    pub rejected: Vec<Rejection>,
    /// Elements kept verbatim because Arkiv does not model them, with counts.
    pub unmapped: BTreeMap<String, u64>,
    /// Item types this import met unknown and took (see `take_local_type`),
    /// with how many records of each it met.
    pub types_taken: BTreeMap<String, u64>,
    /// Other remarks (ignored sub-elements, files not fetched), first few.
    pub warnings: Vec<String>,
    pub warning_count: u64,
    pub files_stored: u64,
    /// Files referenced by a remote URL: their metadata is kept, their bytes
    /// are not in the repository.
    pub files_not_fetched: u64,
    /// Files fetched by URL (`--fetch-files`).
    pub files_fetched: u64,
    /// Every file `--fetch-files` could not fetch, with why.
    pub fetch_failures: Vec<String>,
    /// Id of the last record of the last committed batch.
    pub last_id: Option<i64>,
    /// `<eprint>`s skipped because an earlier import of their file had
    /// committed them ([`Rerun::Resume`]).
    pub skipped: u64,
    /// The files resumed, one line each for the report.
    pub resumed: Vec<Resumed>,
    /// Records whose depositor (EPrints' `<userid>`) is an EPrints user
    /// not imported yet: they have no depositor until `arkiv import users`
    /// brings that user.
    pub depositors_waiting: u64,
}

/// A file whose import took up where an earlier one stopped.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub file: PathBuf,
    /// `<eprint>`s of the file skipped: those up to the earlier import's
    /// last committed position.
    pub skipped: u64,
    /// What the earlier import had noted when it stopped.
    pub earlier: ImportNote,
}

/// What to do with a file that an earlier import began or finished (the
/// same bytes, whatever the path).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rerun {
    /// Refuse the file if the earlier import gave any of its records a new
    /// id (they would be added twice); a file whose records all carry ids
    /// imports again as any import does.
    #[default]
    Refuse,
    /// Skip what the earlier import committed and import the rest (nothing,
    /// if it finished).
    Resume,
    /// Import the whole file anew, as a new import.
    Again,
}

/// An import refused before anything was written: a file that an earlier
/// import already began or finished. The message names the file, what was
/// committed, and the options that go on (`--resume`, `--again`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportRefused(pub String);

/// Where an import stands, reported after every committed batch.
#[derive(Debug, Clone)]
pub struct ImportProgress {
    pub file: PathBuf,
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub imported: u64,
    pub rejected: u64,
    pub last_id: Option<i64>,
}

pub struct ImportOptions {
    /// Who the revisions name.
    pub actor: String,
    pub batch_size: usize,
    /// Records after which an import into a repository that has never held
    /// a record becomes a bulk load (`Records::begin_bulk_load`).
    pub bulk_load_after: u64,
    /// Whether a record whose id already exists replaces it (as a new
    /// revision). Without it such a record is rejected: an import never
    /// overwrites a record unasked.
    pub update_existing: bool,
    /// What to do with a file an earlier import began or finished.
    pub rerun: Rerun,
    /// Fetch the files an export references by http(s) URL
    /// (`--fetch-files`); without it their metadata is kept and their bytes
    /// are not (see [`crate::fetch`]).
    pub fetch: Option<crate::fetch::FetchOptions>,
    /// Names for item types the import may take, by type id (read from
    /// EPrints' phrase files, `--phrases`); a type taken without one is
    /// labelled by its id.
    pub type_names: BTreeMap<String, String>,
}

impl ImportOptions {
    pub fn for_repository(repo: &Repository) -> Self {
        ImportOptions {
            actor: "import".into(),
            batch_size: repo.config.import.batch_size.max(1),
            bulk_load_after: repo.config.import.bulk_load_after,
            update_existing: false,
            rerun: Rerun::Refuse,
            fetch: None,
            type_names: BTreeMap::new(),
        }
    }
}

const MAX_WARNINGS_KEPT: usize = 50;

/// Records in an import's first batch; later ones double up to
/// [`ImportOptions::batch_size`].
const FIRST_BATCH_RECORDS: usize = 1000;

/// The parser hands records over in chunks (one wake-up of the async side
/// per chunk, not per record) of at most this many records...
const CHUNK_RECORDS: usize = 64;
/// ...or this many bytes of XML, whichever comes first.
const CHUNK_BYTES: u64 = 1 << 20;
/// Chunks parsed ahead of the writer. With the limits above: at most about
/// 32 MB of XML (plus one record, if a record alone is larger) or 2,048
/// records wait in the queue. Parsed records may carry embedded file bytes.
const CHUNKS_AHEAD: usize = 32;

/// Counts bytes as the parser reads them, for the progress bar.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The formats records are imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// EPrints 3's XML export.
    EprintsXml,
    /// RIS, as reference managers export it.
    Ris,
    /// BibTeX and BibLaTeX.
    Bibtex,
    /// CSL-JSON.
    CslJson,
    /// Crossref's REST API works.
    Crossref,
    /// DataCite's REST API JSON.
    DataciteJson,
}

impl RecordFormat {
    /// The records `reader` holds, one `ReadItem` at a time.
    fn read(
        self,
        reader: impl std::io::BufRead + Send + 'static,
        types: arkiv_model::ItemTypes,
    ) -> Box<dyn Iterator<Item = ReadItem> + Send> {
        match self {
            RecordFormat::EprintsXml => Box::new(EprintsReader::new(reader)),
            RecordFormat::Ris => Box::new(arkiv_formats::ris::RisReader::with_types(reader, types)),
            RecordFormat::Bibtex => Box::new(arkiv_formats::bibtex::BibtexReader::with_types(reader, types)),
            RecordFormat::CslJson => Box::new(arkiv_formats::csl_json::CslJsonReader::with_types(reader, types)),
            RecordFormat::Crossref => Box::new(arkiv_formats::crossref::CrossrefReader::with_types(reader, types)),
            RecordFormat::DataciteJson => {
                Box::new(arkiv_formats::datacite_json::DataciteJsonReader::with_types(reader, types))
            }
        }
    }
}

/// Imports EPrints XML files into the repository.
pub async fn import_eprints_xml(
    repo: &Repository,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportReport> {
    import_records(repo, RecordFormat::EprintsXml, paths, options, progress).await
}

/// Imports files of `format` into the repository.
pub async fn import_records(
    repo: &Repository,
    format: RecordFormat,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    // Every file is checked before anything is written: a refusal leaves
    // the repository as it was.
    let plans = plan_files(repo, paths, options.rerun).await?;
    let mut bulk =
        BulkLoad { eligible: repo.store.max_record_id().await? == 0, after: options.bulk_load_after, begun: false };
    let mut result = Ok(());
    for (path, plan) in paths.iter().zip(plans) {
        let plan = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                report.rejected.push(Rejection { file: path.clone(), position: 0, reason });
                continue;
            }
        };
        result = import_file(repo, format, path, plan, options, &mut report, &mut bulk, progress).await;
        if result.is_err() {
            break;
        }
    }
    if bulk.begun {
        // Also after a failure: what was committed gets its indexes now.
        let finished = repo.store.end_bulk_load().await;
        result?;
        finished?;
        return Ok(report);
    }
    result.map(|()| report)
}

/// Whether an import has switched the store to a bulk load
/// (`Records::begin_bulk_load`): indexes built once at the end rather
/// than entry by entry. Only into a repository that had never held a
/// record (a first migration from another system: no live site is slowed
/// meanwhile). `[import] bulk_load_after` says after how many records; by
/// default from the first: since browse entries wait in memory rather than
/// in a table (`arkiv_storage`'s `pending_browse`), even 10,000 records
/// import faster so (BENCHMARKS.md).
struct BulkLoad {
    eligible: bool,
    /// Records imported before it begins (`[import] bulk_load_after`).
    after: u64,
    begun: bool,
}

impl BulkLoad {
    async fn begin_if_due(&mut self, store: &dyn RecordStore, imported: u64) -> Result<()> {
        if self.eligible && !self.begun && imported >= self.after {
            store.begin_bulk_load().await?;
            self.begun = true;
        }
        Ok(())
    }
}

/// How one file is imported, decided before anything is written.
struct FilePlan {
    /// Where its import stands: the earlier import's note when resuming,
    /// else a new one.
    note: ImportNote,
    /// `<eprint>`s up to this position were committed by an earlier
    /// import: skipped.
    skip_through: u64,
    /// The earlier import this one resumes, as it stood.
    earlier: Option<ImportNote>,
}

/// Hashes each file and decides, against what earlier imports of the same
/// bytes noted, how it is imported; refuses them all ([`ImportRefused`])
/// if any is refused. A file that cannot be read gets the reason instead,
/// reported as its rejection.
async fn plan_files(repo: &Repository, paths: &[PathBuf], rerun: Rerun) -> Result<Vec<Result<FilePlan, String>>> {
    let mut plans = Vec::with_capacity(paths.len());
    let mut refusals = Vec::new();
    let mut seen: HashMap<String, &Path> = HashMap::new();
    let now = repo.now();
    for path in paths {
        let sha256 = match hash_file(path).await {
            Ok(sha256) => sha256,
            Err(e) => {
                plans.push(Err(format!("cannot open: {e}")));
                continue;
            }
        };
        // The same bytes named twice in one command are imported twice, as
        // named (a corpus of snapshots may hold copies), each its own import,
        // the note following the later. Only a resume cannot tell which of
        // them the note is about.
        if let Some(first) = seen.insert(sha256.clone(), path) {
            if rerun == Rerun::Resume {
                refusals.push(format!(
                    "{} and {} are the same file (the same bytes): --resume cannot tell which of them an earlier \
                     import reached; resume one at a time.",
                    first.display(),
                    path.display()
                ));
                continue;
            }
        }
        let file_name = path.display().to_string();
        let plan = match (repo.store.import_progress(&sha256).await?, rerun) {
            (Some(earlier), Rerun::Resume) => FilePlan {
                skip_through: earlier.position,
                note: ImportNote { file_name, ..earlier.clone() },
                earlier: Some(earlier),
            },
            (Some(earlier), Rerun::Refuse) if earlier.new_ids > 0 => {
                refusals.push(refusal(path, &earlier));
                continue;
            }
            _ => FilePlan {
                note: ImportNote {
                    sha256,
                    file_name,
                    position: 0,
                    records: 0,
                    new_ids: 0,
                    started_at: now,
                    updated_at: now,
                    finished: false,
                },
                skip_through: 0,
                earlier: None,
            },
        };
        plans.push(Ok(plan));
    }
    if !refusals.is_empty() {
        refusals.push("Nothing was imported.".into());
        return Err(ImportRefused(refusals.join("\n")).into());
    }
    Ok(plans)
}

/// Why a file an earlier import gave new ids is refused, and what would
/// go on.
fn refusal(path: &Path, earlier: &ImportNote) -> String {
    let name = path.display().to_string();
    let same = if earlier.file_name == name { String::new() } else { format!(" (as {})", earlier.file_name) };
    let at = |t: Timestamp| format!("{} UTC", t.to_eprints());
    if earlier.finished {
        format!(
            "{name} was imported already{same}, finished {}: {} records, {} of them without an id in the file and \
             given a new one. Importing it again would add those {} a second time. To import the whole file anew \
             all the same, run again with --again.",
            at(earlier.updated_at),
            earlier.records,
            earlier.new_ids,
            earlier.new_ids
        )
    } else {
        format!(
            "{name}: an earlier import of this file{same}, begun {}, did not finish: it committed {} records, up to \
             record {} of the file, the last at {}. Run again with --resume to skip records 1 to {} and import the \
             rest, or with --again to import the whole file anew, as a new import (the {} records it gave new ids \
             would be there twice).",
            at(earlier.started_at),
            earlier.records,
            earlier.position,
            at(earlier.updated_at),
            earlier.position,
            earlier.new_ids
        )
    }
}

/// The SHA-256 of a file's bytes, streamed in 1 MiB reads on a blocking
/// thread: an export of any size costs one read of it, no memory.
async fn hash_file(path: &Path) -> std::io::Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .map_err(std::io::Error::other)?
}

#[allow(clippy::too_many_arguments)]
async fn import_file(
    repo: &Repository,
    format: RecordFormat,
    path: &Path,
    plan: FilePlan,
    options: &ImportOptions,
    report: &mut ImportReport,
    bulk: &mut BulkLoad,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            report.rejected.push(Rejection { file: path.into(), position: 0, reason: format!("cannot open: {e}") });
            return Ok(());
        }
    };
    let FilePlan { note: mut log, skip_through, earlier } = plan;
    // EPrints' user ids of the users imported so far, to Arkiv's.
    let depositors = Arc::new(repo.accounts.eprints_users().await?);
    let fetcher = match &options.fetch {
        Some(o) => Some(crate::fetch::Fetcher::new(o.clone()).map_err(anyhow::Error::msg)?),
        None => None,
    };
    if let Some(earlier) = earlier.as_ref().filter(|e| e.finished) {
        // The earlier import read the whole file: nothing is left to do.
        report.skipped += skip_through;
        report.resumed.push(Resumed { file: path.into(), skipped: skip_through, earlier: earlier.clone() });
        return Ok(());
    }
    let mut skipped = 0u64;
    // The last position read: the file's end, once it has all been read.
    let mut last_position = skip_through;
    let bytes_total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let export_dir = path
        .parent()
        .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p })
        .unwrap_or(Path::new("."))
        .canonicalize()
        .with_context(|| format!("cannot resolve the folder of {}", path.display()))?;
    let count = Arc::new(AtomicU64::new(0));
    // A short queue, bounded in records and in bytes: see CHUNKS_AHEAD.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<ReadItem>>(CHUNKS_AHEAD);
    let reader_count = count.clone();
    let types = (*repo.types()).clone();
    let parser = std::thread::spawn(move || {
        let counting = CountingReader { inner: file, count: reader_count.clone() };
        let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
        let mut chunk_start = 0;
        for item in format.read(BufReader::with_capacity(256 * 1024, counting), types) {
            chunk.push(item);
            let read = reader_count.load(Ordering::Relaxed);
            if chunk.len() >= CHUNK_RECORDS || read - chunk_start >= CHUNK_BYTES {
                chunk_start = read;
                if tx.blocking_send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_RECORDS))).is_err() {
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });

    // Batches start small, so that a small import still overlaps parsing
    // with writing and the first progress comes soon, and double up to the
    // configured size: SQLite's cost per record falls with larger batches,
    // because each index page a batch touches is written to the log once
    // per batch however many of its entries change (BENCHMARKS.md).
    let mut batch_target = options.batch_size.min(FIRST_BATCH_RECORDS);
    let mut batch: Vec<(usize, Record)> = Vec::with_capacity(batch_target);
    // Rejections of the records gathered since the last batch was handed
    // to the writer: reported once the batches before them are.
    let mut held: Vec<Rejection> = Vec::new();
    let mut writing: Option<tokio::task::JoinHandle<Result<BatchOutcome>>> = None;
    let mut file_progress = ImportProgress {
        file: path.to_path_buf(),
        bytes_read: 0,
        bytes_total,
        imported: 0,
        rejected: 0,
        last_id: None,
    };
    let result = async {
        loop {
            let chunk = tokio::select! {
                // A committed batch is reported as soon as it commits.
                outcome = async { writing.as_mut().expect("guarded").await }, if writing.is_some() => {
                    writing = None;
                    log = committed(outcome, path, report, &count, &mut file_progress, progress)?;
                    continue;
                }
                chunk = rx.recv() => chunk,
            };
            let Some(chunk) = chunk else { break };
            for item in chunk {
                let position = item.position;
                if position > 0 && position as u64 <= skip_through {
                    // Committed by the import this one resumes.
                    skipped += 1;
                    continue;
                }
                last_position = last_position.max(position as u64);
                let imported = match item.result {
                    Ok(imported) => imported,
                    Err(e) => {
                        held.push(Rejection { file: path.to_path_buf(), position, reason: e.to_string() });
                        continue;
                    }
                };
                match prepare_record(repo, imported, &export_dir, fetcher.as_ref(), &options.type_names, report).await {
                    Ok(record) => batch.push((position, record)),
                    Err(reason) => held.push(Rejection { file: path.to_path_buf(), position, reason }),
                }
                if batch.len() >= batch_target {
                    // One batch at a time, in order: the next is written
                    // only after this one has committed.
                    if let Some(previous) = writing.take() {
                        log = committed(previous.await, path, report, &count, &mut file_progress, progress)?;
                    }
                    bulk.begin_if_due(&*repo.store, report.imported).await?;
                    report.rejected.append(&mut held);
                    writing = Some(tokio::spawn(write_batch(
                        repo.store.clone(),
                        depositors.clone(),
                        options.actor.clone(),
                        options.update_existing,
                        std::mem::take(&mut batch),
                        log.clone(),
                        repo.now(),
                    )));
                    batch_target = (batch_target * 2).min(options.batch_size);
                }
            }
        }
        if let Some(previous) = writing.take() {
            log = committed(previous.await, path, report, &count, &mut file_progress, progress)?;
        }
        report.rejected.append(&mut held);
        let last = write_batch(
            repo.store.clone(),
            depositors.clone(),
            options.actor.clone(),
            options.update_existing,
            std::mem::take(&mut batch),
            log.clone(),
            repo.now(),
        )
        .await;
        log = merge(last?, path, report);
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if let Err(e) = result {
        // Stop the parser (it fails to send and returns) and let a batch
        // being written finish, so that the error is the last thing to happen.
        drop(rx);
        if let Some(previous) = writing.take() {
            let _ = previous.await;
        }
        let _ = parser.join();
        return Err(e);
    }
    parser.join().map_err(|_| anyhow::anyhow!("the XML parser thread failed on {}", path.display()))?;
    // Every record of the file committed or reported: a run of it again is
    // refused (or resumed with nothing to do) from now on.
    repo.store
        .put_records_noted(
            Vec::new(),
            Some(ImportNote { position: last_position, updated_at: repo.now(), finished: true, ..log }),
        )
        .await?;
    if let Some(earlier) = earlier {
        report.skipped += skipped;
        report.resumed.push(Resumed { file: path.into(), skipped, earlier });
    }
    file_progress.bytes_read = bytes_total;
    update(&mut file_progress, report);
    progress(&file_progress);
    Ok(())
}

/// Takes in the outcome of a batch written in the background and reports
/// progress.
fn committed(
    outcome: Result<Result<BatchOutcome>, tokio::task::JoinError>,
    path: &Path,
    report: &mut ImportReport,
    count: &AtomicU64,
    file_progress: &mut ImportProgress,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportNote> {
    let outcome = outcome.map_err(|e| anyhow::anyhow!("writing a batch of {} failed: {e}", path.display()))??;
    let log = merge(outcome, path, report);
    file_progress.bytes_read = count.load(Ordering::Relaxed);
    update(file_progress, report);
    progress(file_progress);
    Ok(log)
}

/// Adds a batch's outcome to the report; returns where the file's import
/// stands after it.
fn merge(outcome: BatchOutcome, path: &Path, report: &mut ImportReport) -> ImportNote {
    report.imported += outcome.imported;
    report.depositors_waiting += outcome.depositors_waiting;
    report.last_id = outcome.last_id.or(report.last_id);
    report.rejected.extend(outcome.rejected.into_iter().map(|(position, reason)| Rejection {
        file: path.to_path_buf(),
        position,
        reason,
    }));
    outcome.log
}

fn update(p: &mut ImportProgress, report: &ImportReport) {
    p.imported = report.imported;
    p.rejected = report.rejected.len() as u64;
    p.last_id = report.last_id;
}

fn warn(report: &mut ImportReport, warning: String) {
    report.warning_count += 1;
    if report.warnings.len() < MAX_WARNINGS_KEPT {
        report.warnings.push(warning);
    }
}

/// An item type EPrints repositories define locally (`oral_history`,
/// `posted-content`): an id of letters, digits, `_` and `-`.
fn plausible_type_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Takes an item type the repository does not know yet, as EPrints
/// repositories bring their local ones: stored in the database (every node
/// sees it; `arkiv.toml` is never written), labelled with its name from
/// `names` (EPrints' phrase files) or else by its id until an admin labels
/// it under `[types]`, and named in the import's summary.
pub(crate) async fn take_local_type(
    repo: &Repository,
    item_type: &str,
    names: &BTreeMap<String, String>,
    report: &mut ImportReport,
) -> Result<(), String> {
    if repo.types().contains(item_type) {
        if let Some(n) = report.types_taken.get_mut(item_type) {
            *n += 1;
        }
        return Ok(());
    }
    if !plausible_type_id(item_type) {
        return Ok(()); // validation says what is wrong with it
    }
    let added = repo
        .add_types(&[(item_type.to_string(), names.get(item_type).cloned().unwrap_or_else(|| item_type.to_string()))])
        .await
        .map_err(|e| format!("the new item type {item_type} could not be stored: {e:#}"))?;
    if !added.is_empty() {
        tracing::info!(item_type, "a new item type taken from the import");
    }
    *report.types_taken.entry(item_type.to_string()).or_insert(0) += 1;
    Ok(())
}

/// Checks a parsed record and stores its files. Returns the record ready to
/// write, or why it cannot be imported.
async fn prepare_record(
    repo: &Repository,
    imported: ImportedRecord,
    export_dir: &Path,
    fetcher: Option<&crate::fetch::Fetcher>,
    type_names: &BTreeMap<String, String>,
    report: &mut ImportReport,
) -> Result<Record, String> {
    let ImportedRecord { mut record, mut files, unmapped, warnings } = imported;
    // File names are stored without invisible characters (a right-to-left
    // override makes `evil\u{202e}gpj.exe` read `evilexe.jpg`); the sources
    // are cleaned alike so that they still find their files.
    arkiv_model::validate::clean_file_names(&mut record);
    for source in &mut files {
        source.filename = arkiv_model::validate::clean_filename(&source.filename);
    }
    take_local_type(repo, &record.item_type, type_names, report).await?;
    if let Err(problems) = validate(&record, &repo.types()) {
        return Err(problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "));
    }
    let label = record.id.map(|id| format!("record {id}")).unwrap_or_else(|| "a record".into());
    for w in warnings {
        warn(report, format!("{label}: {w}"));
    }
    let max = repo.config.import.max_file_bytes;
    for source in files {
        let bytes = match source.source {
            FileData::None => continue,
            FileData::Embedded(bytes) => bytes,
            FileData::Url(url) if url.starts_with("http://") || url.starts_with("https://") => {
                let Some(fetcher) = fetcher else {
                    report.files_not_fetched += 1;
                    warn(report, format!("{label}: {} not fetched from {url}; its metadata is kept", source.filename));
                    continue;
                };
                let file =
                    record.documents.iter().find(|d| d.pos == source.doc_pos).and_then(|d| d.file(&source.filename));
                let expected = crate::fetch::Expected {
                    size: file.map(|f| f.size).filter(|&s| s > 0),
                    md5: file
                        .and_then(|f| f.source_hash.as_ref())
                        .filter(|(kind, _)| kind.eq_ignore_ascii_case("md5"))
                        .map(|(_, h)| h.clone()),
                };
                match fetcher.fetch(&url, &expected).await {
                    Ok(bytes) => {
                        report.files_fetched += 1;
                        bytes
                    }
                    Err(why) => {
                        report.files_not_fetched += 1;
                        report.fetch_failures.push(format!("{label}: {} from {url}: {why}", source.filename));
                        warn(
                            report,
                            format!(
                                "{label}: {} could not be fetched from {url}: {why}; its metadata is kept",
                                source.filename
                            ),
                        );
                        continue;
                    }
                }
            }
            FileData::Url(url) => read_local(export_dir, &url, max).await?,
        };
        if bytes.len() as u64 > max {
            return Err(format!("file {} is larger than the limit of {max} bytes", source.filename));
        }
        let size = bytes.len() as u64;
        let sha =
            repo.files.put(Bytes::from(bytes)).await.map_err(|e| format!("cannot store {}: {e}", source.filename))?;
        report.files_stored += 1;
        let doc = record.documents.iter_mut().find(|d| d.pos == source.doc_pos);
        match doc.and_then(|d| d.files.iter_mut().find(|f| f.filename == source.filename)) {
            Some(f) => {
                f.sha256 = Some(sha);
                f.size = size;
                // The bytes are here now: where the export kept them says
                // nothing about the file any more (exports write their own URLs).
                f.source_url = None;
            }
            None => return Err(format!("file {} belongs to no document", source.filename)),
        }
    }
    for name in unmapped {
        *report.unmapped.entry(name).or_insert(0) += 1;
    }
    Ok(record)
}

/// Reads a file an export references by a relative path or a `file:` URL.
/// The path must stay inside the export's folder: an export cannot make the
/// importer read `/etc/passwd`.
async fn read_local(export_dir: &Path, url: &str, max: u64) -> Result<Vec<u8>, String> {
    let raw = url.strip_prefix("file://").unwrap_or(url);
    let decoded = percent_decode(raw);
    let candidate = export_dir.join(&decoded);
    let resolved =
        candidate.canonicalize().map_err(|e| format!("file {url:?} referenced by the export cannot be read: {e}"))?;
    if !resolved.starts_with(export_dir) {
        return Err(format!("file reference {url:?} points outside the export's folder"));
    }
    let meta = tokio::fs::metadata(&resolved).await.map_err(|e| format!("file {url:?}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("file reference {url:?} is not a file"));
    }
    if meta.len() > max {
        return Err(format!("file {url:?} is larger than the limit of {max} bytes"));
    }
    tokio::fs::read(&resolved).await.map_err(|e| format!("file {url:?}: {e}"))
}

/// A percent-encoded path decoded; what is not a valid escape is kept as
/// it is.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// What writing a batch did.
struct BatchOutcome {
    imported: u64,
    last_id: Option<i64>,
    /// Position and reason of each record refused.
    rejected: Vec<(usize, String)>,
    /// Where the file's import stands once the batch has committed: the
    /// note its last write committed with.
    log: ImportNote,
    /// Records written whose EPrints depositor is not imported yet.
    depositors_waiting: u64,
}

/// EPrints' user ids of the users imported (`arkiv import users`), to
/// Arkiv's.
type Depositors = std::collections::HashMap<i64, arkiv_model::UserId>;

/// Turns an imported record's depositor, EPrints' user id as `<userid>`
/// gives it, into the Arkiv account imported for that user, or none while
/// that user is not imported: never an Arkiv account that merely has the
/// same number. Returns EPrints' id, to be noted beside the record.
fn take_depositor(record: &mut Record, depositors: &Depositors) -> Option<i64> {
    let eprints_userid = record.userid.take()?;
    record.userid = depositors.get(&eprints_userid).copied();
    Some(eprints_userid)
}

/// Notes the EPrints depositors of records just written (`ids` in the
/// order of `eprints_userids`), but those `noted` before the write;
/// returns how many wait for their user.
async fn note_depositors(
    store: &dyn RecordStore,
    ids: &[i64],
    eprints_userids: &[Option<i64>],
    noted: &[bool],
    depositors: &Depositors,
) -> Result<u64> {
    let all: Vec<(i64, i64, bool)> =
        ids.iter().zip(eprints_userids).zip(noted).filter_map(|((id, e), noted)| e.map(|e| (*id, e, *noted))).collect();
    let pairs: Vec<(i64, i64)> = all.iter().filter(|(_, _, noted)| !noted).map(|(id, e, _)| (*id, *e)).collect();
    if !pairs.is_empty() {
        store.note_eprints_depositors(&pairs).await?;
    }
    Ok(all.iter().filter(|(_, e, _)| !depositors.contains_key(e)).count() as u64)
}

/// Notes the EPrints depositors of the records that carry their own id
/// before they are written: a kill between a batch's commit and a note
/// written after it would lose the depositor for good (a resumed import
/// skips what was committed). A note for a write that then fails names a
/// record that is not there, and only gives a depositor to a record with
/// none. Returns which records were noted.
async fn note_depositors_ahead(
    store: &dyn RecordStore,
    records: &[&Record],
    eprints_userids: &[Option<i64>],
) -> Result<Vec<bool>> {
    let pairs: Vec<(i64, i64)> =
        records.iter().zip(eprints_userids).filter_map(|(r, e)| Some((r.id?, (*e)?))).collect();
    if !pairs.is_empty() {
        store.note_eprints_depositors(&pairs).await?;
    }
    Ok(records.iter().map(|r| r.id.is_some()).collect())
}

/// Writes the batch in one transaction, with the note of where the file's
/// import stands after it (`log`, the note before it, carried on); if the
/// database refuses it, writes its records one by one, each with its note,
/// so that only the bad ones are rejected.
async fn write_batch(
    store: Arc<dyn RecordStore>,
    depositors: Arc<Depositors>,
    actor: String,
    update_existing: bool,
    mut items: Vec<(usize, Record)>,
    log: ImportNote,
    now: Timestamp,
) -> Result<BatchOutcome> {
    let Some(&(through, _)) = items.last() else {
        return Ok(BatchOutcome { imported: 0, last_id: None, rejected: Vec::new(), log, depositors_waiting: 0 });
    };
    let mut outcome = BatchOutcome { imported: 0, last_id: None, rejected: Vec::new(), log, depositors_waiting: 0 };
    if !update_existing {
        let ids: Vec<i64> = items.iter().filter_map(|(_, r)| r.id).collect();
        if !ids.is_empty() {
            let existing: std::collections::HashSet<i64> =
                store.get_records(&ids).await?.iter().filter_map(|r| r.id).collect();
            items.retain(|(position, record)| match record.id {
                Some(id) if existing.contains(&id) => {
                    outcome
                        .rejected
                        .push((*position, format!("record {id} already exists (import with --update to replace it)")));
                    false
                }
                _ => true,
            });
        }
    }
    let eprints_userids: Vec<Option<i64>> =
        items.iter_mut().map(|(_, record)| take_depositor(record, &depositors)).collect();
    let records: Vec<&Record> = items.iter().map(|(_, r)| r).collect();
    let noted = note_depositors_ahead(&*store, &records, &eprints_userids).await?;
    let writes = items.iter().map(|(_, r)| RecordWrite::new(r.clone(), &actor)).collect();
    // Every position up to the batch's last is dealt with once it commits
    // (the rejections before it are reported before it).
    let note = ImportNote {
        position: through as u64,
        records: outcome.log.records + items.len() as u64,
        new_ids: outcome.log.new_ids + items.iter().filter(|(_, r)| r.id.is_none()).count() as u64,
        updated_at: now,
        ..outcome.log.clone()
    };
    match store.put_records_noted(writes, Some(note.clone())).await {
        Ok(ids) => {
            outcome.depositors_waiting += note_depositors(&*store, &ids, &eprints_userids, &noted, &depositors).await?;
            outcome.imported += ids.len() as u64;
            outcome.last_id = ids.last().copied().or(outcome.last_id);
            outcome.log = note;
        }
        Err(batch_error) => {
            tracing::warn!("batch refused ({batch_error}); retrying its records one by one");
            for (((position, record), eprints_userid), noted) in items.into_iter().zip(eprints_userids).zip(noted) {
                let note = ImportNote {
                    position: position as u64,
                    records: outcome.log.records + 1,
                    new_ids: outcome.log.new_ids + u64::from(record.id.is_none()),
                    updated_at: now,
                    ..outcome.log.clone()
                };
                match store.put_records_noted(vec![RecordWrite::new(record, &actor)], Some(note.clone())).await {
                    Ok(ids) => {
                        outcome.depositors_waiting +=
                            note_depositors(&*store, &ids, &[eprints_userid], &[noted], &depositors).await?;
                        outcome.imported += 1;
                        outcome.last_id = ids.last().copied().or(outcome.last_id);
                        outcome.log = note;
                    }
                    Err(e) => outcome.rejected.push((position, e.to_string())),
                }
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_keeps_what_it_cannot_decode() {
        assert_eq!(percent_decode("files/a%20b.pdf"), "files/a b.pdf");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
