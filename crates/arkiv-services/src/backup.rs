//! `arkiv backup OUT` and `arkiv restore IN --to DIR`: a repository copied
//! whole, while it serves, and built again on SQLite or PostgreSQL.
//!
//! A backup directory holds:
//! - `tables/NAME.jsonl.gz`: every table of the database as one consistent
//!   snapshot ([`arkiv_storage::backup`]), a header line with the columns,
//!   then one JSON array per row;
//! - `config/arkiv.toml` and `config/templates/…`: the settings and the
//!   template overrides;
//! - `files/sha256/ab/cd/SHA`: the file bytes, content-addressed like the
//!   repository's own store, so a second backup into the same directory
//!   copies only bytes it does not hold yet;
//! - `manifest.json`, written last: the format, what the snapshot held, and
//!   the SHA-256 and size of every table file, config file and stored file.
//!
//! A restore checks every checksum the manifest gives before it writes
//! anything, refuses a target directory that is not empty and a database
//! that holds records or users, copies the files, then writes every table
//! in one transaction: a damaged backup or a refused target leaves nothing
//! behind. The search index is not in a backup: the restored repository
//! builds it from the change feed, as a new one does.

use crate::config::{Config, CONFIG_FILE};
use crate::Repository;
use anyhow::{bail, Context, Result};
use arkiv_storage::backup::{Cell, DumpInfo, TableSink, TableSource};
use arkiv_storage::files::FileStore;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The format a manifest names; a restore refuses any other.
pub const FORMAT: &str = "arkiv-backup/1";
const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// When the backup was taken (UTC, RFC 3339).
    pub created: String,
    pub repository: String,
    pub dump: DumpInfo,
    pub tables: Vec<Checked>,
    pub config: Vec<Checked>,
    pub files: Vec<StoredEntry>,
}

/// A file of the backup with its checksum.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checked {
    /// Relative to the backup directory.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A stored file, by its content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEntry {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct BackupReport {
    pub tables: usize,
    pub rows: u64,
    pub files: u64,
    /// Files this backup copied (the others the directory held already).
    pub files_copied: u64,
    pub bytes_copied: u64,
    pub last_change: i64,
}

