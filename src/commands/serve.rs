//! `serve`: the HTTP server over a repository, and the repository's hourly
//! jobs beside it. The composition root of a running server: the binary
//! binds the socket, starts the jobs (`arkiv_services::jobs`) and serves
//! the site (`arkiv_web::serve`), and stops both on Ctrl-C.

use anyhow::Result;
use arkiv_services::Repository;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn serve(repo_dir: &Path, listen: Option<String>, take_settings: bool) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    // Only PostgreSQL is shared by several nodes; SQLite has one.
    if repo.config.storage.database.starts_with("postgres") {
        arkiv_services::cluster::check_shared_settings(&repo, take_settings).await?;
    }
    let listen = listen.unwrap_or_else(|| repo.config.server.listen.clone());
    run(Arc::new(repo), &listen).await
}

/// Serves `repo` on `listen` until Ctrl-C, with its hourly jobs running.
pub(super) async fn run(repo: Arc<Repository>, listen: &str) -> Result<ExitCode> {
    raise_open_file_limit();
    let listener = arkiv_web::bind(listen).await?;
    let counts = repo.store.status_counts().await?;
    eprintln!(
        "Arkiv is serving \"{}\" ({} live records) at http://{}/  (Ctrl-C stops it)",
        repo.settings().name,
        counts.archive,
        listener.local_addr()?
    );
    let jobs = tokio::spawn(arkiv_services::jobs::run_hourly(repo.clone()));
    let statistics = tokio::spawn(arkiv_services::usage::run_statistics(repo.clone()));
    let citations = tokio::spawn(arkiv_services::citations::run(repo.clone()));
    // Full text by this very binary (see main), unless an extractor is found
    // beside it; stopping lets requests in flight and the search index's
    // current batch finish.
    let repo_for_leases = repo.clone();
    let served = arkiv_web::serve(listener, repo, arkiv_web::FullText::Discover, async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Stopping...");
    })
    .await;
    jobs.abort();
    statistics.abort();
    citations.abort();
    // Another node takes the jobs at its next turn, not after the leases
    // expire.
    arkiv_services::leases::release_all(&repo_for_leases).await;
    served?;
    eprintln!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Raises the soft limit on open files to the hard one: each connection
/// holds a descriptor, and the default soft limit (often 1,024) would cap
/// the server far below what the system allows. The connection cap
/// (`arkiv_web::connections`) is then taken from what this leaves.
fn raise_open_file_limit() {
    use rlimit::Resource;
    let Ok((soft, hard)) = rlimit::getrlimit(Resource::NOFILE) else { return };
    match rlimit::increase_nofile_limit(hard) {
        Ok(raised) => tracing::info!(was = soft, now = raised, hard, "open-file limit"),
        Err(e) => tracing::warn!(soft, hard, error = %e, "the open-file limit could not be raised"),
    }
}
