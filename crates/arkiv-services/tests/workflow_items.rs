//! The deposit workflow's use cases ([`Workflow`]) over a real repository
//! (SQLite in a temporary directory) with one user of every kind: each
//! allowed step's effect on the stored record (its status and fields, one
//! more revision, by whom, made now, on the change feed), and each refused
//! step (a user without the right, an item in the wrong status, a stale
//! revision, input that cannot be used) answering the error the pages show
//! and leaving the store exactly as it was.
//!
//! Records start as last changed an hour ago: `lastmod` counts whole
//! seconds and the repository has no clock to set, so a step's "now" is
//! strictly later without a sleep.

use arkiv_model::{
    Creator, Document, DocumentSecurity, EditorScope, PartialDate, PersonName, Record, RecordId, Revision, Role,
    Status, StoredFile, Timestamp, User,
};
use arkiv_services::accounts::{create_user, NewAccount};
use arkiv_services::workflow::{DocumentSettings, ReviewFilter, Workflow, WorkflowError};
use arkiv_services::{Config, Repository};
use arkiv_storage::{RecordWrite, StatusCounts};
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The PDF every test paper carries as its document 1.
const PDF: &[u8] = b"%PDF-1.4 a test paper\n%%EOF\n";

/// The largest upload this test repository takes.
const MAX_UPLOAD: u64 = 64 * 1024;

struct Fixture {
    repo: Repository,
    depositor: User,
    other: User,
    /// An editor of policy papers (every test paper is one).
    papers: User,
    /// An editor of theses only.
    theses: User,
    admin: User,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.import.max_file_bytes = MAX_UPLOAD;
    let repo = Repository::init(dir.path(), config).await.unwrap();
    let scoped = |t: &str| EditorScope { types: vec![t.to_string()], ..Default::default() };
    let mut users = Vec::new();
    for (email, name, role, scope) in [
        ("depositor@example.org", "The depositor", Role::Depositor, EditorScope::default()),
        ("other@example.org", "Another depositor", Role::Depositor, EditorScope::default()),
        ("papers@example.org", "The policy papers editor", Role::Editor, scoped("policy_paper")),
        ("theses@example.org", "The theses editor", Role::Editor, scoped("thesis")),
        ("admin@example.org", "The admin", Role::Admin, EditorScope::default()),
    ] {
        let new = NewAccount {
            email: email.into(),
            name: name.into(),
            password: "a correct horse battery".into(),
            role,
            scope,
            orcid: None,
        };
        users.push(create_user(repo.accounts.as_ref(), new).await.unwrap());
    }
    let [depositor, other, papers, theses, admin] = users.try_into().unwrap();
    Fixture { repo, depositor, other, papers, theses, admin, _dir: dir }
}

