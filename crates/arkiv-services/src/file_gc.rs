//! What the file store keeps, and the clean-up of what it need not.
//!
//! The policy: bytes named by any revision of a record that was ever live
//! (it has a datestamp, or a revision of it was live or withdrawn) are kept
//! for good, whatever later revisions say: that is preservation. A draft
//! that never went live (in a workarea or the review buffer) is different:
//! a file it named once and no longer names in its current revision is
//! purged `[files] purge_after_days` after the revision that dropped it
//! (by the repository's clock). A purge is a row (`FilePurge`), so the
//! draft's history says "file purged on ..."; the bytes go with it unless
//! something else still names them.
//!
//! [`collect_garbage`] applies it: it walks every revision of every record
//! (a job's work, never a page's), records the purges that are due, then
//! lists the file store and deletes every object that nothing keeps (a
//! purged file, an upload whose record never came, a failed import's
//! bytes, a staging leftover) once its stamp is older than
//! `[files] gc_grace_hours`. Object ages are read on the store's own clock
//! (the stamps it wrote), and the references are read before the listing,
//! so an upload in flight is safe: its bytes are stamped afresh when stored
//! (see `arkiv_storage::files`) and are young until its record is written.
//!
//! [`draft_usage`] is the per-user quota's count: the bytes of the distinct
//! files the user's drafts name in any revision, less the purged ones.

use crate::Repository;
use anyhow::Result;
use arkiv_model::{RecordId, Timestamp};
use arkiv_storage::files::now_secs;
use arkiv_storage::{FilePurge, RevisionFiles};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};

/// What a run of the collector did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub dry_run: bool,
    /// Files of drafts purged by this run.
    pub purged: Vec<FilePurge>,
    /// Objects nothing keeps, deleted (or that would be).
    pub objects_deleted: u64,
    pub bytes_freed: u64,
    /// Objects nothing keeps, left because they are younger than the grace.
    pub objects_young: u64,
    pub bytes_young: u64,
    /// Objects some record keeps.
    pub objects_kept: u64,
    pub bytes_kept: u64,
}

impl std::fmt::Display for GcReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let would = if self.dry_run { "would be " } else { "" };
        writeln!(f, "draft files {would}purged: {}", self.purged.len())?;
        for p in &self.purged {
            writeln!(f, "  record {}: {} ({})", p.record_id, p.filename, megabytes(p.bytes))?;
        }
        writeln!(
            f,
            "unreferenced objects {would}deleted: {} ({} {would}freed)",
            self.objects_deleted,
            megabytes(self.bytes_freed)
        )?;
        writeln!(
            f,
            "unreferenced objects kept for now (younger than the grace period): {} ({})",
            self.objects_young,
            megabytes(self.bytes_young)
        )?;
        write!(f, "objects records name: {} ({})", self.objects_kept, megabytes(self.bytes_kept))
    }
}

/// Bytes as people read them: "312 MB", "1,024 MB", "0.4 MB" (MiB, as the
/// quota is set).
pub fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if bytes > 0 && mb < 10.0 {
        format!("{mb:.1} MB")
    } else {
        let whole = mb.round() as u64;
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        format!("{out} MB")
    }
}

/// What the revisions of all records say about the stored bytes.
#[derive(Debug, Default)]
struct References {
    /// SHA-256s some record keeps.
    keep: HashSet<String>,
    /// Purges due now and not yet recorded.
    due: Vec<FilePurge>,
}

