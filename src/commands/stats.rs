//! `arkiv stats`: usage statistics by hand. `import-log` brings the
//! download history of web server access logs in (see
//! `arkiv_services::usage_import`); `roll-up` counts what is waiting now
//! instead of at the server's next five-minute round.

use anyhow::Result;
use arkiv_services::Repository;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Imports each log, then rolls up. Exits with 2 if any line was malformed
/// (the rest of each log is imported all the same).
pub async fn import_log(repo_dir: &Path, files: &[PathBuf]) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let mut malformed = 0;
    for file in files {
        let r = arkiv_services::usage_import::import_log(&repo, file).await?;
        if r.already_imported {
            println!("{}: imported before; nothing counted again.", file.display());
            continue;
        }
        println!(
            "{}: {} lines: {} views and downloads kept; {} by robots, {} not a view or download of a record here, \
             {} from when the server counted by itself, {} malformed.",
            file.display(),
            r.lines,
            r.events,
            r.robots,
            r.not_counted,
            r.counted_live,
            r.malformed
        );
        for (line, why) in &r.malformed_lines {
            println!("  line {line}: {why}");
        }
        if r.malformed > r.malformed_lines.len() as u64 {
            println!("  ... and {} more malformed lines", r.malformed - r.malformed_lines.len() as u64);
        }
        malformed += r.malformed;
    }
    roll_up_now(&repo).await?;
    Ok(if malformed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
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