fn an_hour_ago() -> Timestamp {
    Timestamp(Timestamp::now().0 - 3600)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An upload as the web layer hands it over: a stream of chunks.
fn upload(bytes: &[u8]) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = bytes.chunks(1000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures::stream::iter(chunks)
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// What a step could change: the record with its revision and history,
/// and the store around it (the change feed, the record ids, how many
/// records are in each status).
#[derive(Debug, PartialEq)]
struct Snapshot {
    record: Option<(Record, i64)>,
    revisions: Vec<Revision>,
    last_change: i64,
    max_id: RecordId,
    counts: StatusCounts,
}

/// A step that must be refused with an error matching `$error` (and the
/// guard, if any: its bindings are references), leaving the store as it
/// was: the record, its revisions, the change feed, the record ids.
macro_rules! refused {
    ($fx:expr, $id:expr, $step:expr, $error:pat $(if $guard:expr)?) => {{
        let before = $fx.snapshot($id).await;
        let result = $step.await;
        assert!(matches!(&result, Err($error) $(if $guard)?), "{}: {result:?}", stringify!($step));
        assert_eq!($fx.snapshot($id).await, before, "{} changed the store", stringify!($step));
    }};
}

impl Fixture {
    fn as_user<'a>(&'a self, user: &'a User) -> Workflow<'a> {
        Workflow::new(&self.repo, user)
    }

    async fn snapshot(&self, id: RecordId) -> Snapshot {
        let store = &self.repo.store;
        Snapshot {
            record: store.get_record_with_revision(id).await.unwrap(),
            revisions: store.revisions(id).await.unwrap(),
            last_change: store.last_change().await.unwrap(),
            max_id: store.max_record_id().await.unwrap(),
            counts: store.status_counts().await.unwrap(),
        }
    }

    async fn revision(&self, id: RecordId) -> i64 {
        self.repo.store.get_record_with_revision(id).await.unwrap().unwrap().1
    }

    async fn record(&self, id: RecordId) -> Record {
        self.repo.store.get_record(id).await.unwrap().unwrap()
    }

    /// A complete policy paper of the depositor's in `status`, with one
    /// public PDF (document 1), last changed an hour ago. A withdrawn one
    /// was live first (it keeps its datestamp) and says why it went.
    async fn paper(&self, status: Status) -> RecordId {
        let sha = self.repo.files.put(Bytes::from_static(PDF)).await.unwrap();
        let mut r = Record::new("policy_paper", "Gas transit after 2024");
        r.status = if status == Status::Deletion { Status::Archive } else { status };
        r.userid = Some(self.depositor.id);
        r.creators = vec![Creator { name: PersonName::new("Nowak", "Anna"), ..Default::default() }];
        r.date = Some("2024".parse().unwrap());
        r.series = Some("OSW Commentary".into());
        r.number = Some("1".into());
        r.institution = Some("OSW".into());
        r.lastmod = Some(an_hour_ago());
        r.documents = vec![Document {
            pos: 1,
            security: DocumentSecurity::Public,
            main: Some("paper.pdf".into()),
            mime_type: Some("application/pdf".into()),
            files: vec![StoredFile {
                filename: "paper.pdf".into(),
                size: PDF.len() as u64,
                sha256: Some(sha),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let id = self.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
        if status == Status::Deletion {
            let mut r = self.record(id).await;
            r.status = Status::Deletion;
            r.withdrawn_reason = Some("a duplicate".into());
            self.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap();
        }
        id
    }

    /// Sets the record's lastmod back an hour (a revision by `test`), so
    /// that the next step's "now" is strictly later than it.
    async fn backdate(&self, id: RecordId) {
        let mut r = self.record(id).await;
        r.lastmod = Some(an_hour_ago());
        self.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap();
    }

    /// Asserts that one allowed step, begun at `since` from `before`, did
    /// exactly what `change` does to the record and nothing more: one more
    /// revision, by `who`, made now; lastmod now (and the datestamp now, if
    /// the record went live for the first time); one change-feed entry; no
    /// other record. Returns the record as stored.
    async fn assert_step(
        &self,
        id: RecordId,
        before: &Snapshot,
        who: &User,
        since: Timestamp,
        change: impl FnOnce(&mut Record),
    ) -> Record {
        let after = self.snapshot(id).await;
        let (old, revision) = before.record.clone().expect("the record was there before");
        let (got, now_at) = after.record.clone().expect("the record is still there");
        assert_eq!(now_at, revision + 1, "one more revision");
        assert_eq!(after.revisions.len(), before.revisions.len() + 1, "one more revision kept");
        let last = after.revisions.last().unwrap();
        assert_eq!(
            (last.number, last.actor.as_str()),
            (now_at, format!("user:{}", who.id).as_str()),
            "made by the user"
        );
        assert!(last.at >= since, "made now: {:?} is before {since:?}", last.at);
        assert_eq!(last.record, got, "the revision keeps the record as it now is");
        assert!(
            got.lastmod.is_some_and(|t| t >= since) && got.lastmod > old.lastmod,
            "lastmod is now: {:?} (was {:?})",
            got.lastmod,
            old.lastmod
        );
        let mut want = old;
        change(&mut want);
        assert_eq!(got.status, want.status, "the status the step leads to");
        want.lastmod = got.lastmod;
        if want.datestamp.is_none() && want.status == Status::Archive {
            assert!(got.datestamp.is_some_and(|t| t >= since), "live from now: datestamp {:?}", got.datestamp);
            want.datestamp = got.datestamp;
        }
        assert_eq!(got, want, "the record as the step should leave it");
        assert_eq!(after.max_id, before.max_id, "no other record");
        let feed = self.repo.store.changes_since(before.last_change, 10).await.unwrap();
        let feed: Vec<_> = feed.iter().map(|c| (c.record_id, c.revision, c.status)).collect();
        assert_eq!(feed, [(id, now_at, got.status)], "one change on the feed");
        got
    }
}

#[tokio::test]
async fn a_deposit_starts_empty_in_the_depositor_s_workarea() {
    let fx = fixture().await;
    let before = fx.snapshot(0).await;
    let since = Timestamp::now();
    let id = fx.as_user(&fx.depositor).create("policy_paper").await.unwrap();
    assert!(id > before.max_id);
    let record = fx.record(id).await;
    assert_eq!(
        (record.status, record.userid, record.item_type.as_str(), record.title.as_str()),
        (Status::Inbox, Some(fx.depositor.id), "policy_paper", "")
    );
    assert!(record.lastmod.is_some_and(|t| t >= since) && record.datestamp.is_none(), "{record:?}");
    let revisions = fx.repo.store.revisions(id).await.unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].actor, format!("user:{}", fx.depositor.id));
    assert!(revisions[0].at >= since);
    let counts = fx.repo.store.status_counts().await.unwrap();
    assert_eq!(counts, StatusCounts { inbox: before.counts.inbox + 1, ..before.counts });

    // Not a type of this repository: nothing is stored.
    let before = fx.snapshot(0).await;
    match fx.as_user(&fx.depositor).create("spaceship").await {
        Err(WorkflowError::Invalid(problems)) => assert_eq!(problems[0].field, "item_type"),
        other => panic!("an unknown type was accepted: {other:?}"),
    }
    assert_eq!(fx.snapshot(0).await, before, "an item of an unknown type was stored");
    // A disabled account deposits nothing.
    let mut disabled = fx.depositor.clone();
    disabled.disabled = true;
    refused!(fx, 0, fx.as_user(&disabled).create("policy_paper"), WorkflowError::Forbidden);
}

#[tokio::test]
async fn a_new_version_is_a_copy_in_the_workarea_pointing_back() {
    let fx = fixture().await;
    let live = fx.paper(Status::Archive).await;
    let original = fx.snapshot(live).await;
    for who in [&fx.depositor, &fx.papers] {
        let since = Timestamp::now();
        let new = fx.as_user(who).new_version(live).await.unwrap();
        assert_eq!(fx.snapshot(live).await.record, original.record, "the live record is untouched");
        let copy = fx.record(new).await;
        assert!(copy.lastmod.is_some_and(|t| t >= since), "{:?}", copy.lastmod);
        let want = Record {
            id: Some(new),
            status: Status::Inbox,
            userid: Some(who.id),
            datestamp: None,
            lastmod: copy.lastmod,
            withdrawn_reason: None,
            review_note: None,
            replaced_by: None,
            succeeds: Some(live),
            ..original.record.clone().unwrap().0
        };
        assert_eq!(copy, want, "a copy in {}'s workarea", who.name);
        let revisions = fx.repo.store.revisions(new).await.unwrap();
        assert_eq!(revisions.iter().map(|r| r.actor.clone()).collect::<Vec<_>>(), [format!("user:{}", who.id)]);
    }

    // Only of a live item, and only by its depositor or staff in scope.
    refused!(fx, live, fx.as_user(&fx.other).new_version(live), WorkflowError::Forbidden);
    refused!(fx, live, fx.as_user(&fx.theses).new_version(live), WorkflowError::Forbidden);
    let inbox = fx.paper(Status::Inbox).await;
    refused!(fx, inbox, fx.as_user(&fx.depositor).new_version(inbox), WorkflowError::Forbidden);
    refused!(fx, inbox, fx.as_user(&fx.other).new_version(inbox), WorkflowError::NotFound);
}

#[tokio::test]
async fn an_edit_saves_the_form_as_one_revision() {
    let fx = fixture().await;
    let edit = form(&[("title", "  Gas   transit after 2025 "), ("date", "2025-03")]);
    let apply = |r: &mut Record| {
        r.title = "Gas transit after 2025".into();
        r.date = Some(PartialDate { year: 2025, month: Some(3), day: None });
    };
    // The depositor in the workarea; staff in scope in every status but withdrawn.
    for (who, status) in [
        (&fx.depositor, Status::Inbox),
        (&fx.papers, Status::Inbox),
        (&fx.papers, Status::Buffer),
        (&fx.admin, Status::Archive),
    ] {
        let id = fx.paper(status).await;
        let before = fx.snapshot(id).await;
        let since = Timestamp::now();
        let saved = fx.as_user(who).edit(id, before.record.as_ref().unwrap().1, &edit).await.unwrap();
        let stored = fx.assert_step(id, &before, who, since, apply).await;
        assert_eq!(saved, stored, "the step returns the record as stored, its new lastmod included");
    }

    let id = fx.paper(Status::Inbox).await;
    let rev = fx.revision(id).await;
    refused!(fx, id, fx.as_user(&fx.other).edit(id, rev, &edit), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.theses).edit(id, rev, &edit), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.depositor).edit(id, rev - 1, &edit), WorkflowError::Conflict { current } if *current == rev);
    // One value that cannot be read: nothing is saved, not even the good ones.
    let bad = form(&[("title", "A good title"), ("date", "last spring")]);
    let before = fx.snapshot(id).await;
    match fx.as_user(&fx.depositor).edit(id, rev, &bad).await {
        Err(WorkflowError::Invalid(problems)) => {
            assert_eq!(problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(), ["date"])
        }
        other => panic!("an unreadable date was saved: {other:?}"),
    }
    assert_eq!(fx.snapshot(id).await, before, "a form with an unreadable value changed the store");
    // Submitted or live: the depositor waits; withdrawn: nobody edits.
    for status in [Status::Buffer, Status::Archive] {
        let id = fx.paper(status).await;
        let rev = fx.revision(id).await;
        refused!(fx, id, fx.as_user(&fx.depositor).edit(id, rev, &edit), WorkflowError::Forbidden);
    }
    let gone = fx.paper(Status::Deletion).await;
    let rev = fx.revision(gone).await;
    refused!(fx, gone, fx.as_user(&fx.admin).edit(gone, rev, &edit), WorkflowError::Forbidden);
}

#[tokio::test]
async fn documents_are_uploaded_changed_and_removed() {
    let fx = fixture().await;
    let id = fx.paper(Status::Inbox).await;

    // An upload: typed by its bytes, named without the browser's path.
    let bytes = b"%PDF-1.7\nthe full text\n%%EOF\n";
    let before = fx.snapshot(id).await;
    let since = Timestamp::now();
    let settings = DocumentSettings {
        security: DocumentSecurity::Validuser,
        embargo: None,
        license: Some("CC-BY-4.0".into()),
        content: Some("published".into()),
    };
    let flow = fx.as_user(&fx.depositor);
    let pos = flow
        .add_document(
            id,
            fx.revision(id).await,
            "C:\\Users\\me\\final.txt",
            Some("text/plain"),
            upload(bytes),
            settings,
        )
        .await
        .unwrap();
    assert_eq!(pos, 2, "after the paper's document 1");
    let stored = fx
        .assert_step(id, &before, &fx.depositor, since, |r| {
            r.documents.push(Document {
                pos: 2,
                format: Some("application/pdf".into()),
                mime_type: Some("application/pdf".into()),
                security: DocumentSecurity::Validuser,
                license: Some("CC-BY-4.0".into()),
                content: Some("published".into()),
                main: Some("final.txt".into()),
                files: vec![StoredFile {
                    filename: "final.txt".into(),
                    mime_type: Some("application/pdf".into()),
                    size: bytes.len() as u64,
                    sha256: Some(sha256(bytes)),
                    ..Default::default()
                }],
                ..Default::default()
            })
        })
        .await;
    let sha = stored.documents[1].files[0].sha256.clone().unwrap();
    assert_eq!(&fx.repo.files.get_range(&sha, 0..bytes.len() as u64).await.unwrap()[..], bytes, "the bytes are kept");
    fx.backdate(id).await;

    // Uploads that are refused before or after the bytes arrive.
    let rev = fx.revision(id).await;
    let none = DocumentSettings::default;
    refused!(fx, id, flow.add_document(id, rev, "..", None, upload(bytes), none()), WorkflowError::BadUpload(_));
    refused!(fx, id, flow.add_document(id, rev, "empty.pdf", None, upload(b""), none()), WorkflowError::BadUpload(_));
    let big = vec![b'x'; MAX_UPLOAD as usize + 1];
    refused!(fx, id, flow.add_document(id, rev, "big.pdf", None, upload(&big), none()), WorkflowError::BadUpload(m) if m.contains("larger"));
    refused!(fx, id, flow.add_document(id, rev - 1, "a.pdf", None, upload(bytes), none()), WorkflowError::Conflict { current } if *current == rev);
    let other = fx.as_user(&fx.other);
    refused!(fx, id, other.add_document(id, rev, "a.pdf", None, upload(bytes), none()), WorkflowError::NotFound);

    // Who may read document 1, its embargo, its licence.
    let before = fx.snapshot(id).await;
    let since = Timestamp::now();
    let embargo = PartialDate { year: 2030, month: Some(1), day: Some(1) };
    let settings = DocumentSettings {
        security: DocumentSecurity::Staffonly,
        embargo: Some(embargo),
        license: Some("CC-BY-NC-4.0".into()),
        content: Some("accepted".into()),
    };
    flow.set_document(id, rev, 1, settings.clone()).await.unwrap();
    fx.assert_step(id, &before, &fx.depositor, since, |r| {
        let d = &mut r.documents[0];
        d.security = DocumentSecurity::Staffonly;
        d.embargo = Some(embargo);
        d.license = Some("CC-BY-NC-4.0".into());
        d.content = Some("accepted".into());
    })
    .await;
    fx.backdate(id).await;
    let rev = fx.revision(id).await;
    refused!(fx, id, flow.set_document(id, rev, 9, settings.clone()), WorkflowError::NotFound);
    refused!(fx, id, other.set_document(id, rev, 1, settings.clone()), WorkflowError::NotFound);
    refused!(fx, id, flow.set_document(id, rev - 1, 1, settings.clone()), WorkflowError::Conflict { .. });

    // Document 1 taken off; the upload stays.
    let before = fx.snapshot(id).await;
    let since = Timestamp::now();
    flow.remove_document(id, rev, 1).await.unwrap();
    let stored = fx.assert_step(id, &before, &fx.depositor, since, |r| r.documents.retain(|d| d.pos != 1)).await;
    assert_eq!(stored.documents.iter().map(|d| d.pos).collect::<Vec<_>>(), [2]);
    let rev = fx.revision(id).await;
    refused!(fx, id, flow.remove_document(id, rev, 1), WorkflowError::NotFound);
    refused!(fx, id, other.remove_document(id, rev, 2), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.theses).remove_document(id, rev, 2), WorkflowError::NotFound);

    // Under review, the depositor's documents are the editors' to change.
    let buffer = fx.paper(Status::Buffer).await;
    let rev = fx.revision(buffer).await;
    refused!(
        fx,
        buffer,
        flow.add_document(buffer, rev, "a.pdf", None, upload(bytes), none()),
        WorkflowError::Forbidden
    );
    refused!(fx, buffer, flow.set_document(buffer, rev, 1, settings.clone()), WorkflowError::Forbidden);
    refused!(fx, buffer, flow.remove_document(buffer, rev, 1), WorkflowError::Forbidden);
}

#[tokio::test]
async fn a_complete_item_is_submitted_for_review() {
    let fx = fixture().await;
    for who in [&fx.depositor, &fx.papers] {
        // Returned once: the note goes when it is submitted again.
        let id = fx.paper(Status::Inbox).await;
        let mut r = fx.record(id).await;
        r.review_note = Some("Add the number".into());
        fx.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap();
        let before = fx.snapshot(id).await;
        let since = Timestamp::now();
        fx.as_user(who).submit(id, before.record.as_ref().unwrap().1).await.unwrap();
        fx.assert_step(id, &before, who, since, |r| {
            r.status = Status::Buffer;
            r.review_note = None;
        })
        .await;
    }

    let id = fx.paper(Status::Inbox).await;
    let rev = fx.revision(id).await;
    refused!(fx, id, fx.as_user(&fx.other).submit(id, rev), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.theses).submit(id, rev), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.depositor).submit(id, rev - 1), WorkflowError::Conflict { current } if *current == rev);
    // An empty item says what it lacks.
    let empty = fx.as_user(&fx.depositor).create("policy_paper").await.unwrap();
    let rev = fx.revision(empty).await;
    refused!(fx, empty, fx.as_user(&fx.depositor).submit(empty, rev), WorkflowError::Incomplete(lacking) if lacking.contains(&"a title".to_string()) && lacking.contains(&"a document (the full text)".to_string()));
    // Already under review, or live.
    for status in [Status::Buffer, Status::Archive] {
        let id = fx.paper(status).await;
        let rev = fx.revision(id).await;
        refused!(fx, id, fx.as_user(&fx.depositor).submit(id, rev), WorkflowError::Forbidden);
        refused!(fx, id, fx.as_user(&fx.papers).submit(id, rev), WorkflowError::Forbidden);
    }
}

