//! The repository's configuration: `arkiv.toml` in the repository directory.
//! Every setting has a default, and `arkiv init` writes them all out with a
//! comment each, so the file documents itself.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "arkiv.toml";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub repository: RepositorySettings,
    pub storage: StorageSettings,
    pub s3: S3Settings,
    pub server: ServerSettings,
    pub import: ImportSettings,
    pub accounts: AccountSettings,
    pub mail: MailSettings,
    pub deposit: DepositSettings,
    pub files: FileSettings,
    pub statistics: StatisticsSettings,
    pub api: ApiSettings,
    pub sword: SwordSettings,
    pub doi: DoiSettings,
    pub harvest: HarvestSettings,
    /// Item types beyond the defaults: key = label.
    pub types: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepositorySettings {
    pub name: String,
    pub description: String,
    /// The public address; used in links, exports and OAI-PMH identifiers.
    pub base_url: String,
    pub contact_email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// `sqlite://FILE` (relative to the repository directory) or
    /// `postgres://USER:PASSWORD@HOST/DB`.
    pub database: String,
    /// Directory for file bytes, relative to the repository directory; or
    /// `s3://BUCKET/PREFIX` for an S3-compatible store (see [`S3Settings`]).
    pub files: String,
}

/// How to reach the S3-compatible store `storage.files = "s3://..."` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    /// `http(s)://HOST:PORT` of an S3-compatible server (MinIO,
    /// SeaweedFS); empty: AWS itself.
    pub endpoint: String,
    pub region: String,
    /// Whether an `http://` endpoint is accepted (a server on the same
    /// host or network).
    pub allow_http: bool,
    /// Empty: the usual `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`
    /// from the environment.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Whether an anonymous download of an open-access file is answered
    /// with a redirect to a short-lived presigned URL of the bytes on S3,
    /// instead of the server passing them on.
    pub presign_downloads: bool,
    /// Seconds a presigned URL stays valid.
    pub presign_seconds: u64,
    /// Seconds to connect to the store, and for one request to it.
    pub connect_timeout_secs: u64,
    pub timeout_secs: u64,
    /// Attempts after a first that failed in a way that may pass.
    pub retries: usize,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: String::new(),
            region: "us-east-1".into(),
            allow_http: false,
            access_key_id: String::new(),
            secret_access_key: String::new(),
            presign_downloads: false,
            presign_seconds: 300,
            connect_timeout_secs: 3,
            timeout_secs: 15,
            retries: 2,
        }
    }
}

/// Where the file bytes are: `storage.files` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLocation {
    Local(PathBuf),
    S3(arkiv_storage::files::S3Options),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    /// Directory of templates that override the built-in ones, relative to
    /// the repository directory. Missing templates fall back to the built-in.
    pub templates: String,
    /// Connections open at once, at most. When full, the connection idle
    /// longest is closed for a new one; with none idle, the new one gets a
    /// 503. Also bounded by the open-file limit, less descriptors kept for
    /// the database, the search index and the files.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers.
    pub header_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request.
    pub idle_timeout_secs: u64,
    /// Seconds a request body may go without sending anything.
    pub body_timeout_secs: u64,
    /// Reverse proxies (addresses or networks such as `10.0.0.0/8`) whose
    /// `X-Forwarded-For` is believed. A request from one of them counts as
    /// coming from the address the proxy reports; from anywhere else, the
    /// header is ignored, so that no visitor can pose as another address.
    /// Login throttling and mail limits count by this address.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Seconds between two runs of the background jobs (`jobs.rs`); a
    /// node holds their lease for twice as long, so a node that dies
    /// hands them on within two periods.
    pub jobs_every_secs: u64,
}

/// An address or network whose `X-Forwarded-For` header is believed.
/// Written in the configuration as a string (`"127.0.0.1"`,
/// `"10.0.0.0/8"`, `"::1"`); anything else is refused when the
/// configuration is read, with the entry named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(pub ipnet::IpNet);

impl TrustedProxy {
    pub fn contains(&self, address: &std::net::IpAddr) -> bool {
        self.0.contains(address)
    }
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(TrustedProxy)
            .map_err(|_| format!("{s:?} is not an IP address or a network such as 10.0.0.0/8"))
    }
}

impl std::fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            n if n.prefix_len() == n.max_prefix_len() => write!(f, "{}", n.addr()),
            n => write!(f, "{n}"),
        }
    }
}