/// Sorts one record's revisions (oldest first) into what it keeps and what
/// is due for a purge at `now`.
fn judge_record(
    revisions: &[RevisionFiles],
    purged: &HashSet<(RecordId, String)>,
    purge_after: i64,
    now: Timestamp,
    refs: &mut References,
) {
    let Some(current) = revisions.last() else { return };
    if revisions.iter().any(RevisionFiles::ever_live) {
        refs.keep.extend(revisions.iter().flat_map(|r| r.files.iter().map(|f| f.sha256.clone())));
        return;
    }
    let named_now: HashSet<&str> = current.files.iter().map(|f| f.sha256.as_str()).collect();
    refs.keep.extend(named_now.iter().map(|s| s.to_string()));
    // For each file dropped since: the last revision that named it.
    let mut last_named: HashMap<&str, (usize, &arkiv_storage::NamedFile)> = HashMap::new();
    for (i, rev) in revisions.iter().enumerate() {
        for f in &rev.files {
            last_named.insert(f.sha256.as_str(), (i, f));
        }
    }
    for (sha, (i, file)) in last_named {
        if named_now.contains(sha) || purged.contains(&(current.record_id, sha.to_string())) {
            continue;
        }
        let dropped = &revisions[i + 1];
        let dropped_at = dropped.lastmod.unwrap_or(dropped.at);
        if now.0 - dropped_at.0 >= purge_after {
            refs.due.push(FilePurge {
                record_id: current.record_id,
                sha256: sha.to_string(),
                filename: file.filename.clone(),
                bytes: file.size,
                purged_at: now,
            });
        } else {
            refs.keep.insert(sha.to_string());
        }
    }
}

/// Walks every revision: what is kept and which purges are due.
async fn references(repo: &Repository) -> Result<References> {
    let purged: HashSet<(RecordId, String)> =
        repo.store.all_file_purges().await?.into_iter().map(|p| (p.record_id, p.sha256)).collect();
    let purge_after = repo.config.files.purge_after_secs();
    let now = repo.now();
    let mut refs = References::default();
    let mut record: Vec<RevisionFiles> = Vec::new();
    let mut revisions = repo.store.revision_files();
    while let Some(rev) = revisions.next().await {
        let rev = rev?;
        if record.last().is_some_and(|r| r.record_id != rev.record_id) {
            judge_record(&record, &purged, purge_after, now, &mut refs);
            record.clear();
        }
        record.push(rev);
    }
    judge_record(&record, &purged, purge_after, now, &mut refs);
    Ok(refs)
}

/// How often the jobs run the collector: once a day, not at every hourly
/// round, because it walks every revision of the repository (cheap at
/// 20,000 records, minutes at millions). Purge delays are counted in days,
/// so a day's lag costs nothing.
pub const COLLECT_EVERY_SECS: i64 = 86_400;

/// When the collector last ran to its end, in `meta` (Unix seconds, by the
/// repository's clock), so that every node and every restart sees it.
const LAST_COLLECTED: &str = "files.last_collected";

/// [`collect_garbage`], if it has not run to its end in the last
/// [`COLLECT_EVERY_SECS`]; what the hourly jobs call. `None`: not due.
pub async fn collect_garbage_if_due(repo: &Repository) -> Result<Option<GcReport>> {
    let now = repo.now();
    let last = repo.store.meta(LAST_COLLECTED).await?.and_then(|v| v.parse::<i64>().ok());
    if last.is_some_and(|at| now.0 - at < COLLECT_EVERY_SECS) {
        return Ok(None);
    }
    let report = collect_garbage(repo, false).await?;
    repo.store.set_meta(LAST_COLLECTED, &now.0.to_string()).await?;
    Ok(Some(report))
}

/// Purges the draft files that are due and deletes the objects nothing
/// keeps, once older than the grace period. `dry_run`: changes nothing and
/// reports what it would do.
pub async fn collect_garbage(repo: &Repository, dry_run: bool) -> Result<GcReport> {
    // References first, the listing after: an object stored after the walk
    // is young when listed (see the module's doc).
    let refs = references(repo).await?;
    let mut report = GcReport { dry_run, ..Default::default() };
    if !dry_run && !refs.due.is_empty() {
        // The purges are on record before any byte goes.
        repo.store.add_file_purges(&refs.due).await?;
    }
    report.purged = refs.due;
    let cutoff = now_secs() - repo.config.files.gc_grace_secs();
    let mut objects = repo.files.objects();
    while let Some(object) = objects.next().await {
        let object = object?;
        if object.sha256.as_ref().is_some_and(|sha| refs.keep.contains(sha)) {
            report.objects_kept += 1;
            report.bytes_kept += object.size;
        } else if object.last_modified >= cutoff {
            report.objects_young += 1;
            report.bytes_young += object.size;
        } else if dry_run {
            report.objects_deleted += 1;
            report.bytes_freed += object.size;
        } else {
            match repo.files.delete_if_older(&object.path, cutoff).await? {
                Some(size) => {
                    report.objects_deleted += 1;
                    report.bytes_freed += size;
                }
                // Stamped again since the listing: an upload wants it.
                None => {
                    report.objects_young += 1;
                    report.bytes_young += object.size;
                }
            }
        }
    }
    if !dry_run && (report.objects_deleted > 0 || !report.purged.is_empty()) {
        tracing::info!(
            purged = report.purged.len(),
            objects = report.objects_deleted,
            bytes = report.bytes_freed,
            "file store cleaned"
        );
    }
    Ok(report)
}