/// Writes a backup of `repo` into `out` (made if missing).
pub async fn backup(repo: &Repository, out: &Path) -> Result<BackupReport> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let staging = out.join(format!(".staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(staging.join("tables"))?;
    let result = backup_into(repo, out, &staging).await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

async fn backup_into(repo: &Repository, out: &Path, staging: &Path) -> Result<BackupReport> {
    let mut report = BackupReport::default();
    // The database first, as one snapshot.
    let mut sink = GzTables::new(staging.join("tables"));
    let dump = repo.store.dump(&mut sink).await.context("reading the database")?;
    let tables = sink.finish()?;
    report.tables = tables.len();
    report.rows = dump.tables.iter().map(|(_, n)| n).sum();
    report.last_change = dump.last_change;

    // Settings and template overrides.
    let mut config = Vec::new();
    let config_dir = staging.join("config");
    std::fs::create_dir_all(&config_dir)?;
    config.push(copy_checked(&repo.dir.join(CONFIG_FILE), &config_dir.join(CONFIG_FILE), "config/arkiv.toml")?);
    let templates = repo.dir.join(&repo.config.server.templates);
    if templates.is_dir() {
        for path in walk(&templates)? {
            let rel = path.strip_prefix(&templates)?.to_string_lossy().replace('\\', "/");
            let to = config_dir.join("templates").join(&rel);
            config.push(copy_checked(&path, &to, &format!("config/templates/{rel}"))?);
        }
    }

    // The files: every object of the store, copied unless held already.
    // Objects written after the snapshot come along too, which is harmless;
    // those the snapshot names were there before it, and the collector
    // keeps anything named or young.
    let held = FileStore::local(&out.join("files"))?;
    let mut files = Vec::new();
    let mut objects = repo.files.objects();
    while let Some(object) = objects.next().await {
        let object = object?;
        let Some(sha) = object.sha256 else { continue };
        if held.size(&sha).await?.is_none() {
            // Streamed, and re-hashed on the way (copy_to refuses bytes
            // that no longer hash to their name).
            let copied = repo
                .files
                .copy_to(&sha, &held)
                .await
                .with_context(|| format!("copying file {sha} out of the repository"))?
                .with_context(|| format!("file {sha} vanished during the backup"))?;
            report.bytes_copied += copied;
            report.files_copied += 1;
        }
        files.push(StoredEntry { sha256: sha, size: object.size });
    }
    files.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    report.files = files.len() as u64;

    let manifest = Manifest {
        format: FORMAT.into(),
        created: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        repository: repo.config.repository.name.clone(),
        dump,
        tables,
        config,
        files,
    };
    // In place: the old manifest goes first, so a backup cut short here
    // never pairs an old manifest with new tables (the checksums would
    // catch it anyway); the new manifest comes last.
    let _ = std::fs::remove_file(out.join(MANIFEST));
    for dir in ["tables", "config"] {
        let _ = std::fs::remove_dir_all(out.join(dir));
        std::fs::rename(staging.join(dir), out.join(dir))?;
    }
    let tmp = staging.join(MANIFEST);
    std::fs::write(&tmp, serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::rename(&tmp, out.join(MANIFEST))?;
    Ok(report)
}

#[derive(Debug, Default)]
pub struct RestoreReport {
    pub tables: usize,
    pub rows: u64,
    pub files: u64,
    pub database: String,
}

/// Builds a repository in `to` from the backup in `from`, on its SQLite
/// database or on `database` (a PostgreSQL URL), its files where the
/// backup's configuration keeps them or in `files` (a directory, or
/// `s3://BUCKET/PREFIX` with the backup's `[s3]` settings).
pub async fn restore(from: &Path, to: &Path, database: Option<&str>, files: Option<&str>) -> Result<RestoreReport> {
    let manifest = verify(from)?;
    if to.exists() && std::fs::read_dir(to)?.next().is_some() {
        bail!("{} is not empty: a backup is restored into a new directory", to.display());
    }
    let made = !to.exists();
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let result = restore_into(from, to, database, files, &manifest).await;
    if result.is_err() {
        // Nothing half-restored stays behind (the database's transaction
        // rolled back on its own).
        if made {
            let _ = std::fs::remove_dir_all(to);
        } else if let Ok(entries) = std::fs::read_dir(to) {
            for e in entries.flatten() {
                let _ =
                    if e.path().is_dir() { std::fs::remove_dir_all(e.path()) } else { std::fs::remove_file(e.path()) };
            }
        }
    }
    result
}

async fn restore_into(
    from: &Path,
    to: &Path,
    database: Option<&str>,
    files: Option<&str>,
    manifest: &Manifest,
) -> Result<RestoreReport> {
    for entry in &manifest.config {
        let rel = entry.path.strip_prefix("config/").unwrap_or(&entry.path);
        let target = to.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from.join(&entry.path), &target)?;
    }
    if database.is_some() || files.is_some() {
        let mut config = Config::load(to)?;
        if let Some(url) = database {
            config.storage.database = url.to_string();
        }
        if let Some(files) = files {
            config.storage.files = files.to_string();
        }
        std::fs::write(to.join(CONFIG_FILE), config.documented_toml())?;
    }
    let repo = Repository::open(to).await?;
    // The files first: the tables' transaction is the last step, so a
    // failure anywhere before it leaves the database untouched.
    let held = FileStore::local(&from.join("files"))?;
    for entry in &manifest.files {
        held.copy_to(&entry.sha256, &repo.files)
            .await
            .with_context(|| format!("copying file {} into the repository", entry.sha256))?
            .with_context(|| format!("file {} is missing", entry.sha256))?;
    }
    let mut source = GzSource::new(from, &manifest.tables);
    let written = repo.store.restore(&mut source).await.context("writing the database")?;
    Ok(RestoreReport {
        tables: written.len(),
        rows: written.iter().map(|(_, n)| n).sum(),
        files: manifest.files.len() as u64,
        database: repo.config.database_url(to),
    })
}

/// Reads the manifest of the backup in `dir` and checks every checksum it
/// gives: the table files, the config files, and every stored file's bytes.
pub fn verify(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let size = std::fs::metadata(&path)
        .with_context(|| format!("{} holds no backup ({MANIFEST} is missing)", dir.display()))?
        .len();
    if size > 1 << 30 {
        bail!("{} is {size} bytes: not a manifest", path.display());
    }
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(&path)?)
        .with_context(|| format!("{} cannot be read: the backup is damaged", path.display()))?;
    if manifest.format != FORMAT {
        bail!("{} is a backup of format {:?}; this Arkiv reads {FORMAT}", dir.display(), manifest.format);
    }
    let mut problems = Vec::new();
    for entry in manifest.tables.iter().chain(&manifest.config) {
        if entry.path.contains("..") || entry.path.starts_with('/') {
            problems.push(format!("{}: not a path inside the backup", entry.path));
            continue;
        }
        match hash_file(&dir.join(&entry.path)) {
            Ok((sha, bytes)) if sha == entry.sha256 && bytes == entry.bytes => {}
            Ok((sha, bytes)) => problems.push(format!(
                "{}: {bytes} bytes hashing to {sha}, where the manifest says {} bytes hashing to {}",
                entry.path, entry.bytes, entry.sha256
            )),
            Err(e) => problems.push(format!("{}: {e}", entry.path)),
        }
    }
    for entry in &manifest.files {
        if !arkiv_storage::files::is_sha256(&entry.sha256) {
            problems.push(format!("file {:?}: not a SHA-256", entry.sha256));
            continue;
        }
        let path = dir.join(format!("files/sha256/{}/{}/{}", &entry.sha256[..2], &entry.sha256[2..4], entry.sha256));
        match hash_file(&path) {
            Ok((sha, _)) if sha == entry.sha256 => {}
            Ok((sha, _)) => problems.push(format!("file {}: its bytes hash to {sha}", entry.sha256)),
            Err(e) => problems.push(format!("file {}: {e}", entry.sha256)),
        }
    }
    if !problems.is_empty() {
        let shown: Vec<&str> = problems.iter().take(10).map(String::as_str).collect();
        bail!(
            "the backup in {} is damaged; nothing was restored. {} problem(s):\n  {}",
            dir.display(),
            problems.len(),
            shown.join("\n  ")
        );
    }
    Ok(manifest)
}

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

fn copy_checked(from: &Path, to: &Path, rel: &str) -> Result<Checked> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to).with_context(|| format!("cannot copy {}", from.display()))?;
    let (sha256, bytes) = hash_file(to)?;
    Ok(Checked { path: rel.to_string(), sha256, bytes })
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes each table as gzipped JSON lines, hashing the bytes written.
struct GzTables {
    dir: PathBuf,
    current: Option<(String, flate2::write::GzEncoder<HashingWriter<BufWriter<std::fs::File>>>)>,
    done: Vec<Checked>,
}

