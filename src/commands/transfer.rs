//! Records in and out: `import`, `export` and `generate`.

use super::{is_terminal, progress_bar};
use anyhow::{Context, Result};
use arkiv_model::Status;
use arkiv_services::import::{import_records, ImportOptions, ImportRefused, RecordFormat, Rerun};
use arkiv_services::Repository;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `arkiv import`'s exit status when it refused to run a file again
/// (nothing was written).
pub const IMPORT_REFUSED: u8 = 4;

pub async fn import(
    repo_dir: &Path,
    format: RecordFormat,
    files: &[PathBuf],
    update: bool,
    rerun: Rerun,
    fetch: Option<arkiv_services::fetch::FetchOptions>,
    phrases: &[PathBuf],
) -> Result<ExitCode> {
    let type_names = type_names(phrases)?;
    let repo = Repository::open(repo_dir).await?;
    let fetch =
        fetch.map(|f| arkiv_services::fetch::FetchOptions { max_bytes: repo.config.import.max_file_bytes, ..f });
    let options =
        ImportOptions { update_existing: update, rerun, fetch, type_names, ..ImportOptions::for_repository(&repo) };
    let bar = if is_terminal() {
        let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {bytes}/{total_bytes} {msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut done_before = 0u64;
    let mut current_file = PathBuf::new();
    let imported = import_records(&repo, format, files, &options, &mut |p| {
        if p.file != current_file {
            if p.bytes_total > 0 && !current_file.as_os_str().is_empty() {
                done_before = bar.position();
            }
            current_file = p.file.clone();
        }
        bar.set_position(done_before + p.bytes_read);
        bar.set_message(format!("{} imported, {} rejected", p.imported, p.rejected));
        if !is_terminal() {
            // One line per committed batch: what is reported here is durable.
            eprintln!(
                "committed: {} imported, {} rejected, last id {}",
                p.imported,
                p.rejected,
                p.last_id.map(|i| i.to_string()).unwrap_or_else(|| "-".into())
            );
        }
    })
    .await;
    bar.finish_and_clear();
    let report = match imported {
        Ok(report) => report,
        Err(e) if e.downcast_ref::<ImportRefused>().is_some() => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(IMPORT_REFUSED));
        }
        Err(e) => return Err(e),
    };
    for r in &report.resumed {
        let e = &r.earlier;
        if e.finished {
            println!(
                "resumed: {}: its import had finished ({} records, {} UTC); nothing to import, {} records skipped",
                r.file.display(),
                e.records,
                e.updated_at.to_eprints(),
                r.skipped
            );
        } else {
            println!(
                "resumed: {}: {} records skipped (records 1 to {} of the file, {} of them committed by the import \
                 begun {} UTC); the rest imported",
                r.file.display(),
                r.skipped,
                e.position,
                e.records,
                e.started_at.to_eprints()
            );
        }
    }
    for r in &report.rejected {
        println!("rejected: {r}");
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    if report.warning_count > report.warnings.len() as u64 {
        println!("warning: ... and {} more warnings", report.warning_count - report.warnings.len() as u64);
    }
    if !report.unmapped.is_empty() {
        let list: Vec<String> = report.unmapped.iter().map(|(k, v)| format!("{k} ({v})")).collect();
        println!("kept verbatim, not mapped to Arkiv fields: {}", list.join(", "));
    }
    if !report.types_taken.is_empty() {
        let types = repo.types();
        let list: Vec<String> = report
            .types_taken
            .iter()
            .map(|(k, v)| match types.label(k) {
                label if label != k => format!("{k} \"{label}\" ({v})"),
                _ => format!("{k} ({v})"),
            })
            .collect();
        println!(
            "item types this repository did not know, now taken (label them under [types] in arkiv.toml, \
             or name them from EPrints' phrases with --phrases): {}",
            list.join(", ")
        );
    }
    for failure in &report.fetch_failures {
        println!("not fetched: {failure}");
    }
    if report.files_fetched > 0 {
        println!("{} files fetched by URL.", report.files_fetched);
    }
    if report.depositors_waiting > 0 {
        println!(
            "{} records name an EPrints user not imported yet as their depositor: `arkiv import users` gives them \
             their depositor.",
            report.depositors_waiting
        );
    }
    println!(
        "{} imported, {} rejected; {} files stored, {} files referenced by URL not fetched.",
        report.imported,
        report.rejected.len(),
        report.files_stored,
        report.files_not_fetched
    );
    Ok(if report.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// `arkiv import history FILE... --revisions DIR`: EPrints' revisions of
/// the imported eprints. Exit status 2 when some entries or state files
/// could not be read.
pub async fn import_history(repo_dir: &Path, files: &[PathBuf], revisions: Option<&Path>) -> Result<ExitCode> {
    use arkiv_services::history_import::import_history;
    let revisions = revisions.ok_or_else(|| {
        anyhow::anyhow!(
            "give --revisions DIR: the archive's documents directory, where EPrints keeps the state of each \
             revision (a history entry alone says who did what, not what the record was)"
        )
    })?;
    anyhow::ensure!(revisions.is_dir(), "{} is not a directory", revisions.display());
    let repo = Repository::open(repo_dir).await?;
    let mut failed = false;
    for file in files {
        // A history export of a large repository is large, but one entry
        // is a few hundred bytes: a file past this is not one.
        const MAX_BYTES: u64 = 1 << 30;
        let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
        anyhow::ensure!(size <= MAX_BYTES, "{} is {size} bytes, more than a history export takes", file.display());
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let lines = arkiv_formats::eprints::history::read_history(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let report = import_history(&repo, lines, revisions).await?;
        for (line, why) in &report.rejected {
            println!("rejected: {}, line {line}: {why}", file.display());
        }
        for (path, why) in &report.bad_states {
            println!("rejected: {}: {why}", path.display());
        }
        if !report.already.is_empty() {
            let ids: Vec<String> = report.already.iter().map(|i| i.to_string()).collect();
            println!("already holding their earlier revisions, left alone: records {}", ids.join(", "));
        }
        println!(
            "{} earlier revisions added to {} records; {} entries without a saved state, {} for eprints not here, \
             {} about other datasets.",
            report.revisions, report.records, report.without_state, report.unknown_records, report.other_datasets
        );
        failed |= !report.rejected.is_empty() || !report.bad_states.is_empty();
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// The item type names of EPrints phrase files (`--phrases`), read before
/// anything is imported: a file that cannot be read stops the import.
fn type_names(files: &[PathBuf]) -> Result<std::collections::BTreeMap<String, String>> {
    // Phrase files are a few hundred KiB; past this a file is not one.
    const MAX_BYTES: u64 = 64 << 20;
    let mut names = std::collections::BTreeMap::new();
    for file in files {
        let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
        anyhow::ensure!(size <= MAX_BYTES, "{} is {size} bytes, more than a phrase file takes", file.display());
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let found = arkiv_formats::eprints::phrases::read_type_names(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        names.extend(found);
    }
    Ok(names)
}

/// `arkiv import subjects FILE...`: EPrints' subject tree. Exit status 2
/// when some lines were not imported.
pub async fn import_subjects(repo_dir: &Path, files: &[PathBuf], root: &str) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let mut failed = false;
    for file in files {
        use arkiv_services::subjects_import::{import_subjects, read_subjects};
        // A subject tree is small: a file past this size is not one.
        const MAX_BYTES: u64 = 64 << 20;
        let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
        anyhow::ensure!(
            size <= MAX_BYTES,
            "{} is {size} bytes, more than a subject tree takes ({MAX_BYTES})",
            file.display()
        );
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let lines = read_subjects(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let report = import_subjects(&repo, lines, root).await?;
        for (line, why) in &report.warnings {
            println!("warning: {}, line {line}: {why}", file.display());
        }
        for (line, why) in &report.rejected {
            println!("rejected: {}, line {line}: {why}", file.display());
        }
        if report.outside > 0 {
            println!("{} entries outside {root} and divisions left out.", report.outside);
        }
        println!(
            "{} subjects and {} divisions imported, {} rejected.",
            report.imported,
            report.divisions,
            report.rejected.len()
        );
        failed |= !report.rejected.is_empty();
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// The names `arkiv export` takes, each with what it is, for `--help`.
pub fn export_format_names() -> Vec<clap::builder::PossibleValue> {
    use clap::builder::PossibleValue;
    let mut names = vec![
        PossibleValue::new("eprints-xml").help("EPrints 3 XML, every record (the dump a repository moves with)"),
        PossibleValue::new("json").help("Arkiv's JSON, one array, every record"),
        PossibleValue::new("jsonl").help("Arkiv's JSON, one record a line, every record"),
    ];
    for format in arkiv_formats::export::FORMATS.iter().filter(|f| f.id != "json") {
        names.push(PossibleValue::new(format.id).help(format!("{}, live records", format.label)));
    }
    names
}

pub async fn export(
    repo_dir: &Path,
    format: &str,
    status: Option<&str>,
    with_files: bool,
    output: Option<&Path>,
) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let status = match status {
        None => None,
        Some("live") => Some(Status::Archive),
        Some(s) => Some(
            Status::parse(s)
                .with_context(|| format!("unknown status {s:?}: use live, archive, inbox, buffer or deletion"))?,
        ),
    };
    use arkiv_services::export::Format;
    let format = match Format::named(format)
        .with_context(|| format!("unknown export format {format:?}: see arkiv export --help"))?
    {
        Format::EprintsXml { .. } => Format::EprintsXml {
            files_dir: match (with_files, output) {
                (false, _) => None,
                (true, Some(path)) => Some(arkiv_services::export::files_dir_for(path)),
                (true, None) => anyhow::bail!("--with-files needs --output: the files go into a folder beside it"),
            },
        },
        Format::Public(f) if with_files => {
            anyhow::bail!("--with-files is for eprints-xml; {} links open-access files by their URLs", f.id)
        }
        other => other,
    };
    let written = match output {
        Some(path) => {
            let file = LazyFile { path: path.to_path_buf(), file: None };
            arkiv_services::export::export(&repo, format, status, std::io::BufWriter::new(file)).await
        }
        None => {
            arkiv_services::export::export(&repo, format, status, std::io::BufWriter::new(std::io::stdout().lock()))
                .await
        }
    };
    match written {
        Ok(count) => {
            eprintln!("{count} records exported.");
            Ok(ExitCode::SUCCESS)
        }
        // MODS with no record: no valid document exists, so none is written
        // (no file is created) and the exit status says so.
        Err(e) if e.downcast_ref::<arkiv_services::export::NothingToExport>().is_some() => {
            eprintln!("{e}.");
            Ok(ExitCode::from(NOTHING_TO_EXPORT))
        }
        Err(e) => Err(e),
    }
}

/// `arkiv export`'s exit status when there is no record to export in a
/// format that has no empty list (MODS), and nothing was written.
pub const NOTHING_TO_EXPORT: u8 = 3;

/// An export's output file, created at the first byte written: an export
/// that writes nothing leaves no file (and an existing one as it was).
struct LazyFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl std::io::Write for LazyFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let file =
            match &mut self.file {
                Some(file) => file,
                None => self.file.insert(std::fs::File::create(&self.path).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("cannot create {}: {e}", self.path.display()))
                })?),
            };
        file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

pub async fn generate(repo_dir: &Path, count: u64, seed: u64, pdfs: bool, output: Option<&Path>) -> Result<ExitCode> {
    match output {
        Some(path) => {
            let n = arkiv_services::export::write_generated(path, count, seed, pdfs)?;
            eprintln!("{n} records written to {}.", path.display());
        }
        None => {
            let repo = Repository::open(repo_dir).await?;
            let bar = progress_bar(count as i64, "{pos}/{len} records");
            let n =
                arkiv_services::populate::add_generated(&repo, count, seed, pdfs, &mut |n| bar.set_position(n)).await?;
            bar.finish_and_clear();
            eprintln!("{n} records generated into {}.", repo_dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
