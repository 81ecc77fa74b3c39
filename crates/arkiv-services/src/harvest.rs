//! Harvesting other repositories over OAI-PMH (`arkiv harvest`, and the
//! `[[harvest.sources]]` a running server harvests on its own): an
//! aggregator such as the Archive of European Integration takes its
//! partners' papers in and keeps them current.
//!
//! A run asks the source for `ListRecords` in one metadata format (oai_dc,
//! DataCite or EPrints XML, read by `arkiv_formats::harvest`), from the
//! moment the last complete run started (the source's own `responseDate`,
//! cut to the granularity its `Identify` states), and follows resumption
//! tokens to the end of the list. Each page is applied as it arrives:
//!
//! * a new identifier becomes a live record, remembered with the source's
//!   identifier and datestamp (re-exported in OAI-PMH's `provenance`);
//! * a known identifier with a newer datestamp replaces the record, unless
//!   the record was edited here since the harvest wrote it: then the
//!   incoming version is kept as a conflict, shown on `/admin/harvests`
//!   beside the local one, and nothing is overwritten;
//! * a deleted one withdraws the record (its page becomes a tombstone),
//!   with the same rule for local edits;
//! * a record whose metadata cannot be read or is refused is reported with
//!   its identifier, and the rest of the page lands.
//!
//! Requests that fail in a way that may pass (a timeout, a dropped
//! connection, a 5xx) are retried with a growing pause; a `503` with
//! `Retry-After` is waited out (up to `max_retry_after_seconds`). A run
//! stops with a clear error, keeping what earlier pages wrote, when a
//! source answers something that is not OAI-PMH, an OAI-PMH error, or a
//! resumption token it gave before (a loop). A stopped run does not move
//! the harvest's `from`: the next run asks again from the same moment, and
//! records already taken at the same datestamp are skipped.
//!
//! An outbound client, as `fetch` is: the services layer serves no HTTP.

use crate::config::{HarvestSettings, ScheduledHarvest};
use crate::Repository;
use anyhow::{anyhow, bail, Result};
use arkiv_formats::harvest::{read_identify, read_page, HarvestedRecord, MetadataPrefix, OaiPage};
use arkiv_formats::{FileData, ImportedRecord};
use arkiv_model::{validate, Record, RecordId, Status, Timestamp};
use arkiv_storage::{HarvestConflict, HarvestSourceRow, HarvestedEntry, RecordWrite, StoreError};
use bytes::Bytes;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// What to harvest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestSource {
    /// The name progress is kept under.
    pub name: String,
    /// The source's OAI-PMH base URL.
    pub url: String,
    pub set: Option<String>,
    pub prefix: MetadataPrefix,
}

impl HarvestSource {
    /// A configured source, its prefix checked.
    pub fn scheduled(entry: &ScheduledHarvest) -> Result<Self> {
        let prefix = MetadataPrefix::parse(&entry.prefix).ok_or_else(|| {
            anyhow!("harvest {:?}: unknown metadata prefix {:?} (oai_dc, datacite or ep3)", entry.name, entry.prefix)
        })?;
        HarvestSource::new(&entry.name, &entry.url, entry.set.clone(), prefix)
    }

    /// A source, its URL checked.
    pub fn new(name: &str, url: &str, set: Option<String>, prefix: MetadataPrefix) -> Result<Self> {
        let url = url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#', ' ']) {
            bail!("{url:?} is not an OAI-PMH base URL: give http(s)://host/path, without a query");
        }
        if name.trim().is_empty() {
            bail!("a harvest needs a name");
        }
        Ok(HarvestSource { name: name.trim().to_string(), url: url.to_string(), set, prefix })
    }
}

