//! `arkiv stats`: usage statistics by hand. `import-log` and
//! `import-access` bring the history of web server access logs and of
//! EPrints' access table in (see `arkiv_services::usage_import`); `roll-up`
//! counts what is waiting now instead of at the server's next five-minute
//! round; `sushi-client` adds a client of the SUSHI API.

use anyhow::Result;
use arkiv_services::Repository;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Which history a file holds.
#[derive(Clone, Copy)]
pub enum HistorySource {
    /// A web server's access log.
    Log,
    /// An export of EPrints' access table.
    EprintsAccess,
}

/// Imports each file, then rolls up. Exits with 2 if any line was
/// malformed (the rest of each file is imported all the same).
pub async fn import_usage_history(repo_dir: &Path, source: HistorySource, files: &[PathBuf]) -> Result<ExitCode> {
    use arkiv_services::usage_import::{import_access, import_log};
    let repo = Repository::open(repo_dir).await?;
    let unit = match source {
        HistorySource::Log => "lines",
        HistorySource::EprintsAccess => "rows",
    };
    let mut malformed = 0;
    for file in files {
        let r = match source {
            HistorySource::Log => import_log(&repo, file).await?,
            HistorySource::EprintsAccess => import_access(&repo, file).await?,
        };
        if r.already_imported {
            println!("{}: imported before; nothing counted again.", file.display());
            continue;
        }
        println!(
            "{}: {} {unit}: {} views and downloads kept; {} by robots, {} not a view or download of a record here, \
             {} from when the server counted by itself, {} malformed.",
            file.display(),
            r.lines,
            r.events,
            r.robots,
            r.not_counted,
            r.counted_live,
            r.malformed
        );
        if r.written_before > 0 {
            println!(
                "  {} events an earlier, stopped import of this file wrote were not written again.",
                r.written_before
            );
        }
        for (line, why) in &r.malformed_lines {
            println!("  line {line}: {why}");
        }
        if r.malformed > r.malformed_lines.len() as u64 {
            println!("  ... and {} more malformed {unit}", r.malformed - r.malformed_lines.len() as u64);
        }
        malformed += r.malformed;
    }
    roll_up_now(&repo).await?;
    Ok(if malformed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// Adds a SUSHI client and prints what it harvests with.
pub async fn add_sushi_client(repo_dir: &Path, name: &str, customer_id: &str) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    match arkiv_services::admin::add_sushi_client(&repo, name, customer_id).await {
        Ok(c) => {
            println!("customer_id={}\nrequestor_id={}\napi_key={}", c.customer_id, c.requestor_id, c.api_key);
            Ok(ExitCode::SUCCESS)
        }
        Err(arkiv_services::workflow::WorkflowError::Invalid(problems)) => {
            for p in problems {
                eprintln!("error: {}: {}", p.field, p.problem);
            }
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn roll_up(repo_dir: &Path) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    roll_up_now(&repo).await?;
    Ok(ExitCode::SUCCESS)
}

async fn roll_up_now(repo: &Repository) -> Result<()> {
    let done = arkiv_services::usage::roll_up(repo).await?;
    println!("Rolled up {} events in {} hours ({} items).", done.events, done.hours, done.items);
    Ok(())
}
