//! SWORD v2 deposit's use cases: what a publisher's router or a library's
//! deposit tool does to a container (an item), each one a `Workflow` call,
//! so SWORD skips no rule the deposit form keeps: permissions, revisions,
//! quotas, file bounds, review. The HTTP side (headers, documents, status
//! codes) is the web layer's; the documents themselves are
//! `arkiv_formats::sword`'s.
//!
//! Where SWORD differs from the form, on purpose:
//! - a deposit that lacks what the form requires is still taken, because a
//!   client cannot fill in a form: its item type is `[sword]
//!   default_item_type` when its metadata names none this repository
//!   knows, and `In-Progress: false` sends it to review as it is
//!   ([`Workflow::submit_as_deposited`]); the receipt and the item's page
//!   say what is missing, and acceptance still needs a valid record;
//! - a value that cannot be read (a date that is no date) is left out and
//!   said in the receipt, not a refusal of the whole deposit;
//! - `On-Behalf-Of` lets an account with the right (an editor's, or one
//!   named in `[sword] mediators`) deposit into another account's
//!   workarea; the revisions name the mediator.
//!
//! A deposit is checked whole before anything is written: a package that
//! cannot be read, a name outside it, a zip bomb, a wrong checksum leave
//! nothing behind; a file refused after its item was made (a quota) takes
//! the new item away again.

pub mod package;

use crate::accounts::api_tokens::{self, Scope};
use crate::accounts::{self, AccountError};
use crate::workflow::metadata::{apply_form, form_values, missing};
use crate::workflow::{Action, DocumentSettings, NewFile, Workflow, WorkflowError};
use crate::Repository;
use arkiv_formats::sword::{parse_entry, EntryError, EntryMetadata};
use arkiv_model::{ItemTypes, Record, RecordId, Status, User};
use package::{PackageError, PackageLimits, Spooled};
use std::sync::Arc;