/// How a run goes.
#[derive(Debug, Clone, Default)]
pub struct HarvestOptions {
    /// Ask for everything, not only what changed since the last run.
    pub full: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HarvestReport {
    pub source: String,
    /// The `from` asked for; `None` for a full harvest.
    pub from: Option<String>,
    pub pages: u64,
    pub created: u64,
    pub updated: u64,
    /// Known at the same datestamp: nothing to do.
    pub unchanged: u64,
    pub withdrawn: u64,
    /// Newer versions of records edited here, kept for an admin.
    pub conflicts: u64,
    /// (identifier, why) of records that could not be taken.
    pub rejected: Vec<(String, String)>,
    /// Files named by the source that were not fetched (their metadata kept).
    pub files_not_fetched: u64,
    /// The run reached the end of the source's list.
    pub complete: bool,
    /// Why the run stopped early.
    pub error: Option<String>,
}

/// Who the revisions a harvest writes are by.
pub fn actor(source: &str) -> String {
    format!("harvest:{source}")
}

/// Runs one harvest of `source`. Progress is kept in the store whatever
/// happens; the report says what happened, `error` why it stopped early.
/// An `Err` is a failure of this repository (its database), not of the
/// source.
pub async fn harvest(
    repo: &Repository,
    source: &HarvestSource,
    options: &HarvestOptions,
    progress: &mut (dyn FnMut(&HarvestReport) + Send),
) -> Result<HarvestReport> {
    let settings = &repo.config.harvest;
    let client = Client::new(settings)?;
    let stored = repo.store.harvest_source(&source.name).await?;
    let same_source = stored.as_ref().is_some_and(|s| {
        s.base_url == source.url
            && s.prefix == source.prefix.as_str()
            && s.set_spec == source.set.clone().unwrap_or_default()
    });
    let mut row = stored.clone().unwrap_or_default();
    row.name = source.name.clone();
    row.base_url = source.url.clone();
    row.set_spec = source.set.clone().unwrap_or_default();
    row.prefix = source.prefix.as_str().to_string();
    if !same_source {
        // Another source, set or format under this name: start afresh.
        row.harvested_until = None;
    }
    let mut report = HarvestReport { source: source.name.clone(), ..Default::default() };
    let outcome = run(repo, &client, source, options, &mut row, &mut report, progress).await;
    row.last_run = Some(repo.now());
    row.records += (report.created + report.updated) as i64;
    match outcome {
        Ok(()) => {
            row.last_error = None;
            report.complete = true;
        }
        Err(Stop::Source(why)) => {
            row.last_error = Some(why.clone());
            report.error = Some(why);
        }
        Err(Stop::Local(e)) => {
            row.last_error = Some(format!("{e:#}"));
            repo.store.save_harvest_source(&row).await.ok();
            return Err(e);
        }
    }
    repo.store.save_harvest_source(&row).await?;
    Ok(report)
}

/// Why a run stopped: the source's fault (reported, the run ends), or ours.
enum Stop {
    Source(String),
    Local(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Local(e)
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Local(e.into())
    }
}

async fn run(
    repo: &Repository,
    client: &Client,
    source: &HarvestSource,
    options: &HarvestOptions,
    row: &mut HarvestSourceRow,
    report: &mut HarvestReport,
    progress: &mut (dyn FnMut(&HarvestReport) + Send),
) -> Result<(), Stop> {
    let identify_url = format!("{}?verb=Identify", source.url);
    let identify = client.get(&identify_url).await.map_err(Stop::Source)?;
    let identify =
        read_identify(&identify).map_err(|e| Stop::Source(format!("{}: Identify: {}", source.url, e.message)))?;
    let from = if options.full {
        None
    } else {
        row.harvested_until.as_deref().map(|d| cut_to_granularity(d, &identify.granularity))
    };
    report.from = from.clone();
    let mut url = format!("{}?verb=ListRecords&metadataPrefix={}", source.url, source.prefix.as_str());
    if let Some(set) = &source.set {
        url.push_str(&format!("&set={}", query_value(set)));
    }
    if let Some(from) = &from {
        url.push_str(&format!("&from={}", query_value(from)));
    }
    let mut started: Option<String> = None;
    let mut tokens_seen = HashSet::new();
    loop {
        let body = client.get(&url).await.map_err(Stop::Source)?;
        let types = repo.types();
        let page = read_page(&body, source.prefix, &types)
            .map_err(|e| Stop::Source(format!("{url}: not an OAI-PMH answer: {}", e.message)))?;
        if started.is_none() {
            started = Some(page.response_date.clone().unwrap_or_else(|| repo.now().to_iso8601()));
        }
        if let Some(error) = page.errors.iter().find(|e| e.code != "noRecordsMatch") {
            return Err(Stop::Source(format!("{url}: the source answered {}: {}", error.code, error.message)));
        }
        report.pages += 1;
        let token = page.resumption_token.clone();
        apply_page(repo, source, page, report).await?;
        progress(report);
        match token {
            None => break,
            Some(token) => {
                if !tokens_seen.insert(token.clone()) {
                    return Err(Stop::Source(format!(
                        "{}: the source gave the resumption token {token:?} a second time: the list loops, so the run stops here",
                        source.url
                    )));
                }
                url = format!("{}?verb=ListRecords&resumptionToken={}", source.url, query_value(&token));
            }
        }
    }
    row.harvested_until = started;
    Ok(())
}

/// `from` as the source takes it: a day-granular source refuses a time.
fn cut_to_granularity(datestamp: &str, granularity: &str) -> String {
    if granularity.contains("hh") {
        datestamp.to_string()
    } else {
        datestamp.chars().take(10).collect()
    }
}

fn query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Applies one page: see the module docs. The records of a page are
/// written in one transaction when they can be; a page the database
/// refuses is written record by record, so one bad record costs itself.
async fn apply_page(
    repo: &Repository,
    source: &HarvestSource,
    page: OaiPage,
    report: &mut HarvestReport,
) -> Result<(), Stop> {
    // One entry per identifier, the last on the page winning.
    let mut latest: HashMap<String, HarvestedRecord> = HashMap::new();
    let mut order = Vec::new();
    for item in page.records {
        if !latest.contains_key(&item.identifier) {
            order.push(item.identifier.clone());
        }
        latest.insert(item.identifier.clone(), item);
    }
    let known: HashMap<String, HarvestedEntry> = repo
        .store
        .harvested_entries(&source.name, &order)
        .await?
        .into_iter()
        .map(|e| (e.identifier.clone(), e))
        .collect();
    let now = repo.now();
    let actor = actor(&source.name);
    let mut writes: Vec<(String, String, RecordWrite)> = Vec::new();
    let mut conflicts = Vec::new();
    for identifier in order {
        let item = latest.remove(&identifier).expect("listed above");
        let entry = known.get(&identifier);
        if entry.is_some_and(|e| e.datestamp == item.datestamp) {
            report.unchanged += 1;
            continue;
        }
        // The local record as the harvest left it, if it still is.
        let current = match entry {
            Some(e) => repo.store.get_record_with_revision(e.record_id).await?,
            None => None,
        };
        if item.deleted {
            let (Some(entry), Some((mut record, revision))) = (entry, current) else {
                continue; // never taken, or gone here: nothing to withdraw
            };
            if revision != entry.revision {
                conflicts.push(conflict(source, &item, entry.record_id, None, now));
                continue;
            }
            if record.status == Status::Deletion {
                report.unchanged += 1;
                continue;
            }
            record.status = Status::Deletion;
            record.withdrawn_reason = Some(format!("Withdrawn by its source, {}.", source.url));
            record.lastmod = None;
            writes.push((
                identifier,
                item.datestamp,
                RecordWrite { record, actor: actor.clone(), expected_revision: Some(revision) },
            ));
            continue;
        }
        let imported = match item.metadata {
            Some(Ok(imported)) => imported,
            Some(Err(e)) => {
                // The reader names the record by its identifier already.
                let why = e.message.strip_prefix(&format!("{identifier}: ")).unwrap_or(&e.message).to_string();
                report.rejected.push((identifier, why));
                continue;
            }
            None => {
                report.rejected.push((identifier, "the record has no metadata".into()));
                continue;
            }
        };
        let mut record = match prepare(repo, imported, report).await {
            Ok(r) => r,
            Err(why) => {
                report.rejected.push((identifier, why));
                continue;
            }
        };
        record.status = Status::Archive;
        record.userid = None;
        record.lastmod = None;
        match (entry, current) {
            (Some(entry), Some((local, revision))) => {
                if revision != entry.revision {
                    conflicts.push(conflict(
                        source,
                        &item_header(&identifier, &item.datestamp),
                        entry.record_id,
                        Some(record),
                        now,
                    ));
                    continue;
                }
                record.id = Some(entry.record_id);
                // When it first went live here stays. (Anything an editor
                // changed here, subjects too, made a new revision: that is a
                // conflict above, never overwritten.)
                record.datestamp = local.datestamp;
                writes.push((
                    identifier,
                    item.datestamp,
                    RecordWrite { record, actor: actor.clone(), expected_revision: Some(revision) },
                ));
            }
            _ => {
                record.id = None;
                record.datestamp = None;
                writes.push((identifier, item.datestamp, RecordWrite::new(record, &actor)));
            }
        }
    }
    if !conflicts.is_empty() {
        report.conflicts += conflicts.len() as u64;
        repo.store.put_harvest_conflicts(&conflicts).await?;
    }
    write(repo, source, writes, report, now).await
}

/// A header-only stand-in, for conflicts found after the item was taken apart.
fn item_header(identifier: &str, datestamp: &str) -> HarvestedRecord {
    HarvestedRecord {
        identifier: identifier.to_string(),
        datestamp: datestamp.to_string(),
        deleted: false,
        sets: Vec::new(),
        metadata: None,
    }
}

fn conflict(
    source: &HarvestSource,
    item: &HarvestedRecord,
    record_id: RecordId,
    incoming: Option<Record>,
    now: Timestamp,
) -> HarvestConflict {
    HarvestConflict {
        source: source.name.clone(),
        identifier: item.identifier.clone(),
        record_id,
        datestamp: item.datestamp.clone(),
        incoming,
        found: now,
    }
}

/// Checks a harvested record and stores the bytes it carries; files named
/// only by URL are not fetched (their metadata is kept), as an import
/// without `--fetch-files` does.
async fn prepare(repo: &Repository, imported: ImportedRecord, report: &mut HarvestReport) -> Result<Record, String> {
    let ImportedRecord { mut record, files, .. } = imported;
    arkiv_model::validate::clean_file_names(&mut record);
    // An EPrints source's own item types are taken as its import takes them.
    let mut scratch = crate::import::ImportReport::default();
    crate::import::take_local_type(repo, &record.item_type, &Default::default(), &mut scratch).await?;
    if let Err(problems) = validate(&record, &repo.types()) {
        return Err(problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "));
    }
    let max = repo.config.import.max_file_bytes;
    for source in files {
        let name = arkiv_model::validate::clean_filename(&source.filename);
        match source.source {
            FileData::Embedded(bytes) => {
                if bytes.len() as u64 > max {
                    return Err(format!("file {name} is larger than the limit of {max} bytes"));
                }
                let size = bytes.len() as u64;
                let sha = repo.files.put(Bytes::from(bytes)).await.map_err(|e| format!("cannot store {name}: {e}"))?;
                let file = record
                    .documents
                    .iter_mut()
                    .find(|d| d.pos == source.doc_pos)
                    .and_then(|d| d.files.iter_mut().find(|f| f.filename == name))
                    .ok_or_else(|| format!("file {name} belongs to no document"))?;
                file.sha256 = Some(sha);
                file.size = size;
            }
            FileData::Url(_) => report.files_not_fetched += 1,
            FileData::None => {}
        }
    }
    Ok(record)
}

/// Writes a page's records and notes which local record holds each
/// identifier. The notes follow the records' own transaction; a failure
/// between the two stops the run (a database failure), and the next run
/// finds the records' identifiers unknown only in that window.
async fn write(
    repo: &Repository,
    source: &HarvestSource,
    writes: Vec<(String, String, RecordWrite)>,
    report: &mut HarvestReport,
    now: Timestamp,
) -> Result<(), Stop> {
    if writes.is_empty() {
        return Ok(());
    }
    let batch: Vec<RecordWrite> = writes.iter().map(|(_, _, w)| w.clone()).collect();
    let outcomes: Vec<Result<RecordId, StoreError>> = match repo.store.put_records(batch).await {
        Ok(ids) => ids.into_iter().map(Ok).collect(),
        Err(_) => {
            // One by one, so that one refused record costs only itself.
            let mut outcomes = Vec::with_capacity(writes.len());
            for (_, _, w) in &writes {
                outcomes.push(repo.store.put_records(vec![w.clone()]).await.map(|ids| ids[0]));
            }
            outcomes
        }
    };
    let mut entries = Vec::new();
    let mut conflicts = Vec::new();
    for ((identifier, datestamp, w), outcome) in writes.into_iter().zip(outcomes) {
        match outcome {
            Ok(id) => {
                let revision = w.expected_revision.unwrap_or(0) + 1;
                match (w.expected_revision, w.record.status) {
                    (_, Status::Deletion) => report.withdrawn += 1,
                    (Some(_), _) => report.updated += 1,
                    (None, _) => report.created += 1,
                }
                entries.push(HarvestedEntry { identifier, record_id: id, datestamp, revision, harvested: now });
            }
            Err(StoreError::Conflict { id, .. }) => {
                // Edited here between the read and the write.
                let incoming = (w.record.status != Status::Deletion).then_some(w.record);
                conflicts.push(HarvestConflict {
                    source: source.name.clone(),
                    identifier,
                    record_id: id,
                    datestamp,
                    incoming,
                    found: now,
                });
            }
            Err(e) => report.rejected.push((identifier, e.to_string())),
        }
    }
    repo.store.note_harvested(&source.name, &entries).await?;
    if !conflicts.is_empty() {
        report.conflicts += conflicts.len() as u64;
        repo.store.put_harvest_conflicts(&conflicts).await?;
    }
    Ok(())
}

/// Resolves a conflict: `take` writes the incoming version over the local
/// one (or withdraws the record, if the source deleted it); otherwise the
/// local version stays and the incoming one is dropped. Either way the
/// harvest remembers the incoming datestamp, so the same version does not
/// come back as a conflict; a later one will.
pub async fn resolve_conflict(repo: &Repository, source: &str, identifier: &str, take: bool, by: &str) -> Result<()> {
    let conflict = repo
        .store
        .harvest_conflict(source, identifier)
        .await?
        .ok_or_else(|| anyhow!("no conflict of {identifier:?} from {source:?}"))?;
    let (local, revision) = repo
        .store
        .get_record_with_revision(conflict.record_id)
        .await?
        .ok_or_else(|| anyhow!("record {} is gone", conflict.record_id))?;
    let mut noted = revision;
    if take {
        let mut record = match conflict.incoming.clone() {
            Some(mut incoming) => {
                incoming.id = Some(conflict.record_id);
                incoming.datestamp = local.datestamp;
                incoming.status = Status::Archive;
                incoming.lastmod = None;
                incoming
            }
            None => {
                let mut withdrawn = local.clone();
                withdrawn.status = Status::Deletion;
                withdrawn.withdrawn_reason = Some("Withdrawn by its source.".into());
                withdrawn.lastmod = None;
                withdrawn
            }
        };
        record.userid = local.userid;
        repo.store
            .put_records(vec![RecordWrite { record, actor: by.to_string(), expected_revision: Some(revision) }])
            .await?;
        noted = revision + 1;
    }
    // Kept: the harvest's revision is now the current one only if the
    // incoming version was taken; a kept local edit stays a local edit.
    let entry_revision = if take { noted } else { -1 };
    repo.store
        .note_harvested(
            source,
            &[HarvestedEntry {
                identifier: identifier.to_string(),
                record_id: conflict.record_id,
                datestamp: conflict.datestamp.clone(),
                revision: entry_revision,
                harvested: repo.now(),
            }],
        )
        .await?;
    repo.store.drop_harvest_conflict(source, identifier).await?;
    Ok(())
}

/// One field where a local record and a harvested version differ, each
/// value as compact JSON (absent: empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldDifference {
    pub field: String,
    pub here: String,
    pub incoming: String,
}

/// A conflict with both versions, for an admin to decide.
#[derive(Debug, Clone)]
pub struct ConflictView {
    pub conflict: HarvestConflict,
    pub local: Option<Record>,
    /// The fields that differ; for a deletion at the source, none.
    pub differences: Vec<FieldDifference>,
}

/// Where `local` and `incoming` differ, field by field, leaving out what
/// only this repository keeps (id, status, owner, datestamps).
pub fn differences(local: &Record, incoming: &Record) -> Vec<FieldDifference> {
    const OURS: &[&str] = &["id", "status", "userid", "datestamp", "lastmod", "rev_number", "succeeds"];
    let (a, b) = (serde_json::to_value(local), serde_json::to_value(incoming));
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) = (a, b) else {
        return Vec::new();
    };
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let mut fields: Vec<&String> = a.keys().chain(b.keys()).filter(|k| !OURS.contains(&k.as_str())).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| a.get(*f) != b.get(*f))
        .map(|f| FieldDifference { field: f.clone(), here: show(a.get(f)), incoming: show(b.get(f)) })
        .filter(|d| d.here != d.incoming)
        .collect()
}

