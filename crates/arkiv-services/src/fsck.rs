//! `arkiv fsck`: the repository checks itself. Every record is read back
//! and held against the model's rules; every file a record names, then
//! every other object of the store, is re-hashed (streamed, in ranges) and
//! compared with the SHA-256 it is filed under. Problems are reported with
//! the record, document and file they concern, never repaired silently.
//! Bytes no revision names are reported as a notice (`arkiv gc` frees them).

use crate::repository::Repository;
use anyhow::Result;
use arkiv_model::{validate, Status};
use arkiv_storage::{Fixity, ScanFilter};
use futures::StreamExt;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Severity {
    /// Something is wrong: damaged or missing bytes, an invalid record
    /// under review, live or withdrawn.
    Error,
    /// Worth knowing, not damage: a file whose bytes were never imported,
    /// a draft not yet complete.
    Notice,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// Where: `record 12`, `record 12, document 1, paper.pdf`.
    pub place: String,
    pub problem: String,
}

#[derive(Debug, Default)]
pub struct FsckReport {
    pub records: u64,
    pub files_checked: u64,
    pub findings: Vec<Finding>,
}

impl FsckReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }
}

/// Checks every record and file. `progress` is told the number of records
/// checked so far.
pub async fn fsck(repo: &Repository, progress: &mut dyn FnMut(u64)) -> Result<FsckReport> {
    let mut report = FsckReport::default();
    // Files shared by several records are hashed once.
    let mut checked: HashMap<String, Fixity> = HashMap::new();
    let mut records = repo.store.scan(ScanFilter::default());
    while let Some(record) = records.next().await {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.findings.push(Finding {
                    severity: Severity::Error,
                    place: "database".into(),
                    problem: e.to_string(),
                });
                continue;
            }
        };
        report.records += 1;
        let id = record.id.unwrap_or_default();
        if let Err(problems) = validate(&record, &repo.types()) {
            // A draft in its depositor's workarea is unfinished by design
            // (the deposit form's first step makes one with an item type
            // and nothing else); the workflow checks it whole when it is
            // deposited. Its gaps are worth knowing, not damage.
            let draft = record.status == Status::Inbox;
            for p in problems {
                report.findings.push(Finding {
                    severity: if draft { Severity::Notice } else { Severity::Error },
                    place: format!("record {id}"),
                    problem: if draft { format!("an unfinished draft in the workarea: {p}") } else { p.to_string() },
                });
            }
        }
        for (pos, file) in record.files() {
            let place = format!("record {id}, document {pos}, {}", file.filename);
            let Some(sha) = &file.sha256 else {
                let from = file.source_url.as_deref().map(|u| format!(" (source: {u})")).unwrap_or_default();
                report.findings.push(Finding {
                    severity: Severity::Notice,
                    place,
                    problem: format!("bytes were never stored in this repository{from}"),
                });
                continue;
            };
            let fixity = match checked.get(sha) {
                Some(f) => f.clone(),
                None => {
                    report.files_checked += 1;
                    let f = repo.files.check(sha).await?;
                    checked.insert(sha.clone(), f.clone());
                    f
                }
            };
            match fixity {
                Fixity::Ok => {}
                Fixity::Missing => report.findings.push(Finding {
                    severity: Severity::Error,
                    place,
                    problem: format!("file bytes {sha} are missing from the file store"),
                }),
                Fixity::Mismatch { actual } => report.findings.push(Finding {
                    severity: Severity::Error,
                    place,
                    problem: format!("file bytes are damaged: stored under SHA-256 {sha} but now hash to {actual}"),
                }),
            }
        }
        if report.records % 1000 == 0 {
            progress(report.records);
        }
    }
    progress(report.records);
    // Every other object filed under a hash (bytes of earlier revisions,
    // uploads not named yet, bytes nothing names) is re-hashed too, so
    // damage anywhere in the store is found, on S3 as locally.
    let mut objects = repo.files.objects();
    while let Some(object) = objects.next().await {
        let Some(sha) = object?.sha256 else { continue };
        if checked.contains_key(&sha) {
            continue;
        }
        report.files_checked += 1;
        let fixity = repo.files.check(&sha).await?;
        if let Fixity::Mismatch { actual } = &fixity {
            report.findings.push(Finding {
                severity: Severity::Error,
                place: format!("file store, {sha}"),
                problem: format!("file bytes are damaged: stored under SHA-256 {sha} but now hash to {actual}"),
            });
        }
        checked.insert(sha, fixity);
    }
    // Bytes nothing names: not damage, but space the garbage collector
    // will take back (or has not yet, within its grace period).
    let loose = crate::file_gc::unreferenced(repo).await?;
    if loose.objects > 0 {
        report.findings.push(Finding {
            severity: Severity::Notice,
            place: "file store".into(),
            problem: format!(
                "{} objects ({} bytes) are named by no revision of any record; {} of them ({} bytes) are within \
                 the {}-hour grace period, the rest go at the next `arkiv gc`",
                loose.objects, loose.bytes, loose.young_objects, loose.young_bytes, repo.config.files.gc_grace_hours
            ),
        });
    }
    Ok(report)
}
