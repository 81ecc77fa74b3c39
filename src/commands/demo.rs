//! `serve` and `demo`: the HTTP server over a repository.

use super::progress_bar;
use anyhow::Result;
use arkiv_services::Repository;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn serve(repo_dir: &Path, listen: Option<String>) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let listen = listen.unwrap_or_else(|| repo.config.server.listen.clone());
    run(Arc::new(repo), &listen).await
}

pub async fn demo(dir: &Path, listen: &str, count: u64) -> Result<ExitCode> {
    let bar = progress_bar(count as i64, "generating demo records {pos}/{len}");
    if !dir.join("arkiv.toml").exists() {
        eprintln!("Creating a demo repository in {} ...", dir.display());
    }
    let repo = arkiv_services::demo::open_or_create(dir, &format!("http://{listen}"), count, &mut |n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    run(Arc::new(repo), listen).await
}

async fn run(repo: Arc<Repository>, listen: &str) -> Result<ExitCode> {
    let listener = arkiv_web::bind(listen).await?;
    let counts = repo.store.status_counts().await?;
    eprintln!(
        "Arkiv is serving \"{}\" ({} live records) at http://{}/  (Ctrl-C stops it)",
        repo.settings().name,
        counts.archive,
        listener.local_addr()?
    );
    // Full text by this very binary (see main), unless an extractor is found
    // beside it; stopping lets requests in flight and the search index's
    // current batch finish.
    arkiv_web::serve_with(listener, repo, arkiv_web::FullText::Discover, async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Stopping...");
    })
    .await?;
    eprintln!("Stopped.");
    Ok(ExitCode::SUCCESS)
}
