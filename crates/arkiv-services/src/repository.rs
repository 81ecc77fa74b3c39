//! A repository on disk: its directory, configuration, database and file
//! store, opened together. Every use case (import, export, pages, harvests)
//! starts from a [`Repository`].

use crate::config::{Config, CONFIG_FILE};
use anyhow::{bail, Context, Result};
use arkiv_model::citation::{citation, Citation};
use arkiv_model::{ItemTypes, Record, SubjectTree};
use arkiv_storage::{open_store, FileStore, RecordStore};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub struct Repository {
    pub dir: PathBuf,
    pub config: Config,
    pub store: Arc<dyn RecordStore>,
    pub files: FileStore,
    pub types: ItemTypes,
    subjects: RwLock<Arc<SubjectTree>>,
}

impl Repository {
    /// Creates a repository in `dir` (made if missing): writes the
    /// configuration, creates the database and the file store. Refuses a
    /// directory that already holds a repository.
    pub async fn init(dir: &Path, config: Config) -> Result<Repository> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(CONFIG_FILE);
        if path.exists() {
            bail!("{} already holds a repository ({} exists)", dir.display(), path.display());
        }
        std::fs::write(&path, config.documented_toml()).with_context(|| format!("cannot write {}", path.display()))?;
        Repository::open(dir).await
    }

    pub async fn open(dir: &Path) -> Result<Repository> {
        let config = Config::load(dir)?;
        let url = config.database_url(dir);
        let store = open_store(&url).await.with_context(|| format!("cannot open the database {url}"))?;
        let files = FileStore::local(&config.files_dir(dir))?;
        let types = ItemTypes::with_extra(&config.types);
        let subjects = SubjectTree::new(store.subjects().await?);
        Ok(Repository {
            dir: dir.to_path_buf(),
            config,
            store,
            files,
            types,
            subjects: RwLock::new(Arc::new(subjects)),
        })
    }

    /// The subject tree as last loaded.
    pub fn subjects(&self) -> Arc<SubjectTree> {
        self.subjects.read().expect("subject lock").clone()
    }

    /// Adds subjects to the store and reloads the tree.
    pub async fn put_subjects(&self, subjects: &[arkiv_model::Subject]) -> Result<()> {
        self.store.put_subjects(subjects).await?;
        let tree = SubjectTree::new(self.store.subjects().await?);
        *self.subjects.write().expect("subject lock") = Arc::new(tree);
        Ok(())
    }

    pub fn citation(&self, record: &Record) -> Citation {
        citation(record, &self.types)
    }

    /// The record's public address: `{base_url}/{id}/`.
    pub fn record_url(&self, record: &Record) -> String {
        format!("{}/{}/", self.config.repository.base_url.trim_end_matches('/'), record.id.unwrap_or(0))
    }
}
