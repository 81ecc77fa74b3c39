//! What the file store keeps and what it gives back (issue 21): files of a
//! draft that never went live are purged after `[files] purge_after_days`
//! and the history says so; files of a record that was ever live are kept
//! for good; bytes nothing names go after `[files] gc_grace_hours`, but
//! never bytes an upload in flight is about to name; a user's draft files
//! are held to a quota that counts removed files until they are purged;
//! fsck reports the bytes nothing names. Each test runs on SQLite and on
//! PostgreSQL (a fresh database per test, as the store suites do).
//!
//! Two clocks are at work, as in production: purge delays are counted on
//! the repository's clock (a `SetClock` here, moved on by days), object
//! ages on the file store's own stamps (files' modification times here),
//! so a test that lets time pass also backdates the stored objects, as if
//! they had been written that long ago.

#[path = "../../arkiv-storage/tests/backends/mod.rs"]
#[allow(dead_code)]
mod backends;

use arkiv_model::{Record, RecordId, Role, Status, Timestamp, User};
use arkiv_services::accounts::{create_user, NewAccount};
use arkiv_services::clock::SetClock;
use arkiv_services::file_gc::{collect_garbage, collect_garbage_if_due, draft_usage};
use arkiv_services::fsck::{fsck, Severity};
use arkiv_services::workflow::{DocumentSettings, Workflow, WorkflowError};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use arkiv_testkit::unique_bytes;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const KIB: usize = 1024;
const DAY: i64 = 86_400;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::fixture(None).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::backends::with_postgres_url(|url| async move {
                        super::$name(super::fixture(Some(url)).await).await
                    })
                    .await
                }
            )*
        }
    };
}

both!(
    upload_and_remove_cycles_on_a_draft_are_purged_after_the_delay,
    a_record_that_went_live_keeps_its_files_for_good,
    unreferenced_objects_go_after_the_grace_and_young_ones_stay,
    bytes_an_upload_is_about_to_name_survive_the_collector,
    the_quota_counts_removed_files_until_they_are_purged,
    fsck_reports_unreferenced_bytes,
    fsck_tells_an_unfinished_draft_from_a_broken_live_record,
    the_hourly_jobs_clean_the_file_store_once_a_day,
);

struct Fixture {
    repo: Repository,
    clock: Arc<SetClock>,
    depositor: User,
    admin: User,
    dir: tempfile::TempDir,
}

async fn fixture(database: Option<String>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    if let Some(url) = database {
        config.storage.database = url;
    }
    // 1 MiB: a few of the test's files fill it.
    config.deposit.draft_quota_mb = 1;
    let clock = Arc::new(SetClock::new(Timestamp::now()));
    let repo = Repository::init(dir.path(), config).await.unwrap().with_clock(clock.clone());
    let mut users = Vec::new();
    for (email, role) in [("depositor@example.org", Role::Depositor), ("admin@example.org", Role::Admin)] {
        let new = NewAccount {
            email: email.into(),
            name: email.into(),
            password: "a correct horse battery".into(),
            role,
            scope: Default::default(),
            orcid: None,
        };
        users.push(create_user(repo.accounts.as_ref(), new).await.unwrap());
    }
    let [depositor, admin] = users.try_into().unwrap();
    Fixture { repo, clock, depositor, admin, dir }
}

fn upload(bytes: &[u8]) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Unpin {
    let chunks: Vec<std::io::Result<Bytes>> = bytes.chunks(8 * KIB).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures::stream::iter(chunks)
}

impl Fixture {
    fn files_dir(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// Every file under the file store's directory.
    fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.files_dir(), &mut out);
        out
    }

    /// What the file store takes on disk, as `du` would count it.
    fn store_bytes(&self) -> u64 {
        self.stored_files().iter().map(|p| std::fs::metadata(p).unwrap().len()).sum()
    }

    fn object_file(&self, sha: &str) -> PathBuf {
        self.files_dir().join("sha256").join(&sha[..2]).join(&sha[2..4]).join(sha)
    }

    /// Backdates a stored file, as if written `secs` ago.
    fn age(&self, path: &Path, secs: u64) {
        let then = SystemTime::now() - Duration::from_secs(secs);
        std::fs::File::options().write(true).open(path).unwrap().set_modified(then).unwrap();
    }

    /// Lets `days` pass: the repository's clock, and the store's objects.
    fn days_pass(&self, days: i64) {
        self.clock.advance(days * DAY);
        for path in self.stored_files() {
            self.age(&path, (days * DAY) as u64);
        }
    }

    async fn revision(&self, id: RecordId) -> i64 {
        self.repo.store.get_record_with_revision(id).await.unwrap().unwrap().1
    }

    async fn add(&self, user: &User, id: RecordId, name: &str, data: &[u8]) -> Result<u32, WorkflowError> {
        let rev = self.revision(id).await;
        Workflow::new(&self.repo, user)
            .add_document(id, rev, name, None, upload(data), DocumentSettings::default())
            .await
    }

    async fn remove(&self, user: &User, id: RecordId, pos: u32) {
        let rev = self.revision(id).await;
        Workflow::new(&self.repo, user).remove_document(id, rev, pos).await.unwrap();
    }

    async fn held(&self, data: &[u8]) -> bool {
        let sha = arkiv_storage::files::sha256_hex(data);
        self.repo.files.get(&sha).await.unwrap().is_some_and(|b| b.as_ref() == data)
    }
}

