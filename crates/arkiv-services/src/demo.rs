//! The demo repository: the seed record (the policy paper Arkiv was started
//! from, with its PDF) and a few thousand generated records with small PDFs,
//! made once in a directory and reused on later runs.

use crate::config::{Config, CONFIG_FILE};
use crate::import::{import_eprints_xml, ImportOptions};
use crate::populate::add_generated;
use crate::repository::Repository;
use anyhow::{bail, Result};
use std::path::Path;

/// The seed record as EPrints XML, and the PDF it references.
pub const SEED_XML: &str = include_str!("../../../data/seed/seed.xml");
pub const SEED_PDF: &[u8] = include_bytes!("../../../data/seed/files/commentary_137.pdf");
pub const SEED_PDF_PATH: &str = "files/commentary_137.pdf";

/// Opens the demo repository in `dir`, creating and filling it first if it
/// does not exist. `progress` hears how many generated records are written.
pub async fn open_or_create(
    dir: &Path,
    base_url: &str,
    count: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<Repository> {
    if dir.join(CONFIG_FILE).exists() {
        return Repository::open(dir).await;
    }
    let mut config = Config::default();
    config.repository.name = "Arkiv demo repository".into();
    config.repository.description =
        "Policy papers, working papers and reports on Central and Eastern Europe and Central Asia: \
         the seed record and generated examples."
            .into();
    config.repository.base_url = base_url.trim_end_matches('/').to_string();
    let repo = Repository::init(dir, config).await?;
    // The generated records' subject tree comes first so the seed's subjects
    // (drawn from the same tree) have their names.
    add_generated(&repo, 0, 1, false, &mut |_| {}).await?;
    let seed_dir = dir.join("seed");
    std::fs::create_dir_all(seed_dir.join("files"))?;
    std::fs::write(seed_dir.join("seed.xml"), SEED_XML)?;
    std::fs::write(seed_dir.join(SEED_PDF_PATH), SEED_PDF)?;
    let report =
        import_eprints_xml(&repo, &[seed_dir.join("seed.xml")], &ImportOptions::for_repository(&repo), &mut |_| {})
            .await?;
    if report.imported != 1 {
        bail!("the seed record did not import: {:?}", report.rejected);
    }
    add_generated(&repo, count, 1, true, progress).await?;
    Ok(repo)
}
