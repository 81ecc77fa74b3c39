//! Exports: the records of a repository written out, streamed in constant
//! memory. EPrints XML and JSON (array or lines) are the full dumps a
//! repository moves with; with files, an EPrints XML export is a folder that
//! imports anywhere with its documents: the XML plus a `NAME.files/` folder
//! it references by relative paths. Every format of the export registry
//! (`arkiv_formats::export::FORMATS`: MODS, DataCite, MARCXML, BibTeX...) is
//! a public export, written by its `ExportWriter` with
//! [`Repository::export_context`]; one whose list cannot be empty (MODS)
//! refuses an export with no record ([`NothingToExport`]) and writes nothing.

use crate::generate::{Generator, GeneratorOptions};
use crate::repository::Repository;
use anyhow::{Context, Result};
use arkiv_formats::eprints::{EprintsWriter, WriteOptions};
use arkiv_formats::json::{JsonArrayWriter, JsonLinesWriter};
use arkiv_model::{Record, Status};
use arkiv_storage::ScanFilter;
use futures::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Format {
    /// EPrints 3 XML. With `files_dir`, file bytes are copied there and the
    /// XML references them by paths relative to the export.
    EprintsXml {
        files_dir: Option<PathBuf>,
    },
    JsonArray,
    JsonLines,
    /// A format of the export registry: public, so live records only
    /// unless a status is asked for, and only what anyone may read.
    Public(&'static arkiv_formats::export::ExportFormat),
}

impl Format {
    /// The format `arkiv export` names `name`: `eprints-xml`, `json` and
    /// `jsonl` (the dumps), else an id of the export registry.
    pub fn named(name: &str) -> Option<Format> {
        match name {
            "eprints-xml" => Some(Format::EprintsXml { files_dir: None }),
            "json" => Some(Format::JsonArray),
            "jsonl" => Some(Format::JsonLines),
            id => arkiv_formats::export::find(id).map(Format::Public),
        }
    }
}

enum Sink<W: Write> {
    Eprints(EprintsWriter<W>),
    Array(JsonArrayWriter<W>),
    Lines(JsonLinesWriter<W>),
}

impl<W: Write> Sink<W> {
    fn new(format: &Format, out: W) -> std::io::Result<Self> {
        Ok(match format {
            Format::EprintsXml { .. } => Sink::Eprints(EprintsWriter::new(out)?),
            Format::JsonArray => Sink::Array(JsonArrayWriter::new(out)?),
            Format::JsonLines => Sink::Lines(JsonLinesWriter::new(out)),
            Format::Public(_) => unreachable!("registry formats are written by export_public"),
        })
    }

    fn write(&mut self, record: &Record, options: &WriteOptions) -> std::io::Result<()> {
        match self {
            Sink::Eprints(w) => w.write_record(record, options),
            Sink::Array(w) => w.write_record(record, options),
            Sink::Lines(w) => w.write_record(record, options),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Eprints(w) => w.finish().map(drop),
            Sink::Array(w) => w.finish().map(drop),
            Sink::Lines(w) => w.finish().map(drop),
        }
    }
}

/// The path of a file inside an export's files folder, relative to the
/// folder: `{id}/{pos}/{filename}`.
fn relative_file_path(id: i64, pos: u32, filename: &str) -> String {
    format!("{id}/{pos}/{filename}")
}

/// Writes the repository's records (those in `status`, or all) to `out`.
/// Returns how many were written. Public exports leave private data out.
pub async fn export<W: Write>(repo: &Repository, format: Format, status: Option<Status>, out: W) -> Result<u64> {
    if let Format::Public(format) = format {
        return export_public(repo, format, status.unwrap_or(Status::Archive), out).await;
    }
    let mut sink = Sink::new(&format, out)?;
    let files_dir = match &format {
        Format::EprintsXml { files_dir } => files_dir.clone(),
        _ => None,
    };
    let mut options = WriteOptions { base_url: Some(repo.config.repository.base_url.clone()), ..Default::default() };
    if let Some(dir) = &files_dir {
        let prefix = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        options.file_url = Some(Box::new(move |record: &Record, pos, file: &arkiv_model::StoredFile| {
            file.sha256.as_ref()?;
            Some(format!(
                "{prefix}/{}",
                relative_file_path(record.id.unwrap_or(0), pos, &percent_encode(&file.filename))
            ))
        }));
    }
    let mut records = repo.store.scan(ScanFilter { status, after_id: None });
    let mut count = 0u64;
    while let Some(record) = records.next().await {
        let record = record?;
        if let Some(dir) = &files_dir {
            copy_files(repo, &record, dir).await?;
        }
        sink.write(&record, &options)?;
        count += 1;
    }
    sink.finish()?;
    Ok(count)
}

/// The error of an export that found no record in a format whose list
/// cannot be empty ([`ExportFormat::list_may_be_empty`]: MODS's
/// `modsCollection` needs at least one `mods`). Nothing was written.
///
/// [`ExportFormat::list_may_be_empty`]: arkiv_formats::export::ExportFormat::list_may_be_empty
#[derive(Debug, thiserror::Error)]
#[error("no records to export: a {format} list needs at least one record, so nothing was written")]
pub struct NothingToExport {
    /// The format's label ("MODS 3.8").
    pub format: &'static str,
}

/// Writes the records in `status` in a registry format, streamed through its
/// writer. The first record is read before anything is written, so that a
/// format without an empty list form writes nothing at all when there is
/// none ([`NothingToExport`]) rather than a document its schema refuses.
async fn export_public<W: Write>(
    repo: &Repository,
    format: &arkiv_formats::export::ExportFormat,
    status: Status,
    mut out: W,
) -> Result<u64> {
    let ctx = repo.export_context();
    // Fused: after an empty first read the loop below asks once more, and a
    // scan must not be polled past its end.
    let mut records = repo.store.scan(ScanFilter { status: Some(status), after_id: None }).fuse();
    let first = records.next().await.transpose()?;
    if first.is_none() && !format.list_may_be_empty {
        return Err(NothingToExport { format: format.label }.into());
    }
    let mut writer = (format.writer)(&ctx);
    writer.begin(&mut out)?;
    let mut count = 0u64;
    if let Some(record) = first {
        writer.record(&record, &mut out)?;
        count += 1;
    }
    while let Some(record) = records.next().await {
        writer.record(&record?, &mut out)?;
        count += 1;
    }
    writer.end(&mut out)?;
    out.flush()?;
    Ok(count)
}

async fn copy_files(repo: &Repository, record: &Record, dir: &Path) -> Result<()> {
    for (pos, file) in record.files() {
        let Some(sha) = &file.sha256 else { continue };
        let target = dir.join(relative_file_path(record.id.unwrap_or(0), pos, &file.filename));
        let bytes = repo.files.get(sha).await?.with_context(|| {
            format!("record {:?}: the bytes of {} are missing (run arkiv fsck)", record.id, file.filename)
        })?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&target, &bytes).await?;
    }
    Ok(())
}