/// Open conflicts, oldest first, with the local version of each.
pub async fn conflicts(repo: &Repository, limit: i64) -> Result<Vec<ConflictView>> {
    let conflicts = repo.store.harvest_conflicts(limit).await?;
    let mut out = Vec::with_capacity(conflicts.len());
    for conflict in conflicts {
        let local = repo.store.get_record(conflict.record_id).await?;
        let differences = match (&local, &conflict.incoming) {
            (Some(local), Some(incoming)) => differences(local, incoming),
            _ => Vec::new(),
        };
        out.push(ConflictView { conflict, local, differences });
    }
    Ok(out)
}

/// The configured sources whose interval has passed, harvested one after
/// another (from `jobs::run_once`). Failures are logged; the next hour
/// tries again.
pub async fn harvest_due(repo: &Repository) {
    for entry in &repo.config.harvest.sources {
        let source = match HarvestSource::scheduled(entry) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "a configured harvest is not valid");
                continue;
            }
        };
        let last = match repo.store.harvest_source(&source.name).await {
            Ok(row) => row.and_then(|r| r.last_run),
            Err(e) => {
                tracing::warn!(error = %e, "harvest progress could not be read");
                return;
            }
        };
        let due = last.is_none_or(|t| repo.now().0 - t.0 >= entry.every_hours.max(1) as i64 * 3600);
        if !due {
            continue;
        }
        match harvest(repo, &source, &HarvestOptions::default(), &mut |_| {}).await {
            Ok(r) => tracing::info!(
                source = %r.source,
                created = r.created,
                updated = r.updated,
                withdrawn = r.withdrawn,
                conflicts = r.conflicts,
                rejected = r.rejected.len(),
                error = r.error.as_deref().unwrap_or(""),
                "harvest run"
            ),
            Err(e) => tracing::warn!(source = %source.name, error = %format!("{e:#}"), "harvest failed"),
        }
    }
}