#[tokio::test]
async fn an_editor_in_scope_accepts_an_item_into_the_archive() {
    let fx = fixture().await;
    for who in [&fx.papers, &fx.admin] {
        let id = fx.paper(Status::Buffer).await;
        let before = fx.snapshot(id).await;
        assert_eq!(before.record.as_ref().unwrap().0.datestamp, None, "never live before");
        let since = Timestamp::now();
        fx.as_user(who).accept(id, before.record.as_ref().unwrap().1).await.unwrap();
        // The datestamp (live from now) is checked by assert_step.
        fx.assert_step(id, &before, who, since, |r| r.status = Status::Archive).await;
    }

    let id = fx.paper(Status::Buffer).await;
    let rev = fx.revision(id).await;
    refused!(fx, id, fx.as_user(&fx.depositor).accept(id, rev), WorkflowError::Forbidden);
    refused!(fx, id, fx.as_user(&fx.other).accept(id, rev), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.theses).accept(id, rev), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.papers).accept(id, rev + 1), WorkflowError::Conflict { current } if *current == rev);
    // What the archive would refuse is named as corrections.
    let mut r = fx.record(id).await;
    r.title = " ".into();
    fx.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap();
    let rev = fx.revision(id).await;
    refused!(fx, id, fx.as_user(&fx.papers).accept(id, rev), WorkflowError::Incomplete(p) if p.iter().any(|p| p.starts_with("a correction:") && p.contains("title")));
    // Only from the review buffer.
    for status in [Status::Inbox, Status::Archive, Status::Deletion] {
        let id = fx.paper(status).await;
        let rev = fx.revision(id).await;
        refused!(fx, id, fx.as_user(&fx.papers).accept(id, rev), WorkflowError::Forbidden);
    }
}

