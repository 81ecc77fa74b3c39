//! The index follows the store: a committed record is searchable within a
//! second of the follower running; after a crash (an index that missed
//! changes) it catches up on restart; a rebuild swaps in while the old
//! generation serves; deleting the index loses nothing; a subject moved in
//! the tree refiles its records. Also: full text of public PDFs, extracted
//! in the isolated child.

mod common;

use arkiv_model::{Document, DocumentSecurity, PartialDate, Record, Scheme, Status, StoredFile, Subject};
use arkiv_search::{Extractor, Facet, Follower, SearchIndex, SearchRequest};
use arkiv_storage::{open_store, FileStore, RecordStore, RecordWrite};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn extractor() -> Extractor {
    Extractor::new(env!("CARGO_BIN_EXE_arkiv-extract-text"))
}

fn ids(index: &SearchIndex, q: &str) -> Vec<i64> {
    let mut v: Vec<i64> = index.search(&SearchRequest::new(q)).unwrap().hits.iter().map(|h| h.id).collect();
    v.sort();
    v
}

async fn setup() -> (tempfile::TempDir, Arc<dyn RecordStore>, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("arkiv.db").display());
    let store = open_store(&url).await.unwrap();
    let files = FileStore::local(&dir.path().join("files")).unwrap();
    (dir, store, files)
}