async fn upload_and_remove_cycles_on_a_draft_are_purged_after_the_delay(fx: Fixture) {
    let flow = Workflow::new(&fx.repo, &fx.depositor);
    let id = flow.create("policy_paper").await.unwrap();
    let kept = unique_bytes(100 * KIB);
    fx.add(&fx.depositor, id, "kept.pdf", &kept).await.unwrap();
    let before = fx.store_bytes();
    let size = 200 * KIB;
    let cycles: Vec<Vec<u8>> = (0..3).map(|_| unique_bytes(size)).collect();
    for (i, data) in cycles.iter().enumerate() {
        let pos = fx.add(&fx.depositor, id, &format!("draft-{i}.pdf"), data).await.unwrap();
        fx.remove(&fx.depositor, id, pos).await;
    }
    assert_eq!(fx.store_bytes() - before, 3 * size as u64, "each cycle leaves its bytes, for now");

    // Within the delay nothing goes: the depositor may still want them back.
    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert!(report.purged.is_empty(), "{report}");
    assert_eq!(report.objects_deleted, 0, "{report}");
    fx.days_pass(6);
    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert!(report.purged.is_empty() && report.objects_deleted == 0, "six days: {report}");

    fx.days_pass(2);
    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert_eq!(report.purged.len(), 3, "{report}");
    assert_eq!(report.bytes_freed, 3 * size as u64, "{report}");
    assert_eq!(fx.store_bytes(), before, "the store is back to the file the draft still has");
    for data in &cycles {
        assert!(!fx.held(data).await);
    }
    assert!(fx.held(&kept).await, "the file the draft still names stays");

    let day = fx.repo.now().day();
    let (_, history) = Workflow::new(&fx.repo, &fx.depositor).history(id).await.unwrap();
    let notes: Vec<&String> = history.iter().flat_map(|e| &e.purged).collect();
    for i in 0..3 {
        let note = format!("draft-{i}.pdf: file purged on {day}");
        assert_eq!(notes.iter().filter(|n| ***n == note).count(), 1, "{note:?} in {notes:?}");
    }
    let removal = history.iter().find(|e| e.purged.iter().any(|n| n.starts_with("draft-0.pdf"))).unwrap();
    let upload = history.iter().find(|e| e.number == removal.number - 1).unwrap();
    assert!(upload.purged.is_empty(), "the note is on the revision that removed the file");

    let again = collect_garbage(&fx.repo, false).await.unwrap();
    assert!(again.purged.is_empty() && again.objects_deleted == 0, "a second run finds nothing: {again}");
}

async fn the_hourly_jobs_clean_the_file_store_once_a_day(fx: Fixture) {
    let flow = Workflow::new(&fx.repo, &fx.depositor);
    let id = flow.create("policy_paper").await.unwrap();
    let first = unique_bytes(100 * KIB);
    let pos = fx.add(&fx.depositor, id, "first.pdf", &first).await.unwrap();
    fx.remove(&fx.depositor, id, pos).await;
    // The first round collects (nothing is due yet); the next rounds of the
    // same day do not walk the repository again.
    arkiv_services::jobs::run_once(&fx.repo).await;
    fx.days_pass(8);
    let second = unique_bytes(100 * KIB);
    let pos = fx.add(&fx.depositor, id, "second.pdf", &second).await.unwrap();
    fx.remove(&fx.depositor, id, pos).await;
    arkiv_services::jobs::run_once(&fx.repo).await;
    assert!(!fx.held(&first).await, "eight days on, the hourly round purged the first file");
    fx.days_pass(8);
    assert!(collect_garbage_if_due(&fx.repo).await.unwrap().is_some(), "a day on, due again");
    assert!(!fx.held(&second).await);
    assert!(collect_garbage_if_due(&fx.repo).await.unwrap().is_none(), "not twice in a day");
}