#[tokio::test]
async fn an_item_goes_back_to_its_depositor_with_a_note() {
    let fx = fixture().await;
    for (who, note, kept) in [
        (&fx.papers, "  Add the number in the series.\n", Some("Add the number in the series.")),
        (&fx.admin, " ", None),
    ] {
        let id = fx.paper(Status::Buffer).await;
        let before = fx.snapshot(id).await;
        let since = Timestamp::now();
        fx.as_user(who).return_to_depositor(id, before.record.as_ref().unwrap().1, note).await.unwrap();
        fx.assert_step(id, &before, who, since, |r| {
            r.status = Status::Inbox;
            r.review_note = kept.map(str::to_string);
        })
        .await;
    }

    let id = fx.paper(Status::Buffer).await;
    let rev = fx.revision(id).await;
    refused!(fx, id, fx.as_user(&fx.depositor).return_to_depositor(id, rev, "mine"), WorkflowError::Forbidden);
    refused!(fx, id, fx.as_user(&fx.theses).return_to_depositor(id, rev, "no"), WorkflowError::NotFound);
    refused!(fx, id, fx.as_user(&fx.papers).return_to_depositor(id, rev - 1, "late"), WorkflowError::Conflict { .. });
    for status in [Status::Inbox, Status::Archive] {
        let id = fx.paper(status).await;
        let rev = fx.revision(id).await;
        refused!(fx, id, fx.as_user(&fx.papers).return_to_depositor(id, rev, "no"), WorkflowError::Forbidden);
    }
}