impl GzTables {
    fn new(dir: PathBuf) -> Self {
        GzTables { dir, current: None, done: Vec::new() }
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let Some((name, gz)) = self.current.take() {
            let mut hashing = gz.finish()?;
            hashing.inner.flush()?;
            self.done.push(Checked {
                path: format!("tables/{name}.jsonl.gz"),
                sha256: hex::encode(hashing.hasher.finalize_reset()),
                bytes: hashing.bytes,
            });
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<Vec<Checked>> {
        self.close()?;
        Ok(self.done)
    }
}

impl TableSink for GzTables {
    fn table(&mut self, name: &str, columns: &[String]) -> std::io::Result<()> {
        self.close()?;
        let file = std::fs::File::create(self.dir.join(format!("{name}.jsonl.gz")))?;
        let hashing = HashingWriter { inner: BufWriter::new(file), hasher: Sha256::new(), bytes: 0 };
        let mut gz = flate2::write::GzEncoder::new(hashing, flate2::Compression::fast());
        serde_json::to_writer(&mut gz, &serde_json::json!({ "table": name, "columns": columns }))?;
        gz.write_all(b"\n")?;
        self.current = Some((name.to_string(), gz));
        Ok(())
    }

    fn row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        let Some((_, gz)) = self.current.as_mut() else {
            return Err(std::io::Error::other("a row before its table"));
        };
        serde_json::to_writer(&mut *gz, &cells)?;
        gz.write_all(b"\n")
    }
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads the tables a manifest lists, in its order.
struct GzSource {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<(String, std::io::Lines<BufReader<flate2::read::GzDecoder<std::fs::File>>>)>,
}

impl GzSource {
    fn new(dir: &Path, tables: &[Checked]) -> Self {
        let files: Vec<PathBuf> = tables.iter().map(|t| dir.join(&t.path)).collect();
        GzSource { files: files.into_iter(), current: None }
    }
}

fn bad(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why)
}

impl TableSource for GzSource {
    fn next_table(&mut self) -> std::io::Result<Option<(String, Vec<String>)>> {
        let Some(path) = self.files.next() else { return Ok(None) };
        let mut lines = BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(&path)?)).lines();
        let header = lines.next().ok_or_else(|| bad(format!("{} is empty", path.display())))??;
        #[derive(Deserialize)]
        struct Header {
            table: String,
            columns: Vec<String>,
        }
        let h: Header = serde_json::from_str(&header).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        self.current = Some((h.table.clone(), lines));
        Ok(Some((h.table, h.columns)))
    }

    fn rows(&mut self, max: usize) -> std::io::Result<Vec<Vec<Cell>>> {
        let Some((table, lines)) = self.current.as_mut() else { return Ok(Vec::new()) };
        let mut rows = Vec::new();
        while rows.len() < max {
            let Some(line) = lines.next() else { break };
            let row: Vec<Cell> = serde_json::from_str(&line?).map_err(|e| bad(format!("a row of {table}: {e}")))?;
            rows.push(row);
        }
        Ok(rows)
    }
}