async fn a_record_that_went_live_keeps_its_files_for_good(fx: Fixture) {
    let flow = Workflow::new(&fx.repo, &fx.depositor);
    let id = flow.create("policy_paper").await.unwrap();
    // Removed while a draft, before the record went live: it was named by
    // a revision of a record that is live now, so it stays.
    let early = unique_bytes(200 * KIB);
    let pos = fx.add(&fx.depositor, id, "early.pdf", &early).await.unwrap();
    fx.remove(&fx.depositor, id, pos).await;
    let main = unique_bytes(100 * KIB);
    fx.add(&fx.depositor, id, "paper.pdf", &main).await.unwrap();
    let (mut record, rev): (Record, i64) = fx.repo.store.get_record_with_revision(id).await.unwrap().unwrap();
    record.title = "A paper that went live".into();
    record.status = Status::Archive;
    let mut write = RecordWrite::new(record, "test");
    write.expected_revision = Some(rev);
    fx.repo.store.put_records(vec![write]).await.unwrap();
    assert!(fx.repo.store.get_record(id).await.unwrap().unwrap().datestamp.is_some());

    // The same cycles, by an editor, on the live record.
    let cycles: Vec<Vec<u8>> = (0..3).map(|_| unique_bytes(200 * KIB)).collect();
    for (i, data) in cycles.iter().enumerate() {
        let pos = fx.add(&fx.admin, id, &format!("live-{i}.pdf"), data).await.unwrap();
        fx.remove(&fx.admin, id, pos).await;
    }
    let before = fx.store_bytes();
    fx.days_pass(30);
    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert!(report.purged.is_empty(), "{report}");
    assert_eq!((report.objects_deleted, report.bytes_freed), (0, 0), "{report}");
    assert_eq!(fx.store_bytes(), before);
    for data in cycles.iter().chain([&early, &main]) {
        assert!(fx.held(data).await, "every file a live record ever named is kept");
    }
}

async fn unreferenced_objects_go_after_the_grace_and_young_ones_stay(fx: Fixture) {
    let (old, young) = (unique_bytes(150 * KIB), unique_bytes(50 * KIB));
    let old_sha = fx.repo.files.put(Bytes::from(old.clone())).await.unwrap();
    fx.repo.files.put(Bytes::from(young.clone())).await.unwrap();
    // An upload a crash left in staging.
    let leftover = fx.files_dir().join("staging").join("12345-1-0");
    std::fs::create_dir_all(leftover.parent().unwrap()).unwrap();
    std::fs::write(&leftover, vec![7u8; 30 * KIB]).unwrap();
    fx.age(&fx.object_file(&old_sha), 25 * 3600);
    fx.age(&leftover, 25 * 3600);

    let dry = collect_garbage(&fx.repo, true).await.unwrap();
    assert_eq!((dry.objects_deleted, dry.bytes_freed), (2, 180 * KIB as u64), "{dry}");
    assert!(fx.held(&old).await && leftover.exists(), "a dry run deletes nothing");

    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert_eq!((report.objects_deleted, report.bytes_freed), (2, 180 * KIB as u64), "{report}");
    assert_eq!((report.objects_young, report.bytes_young), (1, 50 * KIB as u64), "{report}");
    assert!(!fx.held(&old).await, "older than the grace: collected");
    assert!(!leftover.exists(), "staging leftovers go too");
    assert!(fx.held(&young).await, "younger than the grace: kept, it may be an upload in flight");
    assert_eq!(fx.store_bytes(), 50 * KIB as u64);
}

async fn bytes_an_upload_is_about_to_name_survive_the_collector(fx: Fixture) {
    // Bytes nobody names, a day old: the collector's next victim...
    let data = unique_bytes(120 * KIB);
    let sha = fx.repo.files.put(Bytes::from(data.clone())).await.unwrap();
    fx.age(&fx.object_file(&sha), 25 * 3600);
    // ...when a depositor uploads the same bytes. The upload has stored
    // them (finding them there) and is about to write its record when the
    // collector runs.
    let (stored, _) = fx.repo.files.put_stream(upload(&data), u64::MAX).await.unwrap();
    assert_eq!(stored, sha);
    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert_eq!(report.objects_deleted, 0, "{report}");
    assert!(fx.held(&data).await, "the upload's bytes are there when its record names them");
    let id = Workflow::new(&fx.repo, &fx.depositor).create("policy_paper").await.unwrap();
    fx.add(&fx.depositor, id, "same.pdf", &data).await.unwrap();
    assert!(fx.held(&data).await);

    // The same through `put` (an import's embedded bytes).
    let other = unique_bytes(80 * KIB);
    let sha = fx.repo.files.put(Bytes::from(other.clone())).await.unwrap();
    fx.age(&fx.object_file(&sha), 25 * 3600);
    fx.repo.files.put(Bytes::from(other.clone())).await.unwrap();
    let report = collect_garbage(&fx.repo, false).await.unwrap();
    assert_eq!(report.objects_deleted, 0, "{report}");
    assert!(fx.held(&other).await);
}