/// Why a SWORD request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum SwordRefusal {
    /// No credentials, or wrong ones (401).
    #[error("{0}")]
    Credentials(String),
    /// Too many failed logins from the address lately.
    #[error("too many failed logins from your address: try again in {seconds} s")]
    Throttled { seconds: i64 },
    #[error("this account may not deposit on behalf of others")]
    MediationNotAllowed,
    #[error("On-Behalf-Of names no account of this repository that can deposit: {0:?}")]
    TargetOwnerUnknown(String),
    #[error("{0}")]
    Package(#[from] PackageError),
    #[error("{0}")]
    Entry(#[from] EntryError),
    /// An EPrints XML package that holds no record that can be read.
    #[error("the EPrints XML package could not be read: {0}")]
    EprintsXml(String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
}

/// The account whose login and password (or whose personal API token with
/// the `deposit` scope, in the password's place) a client sent. Counted
/// and throttled as logins are.
pub async fn authenticate(
    repo: &Arc<Repository>,
    login: &str,
    password: &str,
    address: &str,
) -> Result<User, SwordRefusal> {
    if password.starts_with(api_tokens::TOKEN_PREFIX) {
        let store = repo.accounts.as_ref();
        let holder = match api_tokens::authenticate(store, password).await.map_err(store_error)? {
            Ok(h) => h,
            Err(refused) => return Err(SwordRefusal::Credentials(refused.to_string())),
        };
        let named = |u: &User| {
            login.eq_ignore_ascii_case(&u.email) || u.username.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(login))
        };
        if !named(&holder.user) {
            return Err(SwordRefusal::Credentials("this API token is not the account's named".into()));
        }
        if !holder.may(Scope::Deposit) {
            return Err(SwordRefusal::Credentials("this API token lacks the deposit scope".into()));
        }
        if let Err(seconds) = crate::rate_limits::claim_api_request(repo, holder.token_id).await.map_err(store_error)? {
            return Err(SwordRefusal::Throttled { seconds });
        }
        return Ok(holder.user);
    }
    match accounts::check_credentials(repo, login, password, address).await {
        Ok(user) => Ok(user),
        Err(AccountError::Throttled { seconds }) => Err(SwordRefusal::Throttled { seconds }),
        Err(AccountError::Unconfirmed { .. }) => {
            Err(SwordRefusal::Credentials("this account's address is not confirmed yet".into()))
        }
        Err(AccountError::Store(e)) => Err(store_error(e)),
        Err(_) => Err(SwordRefusal::Credentials("the login or the password is not right".into())),
    }
}

fn store_error(e: impl Into<anyhow::Error>) -> SwordRefusal {
    SwordRefusal::Workflow(WorkflowError::Store(e.into()))
}

/// The account `On-Behalf-Of` names (by address or username), for a
/// mediator who holds the right.
pub async fn owner_named(repo: &Repository, mediator: &User, name: &str) -> Result<User, SwordRefusal> {
    if !crate::workflow::may_mediate(mediator, &repo.config.sword.mediators) {
        return Err(SwordRefusal::MediationNotAllowed);
    }
    match accounts::find_login(repo.accounts.as_ref(), name.trim()).await.map_err(store_error)? {
        Some(u) if !u.disabled && u.verified => Ok(u),
        _ => Err(SwordRefusal::TargetOwnerUnknown(name.to_string())),
    }
}

/// What a deposit sends.
pub enum Content {
    /// An Atom entry, with Dublin Core terms.
    Entry(Vec<u8>),
    /// One file, as it is (SWORD's Binary packaging).
    Binary { body: Spooled, filename: String, mime: Option<String> },
    /// A zip whose files become the item's documents.
    SimpleZip(Spooled),
    /// An EPrints XML export of one eprint, its files embedded or not.
    EprintsXml(Spooled),
    /// An Atom entry and a file or package in one request (SWORD's
    /// multipart deposit).
    Multipart { entry: Vec<u8>, media: Box<Content> },
}

/// Whether `sent` (a `Content-MD5` header: hex, as SWORD clients send it,
/// or base64, as RFC 1864 says) is the MD5 of the spooled body.
pub fn checksum_matches(body: &Spooled, sent: &str) -> bool {
    use base64::Engine;
    let sent = sent.trim();
    if sent.eq_ignore_ascii_case(&body.md5_hex) {
        return true;
    }
    base64::engine::general_purpose::STANDARD.decode(sent).is_ok_and(|raw| hex::encode(raw) == body.md5_hex)
}

/// An item after a SWORD request, and what the receipt says of it.
pub struct Outcome {
    pub record: Record,
    pub revision: i64,
    /// What the form would still require.
    pub missing: Vec<String>,
    /// What was left out of the deposit, and why.
    pub notes: Vec<String>,
}

/// The deposit form's fields as name-value pairs.
pub type FormPairs = Vec<(String, String)>;

/// The form's fields from an Atom entry's terms, with notes on what no
/// field took. Pure; see [`entry_pairs`]'s callers for when it applies.
pub fn entry_pairs(meta: &EntryMetadata, types: &ItemTypes) -> (FormPairs, Vec<String>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut notes = Vec::new();
    let mut creators: Vec<&str> = Vec::new();
    let mut keywords: Vec<&str> = Vec::new();
    let mut languages: Vec<&str> = Vec::new();
    let set_once = |pairs: &mut Vec<(String, String)>, field: &str, value: &str| {
        if !pairs.iter().any(|(f, _)| f == field) {
            pairs.push((field.to_string(), value.to_string()));
        }
    };
    let (mut abstract_text, mut description) = (None, None);
    for (term, value) in &meta.terms {
        let value = value.as_str();
        match term.as_str() {
            "title" => set_once(&mut pairs, "title", value),
            "abstract" => abstract_text = abstract_text.or(Some(value)),
            "description" => description = description.or(Some(value)),
            "creator" if !creators.contains(&value) => creators.push(value),
            "creator" => {}
            "date" | "issued" | "created" | "available" | "dateAccepted" => {
                // An ISO date-time keeps its date.
                let date = value.get(..10).filter(|d| d.as_bytes().get(4) == Some(&b'-')).unwrap_or(value);
                if date.parse::<arkiv_model::PartialDate>().is_ok_and(|d| d.is_valid()) {
                    set_once(&mut pairs, "date", date);
                } else {
                    notes.push(format!("dcterms:{term} {value:?} is not a date, and was left out"));
                }
            }
            "publisher" => set_once(&mut pairs, "publisher", value),
            "isPartOf" => set_once(&mut pairs, "publication", value),
            "identifier" => {
                let lower = value.to_ascii_lowercase();
                if lower.starts_with("10.") || lower.starts_with("doi:") || lower.contains("doi.org/10.") {
                    let bare = value.get(value.find("10.").unwrap_or(0)..).unwrap_or(value);
                    set_once(&mut pairs, "doi", bare);
                } else if lower.starts_with("http://") || lower.starts_with("https://") {
                    set_once(&mut pairs, "official_url", value);
                } else {
                    notes.push(format!(
                        "dcterms:identifier {value:?} is neither a DOI nor a web address, and was left out"
                    ));
                }
            }
            "subject" => keywords.push(value),
            "language" => languages.push(value),
            "license" | "rights" if value.starts_with("http") => set_once(&mut pairs, "license", value),
            "type" => {
                let key = value.trim().to_lowercase().replace([' ', '-'], "_");
                if types.contains(&key) {
                    set_once(&mut pairs, "item_type", &key);
                } else {
                    notes.push(format!("dcterms:type {value:?} is not an item type here"));
                }
            }
            other => notes.push(format!("dcterms:{other} has no field here, and was left out")),
        }
    }
    if let Some(a) = abstract_text.or(description) {
        pairs.push(("abstract".into(), a.to_string()));
    }
    if !creators.is_empty() {
        pairs.push(("creators".into(), creators.join("\n")));
    }
    if !keywords.is_empty() {
        pairs.push(("keywords".into(), keywords.join("\n")));
    }
    if !languages.is_empty() {
        pairs.push(("languages".into(), languages.join(" ")));
    }
    (pairs, notes)
}

/// A client's SWORD requests, as one account (or a mediator for one).
pub struct SwordDeposit<'a> {
    flow: Workflow<'a>,
}

