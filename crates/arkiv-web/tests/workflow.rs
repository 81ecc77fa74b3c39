//! The deposit workflow over real HTTP against a running server: a
//! depositor deposits a policy paper with its PDF and submits it, an
//! editor accepts it and it is live; items go back with a note; two edits
//! of one revision do not silently overwrite each other; withdrawal leaves
//! a tombstone and OAI-PMH reports the record deleted; uploads are typed by
//! their bytes and served so they cannot run script; and the access-control
//! matrix: every workflow route × every kind of visitor × the record's
//! status and the document's security gives the expected answer, every
//! allowed write redirects where it should and stores exactly the change
//! asked for, and every refused one (and every page) leaves the store as
//! it was.

mod common;

use arkiv_model::{Document, DocumentSecurity, PersonName, Record, Revision, Status, StoredFile, Subject, Timestamp};
use arkiv_services::config::AccountSettings;
use arkiv_storage::{RecordWrite, StatusCounts};
use common::{csrf_field, start, Site};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};

const SEED_PDF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/seed/files/commentary_137.pdf");

/// A hidden field's value on a page.
fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("no {name} field in:\n{html}")) + key.len();
    html[at..].split('"').next().unwrap().to_string()
}

fn location(res: &Response) -> String {
    res.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

impl Site {
    /// The deposit page as `who` sees it: its CSRF token and revision.
    async fn deposit_form(&self, id: i64, who: &str) -> (String, String, String) {
        let res = self.get(&format!("/deposit/{id}"), who).await;
        assert_eq!(res.status(), StatusCode::OK, "GET /deposit/{id}");
        let html = res.text().await.unwrap();
        (csrf_field(&html), hidden(&html, "revision"), html)
    }

    async fn upload(&self, id: i64, who: &str, name: &str, bytes: Vec<u8>, declared: &str, security: &str) -> Response {
        let (csrf, revision, _) = self.deposit_form(id, who).await;
        let form = Form::new()
            .text("csrf", csrf)
            .text("revision", revision)
            .text("security", security.to_string())
            .text("embargo", "")
            .text("license", "CC-BY-4.0")
            .part("file", Part::bytes(bytes).file_name(name.to_string()).mime_str(declared).unwrap());
        self.client
            .post(self.url(&format!("/deposit/{id}/upload")))
            .header("cookie", who)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a workflow step (`submit`, `accept`...) at the revision shown.
    async fn step(&self, id: i64, step: &str, who: &str, extra: &[(&str, &str)]) -> Response {
        let (csrf, revision, _) = self.deposit_form(id, who).await;
        let mut form = vec![("csrf", csrf.as_str()), ("revision", revision.as_str())];
        form.extend_from_slice(extra);
        self.post(&format!("/deposit/{id}/{step}"), who, &form).await
    }
}

fn paper_form<'a>(csrf: &'a str, revision: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("revision", revision),
        ("item_type", "policy_paper"),
        ("title", "Kazakhstan's attitude towards integration with Russia: less love, more fear"),
        ("creators", "Jarosiewicz, Aleksandra"),
        ("date", "2014-05-29"),
        ("series", "OSW Commentary"),
        ("number", "137"),
        ("institution", "Centre for Eastern Studies"),
        ("abstract", "Kazakhstan has been the most active promoter of Eurasian integration."),
        ("languages", "en"),
    ]
}

