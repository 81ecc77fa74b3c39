//! The services that walk the file store, run on both of its backends
//! (issue 31): a local directory, and S3 (a fresh bucket per test on the
//! server `ARKIV_TEST_S3_URL` names; skipped without it, failed under
//! `CI=true`). The garbage collector takes bytes nothing names once past
//! the grace and keeps named and young ones; fsck re-hashes every object
//! and reports damaged and missing bytes; a backup copies the bytes
//! out (once), and a restore copies them into a new store, streamed and
//! checked on the way.
//!
//! The collector's ages are the store's own stamps, which S3 does not let
//! a client backdate: so the grace here is 0 hours (everything unnamed is
//! old after a second) or 1 (everything is young), instead of the days
//! `file_store_gc.rs` moves the local files' clocks by.

use arkiv_model::{Record, Status};
use arkiv_services::backup::{backup, restore};
use arkiv_services::file_gc::collect_garbage;
use arkiv_services::fsck::{fsck, Severity};
use arkiv_services::{Config, Repository};
use arkiv_storage::files::{sha256_hex, Fixity};
use arkiv_storage::RecordWrite;
use arkiv_testkit::unique_bytes;
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// Where a test's repository keeps its files.
#[derive(Clone)]
enum FilesAt {
    Local,
    S3(arkiv_testkit::S3Server),
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::FilesAt::Local).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !cfg!(feature = "s3") {
                        return arkiv_testkit::skip("S3 support (cargo feature s3)");
                    }
                    let Some(server) = arkiv_testkit::s3_server() else { return };
                    super::$name(super::FilesAt::S3(server)).await
                }
            )*
        }
    };
}

both!(
    the_collector_takes_unnamed_bytes_and_keeps_named_and_young_ones,
    fsck_rehashes_every_object,
    backup_and_restore_carry_the_bytes_streamed,
);

impl FilesAt {
    /// `config` with its files here (on S3, in a new bucket, made now).
    async fn configure(&self, mut config: Config) -> Config {
        if let FilesAt::S3(server) = self {
            config.storage.files = self.new_location().await;
            config.s3.endpoint = server.endpoint.clone();
            config.s3.allow_http = true;
            config.s3.access_key_id = server.access_key_id.clone();
            config.s3.secret_access_key = server.secret_access_key.clone();
        }
        config
    }

    /// A place for files no other repository uses: a new bucket on S3
    /// (made by a first write, as SeaweedFS does for an admin identity);
    /// locally the default directory of a new repository.
    async fn new_location(&self) -> String {
        let FilesAt::S3(server) = self else { return "files".into() };
        let bucket = arkiv_testkit::unique_bucket();
        let mut config = Config::default();
        config.storage.files = format!("s3://{bucket}/repo");
        config.s3.endpoint = server.endpoint.clone();
        config.s3.allow_http = true;
        config.s3.access_key_id = server.access_key_id.clone();
        config.s3.secret_access_key = server.secret_access_key.clone();
        let files = arkiv_services::repository::open_files(&config, std::path::Path::new(".")).unwrap();
        files.object_store().put(&ObjectPath::from("bucket-made"), PutPayload::from_static(b"")).await.unwrap();
        config.storage.files
    }
}

fn object_path(sha: &str) -> ObjectPath {
    ObjectPath::from(format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]))
}

/// A live record naming the files given (each stored first).
async fn live_record(repo: &Repository, files: &[(&str, &[u8])]) -> i64 {
    let mut r = Record::new("policy_paper", "A paper with files");
    r.status = Status::Archive;
    for (pos, (name, data)) in files.iter().enumerate() {
        let sha = repo.files.put(Bytes::copy_from_slice(data)).await.unwrap();
        let file = arkiv_model::StoredFile {
            filename: name.to_string(),
            mime_type: Some("application/pdf".into()),
            size: data.len() as u64,
            sha256: Some(sha),
            ..Default::default()
        };
        r.documents.push(arkiv_model::Document {
            pos: pos as u32 + 1,
            main: Some(name.to_string()),
            files: vec![file],
            ..Default::default()
        });
    }
    repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0]
}