impl<'a> SwordDeposit<'a> {
    pub fn new(flow: Workflow<'a>) -> Self {
        SwordDeposit { flow }
    }

    fn repo(&self) -> &Repository {
        self.flow.repo
    }

    /// The temporary directory packages are spooled and unpacked in: the
    /// repository's own disk, not a `/tmp` that may be memory.
    pub fn spool_dir(repo: &Repository) -> std::path::PathBuf {
        repo.dir.join("tmp")
    }

    /// The item as it now is, for a receipt or a statement.
    pub async fn outcome(&self, id: RecordId) -> Result<Outcome, SwordRefusal> {
        self.outcome_with(id, Vec::new()).await
    }

    async fn outcome_with(&self, id: RecordId, notes: Vec<String>) -> Result<Outcome, SwordRefusal> {
        let (record, revision) = self.flow.load(id, Action::View).await?;
        let missing = if matches!(record.status, Status::Inbox | Status::Buffer) {
            missing(&record, &self.repo().types())
        } else {
            Vec::new()
        };
        Ok(Outcome { record, revision, missing, notes })
    }

    /// Reads an entry into form pairs, with the item type settled: the
    /// entry's, else `fallback`.
    fn entry_form(&self, xml: &[u8]) -> Result<(FormPairs, Vec<String>), SwordRefusal> {
        let meta = parse_entry(xml)?;
        Ok(entry_pairs(&meta, &self.repo().types()))
    }

