//! A repository on disk: its directory, configuration, database and file
//! store, opened together. Every use case (import, export, pages, harvests)
//! starts from a [`Repository`].

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, FileLocation, CONFIG_FILE};
use crate::mail::Mailer;
use crate::settings::{LiveSettings, Overrides, SETTINGS_KEY};
use anyhow::{bail, Context, Result};
use arkiv_formats::export::ExportContext;
use arkiv_model::citation::{citation, Citation};
use arkiv_model::{ItemTypes, PartialDate, Record, Scheme, SubjectTree, Timestamp};
use arkiv_storage::{open_stores, AccountStore, FileStore, RecordStore};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub struct Repository {
    pub dir: PathBuf,
    /// `arkiv.toml` as read on open. The settings an admin may change live
    /// (name, description, contact, registration, session length) are read
    /// through [`Repository::settings`] instead.
    pub config: Config,
    pub store: Arc<dyn RecordStore>,
    /// Users and sessions, in the same database as the records.
    pub accounts: Arc<dyn AccountStore>,
    /// How the outbox's messages go out (`[mail]`).
    pub mailer: Arc<Mailer>,
    pub files: FileStore,
    /// The item types: the built-in ones, those taken by imports (kept in
    /// the database, so every node has them), and `arkiv.toml`'s `[types]`
    /// (which label over both). See [`Repository::types`].
    types: RwLock<Arc<ItemTypes>>,
    subjects: RwLock<Arc<SubjectTree>>,
    settings: RwLock<Arc<LiveSettings>>,
    /// What [`Repository::follow_shared`] last saw in `meta`: the live
    /// settings, the imported types, the subject tree's version.
    shared_seen: std::sync::Mutex<[Option<String>; 3]>,
    /// OAI-PMH list pages made ahead for harvests in progress (public for
    /// what it tells: how many were used, whether one is ready).
    pub oai_ahead: crate::oai::Ahead,
    /// What "now" and "today" are (see [`crate::clock`]).
    clock: Arc<dyn Clock>,
    /// Views and downloads on their way to the statistics (see
    /// [`crate::usage`]).
    pub usage: crate::usage::UsageRecorder,
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
        let mailer = Arc::new(Mailer::from_config(&config)?);
        let url = config.database_url(dir);
        let (store, accounts) = open_stores(&url).await.with_context(|| format!("cannot open the database {url}"))?;
        let files = open_files(&config, dir)?.with_grace_secs(config.files.gc_grace_secs());
        let types = item_types(&config, store.meta(TYPES_KEY).await?.as_deref());
        let subjects = store.subject_tree().await?;
        let settings =
            LiveSettings::overlay(&config, LiveSettings::parse_stored(store.meta(SETTINGS_KEY).await?.as_deref()));
        let usage = crate::usage::UsageRecorder::new(store.clone(), &config.statistics);
        Ok(Repository {
            dir: dir.to_path_buf(),
            config,
            usage,
            store,
            accounts,
            mailer,
            files,
            types: RwLock::new(Arc::new(types)),
            subjects: RwLock::new(Arc::new(subjects)),
            settings: RwLock::new(Arc::new(settings)),
            shared_seen: Default::default(),
            oai_ahead: Default::default(),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same repository on another clock (a test's [`crate::clock::SetClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Repository {
        self.clock = clock;
        self
    }

    /// The repository's time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The repository's date today (UTC): it decides which embargoes are over.
    pub fn today(&self) -> PartialDate {
        self.clock.today()
    }

    /// The settings in effect now: `arkiv.toml` overlaid by what an admin
    /// changed (see [`crate::settings`]). A snapshot: hold it for one
    /// request, ask again for the next.
    pub fn settings(&self) -> Arc<LiveSettings> {
        self.settings.read().expect("settings lock").clone()
    }

    /// The item types in effect now. A snapshot, like [`Repository::settings`].
    pub fn types(&self) -> Arc<ItemTypes> {
        self.types.read().expect("types lock").clone()
    }

    /// Takes item types an import met and did not know, labelled as given,
    /// into the database and into effect. Types known already are left as
    /// they are. Returns those that were new.
    pub async fn add_types(&self, new: &[(String, String)]) -> Result<Vec<String>> {
        let known = self.types();
        let unknown: Vec<(String, String)> = new.iter().filter(|(id, _)| !known.contains(id)).cloned().collect();
        // One atomic merge in the store: another node adding its types at
        // the same moment keeps them.
        let added =
            if unknown.is_empty() { Vec::new() } else { self.store.add_meta_entries(TYPES_KEY, &unknown).await? };
        self.reload_types().await?;
        Ok(added)
    }

    /// Reads the types imports took again (another node may have added
    /// some).
    pub async fn reload_types(&self) -> Result<Arc<ItemTypes>> {
        let types = Arc::new(item_types(&self.config, self.store.meta(TYPES_KEY).await?.as_deref()));
        *self.types.write().expect("types lock") = types.clone();
        Ok(types)
    }

    /// Reads the stored overrides again (another node may have changed
    /// them) and lays them over the file's settings.
    pub async fn reload_settings(&self) -> Result<Arc<LiveSettings>> {
        self.reload_types().await?;
        let stored = self.store.meta(SETTINGS_KEY).await?;
        let live = Arc::new(LiveSettings::overlay(&self.config, LiveSettings::parse_stored(stored.as_deref())));
        *self.settings.write().expect("settings lock") = live.clone();
        Ok(live)
    }

    /// Stores `overrides` as the whole set of live changes (a field left
    /// `None` is the file's again) and puts them in effect.
    pub async fn put_settings(&self, overrides: &Overrides) -> Result<Arc<LiveSettings>> {
        self.store.set_meta(SETTINGS_KEY, &overrides.to_json()).await?;
        self.reload_settings().await
    }

    /// The subject tree, with the divisions, as last loaded.
    pub fn subjects(&self) -> Arc<SubjectTree> {
        self.subjects.read().expect("subject lock").clone()
    }

    /// Adds, renames or moves subjects (or, with [`Scheme::Divisions`],
    /// divisions) and reloads the tree. Returns how many records the store
    /// rewrote because a move changed their OAI-PMH sets (see
    /// [`arkiv_storage::Browse::put_subjects`]).
    pub async fn put_subjects(&self, scheme: Scheme, subjects: &[arkiv_model::Subject]) -> Result<u64> {
        let rewritten = self.store.put_subjects(scheme, subjects).await?;
        let tree = self.store.subject_tree().await?;
        *self.subjects.write().expect("subject lock") = Arc::new(tree);
        Ok(rewritten)
    }

    /// Takes in what another node changed of the state every node keeps a
    /// copy of (the live settings, the item types imports took, the
    /// subject tree), if it changed since the last call: three reads of
    /// `meta`, then a reload of what differs. Run every
    /// [`crate::jobs::FOLLOW_EVERY`] beside the server; this node's own
    /// changes are in effect at once anyway. Whether anything was reloaded.
    pub async fn follow_shared(&self) -> Result<bool> {
        let now = [
            self.store.meta(SETTINGS_KEY).await?,
            self.store.meta(TYPES_KEY).await?,
            self.store.meta(arkiv_storage::SUBJECTS_VERSION).await?,
        ];
        let before = std::mem::replace(&mut *self.shared_seen.lock().expect("shared lock"), now.clone());
        if before == now {
            return Ok(false);
        }
        if before[0] != now[0] || before[1] != now[1] {
            self.reload_settings().await?;
        }
        if before[2] != now[2] {
            let tree = self.store.subject_tree().await?;
            *self.subjects.write().expect("subject lock") = Arc::new(tree);
        }
        Ok(true)
    }

    pub fn citation(&self, record: &Record) -> Citation {
        citation(record, &self.types())
    }

    /// The public base URL without a trailing slash (`https://repo.example.org`):
    /// every address the repository prints is this followed by a path.
    pub fn base_url(&self) -> &str {
        self.config.repository.base_url.trim_end_matches('/')
    }

    /// What export formats and OAI-PMH need to know of this repository,
    /// as of now (today's date decides which embargoes are over).
    pub fn export_context(&self) -> ExportContext {
        let base_url = self.base_url().to_string();
        ExportContext {
            oai_host: oai_host(&base_url),
            base_url,
            repository_name: self.settings().name.clone(),
            subjects: self.subjects(),
            item_types: (*self.types()).clone(),
            today: self.today(),
        }
    }

    /// The record's public address: `{base_url}/{id}/`.
    pub fn record_url(&self, record: &Record) -> String {
        format!("{}/{}/", self.base_url(), record.id.unwrap_or(0))
    }
}

/// The file store `storage.files` names: a directory, made if missing, or
/// a bucket on S3 (not asked anything yet: a store that is down fails the
/// requests that need it, not the opening).
pub fn open_files(config: &Config, dir: &Path) -> Result<FileStore> {
    let location = config.file_location(dir).map_err(|e| anyhow::anyhow!("{CONFIG_FILE}: {e}"))?;
    Ok(match location {
        FileLocation::Local(path) => {
            FileStore::local(&path).with_context(|| format!("cannot open the file store {}", path.display()))?
        }
        FileLocation::S3(options) => FileStore::s3(&options)
            .with_context(|| format!("cannot open the file store {}: {CONFIG_FILE} names it", config.storage.files))?,
    })
}

/// The host name of a base URL, as EPrints puts it in OAI identifiers
/// (`oai:HOST:ID`): no scheme, port or path.
pub fn oai_host(base_url: &str) -> String {
    let rest = base_url.split_once("://").map(|(_, r)| r).unwrap_or(base_url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host.starts_with('[') { host } else { host.split(':').next().unwrap_or(host) };
    if host.is_empty() {
        "localhost".into()
    } else {
        host.to_ascii_lowercase()
    }
}

/// The `meta` key of the item types imports took: a JSON object, id → label.
pub const TYPES_KEY: &str = "item_types";

fn stored_types(json: Option<&str>) -> std::collections::BTreeMap<String, String> {
    json.and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

/// The built-in types, those stored by imports, then `arkiv.toml`'s.
fn item_types(config: &Config, stored: Option<&str>) -> ItemTypes {
    let stored = stored_types(stored);
    ItemTypes::with_extra(stored.iter().chain(config.types.iter()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn oai_host_is_the_bare_host() {
        assert_eq!(super::oai_host("https://Repo.Example.org:8443/base/"), "repo.example.org");
        assert_eq!(super::oai_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(super::oai_host(""), "localhost");
    }
}