/// What fsck says of the file store's unreferenced objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unreferenced {
    pub objects: u64,
    pub bytes: u64,
    /// Of those, the objects (and bytes) still within the grace period.
    pub young_objects: u64,
    pub young_bytes: u64,
}

/// The objects no revision keeps (a dry run's count, nothing changed).
pub async fn unreferenced(repo: &Repository) -> Result<Unreferenced> {
    let r = collect_garbage(repo, true).await?;
    Ok(Unreferenced {
        objects: r.objects_deleted + r.objects_young,
        bytes: r.bytes_freed + r.bytes_young,
        young_objects: r.objects_young,
        young_bytes: r.bytes_young,
    })
}

/// A user's draft files against the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftUsage {
    /// Bytes of the distinct files the user's drafts name in any revision
    /// and that are not purged yet.
    pub bytes: u64,
    /// `[deposit] draft_quota_mb` in bytes; `None`: no quota.
    pub quota: Option<u64>,
}

impl DraftUsage {
    /// Bytes the user may still upload (`u64::MAX` without a quota).
    pub fn left(&self) -> u64 {
        self.quota.map_or(u64::MAX, |q| q.saturating_sub(self.bytes))
    }

    /// "Draft files: 312 MB of 1,024 MB".
    pub fn label(&self) -> String {
        match self.quota {
            Some(q) => format!("Draft files: {} of {}", megabytes(self.bytes), megabytes(q)),
            None => format!("Draft files: {}", megabytes(self.bytes)),
        }
    }
}

/// The user's draft usage: reads only that user's records (their index)
/// and their purges.
pub async fn draft_usage(repo: &Repository, user: i64) -> Result<DraftUsage> {
    let revisions = repo.store.draft_revision_files(user).await?;
    let purged: HashSet<(RecordId, String)> =
        repo.store.owner_file_purges(user).await?.into_iter().map(|p| (p.record_id, p.sha256)).collect();
    let mut by_record: HashMap<RecordId, Vec<&RevisionFiles>> = HashMap::new();
    for rev in &revisions {
        by_record.entry(rev.record_id).or_default().push(rev);
    }
    let mut counted: HashMap<&str, u64> = HashMap::new();
    for (id, revs) in by_record {
        if revs.iter().any(|r| r.ever_live()) {
            continue;
        }
        let current: HashSet<&str> =
            revs.last().map(|r| r.files.iter().map(|f| f.sha256.as_str()).collect()).unwrap_or_default();
        for f in revs.iter().flat_map(|r| &r.files) {
            if current.contains(f.sha256.as_str()) || !purged.contains(&(id, f.sha256.clone())) {
                counted.insert(f.sha256.as_str(), f.size);
            }
        }
    }
    Ok(DraftUsage { bytes: counted.values().sum(), quota: repo.config.deposit.draft_quota_bytes() })
}

#[cfg(test)]
mod tests {
    use super::megabytes;

    #[test]
    fn sizes_read_as_megabytes() {
        assert_eq!(megabytes(1024 * 1024 * 1024), "1,024 MB");
        assert_eq!(megabytes(312 * 1024 * 1024), "312 MB");
        assert_eq!(megabytes(400 * 1024), "0.4 MB");
        assert_eq!(megabytes(0), "0 MB");
    }
}
