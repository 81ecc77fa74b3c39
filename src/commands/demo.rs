//! `demo`: a repository of generated records (made once), served.

use super::progress_bar;
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn demo(dir: &Path, listen: &str, count: u64) -> Result<ExitCode> {
    let bar = progress_bar(count as i64, "generating demo records {pos}/{len}");
    if !dir.join("arkiv.toml").exists() {
        eprintln!("Creating a demo repository in {} ...", dir.display());
    }
    let repo =
        arkiv_services::demo::open_or_create(dir, &format!("http://{listen}"), count, &mut |n| bar.set_position(n))
            .await?;
    bar.finish_and_clear();
    super::serve::run(Arc::new(repo), listen).await
}
