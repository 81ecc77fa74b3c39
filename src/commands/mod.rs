//! The commands behind `arkiv`'s subcommands: each opens the repository,
//! calls a service, and reports to the terminal (progress bars when stderr is
//! a terminal, plain lines when it is not, so logs and tests can read them).

mod demo;
mod harvest;
mod serve;
mod stats;
mod transfer;
mod users;

pub use demo::demo;
pub use harvest::harvest;
pub use serve::serve;
pub use stats::{add_sushi_client, import_usage_history, roll_up, HistorySource};
pub use transfer::{export, export_format_names, generate, import, import_history, import_subjects};
pub use users::import_users;
pub use users::{user_add, user_token};

use anyhow::Result;
use arkiv_services::fsck::Severity;
use arkiv_services::{Config, Repository};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

pub async fn init(
    dir: &Path,
    name: Option<String>,
    base_url: Option<String>,
    database: Option<String>,
) -> Result<ExitCode> {
    let mut config = Config::default();
    if let Some(n) = name {
        config.repository.name = n;
    }
    if let Some(u) = base_url {
        config.repository.base_url = u.trim_end_matches('/').to_string();
    }
    if let Some(d) = database {
        config.storage.database = d;
    }
    Repository::init(dir, config).await?;
    eprintln!("Created a repository in {} (settings in {}/arkiv.toml).", dir.display(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `arkiv backup OUT`.
pub async fn backup(repo_dir: &Path, out: &Path) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let started = std::time::Instant::now();
    let r = arkiv_services::backup::backup(&repo, out).await?;
    println!(
        "Backed up {} tables ({} rows, change feed at {}) and {} files ({} copied, {} bytes; the rest were held already) into {} in {:.1} s.",
        r.tables,
        r.rows,
        r.last_change,
        r.files,
        r.files_copied,
        r.bytes_copied,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// `arkiv restore IN --to DIR [--database URL] [--files DIR|s3://BUCKET/PREFIX]`.
pub async fn restore(backup: &Path, to: &Path, database: Option<&str>, files: Option<&str>) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let r = arkiv_services::backup::restore(backup, to, database, files).await?;
    println!(
        "Restored {} tables ({} rows) and {} files into {} (database {}) in {:.1} s. The search index is built when it first serves.",
        r.tables,
        r.rows,
        r.files,
        to.display(),
        redacted(&r.database),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// A database URL without its password, for printing.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:…@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

pub async fn lift_embargoes(repo_dir: &Path) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let report = arkiv_services::workflow::lift_embargoes(&repo, repo.today()).await?;
    for id in &report.lifted {
        println!("lifted: record {id}");
    }
    for id in &report.deferred {
        println!("deferred (changed meanwhile; the next run takes it): record {id}");
    }
    println!("{} embargoes lifted, {} deferred.", report.lifted.len(), report.deferred.len());
    Ok(ExitCode::SUCCESS)
}

pub async fn gc(repo_dir: &Path, dry_run: bool) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let report = arkiv_services::file_gc::collect_garbage(&repo, dry_run).await?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

pub async fn fsck(repo_dir: &Path) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let total = repo.store.status_counts().await?;
    let bar = progress_bar(total.inbox + total.buffer + total.archive + total.deletion, "checking {pos}/{len} records");
    let report = arkiv_services::fsck::fsck(&repo, &mut |n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    for f in &report.findings {
        let tag = match f.severity {
            Severity::Error => "error",
            Severity::Notice => "notice",
        };
        println!("{tag}: {}: {}", f.place, f.problem);
    }
    let errors = report.errors();
    println!(
        "{} records and {} files checked: {} errors, {} notices.",
        report.records,
        report.files_checked,
        errors,
        report.findings.len() - errors
    );
    Ok(if errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A progress bar on a terminal; a hidden one elsewhere.
pub(crate) fn progress_bar(len: i64, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len.max(0) as u64);
    if let Ok(style) = ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:30}}] {template}")) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Rebuilds the search index in a new generation beside the served one,
/// then publishes it; a running server switches to it on its next poll.
pub async fn reindex(repo_dir: &Path) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let root = repo.dir.join("search");
    let extractor = match arkiv_search::Extractor::discover() {
        Ok(e) => Some(e.with_cache(root.join("text-cache"))),
        Err(e) => {
            eprintln!("warning: no text extractor ({e}): indexing metadata only");
            None
        }
    };
    let total = repo.store.status_counts().await?.archive;
    let bar = progress_bar(total, "indexing {pos}/{len} records");
    let started = std::time::Instant::now();
    let done = arkiv_search::reindex(&*repo.store, &repo.files, extractor.as_ref(), &root, |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
    .await?;
    bar.finish_and_clear();
    eprintln!("Indexed {done} records in {:.1} s; the new index is being served.", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
