//! The abstract page's Cite box rendered ahead of its first view.
//!
//! A formatted citation is dear to render: hayagriva walks the whole CSL
//! style (APA: about 0.7 ms), most of what a first view of an abstract page
//! costs, and a crawler's visits are all first views. So a follower of the
//! change feed renders each live record's citation in the default style
//! (the first of `styles::STYLES`) as it is written, and keeps it in the
//! store (`arkiv_storage::citations`), where the page reads it with one
//! indexed lookup. Like the search index it is derived data, never the
//! truth:
//! - a stored citation is used only while its revision is the record's
//!   current one and its render key ([`render_key`]: the renderer's
//!   version and what of the repository it reads) is today's; otherwise
//!   the page renders as before, so a page is never staler than its record;
//! - the follower's position is written with the rows it wrote, under the
//!   render key: a new key (a new base URL, a renamed repository, an
//!   upgrade) starts it again from the first change, rendering everything
//!   anew behind the served pages;
//! - on several nodes one renders for all, under the `citations` lease.
//!
//! Cost: rendering runs on one thread at a lower priority, a batch at a
//! time, so at most one core and only what serving leaves; after a bulk
//! load of a million records the follower takes some minutes (about 1,400
//! records a second on an idle core), during which first views render as
//! before.

use crate::Repository;
use anyhow::Result;
use arkiv_formats::export::{styles, ExportContext};
use arkiv_model::{RecordId, Status};
use arkiv_storage::{Change, StoredCitation};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The `meta` key of the follower's position: `{render key} {sequence}`.
pub const POSITION: &str = "citations_through";

/// Changes read, and citations written in one transaction, at a time.
const BATCH: i64 = 500;

/// How long the follower sleeps once caught up.
const IDLE: Duration = Duration::from_secs(1);

/// How long the follower's lease lasts unless renewed.
const LEASE_TTL: Duration = Duration::from_secs(30);

/// The style rendered ahead: the one a page shows when none is asked for.
pub fn default_style() -> &'static str {
    styles::STYLES[0].id
}

/// What a stored citation must have been rendered with to be used today:
/// the renderer's version and a digest of what it reads of the repository
/// (its address, for the record's URL; its name; the item types' labels).
pub fn render_key(ctx: &ExportContext) -> String {
    let mut hash = Sha256::new();
    hash.update(ctx.base_url.as_bytes());
    hash.update([0]);
    hash.update(ctx.repository_name.as_bytes());
    for (key, label) in ctx.item_types.iter() {
        hash.update([0]);
        hash.update(key.as_bytes());
        hash.update([1]);
        hash.update(label.as_bytes());
    }
    let digest = hash.finalize();
    format!("{}.{}-{}", styles::RENDER_VERSION, env!("CARGO_PKG_VERSION"), hex::encode(&digest[..8]))
}

/// The default style's citation of record `id` at `revision`, if the
/// follower has rendered it with today's render key. A database that does
/// not answer is no citation: the page renders its own.
pub async fn stored(
    repo: &Repository,
    ctx: &ExportContext,
    id: RecordId,
    revision: i64,
) -> Option<styles::FormattedCitation> {
    let row = match repo.store.stored_citation(id).await {
        Ok(row) => row?,
        Err(e) => {
            tracing::debug!(record = id, error = %e, "the stored citation could not be read");
            return None;
        }
    };
    (row.revision == revision && row.render_key == render_key(ctx))
        .then_some(styles::FormattedCitation { text: row.text, html: row.html })
}

/// The last change the follower has rendered the citations of with
/// today's render key (0 when it must start again): what `/metrics`
/// reports its lag from.
pub async fn position(repo: &Repository) -> Result<i64> {
    position_under(repo, &render_key(&repo.export_context())).await
}

async fn position_under(repo: &Repository, key: &str) -> Result<i64> {
    Ok(repo
        .store
        .citations_position(POSITION)
        .await?
        .and_then(|p| p.split_once(' ').filter(|(k, _)| *k == key).and_then(|(_, seq)| seq.parse().ok()))
        .unwrap_or(0))
}

/// Renders the citations of every change after the follower's position,
/// batch by batch, until it has caught up. Returns how many it wrote.
pub async fn catch_up(repo: &Repository) -> Result<u64> {
    let mut written = 0;
    let mut batches = 0;
    while let Some(n) = step(repo).await? {
        written += n;
        batches += 1;
    }
    // After a backlog (a bulk load), the writer's cache holds the pages
    // written: given back, so the node's memory returns to a server's.
    if batches > 1 {
        repo.store.release_write_cache().await?;
    }
    Ok(written)
}

/// One batch: `None` when there was no change to follow.
async fn step(repo: &Repository) -> Result<Option<u64>> {
    let ctx = repo.export_context();
    let key = render_key(&ctx);
    let from = position_under(repo, &key).await?;
    let changes = repo.store.changes_since(from, BATCH).await?;
    let Some(last) = changes.last().map(|c| c.seq) else { return Ok(None) };
    // A record's last change in the batch decides: live records get a
    // citation; one withdrawn or returned keeps its old row, which no page
    // of it shows (a tombstone has no Cite box; revisions move on).
    let mut latest: HashMap<RecordId, &Change> = HashMap::new();
    for c in &changes {
        latest.insert(c.record_id, c);
    }
    let mut ids: Vec<RecordId> = latest.values().filter(|c| c.status == Status::Archive).map(|c| c.record_id).collect();
    ids.sort_unstable();
    let records = repo.store.get_records(&ids).await?;
    let revisions: HashMap<RecordId, i64> = latest.iter().map(|(id, c)| (*id, c.revision)).collect();
    // The record read may be newer than its change here: its row then
    // carries the older revision, which no page asks for, until the newer
    // change (still ahead in the feed) writes it again.
    let row_key = key.clone();
    let rows = in_the_background(move || {
        records
            .iter()
            .filter(|r| r.status == Status::Archive)
            .filter_map(|r| {
                let id = r.id?;
                let cited = styles::render(default_style(), r, &ctx)?;
                Some(StoredCitation {
                    record_id: id,
                    revision: *revisions.get(&id)?,
                    render_key: row_key.clone(),
                    text: cited.text,
                    html: cited.html,
                })
            })
            .collect::<Vec<_>>()
    })
    .await?;
    let position = format!("{key} {last}");
    repo.store.put_citations(&rows, POSITION, &position).await?;
    Ok(Some(rows.len() as u64))
}

/// Runs `work` on a thread of its own at a lower priority (nice 10, on
/// Linux a thread's own): rendering takes only the CPU that serving pages
/// and following the search index leave, so after a bulk load first views
/// render for themselves a while longer rather than queue behind the
/// renderer. One short-lived thread a batch (half a second of work or so).
async fn in_the_background<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("arkiv-citations".into()).spawn(move || {
        #[cfg(target_os = "linux")]
        // SAFETY: setpriority with this thread's own id changes only its
        // nice value; a refusal leaves the thread as it was.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
        }
        let _ = done.send(work());
    })?;
    Ok(result.await?)
}

/// The follower beside the server: catches up, then looks for new changes
/// every second, on the node holding the `citations` lease.
pub async fn run(repo: Arc<Repository>) {
    loop {
        let pass = crate::leases::run_leased(&repo, crate::leases::CITATIONS, LEASE_TTL, catch_up(&repo)).await;
        match pass {
            Some(Ok(n)) if n > 0 => tracing::debug!(citations = n, "citations rendered"),
            Some(Err(e)) => tracing::warn!(error = %e, "citations could not be rendered; trying again"),
            _ => {}
        }
        tokio::time::sleep(IDLE).await;
    }
}
