//! Download history from before Arkiv counted: web server access logs
//! (`arkiv stats import-log`) and EPrints' `access` table (`arkiv stats
//! import-access`), so that a repository moving from EPrints keeps the use
//! its old server saw. Each request is read as the live site counts
//! (`crate::usage`): a view of an abstract page (`/N/`, `/id/eprint/N/`)
//! or a download of a document (`/N/P/FILE`, `/id/eprint/N/P/FILE`, or an
//! EPrints document id) of a record this repository holds, answered 200,
//! 304 or 206, by an agent not on the COUNTER robots list. The events then
//! go through the same roll-up (double clicks, sessions, ranges).
//!
//! - A file is known by the SHA-256 of its content (through gzip if it is
//!   gzipped), read once before anything is written: importing it twice,
//!   plain or gzipped, counts nothing twice. Its events are written in
//!   chunks of [`CHUNK_EVENTS`], each in one transaction with a note of the
//!   file and the chunk, so memory stays bounded whatever the file's size,
//!   and an import that was stopped, run again, writes only the chunks it
//!   had not.
//! - Requests from the moment the server began counting by itself are
//!   skipped: it counted them live.
//! - A malformed or hostile line or row is skipped and counted, with its
//!   number and why; it never stops the import.
//! - Access_Type is the document's today (neither source says what it was).

use crate::usage::{is_robot, visitor_hash, Visitor};
use crate::Repository;
use anyhow::Context;
use arkiv_formats::access_log::{parse_line, MAX_LINE};
use arkiv_formats::eprints::access::{AccessReader, Service};
use arkiv_model::usage::{day_of, file_target, view_is_open, UsageEvent, UsageKind};
use arkiv_model::{Record, RecordId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Malformed lines reported by number at most (all are counted).
const MALFORMED_SHOWN: usize = 20;

/// Events held before they are written (about 50 bytes each).
pub const CHUNK_EVENTS: usize = 250_000;

/// Records whose facts are held at most (then the memo starts again):
/// a log of a million records' use must not hold a million records.
const RECORDS_HELD: usize = 100_000;

/// What counting a request needs of its record, read once while held:
/// whether a view of its page is Open, and its documents.
struct HeldRecord {
    view_open: bool,
    documents: Vec<HeldDocument>,
}

struct HeldDocument {
    pos: u32,
    eprints_docid: Option<i64>,
    /// The main file's name (the target a download by docid counts for).
    main_file: String,
    open: bool,
}

impl HeldRecord {
    fn of(record: &Record, today: arkiv_model::PartialDate) -> Self {
        HeldRecord {
            view_open: view_is_open(record, today),
            documents: record
                .documents
                .iter()
                .map(|d| HeldDocument {
                    pos: d.pos,
                    eprints_docid: d.eprints_docid,
                    main_file: d.main_file().map_or(String::new(), |f| f.filename.clone()),
                    open: d.is_open_access(today),
                })
                .collect(),
        }
    }
}

/// What the import of one file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogImport {
    /// Lines of a log, rows of an access table.
    pub lines: u64,
    /// Views and downloads kept, to be counted by the roll-up.
    pub events: u64,
    /// Lines by robots (the COUNTER list).
    pub robots: u64,
    /// Lines that are not a successful view or download of a record held
    /// here (other pages, errors, HEAD, unknown records).
    pub not_counted: u64,
    /// Lines from when the server already counted by itself.
    pub counted_live: u64,
    pub malformed: u64,
    /// The first malformed lines: (line number, why).
    pub malformed_lines: Vec<(u64, String)>,
    /// The file was imported before: nothing was written.
    pub already_imported: bool,
    /// Events of chunks an earlier, stopped import of the file had written
    /// (not written again; not in `events`).
    pub written_before: u64,
}

impl LogImport {
    fn malformed(&mut self, line: u64, why: String) {
        self.malformed += 1;
        if self.malformed_lines.len() < MALFORMED_SHOWN {
            self.malformed_lines.push((line, why));
        }
    }
}

/// What an old request was of.
enum OldTarget {
    Page,
    /// A file by its document's position and name.
    File(u32, String),
    /// A document by EPrints' id (the access table's `referent_docid`).
    EprintsDocument(i64),
}

/// Turns the old requests of one file into events, written a chunk at a
/// time (see the module docs).
struct EventWriter<'r> {
    repo: &'r Repository,
    live_since: i64,
    sha: String,
    name: String,
    /// (record id → what counting needs of it, `None` if not held here),
    /// read once per record, at most [`RECORDS_HELD`] at a time.
    records: HashMap<RecordId, Option<HeldRecord>>,
    /// Each day's key of the visitor hashes.
    keys: HashMap<i64, String>,
    events: Vec<UsageEvent>,
    chunk: usize,
    skipped_chunks: usize,
    report: LogImport,
}

