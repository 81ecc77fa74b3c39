//! The deposit workflow's use cases: a user acting on records. A depositor
//! creates an item in their workarea, fills it in, uploads its documents
//! and submits it; an editor reviews the buffer, edits, accepts or returns
//! items, withdraws live ones and restores them.
//!
//! Every method asks [`may`] first, so no caller (the web pages, the REST
//! API, SWORD) can skip a rule, and writes with the revision the user started from, so
//! two editors never silently overwrite each other: the second gets
//! [`WorkflowError::Conflict`] and sees the item as it now is. Every change
//! is a revision of the record, with the user as its actor.

use super::metadata::{apply_form, missing, FieldProblem};
use super::permissions::{may, Action};
use crate::Repository;
use arkiv_model::{Document, DocumentSecurity, PartialDate, Record, RecordId, Status, StoredFile, User};
use arkiv_storage::{RecordWrite, StoreError, WorkQuery};
use bytes::Bytes;
use futures::Stream;

/// Why a workflow step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// No such record, or one the user may not know of.
    #[error("no such item")]
    NotFound,
    #[error("you may not do this")]
    Forbidden,
    /// Someone else changed the record since the user loaded it.
    #[error("this item was changed by someone else while you were working on it (it is now at revision {current}); your change was not saved: look at the item as it is now and make your change again")]
    Conflict { current: i64 },
    /// The item may not be submitted yet.
    #[error("the item is not complete: it needs {}", .0.join(", "))]
    Incomplete(Vec<String>),
    /// Values of the form that could not be read; nothing was saved.
    #[error("some fields could not be read")]
    Invalid(Vec<FieldProblem>),
    #[error("{0}")]
    BadUpload(String),
    /// Too many of these lately from the visitor's address.
    #[error("too many requests from your address lately: please try again in {}", crate::accounts::wait_words(*seconds))]
    TooMany { seconds: i64 },
    #[error(transparent)]
    Store(anyhow::Error),
}

impl From<StoreError> for WorkflowError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { current, .. } => WorkflowError::Conflict { current },
            StoreError::NotFound(_) => WorkflowError::NotFound,
            other => WorkflowError::Store(other.into()),
        }
    }
}

pub type Result<T, E = WorkflowError> = std::result::Result<T, E>;

/// A document's access settings as the depositor chose them.
#[derive(Debug, Clone, Default)]
pub struct DocumentSettings {
    pub security: DocumentSecurity,
    pub embargo: Option<PartialDate>,
    pub license: Option<String>,
    /// `published`, `accepted`, `submitted`, `supplemental`...
    pub content: Option<String>,
}

/// A file on its way in: its name (a hint: the type is sniffed from the
/// bytes), the type its sender declared, and the bytes as they arrive.
pub struct NewFile<'s> {
    pub filename: String,
    pub declared_type: Option<String>,
    pub bytes: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 's>>,
}

/// Refuses a document licence the model would refuse (it is written into
/// the Signposting `Link` header), with the model's message.
fn check_settings(settings: &DocumentSettings) -> Result<()> {
    match settings.license.as_deref().and_then(arkiv_model::validate::license_problem) {
        Some(problem) => Err(WorkflowError::Invalid(vec![FieldProblem { field: "license".into(), problem }])),
        None => Ok(()),
    }
}

/// A user at work on the repository's records.
pub struct Workflow<'a> {
    pub repo: &'a Repository,
    pub user: &'a User,
    /// Who really acts, when it is not `user`: an account with the right to
    /// deposit for others ([`Action::Mediate`]). Rules are `user`'s; the
    /// revisions name the mediator.
    mediator: Option<&'a User>,
}

impl<'a> Workflow<'a> {
    pub fn new(repo: &'a Repository, user: &'a User) -> Self {
        Workflow { repo, user, mediator: None }
    }

