//! Jobs that run on one node at a time: the background jobs, scheduled
//! harvests and statistics roll-ups ask for a lease (`arkiv_storage::leases`)
//! before each run. The node that holds it runs the job and renews the
//! lease while it works; the others skip their turn. A holder renews at
//! every period, its lease lasting two, so it keeps the jobs as long as it
//! lives; one that dies (or stops: [`release_all`]) hands them to the next
//! node whose turn comes after the lease expired (at once after a release).
//! With one node, it simply always holds them.

use crate::Repository;
use arkiv_model::Timestamp;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

/// The lease of the hourly jobs (sessions, mail, embargoes, file store).
pub const JOBS: &str = "jobs";
/// The lease of the scheduled harvests.
pub const HARVESTS: &str = "harvests";
/// The lease of the statistics roll-up.
pub const STATISTICS: &str = "statistics";
/// The lease of the follower that renders citations ahead (`citations`).
pub const CITATIONS: &str = "citations";

/// This process's name as a holder: host, process id and a random part
/// (a restarted process is a new holder, even with the same pid).
pub fn node_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
    })
}

/// Takes or renews `name` for `ttl` from now. Whether this node holds it;
/// a database that does not answer counts as not (no run without a lease).
async fn hold(repo: &Repository, name: &str, ttl: Duration) -> bool {
    let now = Timestamp::now();
    let until = Timestamp(now.0 + ttl.as_secs().max(1) as i64);
    match repo.store.take_lease(name, node_name(), now, until).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(lease = name, error = %e, "the lease could not be asked for: skipping this run");
            false
        }
    }
}

/// Runs `work` if this node holds (or can take) the lease `name`,
/// renewing it every third of `ttl` while `work` runs. `None` when another
/// node holds it, or when a renewal finds it taken meanwhile (this node
/// was too slow to renew): `work` is then dropped where it stands, as a
/// killed node would have stopped it, and the new holder carries on.
pub async fn run_leased<T>(repo: &Repository, name: &str, ttl: Duration, work: impl Future<Output = T>) -> Option<T> {
    if !hold(repo, name, ttl).await {
        tracing::debug!(lease = name, "another node holds the lease: not running");
        return None;
    }
    let renewing = async {
        loop {
            tokio::time::sleep(ttl / 3).await;
            if !hold(repo, name, ttl).await {
                tracing::warn!(lease = name, "the lease was lost while working: stopping");
                return;
            }
        }
    };
    tokio::select! {
        done = work => Some(done),
        () = renewing => None,
    }
}

/// Gives up this node's leases, so that another node takes the jobs at its
/// next turn rather than after they expire (a node stopping cleanly: a
/// rolling restart).
pub async fn release_all(repo: &Repository) {
    for name in [JOBS, HARVESTS, STATISTICS, CITATIONS] {
        if let Err(e) = repo.store.release_lease(name, node_name()).await {
            tracing::warn!(lease = name, error = %e, "the lease could not be given up; it expires by itself");
        }
    }
}