impl<'r> EventWriter<'r> {
    async fn new(repo: &'r Repository, sha: String, path: &Path) -> anyhow::Result<Self> {
        Ok(EventWriter {
            repo,
            live_since: repo.store.usage_live_since().await?.unwrap_or(i64::MAX),
            sha,
            name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            records: HashMap::new(),
            keys: HashMap::new(),
            events: Vec::new(),
            chunk: 0,
            skipped_chunks: 0,
            report: LogImport::default(),
        })
    }

    /// Whether a request at `at` by `agent` may count: not from when the
    /// server counted live, not by a robot (each noted in the report).
    fn may_count(&mut self, at: i64, agent: &str) -> bool {
        if at >= self.live_since {
            self.report.counted_live += 1;
            false
        } else if is_robot(agent) {
            self.report.robots += 1;
            false
        } else {
            true
        }
    }

    /// Adds one request to a record; one that is not held here, or a
    /// document it does not have, counts nothing.
    async fn add(
        &mut self,
        at: i64,
        client: &str,
        user_agent: &str,
        record_id: RecordId,
        target: OldTarget,
        kind: UsageKind,
    ) -> anyhow::Result<()> {
        if !self.records.contains_key(&record_id) {
            if self.records.len() >= RECORDS_HELD {
                self.records.clear();
            }
            let today = self.repo.today();
            let held = self.repo.store.get_record(record_id).await?.map(|r| HeldRecord::of(&r, today));
            self.records.insert(record_id, held);
        }
        let Some(record) = self.records.get(&record_id).and_then(|r| r.as_ref()) else {
            self.report.not_counted += 1;
            return Ok(());
        };
        let (target, open) = match &target {
            OldTarget::Page => (0, record.view_open),
            OldTarget::File(pos, name) => {
                let doc = record.documents.iter().find(|d| d.pos == *pos);
                (file_target(*pos, name), doc.is_some_and(|d| d.open))
            }
            OldTarget::EprintsDocument(docid) => {
                let Some(doc) = record.documents.iter().find(|d| d.eprints_docid == Some(*docid)) else {
                    self.report.not_counted += 1;
                    return Ok(());
                };
                (file_target(doc.pos, &doc.main_file), doc.open)
            }
        };
        let day = day_of(at);
        let key = match self.keys.get(&day) {
            Some(k) => k.clone(),
            None => {
                let k = self.repo.store.usage_key(day, &crate::accounts::tokens::random_token()).await?;
                self.keys.insert(day, k.clone());
                k
            }
        };
        let visitor = match client.parse::<std::net::IpAddr>() {
            Ok(address) => Visitor::Address(address, user_agent.to_string()),
            // A host name (HostnameLookups on): still one user per name.
            Err(_) => Visitor::Address([0, 0, 0, 0].into(), format!("{client}\0{user_agent}")),
        };
        self.events.push(UsageEvent { at, record_id, target, kind, open, visitor: visitor_hash(&key, &visitor) });
        if self.events.len() >= CHUNK_EVENTS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the events held as the next chunk, unless an earlier import
    /// of the file wrote it. The first chunk is noted by the file's SHA-256
    /// alone, as a file of one chunk always was.
    async fn flush(&mut self) -> anyhow::Result<()> {
        let key = if self.chunk == 0 { self.sha.clone() } else { format!("{}#{}", self.sha, self.chunk) };
        let n = self.events.len() as u64;
        if self.repo.store.import_usage_events(&key, &self.name, &self.events, self.repo.now().0).await? {
            self.report.events += n;
        } else {
            self.report.written_before += n;
            self.skipped_chunks += 1;
        }
        self.chunk += 1;
        self.events.clear();
        Ok(())
    }

    async fn finish(mut self) -> anyhow::Result<LogImport> {
        if !self.events.is_empty() || self.chunk == 0 {
            self.flush().await?;
        }
        if self.skipped_chunks == self.chunk {
            self.report.already_imported = true;
            self.report.written_before = 0;
        }
        Ok(self.report)
    }
}

/// Where a request target leads: a record's page or one of its files.
fn target_of(path: &str) -> Option<(RecordId, Option<(u32, String)>)> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_prefix("/id/eprint").unwrap_or(path);
    let mut parts = path.split('/').skip(1);
    let id: RecordId = parts.next()?.parse().ok().filter(|&i| i > 0)?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) | (Some(""), None, _) | (Some("index.html"), None, _) => Some((id, None)),
        (Some(pos), Some(file), None) if !file.is_empty() => {
            let pos: u32 = pos.parse().ok()?;
            let file = percent_encoding::percent_decode_str(file).decode_utf8().ok()?.into_owned();
            Some((id, Some((pos, file))))
        }
        _ => None,
    }
}