async fn the_quota_counts_removed_files_until_they_are_purged(fx: Fixture) {
    let flow = Workflow::new(&fx.repo, &fx.depositor);
    let id = flow.create("policy_paper").await.unwrap();
    let size = 400 * KIB;
    let (a, b, c) = (unique_bytes(size), unique_bytes(size), unique_bytes(size));
    let pa = fx.add(&fx.depositor, id, "a.pdf", &a).await.unwrap();
    let pb = fx.add(&fx.depositor, id, "b.pdf", &b).await.unwrap();
    fx.remove(&fx.depositor, id, pa).await;
    fx.remove(&fx.depositor, id, pb).await;
    let usage = draft_usage(&fx.repo, fx.depositor.id).await.unwrap();
    assert_eq!(usage.bytes, 2 * size as u64, "removed files count until they are purged");
    assert_eq!(usage.label(), "Draft files: 0.8 MB of 1.0 MB");

    let before = fx.store_bytes();
    let refused = fx.add(&fx.depositor, id, "c.pdf", &c).await;
    let Err(WorkflowError::BadUpload(message)) = refused else { panic!("past the quota: {refused:?}") };
    assert!(
        message.contains("quota") && message.contains("0.8 MB of 1.0 MB") && message.contains("purged"),
        "{message}"
    );
    assert_eq!(fx.store_bytes(), before, "the refused upload left no bytes");
    assert!(!fx.held(&c).await);
    let other_user = draft_usage(&fx.repo, fx.admin.id).await.unwrap();
    assert_eq!(other_user.bytes, 0, "the quota is per user");

    fx.days_pass(8);
    collect_garbage(&fx.repo, false).await.unwrap();
    assert_eq!(draft_usage(&fx.repo, fx.depositor.id).await.unwrap().bytes, 0);
    fx.add(&fx.depositor, id, "c.pdf", &c).await.unwrap();
    assert!(fx.held(&c).await, "after the purge there is room again");
}

/// The deposit form's first step makes a draft with an item type and no
/// title: a site with depositors mid-deposit must not have fsck errors. A
/// live record without a title is one.
async fn fsck_tells_an_unfinished_draft_from_a_broken_live_record(fx: Fixture) {
    let flow = Workflow::new(&fx.repo, &fx.depositor);
    let draft = flow.create("policy_paper").await.unwrap();
    let report = fsck(&fx.repo, &mut |_| {}).await.unwrap();
    assert_eq!(report.errors(), 0, "{:?}", report.findings);
    let notice = report.findings.iter().find(|f| f.place == format!("record {draft}")).expect("the draft is named");
    assert_eq!(notice.severity, Severity::Notice);
    assert!(notice.problem.contains("unfinished draft") && notice.problem.contains("title"), "{}", notice.problem);

    let live = flow.create("policy_paper").await.unwrap();
    let (mut record, rev): (Record, i64) = fx.repo.store.get_record_with_revision(live).await.unwrap().unwrap();
    record.status = Status::Archive;
    let mut write = RecordWrite::new(record, "test");
    write.expected_revision = Some(rev);
    fx.repo.store.put_records(vec![write]).await.unwrap();
    let report = fsck(&fx.repo, &mut |_| {}).await.unwrap();
    let errors: Vec<_> = report.findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{:?}", report.findings);
    assert_eq!(errors[0].place, format!("record {live}"));
    assert!(errors[0].problem.contains("needs a title"), "{}", errors[0].problem);
}

async fn fsck_reports_unreferenced_bytes(fx: Fixture) {
    let (old, young) = (unique_bytes(60 * KIB), unique_bytes(40 * KIB));
    let sha = fx.repo.files.put(Bytes::from(old)).await.unwrap();
    fx.repo.files.put(Bytes::from(young)).await.unwrap();
    fx.age(&fx.object_file(&sha), 25 * 3600);
    let report = fsck(&fx.repo, &mut |_| {}).await.unwrap();
    let notice = report
        .findings
        .iter()
        .find(|f| f.place == "file store")
        .unwrap_or_else(|| panic!("no file-store finding in {:?}", report.findings));
    assert_eq!(notice.severity, Severity::Notice);
    assert!(
        notice.problem.contains(&format!("2 objects ({} bytes)", 100 * KIB))
            && notice.problem.contains(&format!("1 of them ({} bytes)", 40 * KIB)),
        "{}",
        notice.problem
    );
    assert_eq!(report.errors(), 0);
}