    /// The files of a content, unpacked and checked, before any item is
    /// touched. The unpacked directory lives as long as the return.
    async fn files_of(
        &self,
        content: Content,
    ) -> Result<(Vec<NewFile<'static>>, Option<package::Unpacked>), SwordRefusal> {
        match content {
            Content::Binary { body, filename, mime } => {
                let path = body.file.to_path_buf();
                let file = NewFile { filename, declared_type: mime, bytes: Box::pin(package::read_stream(path)) };
                // The spooled body must outlive the stream: it is read
                // while the document is stored, then dropped with it.
                Ok((vec![file], Some(package::Unpacked::holding(body.file))))
            }
            Content::SimpleZip(body) => {
                let repo = self.repo();
                let s = &repo.config.sword;
                let limits = PackageLimits {
                    max_files: s.max_package_files,
                    max_file_bytes: repo.config.import.max_file_bytes,
                    max_total_bytes: s.max_unpacked_mb.saturating_mul(1024 * 1024),
                    max_expansion: s.max_expansion,
                };
                let dir = Self::spool_dir(repo);
                let unpacked = tokio::task::spawn_blocking(move || {
                    let out = package::unpack_simple_zip(&body.file, body.size, limits, &dir);
                    drop(body);
                    out
                })
                .await
                .map_err(|e| store_error(anyhow::anyhow!("unpacking failed: {e}")))??;
                let files = unpacked
                    .files
                    .iter()
                    .map(|f| NewFile {
                        filename: f.name.clone(),
                        declared_type: None,
                        bytes: Box::pin(package::read_stream(f.path.clone())),
                    })
                    .collect();
                Ok((files, Some(unpacked)))
            }
            Content::Multipart { media, .. } => Box::pin(self.files_of(*media)).await,
            Content::Entry(_) | Content::EprintsXml(_) => Ok((Vec::new(), None)),
        }
    }

    /// A new item from `content` (the collection's POST): in the workarea,
    /// or sent to review as it is unless `in_progress`.
    pub async fn create(&self, content: Content, in_progress: bool) -> Result<Outcome, SwordRefusal> {
        let default_type = self.repo().config.sword.default_item_type.clone();
        let types = self.repo().types();
        let fallback_type = if types.contains(&default_type) { default_type } else { "other".to_string() };
        let mut notes = Vec::new();
        let (record, files, unpacked) = match content {
            Content::Entry(xml) => (self.record_of(&xml, &fallback_type, &mut notes)?, Vec::new(), None),
            Content::Multipart { entry, media } => {
                let record = self.record_of(&entry, &fallback_type, &mut notes)?;
                let (files, unpacked) = self.files_of(*media).await?;
                (record, files, unpacked)
            }
            Content::EprintsXml(body) => {
                let (mut record, files, more) = read_eprints_package(&body)?;
                notes.extend(more);
                if !types.contains(&record.item_type) {
                    notes.push(format!(
                        "the item type {:?} is not one of this repository's: it is {fallback_type:?} until an editor says otherwise",
                        record.item_type
                    ));
                    record.item_type = fallback_type.clone();
                }
                (record, files, None)
            }
            other => {
                let (files, unpacked) = self.files_of(other).await?;
                (Record::new(&fallback_type, ""), files, unpacked)
            }
        };
        let id = self.flow.create_with(record).await?;
        if !files.is_empty() {
            if let Err(e) = self.flow.put_documents(id, 1, files, DocumentSettings::default(), false).await {
                // Nothing half-written: the item made for these files goes.
                if let Err(gone) = self.flow.delete_draft(id, 1).await {
                    tracing::warn!(record = id, error = %gone, "a SWORD deposit's item could not be taken back");
                }
                return Err(e.into());
            }
        }
        drop(unpacked);
        self.finish(id, in_progress, notes).await
    }

    /// A new record of `fallback_type` with an entry's metadata, noting
    /// what was left out.
    fn record_of(&self, xml: &[u8], fallback_type: &str, notes: &mut Vec<String>) -> Result<Record, SwordRefusal> {
        let (pairs, more) = self.entry_form(xml)?;
        notes.extend(more);
        let mut record = Record::new(fallback_type, "");
        for p in apply_form(&mut record, &pairs, &self.repo().types(), &self.repo().subjects()) {
            notes.push(format!("{} was left out: {}", p.field, p.problem));
        }
        Ok(record)
    }

    /// Sends the item to review unless `in_progress`, and says how it is.
    async fn finish(&self, id: RecordId, in_progress: bool, notes: Vec<String>) -> Result<Outcome, SwordRefusal> {
        if !in_progress {
            let (record, revision) = self.flow.load(id, Action::View).await?;
            if record.status == Status::Inbox {
                self.flow.submit_as_deposited(id, revision).await?;
            }
        }
        self.outcome_with(id, notes).await
    }

