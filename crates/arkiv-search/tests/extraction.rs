//! Text extraction is bounded and never holds up indexing: a PDF that
//! hangs until the extractor's timeout delays no other record (they are
//! searchable by their full text long before it ends), its own record is
//! searchable by its metadata at once and ends up indexed from its current
//! state with no text; a text owed when the server stopped is extracted
//! after a restart; a huge plain-text file is read only up to what the
//! index keeps, and a PDF reaches the extractor in chunks, never whole.
//! Each runs on SQLite and on PostgreSQL.
//!
//! The extractor in these tests is a shell script: a "PDF" is a first line
//! and a line of words, which the script prints back, unless the words say
//! HANG, when it sleeps past any timeout. It logs each file it is given.

#[path = "../../arkiv-storage/tests/backends/mod.rs"]
mod backends;

use arkiv_model::{Document, DocumentSecurity, Record, RecordId, Status, StoredFile};
use arkiv_search::extract::PDF_CHUNK;
use arkiv_search::{Extractor, Follower, SearchIndex, SearchRequest};
use arkiv_storage::{FileStore, RecordStore, RecordWrite};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prints a fake PDF's second line back, or hangs on one that says HANG;
/// logs the second line of every file it is given to `$EXTRACT_LOG`.
const SCRIPT: &str = r#"input=$(cat)
words=$(printf '%s\n' "$input" | sed -n 2p)
printf '%s\n' "$words" >> "$EXTRACT_LOG"
case "$words" in *HANG*) exec sleep 120;; esac
printf '%s' "$words""#;

fn script_extractor(log: &Path, timeout: Duration) -> Extractor {
    let mut ex = Extractor::new("/bin/sh");
    ex.args = vec!["-c".into(), SCRIPT.into()];
    ex.env = vec![("EXTRACT_LOG".into(), log.display().to_string())];
    ex.timeout = timeout;
    ex
}

/// Files the script was given, by their words.
fn extractions(log: &Path, words: &str) -> usize {
    std::fs::read_to_string(log).unwrap_or_default().lines().filter(|l| *l == words).count()
}

fn ids(index: &SearchIndex, q: &str) -> Vec<RecordId> {
    let mut v: Vec<RecordId> = index.search(&SearchRequest::new(q)).unwrap().hits.iter().map(|h| h.id).collect();
    v.sort();
    v
}