impl Serialize for TrustedProxy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TrustedProxy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Who may open an account, and how long a login lasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSettings {
    /// Whether visitors may register themselves (as depositors).
    pub registration: bool,
    /// If not empty, only addresses at these domains (or their subdomains)
    /// may register.
    pub allowed_domains: Vec<String>,
    /// A session ends after this many hours without use.
    pub session_hours: u32,
}

impl AccountSettings {
    pub fn session_seconds(&self) -> i64 {
        i64::from(self.session_hours.max(1)) * 3600
    }
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings { registration: true, allowed_domains: Vec::new(), session_hours: 24 * 14 }
    }
}

/// How the repository's messages (reset links, copy requests) go out.
/// Every message is kept in the outbox whatever this says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// The SMTP server, as `smtp://HOST:PORT`, `smtp://USER:PASSWORD@HOST:587?tls=required`
    /// (STARTTLS), `smtps://USER:PASSWORD@HOST:465` (TLS from the start).
    /// Empty: no SMTP, messages go to the outbox and the log only.
    pub smtp_url: String,
    /// The sender, e.g. `Arkiv <repository@example.org>`. Empty: the
    /// repository's name and contact address.
    pub from: String,
}

/// Limits on what depositors keep in their drafts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DepositSettings {
    /// Bytes of draft files one user may hold, in MiB (0: no limit). Files
    /// removed from a draft count until they are purged.
    pub draft_quota_mb: u64,
}

impl Default for DepositSettings {
    fn default() -> Self {
        DepositSettings { draft_quota_mb: 1024 }
    }
}

impl DepositSettings {
    /// The quota in bytes, or `None` for no quota.
    pub fn draft_quota_bytes(&self) -> Option<u64> {
        (self.draft_quota_mb > 0).then(|| self.draft_quota_mb.saturating_mul(1024 * 1024))
    }
}

/// What the file store keeps and for how long (see `file_gc`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSettings {
    /// Days after which a file removed from a draft that never went live
    /// is purged.
    pub purge_after_days: u32,
    /// Hours an object no record names is kept before it is collected (an
    /// upload whose record is being written is such an object for a moment).
    pub gc_grace_hours: u32,
}

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings { purge_after_days: 7, gc_grace_hours: 24 }
    }
}

/// Usage statistics (see `usage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatisticsSettings {
    /// Whether views and downloads are counted at all.
    pub enabled: bool,
    /// Days a counted event (a keyed hash of its visitor, the item, the
    /// time) is kept after the roll-up has counted it.
    pub keep_events_days: u32,
    /// Events waiting to be written; past it an event is dropped and
    /// counted as dropped, so a page never waits for statistics.
    pub queue: usize,
}

impl Default for StatisticsSettings {
    fn default() -> Self {
        StatisticsSettings { enabled: true, keep_events_days: 7, queue: 65_536 }
    }
}

/// The REST API (see `accounts::api_tokens`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    /// Requests one API token may make in a minute, counted in the
    /// database (so shared by every node); past it, 429 with Retry-After.
    pub requests_per_minute: i64,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings { requests_per_minute: 600 }
    }
}

/// SWORD v2 deposit (see `sword`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwordSettings {
    /// The item type of a deposit that names none a repository knows:
    /// SWORD clients send Dublin Core, which has no item types.
    pub default_item_type: String,
    /// Most files one SimpleZip package may hold.
    pub max_package_files: usize,
    /// Most bytes one package may unpack to, in MiB (each file is also
    /// bounded by `[import] max_file_bytes`).
    pub max_unpacked_mb: u64,
    /// Most bytes a package may unpack to per byte it holds: past it the
    /// package is refused as a zip bomb, whatever its headers claimed.
    pub max_expansion: u64,
    /// Accounts (address or username) that may deposit on behalf of
    /// others (`On-Behalf-Of`) besides editors and admins: a publisher's
    /// router, a library's mediated deposit service.
    pub mediators: Vec<String>,
}