    /// `mediator` acting for `user` (SWORD's `On-Behalf-Of`): refused
    /// unless the mediator holds the right ([`super::may_mediate`]).
    pub fn on_behalf_of(repo: &'a Repository, user: &'a User, mediator: &'a User) -> Result<Self> {
        if mediator.id != user.id && !super::may_mediate(mediator, &repo.config.sword.mediators) {
            return Err(WorkflowError::Forbidden);
        }
        Ok(Workflow { repo, user, mediator: Some(mediator).filter(|m| m.id != user.id) })
    }

    /// The name revisions carry: whoever really acted.
    fn actor(&self) -> String {
        format!("user:{}", self.mediator.unwrap_or(self.user).id)
    }

    /// The record and its revision, if the user may take `action` on it.
    /// A record the user may not even see answers `NotFound`, as if it did
    /// not exist.
    pub async fn load(&self, id: RecordId, action: Action) -> Result<(Record, i64)> {
        let (record, revision) = self.repo.store.get_record_with_revision(id).await?.ok_or(WorkflowError::NotFound)?;
        if !may(Some(self.user), Action::View, Some(&record)) {
            return Err(WorkflowError::NotFound);
        }
        if !may(Some(self.user), action, Some(&record)) {
            return Err(WorkflowError::Forbidden);
        }
        Ok((record, revision))
    }

    /// Writes the record as revision `expected + 1`, stamped now.
    async fn save(&self, record: &mut Record, expected: i64) -> Result<()> {
        record.lastmod = Some(self.repo.now());
        let mut write = RecordWrite::new(record.clone(), &self.actor());
        write.expected_revision = Some(expected);
        self.repo.store.put_records(vec![write]).await?;
        Ok(())
    }

    /// Loads for `action`, checks the revision the user saw, lets `change`
    /// change the record, and saves it.
    async fn change(
        &self,
        id: RecordId,
        expected: i64,
        action: Action,
        change: impl FnOnce(&mut Record) -> Result<()>,
    ) -> Result<Record> {
        let (mut record, current) = self.load(id, action).await?;
        if current != expected {
            return Err(WorkflowError::Conflict { current });
        }
        change(&mut record)?;
        // The record returned is the one stored, its new lastmod included.
        self.save(&mut record, expected).await?;
        Ok(record)
    }

    /// Whether the user may start an item of `item_type`.
    fn may_start(&self, item_type: &str) -> Result<()> {
        if !may(Some(self.user), Action::Deposit, None) {
            return Err(WorkflowError::Forbidden);
        }
        if !self.repo.types().contains(item_type) {
            return Err(WorkflowError::Invalid(vec![FieldProblem {
                field: "item_type".into(),
                problem: format!("{item_type:?} is not an item type of this repository"),
            }]));
        }
        Ok(())
    }

    /// Writes `record` as a new item in the user's workarea, with every
    /// field the repository gives (id, status, owner, dates, a review's
    /// or a withdrawal's words) set afresh.
    async fn put_new(&self, record: Record) -> Result<RecordId> {
        let record = Record {
            id: None,
            status: Status::Inbox,
            userid: Some(self.user.id),
            datestamp: None,
            lastmod: Some(self.repo.now()),
            withdrawn_reason: None,
            review_note: None,
            replaced_by: None,
            ..record
        };
        let ids = self.repo.store.put_records(vec![RecordWrite::new(record, &self.actor())]).await?;
        Ok(ids[0])
    }

    /// A new, empty item of `item_type` in the user's workarea.
    pub async fn create(&self, item_type: &str) -> Result<RecordId> {
        self.may_start(item_type)?;
        self.put_new(Record::new(item_type, "")).await
    }

    /// A new item in the user's workarea holding `record`'s metadata (as a
    /// deposit that arrives whole: SWORD, a package). Its documents, status
    /// and every id are the repository's to give, so they are dropped; an
    /// item type this repository does not know is refused.
    pub async fn create_with(&self, record: Record) -> Result<RecordId> {
        self.may_start(&record.item_type)?;
        self.put_new(Record { succeeds: None, documents: Vec::new(), ..record }).await
    }