    /// Replaces the item's metadata with an entry's (PUT on the Edit-IRI):
    /// every field of the form the entry does not give is emptied.
    pub async fn replace_metadata(&self, id: RecordId, xml: &[u8], in_progress: bool) -> Result<Outcome, SwordRefusal> {
        let (pairs, notes) = self.entry_form(xml)?;
        let (record, revision) = self.flow.load(id, Action::Edit).await?;
        let mut all: Vec<(String, String)> = form_values(&record)
            .into_keys()
            .filter(|name| !pairs.iter().any(|(f, _)| f == name))
            .map(|name| (name.to_string(), String::new()))
            .collect();
        all.extend(pairs);
        self.edit_leaving_out(id, revision, all, notes, in_progress).await
    }

    /// Adds an entry's metadata to the item's (POST of an entry to the
    /// SE-IRI): the fields it gives replace theirs, the rest stay.
    pub async fn add_metadata(&self, id: RecordId, xml: &[u8], in_progress: bool) -> Result<Outcome, SwordRefusal> {
        let (pairs, notes) = self.entry_form(xml)?;
        let (_, revision) = self.flow.load(id, Action::Edit).await?;
        self.edit_leaving_out(id, revision, pairs, notes, in_progress).await
    }

    /// Applies form pairs, leaving out (and noting) values that cannot be
    /// read, as a deposit does.
    async fn edit_leaving_out(
        &self,
        id: RecordId,
        revision: i64,
        mut pairs: Vec<(String, String)>,
        mut notes: Vec<String>,
        in_progress: bool,
    ) -> Result<Outcome, SwordRefusal> {
        match self.flow.edit(id, revision, &pairs).await {
            Ok(_) => {}
            Err(WorkflowError::Invalid(problems)) => {
                for p in &problems {
                    notes.push(format!("{} was left out: {}", p.field, p.problem));
                }
                pairs.retain(|(f, _)| !problems.iter().any(|p| &p.field == f));
                self.flow.edit(id, revision, &pairs).await?;
            }
            Err(e) => return Err(e.into()),
        }
        self.finish(id, in_progress, notes).await
    }

    /// A multipart request to the Edit-IRI (PUT: `replace`) or the SE-IRI
    /// (POST): the files first (refused files change nothing), then the
    /// metadata.
    pub async fn metadata_and_files(
        &self,
        id: RecordId,
        entry: &[u8],
        media: Content,
        replace: bool,
        in_progress: bool,
    ) -> Result<Outcome, SwordRefusal> {
        self.entry_form(entry)?;
        self.put_files(id, media, replace, true).await?;
        if replace {
            self.replace_metadata(id, entry, in_progress).await
        } else {
            self.add_metadata(id, entry, in_progress).await
        }
    }

    /// Adds files (POST of a file or a package to the EM-IRI or SE-IRI).
    pub async fn add_files(&self, id: RecordId, content: Content, in_progress: bool) -> Result<Outcome, SwordRefusal> {
        self.put_files(id, content, false, in_progress).await
    }

    /// Replaces every file (PUT on the EM-IRI).
    pub async fn replace_files(
        &self,
        id: RecordId,
        content: Content,
        in_progress: bool,
    ) -> Result<Outcome, SwordRefusal> {
        self.put_files(id, content, true, in_progress).await
    }

    async fn put_files(
        &self,
        id: RecordId,
        content: Content,
        replace: bool,
        in_progress: bool,
    ) -> Result<Outcome, SwordRefusal> {
        let (_, revision) = self.flow.load(id, Action::Edit).await?;
        let (files, unpacked) = self.files_of(content).await?;
        self.flow.put_documents(id, revision, files, DocumentSettings::default(), replace).await?;
        drop(unpacked);
        self.finish(id, in_progress, Vec::new()).await
    }

    /// Takes every file off the item (DELETE on the EM-IRI).
    pub async fn delete_files(&self, id: RecordId) -> Result<(), SwordRefusal> {
        let (_, revision) = self.flow.load(id, Action::Edit).await?;
        self.flow.put_documents(id, revision, Vec::new(), DocumentSettings::default(), true).await?;
        Ok(())
    }

