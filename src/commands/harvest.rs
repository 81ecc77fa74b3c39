//! `arkiv harvest`: one OAI-PMH harvest from the command line, or every
//! configured one, with a line per page and a summary per source.

use super::is_terminal;
use anyhow::{bail, Result};
use arkiv_formats::harvest::MetadataPrefix;
use arkiv_services::harvest::{harvest as run_harvest, HarvestOptions, HarvestReport, HarvestSource};
use arkiv_services::Repository;
use std::path::Path;
use std::process::ExitCode;

pub async fn harvest(
    repo_dir: &Path,
    url: Option<String>,
    set: Option<String>,
    prefix: &str,
    name: Option<String>,
    full: bool,
) -> Result<ExitCode> {
    let repo = Repository::open(repo_dir).await?;
    let sources = match url {
        Some(url) => {
            let Some(prefix) = MetadataPrefix::parse(prefix) else {
                bail!("unknown metadata prefix {prefix:?}: oai_dc, datacite or ep3");
            };
            let name = name.unwrap_or_else(|| match &set {
                Some(set) => format!("{url} {set} {}", prefix.as_str()),
                None => format!("{url} {}", prefix.as_str()),
            });
            vec![HarvestSource::new(&name, &url, set, prefix)?]
        }
        None => {
            let configured = &repo.config.harvest.sources;
            if configured.is_empty() {
                bail!("give the source's OAI-PMH base URL, or configure [[harvest.sources]] in arkiv.toml");
            }
            let chosen: Vec<_> = configured.iter().filter(|s| name.as_ref().is_none_or(|n| &s.name == n)).collect();
            if chosen.is_empty() {
                bail!("no [[harvest.sources]] is named {:?}", name.unwrap_or_default());
            }
            chosen.into_iter().map(HarvestSource::scheduled).collect::<Result<Vec<_>>>()?
        }
    };
    let mut status = ExitCode::SUCCESS;
    for source in &sources {
        eprintln!("harvesting {} from {}", source.name, source.url);
        let report = run_harvest(&repo, source, &HarvestOptions { full }, &mut |r| {
            if !is_terminal() || r.pages % 10 == 0 {
                eprintln!("page {}: {}", r.pages, counts(r));
            }
        })
        .await?;
        println!("{}: {}", source.name, counts(&report));
        if let Some(from) = &report.from {
            println!("  asked for records changed from {from}");
        }
        for (identifier, why) in report.rejected.iter().take(50) {
            println!("  refused {identifier}: {why}");
        }
        if report.rejected.len() > 50 {
            println!("  ... and {} more refused", report.rejected.len() - 50);
        }
        if report.files_not_fetched > 0 {
            println!("  {} files named by URL were not fetched; their metadata is kept", report.files_not_fetched);
        }
        if report.conflicts > 0 {
            println!(
                "  {} records edited here have a newer version at the source: see /admin/harvests",
                report.conflicts
            );
        }
        match &report.error {
            Some(why) => {
                println!("  stopped early: {why}");
                println!("  what earlier pages brought is kept; the next run asks again from the same point");
                status = ExitCode::from(3);
            }
            None if !report.rejected.is_empty() && status == ExitCode::SUCCESS => status = ExitCode::from(2),
            None => {}
        }
    }
    Ok(status)
}

fn counts(r: &HarvestReport) -> String {
    format!(
        "{} created, {} updated, {} unchanged, {} withdrawn, {} conflicts, {} refused",
        r.created,
        r.updated,
        r.unchanged,
        r.withdrawn,
        r.conflicts,
        r.rejected.len()
    )
}