/// The bytes of a file, through gzip when they start with its magic.
fn open_file(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let whole = head.chain(file);
    Ok(if magic == [0x1f, 0x8b] { Box::new(flate2::read::MultiGzDecoder::new(whole)) } else { Box::new(whole) })
}

/// The SHA-256 of a file's content (through gzip), read before the import.
fn content_sha256(path: &Path) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut open_file(path)?, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Imports one access log (see the module docs).
pub async fn import_log(repo: &Repository, path: &Path) -> anyhow::Result<LogImport> {
    let mut writer = EventWriter::new(repo, content_sha256(path)?, path).await?;
    let mut reader = BufReader::new(open_file(path)?);
    let mut raw = Vec::with_capacity(1024);
    loop {
        raw.clear();
        // Read at most MAX_LINE + 1 bytes of a line; the rest of a longer
        // one is skipped, not held.
        let n = (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut raw)?;
        if n == 0 {
            break;
        }
        let mut too_long = false;
        if !raw.ends_with(b"\n") && n > MAX_LINE {
            too_long = true;
            loop {
                let mut rest = Vec::new();
                let m = (&mut reader).take(64 * 1024).read_until(b'\n', &mut rest)?;
                if m == 0 || rest.ends_with(b"\n") {
                    break;
                }
            }
        }
        writer.report.lines += 1;
        let line_no = writer.report.lines;
        if too_long {
            writer.report.malformed(line_no, "the line is longer than 32 KiB".into());
            continue;
        }
        let Ok(line) = std::str::from_utf8(&raw) else {
            writer.report.malformed(line_no, "the line is not UTF-8".into());
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let hit = match parse_line(line) {
            Ok(hit) => hit,
            Err(e) => {
                writer.report.malformed(line_no, e.to_string());
                continue;
            }
        };
        if !writer.may_count(hit.at, &hit.user_agent) {
            continue;
        }
        let Some((record_id, file)) = (hit.method == "GET").then(|| target_of(hit.target)).flatten() else {
            writer.report.not_counted += 1;
            continue;
        };
        let kind = match (hit.status, &file) {
            (200 | 304, None) => UsageKind::Page,
            (200 | 304, Some(_)) => UsageKind::Download,
            (206, Some(_)) => UsageKind::PartialDownload,
            _ => {
                writer.report.not_counted += 1;
                continue;
            }
        };
        let target = file.map_or(OldTarget::Page, |(pos, name)| OldTarget::File(pos, name));
        writer.add(hit.at, hit.client, &hit.user_agent, record_id, target, kind).await?;
    }
    writer.finish().await
}

/// Imports one export of EPrints' access table, XML or a table dump (see
/// `arkiv_formats::eprints::access`). EPrints noted views answered 200 and
/// downloads answered 200 or 304, its robots left out by its own list; the
/// COUNTER list is applied again. A row of another service counts nothing.
pub async fn import_access(repo: &Repository, path: &Path) -> anyhow::Result<LogImport> {
    let mut writer = EventWriter::new(repo, content_sha256(path)?, path).await?;
    let rows = AccessReader::new(BufReader::new(open_file(path)?))
        .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    for row in rows {
        writer.report.lines += 1;
        let access = match row.result {
            Ok(access) => access,
            Err(why) => {
                writer.report.malformed(row.line as u64, why);
                continue;
            }
        };
        if !writer.may_count(access.at, &access.user_agent) {
            continue;
        }
        let Ok(record_id) = RecordId::try_from(access.eprintid) else {
            writer.report.not_counted += 1;
            continue;
        };
        let (target, kind) = match (&access.service, access.docid) {
            (Service::Abstract, _) => (OldTarget::Page, UsageKind::Page),
            (Service::Fulltext, Some(docid)) if i64::try_from(docid).is_ok() => {
                (OldTarget::EprintsDocument(docid as i64), UsageKind::Download)
            }
            _ => {
                writer.report.not_counted += 1;
                continue;
            }
        };
        writer.add(access.at, &access.requester, &access.user_agent, record_id, target, kind).await?;
    }
    writer.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eprints_and_arkiv_addresses() {
        assert_eq!(target_of("/1/"), Some((1, None)));
        assert_eq!(target_of("/id/eprint/1/"), Some((1, None)));
        assert_eq!(target_of("/id/eprint/1"), Some((1, None)));
        assert_eq!(target_of("/1/index.html"), Some((1, None)));
        assert_eq!(target_of("/1/1/commentary_137.pdf"), Some((1, Some((1, "commentary_137.pdf".into())))));
        assert_eq!(target_of("/id/eprint/1/1/a%20b.pdf?x=1"), Some((1, Some((1, "a b.pdf".into())))));
        for other in ["/", "/view/year/2014.html", "/cgi/oai2", "/0/", "/x/", "/1/1/", "/1/1/a/b", "/1/p/a.pdf"] {
            assert_eq!(target_of(other), None, "{other}");
        }
    }
}
