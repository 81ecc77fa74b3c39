//! Filling a repository with generated records (for the demo and for
//! benchmarks): the generator's records, their PDFs stored first, then the
//! records written in batches.

use crate::generate::{subject_tree, Generator, GeneratorOptions};
use crate::repository::Repository;
use anyhow::{Context, Result};
use arkiv_storage::RecordWrite;
use bytes::Bytes;

/// Generates `count` records into the repository; returns their ids'
/// range. `progress` hears the number written after each batch.
pub async fn add_generated(
    repo: &Repository,
    count: u64,
    seed: u64,
    with_pdfs: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let tree = subject_tree();
    for scheme in arkiv_model::Scheme::ALL {
        repo.put_subjects(scheme, tree.nodes(scheme)).await?;
    }
    let generator = Generator::new(GeneratorOptions { seed, with_pdfs, first_id: None });
    let batch_size = repo.config.import.batch_size.max(1);
    let mut batch = Vec::with_capacity(batch_size);
    let mut written = 0u64;
    for generated in generator.take(count as usize) {
        let mut record = generated.record;
        for (pos, filename, bytes) in generated.files {
            let size = bytes.len() as u64;
            let sha = repo.files.put(Bytes::from(bytes)).await.context("storing a generated file")?;
            if let Some(file) = record
                .documents
                .iter_mut()
                .filter(|d| d.pos == pos)
                .flat_map(|d| d.files.iter_mut())
                .find(|f| f.filename == filename)
            {
                file.sha256 = Some(sha);
                file.size = size;
            }
        }
        batch.push(RecordWrite::new(record, "generate"));
        if batch.len() == batch_size {
            written += repo.store.put_records(std::mem::take(&mut batch)).await?.len() as u64;
            progress(written);
        }
    }
    written += repo.store.put_records(batch).await?.len() as u64;
    progress(written);
    Ok(written)
}