/// The seed record with its PDF stored, as the importer would leave it.
async fn seed_with_pdf(files: &FileStore) -> Record {
    let mut seed = common::seed();
    seed.id = None;
    let pdf = std::fs::read(common::workspace().join("data/seed/files/commentary_137.pdf")).unwrap();
    let sha = files.put(bytes::Bytes::from(pdf)).await.unwrap();
    for d in &mut seed.documents {
        for f in &mut d.files {
            f.sha256 = Some(sha.clone());
        }
    }
    seed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_the_change_feed_and_survives_restarts() {
    let (dir, store, files) = setup().await;
    let root = dir.path().join("search");
    let index = Arc::new(SearchIndex::open(&root).unwrap());
    let follower = Follower::new(Some(extractor().with_cache(index.text_cache_dir())));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = {
        let (store, files, index, follower) = (store.clone(), files.clone(), index.clone(), follower.clone());
        tokio::spawn(async move {
            follower
                .run(store, files, index, async {
                    let _ = stop_rx.await;
                })
                .await;
        })
    };

    // A committed record is searchable within a second.
    let seed = seed_with_pdf(&files).await;
    let started = Instant::now();
    let ids_written = store.put_records(vec![RecordWrite::new(seed, "test")]).await.unwrap();
    let seed_id = ids_written[0];
    loop {
        if ids(&index, "Kazakhstan Russia integration") == vec![seed_id] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "not searchable after 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    eprintln!("searchable after {took:?} (PDF extracted in a child process)");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // Full text of the public PDF is searched and highlighted, once the
    // background extraction has given it.
    let started = Instant::now();
    while ids(&index, "fulltext:Kazakhstan").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "no full text after 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let res = index.search(&SearchRequest::new("fulltext:Kazakhstan")).unwrap();
    assert_eq!(res.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![seed_id], "the PDF's text is indexed");
    assert!(res.hits[0].snippets.iter().any(|s| s.field == "fulltext"), "{:?}", res.hits[0].snippets);

    // Withdrawing removes it.
    let mut rec = store.get_record(seed_id).await.unwrap().unwrap();
    rec.status = Status::Deletion;
    store.put_records(vec![RecordWrite::new(rec.clone(), "test")]).await.unwrap();
    let started = Instant::now();
    while !ids(&index, "Kazakhstan").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    run.await.unwrap();

    // The server dies; meanwhile a record is made live again and another added.
    rec.status = Status::Archive;
    let mut other = Record::new("report", "Energy security in the Baltic states");
    other.status = Status::Archive;
    other.date = Some(PartialDate::year(2015));
    let written =
        store.put_records(vec![RecordWrite::new(rec, "test"), RecordWrite::new(other, "test")]).await.unwrap();
    drop(index);
    let index = Arc::new(SearchIndex::open(&root).unwrap());
    assert!(index.indexed_seq() < store.last_change().await.unwrap());
    let follower = Follower::new(None);
    follower.catch_up(&*store, &files, &index).await.unwrap();
    assert_eq!(index.indexed_seq(), store.last_change().await.unwrap());
    assert_eq!(ids(&index, "Baltic"), vec![written[1]]);
    assert_eq!(ids(&index, "Kazakhstan"), vec![seed_id]);

    // A rebuild beside the served index; the served one switches on reload.
    let mut seen = Vec::new();
    let n = arkiv_search::reindex(&*store, &files, Some(&extractor()), &root, |p| seen.push(p)).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((2, 2)));
    assert_eq!(ids(&index, "Baltic"), vec![written[1]], "old generation still serves");
    assert!(index.reload_if_swapped().unwrap());
    assert_eq!(ids(&index, "Baltic"), vec![written[1]]);
    assert_eq!(ids(&index, "fulltext:Kazakhstan"), vec![seed_id]);

    // Deleting the index loses nothing.
    drop(index);
    std::fs::remove_dir_all(&root).unwrap();
    let index = Arc::new(SearchIndex::open(&root).unwrap());
    assert_eq!(index.num_docs(), 0);
    Follower::new(None).catch_up(&*store, &files, &index).await.unwrap();
    assert_eq!(ids(&index, "Baltic"), vec![written[1]]);
    assert_eq!(ids(&index, "Kazakhstan"), vec![seed_id]);
}

/// A backlog caught up with (a bulk load, a start far behind) leaves the
/// index in one segment, as a reindex does, so that searches visit one set
/// of facet dictionaries instead of one per batch committed; a trickle of
/// changes below `merge_after` is left to the merge policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_caught_up_with_is_merged_into_one_segment() {
    let (dir, store, files) = setup().await;
    let writes = (0..60)
        .map(|i| {
            let mut r = Record::new("report", &format!("Gas transit report {i}"));
            r.status = Status::Archive;
            RecordWrite::new(r, "test")
        })
        .collect();
    store.put_records(writes).await.unwrap();
    for (name, merge_after, merged) in [("backlog", 50, true), ("trickle", 1000, false)] {
        let mut follower = Follower::new(None);
        (follower.batch, follower.merge_after) = (10, merge_after);
        let index = Arc::new(SearchIndex::open(&dir.path().join(name)).unwrap());
        assert_eq!(follower.catch_up(&*store, &files, &index).await.unwrap(), 60);
        let segments = index.segment_count().unwrap();
        assert_eq!(segments == 1, merged, "{name}: {segments} segments (one a batch of 10, unless merged)");
        assert_eq!(index.num_docs(), 60, "{name}");
    }
}

/// Records found by a subject filter (which matches the subject's
/// descendants through the indexed path).
fn under_subject(index: &SearchIndex, subject: &str) -> Vec<i64> {
    let mut req = SearchRequest::new("");
    req.filters = vec![(Facet::Subject, subject.into())];
    index.search(&req).unwrap().hits.iter().map(|h| h.id).collect()
}

/// The index files a record under its subject's path as the tree was when
/// it was indexed; moving the subject in the store puts the records below it
/// in the change feed, so the follower refiles them under the new path.
#[tokio::test]
async fn a_moved_subject_refiles_its_records() {
    let (dir, store, files) = setup().await;
    let subject =
        |id: &str, parent: Option<&str>| Subject { id: id.into(), name: id.into(), parent: parent.map(Into::into) };
    store
        .put_subjects(Scheme::Subjects, &[subject("geo", None), subject("asia", Some("geo")), subject("econ", None)])
        .await
        .unwrap();
    let mut r = Record::new("report", "Energy in Central Asia");
    r.status = Status::Archive;
    r.subjects = vec!["asia".into()];
    let id = store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    let follower = Follower::new(None);
    follower.catch_up(&*store, &files, &index).await.unwrap();
    assert_eq!(under_subject(&index, "geo"), vec![id]);
    assert!(under_subject(&index, "econ").is_empty());

    store.put_subjects(Scheme::Subjects, &[subject("asia", Some("econ"))]).await.unwrap();
    assert_eq!(follower.catch_up(&*store, &files, &index).await.unwrap(), 1, "the move is one change");
    assert_eq!(under_subject(&index, "econ"), vec![id]);
    assert!(under_subject(&index, "geo").is_empty());
    assert_eq!(under_subject(&index, "asia"), vec![id]);
}