/// Writes `count` generated records as an EPrints XML export at `path`; with
/// `pdfs`, their PDFs go into `PATH.files/` beside it.
pub fn write_generated(path: &Path, count: u64, seed: u64, pdfs: bool) -> Result<u64> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = EprintsWriter::new(std::io::BufWriter::with_capacity(1 << 20, file))?;
    let files_dir = files_dir_for(path);
    let prefix = files_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let generator = Generator::new(GeneratorOptions { seed, with_pdfs: pdfs, first_id: None });
    for (index, generated) in generator.take(count as usize).enumerate() {
        let mut options = WriteOptions::default();
        if !generated.files.is_empty() {
            for (pos, filename, bytes) in &generated.files {
                let target = files_dir.join(relative_file_path(index as i64 + 1, *pos, filename));
                std::fs::create_dir_all(target.parent().expect("a file path has a parent"))?;
                std::fs::write(&target, bytes)?;
            }
            let prefix = prefix.clone();
            options.file_url = Some(Box::new(move |_: &Record, pos, file: &arkiv_model::StoredFile| {
                Some(format!("{prefix}/{}", relative_file_path(index as i64 + 1, pos, &percent_encode(&file.filename))))
            }));
        }
        writer.write_record(&generated.record, &options)?;
    }
    writer.finish()?;
    Ok(count)
}

/// `export.xml` → `export.xml.files`.
pub fn files_dir_for(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".files");
    path.with_file_name(name)
}

/// Encodes what cannot stand in a relative URL path segment (the importer
/// decodes it again).
fn percent_encode(s: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const RESERVED: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}