#[tokio::test]
async fn a_live_item_is_withdrawn_with_a_reason_and_restored() {
    let fx = fixture().await;
    let id = fx.paper(Status::Archive).await;
    let replacement = fx.paper(Status::Archive).await;
    let before = fx.snapshot(id).await;
    let since = Timestamp::now();
    fx.as_user(&fx.papers)
        .withdraw(id, before.record.as_ref().unwrap().1, " Superseded. ", Some(replacement))
        .await
        .unwrap();
    fx.assert_step(id, &before, &fx.papers, since, |r| {
        r.status = Status::Deletion;
        r.withdrawn_reason = Some("Superseded.".into());
        r.replaced_by = Some(replacement);
    })
    .await;
    assert!(fx.record(id).await.datestamp.is_some(), "a withdrawn item keeps the day it went live");
    fx.backdate(id).await;

    // Back to the archive: the reason and the replacement go.
    let before = fx.snapshot(id).await;
    let since = Timestamp::now();
    fx.as_user(&fx.admin).restore(id, before.record.as_ref().unwrap().1).await.unwrap();
    fx.assert_step(id, &before, &fx.admin, since, |r| {
        r.status = Status::Archive;
        r.withdrawn_reason = None;
        r.replaced_by = None;
    })
    .await;
}

#[tokio::test]
async fn withdrawals_and_restorations_that_are_refused_change_nothing() {
    let fx = fixture().await;
    let live = fx.paper(Status::Archive).await;
    let rev = fx.revision(live).await;
    let inbox = fx.paper(Status::Inbox).await;
    let papers = fx.as_user(&fx.papers);
    refused!(fx, live, papers.withdraw(live, rev, "  ", None), WorkflowError::Invalid(p) if p[0].field == "reason");
    refused!(fx, live, papers.withdraw(live, rev, "x", Some(live)), WorkflowError::Invalid(p) if p[0].field == "replaced_by");
    refused!(fx, live, papers.withdraw(live, rev, "x", Some(inbox)), WorkflowError::Invalid(p) if p[0].field == "replaced_by");
    refused!(fx, live, papers.withdraw(live, rev, "x", Some(live + 1000)), WorkflowError::Invalid(p) if p[0].field == "replaced_by");
    refused!(fx, live, papers.withdraw(live, rev - 1, "x", None), WorkflowError::Conflict { current } if *current == rev);
    refused!(fx, live, fx.as_user(&fx.depositor).withdraw(live, rev, "mine", None), WorkflowError::Forbidden);
    refused!(fx, live, fx.as_user(&fx.theses).withdraw(live, rev, "x", None), WorkflowError::Forbidden);
    refused!(fx, live, papers.restore(live, rev), WorkflowError::Forbidden);
    for status in [Status::Inbox, Status::Buffer] {
        let id = fx.paper(status).await;
        let rev = fx.revision(id).await;
        refused!(fx, id, papers.withdraw(id, rev, "x", None), WorkflowError::Forbidden);
        refused!(fx, id, papers.restore(id, rev), WorkflowError::Forbidden);
    }

    let gone = fx.paper(Status::Deletion).await;
    let rev = fx.revision(gone).await;
    refused!(fx, gone, fx.as_user(&fx.depositor).restore(gone, rev), WorkflowError::Forbidden);
    refused!(fx, gone, fx.as_user(&fx.theses).restore(gone, rev), WorkflowError::Forbidden);
    refused!(fx, gone, papers.restore(gone, rev - 1), WorkflowError::Conflict { .. });
    refused!(fx, gone, papers.withdraw(gone, rev, "again", None), WorkflowError::Forbidden);
}

