//! Download history from web server access logs (`arkiv stats
//! import-log`), so that a repository moving from EPrints keeps the use its
//! old server logged. Each line is read as the live site counts
//! (`crate::usage`): a `GET` answered 200, 304 or 206 of an abstract page
//! (`/N/`, `/id/eprint/N/`) or a document (`/N/P/FILE`,
//! `/id/eprint/N/P/FILE`) of a record this repository holds, by an agent
//! not on the COUNTER robots list. The events then go through the same
//! roll-up (double clicks, sessions, ranges).
//!
//! - A log is known by the SHA-256 of its content (through gzip if it is
//!   gzipped), noted in the transaction of its events: importing it twice,
//!   plain or gzipped, counts nothing twice.
//! - Lines from the moment the server began counting by itself are
//!   skipped: it counted them live.
//! - A malformed or hostile line is skipped and counted, with its number
//!   and why; it never stops the import.
//! - Access_Type is the document's today (logs do not say what it was).
//! - The events of one log are held in memory until they are written in
//!   one transaction (about 50 bytes each): import a year of a busy site
//!   as its daily or monthly logs, not as one file.

use crate::usage::{is_robot, visitor_hash, Visitor};
use crate::Repository;
use anyhow::Context;
use arkiv_formats::access_log::{parse_line, MAX_LINE};
use arkiv_model::usage::{day_of, file_target, UsageEvent, UsageKind};
use arkiv_model::{Record, RecordId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Malformed lines reported by number at most (all are counted).
const MALFORMED_SHOWN: usize = 20;

/// What the import of one log did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogImport {
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
    /// The log was imported before: nothing was written.
    pub already_imported: bool,
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

/// The bytes of a log, through gzip when they start with its magic.
fn open_log(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let whole = head.chain(file);
    Ok(if magic == [0x1f, 0x8b] { Box::new(flate2::read::MultiGzDecoder::new(whole)) } else { Box::new(whole) })
}

/// Imports one access log (see the module docs).
pub async fn import_log(repo: &Repository, path: &Path) -> anyhow::Result<LogImport> {
    let live_since = repo.store.usage_live_since().await?.unwrap_or(i64::MAX);
    let mut report = LogImport::default();
    let mut hasher = Sha256::new();
    // (record id → the record, if held), read once per record.
    let mut records: HashMap<RecordId, Option<Record>> = HashMap::new();
    let mut keys: HashMap<i64, String> = HashMap::new();
    let mut events = Vec::new();
    let mut reader = BufReader::new(open_log(path)?);
    let mut raw = Vec::with_capacity(1024);
    loop {
        raw.clear();
        // Read at most MAX_LINE + 1 bytes of a line; the rest of a longer
        // one is skipped, not held.
        let n = (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut raw)?;
        if n == 0 {
            break;
        }
        hasher.update(&raw);
        let mut too_long = false;
        if !raw.ends_with(b"\n") && n > MAX_LINE {
            too_long = true;
            loop {
                let mut rest = Vec::new();
                let m = (&mut reader).take(64 * 1024).read_until(b'\n', &mut rest)?;
                hasher.update(&rest);
                if m == 0 || rest.ends_with(b"\n") {
                    break;
                }
            }
        }
        report.lines += 1;
        let line_no = report.lines;
        let mut malformed = |why: String| {
            report.malformed += 1;
            if report.malformed_lines.len() < MALFORMED_SHOWN {
                report.malformed_lines.push((line_no, why));
            }
        };
        if too_long {
            malformed("the line is longer than 32 KiB".into());
            continue;
        }
        let Ok(line) = std::str::from_utf8(&raw) else {
            malformed("the line is not UTF-8".into());
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let hit = match parse_line(line) {
            Ok(hit) => hit,
            Err(e) => {
                malformed(e.to_string());
                continue;
            }
        };
        if hit.at >= live_since {
            report.counted_live += 1;
            continue;
        }
        if is_robot(&hit.user_agent) {
            report.robots += 1;
            continue;
        }
        let Some((record_id, file)) = (hit.method == "GET").then(|| target_of(hit.target)).flatten() else {
            report.not_counted += 1;
            continue;
        };
        let kind = match (hit.status, &file) {
            (200 | 304, None) => UsageKind::Page,
            (200 | 304, Some(_)) => UsageKind::Download,
            (206, Some(_)) => UsageKind::PartialDownload,
            _ => {
                report.not_counted += 1;
                continue;
            }
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = records.entry(record_id) {
            slot.insert(repo.store.get_record(record_id).await?);
        }
        let Some(record) = records.get(&record_id).and_then(|r| r.as_ref()) else {
            report.not_counted += 1;
            continue;
        };
        let today = repo.today();
        let (target, open) = match &file {
            None => (0, record.documents.is_empty() || record.documents.iter().any(|d| d.is_open_access(today))),
            Some((pos, name)) => {
                let doc = record.documents.iter().find(|d| d.pos == *pos);
                (file_target(*pos, name), doc.is_some_and(|d| d.is_open_access(today)))
            }
        };
        let day = day_of(hit.at);
        let key = match keys.get(&day) {
            Some(k) => k.clone(),
            None => {
                let k = repo.store.usage_key(day, &crate::accounts::tokens::random_token()).await?;
                keys.insert(day, k.clone());
                k
            }
        };
        let address = hit.client.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let visitor = if hit.client.parse::<std::net::IpAddr>().is_ok() {
            Visitor::Address(address, hit.user_agent.clone())
        } else {
            // A host name (HostnameLookups on): still one user per name.
            Visitor::Address(address, format!("{}\0{}", hit.client, hit.user_agent))
        };
        events.push(UsageEvent { at: hit.at, record_id, target, kind, open, visitor: visitor_hash(&key, &visitor) });
    }
    let sha = hex::encode(hasher.finalize());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    report.events = events.len() as u64;
    if !repo.store.import_usage_events(&sha, &name, &events, repo.now().0).await? {
        report.already_imported = true;
        report.events = 0;
    }
    Ok(report)
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