async fn the_collector_takes_unnamed_bytes_and_keeps_named_and_young_ones(at: FilesAt) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = at.configure(Config::default()).await;
    config.files.gc_grace_hours = 0;
    let mut repo = Repository::init(dir.path(), config).await.unwrap();
    let named = unique_bytes(6 * MIB);
    live_record(&repo, &[("named.pdf", &named)]).await;
    let loose = unique_bytes(100_000);
    let (loose_sha, _) =
        repo.files.put_stream(futures::stream::iter([Ok(Bytes::from(loose))]), u64::MAX).await.unwrap();
    // Stamps are whole seconds: let one pass, so that both are older than
    // a grace of none.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let dry = collect_garbage(&repo, true).await.unwrap();
    assert_eq!((dry.objects_deleted, dry.objects_kept), (1, 1), "{dry:?}");
    assert!(repo.files.size(&loose_sha).await.unwrap().is_some(), "a dry run deletes nothing");
    let done = collect_garbage(&repo, false).await.unwrap();
    assert_eq!((done.objects_deleted, done.bytes_freed, done.objects_kept), (1, 100_000, 1), "{done:?}");
    assert_eq!(repo.files.size(&loose_sha).await.unwrap(), None);
    assert_eq!(repo.files.check(&sha256_hex(&named)).await.unwrap(), Fixity::Ok);
    // With an hour of grace, bytes just stored stay.
    repo.config.files.gc_grace_hours = 1;
    let young = repo.files.put(Bytes::from(unique_bytes(5000))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let done = collect_garbage(&repo, false).await.unwrap();
    assert_eq!((done.objects_deleted, done.objects_young, done.objects_kept), (0, 1, 1), "{done:?}");
    assert!(repo.files.size(&young).await.unwrap().is_some());
}

async fn fsck_rehashes_every_object(at: FilesAt) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), at.configure(Config::default()).await).await.unwrap();
    let (a, b) = (unique_bytes(9 * MIB), unique_bytes(2000));
    live_record(&repo, &[("a.pdf", &a), ("b.pdf", &b)]).await;
    let report = fsck(&repo, &mut |_| {}).await.unwrap();
    assert_eq!((report.files_checked, report.errors()), (2, 0), "{:?}", report.findings);
    // One damaged beneath the store, the other gone.
    let (sha_a, sha_b) = (sha256_hex(&a), sha256_hex(&b));
    repo.files.object_store().put(&object_path(&sha_a), PutPayload::from(unique_bytes(9 * MIB))).await.unwrap();
    repo.files.object_store().delete(&object_path(&sha_b)).await.unwrap();
    // And bytes no record names, damaged as well.
    let loose = unique_bytes(3000);
    let loose_sha = repo.files.put(Bytes::from(loose)).await.unwrap();
    repo.files.object_store().put(&object_path(&loose_sha), PutPayload::from(unique_bytes(3000))).await.unwrap();
    let report = fsck(&repo, &mut |_| {}).await.unwrap();
    assert_eq!(report.files_checked, 3);
    let errors: Vec<&str> =
        report.findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.problem.as_str()).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("damaged") && e.contains(&loose_sha)), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("damaged") && e.contains(&sha_a)), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("missing") && e.contains(&sha_b)), "{errors:?}");
}

async fn backup_and_restore_carry_the_bytes_streamed(at: FilesAt) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo"), at.configure(Config::default()).await).await.unwrap();
    let (big, small) = (unique_bytes(11 * MIB), unique_bytes(300));
    let id = live_record(&repo, &[("big.pdf", &big), ("small.pdf", &small)]).await;
    let out = dir.path().join("backup");
    let report = backup(&repo, &out).await.unwrap();
    assert_eq!((report.files, report.files_copied), (2, 2));
    assert_eq!(report.bytes_copied, (big.len() + small.len()) as u64);
    let again = backup(&repo, &out).await.unwrap();
    assert_eq!((again.files, again.files_copied), (2, 0), "held bytes are not copied again");

    // Into a new store: a new bucket on S3, a new directory locally.
    let to = dir.path().join("restored");
    let files = at.new_location().await;
    let restored = restore(&out, &to, None, Some(&files)).await.unwrap();
    assert_eq!(restored.files, 2);
    let repo2 = Repository::open(&to).await.unwrap();
    assert_eq!(repo2.config.storage.files, files);
    assert_eq!(repo2.files.is_s3(), matches!(at, FilesAt::S3(_)));
    for data in [&big, &small] {
        let sha = sha256_hex(data);
        assert_eq!(repo2.files.check(&sha).await.unwrap(), Fixity::Ok);
        assert_eq!(repo2.files.size(&sha).await.unwrap(), Some(data.len() as u64));
    }
    let record = repo2.store.get_record(id).await.unwrap().unwrap();
    assert_eq!(record.documents.len(), 2);
}