/// OAI-PMH harvesting of other repositories (see `harvest`): how the
/// harvester talks to sources, and the sources a server harvests on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HarvestSettings {
    /// Time for one request, connection to last byte.
    pub timeout_seconds: u64,
    /// Attempts after the first for a request that failed in a way that
    /// may pass (a timeout, a dropped connection, a 5xx, a 503 asking to
    /// come back later).
    pub retries: u32,
    /// Longest `Retry-After` obeyed; a source asking for more stops the run.
    pub max_retry_after_seconds: u64,
    /// Largest answer read, in MiB.
    pub max_response_mb: u64,
    /// Sources harvested by a running server, each when its interval has
    /// passed since its last run (`[[harvest.sources]]`).
    pub sources: Vec<ScheduledHarvest>,
}

/// One `[[harvest.sources]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledHarvest {
    /// What the harvest is called (in `/admin`, on the command line); its
    /// progress is kept under this name.
    pub name: String,
    /// The source's OAI-PMH base URL.
    pub url: String,
    /// A set to harvest instead of the whole repository.
    #[serde(default)]
    pub set: Option<String>,
    /// `oai_dc` (the default), `datacite` or `ep3`.
    #[serde(default = "default_harvest_prefix")]
    pub prefix: String,
    /// Hours between runs.
    #[serde(default = "default_harvest_every")]
    pub every_hours: u64,
}

fn default_harvest_prefix() -> String {
    "oai_dc".into()
}

fn default_harvest_every() -> u64 {
    24
}

impl Default for HarvestSettings {
    fn default() -> Self {
        HarvestSettings {
            timeout_seconds: 60,
            retries: 5,
            max_retry_after_seconds: 3600,
            max_response_mb: 64,
            sources: Vec::new(),
        }
    }
}

impl Default for SwordSettings {
    fn default() -> Self {
        SwordSettings {
            default_item_type: "article".into(),
            max_package_files: 1000,
            max_unpacked_mb: 2048,
            max_expansion: 200,
            mediators: Vec::new(),
        }
    }
}

/// Looking up a DOI for the deposit form (see `doi_lookup`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DoiSettings {
    /// Crossref's REST API, without a trailing slash (`/works/{doi}`).
    pub crossref_url: String,
    /// DataCite's REST API, asked when Crossref does not know a DOI
    /// (`/dois/{doi}`).
    pub datacite_url: String,
    /// Seconds one service has to answer, connection to last byte.
    pub timeout_seconds: u64,
    /// An address for Crossref's "polite" pool, sent with each lookup;
    /// empty: none.
    pub mailto: String,
}

impl Default for DoiSettings {
    fn default() -> Self {
        DoiSettings {
            crossref_url: "https://api.crossref.org".into(),
            datacite_url: "https://api.datacite.org".into(),
            timeout_seconds: 10,
            mailto: String::new(),
        }
    }
}

impl FileSettings {
    pub fn purge_after_secs(&self) -> i64 {
        i64::from(self.purge_after_days) * 86_400
    }

    pub fn gc_grace_secs(&self) -> i64 {
        i64::from(self.gc_grace_hours) * 3600
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// Records written per transaction (an import's first batches are
    /// smaller, doubling up to this).
    pub batch_size: usize,
    /// Records after which an import into a repository that has never
    /// held a record becomes a bulk load (indexes built once at the end).
    pub bulk_load_after: u64,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
}

impl Default for RepositorySettings {
    fn default() -> Self {
        RepositorySettings {
            name: "Arkiv".into(),
            description: "An open-access repository of papers, reports and articles.".into(),
            base_url: "http://127.0.0.1:8080".into(),
            contact_email: "repository@example.org".into(),
        }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings { database: "sqlite://arkiv.db".into(), files: "files".into() }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:8080".into(),
            templates: "templates".into(),
            max_connections: 4096,
            header_timeout_secs: 15,
            idle_timeout_secs: 30,
            body_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            jobs_every_secs: 3600,
        }
    }
}