    /// A new version of a live record: a copy of its metadata and documents
    /// (the bytes are shared: the file store keeps them by checksum) in the
    /// user's workarea, pointing back at the record it succeeds. It goes
    /// through review like any deposit; both versions stay live, each page
    /// linking to the other.
    pub async fn new_version(&self, id: RecordId) -> Result<RecordId> {
        let (earlier, _) = self.load(id, Action::NewVersion).await?;
        self.put_new(Record { succeeds: Some(id), ..earlier }).await
    }

    /// Applies the deposit form. Nothing is saved if any value cannot be
    /// read: the form comes back with the problems and what was typed.
    pub async fn edit(&self, id: RecordId, expected: i64, form: &[(String, String)]) -> Result<Record> {
        let subjects = self.repo.subjects();
        let types = &self.repo.types();
        self.change(id, expected, Action::Edit, |record| {
            let problems = apply_form(record, form, types, &subjects);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(WorkflowError::Invalid(problems))
            }
        })
        .await
    }

    /// Stores an uploaded file (streamed: never whole in memory, refused
    /// past the configured size) and adds it to the item as a new
    /// document. The type is sniffed from the bytes; the name the browser
    /// sent is only a hint. Returns the document's position.
    pub async fn add_document<S>(
        &self,
        id: RecordId,
        expected: i64,
        filename: &str,
        declared_type: Option<&str>,
        bytes: S,
        settings: DocumentSettings,
    ) -> Result<u32>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Unpin + Send,
    {
        let file = NewFile {
            filename: filename.to_string(),
            declared_type: declared_type.map(str::to_string),
            bytes: Box::pin(bytes),
        };
        let positions = self.put_documents(id, expected, vec![file], settings, false).await?;
        Ok(positions[0])
    }

    /// Stores several files (each streamed, each bounded as
    /// [`Self::add_document`] bounds one) and adds them to the item as new
    /// documents in one revision, after taking every document off first
    /// when `replace` (SWORD's "replace the files", a package's contents).
    /// Nothing changes unless every file was stored. Returns their
    /// positions.
    pub async fn put_documents(
        &self,
        id: RecordId,
        expected: i64,
        files: Vec<NewFile<'_>>,
        settings: DocumentSettings,
        replace: bool,
    ) -> Result<Vec<u32>> {
        let mut named = Vec::with_capacity(files.len());
        for file in files {
            let name = safe_filename(&file.filename).ok_or_else(|| {
                WorkflowError::BadUpload("choose a file to upload (its name was empty or unusable)".into())
            })?;
            named.push((name, file));
        }
        // Check the right before taking the bytes.
        let (record, current) = self.load(id, Action::Edit).await?;
        if current != expected {
            return Err(WorkflowError::Conflict { current });
        }
        check_settings(&settings)?;
        let max_file = self.repo.config.import.max_file_bytes;
        // A draft's files count against its owner's quota; a record that
        // was ever live keeps its files for good and has none. Without a
        // quota nothing is counted: the count reads every draft revision
        // of the owner's, which grows with a router's deposits.
        let quota = self.repo.config.deposit.draft_quota_bytes();
        let usage = match record.userid {
            Some(owner)
                if quota.is_some()
                    && record.datestamp.is_none()
                    && matches!(record.status, Status::Inbox | Status::Buffer) =>
            {
                Some(crate::file_gc::draft_usage(self.repo, owner).await.map_err(WorkflowError::Store)?)
            }
            _ => None,
        };
        let mut left = usage.map_or(u64::MAX, |u| u.left());
        let over_quota = |usage: crate::file_gc::DraftUsage| {
            WorkflowError::BadUpload(format!(
                "this file does not fit in the draft quota: drafts hold {} of {} (files removed from a draft \
                 count until they are purged, {} days after their removal)",
                crate::file_gc::megabytes(usage.bytes),
                crate::file_gc::megabytes(usage.quota.unwrap_or_default()),
                self.repo.config.files.purge_after_days
            ))
        };
        let mut stored = Vec::with_capacity(named.len());
        for (filename, file) in named {
            if left == 0 {
                return Err(over_quota(usage.expect("a quota")));
            }
            // Streamed with the tighter bound, so bytes past it are never stored.
            let limit = max_file.min(left);
            let (sha, size) = self.repo.files.put_stream(file.bytes, limit).await.map_err(|e| match e {
                StoreError::Io(io) if io.kind() == std::io::ErrorKind::FileTooLarge && limit < max_file => {
                    over_quota(usage.expect("a quota"))
                }
                StoreError::Io(io) if io.kind() == std::io::ErrorKind::FileTooLarge => WorkflowError::BadUpload(
                    format!("the file is larger than this repository accepts ({} MB)", max_file / (1024 * 1024)),
                ),
                StoreError::Io(io) => WorkflowError::BadUpload(format!("the upload did not arrive whole ({io})")),
                other => WorkflowError::Store(other.into()),
            })?;
            if size == 0 {
                return Err(WorkflowError::BadUpload(format!("the file {filename} is empty")));
            }
            left = left.saturating_sub(size);
            let head =
                self.repo.files.get_range(&sha, 0..size.min(8192)).await.map_err(|e| WorkflowError::Store(e.into()))?;
            let mime = super::sniff::mime_type(&head, &filename, file.declared_type.as_deref());
            stored.push((filename, sha, size, mime));
        }
        let mut positions = Vec::with_capacity(stored.len());
        self.change(id, expected, Action::Edit, |record| {
            if replace {
                record.documents.clear();
            }
            let mut pos = record.documents.iter().map(|d| d.pos).max().unwrap_or(0);
            for (filename, sha, size, mime) in stored {
                pos += 1;
                positions.push(pos);
                record.documents.push(Document {
                    pos,
                    format: Some(mime.clone()),
                    mime_type: Some(mime.clone()),
                    security: settings.security,
                    embargo: settings.embargo,
                    license: settings.license.clone(),
                    content: settings.content.clone(),
                    main: Some(filename.clone()),
                    files: vec![StoredFile {
                        filename,
                        mime_type: Some(mime),
                        size,
                        sha256: Some(sha),
                        ..Default::default()
                    }],
                    ..Default::default()
                });
            }
            Ok(())
        })
        .await?;
        Ok(positions)
    }

    /// Changes who may read a document, its embargo and licence.
    pub async fn set_document(&self, id: RecordId, expected: i64, pos: u32, settings: DocumentSettings) -> Result<()> {
        self.change(id, expected, Action::Edit, |record| {
            let doc = record.documents.iter_mut().find(|d| d.pos == pos).ok_or(WorkflowError::NotFound)?;
            check_settings(&settings)?;
            doc.security = settings.security;
            doc.embargo = settings.embargo;
            doc.license = settings.license;
            doc.content = settings.content;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Takes a document off the item. Earlier revisions still name its
    /// bytes: an item that was ever live keeps them for good; a draft that
    /// never went live has them purged after `[files] purge_after_days`
    /// (see [`crate::file_gc`]), its history saying so.
    pub async fn remove_document(&self, id: RecordId, expected: i64, pos: u32) -> Result<()> {
        self.change(id, expected, Action::Edit, |record| {
            let before = record.documents.len();
            record.documents.retain(|d| d.pos != pos);
            if record.documents.len() == before {
                Err(WorkflowError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
        .map(drop)
    }

    /// Sends a complete item from the workarea to the review buffer.
    pub async fn submit(&self, id: RecordId, expected: i64) -> Result<()> {
        let types = &self.repo.types();
        self.change(id, expected, Action::Submit, |record| {
            let lacking = missing(record, types);
            if !lacking.is_empty() {
                return Err(WorkflowError::Incomplete(lacking));
            }
            record.status = Status::Buffer;
            record.review_note = None;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Sends an item from the workarea to the review buffer as it is, what
    /// it lacks included, which is returned. For deposits by machine
    /// (SWORD's `In-Progress: false`): a client cannot fill in a form, so
    /// the editor completes the item in review, where its page lists what
    /// is missing; acceptance still needs a valid record.
    pub async fn submit_as_deposited(&self, id: RecordId, expected: i64) -> Result<Vec<String>> {
        let types = &self.repo.types();
        let mut lacking = Vec::new();
        self.change(id, expected, Action::Submit, |record| {
            lacking = missing(record, types);
            record.status = Status::Buffer;
            record.review_note = None;
            Ok(())
        })
        .await?;
        Ok(lacking)
    }

    /// Accepts an item from the buffer into the live archive (it gets its
    /// datestamp, the moment it went live, from the store).
    pub async fn accept(&self, id: RecordId, expected: i64) -> Result<()> {
        let types = &self.repo.types();
        self.change(id, expected, Action::Accept, |record| {
            if let Err(problems) = arkiv_model::validate(record, types) {
                return Err(WorkflowError::Incomplete(problems.iter().map(|p| format!("a correction: {p}")).collect()));
            }
            record.status = Status::Archive;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Returns an item from the buffer to its depositor's workarea with a
    /// note saying what to change.
    pub async fn return_to_depositor(&self, id: RecordId, expected: i64, note: &str) -> Result<()> {
        let note = note.trim();
        self.change(id, expected, Action::Return, |record| {
            record.status = Status::Inbox;
            record.review_note = Some(note.to_string()).filter(|n| !n.is_empty());
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Withdraws a live item: its page becomes a tombstone giving `reason`
    /// (and the replacement, if any); OAI-PMH reports it deleted.
    pub async fn withdraw(
        &self,
        id: RecordId,
        expected: i64,
        reason: &str,
        replaced_by: Option<RecordId>,
    ) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(WorkflowError::Invalid(vec![FieldProblem {
                field: "reason".into(),
                problem: "say why the item is withdrawn: readers see it on the tombstone".into(),
            }]));
        }
        if let Some(other) = replaced_by {
            let live = self.repo.store.get_record(other).await?.is_some_and(|r| r.is_live());
            if other == id || !live {
                return Err(WorkflowError::Invalid(vec![FieldProblem {
                    field: "replaced_by".into(),
                    problem: format!("{other} is not another live item"),
                }]));
            }
        }
        self.change(id, expected, Action::Withdraw, |record| {
            record.status = Status::Deletion;
            record.withdrawn_reason = Some(reason.to_string());
            record.replaced_by = replaced_by;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Brings a withdrawn item back to the live archive.
    pub async fn restore(&self, id: RecordId, expected: i64) -> Result<()> {
        self.change(id, expected, Action::Restore, |record| {
            record.status = Status::Archive;
            record.withdrawn_reason = None;
            record.replaced_by = None;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Deletes an item that was never live, with every revision of it: a
    /// draft, or a deposit still awaiting review, that its depositor (or an
    /// editor in scope) gives up. Its files are left to the clean-up, and
    /// count against no quota from now on. A record that was ever live is
    /// never deleted: it is withdrawn, and its page becomes a tombstone.
    pub async fn delete_draft(&self, id: RecordId, expected: i64) -> Result<()> {
        let (record, current) = self.load(id, Action::View).await?;
        if current != expected {
            return Err(WorkflowError::Conflict { current });
        }
        let not_a_draft = || {
            WorkflowError::Invalid(vec![FieldProblem {
                field: "status".into(),
                problem: "only an item that was never live can be deleted; a live item is withdrawn".into(),
            }])
        };
        if !may(Some(self.user), Action::DeleteDraft, Some(&record)) {
            // Whoever may change the item learns why it cannot go.
            return Err(if may(Some(self.user), Action::Edit, Some(&record)) {
                not_a_draft()
            } else {
                WorkflowError::Forbidden
            });
        }
        match self.repo.store.delete_draft(id, expected).await {
            Ok(()) => {}
            Err(StoreError::Refused(_)) => return Err(not_a_draft()),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(record = id, by = self.user.id, "draft deleted");
        Ok(())
    }

    /// Every revision of an item as a readable diff, newest first: for its
    /// depositor and the staff whose scope covers it.
    pub async fn history(&self, id: RecordId) -> Result<(Record, Vec<super::history::HistoryEntry>)> {
        let record = self.repo.store.get_record(id).await?.ok_or(WorkflowError::NotFound)?;
        if record.userid != Some(self.user.id) && !super::permissions::in_scope(self.user, &record) {
            return Err(WorkflowError::NotFound);
        }
        let revisions = self.repo.store.revisions(id).await?;
        let mut names = std::collections::HashMap::new();
        for rev in &revisions {
            if let Some(uid) = rev.actor.strip_prefix("user:").and_then(|u| u.parse::<i64>().ok()) {
                if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(uid) {
                    let user = self.repo.accounts.user(uid).await.map_err(|e| WorkflowError::Store(e.into()))?;
                    slot.insert(user.map(|u| u.name));
                }
            }
        }
        let purges = self.repo.store.record_file_purges(id).await?;
        Ok((record, super::history::history(&revisions, &purges, |uid| names.get(&uid).cloned().flatten())))
    }

    /// The user's own items in one status, most recently changed first.
    pub async fn my_items(&self, status: Status, limit: i64) -> Result<Vec<Record>> {
        let query = WorkQuery { status, owner: Some(self.user.id), newest_first: true, ..Default::default() };
        Ok(self.repo.store.work_items(&query, limit).await?)
    }

    /// A page of the review buffer (oldest first unless `filter` says
    /// otherwise, after the cursor), only the items in this editor's scope.
    /// Out-of-scope items are skipped page by page, so an editor of one
    /// series never sees another's.
    pub async fn review_buffer(
        &self,
        filter: &ReviewFilter,
        after: Option<(i64, RecordId)>,
        limit: i64,
    ) -> Result<ReviewPage> {
        if !may(Some(self.user), Action::Review, None) {
            return Err(WorkflowError::Forbidden);
        }
        let mut items = Vec::new();
        let mut cursor = after;
        // Bounded: at most ten store pages per screen, however narrow the scope.
        for _ in 0..10 {
            let query = WorkQuery {
                status: Status::Buffer,
                item_type: filter.item_type.clone(),
                after: cursor,
                newest_first: filter.newest_first,
                ..Default::default()
            };
            let page = self.repo.store.work_items(&query, limit).await?;
            let full = page.len() as i64 == limit;
            for record in page {
                cursor = Some((record.lastmod.map_or(0, |t| t.0), record.id.unwrap_or(0)));
                if may(Some(self.user), Action::Accept, Some(&record)) {
                    items.push(record);
                    if items.len() as i64 == limit {
                        return Ok(ReviewPage { items, next: cursor });
                    }
                }
            }
            if !full {
                return Ok(ReviewPage { items, next: None });
            }
        }
        Ok(ReviewPage { items, next: cursor })
    }
}

/// How an editor narrows and orders the review buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    /// Only items of this type.
    pub item_type: Option<String>,
    /// Most recently submitted first (default: oldest first, the queue).
    pub newest_first: bool,
}

/// A screen of the review buffer and where the next starts.
#[derive(Debug, Clone)]
pub struct ReviewPage {
    pub items: Vec<Record>,
    pub next: Option<(i64, RecordId)>,
}

/// The last path component of what the browser sent, without control
/// characters, invisible ones (`validate::is_invisible`: bidirectional
/// controls, zero-width characters) or separators; `None` if nothing
/// usable is left.
fn safe_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !arkiv_model::validate::is_invisible(c))
        .collect::<String>()
        .trim()
        .to_string();
    let cleaned: String = cleaned.chars().take(200).collect();
    (arkiv_model::validate::is_safe_filename(&cleaned) && !cleaned.starts_with('.')).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::safe_filename;

    #[test]
    fn upload_names_lose_their_paths() {
        assert_eq!(safe_filename("C:\\Users\\me\\paper.pdf").as_deref(), Some("paper.pdf"));
        assert_eq!(safe_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(safe_filename("  "), None);
        assert_eq!(safe_filename(".."), None);
    }
}
