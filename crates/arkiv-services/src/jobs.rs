//! What a running server does now and then, beside answering requests:
//! hourly (and once at start) it forgets expired sessions, so the sessions
//! table holds live logins only, and rate-limit counts quiet for a day; retries the messages SMTP has not taken
//! yet; lifts the embargoes that ended (see [`crate::workflow::embargoes`]);
//! once a day, purges drafts' removed files and collects unreferenced
//! bytes (see [`crate::file_gc`]). Beside them, on a round of its own, it
//! harvests the `[[harvest.sources]]` whose interval has passed (see
//! [`crate::harvest`]); and every two seconds it takes in the live settings,
//! item types and subject tree another node may have changed
//! ([`Repository::follow_shared`]).
//!
//! Started by the binary beside the server (`arkiv serve`, `arkiv demo`),
//! not by the web crate: each job is a service of its own, also callable
//! alone (`arkiv lift-embargoes`, tests).

use crate::Repository;
use arkiv_model::Timestamp;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often one job ran, and failed, in this process: what `/metrics`
/// reports as `arkiv_job_runs_total` and `arkiv_job_failures_total`.
pub struct JobCount {
    pub name: &'static str,
    runs: AtomicU64,
    failures: AtomicU64,
}

impl JobCount {
    const fn new(name: &'static str) -> Self {
        JobCount { name, runs: AtomicU64::new(0), failures: AtomicU64::new(0) }
    }

    /// Notes one run, failed or not.
    fn ran(&self, ok: bool) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// Counters of the process, not of a repository: a process serves one.
static SESSIONS: JobCount = JobCount::new("sessions");
static RATE_LIMITS: JobCount = JobCount::new("rate_limits");
static MAIL: JobCount = JobCount::new("mail");
static EMBARGOES: JobCount = JobCount::new("embargoes");
static FILE_GC: JobCount = JobCount::new("file_gc");
static SETTINGS: JobCount = JobCount::new("settings");
static HARVESTS: JobCount = JobCount::new("harvests");

/// Every job's counts, in a fixed order.
pub fn job_counts() -> [&'static JobCount; 7] {
    [&SESSIONS, &RATE_LIMITS, &MAIL, &EMBARGOES, &FILE_GC, &SETTINGS, &HARVESTS]
}

/// How often a node looks whether another changed the settings, the item
/// types or the subject tree ([`Repository::follow_shared`]).
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// How often the jobs run by default (`[server] jobs_every_secs`).
pub const EVERY: Duration = Duration::from_secs(3600);

/// Runs the jobs at once and then every `[server] jobs_every_secs`, until
/// the task is dropped, on the node that holds their lease
/// ([`crate::leases`]; with one node, always this one). A job that fails is
/// logged and tried again next time. The scheduled harvests go on beside
/// the other jobs, on their own round and lease: a first harvest of a large
/// source takes hours, and sessions, mail and embargoes do not wait for it.
/// The live settings, item types and subject tree are reread on every
/// node, each its own copy: every [`FOLLOW_EVERY`] if another node changed
/// them.
pub async fn run_hourly(repo: Arc<Repository>) {
    let every = Duration::from_secs(repo.config.server.jobs_every_secs.max(1));
    let jobs = async {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            crate::leases::run_leased(&repo, crate::leases::JOBS, every * 2, run_shared(&repo)).await;
        }
    };
    let harvests = async {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let round = async {
                crate::harvest::harvest_due(&repo).await;
                // A source that fails is logged and tried next round, like
                // any job; the round itself always completes.
                HARVESTS.ran(true);
            };
            crate::leases::run_leased(&repo, crate::leases::HARVESTS, every * 2, round).await;
        }
    };
    let shared = async {
        let mut tick = tokio::time::interval(FOLLOW_EVERY);
        loop {
            tick.tick().await;
            // What the hourly reread of the settings did, and sooner.
            let followed = repo.follow_shared().await;
            SETTINGS.ran(followed.is_ok());
            if let Err(e) = followed {
                tracing::warn!(error = %format!("{e:#}"), "the shared settings could not be reread");
            }
        }
    };
    tokio::join!(jobs, harvests, shared);
}

/// Every job, once, on this node whoever holds the lease (`arkiv` commands
/// and tests).
pub async fn run_once(repo: &Repository) {
    run_shared(repo).await;
    reload_settings(repo).await;
}

/// The jobs one node runs for all: what the lease guards.
async fn run_shared(repo: &Repository) {
    let purged = repo.accounts.purge_sessions(Timestamp::now()).await;
    SESSIONS.ran(purged.is_ok());
    match purged {
        Ok(0) => {}
        Ok(n) => tracing::info!(sessions = n, "expired sessions forgotten"),
        Err(e) => tracing::warn!(error = %e, "expired sessions could not be purged"),
    }
    let quiet = Timestamp(repo.now().0 - crate::rate_limits::FORGET_AFTER_SECONDS);
    let purged = repo.accounts.purge_rate_limits(quiet).await;
    RATE_LIMITS.ran(purged.is_ok());
    if let Err(e) = purged {
        tracing::warn!(error = %e, "old rate-limit counts could not be purged");
    }
    let retried = crate::mail::retry_unsent(repo).await;
    MAIL.ran(retried.failed == 0);
    let lifted = crate::workflow::lift_embargoes(repo, repo.today()).await;
    EMBARGOES.ran(lifted.is_ok());
    match lifted {
        Ok(report) if report.lifted.is_empty() && report.deferred.is_empty() => {}
        Ok(report) => {
            tracing::info!(lifted = report.lifted.len(), deferred = report.deferred.len(), "embargoes lifted")
        }
        Err(e) => tracing::warn!(error = %e, "embargoes could not be lifted"),
    }
    let cleaned = crate::file_gc::collect_garbage_if_due(repo).await;
    FILE_GC.ran(cleaned.is_ok());
    match cleaned {
        Ok(Some(report)) if !report.purged.is_empty() || report.objects_deleted > 0 => tracing::info!(
            purged = report.purged.len(),
            deleted = report.objects_deleted,
            freed = report.bytes_freed,
            "file store cleaned"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "the file store could not be cleaned"),
    }
}

/// Rereads the live settings another node's admin may have changed.
async fn reload_settings(repo: &Repository) {
    let reloaded = repo.reload_settings().await;
    SETTINGS.ran(reloaded.is_ok());
    if let Err(e) = reloaded {
        tracing::warn!(error = %format!("{e:#}"), "the live settings could not be reloaded");
    }
}