#[tokio::test]
async fn restricted_and_embargoed_documents_are_not_indexed() {
    let (_dir, _store, files) = setup().await;
    let pdf = std::fs::read(common::workspace().join("data/seed/files/commentary_137.pdf")).unwrap();
    let sha = files.put(bytes::Bytes::from(pdf)).await.unwrap();
    let doc = |security, embargo| Document {
        pos: 1,
        security,
        embargo,
        main: Some("a.pdf".into()),
        files: vec![StoredFile {
            filename: "a.pdf".into(),
            mime_type: Some("application/pdf".into()),
            size: 1,
            sha256: Some(sha.clone()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let ex = extractor();
    let mut r = Record::new("report", "x");
    r.documents = vec![doc(DocumentSecurity::Staffonly, None)];
    assert_eq!(ex.record_text(&files, &r).await, None);
    r.documents = vec![doc(DocumentSecurity::Public, Some(PartialDate::year(9999)))];
    assert_eq!(ex.record_text(&files, &r).await, None);
    r.documents = vec![doc(DocumentSecurity::Public, Some(PartialDate::year(2000)))];
    assert!(ex.record_text(&files, &r).await.unwrap().contains("Kazakhstan"));
}

#[tokio::test]
async fn hostile_pdfs_cost_only_their_own_text() {
    let ex = extractor();
    // Not a PDF, a truncated PDF, random bytes: an error, not a crash.
    let pdf = std::fs::read(common::workspace().join("data/seed/files/commentary_137.pdf")).unwrap();
    for bad in [
        b"not a pdf at all".to_vec(),
        pdf[..pdf.len() / 2].to_vec(),
        (0..50_000u32).map(|i| (i * 7919 % 251) as u8).collect(),
    ] {
        let _ = ex.extract_pdf(&bad).await; // Ok(garbage) or Err: both fine, as long as we get here
    }
    // A child that hangs is killed at the timeout.
    let mut hang = Extractor::new("/bin/sh");
    hang.args = vec!["-c".into(), "sleep 30".into()];
    hang.timeout = Duration::from_millis(500);
    let t = Instant::now();
    assert!(matches!(hang.extract_pdf(b"%PDF").await, Err(arkiv_search::extract::ExtractError::Timeout(_))));
    assert!(t.elapsed() < Duration::from_secs(5));
    // The child runs under an address-space limit.
    let mut limits = Extractor::new("/bin/sh");
    limits.args = vec!["-c".into(), "cat >/dev/null; ulimit -v".into()];
    limits.memory_limit = 512 << 20;
    assert_eq!(limits.extract_pdf(b"%PDF").await.unwrap().trim(), "524288");
    // A child that allocates past the limit fails alone.
    let mut greedy = Extractor::new("/bin/sh");
    greedy.args = vec!["-c".into(), "cat >/dev/null; x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo ${#x}".into()];
    greedy.memory_limit = 64 << 20;
    assert!(greedy.extract_pdf(b"%PDF").await.is_err());
    // A child writing too much is cut at the cap.
    let mut chatty = Extractor::new("/bin/sh");
    chatty.args = vec!["-c".into(), "cat >/dev/null; yes hello".into()];
    chatty.max_output = 1000;
    chatty.timeout = Duration::from_secs(5);
    let out = chatty.extract_pdf(b"%PDF").await.unwrap();
    assert!(out.len() <= 1000);
    // The real extractor reads the seed's PDF.
    let text = ex.extract_pdf(&pdf).await.unwrap();
    assert!(text.contains("Kazakhstan"), "{text}");
}
