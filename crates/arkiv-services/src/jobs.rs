//! What a running server does now and then, beside answering requests:
//! hourly (and once at start) it forgets expired sessions, so the sessions
//! table holds live logins only, and rate-limit counts quiet for a day; retries the messages SMTP has not taken
//! yet; lifts the embargoes that ended (see [`crate::workflow::embargoes`]);
//! once a day, purges drafts' removed files and collects unreferenced
//! bytes (see [`crate::file_gc`]); rereads the live settings another node's admin may
//! have changed. Beside them, on a round of its own, it harvests the
//! `[[harvest.sources]]` whose interval has passed (see [`crate::harvest`]).
//!
//! Started by the binary beside the server (`arkiv serve`, `arkiv demo`),
//! not by the web crate: each job is a service of its own, also callable
//! alone (`arkiv lift-embargoes`, tests).

use crate::Repository;
use arkiv_model::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// How often the jobs run.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Runs the jobs at once and then every [`EVERY`], until the task is
/// dropped. A job that fails is logged and tried again next time. The
/// scheduled harvests go on beside the other jobs, on their own hourly
/// round: a first harvest of a large source takes hours, and sessions,
/// mail and embargoes do not wait for it.
pub async fn run_hourly(repo: Arc<Repository>) {
    let jobs = async {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            run_once(&repo).await;
        }
    };
    let harvests = async {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            crate::harvest::harvest_due(&repo).await;
        }
    };
    tokio::join!(jobs, harvests);
}

/// Every job, once.
pub async fn run_once(repo: &Repository) {
    match repo.accounts.purge_sessions(Timestamp::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "expired sessions forgotten"),
        Err(e) => tracing::warn!(error = %e, "expired sessions could not be purged"),
    }
    let quiet = Timestamp(repo.now().0 - crate::rate_limits::FORGET_AFTER_SECONDS);
    if let Err(e) = repo.accounts.purge_rate_limits(quiet).await {
        tracing::warn!(error = %e, "old rate-limit counts could not be purged");
    }
    crate::mail::retry_unsent(repo).await;
    match crate::workflow::lift_embargoes(repo, repo.today()).await {
        Ok(report) if report.lifted.is_empty() && report.deferred.is_empty() => {}
        Ok(report) => {
            tracing::info!(lifted = report.lifted.len(), deferred = report.deferred.len(), "embargoes lifted")
        }
        Err(e) => tracing::warn!(error = %e, "embargoes could not be lifted"),
    }
    match crate::file_gc::collect_garbage_if_due(repo).await {
        Ok(Some(report)) if !report.purged.is_empty() || report.objects_deleted > 0 => tracing::info!(
            purged = report.purged.len(),
            deleted = report.objects_deleted,
            freed = report.bytes_freed,
            "file store cleaned"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "the file store could not be cleaned"),
    }
    if let Err(e) = repo.reload_settings().await {
        tracing::warn!(error = %format!("{e:#}"), "the live settings could not be reloaded");
    }
}