    /// Ends an in-progress deposit (POST with `In-Progress: false` and no
    /// body to the SE-IRI): the item goes to review as it is.
    pub async fn complete(&self, id: RecordId) -> Result<Outcome, SwordRefusal> {
        let (record, _) = self.flow.load(id, Action::View).await?;
        if record.status != Status::Inbox {
            // Done already: completing again changes nothing.
            return self.outcome(id).await;
        }
        self.finish(id, false, Vec::new()).await
    }

    /// Deletes the item (DELETE on the Edit-IRI): one that was never live;
    /// a live one is withdrawn by an editor instead.
    pub async fn delete(&self, id: RecordId) -> Result<(), SwordRefusal> {
        let (_, revision) = self.flow.load(id, Action::View).await?;
        self.flow.delete_draft(id, revision).await?;
        Ok(())
    }
}

/// The record of an EPrints XML package and its embedded files.
fn read_eprints_package(body: &Spooled) -> Result<(Record, Vec<NewFile<'static>>, Vec<String>), SwordRefusal> {
    use arkiv_formats::{EprintsReader, FileData};
    let file = std::fs::File::open(&body.file).map_err(|e| SwordRefusal::Package(PackageError::Io(e)))?;
    let mut reader = EprintsReader::new(std::io::BufReader::new(file));
    let item = reader.next().ok_or_else(|| SwordRefusal::EprintsXml("it holds no eprint".into()))?;
    let imported = item.result.map_err(|e| SwordRefusal::EprintsXml(e.to_string()))?;
    let mut notes = imported.warnings;
    let mut files = Vec::new();
    for source in imported.files {
        match source.source {
            FileData::Embedded(bytes) => {
                let declared = imported
                    .record
                    .document(source.doc_pos)
                    .and_then(|d| d.files.iter().find(|f| f.filename == source.filename))
                    .and_then(|f| f.mime_type.clone());
                files.push(NewFile {
                    filename: source.filename,
                    declared_type: declared,
                    bytes: Box::pin(futures::stream::once(async move { Ok(bytes::Bytes::from(bytes)) })),
                })
            }
            FileData::Url(url) => notes.push(format!(
                "the file {} is only named by its address ({url}): send its bytes (embedded, or to the EM-IRI)",
                source.filename
            )),
            FileData::None => notes.push(format!("the file {} came without its bytes", source.filename)),
        }
    }
    Ok((imported.record, files, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entrys_terms_become_the_forms_fields() {
        let terms = [
            ("title", "Carbon pricing"),
            ("creator", "Doe, Jane"),
            ("creator", "Doe, Jane"),
            ("creator", "Roe, Richard"),
            ("abstract", "What it costs."),
            ("issued", "2026-03-01T00:00:00Z"),
            ("identifier", "https://doi.org/10.1234/abc"),
            ("identifier", "https://example.org/paper"),
            ("subject", "climate"),
            ("subject", "trade"),
            ("type", "Policy Paper"),
            ("date", "soon"),
            ("contributor", "Someone"),
        ];
        let meta = EntryMetadata { terms: terms.iter().map(|(t, v)| (t.to_string(), v.to_string())).collect() };
        let (pairs, notes) = entry_pairs(&meta, &ItemTypes::default());
        let get = |f: &str| pairs.iter().find(|(k, _)| k == f).map(|(_, v)| v.as_str());
        assert_eq!(get("title"), Some("Carbon pricing"));
        assert_eq!(get("creators"), Some("Doe, Jane\nRoe, Richard"), "the Atom author and dcterms:creator once");
        assert_eq!(get("date"), Some("2026-03-01"));
        assert_eq!(get("doi"), Some("10.1234/abc"));
        assert_eq!(get("official_url"), Some("https://example.org/paper"));
        assert_eq!(get("keywords"), Some("climate\ntrade"));
        assert_eq!(get("item_type"), Some("policy_paper"));
        assert!(notes.iter().any(|n| n.contains("\"soon\" is not a date")), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("dcterms:contributor")), "{notes:?}");
    }
}