/// The HTTP side: bounded answers, retries, `Retry-After`.
struct Client {
    http: reqwest::Client,
    retries: u32,
    max_wait: Duration,
    max_bytes: u64,
    timeout: Duration,
}

impl Client {
    fn new(settings: &HarvestSettings) -> Result<Self> {
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("Arkiv/", env!("CARGO_PKG_VERSION"), " (OAI-PMH harvester)"))
            .build()?;
        Ok(Client {
            http,
            retries: settings.retries,
            max_wait: Duration::from_secs(settings.max_retry_after_seconds),
            max_bytes: settings.max_response_mb.max(1) << 20,
            timeout,
        })
    }

    /// The body of `url`, or why not after the retries.
    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut pause = Duration::from_millis(500);
        let mut attempt = 0;
        loop {
            let failure = match self.attempt(url).await {
                Ok(body) => return Ok(body),
                Err(failure) => failure,
            };
            attempt += 1;
            if !failure.may_pass || attempt > self.retries {
                let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
                return Err(format!("{url}: {}{tries}", failure.why));
            }
            let wait = match failure.retry_after {
                Some(wait) if wait > self.max_wait => {
                    return Err(format!(
                        "{url}: the source asks to come back in {} s, more than the {} s harvest.max_retry_after_seconds allows",
                        wait.as_secs(),
                        self.max_wait.as_secs()
                    ))
                }
                Some(wait) => wait,
                None => pause,
            };
            tracing::info!(url, why = %failure.why, wait_ms = wait.as_millis() as u64, "harvest request retried");
            tokio::time::sleep(wait).await;
            pause = (pause * 2).min(Duration::from_secs(60));
        }
    }

    async fn attempt(&self, url: &str) -> Result<Vec<u8>, Failure> {
        let response = self.http.get(url).send().await.map_err(|e| Failure {
            why: if e.is_timeout() {
                format!("no answer within {} s", self.timeout.as_secs())
            } else {
                format!("could not reach the source: {}", source_chain(&e))
            },
            may_pass: true,
            retry_after: None,
        })?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(Failure {
                why: format!("the source answered HTTP {status}"),
                may_pass: status.is_server_error() || status.as_u16() == 429,
                retry_after,
            });
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Failure {
                why: if e.is_timeout() {
                    format!("the answer did not arrive whole within {} s", self.timeout.as_secs())
                } else {
                    format!("the answer broke off: {}", source_chain(&e))
                },
                may_pass: true,
                retry_after: None,
            })?;
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(Failure {
                    why: format!("the answer is larger than {} MiB (harvest.max_response_mb)", self.max_bytes >> 20),
                    may_pass: false,
                    retry_after: None,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

struct Failure {
    why: String,
    may_pass: bool,
    retry_after: Option<Duration>,
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_is_cut_to_the_sources_granularity() {
        assert_eq!(cut_to_granularity("2026-08-13T18:18:48Z", "YYYY-MM-DD"), "2026-08-13");
        assert_eq!(cut_to_granularity("2026-08-13T18:18:48Z", "YYYY-MM-DDThh:mm:ssZ"), "2026-08-13T18:18:48Z");
    }

    #[test]
    fn a_source_needs_a_base_url() {
        assert!(HarvestSource::new("x", "ftp://a", None, MetadataPrefix::OaiDc).is_err());
        assert!(HarvestSource::new("x", "http://a/oai?verb=Identify", None, MetadataPrefix::OaiDc).is_err());
        assert!(HarvestSource::new("x", "https://zenodo.org/oai2d", None, MetadataPrefix::OaiDc).is_ok());
    }
}