#[tokio::test]
async fn deposit_submit_accept_and_the_paper_is_live() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;

    // The workarea, and a new policy paper in it.
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    assert!(html.contains("Deposit a new item"));
    let token = csrf_field(&html);
    let res = site.post("/workarea/new", &depositor, &[("csrf", &token), ("item_type", "policy_paper")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&res).trim_start_matches("/deposit/").parse().expect("redirected to the new item");

    // The form follows the type, and says what is missing.
    let (csrf, revision, html) = site.deposit_form(id, &depositor).await;
    for field in ["name=\"series\"", "name=\"number\"", "name=\"institution\""] {
        assert!(html.contains(field), "a policy paper asks for {field}");
    }
    assert!(!html.contains("name=\"publication\""), "a journal is not asked of a policy paper");
    assert!(html.contains("the series") && html.contains("a document (the full text)"));
    let res =
        site.post(&format!("/deposit/{id}/submit"), &depositor, &[("csrf", &csrf), ("revision", &revision)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "an empty item is not submitted");
    assert!(res.text().await.unwrap().contains("Not submitted"));

    // Fill it in and upload the PDF (typed by its bytes, not its name).
    let res = site.post(&format!("/deposit/{id}"), &depositor, &paper_form(&csrf, &revision)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "saved");
    let pdf = std::fs::read(SEED_PDF).unwrap();
    let res =
        site.upload(id, &depositor, "commentary 137.PDF", pdf.clone(), "application/octet-stream", "public").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "uploaded: {}", res.text().await.unwrap_or_default());
    let (_, _, html) = site.deposit_form(id, &depositor).await;
    assert!(html.contains("commentary 137.PDF") && html.contains("application/pdf"), "{html}");
    assert!(!html.contains("Before it can be submitted"), "complete now:\n{html}");

    // Not public yet: a visitor finds nothing, the depositor reads the file.
    assert_eq!(site.get(&format!("/{id}/"), "").await.status(), StatusCode::NOT_FOUND);
    let file = format!("/{id}/1/commentary%20137.PDF");
    assert_eq!(site.get(&file, "").await.status(), StatusCode::NOT_FOUND);
    let own = site.get(&file, &depositor).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.bytes().await.unwrap().len(), pdf.len());

    assert_eq!(site.step(id, "submit", &depositor, &[]).await.status(), StatusCode::SEE_OTHER);
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    assert!(html.contains("Under review") && html.contains("Kazakhstan"));
    // Under review, still a draft: its file counts against the quota.
    let shown = arkiv_services::file_gc::megabytes(pdf.len() as u64);
    assert!(html.contains(&format!("Draft files: {shown} of 1,024 MB")), "the workarea shows the draft quota");
    // Submitted: the depositor waits; the form is gone and a save is refused.
    let html = site.get(&format!("/deposit/{id}"), &depositor).await.text().await.unwrap();
    assert!(!html.contains(&format!("action=\"/deposit/{id}\"")), "no edit form while under review");
    let csrf = csrf_field(&html);
    let revision = site.repo.store.get_record_with_revision(id).await.unwrap().unwrap().1.to_string();
    let res = site.post(&format!("/deposit/{id}"), &depositor, &paper_form(&csrf, &revision)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The review buffer: the policy papers editor sees it, the theses editor does not.
    let papers = site.session("papers@example.org").await;
    let theses = site.session("theses@example.org").await;
    assert!(site.get("/review", &papers).await.text().await.unwrap().contains(&format!("/deposit/{id}")));
    assert!(!site.get("/review", &theses).await.text().await.unwrap().contains(&format!("/deposit/{id}")));
    let res = site.step(id, "accept", &papers, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/{id}/"));

    // Live: its page, its file, the home page's latest additions, OAI-PMH.
    let page = site.get(&format!("/{id}/"), "").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Jarosiewicz, Aleksandra") && html.contains("OSW Commentary"), "{html}");
    assert_eq!(site.get(&file, "").await.status(), StatusCode::OK);
    assert!(site.get("/", "").await.text().await.unwrap().contains(&format!("href=\"/{id}/\"")));
    let host = arkiv_services::repository::oai_host(&site.repo.config.repository.base_url);
    let oai = site.get(&format!("/oai2?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{host}:{id}"), "").await;
    let oai = oai.text().await.unwrap();
    assert!(oai.contains("integration with Russia") && !oai.contains("idDoesNotExist"), "harvestable:\n{oai}");
    // The same paper deposited again is flagged once the index has it.
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    assert!(html.contains("Draft files: 0 MB of 1,024 MB"), "a live item's files leave the draft quota");
    let res =
        site.post("/workarea/new", &depositor, &[("csrf", &csrf_field(&html)), ("item_type", "policy_paper")]).await;
    let again: i64 = location(&res).trim_start_matches("/deposit/").parse().unwrap();
    let (csrf2, revision2, _) = site.deposit_form(again, &depositor).await;
    let title = "KAZAKHSTAN'S ATTITUDE TOWARDS INTEGRATION WITH RUSSIA - less love, more fear";
    let res = site
        .post(&format!("/deposit/{again}"), &depositor, &[("csrf", &csrf2), ("revision", &revision2), ("title", title)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut flagged = false;
    for _ in 0..40 {
        let (_, _, html) = site.deposit_form(again, &depositor).await;
        if html.contains("Possibly already in the repository") && html.contains(&format!("href=\"/{id}/\"")) {
            flagged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(flagged, "a deposit with the title of a live record is flagged as a possible duplicate");

    // The history: every step, who made it, what changed from what.
    let html = site.get(&format!("/deposit/{id}/history"), &papers).await.text().await.unwrap();
    assert!(html.contains("by The policy papers editor") && html.contains("by The depositor"), "{html}");
    assert!(html.contains("<ins>OSW Commentary</ins>") && html.contains("<ins>archive</ins>"), "{html}");
    assert_eq!(site.get(&format!("/deposit/{id}/history"), &theses).await.status(), StatusCode::NOT_FOUND);
    let revisions = site.repo.store.revisions(id).await.unwrap();
    let actors: Vec<&str> = revisions.iter().map(|r| r.actor.as_str()).collect();
    assert!(actors.len() >= 5 && actors.iter().all(|a| a.starts_with("user:")), "every step is a revision: {actors:?}");
}

#[tokio::test]
async fn returned_items_carry_the_note_and_stale_edits_are_refused() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let editor = site.session("editor@example.org").await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Buffer).await).await;

    let res = site.step(id, "return", &editor, &[("note", "Please add the series number.")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    assert!(html.contains("Please add the series number."), "the note reaches the depositor");

    // Two tabs open at one revision: the first save wins, the second is told.
    let (csrf, revision, _) = site.deposit_form(id, &depositor).await;
    let first = site
        .post(&format!("/deposit/{id}"), &depositor, &[("csrf", &csrf), ("revision", &revision), ("number", "137")])
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let second = site
        .post(&format!("/deposit/{id}"), &depositor, &[("csrf", &csrf), ("revision", &revision), ("number", "138")])
        .await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert!(second.text().await.unwrap().contains("changed by someone else"));
    assert_eq!(site.repo.store.get_record(id).await.unwrap().unwrap().number.as_deref(), Some("137"));

    // A value that cannot be read saves nothing and comes back marked.
    let (csrf, revision, _) = site.deposit_form(id, &depositor).await;
    let res = site
        .post(
            &format!("/deposit/{id}"),
            &depositor,
            &[("csrf", &csrf), ("revision", &revision), ("date", "29 May"), ("series", "New")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("is not a date") && html.contains("value=\"29 May\""), "{html}");
    assert_eq!(site.repo.store.get_record(id).await.unwrap().unwrap().series.as_deref(), Some("OSW Commentary"));
}

#[tokio::test]
async fn withdrawal_leaves_a_tombstone_and_a_deleted_oai_record_until_restored() {
    let site = start(AccountSettings::default()).await;
    let editor = site.session("editor@example.org").await;
    let id = site.live;
    let html = site.get(&format!("/{id}/"), &editor).await.text().await.unwrap();
    let (csrf, revision) = (csrf_field(&html), hidden(&html, "revision"));
    let res = site
        .post(
            &format!("/deposit/{id}/withdraw"),
            &editor,
            &[("csrf", &csrf), ("revision", &revision), ("reason", "Published twice by mistake.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let tomb = site.get(&format!("/{id}/"), "").await;
    assert_eq!(tomb.status(), StatusCode::GONE);
    assert!(tomb.text().await.unwrap().contains("Published twice by mistake."));
    let host = arkiv_services::repository::oai_host(&site.repo.config.repository.base_url);
    let oai = site.get(&format!("/oai2?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{host}:{id}"), "").await;
    assert!(oai.text().await.unwrap().contains("status=\"deleted\""), "OAI-PMH reports it deleted");

    let html = site.get(&format!("/{id}/"), &editor).await.text().await.unwrap();
    assert!(html.contains("Restore this item"));
    let (csrf, revision) = (csrf_field(&html), hidden(&html, "revision"));
    let res = site.post(&format!("/deposit/{id}/restore"), &editor, &[("csrf", &csrf), ("revision", &revision)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(site.get(&format!("/{id}/"), "").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn uploads_are_typed_by_their_bytes_and_cannot_run_script() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Inbox).await).await;
    for (name, bytes) in [
        ("paper.pdf", b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec()),
        ("figure.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec()),
    ] {
        let res = site.upload(id, &depositor, name, bytes, "application/pdf", "public").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let record = site.repo.store.get_record(id).await.unwrap().unwrap();
        let doc = record.documents.last().unwrap();
        let res = site.get(&format!("/{id}/{}/{name}", doc.pos), &depositor).await;
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        let ty = h["content-type"].to_str().unwrap();
        assert!(ty.starts_with("text/html") || ty.starts_with("image/svg+xml"), "{name} typed by its bytes: {ty}");
        assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment"), "{name} is not rendered inline");
        assert_eq!(h["content-security-policy"], "sandbox", "{name} runs in a sandbox");
    }
    // A file past the limit, and a forged upload, store nothing.
    let before = site.repo.store.get_record(id).await.unwrap().unwrap().documents.len();
    let form = Form::new()
        .text("csrf", "0".repeat(64))
        .text("revision", "1")
        .part("file", Part::bytes(b"%PDF-1.4 forged".to_vec()).file_name("x.pdf"));
    let res = site
        .client
        .post(site.url(&format!("/deposit/{id}/upload")))
        .header("cookie", &depositor)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(site.repo.store.get_record(id).await.unwrap().unwrap().documents.len(), before);
}

/// A file whose bytes are of no kind Arkiv knows keeps no type a browser
/// would run: uploaded as `text/ecmascript`, or stored as `text/javascript`
/// by an import, it is served as `application/octet-stream`, an
/// attachment, with `nosniff`, so no page can load it as script from the
/// site's origin.
#[tokio::test]
async fn unknown_binaries_are_served_as_bytes_never_as_script() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Inbox).await).await;
    let script = vec![0x80, 0x81, b'\n', b'a', b'l', b'e', b'r', b't', b'(', b'1', b')', 0xff];
    let res = site.upload(id, &depositor, "tool.js", script, "text/ecmascript", "public").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut record = site.repo.store.get_record(id).await.unwrap().unwrap();
    let pos = record.documents.last().unwrap().pos;
    // And one an import stored with a script type.
    let sha = site.repo.files.put(bytes::Bytes::from_static(b"alert(document.domain)")).await.unwrap();
    record.documents.push(Document {
        pos: pos + 1,
        main: Some("run.txt".into()),
        mime_type: Some("text/javascript".into()),
        files: vec![StoredFile {
            filename: "run.txt".into(),
            mime_type: Some("text/javascript".into()),
            size: 22,
            sha256: Some(sha),
            ..Default::default()
        }],
        ..Default::default()
    });
    put(&site, record).await;
    for path in [format!("/{id}/{pos}/tool.js"), format!("/{id}/{}/run.txt", pos + 1)] {
        let res = site.get(&path, &depositor).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers();
        assert_eq!(h["content-type"], "application/octet-stream", "{path}");
        assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    }
}

/// An uploaded file's name loses its bidirectional controls and other
/// invisible characters: `evil\u{202e}gpj.exe` (shown as `evilexe.jpg`) is
/// stored and listed as `evilgpj.exe`.
#[tokio::test]
async fn uploaded_file_names_lose_invisible_characters() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Inbox).await).await;
    let res = site
        .upload(
            id,
            &depositor,
            "evil\u{202e}gpj\u{200b}.exe",
            b"MZ bytes".to_vec(),
            "application/octet-stream",
            "public",
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    let doc = record.documents.last().unwrap();
    assert_eq!(doc.files[0].filename, "evilgpj.exe");
    assert_eq!(doc.main.as_deref(), Some("evilgpj.exe"));
}

// --- the access-control matrix -----------------------------------------------

/// Who asks: the kinds of visitor the rules tell apart.
const WHO: [&str; 6] = ["anonymous", "owner", "other depositor", "editor in scope", "editor out of scope", "admin"];

fn email(who: &str) -> Option<&'static str> {
    match who {
        "owner" => Some("depositor@example.org"),
        "other depositor" => Some("other@example.org"),
        "editor in scope" => Some("papers@example.org"),
        "editor out of scope" => Some("theses@example.org"),
        "admin" => Some("admin@example.org"),
        _ => None,
    }
}

async fn owned_by(site: &Site, owner: &str, status: Status) -> Record {
    let user = site.repo.accounts.user_by_email(owner).await.unwrap().unwrap();
    let mut r = Record::new("policy_paper", "A paper under the matrix");
    r.status = status;
    r.userid = Some(user.id);
    r.creators = vec![arkiv_model::Creator { name: PersonName::new("Nowak", "Anna"), ..Default::default() }];
    r.date = Some("2024".parse().unwrap());
    r.series = Some("OSW Commentary".into());
    r.number = Some("1".into());
    r.institution = Some("OSW".into());
    r.withdrawn_reason = (status == Status::Deletion).then(|| "withdrawn".to_string());
    let sha = site.repo.files.put(bytes::Bytes::from_static(b"%PDF-1.4 matrix")).await.unwrap();
    let doc = |pos: u32, security, embargo: Option<&str>| Document {
        pos,
        security,
        embargo: embargo.map(|e| e.parse().unwrap()),
        main: Some("f.pdf".into()),
        mime_type: Some("application/pdf".into()),
        files: vec![StoredFile { filename: "f.pdf".into(), size: 15, sha256: Some(sha.clone()), ..Default::default() }],
        ..Default::default()
    };
    r.documents = vec![
        doc(1, DocumentSecurity::Public, None),
        doc(2, DocumentSecurity::Staffonly, None),
        doc(3, DocumentSecurity::Validuser, None),
        doc(4, DocumentSecurity::Public, Some("2999-01-01")),
    ];
    r
}

async fn put(site: &Site, record: Record) -> i64 {
    site.repo.store.put_records(vec![RecordWrite::new(record, "test")]).await.unwrap()[0]
}

/// The status each kind of visitor gets, in the order of [`WHO`].
type Row = [u16; 6];

/// What a write of the matrix does when it is allowed (a 303): where it
/// sends the visitor and what it leaves in the store. `Nothing` is for the
/// pages (a GET changes nothing) and the writes no visitor may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Nothing,
    /// The form's title and note are saved; nothing else changes.
    Saved,
    Submitted,
    Accepted,
    Returned,
    Withdrawn,
    Restored,
    DocumentRemoved,
    /// A new record in the visitor's workarea; the live one is untouched.
    NewVersion,
    /// The draft and its revisions are gone; nothing else changed.
    Deleted,
}

/// What a cell of the matrix could change: the record with its revision
/// and history, and the store around it (its change feed, how many records
/// there are in each status, the subject tree, the live settings).
#[derive(Debug, PartialEq)]
struct Snapshot {
    record: Option<(Record, i64)>,
    revisions: Vec<Revision>,
    last_change: i64,
    max_id: i64,
    counts: StatusCounts,
    subjects: Vec<Subject>,
    settings: Option<String>,
}

impl Snapshot {
    async fn of(site: &Site, id: i64) -> Snapshot {
        let store = &site.repo.store;
        Snapshot {
            record: store.get_record_with_revision(id).await.unwrap(),
            revisions: store.revisions(id).await.unwrap(),
            last_change: store.last_change().await.unwrap(),
            max_id: store.max_record_id().await.unwrap(),
            counts: store.status_counts().await.unwrap(),
            subjects: store.subjects().await.unwrap(),
            settings: store.meta(arkiv_services::settings::SETTINGS_KEY).await.unwrap(),
        }
    }

    /// The parts that differ, named for a failure message.
    fn differences(&self, other: &Snapshot) -> Vec<&'static str> {
        [
            ("the record or its revision", self.record != other.record),
            ("its history", self.revisions != other.revisions),
            ("the change feed", self.last_change != other.last_change),
            ("the record ids", self.max_id != other.max_id),
            ("the status counts", self.counts != other.counts),
            ("the subjects", self.subjects != other.subjects),
            ("the live settings", self.settings != other.settings),
        ]
        .into_iter()
        .filter_map(|(what, differs)| differs.then_some(what))
        .collect()
    }
}

/// How two states of a record differ, field by field, for a failure message.
fn record_diff(want: &Record, got: &Record) -> String {
    let (want, got) = (serde_json::to_value(want).unwrap(), serde_json::to_value(got).unwrap());
    let mut fields: Vec<&String> = want.as_object().unwrap().keys().chain(got.as_object().unwrap().keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| want.get(f.as_str()) != got.get(f.as_str()))
        .map(|f| format!("{f}: wanted {:?}, got {:?}", want.get(f.as_str()), got.get(f.as_str())))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One cell's write as it happened: on record `id`, by user `uid`, sent
/// at `started`, answered with a redirect to `location`.
struct Attempt<'a> {
    id: i64,
    uid: i64,
    location: &'a str,
    started: Timestamp,
    before: &'a Snapshot,
    after: &'a Snapshot,
}

/// Checks that an allowed write did what `effect` says and nothing more:
/// it sent the visitor to the right page, wrote one revision by them (made
/// at or after it was sent) with exactly the change asked for, and put one
/// entry on the change feed.
async fn check_write(site: &Site, effect: Effect, attempt: &Attempt<'_>) -> Result<(), String> {
    let Attempt { id, uid, location, started, before, after } = *attempt;
    let (old, revision) = before.record.clone().ok_or("the record was not there before")?;
    let feed = site.repo.store.changes_since(before.last_change, 10).await.unwrap();
    let actor = format!("user:{uid}");
    if effect == Effect::Deleted {
        if location != "/workarea?deleted=1" {
            return Err(format!("sent to {location:?}, not the workarea"));
        }
        if after.record.is_some() || !after.revisions.is_empty() {
            return Err("the draft or its revisions are still there".into());
        }
        if !feed.is_empty() || after.subjects != before.subjects || after.settings != before.settings {
            return Err(format!("more changed than the draft: the change feed says {feed:?}"));
        }
        return Ok(());
    }
    if effect == Effect::NewVersion {
        if after.record != before.record || after.revisions != before.revisions {
            return Err("the live record changed; a new version leaves it alone".into());
        }
        let new = after.max_id;
        if new <= before.max_id {
            return Err("no new record".into());
        }
        if location != format!("/deposit/{new}") {
            return Err(format!("sent to {location:?}, not the new version's deposit page /deposit/{new}"));
        }
        let copy = site.repo.store.get_record(new).await.unwrap().ok_or("the new version is not stored")?;
        if copy.lastmod.is_none_or(|t| t < started) {
            return Err(format!("the new version's lastmod {:?} is not now", copy.lastmod));
        }
        let want = Record {
            id: Some(new),
            status: Status::Inbox,
            userid: Some(uid),
            datestamp: None,
            lastmod: copy.lastmod,
            withdrawn_reason: None,
            review_note: None,
            replaced_by: None,
            succeeds: Some(id),
            ..old
        };
        if copy != want {
            return Err(format!(
                "the new version is not a copy in the visitor's workarea: {}",
                record_diff(&want, &copy)
            ));
        }
        let revisions = site.repo.store.revisions(new).await.unwrap();
        if revisions.len() != 1 || revisions[0].actor != actor {
            return Err(format!("the new version's revisions are not one by {actor}: {revisions:?}"));
        }
        if feed.iter().map(|c| (c.record_id, c.revision, c.status)).collect::<Vec<_>>() != [(new, 1, Status::Inbox)] {
            return Err(format!("the change feed says {feed:?}, not one change: the new version at revision 1"));
        }
        return Ok(());
    }

    let mut want = old.clone();
    let target = match effect {
        Effect::Saved => {
            // The deposit form reads both fields it knows of the matrix's
            // form: the title and the note.
            want.title = "Edited by the matrix".into();
            want.note = Some("matrix".into());
            format!("/deposit/{id}?saved=1")
        }
        Effect::Submitted => {
            want.status = Status::Buffer;
            want.review_note = None;
            "/workarea?submitted=1".into()
        }
        Effect::Accepted => {
            want.status = Status::Archive;
            format!("/{id}/")
        }
        Effect::Returned => {
            want.status = Status::Inbox;
            want.review_note = Some("matrix".into());
            "/review".into()
        }
        Effect::Withdrawn => {
            want.status = Status::Deletion;
            want.withdrawn_reason = Some("matrix".into());
            want.replaced_by = None;
            format!("/{id}/")
        }
        Effect::Restored => {
            want.status = Status::Archive;
            want.withdrawn_reason = None;
            want.replaced_by = None;
            format!("/{id}/")
        }
        Effect::DocumentRemoved => {
            want.documents.retain(|d| d.pos != 1);
            format!("/deposit/{id}?saved=1")
        }
        Effect::Nothing | Effect::NewVersion | Effect::Deleted => unreachable!("handled above or not a write"),
    };
    if location != target {
        return Err(format!("sent to {location:?}, not {target:?}"));
    }
    let (got, now_at) = after.record.clone().ok_or("the record is gone")?;
    if now_at != revision + 1 || after.revisions.len() != before.revisions.len() + 1 {
        return Err(format!(
            "revision {revision} became {now_at} ({} revisions kept), not one more",
            after.revisions.len()
        ));
    }
    let last = after.revisions.last().unwrap();
    if last.actor != actor || last.at < started {
        return Err(format!("the new revision is by {:?} at {:?}, not by {actor} now", last.actor, last.at));
    }
    if after.max_id != before.max_id {
        return Err("a new record appeared".into());
    }
    if got.status != want.status {
        return Err(format!("the status is {:?}, not {:?}", got.status, want.status));
    }
    // The bookkeeping the store and the workflow own: changed now; a
    // record going live for the first time gets its datestamp now.
    if got.lastmod.is_none_or(|t| t < started) {
        return Err(format!("lastmod {:?} is not now", got.lastmod));
    }
    want.lastmod = got.lastmod;
    if want.datestamp.is_none() && want.status == Status::Archive {
        if got.datestamp.is_none_or(|t| t < started) {
            return Err(format!("live now, yet its datestamp is {:?}", got.datestamp));
        }
        want.datestamp = got.datestamp;
    }
    if got != want {
        return Err(format!("stored not as asked: {}", record_diff(&want, &got)));
    }
    if feed.iter().map(|c| (c.record_id, c.revision, c.status)).collect::<Vec<_>>() != [(id, now_at, want.status)] {
        return Err(format!("the change feed says {feed:?}, not one change to revision {now_at}"));
    }
    Ok(())
}

/// Where a page sends a visitor it redirects (a 303 to a GET): an
/// anonymous visitor to the login page, which brings them back; a
/// logged-in one from a workarea item's public address to its deposit page.
fn check_page_redirect(location: &str, path: &str, id: i64, anonymous: bool) -> Result<(), String> {
    if anonymous {
        let url = reqwest::Url::parse(&format!("http://site{location}")).map_err(|e| format!("{location:?}: {e}"))?;
        let target = url.query_pairs().find(|(k, _)| k == "target").map(|(_, v)| v.into_owned());
        if url.path() != "/login" || target.as_deref() != Some(path) {
            return Err(format!("sent to {location:?}, not the login page coming back to {path}"));
        }
    } else if location != format!("/deposit/{id}") {
        return Err(format!("sent to {location:?}, not /deposit/{id}"));
    }
    Ok(())
}

#[tokio::test]
async fn every_route_for_every_visitor_and_status() {
    let site = start(AccountSettings::default()).await;
    let mut sessions = Vec::new();
    let mut uids = Vec::new();
    for who in WHO {
        sessions.push(match email(who) {
            Some(e) => site.session(e).await,
            None => String::new(),
        });
        uids.push(match email(who) {
            Some(e) => site.repo.accounts.user_by_email(e).await.unwrap().unwrap().id,
            None => 0,
        });
    }
    // A token each visitor's forms carry (anonymous: none is valid).
    let mut tokens = Vec::new();
    for s in &sessions {
        let html = site.get("/", s).await.text().await.unwrap();
        tokens.push(if s.is_empty() { "0".repeat(64) } else { hidden(&html, "csrf") });
    }

    use Effect::*;
    // (what, method, path template with {id}, status of the record, expected per visitor, what an allowed write does)
    let cases: Vec<(&str, &str, &str, Status, Row, Effect)> = vec![
        ("abstract page of a workarea item", "GET", "/{id}/", Status::Inbox, [404, 303, 404, 303, 404, 303], Nothing),
        (
            "deposit page of a workarea item",
            "GET",
            "/deposit/{id}",
            Status::Inbox,
            [303, 200, 404, 200, 404, 200],
            Nothing,
        ),
        (
            "deposit page of a live item",
            "GET",
            "/deposit/{id}",
            Status::Archive,
            [303, 200, 404, 200, 404, 200],
            Nothing,
        ),
        (
            "history of a workarea item",
            "GET",
            "/deposit/{id}/history",
            Status::Inbox,
            [303, 200, 404, 200, 404, 200],
            Nothing,
        ),
        (
            "history of a live item",
            "GET",
            "/deposit/{id}/history",
            Status::Archive,
            [303, 200, 404, 200, 404, 200],
            Nothing,
        ),
        ("save a workarea item", "POST", "/deposit/{id}", Status::Inbox, [403, 303, 404, 303, 404, 303], Saved),
        ("save an item under review", "POST", "/deposit/{id}", Status::Buffer, [403, 403, 404, 303, 404, 303], Saved),
        ("save a live item", "POST", "/deposit/{id}", Status::Archive, [403, 403, 403, 303, 403, 303], Saved),
        (
            "submit a workarea item",
            "POST",
            "/deposit/{id}/submit",
            Status::Inbox,
            [403, 303, 404, 303, 404, 303],
            Submitted,
        ),
        (
            "accept an item under review",
            "POST",
            "/deposit/{id}/accept",
            Status::Buffer,
            [403, 403, 404, 303, 404, 303],
            Accepted,
        ),
        (
            "return an item under review",
            "POST",
            "/deposit/{id}/return",
            Status::Buffer,
            [403, 403, 404, 303, 404, 303],
            Returned,
        ),
        (
            "accept a workarea item",
            "POST",
            "/deposit/{id}/accept",
            Status::Inbox,
            [403, 403, 404, 403, 404, 403],
            Nothing,
        ),
        (
            "withdraw a live item",
            "POST",
            "/deposit/{id}/withdraw",
            Status::Archive,
            [403, 403, 403, 303, 403, 303],
            Withdrawn,
        ),
        (
            "restore a withdrawn item",
            "POST",
            "/deposit/{id}/restore",
            Status::Deletion,
            [403, 403, 403, 303, 403, 303],
            Restored,
        ),
        (
            "remove a document of a workarea item",
            "POST",
            "/deposit/{id}/document/1",
            Status::Inbox,
            [403, 303, 404, 303, 404, 303],
            DocumentRemoved,
        ),
        (
            "public file of a workarea item",
            "GET",
            "/{id}/1/f.pdf",
            Status::Inbox,
            [404, 200, 404, 200, 404, 200],
            Nothing,
        ),
        (
            "public file of a live item",
            "GET",
            "/{id}/1/f.pdf",
            Status::Archive,
            [200, 200, 200, 200, 200, 200],
            Nothing,
        ),
        (
            "staff-only file of a live item",
            "GET",
            "/{id}/2/f.pdf",
            Status::Archive,
            [403, 200, 403, 200, 403, 200],
            Nothing,
        ),
        (
            "registered-users file of a live item",
            "GET",
            "/{id}/3/f.pdf",
            Status::Archive,
            [403, 200, 200, 200, 200, 200],
            Nothing,
        ),
        (
            "embargoed file of a live item",
            "GET",
            "/{id}/4/f.pdf",
            Status::Archive,
            [403, 200, 403, 200, 403, 200],
            Nothing,
        ),
        ("file of a withdrawn item", "GET", "/{id}/1/f.pdf", Status::Deletion, [410, 410, 410, 200, 410, 200], Nothing),
        ("the workarea", "GET", "/workarea", Status::Inbox, [303, 200, 200, 200, 200, 200], Nothing),
        ("the review buffer", "GET", "/review", Status::Inbox, [303, 403, 403, 200, 200, 200], Nothing),
        ("the admin page", "GET", "/admin", Status::Inbox, [303, 403, 403, 403, 403, 200], Nothing),
        ("the profile page", "GET", "/profile", Status::Inbox, [303, 200, 200, 200, 200, 200], Nothing),
        ("add a subject", "POST", "/admin/subjects?id={id}", Status::Inbox, [403, 403, 403, 403, 403, 422], Nothing),
        (
            "delete a workarea item",
            "POST",
            "/deposit/{id}/delete",
            Status::Inbox,
            [403, 303, 404, 303, 404, 303],
            Deleted,
        ),
        (
            "delete a live item",
            "POST",
            "/deposit/{id}/delete",
            Status::Archive,
            [403, 403, 403, 422, 403, 422],
            Nothing,
        ),
        (
            "make an API token (no name)",
            "POST",
            "/profile/tokens",
            Status::Inbox,
            [403, 422, 422, 422, 422, 422],
            Nothing,
        ),
        (
            "revoke an API token (none of theirs)",
            "POST",
            "/profile/tokens/revoke",
            Status::Inbox,
            [403, 404, 404, 404, 404, 404],
            Nothing,
        ),
        (
            "new version of a live item",
            "POST",
            "/deposit/{id}/new-version",
            Status::Archive,
            [403, 303, 403, 303, 403, 303],
            NewVersion,
        ),
        (
            "new version of a workarea item",
            "POST",
            "/deposit/{id}/new-version",
            Status::Inbox,
            [403, 403, 404, 403, 404, 403],
            Nothing,
        ),
        (
            "the review buffer, one type, newest first",
            "GET",
            "/review?type=policy_paper&sort=newest",
            Status::Inbox,
            [303, 403, 403, 200, 200, 200],
            Nothing,
        ),
        (
            "change the live settings",
            "POST",
            "/admin/settings?id={id}",
            Status::Inbox,
            [403, 403, 403, 403, 403, 422],
            Nothing,
        ),
        (
            "add a SUSHI client (no name)",
            "POST",
            "/admin/sushi?id={id}",
            Status::Inbox,
            [403, 403, 403, 403, 403, 422],
            Nothing,
        ),
        (
            "remove an unknown SUSHI client",
            "POST",
            "/admin/sushi/remove?id={id}",
            Status::Inbox,
            [403, 403, 403, 403, 403, 404],
            Nothing,
        ),
        ("the usage statistics", "GET", "/stats", Status::Inbox, [200, 200, 200, 200, 200, 200], Nothing),
        ("the SUSHI status", "GET", "/sushi/r51/status", Status::Inbox, [200, 200, 200, 200, 200, 200], Nothing),
    ];
    let mut violations = Vec::new();
    for (what, method, template, status, expected, effect) in &cases {
        for (i, who) in WHO.iter().enumerate() {
            // A fresh record per cell: a step that succeeds changes it.
            let id = put(&site, owned_by(&site, "depositor@example.org", *status).await).await;
            let path = template.replace("{id}", &id.to_string());
            let before = Snapshot::of(&site, id).await;
            let revision = before.record.as_ref().unwrap().1.to_string();
            let started = Timestamp::now();
            let res = if *method == "GET" {
                site.get(&path, &sessions[i]).await
            } else {
                let form = [
                    ("csrf", tokens[i].as_str()),
                    ("revision", revision.as_str()),
                    ("reason", "matrix"),
                    ("note", "matrix"),
                    ("remove", "1"),
                    ("confirm", "1"),
                    ("title", "Edited by the matrix"),
                ];
                site.post(&path, &sessions[i], &form).await
            };
            let got = res.status().as_u16();
            let cell = format!("{what} ({method} {path}) as {who}");
            if got != expected[i] {
                violations.push(format!("{cell}: expected {}, got {got}", expected[i]));
            }
            // An allowed write did exactly what it should; anything else
            // (a page, a refused write) left the store as it was.
            let after = Snapshot::of(&site, id).await;
            let sent_to = location(&res);
            if *method == "POST" && got == 303 {
                if *effect == Nothing {
                    violations.push(format!("{cell}: a write no visitor may make was made"));
                } else if let Err(problem) = check_write(
                    &site,
                    *effect,
                    &Attempt { id, uid: uids[i], location: &sent_to, started, before: &before, after: &after },
                )
                .await
                {
                    violations.push(format!("{cell}: {problem}"));
                }
            } else {
                let changed = before.differences(&after);
                if !changed.is_empty() {
                    violations.push(format!("{cell}: answered {got}, yet changed {}", changed.join(", ")));
                }
                if got == 303 {
                    if let Err(problem) = check_page_redirect(&sent_to, &path, id, sessions[i].is_empty()) {
                        violations.push(format!("{cell}: {problem}"));
                    }
                }
            }
            if got == 200
                && path.ends_with("f.pdf")
                && (path.contains("/2/") || path.contains("/3/") || path.contains("/4/"))
            {
                let cc =
                    res.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                if !cc.contains("private") {
                    violations.push(format!("{what} as {who}: restricted bytes without Cache-Control private ({cc})"));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{} access violations:\n{}", violations.len(), violations.join("\n"));
}

/// A live paper gets a new version: a copy in the workarea that goes
/// through review, and then each page links to the other.
#[tokio::test]
async fn a_new_version_is_deposited_reviewed_and_linked() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let mut first = owned_by(&site, "depositor@example.org", Status::Archive).await;
    first.title = "Gas transit after 2024".into();
    let first = put(&site, first).await;

    let html = site.get(&format!("/{first}/"), &depositor).await.text().await.unwrap();
    assert!(html.contains("Deposit a new version"), "the Actions box offers a new version:\n{html}");
    let other = site.session("other@example.org").await;
    let html = site.get(&format!("/{first}/"), &other).await.text().await.unwrap();
    assert!(!html.contains("Deposit a new version"), "not to another depositor");

    let res = site
        .post(
            &format!("/deposit/{first}/new-version"),
            &depositor,
            &[("csrf", &hidden(&html_of(&site, first, &depositor).await, "csrf"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let second: i64 = location(&res).trim_start_matches("/deposit/").parse().expect("redirected to the new version");
    let (_, _, html) = site.deposit_form(second, &depositor).await;
    assert!(
        html.contains("Gas transit after 2024") && html.contains(&format!("A new version of <a href=\"/{first}/\">")),
        "{html}"
    );
    let copy = site.repo.store.get_record(second).await.unwrap().unwrap();
    assert_eq!((copy.status, copy.succeeds, copy.documents.len()), (Status::Inbox, Some(first), 4));
    assert_eq!(copy.datestamp, None, "the new version goes live on its own date");

    assert_eq!(site.step(second, "submit", &depositor, &[]).await.status(), StatusCode::SEE_OTHER);
    let editor = site.session("papers@example.org").await;
    assert_eq!(site.step(second, "accept", &editor, &[]).await.status(), StatusCode::SEE_OTHER);
    let old = site.get(&format!("/{first}/"), "").await.text().await.unwrap();
    assert!(old.contains("Later Versions") && old.contains(&format!("href=\"/{second}/\"")), "{old}");
    let new = site.get(&format!("/{second}/"), "").await.text().await.unwrap();
    assert!(new.contains("Earlier Version") && new.contains(&format!("href=\"/{first}/\"")), "{new}");
}

/// The abstract page as `who` sees it.
async fn html_of(site: &Site, id: i64, who: &str) -> String {
    site.get(&format!("/{id}/"), who).await.text().await.unwrap()
}

/// An embargo ends on its date by itself: the job rewrites the record, so
/// the file opens, OAI-PMH's driver set takes it in with a new datestamp,
/// and the history says who did it.
#[tokio::test]
async fn an_embargo_lifts_by_itself_on_its_date() {
    let site = start(AccountSettings::default()).await;
    let mut record = owned_by(&site, "depositor@example.org", Status::Archive).await;
    // Last changed an hour ago: lastmod counts whole seconds and no clock
    // can be set, so the job's "now" is strictly later without a sleep.
    record.lastmod = Some(Timestamp(Timestamp::now().0 - 3600));
    record.documents.retain(|d| d.pos == 4); // public, embargoed until 2999-01-01
    let id = put(&site, record).await;
    let before = site.repo.store.get_record(id).await.unwrap().unwrap();
    let driver = "/oai2?verb=ListIdentifiers&metadataPrefix=oai_dc&set=driver";
    assert_eq!(site.get(&format!("/{id}/4/f.pdf"), "").await.status(), StatusCode::FORBIDDEN);
    assert!(!site.get(driver, "").await.text().await.unwrap().contains(&format!(":{id}</identifier>")));

    let eve = arkiv_services::workflow::lift_embargoes(&site.repo, "2998-12-31".parse().unwrap()).await.unwrap();
    assert!(eve.lifted.is_empty(), "not on the eve");
    let day = arkiv_services::workflow::lift_embargoes(&site.repo, "2999-01-01".parse().unwrap()).await.unwrap();
    assert_eq!(day.lifted, [id]);
    let again = arkiv_services::workflow::lift_embargoes(&site.repo, "2999-01-02".parse().unwrap()).await.unwrap();
    assert!(again.lifted.is_empty(), "lifted once");

    assert_eq!(site.get(&format!("/{id}/4/f.pdf"), "").await.status(), StatusCode::OK);
    let listed = site.get(driver, "").await.text().await.unwrap();
    assert!(listed.contains(&format!(":{id}</identifier>")), "in the driver set now:\n{listed}");
    let after = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert!(
        after.lastmod > before.lastmod,
        "harvesters are told it changed: {:?} then {:?}",
        before.lastmod,
        after.lastmod
    );
    assert_eq!(after.documents[0].embargo, None);
    let admin = site.session("admin@example.org").await;
    let history = site.get(&format!("/deposit/{id}/history"), &admin).await.text().await.unwrap();
    assert!(history.contains("system:embargo") && history.contains("2999-01-01"), "{history}");
}

/// The review buffer narrows to one type and turns to newest first.
#[tokio::test]
async fn the_review_buffer_filters_by_type_and_sorts() {
    let site = start(AccountSettings::default()).await;
    let mut ids = Vec::new();
    for (title, item_type) in [("Older paper", "policy_paper"), ("A report", "report"), ("Newer paper", "policy_paper")]
    {
        let mut r = owned_by(&site, "depositor@example.org", Status::Buffer).await;
        r.title = title.into();
        r.item_type = item_type.into();
        ids.push(put(&site, r).await);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // distinct lastmod seconds
    }
    let admin = site.session("admin@example.org").await;
    let order = |html: &str, titles: &[&str]| {
        titles
            .iter()
            .map(|t| html.find(t))
            .collect::<Option<Vec<_>>>()
            .is_some_and(|at| at.windows(2).all(|w| w[0] < w[1]))
    };
    let all = site.get("/review", &admin).await.text().await.unwrap();
    assert!(order(&all, &["Older paper", "A report", "Newer paper"]), "oldest first:\n{all}");
    let papers = site.get("/review?type=policy_paper&sort=newest", &admin).await.text().await.unwrap();
    assert!(order(&papers, &["Newer paper", "Older paper"]) && !papers.contains("A report"), "{papers}");
    assert!(papers.contains("<option value=\"policy_paper\" selected>"), "the form shows the filter");
    let none = site.get("/review?type=thesis", &admin).await.text().await.unwrap();
    assert!(none.contains("Nothing of this type is waiting for review."), "{none}");
    let unknown = site.get("/review?type=%3Cscript%3E&sort=sideways", &admin).await;
    assert_eq!(unknown.status(), StatusCode::OK, "nonsense filters show the whole queue");
}

#[tokio::test]
async fn the_admin_sets_roles_scopes_and_subjects() {
    let site = start(AccountSettings::default()).await;
    let admin = site.session("admin@example.org").await;
    let other = site.session("other@example.org").await;
    let html = site.get("/admin", &admin).await.text().await.unwrap();
    assert!(html.contains("other@example.org") && html.contains("Subjects and divisions"));
    let csrf = csrf_field(&html);
    let uid = site.repo.accounts.user_by_email("other@example.org").await.unwrap().unwrap().id;

    // Another depositor becomes the theses editor.
    let res = site
        .post(&format!("/admin/users/{uid}"), &admin, &[("csrf", &csrf), ("role", "editor"), ("types", "thesis")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let user = site.repo.accounts.user(uid).await.unwrap().unwrap();
    assert_eq!((user.role.as_str(), user.scope.types.clone()), ("editor", vec!["thesis".to_string()]));
    assert!(site.get("/", &other).await.text().await.unwrap().contains("(editor)"), "the new role applies at once");
    // Disabled: the session ends at once.
    let res = site
        .post(&format!("/admin/users/{uid}"), &admin, &[("csrf", &csrf), ("role", "editor"), ("disabled", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!site.get("/", &other).await.text().await.unwrap().contains("Logged in as"));
    // An admin cannot lock themselves out.
    let me = site.repo.accounts.user_by_email("admin@example.org").await.unwrap().unwrap().id;
    let res = site.post(&format!("/admin/users/{me}"), &admin, &[("csrf", &csrf), ("role", "depositor")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The subject tree grows, and refuses a loop.
    for (id, name, parent) in [("asia", "Asia", ""), ("kz", "Kazakhstan", "asia")] {
        let res = site
            .post("/admin/subjects", &admin, &[("csrf", &csrf), ("id", id), ("name", name), ("parent", parent)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "subject {id}");
    }
    assert!(site.get("/admin", &admin).await.text().await.unwrap().contains("Asia &gt; Kazakhstan"));
    let res = site
        .post("/admin/subjects", &admin, &[("csrf", &csrf), ("id", "asia"), ("name", "Asia"), ("parent", "kz")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The settings form as the admin page would send it, with `changes` laid
/// over the values shown (an empty value drops a checkbox; `reset` adds).
fn settings_form<'a>(html: &str, csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let shown = |name: &str| -> String {
        let input = format!("name=\"{name}\" type=\"");
        if let Some(at) = html.find(&input) {
            let rest = &html[at..];
            let v = rest.find("value=\"").unwrap() + 7;
            return rest[v..].split('"').next().unwrap().to_string();
        }
        let textarea = format!("name=\"{name}\" rows=\"3\"");
        let at = html.find(&textarea).unwrap_or_else(|| panic!("no {name} on the form")) + textarea.len();
        let rest = &html[at..];
        let start = rest.find('>').unwrap() + 1;
        rest[start..].split("</textarea>").next().unwrap().to_string()
    };
    let registration = html.contains("name=\"registration\" value=\"1\" checked");
    let mut form = vec![("csrf".to_string(), csrf.to_string())];
    for field in ["name", "description", "contact_email", "allowed_domains", "session_hours"] {
        form.push((field.to_string(), shown(field).replace("&amp;", "&").replace("&#39;", "'")));
    }
    if registration {
        form.push(("registration".into(), "1".into()));
    }
    for (k, v) in changes {
        if *k == "reset" {
            form.push(("reset".into(), v.to_string()));
            continue;
        }
        form.retain(|(f, _)| f != k);
        if !v.is_empty() || *k != "registration" {
            form.push((k.to_string(), v.to_string()));
        }
    }
    form
}

impl Site {
    /// Sends the admin page's settings form with `changes`.
    async fn settings(&self, admin: &str, changes: &[(&str, &str)]) -> Response {
        let html = self.get("/admin", admin).await.text().await.unwrap();
        let csrf = csrf_field(&html);
        let form = settings_form(&html, &csrf, changes);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.post("/admin/settings", admin, &pairs).await
    }

    async fn text(&self, path: &str) -> String {
        let res = self.get(path, "").await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.unwrap()
    }
}

#[tokio::test]
async fn the_admin_changes_the_name_live_and_it_survives_a_restart() {
    let site = start(AccountSettings::default()).await;
    let admin = site.session("admin@example.org").await;
    let file_name = site.repo.config.repository.name.clone();
    let html = site.get("/admin", &admin).await.text().await.unwrap();
    assert!(html.contains("From arkiv.toml") && !html.contains("Changed here"), "nothing changed yet");

    let res = site.settings(&admin, &[("name", "Ośrodek Studiów Wschodnich & Co")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin?saved=settings");
    // At once, without a restart: the pages, OAI-PMH Identify, the feeds.
    let escaped = "Ośrodek Studiów Wschodnich &amp; Co";
    assert!(site.text("/").await.contains(&format!("<title>{escaped}")), "the home page's title");
    assert!(site.text("/view/").await.contains(escaped), "every page's header");
    assert!(site.text("/oai2?verb=Identify").await.contains(&format!("<repositoryName>{escaped}</repositoryName>")));
    assert!(site.text("/feed/rss").await.contains(&format!("<title>{escaped}: latest additions</title>")));
    assert!(site.text("/feed/atom").await.contains(&format!("<name>{escaped}</name>")));
    assert!(site.text("/opensearch.xml").await.contains(&format!("<LongName>{escaped}</LongName>")));
    let html = site.get("/admin?saved=settings", &admin).await.text().await.unwrap();
    assert!(html.contains("The settings are saved"));
    assert!(html.contains(&format!("<strong>Changed here</strong>; arkiv.toml's value: {file_name}")), "{html}");

    // A restart (the repository opened again, a new server over it) keeps it.
    let reopened = std::sync::Arc::new(arkiv_services::Repository::open(&site.repo.dir).await.unwrap());
    assert_eq!(reopened.settings().name, "Ośrodek Studiów Wschodnich & Co");
    assert_eq!(reopened.config.repository.name, file_name, "arkiv.toml is not written");
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    let again = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(arkiv_web::serve(listener, reopened, Default::default(), std::future::pending()));
    let home = site.client.get(&again).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(&format!("<title>{escaped}")));

    // Reset: arkiv.toml's value again, everywhere.
    let res = site.settings(&admin, &[("reset", "name")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(site.text("/oai2?verb=Identify").await.contains(&format!("<repositoryName>{file_name}</repositoryName>")));
    assert!(site.text("/feed/rss").await.contains(&format!("<title>{file_name}: latest additions</title>")));
    assert!(!site.text("/").await.contains("Ośrodek"));
    let html = site.get("/admin", &admin).await.text().await.unwrap();
    assert!(!html.contains("Changed here"), "nothing overridden any more");
}

#[tokio::test]
async fn the_admin_switches_registration_off_and_on() {
    let site = start(AccountSettings::default()).await;
    let admin = site.session("admin@example.org").await;
    assert_eq!(site.get("/register", "").await.status(), StatusCode::OK);
    assert!(site.text("/login").await.contains("href=\"/register"));

    let res = site.settings(&admin, &[("registration", "")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // As when arkiv.toml says `registration = false`.
    let res = site.get("/register", "").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("does not take registrations"));
    assert!(!site.text("/login").await.contains("href=\"/register"));
    let (cookie, token) = site.login_form().await;
    let form = [
        ("csrf", token.as_str()),
        ("email", "newcomer@example.org"),
        ("name", "Newcomer"),
        ("password", common::PASSWORD),
        ("password_again", common::PASSWORD),
    ];
    assert_eq!(site.post("/register", &cookie, &form).await.status(), StatusCode::FORBIDDEN);
    assert!(site.repo.accounts.user_by_email("newcomer@example.org").await.unwrap().is_none());

    // And on again, for one domain only.
    let res = site.settings(&admin, &[("registration", "1"), ("allowed_domains", "example.ac.uk")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(site.get("/register", "").await.status(), StatusCode::OK);
    let res = site.post("/register", &cookie, &form).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("example.ac.uk"));
    let res = site.settings(&admin, &[("reset", "allowed_domains")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(site.post("/register", &cookie, &form).await.status(), StatusCode::OK, "registered");
}

#[tokio::test]
async fn bad_settings_are_refused_and_nothing_changes() {
    let site = start(AccountSettings::default()).await;
    let admin = site.session("admin@example.org").await;
    let before = site.repo.settings();
    let res = site
        .settings(
            &admin,
            &[("name", "  "), ("contact_email", "nobody"), ("session_hours", "0"), ("description", "Changed too")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("none was changed"), "{html}");
    for message in ["the repository needs a name", "e-mail address readers and harvesters", "from 1 to 8760"] {
        assert!(html.contains(message), "{message} in:\n{html}");
    }
    assert!(html.contains(">Changed too</textarea>"), "what was typed is shown again");
    assert_eq!(site.repo.settings(), before, "nothing changed");
    assert_eq!(site.repo.store.meta("live_settings").await.unwrap(), None, "nothing stored");
    for hours in ["8761", "a day", ""] {
        let res = site.settings(&admin, &[("session_hours", hours)]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "session_hours {hours:?}");
    }
    let res = site.settings(&admin, &[("allowed_domains", "example.org\nnot a domain/")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("not a domain name"));
    assert_eq!(site.repo.settings(), before);

    // A good session length takes effect for the next login's cookie.
    assert_eq!(site.settings(&admin, &[("session_hours", "2")]).await.status(), StatusCode::SEE_OTHER);
    let res = site.login("editor@example.org", common::PASSWORD, "").await;
    let (_, attrs) = common::set_cookie(&res, "arkiv_session").unwrap();
    assert!(attrs.contains("Max-Age=7200"), "{attrs}");
}

#[tokio::test]
async fn only_an_admin_with_the_form_s_token_changes_settings() {
    let site = start(AccountSettings::default()).await;
    let admin = site.session("admin@example.org").await;
    let html = site.get("/admin", &admin).await.text().await.unwrap();
    let admin_token = csrf_field(&html);
    let wanted = |csrf: &str| settings_form(&html, csrf, &[("name", "Taken over")]);
    for who in ["editor@example.org", "depositor@example.org"] {
        let session = site.session(who).await;
        let page = site.get("/workarea", &session).await.text().await.unwrap();
        let form = wanted(&csrf_field(&page));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(site.post("/admin/settings", &session, &pairs).await.status(), StatusCode::FORBIDDEN, "{who}");
    }
    let form = wanted(&admin_token);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(site.post("/admin/settings", "", &pairs).await.status(), StatusCode::FORBIDDEN, "anonymous");
    let without: Vec<(&str, &str)> = pairs.iter().copied().filter(|(k, _)| *k != "csrf").collect();
    assert_eq!(site.post("/admin/settings", &admin, &without).await.status(), StatusCode::FORBIDDEN, "no token");
    let forged: Vec<(&str, &str)> =
        pairs
            .iter()
            .map(|&(k, v)| {
                if k == "csrf" {
                    (k, "0000000000000000000000000000000000000000000000000000000000000000")
                } else {
                    (k, v)
                }
            })
            .collect();
    assert_eq!(site.post("/admin/settings", &admin, &forged).await.status(), StatusCode::FORBIDDEN, "a wrong token");
    assert_ne!(site.repo.settings().name, "Taken over");
    assert_eq!(site.get("/admin/settings", &admin).await.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The admin's own form does it.
    assert_eq!(site.post("/admin/settings", &admin, &pairs).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(site.repo.settings().name, "Taken over");
}

#[tokio::test]
async fn a_copy_of_a_restricted_document_is_requested_approved_and_downloaded() {
    let site = start(AccountSettings::default()).await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Archive).await).await;
    let page = site.get(&format!("/{id}/"), "").await.text().await.unwrap();
    assert!(page.contains(&format!("href=\"/copy-request/{id}/2\"")), "a restricted document offers a copy");
    assert!(!page.contains(&format!("/copy-request/{id}/1\"")), "an open one needs none");

    let res = site.get(&format!("/copy-request/{id}/2"), "").await;
    let (cookie, _) = common::set_cookie(&res, "arkiv_csrf").unwrap();
    let cookie = format!("arkiv_csrf={cookie}");
    let token = csrf_field(&res.text().await.unwrap());
    let ask = |pos: u32| {
        let (site, cookie, token) = (&site, cookie.clone(), token.clone());
        async move {
            site.post(
                &format!("/copy-request/{id}/{pos}"),
                &cookie,
                &[
                    ("csrf", token.as_str()),
                    ("name", "A Reader"),
                    ("email", "reader@example.org"),
                    ("message", "For my thesis"),
                ],
            )
            .await
        }
    };
    let res = ask(2).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("has been passed on"));
    assert_eq!(ask(1).await.status(), StatusCode::UNPROCESSABLE_ENTITY, "no copy of what is open already");
    let outbox = site.repo.accounts.outbox(10).await.unwrap();
    assert_eq!(outbox[0].to, "depositor@example.org", "the depositor is told");

    let depositor = site.session("depositor@example.org").await;
    let other = site.session("other@example.org").await;
    let theses = site.session("theses@example.org").await;
    let papers = site.session("papers@example.org").await;
    for (who, sees) in [(&depositor, true), (&papers, true), (&other, false), (&theses, false)] {
        let html = site.get("/copy-requests", who).await.text().await.unwrap();
        assert_eq!(html.contains("A Reader &lt;reader@example.org&gt;"), sees, "{html}");
    }
    let rid = site.repo.accounts.pending_copy_requests(None, 10).await.unwrap()[0].id;
    let html = site.get("/copy-requests", &other).await.text().await.unwrap();
    let res = site
        .post(&format!("/copy-requests/{rid}"), &other, &[("csrf", &csrf_field(&html)), ("decision", "approve")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "another depositor may not decide");
    let html = site.get("/copy-requests", &depositor).await.text().await.unwrap();
    let csrf = csrf_field(&html);
    let res =
        site.post(&format!("/copy-requests/{rid}"), &depositor, &[("csrf", &csrf), ("decision", "approve")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let again =
        site.post(&format!("/copy-requests/{rid}"), &depositor, &[("csrf", &csrf), ("decision", "refuse")]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "decided once");

    let message = &site.repo.accounts.outbox(10).await.unwrap()[0];
    assert_eq!(message.to, "reader@example.org");
    let link = message.body.lines().find(|l| l.contains("/copy/")).unwrap().trim();
    let path = &link[link.find("/copy/").unwrap()..];
    let res = site.get(path, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.headers()["content-security-policy"], "sandbox");
    assert_eq!(&res.bytes().await.unwrap()[..], b"%PDF-1.4 matrix");
    assert_eq!(site.get(&format!("/copy/{}", "a".repeat(64)), "").await.status(), StatusCode::NOT_FOUND);
}

/// A user who may not open a deposit page (GET gives 404) is refused by
/// every form it posts to (404, or 403 for a live item as the matrix has
/// it) before the form is read: an invalid upload, document change, save
/// or submit never renders that page, with its file list, in a 422 or 409.
#[tokio::test]
async fn a_refused_deposit_page_stays_refused_through_every_form() {
    let site = start(AccountSettings::default()).await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Archive).await).await;
    let other = site.session("other@example.org").await;
    assert_eq!(site.get(&format!("/deposit/{id}"), &other).await.status(), StatusCode::NOT_FOUND);
    let csrf = csrf_field(&site.get("/workarea", &other).await.text().await.unwrap());
    let revision = site.repo.store.get_record_with_revision(id).await.unwrap().unwrap().1.to_string();
    let check = |what: &'static str, res: Response| async move {
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(!body.contains("f.pdf"), "{what} showed the deposit page's files to another user");
        assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{what}: {status}");
    };
    let upload = Form::new()
        .text("csrf", csrf.clone())
        .text("revision", revision.clone())
        .text("security", "nobody")
        .text("embargo", "")
        .part("file", Part::bytes(b"x".to_vec()).file_name("x.txt").mime_str("text/plain").unwrap());
    let res = site
        .client
        .post(site.url(&format!("/deposit/{id}/upload")))
        .header("cookie", &other)
        .multipart(upload)
        .send()
        .await
        .unwrap();
    check("an upload with a bad access level", res).await;
    let no_file = Form::new().text("csrf", csrf.clone()).text("revision", revision.clone());
    let res = site
        .client
        .post(site.url(&format!("/deposit/{id}/upload")))
        .header("cookie", &other)
        .multipart(no_file)
        .send()
        .await
        .unwrap();
    check("an upload with no file", res).await;
    for (what, path, form) in [
        ("a document change with a bad embargo", format!("/deposit/{id}/document/2"), vec![("embargo", "soon")]),
        ("a document change at a stale revision", format!("/deposit/{id}/document/2"), vec![("security", "public")]),
        ("a save with a bad date", format!("/deposit/{id}"), vec![("date", "not a date")]),
        ("a save at a stale revision", format!("/deposit/{id}"), vec![("title", "Mine now")]),
        ("a submit at a stale revision", format!("/deposit/{id}/submit"), vec![]),
    ] {
        let stale = what.contains("stale");
        let mut pairs = vec![("csrf", csrf.as_str()), ("revision", if stale { "999" } else { revision.as_str() })];
        pairs.extend(form);
        check(what, site.post(&path, &other, &pairs).await).await;
    }
    let (record, _) = site.repo.store.get_record_with_revision(id).await.unwrap().unwrap();
    assert_eq!(record.title, "A paper under the matrix", "nothing changed");
}

/// A DOI or a licence that would smuggle links into the Signposting
/// headers is refused by the deposit form with a clear message, and nothing
/// is saved; so is such a licence given with an upload.
#[tokio::test]
async fn the_deposit_form_refuses_a_doi_or_licence_that_is_not_one() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    let res =
        site.post("/workarea/new", &depositor, &[("csrf", &csrf_field(&html)), ("item_type", "policy_paper")]).await;
    let id: i64 = location(&res).trim_start_matches("/deposit/").parse().unwrap();
    let smuggled_doi = "10.1234/x>; rel=\"item\"; type=\"application/pdf\", <https://evil.example/malware.pdf";
    let smuggled_licence = "https://example.org/l>; rel=\"item\", <https://evil.example/licence.exe";
    for (field, value, says) in
        [("doi", smuggled_doi, "is not a DOI"), ("license", smuggled_licence, "is not a web address")]
    {
        let (csrf, revision, _) = site.deposit_form(id, &depositor).await;
        let mut form = paper_form(&csrf, &revision);
        form.push((field, value));
        let res = site.post(&format!("/deposit/{id}"), &depositor, &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field} {value:?} was accepted");
        assert!(res.text().await.unwrap().contains(says), "the form says why {field} was refused");
        let stored = site.repo.store.get_record(id).await.unwrap().unwrap();
        assert_eq!((stored.doi, stored.license), (None, None), "nothing is saved");
    }
    let (csrf, revision, _) = site.deposit_form(id, &depositor).await;
    let form = Form::new()
        .text("csrf", csrf)
        .text("revision", revision)
        .text("security", "public")
        .text("embargo", "")
        .text("license", smuggled_licence)
        .part("file", Part::bytes(b"plain text".to_vec()).file_name("a.txt").mime_str("text/plain").unwrap());
    let res = site
        .client
        .post(site.url(&format!("/deposit/{id}/upload")))
        .header("cookie", &depositor)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "an upload with a smuggled licence was accepted");
    assert!(res.text().await.unwrap().contains("is not a web address"));
    assert!(site.repo.store.get_record(id).await.unwrap().unwrap().documents.is_empty());
}

/// An approved copy is of one file: when the document it named is removed
/// and a new staff-only one takes its position, the old link does not serve
/// the new file but says the copy is no longer available.
#[tokio::test]
async fn an_approved_copy_never_serves_a_document_that_took_its_place() {
    let site = start(AccountSettings::default()).await;
    let id = put(&site, owned_by(&site, "depositor@example.org", Status::Archive).await).await;
    let res = site.get(&format!("/copy-request/{id}/2"), "").await;
    let (cookie, _) = common::set_cookie(&res, "arkiv_csrf").unwrap();
    let token = csrf_field(&res.text().await.unwrap());
    let form = [("csrf", token.as_str()), ("name", "A Reader"), ("email", "reader@example.org"), ("message", "")];
    let res = site.post(&format!("/copy-request/{id}/2"), &format!("arkiv_csrf={cookie}"), &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let depositor = site.session("depositor@example.org").await;
    let rid = site.repo.accounts.pending_copy_requests(None, 10).await.unwrap()[0].id;
    let csrf = csrf_field(&site.get("/copy-requests", &depositor).await.text().await.unwrap());
    let res =
        site.post(&format!("/copy-requests/{rid}"), &depositor, &[("csrf", &csrf), ("decision", "approve")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let message = &site.repo.accounts.outbox(10).await.unwrap()[0];
    let link = message.body.lines().find(|l| l.contains("/copy/")).unwrap().trim();
    let path = link[link.find("/copy/").unwrap()..].to_string();
    assert_eq!(&site.get(&path, "").await.bytes().await.unwrap()[..], b"%PDF-1.4 matrix", "the approved file");

    // Document 2 is removed, and a new staff-only one takes position 2.
    let secret = site.repo.files.put(bytes::Bytes::from_static(b"%PDF-1.4 staff only")).await.unwrap();
    let mut record = site.repo.store.get_record(id).await.unwrap().unwrap();
    let doc = record.documents.iter_mut().find(|d| d.pos == 2).unwrap();
    *doc = Document {
        pos: 2,
        security: DocumentSecurity::Staffonly,
        main: Some("minutes.pdf".into()),
        mime_type: Some("application/pdf".into()),
        files: vec![StoredFile {
            filename: "minutes.pdf".into(),
            size: 19,
            sha256: Some(secret),
            ..Default::default()
        }],
        ..Default::default()
    };
    put(&site, record).await;
    let res = site.get(&path, "").await;
    let status = res.status();
    let body = res.bytes().await.unwrap();
    assert!(!body.windows(10).any(|w| w == b"staff only"), "the old link served the new staff-only file");
    assert_eq!(status, StatusCode::GONE);
    assert!(String::from_utf8_lossy(&body).contains("This copy is no longer available"));
}

/// Anonymous visitors get abstract pages (and the home and browse pages)
/// from the page cache: a repeat view is the same page with the same ETag
/// (and a 304 for it), yet every change shows at once: an edit written
/// straight to the store, a new version going live, a new repository name,
/// a withdrawal; and a logged-in user never gets the anonymous page.
#[tokio::test]
async fn cached_abstract_pages_follow_every_change() {
    let site = start(AccountSettings::default()).await;
    let path = format!("/{}/", site.live);
    let view = |cookies: &'static str| {
        let site = &site;
        let path = path.clone();
        async move {
            let res = site.get(&path, cookies).await;
            let status = res.status();
            let etag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            (status, etag, res.text().await.unwrap())
        }
    };
    let (status, etag, html) = view("").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("A live paper") && html.contains("(login required)"));
    let (_, again, html_again) = view("").await;
    assert_eq!((again.as_str(), html_again.as_str()), (etag.as_str(), html.as_str()), "a repeat view is the same page");
    let res = site.client.get(site.url(&path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // The home page and a browse view, kept the same way.
    let home = site.get("/", "").await.text().await.unwrap();
    assert!(home.contains("A live paper"));
    let res = site.get("/view/type/", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let types_etag = res.headers().get("etag").unwrap().to_str().unwrap().to_string();
    let res = site.client.get(site.url("/view/type/")).header("if-none-match", &types_etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // An edit committed behind the web layer's back.
    let (mut record, _) = site.repo.store.get_record_with_revision(site.live).await.unwrap().unwrap();
    record.title = "A retitled paper".into();
    site.repo.store.put_records(vec![RecordWrite::new(record, "elsewhere")]).await.unwrap();
    let home = site.get("/", "").await.text().await.unwrap();
    assert!(home.contains("A retitled paper") && !home.contains("A live paper"), "the home page follows the edit");
    let (_, etag2, html) = view("").await;
    assert!(html.contains("A retitled paper") && !html.contains("A live paper"), "the edit shows at once");
    assert_ne!(etag2, etag);
    let res = site.client.get(site.url(&path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the old ETag no longer matches");

    // A logged-in editor gets their own page, not the cached one.
    let editor = site.session("editor@example.org").await;
    let res = site.get(&path, &editor).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("Logged in as The editor") && html.contains("Edit this item"));
    let (_, _, html) = view("").await;
    assert!(!html.contains("Logged in as"), "the anonymous page stays anonymous");

    // A new version going live changes the old record's page.
    let mut newer = Record::new("policy_paper", "The second edition");
    newer.status = Status::Archive;
    newer.succeeds = Some(site.live);
    site.repo.store.put_records(vec![RecordWrite::new(newer, "elsewhere")]).await.unwrap();
    let (_, _, html) = view("").await;
    assert!(html.contains("Later Versions") && html.contains("The second edition"), "the later version shows");

    // A new repository name (live settings) shows on the cached page.
    let overrides = arkiv_services::settings::Overrides { name: Some("Renamed Papers".into()), ..Default::default() };
    site.repo.put_settings(&overrides).await.unwrap();
    let (_, _, html) = view("").await;
    assert!(html.contains("Renamed Papers"), "the new name shows");

    // Withdrawn: the tombstone, at once.
    let (mut record, _) = site.repo.store.get_record_with_revision(site.live).await.unwrap().unwrap();
    record.status = Status::Deletion;
    site.repo.store.put_records(vec![RecordWrite::new(record, "elsewhere")]).await.unwrap();
    let (status, _, _) = view("").await;
    assert_eq!(status, StatusCode::GONE);
}

/// A monograph's kind is chosen from EPrints' list by its name ("Working
/// Paper"), and a kind the list lacks (an imported repository's local
/// `white_paper`) stays chosen when the form is saved again.
#[tokio::test]
async fn the_kind_of_monograph_is_chosen_by_name_and_a_local_kind_survives_the_form() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    let res = site.post("/workarea/new", &depositor, &[("csrf", &csrf_field(&html)), ("item_type", "monograph")]).await;
    let id: i64 = location(&res).trim_start_matches("/deposit/").parse().unwrap();
    let (_, _, html) = site.deposit_form(id, &depositor).await;
    assert!(html.contains("<select id=\"f-subtype\" name=\"subtype\">"), "{html}");
    assert!(html.contains("<option value=\"working_paper\">Working Paper</option>"), "{html}");

    for (kind, label) in [("working_paper", "Working Paper"), ("white_paper", "White paper")] {
        let (csrf, revision, _) = site.deposit_form(id, &depositor).await;
        let mut form = paper_form(&csrf, &revision);
        form.retain(|(k, _)| *k != "item_type");
        form.extend([("item_type", "monograph"), ("subtype", kind)]);
        let res = site.post(&format!("/deposit/{id}"), &depositor, &form).await;
        assert!(res.status().is_redirection(), "saving {kind}: {}", res.status());
        assert_eq!(site.repo.store.get_record(id).await.unwrap().unwrap().subtype.as_deref(), Some(kind));
        let (_, _, html) = site.deposit_form(id, &depositor).await;
        let chosen = format!("<option value=\"{kind}\" selected>{label}</option>");
        assert!(html.contains(&chosen), "{chosen} in\n{html}");
        // Saving the form unchanged keeps the kind.
        let (csrf, revision, _) = site.deposit_form(id, &depositor).await;
        let mut again = paper_form(&csrf, &revision);
        again.retain(|(k, _)| *k != "item_type");
        again.extend([("item_type", "monograph"), ("subtype", kind)]);
        site.post(&format!("/deposit/{id}"), &depositor, &again).await;
        assert_eq!(site.repo.store.get_record(id).await.unwrap().unwrap().subtype.as_deref(), Some(kind));
    }
}

/// A depositor gives up a draft from its deposit page: only with the box
/// ticked, and only a draft that was never live (a live item offers no
/// such button).
#[tokio::test]
async fn a_draft_is_deleted_from_its_page_once_the_box_is_ticked() {
    let site = start(AccountSettings::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let draft = put(&site, owned_by(&site, "depositor@example.org", Status::Inbox).await).await;
    let html = site.get(&format!("/deposit/{draft}"), &depositor).await.text().await.unwrap();
    assert!(html.contains("Delete the draft"), "the button:\n{html}");
    let csrf = hidden(&html, "csrf");
    let path = format!("/deposit/{draft}/delete");
    let res = site.post(&path, &depositor, &[("csrf", &csrf), ("revision", "1"), ("confirm", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("tick the box"));
    assert!(site.repo.store.get_record(draft).await.unwrap().is_some(), "nothing deleted");
    let res = site.post(&path, &depositor, &[("csrf", &csrf), ("revision", "1"), ("confirm", "1")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(site.repo.store.get_record(draft).await.unwrap(), None);
    assert_eq!(site.get(&format!("/deposit/{draft}"), &depositor).await.status(), StatusCode::NOT_FOUND);

    let live = put(&site, owned_by(&site, "depositor@example.org", Status::Archive).await).await;
    let editor = site.session("editor@example.org").await;
    let html = site.get(&format!("/deposit/{live}"), &editor).await.text().await.unwrap();
    assert!(!html.contains("Delete the draft"), "a live item is withdrawn, never deleted");
}