impl Default for ImportSettings {
    fn default() -> Self {
        ImportSettings { batch_size: 10_000, bulk_load_after: 0, max_file_bytes: 512 * 1024 * 1024 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid configuration: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
}

impl Config {
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path, source })
    }

    /// The database URL with a relative SQLite path made absolute against
    /// the repository directory.
    pub fn database_url(&self, dir: &Path) -> String {
        let db = &self.storage.database;
        match db.strip_prefix("sqlite://").or_else(|| db.strip_prefix("sqlite:")) {
            Some(path) if !Path::new(path).is_absolute() => format!("sqlite://{}", dir.join(path).display()),
            _ => db.clone(),
        }
    }

    /// Where `storage.files` puts the bytes: a directory (relative to the
    /// repository's), or a bucket and prefix on S3 with `[s3]`'s settings.
    /// Anything else with a scheme is refused, saying what is accepted.
    pub fn file_location(&self, dir: &Path) -> Result<FileLocation, String> {
        let files = self.storage.files.trim();
        if files.starts_with("s3://") {
            let (bucket, prefix) = arkiv_storage::files::parse_s3_url(files)?;
            let s3 = &self.s3;
            let endpoint = s3.endpoint.trim();
            if !endpoint.is_empty() {
                let scheme_ok = endpoint.starts_with("https://") || endpoint.starts_with("http://");
                if !scheme_ok {
                    return Err(format!("s3.endpoint = {endpoint:?}: an http(s)://HOST:PORT address"));
                }
                if endpoint.starts_with("http://") && !s3.allow_http {
                    return Err(format!("s3.endpoint = {endpoint:?} is plain http: set s3.allow_http = true"));
                }
            }
            let given = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
            let secs = |n: u64| std::time::Duration::from_secs(n.max(1));
            return Ok(FileLocation::S3(arkiv_storage::files::S3Options {
                bucket,
                prefix,
                endpoint: given(endpoint),
                region: s3.region.clone(),
                allow_http: s3.allow_http,
                access_key_id: given(&s3.access_key_id),
                secret_access_key: given(&s3.secret_access_key),
                connect_timeout: secs(s3.connect_timeout_secs),
                request_timeout: secs(s3.timeout_secs),
                retries: s3.retries,
            }));
        }
        if files.contains("://") {
            return Err(format!("storage.files = {files:?}: a directory, or s3://BUCKET/PREFIX"));
        }
        Ok(FileLocation::Local(dir.join(files)))
    }

    /// The host part of the base URL, as OAI-PMH identifiers use it.
    pub fn host(&self) -> String {
        let url = &self.repository.base_url;
        let rest = url.split("://").nth(1).unwrap_or(url);
        rest.split(['/', ':']).next().unwrap_or("localhost").to_string()
    }

    /// The configuration file `arkiv init` writes: every setting, its
    /// default, and what it means.
    pub fn documented_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut types = String::new();
        for (k, v) in &self.types {
            types.push_str(&format!("{} = {}\n", q(k), q(v)));
        }
        format!(
            r#"# Arkiv repository configuration. Every setting is listed with its default.

[repository]
# Shown in the page header, feeds and OAI-PMH Identify.
name = {name}
# One or two sentences on the home page.
description = {description}
# The public address of the site, without a trailing slash. Links, exports
# and OAI-PMH identifiers (oai:HOST:ID) are built from it.
base_url = {base_url}
# Where readers and harvesters write to.
contact_email = {contact}

[storage]
# sqlite://FILE (relative to this directory) is the embedded default;
# postgres://USER:PASSWORD@HOST:PORT/DATABASE for PostgreSQL.
database = {database}
# Where file bytes are stored, by SHA-256: a directory (relative to this
# one), or s3://BUCKET/PREFIX for an S3-compatible store, set up in [s3].
files = {files}

[s3]
# Used when storage.files is s3://BUCKET/PREFIX (cargo feature s3, in the
# default build). The server: empty for AWS itself, or http(s)://HOST:PORT
# of an S3-compatible one (MinIO, SeaweedFS), reached path-style.
endpoint = {s3_endpoint}
region = {s3_region}
# Whether a plain http:// endpoint is accepted.
allow_http = {s3_allow_http}
# Credentials; empty: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the
# environment (or the rest of AWS's usual chain).
access_key_id = {s3_key}
secret_access_key = {s3_secret}
# Answer a public download of an open-access file with a redirect to a URL
# of the bytes on S3, signed for presign_seconds, instead of passing them
# through the server. The repository still decides who may read, and still
# counts the download. Restricted files are always passed through.
presign_downloads = {s3_presign}
presign_seconds = {s3_presign_secs}
# Seconds to connect and for one request (a part of an upload, a range of
# a download); attempts after a first that failed in a way that may pass.
# While the store is down or slow, what needs files answers 503 within
# about these, and the rest of the site goes on.
connect_timeout_secs = {s3_connect}
timeout_secs = {s3_timeout}
retries = {s3_retries}

[server]
# Address and port `arkiv serve` listens on.
listen = {listen}
# Templates here override the built-in ones, file by file, without a rebuild.
templates = {templates}
# Connections open at once. When full, the one idle longest is closed for a
# new one; with none idle, a new one is answered 503. Also bounded by the
# open-file limit (less 256 descriptors kept for the database and index).
max_connections = {max_connections}
# Seconds a client has to send a request's headers, a kept-alive connection
# may wait for its next request, and a request body may go silent.
header_timeout_secs = {header_timeout}
idle_timeout_secs = {idle_timeout}
body_timeout_secs = {body_timeout}
# Reverse proxies (addresses or networks, e.g. ["127.0.0.1", "10.0.0.0/8"])
# whose X-Forwarded-For header is believed. Behind a proxy, list it here:
# otherwise every visitor seems to come from the proxy's address, and login
# throttling and mail limits count them all as one. From any other peer the
# header is ignored.
trusted_proxies = {trusted_proxies}
# Seconds between runs of the background jobs (sessions, mail, embargoes,
# garbage collection). With several nodes over one database one node runs
# them, holding a lease for twice this; if it dies, another takes over.
jobs_every_secs = {jobs_every}

[import]
# Records written per transaction during an import, at most (the first
# batches are smaller). Larger batches import faster into a large
# repository; a web edit may wait for the batch being written.
batch_size = {batch}
# An import into a repository that has never held a record (a first
# migration) becomes a bulk load after this many records (0: from the
# start): the indexes of records and the browse lists are built once when
# it ends, instead of entry by entry (on SQLite browse pages leave its
# records out until then; on PostgreSQL rows go in with COPY).
bulk_load_after = {bulk_load_after}
# Largest file accepted from an import or an upload, in bytes.
max_file_bytes = {max_file}

[accounts]
# Whether visitors may register themselves (as depositors); staff accounts
# are made with `arkiv user add`.
registration = {registration}
# If not empty, only addresses at these domains (and their subdomains) may
# register, e.g. ["example.org", "example.ac.uk"].
allowed_domains = {domains}
# A login ends after this many hours without use.
session_hours = {session_hours}

[mail]
# Every message the repository sends (password resets, requests for copies)
# is kept in the outbox on the admin page. With an SMTP server here it also
# goes out by mail (unsent ones are retried hourly); empty: the log and the
# admin page only. smtp://HOST:25 (plain), smtp://USER:PASSWORD@HOST:587?tls=required
# (STARTTLS), smtps://USER:PASSWORD@HOST:465 (TLS); percent-encode special
# characters in the user and password.
smtp_url = {smtp_url}
# The sender, e.g. "Arkiv <repository@example.org>"; empty: the repository's
# name and contact_email.
from = {from}

[deposit]
# Bytes of draft files one user may hold, in MiB (0: no limit): the files
# of their items that never went live, counting files removed from them
# until they are purged. An upload past it is refused.
draft_quota_mb = {draft_quota_mb}

[files]
# Files of an item that was ever live are kept for good. A file removed
# from an item that never went live is purged after this many days (its
# history then says so).
purge_after_days = {purge_after_days}
# Stored bytes that no item names (an upload whose item was never saved, a
# failed import) are deleted by the daily clean-up once this many hours old.
gc_grace_hours = {gc_grace_hours}

[statistics]
# Count views of abstract pages and downloads as COUNTER Release 5.1 does
# (robots excluded, double clicks once, unique items per session).
enabled = {stats_enabled}
# No address or user agent is stored: a visitor is a keyed hash under a key
# of the day, deleted once the day is counted. The events themselves
# (hash, item, time) are kept this many days after they are counted; the
# per-item daily and monthly counts are kept for good.
keep_events_days = {keep_events_days}
# Events waiting to be written in memory; past this many an event is
# dropped (and counted as dropped on the admin page) rather than slow a page.
queue = {stats_queue}

[api]
# Requests one personal API token may make in a minute (every node of the
# site shares the count); past it the API answers 429 with Retry-After.
requests_per_minute = {api_per_minute}

[sword]
# SWORD v2 deposit (/sword-app/servicedocument). The item type of a deposit
# whose metadata names none this repository knows (Dublin Core has none).
default_item_type = {sword_type}
# Bounds on a SimpleZip package: files in it, MiB it unpacks to, and bytes
# unpacked per byte packed (past it the package is refused as a zip bomb).
max_package_files = {sword_files}
max_unpacked_mb = {sword_unpacked}
max_expansion = {sword_expansion}
# Accounts (address or username) that may deposit on behalf of others
# (On-Behalf-Of) besides editors and admins, e.g. ["router@publisher.example"].
mediators = {sword_mediators}

[doi]
# The deposit form can start from a DOI: it is looked up at Crossref, and
# at DataCite when Crossref does not know it. Their APIs' addresses, and
# the seconds each has to answer.
crossref_url = {doi_crossref}
datacite_url = {doi_datacite}
timeout_seconds = {doi_timeout}
# An address Crossref may write to about this site's lookups (its "polite"
# pool answers such clients first); empty: none is sent.
mailto = {doi_mailto}

[harvest]
# OAI-PMH harvesting of other repositories (arkiv harvest). Seconds one
# request may take; attempts after a first that failed in a way that may
# pass; the longest Retry-After obeyed; the largest answer read, in MiB.
timeout_seconds = {harvest_timeout}
retries = {harvest_retries}
max_retry_after_seconds = {harvest_max_wait}
max_response_mb = {harvest_max_mb}
# Sources a running server harvests on its own, each when every_hours have
# passed since its last run. prefix: oai_dc, datacite or ep3. For example:
# [[harvest.sources]]
# name = "partner"
# url = "https://eprints.partner.example/cgi/oai2"
# set = "7374617475733D707562"
# prefix = "ep3"
# every_hours = 24
{harvest_sources}
# Item types beyond the built-in list (article, book, book_section,
# monograph, conference_item, thesis, report, working_paper, policy_paper,
# dataset, other and EPrints' stock types), as key = "Label". For example:
# oral_history = "Oral History"
[types]
{types}"#,
            name = q(&self.repository.name),
            description = q(&self.repository.description),
            base_url = q(&self.repository.base_url),
            contact = q(&self.repository.contact_email),
            database = q(&self.storage.database),
            files = q(&self.storage.files),
            s3_endpoint = q(&self.s3.endpoint),
            s3_region = q(&self.s3.region),
            s3_allow_http = self.s3.allow_http,
            s3_key = q(&self.s3.access_key_id),
            s3_secret = q(&self.s3.secret_access_key),
            s3_presign = self.s3.presign_downloads,
            s3_presign_secs = self.s3.presign_seconds,
            s3_connect = self.s3.connect_timeout_secs,
            s3_timeout = self.s3.timeout_secs,
            s3_retries = self.s3.retries,
            listen = q(&self.server.listen),
            templates = q(&self.server.templates),
            max_connections = self.server.max_connections,
            header_timeout = self.server.header_timeout_secs,
            idle_timeout = self.server.idle_timeout_secs,
            body_timeout = self.server.body_timeout_secs,
            trusted_proxies = toml::Value::Array(
                self.server.trusted_proxies.iter().map(|p| toml::Value::String(p.to_string())).collect()
            ),
            jobs_every = self.server.jobs_every_secs,
            batch = self.import.batch_size,
            bulk_load_after = self.import.bulk_load_after,
            max_file = self.import.max_file_bytes,
            registration = self.accounts.registration,
            domains = toml::Value::Array(
                self.accounts.allowed_domains.iter().map(|d| toml::Value::String(d.clone())).collect()
            ),
            session_hours = self.accounts.session_hours,
            smtp_url = q(&self.mail.smtp_url),
            from = q(&self.mail.from),
            draft_quota_mb = self.deposit.draft_quota_mb,
            purge_after_days = self.files.purge_after_days,
            gc_grace_hours = self.files.gc_grace_hours,
            stats_enabled = self.statistics.enabled,
            keep_events_days = self.statistics.keep_events_days,
            stats_queue = self.statistics.queue,
            api_per_minute = self.api.requests_per_minute,
            sword_type = q(&self.sword.default_item_type),
            sword_files = self.sword.max_package_files,
            sword_unpacked = self.sword.max_unpacked_mb,
            sword_expansion = self.sword.max_expansion,
            sword_mediators =
                toml::Value::Array(self.sword.mediators.iter().map(|m| toml::Value::String(m.clone())).collect()),
            doi_crossref = q(&self.doi.crossref_url),
            doi_datacite = q(&self.doi.datacite_url),
            doi_timeout = self.doi.timeout_seconds,
            doi_mailto = q(&self.doi.mailto),
            harvest_timeout = self.harvest.timeout_seconds,
            harvest_retries = self.harvest.retries,
            harvest_max_wait = self.harvest.max_retry_after_seconds,
            harvest_max_mb = self.harvest.max_response_mb,
            harvest_sources = self
                .harvest
                .sources
                .iter()
                .map(|h| {
                    let set = h.set.as_ref().map(|s| format!("set = {}\n", q(s))).unwrap_or_default();
                    format!(
                        "[[harvest.sources]]\nname = {}\nurl = {}\n{set}prefix = {}\nevery_hours = {}\n\n",
                        q(&h.name),
                        q(&h.url),
                        q(&h.prefix),
                        h.every_hours
                    )
                })
                .collect::<String>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_file_reads_back_as_the_defaults() {
        let mut c = Config::default();
        c.types.insert("oral_history".into(), "Oral History".into());
        let back: Config = toml::from_str(&c.documented_toml()).unwrap();
        assert_eq!(back, c);
        c.harvest.retries = 1;
        c.harvest.sources.push(ScheduledHarvest {
            name: "partner".into(),
            url: "https://eprints.partner.example/cgi/oai2".into(),
            set: Some("type:policy_paper".into()),
            prefix: "ep3".into(),
            every_hours: 6,
        });
        let back: Config = toml::from_str(&c.documented_toml()).unwrap();
        assert_eq!(back, c);
        c.mail = MailSettings {
            smtp_url: "smtp://u%40x:p@mail.example.org:587?tls=required".into(),
            from: "Arkiv <a@example.org>".into(),
        };
        let back: Config = toml::from_str(&c.documented_toml()).unwrap();
        assert_eq!(back.mail, c.mail);
    }

    #[test]
    fn relative_sqlite_paths_resolve_against_the_repository() {
        let c = Config::default();
        assert_eq!(c.database_url(Path::new("/srv/repo")), "sqlite:///srv/repo/arkiv.db");
        assert_eq!(c.host(), "127.0.0.1");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c: Config =
            toml::from_str("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\n").unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let trusted = |a: &str| c.server.trusted_proxies.iter().any(|p| p.contains(&ip(a)));
        assert!(trusted("127.0.0.1") && trusted("10.20.30.40") && trusted("::1"));
        assert!(!trusted("127.0.0.2") && !trusted("11.0.0.1"));
        let back: Config = toml::from_str(&c.documented_toml()).unwrap();
        assert_eq!(back.server.trusted_proxies, c.server.trusted_proxies);
        let err = toml::from_str::<Config>("[server]\ntrusted_proxies = [\"proxy.example.org\"]\n").unwrap_err();
        assert!(err.to_string().contains("\"proxy.example.org\" is not an IP address"), "{err}");
    }

    #[test]
    fn files_are_a_directory_or_a_bucket() {
        let dir = Path::new("/srv/repo");
        let mut c = Config::default();
        assert_eq!(c.file_location(dir), Ok(FileLocation::Local(dir.join("files"))));
        c.storage.files = "s3://arkiv-files/site/one".into();
        c.s3.endpoint = "http://127.0.0.1:9000".into();
        c.s3.allow_http = true;
        let Ok(FileLocation::S3(s3)) = c.file_location(dir) else { panic!("{:?}", c.file_location(dir)) };
        assert_eq!((s3.bucket.as_str(), s3.prefix.as_str()), ("arkiv-files", "site/one"));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.access_key_id, None);
        c.s3.allow_http = false;
        assert!(c.file_location(dir).unwrap_err().contains("allow_http"));
        for bad in ["s3://", "s3://Bad_Bucket/x", "s3://ok-bucket/a//b", "s3://ok-bucket/../x", "gs://b/p"] {
            c.storage.files = bad.into();
            let err = c.file_location(dir).unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
        c.storage.files = "s3://b1x/p".into();
        c.s3 = S3Settings { presign_downloads: true, access_key_id: "k".into(), ..Default::default() };
        let back: Config = toml::from_str(&c.documented_toml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn misspelt_settings_are_refused() {
        assert!(toml::from_str::<Config>("[repository]\nnmae = \"x\"\n").is_err());
    }
}