/// Polls `ok` until it holds or `deadline` passes; returns how long it took.
async fn within(deadline: Duration, what: &str, mut ok: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < deadline, "{what}: not after {deadline:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

fn public_document(filename: &str, mime: &str, sha: &str, size: u64) -> Document {
    Document {
        pos: 1,
        security: DocumentSecurity::Public,
        main: Some(filename.into()),
        files: vec![StoredFile {
            filename: filename.into(),
            mime_type: Some(mime.into()),
            size,
            sha256: Some(sha.into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A live record whose one public document is `bytes`, stored in `files`.
async fn record_with(files: &FileStore, title: &str, filename: &str, mime: &str, bytes: Vec<u8>) -> Record {
    let size = bytes.len() as u64;
    let sha = files.put(bytes::Bytes::from(bytes)).await.unwrap();
    let mut r = Record::new("report", title);
    r.status = Status::Archive;
    r.documents = vec![public_document(filename, mime, &sha, size)];
    r
}

fn fake_pdf(words: &str) -> Vec<u8> {
    format!("%PDF-1.4 fake\n{words}\n").into_bytes()
}

/// A follower running in the background until the returned sender is
/// dropped or sent to; the handle ends when it has stopped.
fn spawn_follower(
    follower: Follower,
    store: Arc<dyn RecordStore>,
    files: FileStore,
    index: Arc<SearchIndex>,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        follower
            .run(store, files, index, async {
                let _ = stopped.await;
            })
            .await
    });
    (stop, task)
}

/// A PDF that hangs until the timeout (5 s) holds up no other record: the
/// records after it are found by their full text, and it by its title,
/// within half the timeout. Meanwhile it is edited and a second record
/// sharing its PDF is withdrawn: after the timeout the PDF was extracted
/// once, is cached as empty, and the record is indexed as it is now,
/// without text and no longer owed one; the withdrawn one stays out.
async fn a_hanging_pdf_holds_up_no_other_record(store: Arc<dyn RecordStore>) {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(&dir.path().join("files")).unwrap();
    let log = dir.path().join("extract.log");
    let timeout = Duration::from_secs(5);

    let slow =
        record_with(&files, "Glaciers of the north", "slow.pdf", "application/pdf", fake_pdf("HANG slowword")).await;
    let mut twin = slow.clone();
    twin.title = "Moraines of the south".into();
    let quick_a = record_with(&files, "First paper", "a.pdf", "application/pdf", fake_pdf("quickalpha")).await;
    let quick_b = record_with(&files, "Second paper", "b.pdf", "application/pdf", fake_pdf("quickbeta")).await;
    let first = store.put_records(vec![RecordWrite::new(slow, "test"), RecordWrite::new(twin, "test")]).await.unwrap();
    let (slow_id, twin_id) = (first[0], first[1]);
    let later =
        store.put_records(vec![RecordWrite::new(quick_a, "test"), RecordWrite::new(quick_b, "test")]).await.unwrap();

    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    let extractor = script_extractor(&log, timeout).with_cache(index.text_cache_dir());
    let (stop, task) =
        spawn_follower(Follower::new(Some(extractor.clone())), store.clone(), files.clone(), index.clone());

    let took = within(timeout / 2, "the other records' full text and the slow record's title", || {
        ids(&index, "fulltext:quickalpha") == vec![later[0]]
            && ids(&index, "fulltext:quickbeta") == vec![later[1]]
            && ids(&index, "glaciers") == vec![slow_id]
            && ids(&index, "moraines") == vec![twin_id]
    })
    .await;
    eprintln!("beside a PDF hanging for {timeout:?}, the other records were searchable by full text after {took:?}");

    // While its PDF hangs, the record is edited and its twin withdrawn.
    let mut edited = store.get_record(slow_id).await.unwrap().unwrap();
    edited.title = "Ice sheets of the north".into();
    let mut withdrawn = store.get_record(twin_id).await.unwrap().unwrap();
    withdrawn.status = Status::Deletion;
    store.put_records(vec![RecordWrite::new(edited, "test"), RecordWrite::new(withdrawn, "test")]).await.unwrap();

    let settled = within(timeout * 3, "the slow record no longer owed a text", || {
        index.text_pending_ids(0, 10).unwrap().is_empty()
    })
    .await;
    eprintln!("the slow record's text was settled {settled:?} after its edit");
    assert_eq!(ids(&index, "sheets"), vec![slow_id], "indexed as it is now");
    assert!(ids(&index, "glaciers").is_empty(), "the edit is not undone");
    assert!(ids(&index, "moraines").is_empty(), "the withdrawn twin is not put back");
    assert!(ids(&index, "fulltext:slowword").is_empty());
    assert_eq!(ids(&index, "fulltext:quickalpha"), vec![later[0]]);
    let sha = store.get_record(slow_id).await.unwrap().unwrap().documents[0].files[0].sha256.clone().unwrap();
    let cached = std::fs::read_to_string(index.text_cache_dir().join(format!("{sha}.txt"))).unwrap();
    assert_eq!(cached, "", "a PDF that timed out is cached as empty");
    assert_eq!(extractions(&log, "HANG slowword"), 1, "two records share the PDF: it is extracted once");
    let _ = stop.send(());
    task.await.unwrap();

    // A restart tries it no more.
    let again = Follower::new(Some(extractor));
    again.catch_up(&*store, &files, &index).await.unwrap();
    assert_eq!(again.catch_up(&*store, &files, &index).await.unwrap(), 0);
    assert_eq!(extractions(&log, "HANG slowword"), 1);
}

/// A text still owed when the follower stops (its extraction killed with
/// it) is extracted after the restart, though nothing changed in the feed.
async fn a_text_owed_at_a_stop_comes_after_the_restart(store: Arc<dyn RecordStore>) {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(&dir.path().join("files")).unwrap();
    let log = dir.path().join("extract.log");
    let root = dir.path().join("search");
    let r = record_with(&files, "Permafrost thaw", "p.pdf", "application/pdf", fake_pdf("thawword")).await;
    let id = store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];

    // The first run's extractor never answers.
    let index = Arc::new(SearchIndex::open(&root).unwrap());
    let mut stuck = Extractor::new("/bin/sh");
    stuck.args = vec!["-c".into(), "cat >/dev/null; exec sleep 120".into()];
    stuck.timeout = Duration::from_secs(120);
    let (stop, task) = spawn_follower(Follower::new(Some(stuck)), store.clone(), files.clone(), index.clone());
    within(Duration::from_secs(10), "the record's title", || ids(&index, "permafrost") == vec![id]).await;
    let _ = stop.send(());
    task.await.unwrap();
    assert!(ids(&index, "fulltext:thawword").is_empty());
    drop(index);

    // After the restart nothing is new in the feed, and the text comes.
    let index = Arc::new(SearchIndex::open(&root).unwrap());
    assert_eq!(index.indexed_seq(), store.last_change().await.unwrap());
    let ex = script_extractor(&log, Duration::from_secs(10));
    let (stop, task) = spawn_follower(Follower::new(Some(ex)), store.clone(), files.clone(), index.clone());
    within(Duration::from_secs(10), "the text owed before the restart", || {
        ids(&index, "fulltext:thawword") == vec![id]
    })
    .await;
    assert!(index.text_pending_ids(0, 10).unwrap().is_empty());
    let _ = stop.send(());
    task.await.unwrap();
}

/// Counts the bytes read from an object store, and the largest one read.
#[derive(Debug)]
struct Counting {
    inner: object_store::local::LocalFileSystem,
    read: Arc<AtomicU64>,
    largest: Arc<AtomicU64>,
}

impl std::fmt::Display for Counting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait::async_trait]
impl object_store::ObjectStore for Counting {
    async fn put_opts(
        &self,
        location: &object_store::path::Path,
        payload: object_store::PutPayload,
        opts: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &object_store::path::Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &object_store::path::Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        let head = options.head;
        let got = self.inner.get_opts(location, options).await?;
        if !head {
            // What the answer holds: a ranged get, or the whole file.
            let n = got.range.end - got.range.start;
            self.read.fetch_add(n, Ordering::SeqCst);
            self.largest.fetch_max(n, Ordering::SeqCst);
        }
        Ok(got)
    }

    fn delete_stream(
        &self,
        locations: futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &object_store::path::Path,
        to: &object_store::path::Path,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// A file store that counts what is read from it: (store, bytes read,
/// largest single read).
fn counting_files(dir: &Path) -> (FileStore, Arc<AtomicU64>, Arc<AtomicU64>) {
    std::fs::create_dir_all(dir).unwrap();
    let (read, largest) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let inner = object_store::local::LocalFileSystem::new_with_prefix(dir).unwrap();
    let store = Counting { inner, read: read.clone(), largest: largest.clone() };
    (FileStore::from_object_store(Arc::new(store)), read, largest)
}

/// A 40 MB plain-text file is indexed up to the cap of text a record keeps
/// (2 MiB), and no more than that is read from the store: a word placed
/// past the cap is not found, one before it is.
async fn a_huge_text_file_is_read_only_up_to_the_cap(store: Arc<dyn RecordStore>) {
    let dir = tempfile::tempdir().unwrap();
    let (files, read, _) = counting_files(&dir.path().join("files"));
    let cap = arkiv_search::schema::MAX_FULL_TEXT_BYTES;
    let size = 40 << 20;
    let mut text = b"nearthestart ".to_vec();
    while text.len() < cap + (1 << 20) {
        text.extend_from_slice(b"lorem ipsum dolor sit amet ");
    }
    text.extend_from_slice(b"pastthecap ");
    while text.len() < size {
        text.extend_from_slice(b"consectetur adipiscing elit ");
    }
    text.truncate(size);
    let r = record_with(&files, "A long transcript", "transcript.txt", "text/plain", text).await;
    let id = store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
    read.store(0, Ordering::SeqCst);

    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    // Plain text is read in process: the program is never run.
    let follower = Follower::new(Some(Extractor::new("/nonexistent/extractor")));
    follower.catch_up(&*store, &files, &index).await.unwrap();
    assert_eq!(ids(&index, "fulltext:nearthestart"), vec![id]);
    assert!(ids(&index, "fulltext:pastthecap").is_empty(), "text past the cap is not indexed");
    let n = read.load(Ordering::SeqCst);
    eprintln!("indexing a {size}-byte text file read {n} bytes of it");
    assert!(n > 0 && n <= cap as u64, "read {n} bytes of a {size}-byte file to keep {cap}");
}

/// A PDF goes to the extractor in chunks read from the store, never as
/// one read of the whole file.
async fn a_pdf_reaches_the_extractor_in_chunks(store: Arc<dyn RecordStore>) {
    let dir = tempfile::tempdir().unwrap();
    let (files, read, largest) = counting_files(&dir.path().join("files"));
    let mut pdf = fake_pdf("chunkword");
    pdf.resize(5 * PDF_CHUNK as usize + 123, b' ');
    let size = pdf.len() as u64;
    let r = record_with(&files, "A large scan", "scan.pdf", "application/pdf", pdf).await;
    let id = store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
    read.store(0, Ordering::SeqCst);

    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    let ex = script_extractor(&dir.path().join("extract.log"), Duration::from_secs(10));
    let (stop, task) = spawn_follower(Follower::new(Some(ex)), store, files, index.clone());
    within(Duration::from_secs(10), "the PDF's text", || ids(&index, "fulltext:chunkword") == vec![id]).await;
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(read.load(Ordering::SeqCst), size, "the PDF was read once, whole");
    let most = largest.load(Ordering::SeqCst);
    assert!(most <= PDF_CHUNK, "one read of {most} bytes: the PDF was loaded whole");
}

/// Runs each case on a fresh SQLite store and a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::backends::with_sqlite(|(store, _)| super::$case(store)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::backends::with_postgres(|(store, _)| super::$case(store)).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_hanging_pdf_holds_up_no_other_record,
    a_text_owed_at_a_stop_comes_after_the_restart,
    a_huge_text_file_is_read_only_up_to_the_cap,
    a_pdf_reaches_the_extractor_in_chunks,
);