#[tokio::test]
async fn the_history_names_who_changed_what_for_those_who_may_see_it() {
    let fx = fixture().await;
    let id = fx.as_user(&fx.depositor).create("policy_paper").await.unwrap();
    let rev = fx.revision(id).await;
    fx.as_user(&fx.depositor).edit(id, rev, &form(&[("title", "A first title")])).await.unwrap();
    for who in [&fx.depositor, &fx.papers, &fx.admin] {
        let (record, entries) = fx.as_user(who).history(id).await.unwrap();
        assert_eq!(record.title, "A first title");
        assert_eq!(entries.iter().map(|e| e.number).collect::<Vec<_>>(), [2, 1], "newest first");
        assert!(entries.iter().all(|e| e.actor == "The depositor"), "{entries:?}");
        let title = entries[0].changes.iter().find(|c| c.field == "title").expect("the title's change");
        assert_eq!((title.before.as_str(), title.after.as_str()), ("", "A first title"));
    }
    for who in [&fx.other, &fx.theses] {
        assert!(matches!(fx.as_user(who).history(id).await, Err(WorkflowError::NotFound)), "{}", who.name);
    }
}

#[tokio::test]
async fn the_workarea_lists_one_s_own_items_and_the_review_buffer_an_editor_s_scope() {
    let fx = fixture().await;
    let mine = fx.paper(Status::Inbox).await;
    let theirs = fx.as_user(&fx.other).create("policy_paper").await.unwrap();
    let waiting = fx.paper(Status::Buffer).await;
    let ids = |records: Vec<Record>| records.into_iter().map(|r| r.id.unwrap()).collect::<Vec<_>>();

    assert_eq!(ids(fx.as_user(&fx.depositor).my_items(Status::Inbox, 10).await.unwrap()), [mine]);
    assert_eq!(ids(fx.as_user(&fx.depositor).my_items(Status::Buffer, 10).await.unwrap()), [waiting]);
    assert_eq!(ids(fx.as_user(&fx.other).my_items(Status::Inbox, 10).await.unwrap()), [theirs]);

    let all = ReviewFilter::default();
    assert_eq!(ids(fx.as_user(&fx.papers).review_buffer(&all, None, 10).await.unwrap().items), [waiting]);
    assert_eq!(ids(fx.as_user(&fx.admin).review_buffer(&all, None, 10).await.unwrap().items), [waiting]);
    assert!(fx.as_user(&fx.theses).review_buffer(&all, None, 10).await.unwrap().items.is_empty(), "out of scope");
    let theses_only = ReviewFilter { item_type: Some("thesis".into()), newest_first: false };
    assert!(fx.as_user(&fx.admin).review_buffer(&theses_only, None, 10).await.unwrap().items.is_empty());
    for who in [&fx.depositor, &fx.other] {
        assert!(matches!(fx.as_user(who).review_buffer(&all, None, 10).await, Err(WorkflowError::Forbidden)));
    }
}

#[tokio::test]
async fn changes_are_stamped_by_the_repository_s_clock() {
    use arkiv_services::clock::SetClock;
    let mut fx = fixture().await;
    let new_year_2031 = Timestamp(1_924_992_000);
    let clock = std::sync::Arc::new(SetClock::new(new_year_2031));
    fx.repo = fx.repo.with_clock(clock.clone());
    assert_eq!(fx.repo.today().to_string(), "2031-01-01");
    assert_eq!(fx.repo.export_context().today, fx.repo.today(), "exports decide embargoes by the same day");

    let id = fx.as_user(&fx.depositor).create("policy_paper").await.unwrap();
    let record = fx.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!(record.lastmod, Some(new_year_2031), "a new item is stamped by the repository's clock");

    clock.advance(90);
    let revision = fx.repo.store.get_record_with_revision(id).await.unwrap().unwrap().1;
    let saved = fx.as_user(&fx.depositor).edit(id, revision, &form(&[("title", "Gas transit")])).await.unwrap();
    assert_eq!(saved.lastmod, Some(Timestamp(new_year_2031.0 + 90)), "an edit is stamped when the clock says");
    assert_eq!(fx.repo.store.get_record(id).await.unwrap().unwrap(), saved);
}
