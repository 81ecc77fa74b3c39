//! One test suite for every `RecordStore` backend.
//!
//! Each test is written once as `async fn name(store: Arc<dyn RecordStore>)`
//! and run by `suite!` against SQLite (a fresh file per test) and PostgreSQL
//! (a fresh database per test, created through the server named by
//! `ARKIV_TEST_POSTGRES_URL` and dropped afterwards):
//!
//! ```sh
//! export ARKIV_TEST_POSTGRES_URL=$(scripts/postgres.sh | tail -n1)
//! cargo test -p arkiv-storage --test store_suite
//! ```
//!
//! Without `ARKIV_TEST_POSTGRES_URL` the PostgreSQL variants say they were
//! skipped and pass, unless `CI=true`, where they fail (`backends/mod.rs`,
//! shared with the account suite).

mod backends;

use arkiv_model::browse::sort_key;
use arkiv_model::{
    BrowseView, Contributor, CorporateCreator, Creator, Document, DocumentSecurity, ExtraField, PartialDate, Record,
    RecordId, RelatedLink, Scheme, Status, StoredFile, Subject, Timestamp,
};
use arkiv_storage::files::{sha256_hex, FileStore, Fixity};
use arkiv_storage::{
    open_store, BrowseCursor, Change, RecordStore, RecordWrite, ScanFilter, StatusCounts, StoreError, StoredCitation,
    WorkQuery,
};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// Runs each named test against both backends: `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::backends::with_sqlite(|(store, _)| super::$name(store)).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::backends::with_postgres(|(store, _)| super::$name(store)).await
                }
            )*
        }
    };
}

suite!(
    round_trip_and_ids,
    eprints_document_and_file_ids_find_their_record,
    new_ids_never_collide_with_ids_in_the_batch,
    revisions_keep_every_state,
    stale_revision_is_a_conflict,
    a_draft_never_live_is_deleted_whole_and_nothing_else_is,
    change_feed,
    batch_writing_one_record_twice,
    browse_views_count_and_page,
    withdrawing_and_editing_update_browse,
    latest_and_datestamp,
    scan_in_id_order,
    live_ids_by_range,
    subjects_meta_and_counts,
    failed_batch_writes_nothing,
    local_writes_count_committed_batches,
    concurrent_writers,
    bulk_insert,
    bulk_load_ends_with_complete_browse_views,
    oai_visibility_sets_and_paging,
    work_items_by_owner_and_status,
    work_items_of_one_type,
    embargoes_due_by_day,
    later_versions_of_a_record,
    moving_a_subject_moves_its_records_sets,
    moving_a_large_subject_rewrites_every_record_in_pages,
    divisions_are_a_second_tree_with_their_own_sets_and_view,
    earlier_revisions_go_beneath_a_records_own,
    meta_entries_added_at_once_all_land,
    a_secret_made_at_once_on_two_nodes_is_one,
    a_record_imported_as_withdrawn_is_an_oai_deleted_record,
    usage_is_counted_once_by_concurrent_roll_ups,
    harvest_progress_entries_conflicts_and_origins,
    stored_citations_are_replaced_with_their_follower_position,
);

// ---------------------------------------------------------------------------
// Helpers

fn rec(title: &str, status: Status) -> Record {
    let mut r = Record::new("report", title);
    r.status = status;
    r
}

fn write(record: Record) -> RecordWrite {
    RecordWrite::new(record, "test")
}

async fn put_one(store: &dyn RecordStore, record: Record) -> RecordId {
    store.put_records(vec![write(record)]).await.expect("put")[0]
}

async fn all_changes(store: &dyn RecordStore) -> Vec<Change> {
    store.changes_since(0, 1_000_000).await.expect("changes")
}

fn assert_consecutive(ids: &[RecordId]) {
    for pair in ids.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "new ids are consecutive: {ids:?}");
    }
}

fn rich_record() -> Record {
    let mut r = Record::new("policy_paper", "Energy security in Central Asia: Kazakhstan’s «multi-vector» policy");
    r.status = Status::Archive;
    r.creators = vec![
        Creator {
            id: Some("j.doe@example.org".into()),
            orcid: Some("0000-0002-1825-0097".into()),
            email: Some("j.doe@example.org".into()),
            ..Creator::new("Doe", "Jane")
        },
        Creator::new("Jarosiewicz", "Aleksandra"),
    ];
    r.corp_creators = vec![CorporateCreator { name: "OSW Centre for Eastern Studies".into(), id: None }];
    r.editors = vec![Creator::new("Müller", "Jörg")];
    r.contributors = vec![Contributor {
        role: "http://www.loc.gov/loc.terms/relators/TRL".into(),
        person: Creator::new("Smith", "Ann"),
    }];
    r.date = Some(PartialDate { year: 2014, month: Some(5), day: Some(29) });
    r.date_type = Some("published".into());
    r.ispublished = Some("pub".into());
    r.series = Some("OSW Commentary".into());
    r.number = Some("137".into());
    r.publisher = Some("OSW".into());
    r.place_of_pub = Some("Warsaw".into());
    r.pages = Some("8".into());
    r.doi = Some("10.1234/abc".into());
    r.keywords = vec!["energy".into(), "gas".into()];
    r.subjects = vec!["kz".into(), "energy".into()];
    r.languages = vec!["en".into(), "pl".into()];
    r.abstract_text = Some("Line one.\nLine two with ‘quotes’ and 中文.".into());
    r.refereed = Some(false);
    r.related = vec![RelatedLink {
        url: "https://example.org/data".into(),
        relation: Some("dataset".into()),
        description: None,
    }];
    r.userid = Some(42);
    r.datestamp = Some(Timestamp(1_400_000_000));
    r.lastmod = Some(Timestamp(1_400_000_500));
    r.documents = vec![Document {
        pos: 1,
        format: Some("application/pdf".into()),
        mime_type: Some("application/pdf".into()),
        language: Some("en".into()),
        security: DocumentSecurity::Public,
        embargo: Some(PartialDate { year: 2015, month: Some(1), day: None }),
        license: Some("cc_by".into()),
        content: Some("published".into()),
        main: Some("commentary_137.pdf".into()),
        files: vec![
            StoredFile {
                filename: "commentary_137.pdf".into(),
                mime_type: Some("application/pdf".into()),
                size: 123_456,
                sha256: Some(sha256_hex(b"pdf bytes")),
                source_hash: Some(("MD5".into(), "0123456789abcdef0123456789abcdef".into())),
                source_url: Some("https://old.example.org/1/commentary_137.pdf".into()),
                eprints_fileid: Some(81441),
            },
            StoredFile { filename: "cover.png".into(), size: 10, ..Default::default() },
        ],
        ..Default::default()
    }];
    r.extra = vec![ExtraField { name: "funders".into(), xml: "<funders><item>EU</item></funders>".into() }];
    r
}

// ---------------------------------------------------------------------------
// Tests, each run against every backend

async fn round_trip_and_ids(store: Arc<dyn RecordStore>) {
    // A rich record reads back exactly as written, with its new id.
    let original = rich_record();
    let id = put_one(&*store, original.clone()).await;
    let read = store.get_record(id).await.unwrap().expect("record is there");
    assert_eq!(read, Record { id: Some(id), ..original.clone() });
    let (_, rev) = store.get_record_with_revision(id).await.unwrap().unwrap();
    assert_eq!(rev, 1);

    // The store fills lastmod when it is missing.
    let before = Timestamp::now();
    let plain = put_one(&*store, rec("plain", Status::Inbox)).await;
    let plain = store.get_record(plain).await.unwrap().unwrap();
    assert!(plain.lastmod.unwrap() >= before);
    assert_eq!(plain.datestamp, None, "not live: no datestamp");

    // New ids are consecutive and increasing.
    let ids =
        store.put_records((0..5).map(|i| write(rec(&format!("new {i}"), Status::Inbox))).collect()).await.unwrap();
    assert_consecutive(&ids);
    assert!(ids[0] > plain.id.unwrap());

    // An explicit id is kept, and later new records come after it.
    let mut explicit = rec("explicit", Status::Archive);
    explicit.id = Some(5000);
    assert_eq!(put_one(&*store, explicit).await, 5000);
    assert_eq!(store.get_record(5000).await.unwrap().unwrap().title, "explicit");
    let later = store
        .put_records(vec![write(rec("later a", Status::Inbox)), write(rec("later b", Status::Inbox))])
        .await
        .unwrap();
    assert_eq!(later, vec![5001, 5002]);

    // An explicit id below the highest one is fine too, and does not move
    // the counter back.
    let mut low = rec("low", Status::Inbox);
    low.id = Some(100);
    assert_eq!(put_one(&*store, low).await, 100);
    assert_eq!(put_one(&*store, rec("after low", Status::Inbox)).await, 5003);

    // Every id still names the record it was given to: none was reused.
    let mut every: Vec<RecordId> = vec![id];
    every.extend(&ids);
    every.extend([5000, 5001, 5002, 100, 5003]);
    let unique: HashSet<_> = every.iter().collect();
    assert_eq!(unique.len(), every.len());
    let titles: Vec<String> = store.get_records(&ids).await.unwrap().into_iter().map(|r| r.title).collect();
    assert_eq!(titles, (0..5).map(|i| format!("new {i}")).collect::<Vec<_>>());

    // get_records keeps the order asked and leaves out unknown ids.
    let got: Vec<_> =
        store.get_records(&[5001, 999_999, id]).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(got, vec![5001, id]);
    assert!(store.get_record(999_999).await.unwrap().is_none());
}

/// EPrints' document and file ids lead to the record holding them, the
/// last write naming an id winning (a document moved to a new version).
async fn eprints_document_and_file_ids_find_their_record(store: Arc<dyn RecordStore>) {
    let mut r = Record::new("policy_paper", "Kazakhstan's attitude");
    r.documents = vec![Document {
        pos: 1,
        eprints_docid: Some(11518),
        files: vec![StoredFile { filename: "a.pdf".into(), eprints_fileid: Some(81441), ..Default::default() }],
        ..Default::default()
    }];
    let first = put_one(store.as_ref(), r.clone()).await;
    assert_eq!(store.eprints_id_record("document", 11518).await.unwrap(), Some(first));
    assert_eq!(store.eprints_id_record("file", 81441).await.unwrap(), Some(first));
    assert_eq!(store.eprints_id_record("document", 81441).await.unwrap(), None, "kinds are apart");
    assert_eq!(store.eprints_id_record("document", 1).await.unwrap(), None);
    // The same ids twice in one batch, and then in another record.
    let twice = vec![RecordWrite::new(r.clone(), "test"), RecordWrite::new(r.clone(), "test")];
    let ids = store.put_records(twice).await.unwrap();
    assert_eq!(store.eprints_id_record("document", 11518).await.unwrap(), Some(ids[1]));
}

async fn new_ids_never_collide_with_ids_in_the_batch(store: Arc<dyn RecordStore>) {
    let first = put_one(&*store, rec("first", Status::Inbox)).await;
    // The batch names, as a new record, the very id the store would hand out
    // next, after a record without id.
    let mut named = rec("named", Status::Inbox);
    named.id = Some(first + 1);
    let ids = store.put_records(vec![write(rec("anonymous", Status::Inbox)), write(named)]).await.unwrap();
    assert_eq!(ids[1], first + 1);
    assert_ne!(ids[0], ids[1], "a new record must not take an id the batch names");
    assert_eq!(store.get_record(ids[0]).await.unwrap().unwrap().title, "anonymous");
    assert_eq!(store.get_record(ids[1]).await.unwrap().unwrap().title, "named");
    assert_eq!(store.revisions(ids[1]).await.unwrap().len(), 1);
    let next = put_one(&*store, rec("next", Status::Inbox)).await;
    assert!(next > ids[0].max(ids[1]));
}

async fn revisions_keep_every_state(store: Arc<dyn RecordStore>) {
    let id = put_one(&*store, rec("First title", Status::Inbox)).await;
    for (rev, title) in [(1, "Second title"), (2, "Third title")] {
        let (mut r, current) = store.get_record_with_revision(id).await.unwrap().unwrap();
        assert_eq!(current, rev);
        r.title = title.into();
        let w = RecordWrite { record: r, actor: format!("editor{rev}"), expected_revision: Some(rev) };
        assert_eq!(store.put_records(vec![w]).await.unwrap(), vec![id]);
    }
    let revs = store.revisions(id).await.unwrap();
    assert_eq!(revs.iter().map(|r| r.number).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        revs.iter().map(|r| r.record.title.as_str()).collect::<Vec<_>>(),
        ["First title", "Second title", "Third title"]
    );
    assert_eq!(revs.iter().map(|r| r.actor.as_str()).collect::<Vec<_>>(), ["test", "editor1", "editor2"]);
    assert!(revs[0].changed.contains(&"title".to_string()));
    assert_eq!(revs[1].changed, vec!["title"]);
    assert_eq!(revs[2].changed, vec!["title"]);
    assert!(revs.iter().all(|r| r.record_id == id && r.record.id == Some(id)));
    assert_eq!(store.get_record_with_revision(id).await.unwrap().unwrap().1, 3);
    assert!(store.revisions(999_999).await.unwrap().is_empty());
}

async fn a_draft_never_live_is_deleted_whole_and_nothing_else_is(store: Arc<dyn RecordStore>) {
    let draft = put_one(&*store, rec("a draft", Status::Inbox)).await;
    let (mut r, _) = store.get_record_with_revision(draft).await.unwrap().unwrap();
    r.title = "a draft, edited".into();
    store.put_records(vec![write(r)]).await.unwrap();
    let live = put_one(&*store, rec("live", Status::Archive)).await;
    // Once live, then back in a workarea (returned): still never deleted.
    let (mut was_live, _) = store.get_record_with_revision(live).await.unwrap().unwrap();
    was_live.status = Status::Inbox;
    let back = store.put_records(vec![write(was_live)]).await.unwrap()[0];

    match store.delete_draft(draft, 1).await {
        Err(StoreError::Conflict { expected: 1, current: 2, .. }) => {}
        other => panic!("a stale revision is a conflict, not {other:?}"),
    }
    assert!(matches!(store.delete_draft(back, 2).await, Err(StoreError::Refused(_))), "a record once live stays");
    assert!(matches!(store.delete_draft(9_999, 1).await, Err(StoreError::NotFound(9_999))));
    store.delete_draft(draft, 2).await.unwrap();
    assert_eq!(store.get_record(draft).await.unwrap(), None);
    assert!(store.revisions(draft).await.unwrap().is_empty(), "every revision goes with it");
    assert_eq!(store.get_record(back).await.unwrap().unwrap().title, "live", "the rest is untouched");
    assert_eq!(store.revisions(back).await.unwrap().len(), 2);
    // An id is never given again, even the highest one's.
    // A deposit awaiting review was never live either: its depositor may
    // take it back (SWORD's delete of a completed deposit).
    let submitted = put_one(&*store, rec("submitted", Status::Buffer)).await;
    store.delete_draft(submitted, 1).await.unwrap();
    assert_eq!(store.get_record(submitted).await.unwrap(), None);
    let last = put_one(&*store, rec("the last", Status::Inbox)).await;
    store.delete_draft(last, 1).await.unwrap();
    let next = put_one(&*store, rec("next", Status::Inbox)).await;
    assert!(next > last, "{next} after {last}");
}

async fn stale_revision_is_a_conflict(store: Arc<dyn RecordStore>) {
    let id = put_one(&*store, rec("v1", Status::Inbox)).await;
    let (mut r, _) = store.get_record_with_revision(id).await.unwrap().unwrap();
    r.title = "v2".into();
    store
        .put_records(vec![RecordWrite { record: r.clone(), actor: "a".into(), expected_revision: Some(1) }])
        .await
        .unwrap();
    let seq = store.last_change().await.unwrap();

    // Someone else edited revision 1 too: their save is refused.
    r.title = "v2 by someone else".into();
    let err = store
        .put_records(vec![RecordWrite { record: r, actor: "b".into(), expected_revision: Some(1) }])
        .await
        .expect_err("stale revision must be refused");
    match err {
        StoreError::Conflict { id: cid, expected, current } => assert_eq!((cid, expected, current), (id, 1, 2)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.get_record(id).await.unwrap().unwrap().title, "v2");
    assert_eq!(store.revisions(id).await.unwrap().len(), 2);
    assert_eq!(store.last_change().await.unwrap(), seq);

    // Creating with expected revision 0 works for a new id, not an existing one.
    let mut fresh = rec("fresh", Status::Inbox);
    fresh.id = Some(777);
    store
        .put_records(vec![RecordWrite { record: fresh.clone(), actor: "a".into(), expected_revision: Some(0) }])
        .await
        .unwrap();
    let again =
        store.put_records(vec![RecordWrite { record: fresh, actor: "a".into(), expected_revision: Some(0) }]).await;
    assert!(matches!(again, Err(StoreError::Conflict { id: 777, expected: 0, current: 1 })), "{again:?}");
}

async fn change_feed(store: Arc<dyn RecordStore>) {
    assert_eq!(store.last_change().await.unwrap(), 0);
    assert!(all_changes(&*store).await.is_empty());
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.extend(
            store
                .put_records(vec![
                    write(rec(&format!("a{i}"), Status::Inbox)),
                    write(rec(&format!("b{i}"), Status::Archive)),
                ])
                .await
                .unwrap(),
        );
    }
    let changes = all_changes(&*store).await;
    assert_eq!(changes.len(), 6);
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq), "seqs strictly increase: {changes:?}");
    assert_eq!(changes.iter().map(|c| c.record_id).collect::<Vec<_>>(), ids);
    assert!(changes.iter().all(|c| c.revision == 1));
    assert_eq!(changes[0].status, Status::Inbox);
    assert_eq!(changes[1].status, Status::Archive);
    assert_eq!(store.last_change().await.unwrap(), changes[5].seq);

    // Exactly the later ones, and the limit holds.
    let later = store.changes_since(changes[2].seq, 100).await.unwrap();
    assert_eq!(later, changes[3..].to_vec());
    assert_eq!(store.changes_since(changes[0].seq, 2).await.unwrap(), changes[1..3].to_vec());
    assert!(store.changes_since(changes[5].seq, 100).await.unwrap().is_empty());

    // An update is a change too, with its new revision and status.
    let (mut r, _) = store.get_record_with_revision(ids[0]).await.unwrap().unwrap();
    r.status = Status::Buffer;
    store.put_records(vec![write(r)]).await.unwrap();
    let last = store.changes_since(changes[5].seq, 100).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!((last[0].record_id, last[0].revision, last[0].status), (ids[0], 2, Status::Buffer));
    assert!(last[0].seq > changes[5].seq);
    assert_eq!(store.last_change().await.unwrap(), last[0].seq);
}

async fn batch_writing_one_record_twice(store: Arc<dyn RecordStore>) {
    let id = put_one(&*store, rec("v1", Status::Archive)).await;
    let seq = store.last_change().await.unwrap();
    let (r, _) = store.get_record_with_revision(id).await.unwrap().unwrap();
    let mut v2 = r.clone();
    v2.title = "v2".into();
    let mut v3 = r.clone();
    v3.title = "v3".into();
    v3.series = Some("Series".into());
    assert_eq!(store.put_records(vec![write(v2), write(v3)]).await.unwrap(), vec![id, id]);

    let revs = store.revisions(id).await.unwrap();
    assert_eq!(
        revs.iter().map(|r| (r.number, r.record.title.as_str())).collect::<Vec<_>>(),
        [(1, "v1"), (2, "v2"), (3, "v3")]
    );
    assert_eq!(revs[1].changed, vec!["title"]);
    assert_eq!(revs[2].changed, vec!["series", "title"]);
    let changes = store.changes_since(seq, 100).await.unwrap();
    assert_eq!(changes.iter().map(|c| (c.record_id, c.revision)).collect::<Vec<_>>(), [(id, 2), (id, 3)]);
    assert!(changes[0].seq < changes[1].seq);
    let (now, rev) = store.get_record_with_revision(id).await.unwrap().unwrap();
    assert_eq!((now.title.as_str(), rev), ("v3", 3));
    // Browse entries follow the final state only.
    assert_eq!(store.browse_count(BrowseView::Series, "Series").await.unwrap(), 1);
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), 1);

    // A new record named twice in one batch: revisions 1 and 2.
    let mut a = rec("new a", Status::Inbox);
    a.id = Some(9000);
    let mut b = a.clone();
    b.title = "new b".into();
    assert_eq!(store.put_records(vec![write(a), write(b)]).await.unwrap(), vec![9000, 9000]);
    assert_eq!(store.revisions(9000).await.unwrap().len(), 2);
    assert_eq!(store.get_record(9000).await.unwrap().unwrap().title, "new b");
}

const NAMES: [(&str, &str); 7] = [
    ("zeta", "Anna"),
    ("Alpha", "Bert"),
    ("Ärger", "Carl"),
    ("beta", "Dora"),
    ("Doe", "Jane"),
    ("O'Brien", "Pat"),
    ("Żak", "Ewa"),
];

/// Record `i` of the browse tests.
fn browsable(i: usize) -> Record {
    // Every 14th record has the same title and creator (equal sort keys), so
    // paging must order them by id, across page boundaries.
    let title = if i.is_multiple_of(14) {
        "Same title".to_string()
    } else {
        format!("Paper {:03} on {}", (i * 37) % 230, ["Gas", "oil", "Öl"][i % 3])
    };
    let mut r = rec(&title, Status::Archive);
    let (family, given) = NAMES[i % NAMES.len()];
    r.creators = vec![Creator::new(family, given)];
    r.date = Some(PartialDate::year(2001 + (i % 3) as i32));
    if i.is_multiple_of(2) {
        r.subjects.push("econ".into());
    }
    if i.is_multiple_of(5) {
        r.subjects.push("geo".into());
    }
    if i.is_multiple_of(4) {
        r.series = Some("Working Papers".into());
    }
    r
}

async fn browse_views_count_and_page(store: Arc<dyn RecordStore>) {
    const N: usize = 230;
    let ids = store.put_records((0..N).map(|i| write(browsable(i))).collect()).await.unwrap();
    // Records that are not live, under the same values: never listed.
    let hidden: Vec<RecordId> = store
        .put_records(
            [Status::Inbox, Status::Buffer, Status::Deletion]
                .iter()
                .flat_map(|s| (0..7).map(move |i| Record { status: *s, ..browsable(i) }))
                .map(write)
                .collect(),
        )
        .await
        .unwrap();

    let years = store.browse_values(BrowseView::Year, None, 100).await.unwrap();
    let expect = |pred: &dyn Fn(usize) -> bool| (0..N).filter(|i| pred(*i)).count() as i64;
    assert_eq!(
        years.iter().map(|v| (v.value.as_str(), v.count)).collect::<Vec<_>>(),
        [("2001", expect(&|i| i % 3 == 0)), ("2002", expect(&|i| i % 3 == 1)), ("2003", expect(&|i| i % 3 == 2))]
    );
    let after = store.browse_values(BrowseView::Year, Some("2001"), 1).await.unwrap();
    assert_eq!(after.iter().map(|v| v.value.as_str()).collect::<Vec<_>>(), ["2002"]);
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), N as i64);
    assert_eq!(store.browse_count(BrowseView::Subject, "econ").await.unwrap(), expect(&|i| i % 2 == 0));
    assert_eq!(store.browse_count(BrowseView::Subject, "geo").await.unwrap(), expect(&|i| i % 5 == 0));
    assert_eq!(store.browse_count(BrowseView::Series, "Working Papers").await.unwrap(), expect(&|i| i % 4 == 0));
    assert_eq!(store.browse_count(BrowseView::Creator, "Doe, Jane").await.unwrap(), expect(&|i| i % 7 == 4));
    assert_eq!(store.browse_count(BrowseView::Creator, "nobody").await.unwrap(), 0);

    // Creator values come in byte order (as Rust orders strings), whatever
    // the database's locale.
    let creators: Vec<String> =
        store.browse_values(BrowseView::Creator, None, 100).await.unwrap().into_iter().map(|v| v.value).collect();
    let mut expected: Vec<String> = NAMES.iter().map(|(f, g)| format!("{f}, {g}")).collect();
    expected.sort();
    assert_eq!(creators, expected);

    // Paging visits every live record once, in (sort key, id) order.
    let mut order: Vec<(String, RecordId)> = (0..N).map(|i| (sort_key(&browsable(i)), ids[i])).collect();
    order.sort();
    let mut seen = Vec::new();
    let mut cursor: Option<BrowseCursor> = None;
    let mut pages = 0;
    loop {
        let page = store.browse_page(BrowseView::Type, "report", cursor.as_ref(), 50).await.unwrap();
        pages += 1;
        assert!(page.records.len() <= 50);
        seen.extend(page.records.iter().map(|r| r.id.unwrap()));
        match page.next {
            Some(next) => {
                assert_eq!(page.records.len(), 50);
                assert_eq!(next.1, *seen.last().unwrap());
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, order.iter().map(|(_, id)| *id).collect::<Vec<_>>());
    assert!(seen.iter().all(|id| !hidden.contains(id)));

    // A smaller view pages the same way.
    let mut econ = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.browse_page(BrowseView::Subject, "econ", cursor.as_ref(), 7).await.unwrap();
        econ.extend(page.records.into_iter().map(|r| r.id.unwrap()));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<RecordId> =
        order.iter().map(|(_, id)| *id).filter(|id| ids.iter().position(|x| x == id).unwrap() % 2 == 0).collect();
    assert_eq!(econ, expected);
    let empty = store.browse_page(BrowseView::Subject, "unknown", None, 10).await.unwrap();
    assert!(empty.records.is_empty() && empty.next.is_none());
}

async fn withdrawing_and_editing_update_browse(store: Arc<dyn RecordStore>) {
    let ids = store.put_records((0..30).map(|i| write(browsable(i))).collect()).await.unwrap();
    let mut solo = browsable(1);
    solo.creators.push(Creator::new("Solo", "Han"));
    let solo_id = put_one(&*store, solo).await;
    assert_eq!(store.browse_count(BrowseView::Creator, "Solo, Han").await.unwrap(), 1);

    let count = |view, value: &'static str| {
        let store = store.clone();
        async move { store.browse_count(view, value).await.unwrap() }
    };
    let before = (
        count(BrowseView::Year, "2001").await,
        count(BrowseView::Subject, "econ").await,
        count(BrowseView::Subject, "geo").await,
        count(BrowseView::Series, "Working Papers").await,
        count(BrowseView::Type, "report").await,
    );
    // Record 0: year 2001, econ, geo, Working Papers.
    let (mut r, _) = store.get_record_with_revision(ids[0]).await.unwrap().unwrap();
    r.status = Status::Deletion;
    r.withdrawn_reason = Some("duplicate".into());
    store.put_records(vec![write(r)]).await.unwrap();
    let after = (
        count(BrowseView::Year, "2001").await,
        count(BrowseView::Subject, "econ").await,
        count(BrowseView::Subject, "geo").await,
        count(BrowseView::Series, "Working Papers").await,
        count(BrowseView::Type, "report").await,
    );
    assert_eq!(after, (before.0 - 1, before.1 - 1, before.2 - 1, before.3 - 1, before.4 - 1));
    let listed: Vec<RecordId> = store
        .browse_page(BrowseView::Type, "report", None, 100)
        .await
        .unwrap()
        .records
        .iter()
        .map(|r| r.id.unwrap())
        .collect();
    assert_eq!(listed.len(), 30);
    assert!(!listed.contains(&ids[0]));
    assert!(store.latest(100).await.unwrap().iter().all(|r| r.id != Some(ids[0])));

    // The last record under a value leaves: the value is gone from the list.
    let (mut s, _) = store.get_record_with_revision(solo_id).await.unwrap().unwrap();
    s.status = Status::Deletion;
    store.put_records(vec![write(s)]).await.unwrap();
    assert_eq!(store.browse_count(BrowseView::Creator, "Solo, Han").await.unwrap(), 0);
    let creators = store.browse_values(BrowseView::Creator, None, 100).await.unwrap();
    assert!(creators.iter().all(|v| v.value != "Solo, Han"), "{creators:?}");

    // An edit moves a record from one value to another.
    let (mut r, _) = store.get_record_with_revision(ids[3]).await.unwrap().unwrap();
    assert_eq!(r.year(), Some(2001));
    r.date = Some(PartialDate::year(1999));
    store.put_records(vec![write(r)]).await.unwrap();
    assert_eq!(count(BrowseView::Year, "2001").await, after.0 - 1);
    assert_eq!(count(BrowseView::Year, "1999").await, 1);
    let page = store.browse_page(BrowseView::Year, "1999", None, 10).await.unwrap();
    assert_eq!(page.records.iter().map(|r| r.id.unwrap()).collect::<Vec<_>>(), vec![ids[3]]);

    // Back to live: listed again (the solo record stays withdrawn).
    let (mut r, _) = store.get_record_with_revision(ids[0]).await.unwrap().unwrap();
    r.status = Status::Archive;
    store.put_records(vec![write(r)]).await.unwrap();
    assert_eq!(count(BrowseView::Type, "report").await, before.4 - 1);
    assert_eq!(count(BrowseView::Subject, "geo").await, before.2);
}

async fn latest_and_datestamp(store: Arc<dyn RecordStore>) {
    // Explicit datestamps (an import keeps them).
    let mut dated = Vec::new();
    for t in [1000, 3000, 2000] {
        let mut r = rec(&format!("at {t}"), Status::Archive);
        r.datestamp = Some(Timestamp(t));
        dated.push(put_one(&*store, r).await);
    }
    // Not live: never in latest, whatever its datestamp.
    let mut hidden = rec("hidden", Status::Buffer);
    hidden.datestamp = Some(Timestamp(9_999_999_999));
    put_one(&*store, hidden).await;

    // A record that is not live yet has no datestamp; it gets one when it
    // goes live, and keeps it.
    let id = put_one(&*store, rec("goes live", Status::Inbox)).await;
    assert_eq!(store.get_record(id).await.unwrap().unwrap().datestamp, None);
    let t0 = Timestamp::now();
    let (mut r, _) = store.get_record_with_revision(id).await.unwrap().unwrap();
    r.status = Status::Archive;
    store.put_records(vec![write(r)]).await.unwrap();
    let live = store.get_record(id).await.unwrap().unwrap();
    let stamp = live.datestamp.expect("datestamp set when the record went live");
    assert!(stamp >= t0 && stamp <= Timestamp::now());

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // An edit that does not carry the datestamp keeps it...
    let mut edit = live.clone();
    edit.title = "goes live, edited".into();
    edit.datestamp = None;
    store.put_records(vec![write(edit)]).await.unwrap();
    assert_eq!(store.get_record(id).await.unwrap().unwrap().datestamp, Some(stamp));
    // ...and so does withdrawing and reinstating.
    for status in [Status::Deletion, Status::Archive] {
        let (mut r, _) = store.get_record_with_revision(id).await.unwrap().unwrap();
        r.status = status;
        r.datestamp = None;
        store.put_records(vec![write(r)]).await.unwrap();
    }
    assert_eq!(store.get_record(id).await.unwrap().unwrap().datestamp, Some(stamp));

    let latest: Vec<RecordId> = store.latest(10).await.unwrap().iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(latest, vec![id, dated[1], dated[2], dated[0]]);
    let two: Vec<RecordId> = store.latest(2).await.unwrap().iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(two, vec![id, dated[1]]);
}

async fn scan_in_id_order(store: Arc<dyn RecordStore>) {
    const N: usize = 1234;
    let status = |i: usize| Status::ALL[i % 4];
    let mut ids = Vec::new();
    for chunk in (0..N).collect::<Vec<_>>().chunks(300) {
        ids.extend(
            store.put_records(chunk.iter().map(|&i| write(rec(&format!("r{i}"), status(i)))).collect()).await.unwrap(),
        );
    }
    let scanned: Vec<Record> = store.scan(ScanFilter::default()).try_collect().await.unwrap();
    assert_eq!(scanned.len(), N);
    assert_eq!(scanned.iter().map(|r| r.id.unwrap()).collect::<Vec<_>>(), ids);
    assert_eq!(scanned[777].title, "r777");

    let archived: Vec<RecordId> = store
        .scan(ScanFilter { status: Some(Status::Archive), after_id: None })
        .map(|r| r.unwrap().id.unwrap())
        .collect()
        .await;
    let expected: Vec<RecordId> = (0..N).filter(|&i| status(i) == Status::Archive).map(|i| ids[i]).collect();
    assert_eq!(archived, expected);

    let tail: Vec<RecordId> = store
        .scan(ScanFilter { status: None, after_id: Some(ids[1000]) })
        .map(|r| r.unwrap().id.unwrap())
        .collect()
        .await;
    assert_eq!(tail, ids[1001..].to_vec());
    let tail_inbox: Vec<RecordId> = store
        .scan(ScanFilter { status: Some(Status::Inbox), after_id: Some(ids[1000]) })
        .map(|r| r.unwrap().id.unwrap())
        .collect()
        .await;
    assert_eq!(tail_inbox, (1001..N).filter(|&i| status(i) == Status::Inbox).map(|i| ids[i]).collect::<Vec<_>>());
}

/// The sitemap's range reads: only live records, only the range asked.
async fn live_ids_by_range(store: Arc<dyn RecordStore>) {
    assert_eq!(store.max_record_id().await.unwrap(), 0);
    assert!(store.live_ids(0, 100).await.unwrap().is_empty());
    let status = |i: usize| Status::ALL[i % 4];
    let ids = store.put_records((0..40).map(|i| write(rec(&format!("r{i}"), status(i)))).collect()).await.unwrap();
    assert_eq!(store.max_record_id().await.unwrap(), *ids.last().unwrap());
    let (after, through) = (ids[9], ids[29]);
    let live = store.live_ids(after, through).await.unwrap();
    let expected: Vec<RecordId> = (10..30).filter(|&i| status(i) == Status::Archive).map(|i| ids[i]).collect();
    assert_eq!(live.iter().map(|(id, _)| *id).collect::<Vec<_>>(), expected);
    let record = store.get_record(expected[0]).await.unwrap().unwrap();
    assert_eq!(Some(live[0].1), record.lastmod);
}

async fn subjects_meta_and_counts(store: Arc<dyn RecordStore>) {
    let s = |id: &str, name: &str, parent: Option<&str>| Subject {
        id: id.into(),
        name: name.into(),
        parent: parent.map(Into::into),
    };
    assert!(store.subjects().await.unwrap().is_empty());
    let tree = vec![
        s("geo", "Geographical area", None),
        s("casia", "Central Asia", Some("geo")),
        s("kz", "Kazakhstan", Some("casia")),
    ];
    store.put_subjects(Scheme::Subjects, &tree).await.unwrap();
    assert_eq!(store.subjects().await.unwrap(), tree);
    // Renaming keeps the position; a new subject comes last.
    store.put_subjects(Scheme::Subjects, &[s("geo", "Regions", None), s("econ", "Economy", None)]).await.unwrap();
    let got = store.subjects().await.unwrap();
    assert_eq!(
        got.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect::<Vec<_>>(),
        [("geo", "Regions"), ("casia", "Central Asia"), ("kz", "Kazakhstan"), ("econ", "Economy")]
    );

    assert_eq!(store.meta("name").await.unwrap(), None);
    store.set_meta("name", "OSW Repository").await.unwrap();
    store.set_meta("schema", "1").await.unwrap();
    assert_eq!(store.meta("name").await.unwrap().as_deref(), Some("OSW Repository"));
    store.set_meta("name", "Ośrodek Studiów Wschodnich").await.unwrap();
    assert_eq!(store.meta("name").await.unwrap().as_deref(), Some("Ośrodek Studiów Wschodnich"));
    assert_eq!(store.meta("schema").await.unwrap().as_deref(), Some("1"));

    assert_eq!(store.status_counts().await.unwrap(), StatusCounts::default());
    let mut batch = Vec::new();
    for (status, n) in [(Status::Inbox, 3), (Status::Buffer, 2), (Status::Archive, 5), (Status::Deletion, 1)] {
        batch.extend((0..n).map(|i| write(rec(&format!("{status:?} {i}"), status))));
    }
    let ids = store.put_records(batch).await.unwrap();
    assert_eq!(store.status_counts().await.unwrap(), StatusCounts { inbox: 3, buffer: 2, archive: 5, deletion: 1 });
    // Moving a record from inbox to archive moves its count.
    let (mut r, _) = store.get_record_with_revision(ids[0]).await.unwrap().unwrap();
    r.status = Status::Archive;
    store.put_records(vec![write(r)]).await.unwrap();
    assert_eq!(store.status_counts().await.unwrap(), StatusCounts { inbox: 2, buffer: 2, archive: 6, deletion: 1 });

    let size = store.size_bytes().await.unwrap();
    assert!(size.unwrap_or(1) > 0, "{size:?}");
}

/// The in-memory count a page cache reads to learn of a write through its
/// store without a query: one per committed batch, none for a failed one,
/// one for a change of the subject tree that rewrote records.
async fn local_writes_count_committed_batches(store: Arc<dyn RecordStore>) {
    assert_eq!(store.local_writes(), 0);
    let mut r = rec("filed", Status::Archive);
    r.subjects = vec!["child".into()];
    store
        .put_subjects(Scheme::Subjects, &[Subject { id: "child".into(), name: "Child".into(), parent: None }])
        .await
        .unwrap();
    assert_eq!(store.local_writes(), 0, "no record was rewritten");
    let id = put_one(&*store, r).await;
    assert_eq!(store.local_writes(), 1);
    let stale = RecordWrite { record: rec("stale", Status::Inbox), actor: "x".into(), expected_revision: Some(9) };
    let mut stale = stale;
    stale.record.id = Some(id);
    store.put_records(vec![stale]).await.expect_err("a conflict");
    assert_eq!(store.local_writes(), 1, "a failed batch counts nothing");
    store
        .put_subjects(
            Scheme::Subjects,
            &[
                Subject { id: "top".into(), name: "Top".into(), parent: None },
                Subject { id: "child".into(), name: "Child".into(), parent: Some("top".into()) },
            ],
        )
        .await
        .unwrap();
    assert_eq!(store.local_writes(), 2, "moving a subject rewrote the record");
}

async fn failed_batch_writes_nothing(store: Arc<dyn RecordStore>) {
    let existing = put_one(&*store, rec("existing", Status::Archive)).await;
    let before_seq = store.last_change().await.unwrap();
    let before_counts = store.status_counts().await.unwrap();
    let before_browse = store.browse_count(BrowseView::Type, "report").await.unwrap();

    let (mut stale, _) = store.get_record_with_revision(existing).await.unwrap().unwrap();
    stale.title = "changed".into();
    let mut named = rec("named", Status::Archive);
    named.id = Some(4242);
    let batch = vec![
        write(rec("new 1", Status::Archive)),
        write(named),
        RecordWrite { record: stale, actor: "x".into(), expected_revision: Some(7) },
        write(rec("new 2", Status::Archive)),
    ];
    let err = store.put_records(batch).await.expect_err("the batch has a conflict");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");

    assert_eq!(store.last_change().await.unwrap(), before_seq);
    assert_eq!(store.status_counts().await.unwrap(), before_counts);
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), before_browse);
    assert!(store.get_record(4242).await.unwrap().is_none());
    assert_eq!(store.get_record(existing).await.unwrap().unwrap().title, "existing");
    let all: Vec<Record> = store.scan(ScanFilter::default()).try_collect().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(store.revisions(existing).await.unwrap().len(), 1);

    // The store is still usable, and new ids still increase.
    let next = put_one(&*store, rec("next", Status::Inbox)).await;
    assert!(next > existing);
}

async fn concurrent_writers(store: Arc<dyn RecordStore>) {
    const TASKS: usize = 4;
    const PER_TASK: usize = 200;
    const BATCH: usize = 10;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // A follower that polls the feed while the writers write, always asking
    // for what comes after the highest seq it has seen. If seqs did not
    // follow commit order it would skip changes committed late with a lower
    // number.
    let follower = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen: Vec<Change> = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let batch = store.changes_since(cursor, 50).await.unwrap();
                if let Some(last) = batch.last() {
                    cursor = last.seq;
                }
                let empty = batch.is_empty();
                seen.extend(batch);
                if finished && empty {
                    return seen;
                }
                if empty {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
        })
    };

    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for b in 0..PER_TASK / BATCH {
                    let batch = (0..BATCH)
                        .map(|i| write(rec(&format!("task {t} record {}", b * BATCH + i), Status::Archive)))
                        .collect();
                    let got = store.put_records(batch).await.unwrap();
                    // Each batch's new ids are consecutive.
                    assert_consecutive(&got);
                    ids.extend(got);
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for w in writers {
        ids.extend(w.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let followed = follower.await.unwrap();

    assert_eq!(ids.len(), TASKS * PER_TASK);
    let distinct: BTreeSet<_> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), TASKS * PER_TASK, "every record got its own id");

    let changes = all_changes(&*store).await;
    assert_eq!(changes.len(), TASKS * PER_TASK);
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(changes.iter().map(|c| c.record_id).collect::<BTreeSet<_>>(), distinct);

    // The follower saw every change, none twice.
    assert_eq!(followed.len(), TASKS * PER_TASK, "the follower missed changes");
    assert_eq!(followed, changes);
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), (TASKS * PER_TASK) as i64);
    assert_eq!(store.status_counts().await.unwrap().archive, (TASKS * PER_TASK) as i64);
}

async fn bulk_insert(store: Arc<dyn RecordStore>) {
    const N: usize = 20_000;
    const BATCH: usize = 5_000;
    let records: Vec<Record> = (0..N)
        .map(|i| {
            let mut r = browsable(i);
            r.title = format!("Bulk record {i}");
            r.abstract_text = Some("An abstract of a few words. ".repeat(20));
            r
        })
        .collect();
    let start = std::time::Instant::now();
    let mut ids = Vec::with_capacity(N);
    for chunk in records.chunks(BATCH) {
        ids.extend(store.put_records(chunk.iter().cloned().map(write).collect()).await.unwrap());
    }
    let elapsed = start.elapsed();
    println!("bulk insert: {N} records in {elapsed:.2?} = {:.0} records/s", N as f64 / elapsed.as_secs_f64());
    assert_consecutive(&ids);
    assert_eq!(store.status_counts().await.unwrap().archive, N as i64);
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), N as i64);
    let years: BTreeMap<String, i64> = store
        .browse_values(BrowseView::Year, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.value, v.count))
        .collect();
    assert_eq!(years.values().sum::<i64>(), N as i64);
    assert_eq!(store.changes_since(0, N as i64 + 1).await.unwrap().len(), N);
}

/// Live record ids under a browse value, every page read.
async fn browse_all(store: &dyn RecordStore, view: BrowseView, value: &str) -> Vec<RecordId> {
    let mut ids = Vec::new();
    let mut cursor: Option<BrowseCursor> = None;
    loop {
        let page = store.browse_page(view, value, cursor.as_ref(), 25).await.unwrap();
        ids.extend(page.records.iter().map(|r| r.id.unwrap()));
        cursor = page.next;
        if cursor.is_none() {
            return ids;
        }
    }
}

/// A bulk load (an import into an empty repository) may defer browse
/// entries and indexes, but when it ends every view lists what ordinary
/// writes would have listed, edits made during the load included: a
/// withdrawn record is not listed, a record moved to another year is listed
/// only there.
async fn bulk_load_ends_with_complete_browse_views(store: Arc<dyn RecordStore>) {
    store.begin_bulk_load().await.unwrap();
    let mut ids = store.put_records((0..60).map(|i| write(browsable(i))).collect()).await.unwrap();
    let (mut withdrawn, _) = store.get_record_with_revision(ids[0]).await.unwrap().unwrap();
    withdrawn.status = Status::Deletion;
    store.put_records(vec![write(withdrawn)]).await.unwrap();
    let (mut moved, _) = store.get_record_with_revision(ids[3]).await.unwrap().unwrap();
    assert_eq!(moved.year(), Some(2001));
    moved.date = Some(PartialDate::year(1999));
    store.put_records(vec![write(moved)]).await.unwrap();
    ids.extend(store.put_records((60..90).map(|i| write(browsable(i))).collect()).await.unwrap());
    store.end_bulk_load().await.unwrap();

    let live: Vec<usize> = (1..90).collect();
    let mut by_sort_key: Vec<(String, RecordId)> = live
        .iter()
        .map(|&i| {
            let mut r = browsable(i);
            if i == 3 {
                r.date = Some(PartialDate::year(1999));
            }
            (sort_key(&r), ids[i])
        })
        .collect();
    by_sort_key.sort();
    assert_eq!(
        browse_all(&*store, BrowseView::Type, "report").await,
        by_sort_key.iter().map(|(_, id)| *id).collect::<Vec<_>>()
    );
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), 89);
    assert_eq!(browse_all(&*store, BrowseView::Year, "1999").await, vec![ids[3]]);
    let in_2001: Vec<RecordId> = live.iter().filter(|&&i| i % 3 == 0 && i != 3).map(|&i| ids[i]).collect();
    let mut listed_2001 = browse_all(&*store, BrowseView::Year, "2001").await;
    listed_2001.sort();
    assert_eq!(listed_2001, in_2001);
    assert_eq!(store.browse_count(BrowseView::Year, "2001").await.unwrap(), in_2001.len() as i64);
    let econ = browse_all(&*store, BrowseView::Subject, "econ").await;
    assert_eq!(econ.len(), live.iter().filter(|&&i| i % 2 == 0).count());
    assert!(!econ.contains(&ids[0]));
    // Reads by status (indexed again) see every record.
    let counts = store.status_counts().await.unwrap();
    assert_eq!((counts.archive, counts.deletion), (89, 1));
    let withdrawn = store.work_items(&WorkQuery { status: Status::Deletion, ..Default::default() }, 10).await.unwrap();
    assert_eq!(withdrawn.iter().map(|r| r.id.unwrap()).collect::<Vec<_>>(), vec![ids[0]]);
    // Ending again, or writing after the end, is ordinary.
    store.end_bulk_load().await.unwrap();
    let late = put_one(&*store, browsable(90)).await;
    assert!(browse_all(&*store, BrowseView::Type, "report").await.contains(&late));
}

// ---------------------------------------------------------------------------
// Bulk loads, on both backends (tests that open their databases themselves)

/// The indexes of the tables a bulk load may drop, by name (PostgreSQL
/// drops the primary keys of `browse` and `oai_sets` too).
async fn bulk_index_names(url: &str) -> Vec<String> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'index' \
             AND tbl_name IN ('records', 'revisions', 'changes', 'browse', 'oai_sets') ORDER BY name",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ('records', 'revisions', 'changes', 'browse', 'oai_sets') ORDER BY indexname",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    }
}

/// A bulk load whose process dies before it ends (here: the store is
/// dropped without ending it) is finished by the next open of the
/// database: browse views list its records, the indexes are back and
/// `meta` no longer lists any.
async fn finishes_an_interrupted_bulk_load_when_opened(url: String) {
    let (ids, before) = {
        let store = open_store(&url).await.expect("open store");
        let before = bulk_index_names(&url).await;
        assert!(before.iter().filter(|n| n.starts_with("records_by")).count() >= 5, "{before:?}");
        store.begin_bulk_load().await.unwrap();
        let during = bulk_index_names(&url).await;
        assert!(
            !during.iter().any(|n| n.starts_with("records_by")),
            "a bulk load drops the indexes of records: {during:?}"
        );
        assert!(store.meta("bulk_load.dropped_indexes").await.unwrap().is_some());
        let mut ids = store.put_records((0..40).map(|i| write(browsable(i))).collect()).await.unwrap();
        ids.extend(store.put_records((40..60).map(|i| write(browsable(i))).collect()).await.unwrap());
        (ids, before)
    };
    let store = open_store(&url).await.expect("reopen store");
    assert_eq!(bulk_index_names(&url).await, before);
    assert_eq!(store.meta("bulk_load.dropped_indexes").await.unwrap(), None);
    let mut listed = browse_all(&*store, BrowseView::Type, "report").await;
    listed.sort();
    assert_eq!(listed, ids);
    assert_eq!(store.browse_count(BrowseView::Type, "report").await.unwrap(), 60);
    assert_eq!(store.status_counts().await.unwrap().archive, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_finishes_an_interrupted_bulk_load_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    finishes_an_interrupted_bulk_load_when_opened(format!("sqlite://{}", dir.path().join("arkiv.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_finishes_an_interrupted_bulk_load_when_opened() {
    backends::with_postgres_url(finishes_an_interrupted_bulk_load_when_opened).await;
}

/// Text that `COPY`'s text format gives a meaning (tab, newline, carriage
/// return, backslash, and `\N` and `\.` spelled out), quotes and
/// characters beyond ASCII.
const TRICKY: &str = "Tab\there, newline\nthere,\r back\\slash \\N \\. \"quoted\" 'single' «ünïcödé» 🦀";

/// `browsable(i)` with its bookkeeping times given (so that two loads store
/// the same JSON) and, every fifth, [`TRICKY`] text in its title, abstract,
/// a creator (a browse value) and a subject (an OAI-PMH set).
fn loadable(i: usize) -> Record {
    let mut r = browsable(i);
    r.lastmod = Some(Timestamp(1_700_000_000 + i as i64));
    r.datestamp = Some(Timestamp(1_690_000_000 + i as i64));
    if i.is_multiple_of(5) {
        r.title = format!("{TRICKY} {i}");
        r.abstract_text = Some(format!("{TRICKY}\\"));
        r.creators.push(Creator::new(TRICKY, "Ünï\tcode"));
        r.subjects.push(format!("t\\a\tb{}", i % 2));
    }
    r
}

/// The same writes into `store`, as a bulk load or not: batches of new
/// records, then a batch that withdraws one, moves one to another year,
/// writes a record of a given id twice and adds new ones.
async fn load_for_comparison(store: &dyn RecordStore, bulk: bool) {
    if bulk {
        store.begin_bulk_load().await.unwrap();
    }
    let mut ids = Vec::new();
    for part in 0..3 {
        ids.extend(store.put_records((part * 40..part * 40 + 40).map(|i| write(loadable(i))).collect()).await.unwrap());
    }
    let mut withdrawn = store.get_record(ids[0]).await.unwrap().unwrap();
    withdrawn.status = Status::Deletion;
    let mut moved = store.get_record(ids[3]).await.unwrap().unwrap();
    moved.date = Some(PartialDate::year(1999));
    let mut given = loadable(200);
    given.id = Some(5_000);
    let mut again = given.clone();
    again.title = format!("{TRICKY}, second state");
    let mut batch = vec![write(withdrawn), write(given), write(moved), write(again)];
    batch.extend((120..130).map(|i| write(loadable(i))));
    store.put_records(batch).await.unwrap();
    if bulk {
        store.end_bulk_load().await.unwrap();
    }
}

/// Everything a reader can see of a store, as lines to compare: records,
/// revisions (but their times), the change feed (but its times), browse
/// values, counts and pages, OAI-PMH sets and lists, counts and workflow
/// lists.
async fn everything(store: &dyn RecordStore) -> Vec<String> {
    let mut out = Vec::new();
    let records: Vec<Record> = store.scan(ScanFilter::default()).try_collect().await.unwrap();
    for r in &records {
        out.push(format!("record {r:?}"));
        for v in store.revisions(r.id.unwrap()).await.unwrap() {
            out.push(format!("revision {} {} {} {:?} {:?}", v.record_id, v.number, v.actor, v.changed, v.record));
        }
    }
    for c in all_changes(store).await {
        out.push(format!("change {} {} {} {:?}", c.seq, c.record_id, c.revision, c.status));
    }
    for view in BrowseView::ALL {
        for v in store.browse_values(view, None, 1_000).await.unwrap() {
            out.push(format!("browse {view:?} {:?} {}", v.value, v.count));
            assert_eq!(store.browse_count(view, &v.value).await.unwrap(), v.count);
            out.push(format!("page {:?}", browse_all(store, view, &v.value).await));
        }
    }
    for spec in store.oai_set_specs("", 1_000).await.unwrap() {
        let query = arkiv_storage::OaiQuery { set: Some(spec.clone()), ..Default::default() };
        let listed: Vec<RecordId> =
            store.oai_records(&query, 0, 1_000).await.unwrap().iter().map(|r| r.id.unwrap()).collect();
        out.push(format!("set {spec:?} {} {listed:?}", store.oai_count(&query).await.unwrap()));
    }
    out.push(format!("{:?}", store.status_counts().await.unwrap()));
    for status in [Status::Archive, Status::Deletion] {
        let items = store.work_items(&WorkQuery { status, ..Default::default() }, 1_000).await.unwrap();
        out.push(format!("work {status:?} {:?}", items.iter().map(|r| r.id.unwrap()).collect::<Vec<_>>()));
    }
    let latest: Vec<RecordId> = store.latest(1_000).await.unwrap().iter().map(|r| r.id.unwrap()).collect();
    out.push(format!("latest {latest:?}"));
    out.push(format!("live {:?}", store.live_ids(0, 10_000).await.unwrap()));
    out
}

/// A bulk load leaves a store that reads the same as ordinary writes of
/// the same records would have, tricky text byte for byte.
async fn bulk_load_reads_as_an_ordinary_load(bulk: Arc<dyn RecordStore>, ordinary: Arc<dyn RecordStore>) {
    load_for_comparison(&*bulk, true).await;
    load_for_comparison(&*ordinary, false).await;
    let (seen, expected) = (everything(&*bulk).await, everything(&*ordinary).await);
    assert!(expected.len() > 300, "{}", expected.len());
    for (a, b) in seen.iter().zip(&expected) {
        assert_eq!(a, b);
    }
    assert_eq!(seen.len(), expected.len());
    let tricky = bulk.scan(ScanFilter::default()).try_collect::<Vec<_>>().await.unwrap();
    let r = tricky.iter().find(|r| r.title == format!("{TRICKY} 5")).expect("the title round-trips");
    assert_eq!(r.abstract_text.as_deref(), Some(format!("{TRICKY}\\").as_str()));
    let creators = bulk.browse_values(BrowseView::Creator, None, 1_000).await.unwrap();
    assert!(creators.iter().any(|v| v.value == format!("{TRICKY}, Ünï\tcode")), "{creators:?}");
    let given = bulk.get_record(5_000).await.unwrap().unwrap();
    assert_eq!(given.title, format!("{TRICKY}, second state"));
    assert_eq!(bulk.revisions(5_000).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bulk_load_reads_as_an_ordinary_load() {
    backends::with_sqlite(|(bulk, _)| async move {
        backends::with_sqlite(|(ordinary, _)| bulk_load_reads_as_an_ordinary_load(bulk, ordinary)).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulk_load_reads_as_an_ordinary_load() {
    backends::with_postgres(|(bulk, _)| async move {
        backends::with_postgres(|(ordinary, _)| bulk_load_reads_as_an_ordinary_load(bulk, ordinary)).await
    })
    .await;
}

// ---------------------------------------------------------------------------
// SQLite only

/// The write-ahead log is copied back into the database file while writes
/// go on, by the store's background checkpointer rather than inside a
/// writer's commit: after about 28 MB of records the database file itself
/// holds them, and the log does not keep growing with every batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_copies_its_log_back_in_the_background() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("arkiv.db");
    let store = open_store(&format!("sqlite://{}", db.display())).await.expect("open SQLite store");
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = dir.path().join("arkiv.db-wal");
    for batch in 0..8 {
        let records = (0..500).map(|i| {
            let mut r = browsable(batch * 500 + i);
            r.abstract_text = Some(format!("{batch}-{i} ").repeat(1_000));
            write(r)
        });
        store.put_records(records.collect()).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while size(&db) < 16 << 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(size(&db) >= 16 << 20, "the database file holds {} bytes: the log was not copied back", size(&db));
    // A log restarted after a checkpoint is reused from its start.
    assert!(size(&wal) < 48 << 20, "the log grew to {} bytes", size(&wal));
    assert_eq!(store.status_counts().await.unwrap().archive, 4_000);
}

/// A bulk load's browse entries wait in the loading store's memory. Written
/// out early (with a budget of one byte, before every batch) or only at the
/// end; rewritten while they wait; rewritten through another store on the
/// same database, which cannot see that memory: when the load ends, each
/// live record is listed once, under its values as they are now, and every
/// count matches its list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bulk_load_entries_survive_early_writes_and_other_writers() {
    for budget in [1, 0] {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("arkiv.db").display());
        let loader = arkiv_storage::sqlite::SqliteStore::open(&url).await.expect("open SQLite store");
        loader.set_bulk_memory_budget(budget);
        let loader: Arc<dyn RecordStore> = Arc::new(loader);
        let other = open_store(&url).await.expect("open a second store");
        let redate = |store: Arc<dyn RecordStore>, id: RecordId, year: i32| async move {
            let mut r = store.get_record(id).await.unwrap().unwrap();
            r.date = Some(PartialDate::year(year));
            store.put_records(vec![write(r)]).await.unwrap();
        };
        loader.begin_bulk_load().await.unwrap();
        let mut ids = loader.put_records((0..30).map(|i| write(browsable(i))).collect()).await.unwrap();
        redate(loader.clone(), ids[1], 1999).await;
        redate(other.clone(), ids[2], 1998).await;
        ids.extend(loader.put_records((30..40).map(|i| write(browsable(i))).collect()).await.unwrap());
        redate(other.clone(), ids[35], 1997).await;
        loader.end_bulk_load().await.unwrap();

        for (year, id) in [("1999", ids[1]), ("1998", ids[2]), ("1997", ids[35])] {
            assert_eq!(browse_all(&*loader, BrowseView::Year, year).await, vec![id], "budget {budget}: year {year}");
        }
        let mut listed = Vec::new();
        for year in ["2001", "2002", "2003"] {
            let in_year = browse_all(&*loader, BrowseView::Year, year).await;
            assert_eq!(
                loader.browse_count(BrowseView::Year, year).await.unwrap(),
                in_year.len() as i64,
                "budget {budget}"
            );
            listed.extend(in_year);
        }
        listed.sort();
        let expected: Vec<RecordId> =
            ids.iter().copied().filter(|id| ![ids[1], ids[2], ids[35]].contains(id)).collect();
        assert_eq!(listed, expected, "budget {budget}: each other record once, under its year");
        let mut reports = browse_all(&*loader, BrowseView::Type, "report").await;
        reports.sort();
        assert_eq!(reports, ids, "budget {budget}");
        assert_eq!(loader.browse_count(BrowseView::Type, "report").await.unwrap(), 40);
    }
}

/// Two imports begun at once into an empty repository are two bulk loads on
/// one database: whichever ends first writes its entries and the other's so
/// far, and the other's later entries still go in when it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_bulk_loads_at_once_each_write_their_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("arkiv.db").display());
    let a = open_store(&url).await.expect("open a store");
    let b = open_store(&url).await.expect("open a second store");
    a.begin_bulk_load().await.unwrap();
    b.begin_bulk_load().await.unwrap();
    let mut ids = a.put_records((0..20).map(|i| write(browsable(i))).collect()).await.unwrap();
    ids.extend(b.put_records((20..40).map(|i| write(browsable(i))).collect()).await.unwrap());
    ids.extend(a.put_records((40..45).map(|i| write(browsable(i))).collect()).await.unwrap());
    a.end_bulk_load().await.unwrap();
    ids.extend(b.put_records((45..50).map(|i| write(browsable(i))).collect()).await.unwrap());
    b.end_bulk_load().await.unwrap();
    let mut listed = browse_all(&*a, BrowseView::Type, "report").await;
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids, "every record listed once");
    assert_eq!(a.browse_count(BrowseView::Type, "report").await.unwrap(), 50);
    // Nothing is left for the next open to finish.
    let reopened = open_store(&url).await.expect("reopen");
    assert_eq!(browse_all(&*reopened, BrowseView::Type, "report").await.len(), 50);
}

// ---------------------------------------------------------------------------
// PostgreSQL only

/// PostgreSQL TEXT cannot hold NUL: the store says so instead of failing
/// obscurely (or panicking), and writes nothing.
#[tokio::test]
async fn postgres_refuses_nul_with_a_clear_error() {
    backends::with_postgres(|(store, _): backends::Stores| async move {
        let mut r = rec("fine", Status::Archive);
        r.creators.push(Creator::new("Nul\0Byte", "X"));
        let err = store.put_records(vec![write(rec("ok", Status::Inbox)), write(r)]).await.expect_err("NUL is refused");
        assert!(err.to_string().contains("NUL"), "{err}");
        assert_eq!(store.last_change().await.unwrap(), 0, "nothing written");
        let err = store.set_meta("k", "a\0b").await.expect_err("NUL is refused");
        assert!(err.to_string().contains("NUL"), "{err}");
        // NUL inside JSON is escaped, so a field that only lives there is fine.
        let mut r = rec("fine", Status::Inbox);
        r.note = Some("a\0b".into());
        let id = put_one(&*store, r).await;
        assert_eq!(store.get_record(id).await.unwrap().unwrap().note.as_deref(), Some("a\0b"));
    })
    .await
}

// ---------------------------------------------------------------------------
// The file store (independent of the database backend)

#[tokio::test]
async fn file_store_by_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let bytes = bytes::Bytes::from_static(b"The quick brown fox jumps over the lazy dog");
    let sha = files.put(bytes.clone()).await.unwrap();
    assert_eq!(sha, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
    assert_eq!(files.put(bytes.clone()).await.unwrap(), sha, "same bytes, same name");
    let (streamed, size) = files
        .put_stream(futures::stream::iter(bytes.chunks(5).map(|c| Ok(bytes::Bytes::copy_from_slice(c)))), 1000)
        .await
        .unwrap();
    assert_eq!((streamed.as_str(), size), (sha.as_str(), bytes.len() as u64));
    assert_eq!(regular_files(dir.path()).len(), 1, "stored once: {:?}", regular_files(dir.path()));

    assert_eq!(files.get(&sha).await.unwrap().unwrap(), bytes);
    assert_eq!(files.get_range(&sha, 4..9).await.unwrap(), &b"quick"[..]);
    assert_eq!(files.size(&sha).await.unwrap(), Some(bytes.len() as u64));
    let absent = sha256_hex(b"never stored");
    assert_eq!(files.get(&absent).await.unwrap(), None);
    assert_eq!(files.size(&absent).await.unwrap(), None);

    // A stream over the limit is refused and leaves no file behind.
    let big = futures::stream::iter((0..10).map(|_| Ok(bytes::Bytes::from(vec![7u8; 100]))));
    let err = files.put_stream(big, 550).await.expect_err("over the limit");
    assert!(err.to_string().contains("limit"), "{err}");
    assert_eq!(regular_files(dir.path()).len(), 1, "no staging garbage: {:?}", regular_files(dir.path()));
    assert_eq!(files.size(&sha256_hex(&[7u8; 1000])).await.unwrap(), None);
    // Exactly at the limit is fine.
    let exact = futures::stream::iter((0..2).map(|_| Ok(bytes::Bytes::from(vec![1u8; 50]))));
    let (exact_sha, n) = files.put_stream(exact, 100).await.unwrap();
    assert_eq!((exact_sha, n), (sha256_hex(&[1u8; 100]), 100));

    // Fixity: Ok, then Mismatch once the bytes are damaged, Missing once gone.
    assert_eq!(files.check(&sha).await.unwrap(), Fixity::Ok);
    let on_disk = dir.path().join("sha256").join(&sha[..2]).join(&sha[2..4]).join(&sha);
    assert!(on_disk.is_file(), "stored at {}", on_disk.display());
    std::fs::write(&on_disk, b"The quick brown fox jumps over the lazy cat").unwrap();
    match files.check(&sha).await.unwrap() {
        Fixity::Mismatch { actual } => assert_eq!(actual, sha256_hex(b"The quick brown fox jumps over the lazy cat")),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    std::fs::remove_file(&on_disk).unwrap();
    assert_eq!(files.check(&sha).await.unwrap(), Fixity::Missing);
    assert_eq!(files.get(&sha).await.unwrap(), None);

    // Only lower-case hex SHA-256 names: nothing can climb out of the store.
    for bad in ["../secret", "../../etc/passwd", &sha.to_uppercase(), &sha[..63], "", "sha256/../../secret"] {
        assert!(files.get(bad).await.is_err(), "get {bad:?}");
        assert!(files.size(bad).await.is_err(), "size {bad:?}");
        assert!(files.check(bad).await.is_err(), "check {bad:?}");
        assert!(files.get_range(bad, 0..1).await.is_err(), "get_range {bad:?}");
    }
}

fn regular_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// OAI-PMH: a record is visible once it has been live, forever; its sets
/// (type, every ancestor subject, series) are kept when it is withdrawn and
/// follow edits; set and date harvests page by id.
async fn oai_visibility_sets_and_paging(store: Arc<dyn RecordStore>) {
    use arkiv_storage::OaiQuery;
    store
        .put_subjects(
            Scheme::Subjects,
            &[
                Subject { id: "geo".into(), name: "Geography".into(), parent: None },
                Subject { id: "geo-asia".into(), name: "Asia".into(), parent: Some("geo".into()) },
            ],
        )
        .await
        .unwrap();
    let draft = put_one(&*store, rec("draft", Status::Inbox)).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut r = rec(&format!("live {i}"), Status::Archive);
        if i % 2 == 0 {
            r.subjects = vec!["geo-asia".into()];
            r.series = Some("Tech Reports".into());
        }
        ids.push(put_one(&*store, r).await);
    }
    let all = OaiQuery::default();
    assert_eq!(store.oai_count(&all).await.unwrap(), 5, "the draft was never live");
    let page: Vec<_> = store.oai_records(&all, 0, 3).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(page, ids[..3]);
    let rest: Vec<_> = store.oai_records(&all, ids[2], 3).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(rest, ids[3..]);
    assert!(!store.oai_records(&all, 0, 100).await.unwrap().iter().any(|r| r.id == Some(draft)));

    let geo = OaiQuery { set: Some("subject:geo".into()), ..Default::default() };
    assert_eq!(store.oai_count(&geo).await.unwrap(), 3, "the parent subject holds its children's records");
    let specs = store.oai_set_specs("", 100).await.unwrap();
    assert_eq!(specs, ["series:Tech~20Reports", "subject:geo", "subject:geo:geo-asia", "type:report"]);
    assert_eq!(store.oai_set_specs("subject:geo", 1).await.unwrap(), ["subject:geo:geo-asia"]);

    // Withdrawn: still harvested (as deleted), still in its sets.
    let mut gone = store.get_record(ids[0]).await.unwrap().unwrap();
    gone.status = Status::Deletion;
    gone.lastmod = None;
    store.put_records(vec![write(gone)]).await.unwrap();
    let in_geo = store.oai_records(&geo, 0, 100).await.unwrap();
    assert_eq!(in_geo.len(), 3);
    assert_eq!(in_geo[0].status, Status::Deletion);
    // An edit moves a record out of a set.
    let mut moved = store.get_record(ids[2]).await.unwrap().unwrap();
    moved.subjects.clear();
    moved.lastmod = None;
    store.put_records(vec![write(moved)]).await.unwrap();
    assert_eq!(store.oai_count(&geo).await.unwrap(), 2);

    // Dates: lastmod within [from, until].
    let mut old = store.get_record(ids[4]).await.unwrap().unwrap();
    old.lastmod = Some(Timestamp(1_000_000_000));
    store.put_records(vec![write(old)]).await.unwrap();
    assert_eq!(store.oai_earliest().await.unwrap(), Some(Timestamp(1_000_000_000)));
    let early = OaiQuery { until: Some(1_000_000_000), ..Default::default() };
    let found: Vec<_> = store.oai_records(&early, 0, 10).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(found, [ids[4]]);
    let late = OaiQuery { from: Some(1_000_000_001), set: Some("subject:geo".into()), ..Default::default() };
    assert_eq!(store.oai_count(&late).await.unwrap(), 1);

    // A long list is decoded in chunks on several threads as its rows
    // arrive: none lost, each record with its own row, in id order.
    let bulk: Vec<RecordWrite> = (0..150).map(|i| write(rec(&format!("bulk {i}"), Status::Archive))).collect();
    store.put_records(bulk).await.unwrap();
    let listed = store.oai_records(&all, ids[4], 1000).await.unwrap();
    let titles: Vec<String> = listed.iter().map(|r| r.title.clone()).collect();
    assert_eq!(titles, (0..150).map(|i| format!("bulk {i}")).collect::<Vec<_>>());
    assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "in id order");
}

/// The workarea and the review buffer: one status, optionally one owner,
/// oldest change first (or newest), paged by (lastmod, id).
async fn work_items_by_owner_and_status(store: Arc<dyn RecordStore>) {
    let mut ids = Vec::new();
    // lastmod 100, 300, 200 for owner 7; 250 for owner 8; one live of owner 7.
    for (title, owner, lastmod, status) in [
        ("a", 7, 100, Status::Buffer),
        ("b", 7, 300, Status::Buffer),
        ("c", 7, 200, Status::Buffer),
        ("d", 8, 250, Status::Buffer),
        ("e", 7, 150, Status::Inbox),
    ] {
        let mut r = rec(title, status);
        r.userid = Some(owner);
        r.lastmod = Some(Timestamp(lastmod));
        ids.push(put_one(&*store, r).await);
    }
    let titles = |rs: Vec<Record>| rs.into_iter().map(|r| r.title).collect::<Vec<_>>();
    let buffer = WorkQuery { status: Status::Buffer, ..Default::default() };
    assert_eq!(titles(store.work_items(&buffer, 10).await.unwrap()), ["a", "c", "d", "b"], "oldest first");
    let page = store.work_items(&buffer, 2).await.unwrap();
    let last = page.last().unwrap();
    let next = WorkQuery { after: Some((last.lastmod.unwrap().0, last.id.unwrap())), ..buffer.clone() };
    assert_eq!(titles(store.work_items(&next, 2).await.unwrap()), ["d", "b"], "the next page follows on");
    let mine = WorkQuery { status: Status::Buffer, owner: Some(7), newest_first: true, ..Default::default() };
    assert_eq!(titles(store.work_items(&mine, 10).await.unwrap()), ["b", "c", "a"], "one owner, newest first");
    let inbox = WorkQuery { status: Status::Inbox, owner: Some(8), ..Default::default() };
    assert!(store.work_items(&inbox, 10).await.unwrap().is_empty());

    // A status change moves the record between the lists.
    let (mut r, _) = store.get_record_with_revision(ids[3]).await.unwrap().unwrap();
    r.status = Status::Archive;
    r.lastmod = Some(Timestamp(400));
    store.put_records(vec![write(r)]).await.unwrap();
    assert_eq!(titles(store.work_items(&buffer, 10).await.unwrap()), ["a", "c", "b"]);
    let live = WorkQuery { status: Status::Archive, owner: Some(8), newest_first: true, ..Default::default() };
    assert_eq!(titles(store.work_items(&live, 10).await.unwrap()), ["d"]);
}

/// The review buffer filtered by item type keeps its order and paging.
async fn work_items_of_one_type(store: Arc<dyn RecordStore>) {
    for (title, item_type, lastmod) in [("a", "report", 100), ("b", "article", 200), ("c", "report", 300)] {
        let mut r = rec(title, Status::Buffer);
        r.item_type = item_type.into();
        r.lastmod = Some(Timestamp(lastmod));
        put_one(&*store, r).await;
    }
    let titles = |rs: Vec<Record>| rs.into_iter().map(|r| r.title).collect::<Vec<_>>();
    let reports = WorkQuery { status: Status::Buffer, item_type: Some("report".into()), ..Default::default() };
    assert_eq!(titles(store.work_items(&reports, 10).await.unwrap()), ["a", "c"]);
    let newest = WorkQuery { newest_first: true, ..reports.clone() };
    assert_eq!(titles(store.work_items(&newest, 1).await.unwrap()), ["c"]);
    let theses = WorkQuery { item_type: Some("thesis".into()), ..reports };
    assert!(store.work_items(&theses, 10).await.unwrap().is_empty());
}

fn embargoed_until(title: &str, until: &str) -> Record {
    let mut r = rec(title, Status::Archive);
    r.documents.push(Document { pos: 1, embargo: Some(until.parse().unwrap()), ..Default::default() });
    r
}

/// A live record's next embargo end is indexed as it is written, so the
/// embargo job asks for what is due up to a day; a record whose embargo
/// is cleared, or that is no longer live, drops out.
async fn embargoes_due_by_day(store: Arc<dyn RecordStore>) {
    let soon = put_one(&*store, embargoed_until("soon", "2090-03-01")).await;
    let later = put_one(&*store, embargoed_until("later", "2091")).await;
    let mut draft = embargoed_until("draft", "2090-01-01");
    draft.status = Status::Inbox;
    put_one(&*store, draft).await;
    put_one(&*store, embargoed_until("past", "2001-01-01")).await;

    assert!(store.embargoes_due(20900228, 10).await.unwrap().is_empty());
    assert_eq!(store.embargoes_due(20900301, 10).await.unwrap(), [soon]);
    // A year-only embargo ends on 31 December.
    assert_eq!(store.embargoes_due(20911230, 10).await.unwrap(), [soon]);
    assert_eq!(store.embargoes_due(20911231, 10).await.unwrap(), [soon, later]);
    assert_eq!(store.embargoes_due(20911231, 1).await.unwrap(), [soon]);

    let (mut r, _) = store.get_record_with_revision(soon).await.unwrap().unwrap();
    r.documents[0].embargo = None;
    store.put_records(vec![write(r)]).await.unwrap();
    let (mut r, _) = store.get_record_with_revision(later).await.unwrap().unwrap();
    r.status = Status::Deletion;
    store.put_records(vec![write(r)]).await.unwrap();
    assert!(store.embargoes_due(20990101, 10).await.unwrap().is_empty());
}

/// New versions point at the record they succeed; its page lists the live
/// ones.
async fn later_versions_of_a_record(store: Arc<dyn RecordStore>) {
    let first = put_one(&*store, rec("first", Status::Archive)).await;
    let mut second = rec("second", Status::Archive);
    second.succeeds = Some(first);
    let second = put_one(&*store, second).await;
    let mut draft = rec("third, in the workarea", Status::Inbox);
    draft.succeeds = Some(first);
    put_one(&*store, draft).await;
    assert_eq!(store.later_versions(first).await.unwrap(), [second]);
    assert!(store.later_versions(second).await.unwrap().is_empty());
    assert_eq!(store.get_record(second).await.unwrap().unwrap().succeeds, Some(first));
}

/// Ids of the records in an OAI set, in id order.
async fn set_members(store: &dyn RecordStore, set: &str) -> Vec<RecordId> {
    let query = arkiv_storage::OaiQuery { set: Some(set.into()), ..Default::default() };
    store.oai_records(&query, 0, 100_000).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect()
}

fn subject(id: &str, parent: Option<&str>) -> Subject {
    Subject { id: id.into(), name: id.to_uppercase(), parent: parent.map(Into::into) }
}

/// A subject moved under another parent takes its records along: every
/// record filed under it or below it (live or withdrawn) leaves the old
/// path's sets and joins the new path's, with a new revision by
/// `system:subjects` that moves its lastmod (harvesters see the change) and
/// enters the change feed (the search index refiles it). Records elsewhere,
/// drafts never live, and the browse tables (own subject ids only) are left
/// alone; a rename or a re-save that moves nothing rewrites nothing.
async fn moving_a_subject_moves_its_records_sets(store: Arc<dyn RecordStore>) {
    let tree = [subject("geo", None), subject("asia", Some("geo")), subject("kz", Some("asia")), subject("econ", None)];
    assert_eq!(store.put_subjects(Scheme::Subjects, &tree).await.unwrap(), 0, "nothing is filed yet");
    let long_ago = Timestamp(1_000_000_000);
    let filed = |title: &str, status: Status, subjects: &[&str]| {
        let mut r = rec(title, status);
        r.subjects = subjects.iter().map(|s| s.to_string()).collect();
        r.lastmod = Some(long_ago);
        r
    };
    let in_kz = put_one(&*store, filed("in kz", Status::Archive, &["kz"])).await;
    let in_asia = put_one(&*store, filed("in asia", Status::Archive, &["asia"])).await;
    let in_both = put_one(&*store, filed("in both", Status::Archive, &["kz", "asia"])).await;
    let withdrawn = put_one(&*store, filed("withdrawn", Status::Archive, &["kz"])).await;
    let mut gone = store.get_record(withdrawn).await.unwrap().unwrap();
    gone.status = Status::Deletion;
    store.put_records(vec![write(gone)]).await.unwrap();
    let draft = put_one(&*store, filed("draft", Status::Inbox, &["kz"])).await;
    let in_econ = put_one(&*store, filed("in econ", Status::Archive, &["econ"])).await;
    let under = [in_kz, in_asia, in_both, withdrawn];
    assert_eq!(set_members(&*store, "subject:geo").await, under);
    assert_eq!(set_members(&*store, "subject:geo:asia:kz").await, [in_kz, in_both, withdrawn]);
    let seq = store.last_change().await.unwrap();
    let revisions: BTreeMap<RecordId, i64> = {
        let mut m = BTreeMap::new();
        for id in under.iter().chain([&draft, &in_econ]) {
            m.insert(*id, store.get_record_with_revision(*id).await.unwrap().unwrap().1);
        }
        m
    };
    let browse_before = store.browse_values(BrowseView::Subject, None, 100).await.unwrap();

    // Asia (with Kazakhstan below it) moves from Geography to Economy.
    let rewritten = store.put_subjects(Scheme::Subjects, &[subject("asia", Some("econ"))]).await.unwrap();
    assert_eq!(set_members(&*store, "subject:econ").await, [in_kz, in_asia, in_both, withdrawn, in_econ]);
    assert_eq!(set_members(&*store, "subject:econ:asia").await, under);
    assert_eq!(set_members(&*store, "subject:econ:asia:kz").await, [in_kz, in_both, withdrawn]);
    for old in ["subject:geo", "subject:geo:asia", "subject:geo:asia:kz"] {
        assert!(set_members(&*store, old).await.is_empty(), "{old} still has members");
    }
    let specs: Vec<String> =
        store.oai_set_specs("", 100).await.unwrap().into_iter().filter(|s| s.starts_with("subject:")).collect();
    assert_eq!(specs, ["subject:econ", "subject:econ:asia", "subject:econ:asia:kz"]);
    let gone = store.get_record(withdrawn).await.unwrap().unwrap();
    assert_eq!(gone.status, Status::Deletion, "still reported deleted in its new sets");
    assert_eq!(rewritten, 4, "each record under asia once, the withdrawn one too");

    // A revision each, by system:subjects, nothing changed but lastmod.
    for id in under {
        let (record, rev) = store.get_record_with_revision(id).await.unwrap().unwrap();
        assert_eq!(rev, revisions[&id] + 1, "record {id}");
        assert!(record.lastmod.unwrap() > long_ago, "record {id}: lastmod moved");
        let last = store.revisions(id).await.unwrap().pop().unwrap();
        assert_eq!(last.actor, "system:subjects");
        assert!(last.changed.is_empty(), "{:?}", last.changed);
        let mut before = store.revisions(id).await.unwrap()[(rev - 2) as usize].record.clone();
        before.lastmod = record.lastmod;
        assert_eq!(before, record, "only lastmod differs");
    }
    for id in [draft, in_econ] {
        assert_eq!(
            store.get_record_with_revision(id).await.unwrap().unwrap().1,
            revisions[&id],
            "record {id} untouched"
        );
    }
    let changed: BTreeSet<RecordId> =
        store.changes_since(seq, 100).await.unwrap().iter().map(|c| c.record_id).collect();
    assert_eq!(changed, under.into_iter().collect(), "one change each in the feed");
    assert_eq!(store.changes_since(seq, 100).await.unwrap().len(), 4);
    // A record's datestamp-range harvest finds it again.
    let recent = arkiv_storage::OaiQuery { from: Some(long_ago.0 + 1), ..Default::default() };
    let harvested: BTreeSet<RecordId> =
        store.oai_records(&recent, 0, 100).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect();
    assert!(under.iter().all(|id| harvested.contains(id)), "{harvested:?}");
    assert!(!harvested.contains(&in_econ));
    assert_eq!(
        store.browse_values(BrowseView::Subject, None, 100).await.unwrap(),
        browse_before,
        "browse keeps own ids"
    );

    // A rename, or the same parent again, moves nothing.
    let seq = store.last_change().await.unwrap();
    assert_eq!(
        store
            .put_subjects(
                Scheme::Subjects,
                &[Subject { id: "asia".into(), name: "Asia".into(), parent: Some("econ".into()) }]
            )
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.put_subjects(Scheme::Subjects, &tree[..1]).await.unwrap(), 0);
    assert_eq!(store.last_change().await.unwrap(), seq);

    // A subject records named before it existed takes its place under a
    // parent: its records follow. A new top-level subject keeps its set.
    let early = put_one(&*store, filed("early", Status::Archive, &["newsub", "top"])).await;
    assert_eq!(set_members(&*store, "subject:newsub").await, [early]);
    assert_eq!(store.put_subjects(Scheme::Subjects, &[subject("top", None)]).await.unwrap(), 0);
    assert_eq!(store.put_subjects(Scheme::Subjects, &[subject("newsub", Some("geo"))]).await.unwrap(), 1);
    assert!(set_members(&*store, "subject:newsub").await.is_empty());
    assert_eq!(set_members(&*store, "subject:geo:newsub").await, [early]);
    assert_eq!(set_members(&*store, "subject:geo").await, [early]);
    assert_eq!(set_members(&*store, "subject:top").await, [early]);
}

/// A move rewrites a subject's records a page at a time within its one
/// transaction, and reaches every one of them however many pages it takes.
async fn moving_a_large_subject_rewrites_every_record_in_pages(store: Arc<dyn RecordStore>) {
    store
        .put_subjects(Scheme::Subjects, &[subject("a", None), subject("b", None), subject("leaf", Some("a"))])
        .await
        .unwrap();
    let batch = (0..1_234)
        .map(|i| {
            let mut r = rec(&format!("r{i}"), Status::Archive);
            r.subjects = vec![if i % 3 == 0 { "a".into() } else { "leaf".into() }];
            write(r)
        })
        .collect();
    let ids = store.put_records(batch).await.unwrap();
    let under_leaf: Vec<RecordId> = ids.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, id)| *id).collect();
    let rewritten = store.put_subjects(Scheme::Subjects, &[subject("leaf", Some("b"))]).await.unwrap();
    assert_eq!(set_members(&*store, "subject:b:leaf").await, under_leaf);
    assert_eq!(set_members(&*store, "subject:b").await, under_leaf);
    assert_eq!(set_members(&*store, "subject:a").await.len(), ids.len() - under_leaf.len());
    assert!(set_members(&*store, "subject:a:leaf").await.is_empty());
    assert_eq!(rewritten, under_leaf.len() as u64, "each once");
}

/// Divisions (issue 25) are a second tree beside the subjects: stored with
/// their tree, read back apart from the subjects, filed in a browse view of
/// their own and in `division:` sets down their path; a division defined
/// after records named it, or moved, carries those records to its new sets.
async fn divisions_are_a_second_tree_with_their_own_sets_and_view(store: Arc<dyn RecordStore>) {
    store.put_subjects(Scheme::Subjects, &[subject("geo", None)]).await.unwrap();
    store.put_subjects(Scheme::Divisions, &[subject("fac", None), subject("dept", Some("fac"))]).await.unwrap();
    let tree = store.subject_tree().await.unwrap();
    let ids = |scheme: Scheme| tree.nodes(scheme).iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(Scheme::Subjects), ["geo"]);
    assert_eq!(ids(Scheme::Divisions), ["fac", "dept"]);
    assert_eq!(store.subjects().await.unwrap().len(), 1, "the subjects alone");

    let mut r = rec("in dept", Status::Archive);
    r.subjects = vec!["geo".into()];
    r.divisions = vec!["dept".into(), "later".into()];
    let id = put_one(&*store, r).await;
    assert_eq!(set_members(&*store, "division:fac").await, [id]);
    assert_eq!(set_members(&*store, "division:fac:dept").await, [id]);
    assert_eq!(set_members(&*store, "division:later").await, [id], "an id not yet defined has its own set");
    assert_eq!(set_members(&*store, "subject:geo").await, [id]);
    let view = store.browse_values(BrowseView::Division, None, 10).await.unwrap();
    assert_eq!(view.iter().map(|v| (v.value.as_str(), v.count)).collect::<Vec<_>>(), [("dept", 1), ("later", 1)]);
    assert_eq!(store.browse_page(BrowseView::Division, "dept", None, 10).await.unwrap().records[0].id, Some(id));

    // Defining `later` under `fac` moves the record from its bare set.
    assert_eq!(store.put_subjects(Scheme::Divisions, &[subject("later", Some("fac"))]).await.unwrap(), 1);
    assert!(set_members(&*store, "division:later").await.is_empty());
    assert_eq!(set_members(&*store, "division:fac:later").await, [id]);
    assert_eq!(set_members(&*store, "subject:geo").await, [id], "its subject sets stay");
}

/// A record's history from before Arkiv (issue 25) goes beneath its
/// revisions: the earlier states become revisions 1.., the record's own
/// are numbered on after them with their changes told against the last
/// earlier state, the current state and an edit on top work as before,
/// and a second import of the same history adds nothing.
async fn earlier_revisions_go_beneath_a_records_own(store: Arc<dyn RecordStore>) {
    use arkiv_storage::history::{EarlierRevision, Prepended};
    let mut r = rec("Final title", Status::Archive);
    r.abstract_text = Some("Abstract".into());
    let id = put_one(&*store, r).await;
    let (current, rev) = store.get_record_with_revision(id).await.unwrap().unwrap();
    assert_eq!(rev, 1);
    let state = |title: &str, status: Status| {
        let mut r = rec(title, status);
        r.id = Some(id);
        r
    };
    let earlier = vec![
        EarlierRevision {
            actor: "eprints:Anna".into(),
            at: Timestamp(1_400_000_100),
            record: state("Draft title", Status::Buffer),
        },
        EarlierRevision {
            actor: "eprints:Anna".into(),
            at: Timestamp(1_400_000_000),
            record: state("First title", Status::Inbox),
        },
    ];
    let seq = store.last_change().await.unwrap();
    assert_eq!(store.prepend_revisions(id, earlier.clone()).await.unwrap(), Prepended::Added(2));
    let revisions = store.revisions(id).await.unwrap();
    let titles: Vec<(i64, &str, &str)> =
        revisions.iter().map(|r| (r.number, r.record.title.as_str(), r.actor.as_str())).collect();
    assert_eq!(
        titles,
        [(1, "First title", "eprints:Anna"), (2, "Draft title", "eprints:Anna"), (3, "Final title", "test")]
    );
    assert_eq!(revisions[1].changed, ["status", "title"], "told against the state before");
    assert_eq!(revisions[2].changed, ["abstract", "datestamp", "status", "title"], "{:?}", revisions[2].changed);
    let (now, rev) = store.get_record_with_revision(id).await.unwrap().unwrap();
    assert_eq!((now, rev), (current.clone(), 3), "the current state is kept, at its new number");
    let changes = store.changes_since(seq, 10).await.unwrap();
    assert_eq!(
        changes.iter().map(|c| (c.record_id, c.revision)).collect::<Vec<_>>(),
        [(id, 3)],
        "followers hear of it"
    );
    // An edit from a form opened before conflicts; one from now lands as 4.
    let mut edited = current.clone();
    edited.title = "Edited".into();
    let stale = RecordWrite { record: edited.clone(), actor: "test".into(), expected_revision: Some(1) };
    assert!(store.put_records(vec![stale]).await.is_err());
    let fresh = RecordWrite { record: edited, actor: "test".into(), expected_revision: Some(3) };
    store.put_records(vec![fresh]).await.unwrap();
    assert_eq!(store.get_record_with_revision(id).await.unwrap().unwrap().1, 4);
    // The same history again, or states that are not earlier, add nothing.
    assert!(matches!(store.prepend_revisions(id, earlier).await.unwrap(), Prepended::NotEarlier { .. }));
    assert_eq!(store.revisions(id).await.unwrap().len(), 4);
    assert_eq!(store.prepend_revisions(id + 1000, vec![]).await.unwrap(), Prepended::Added(0));
    let orphan = vec![EarlierRevision { actor: "x".into(), at: Timestamp(1), record: state("x", Status::Inbox) }];
    assert_eq!(store.prepend_revisions(id + 1000, orphan).await.unwrap(), Prepended::NoRecord);
}

/// Item types that imports on several nodes take at the same moment all
/// land (issue 25): each is merged into the one `meta` row in a write
/// transaction, where reading on one connection and writing on another let
/// the later write drop the earlier's entries.
async fn meta_entries_added_at_once_all_land(store: Arc<dyn RecordStore>) {
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let entry = (format!("type_{i:02}"), format!("Type {i}"));
                store.add_meta_entries("item_types", &[entry]).await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().len(), 1, "each adds its own");
    }
    let stored: BTreeMap<String, String> =
        serde_json::from_str(&store.meta("item_types").await.unwrap().unwrap()).unwrap();
    assert_eq!(stored.len(), 24, "{stored:?}");
    // A name held already is left as it is.
    let again = store.add_meta_entries("item_types", &[("type_00".into(), "Other".into())]).await.unwrap();
    assert!(again.is_empty());
    let stored: BTreeMap<String, String> =
        serde_json::from_str(&store.meta("item_types").await.unwrap().unwrap()).unwrap();
    assert_eq!(stored["type_00"], "Type 0");
}

/// The OAI-PMH token secret, made on first use by whichever node answers
/// a harvest first: of sixteen made at once, every maker gets the same one,
/// and a later one changes nothing (`set_meta` would let a later maker
/// replace the key tokens were already signed with).
async fn a_secret_made_at_once_on_two_nodes_is_one(store: Arc<dyn RecordStore>) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.meta_or_insert("oai_token_key", &format!("key {i}")).await.unwrap() })
        })
        .collect();
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    let stored = store.meta("oai_token_key").await.unwrap().unwrap();
    assert!(got.iter().all(|k| *k == stored), "{got:?} against {stored}");
    assert_eq!(store.meta_or_insert("oai_token_key", "later").await.unwrap(), stored);
}

/// A record that arrives withdrawn with no datestamp (EPrints' deletion
/// buffer exports none) takes its last modification as its datestamp, so
/// OAI-PMH lists it as deleted from the start rather than never knowing it
/// (issue 27); one with no last modification takes the moment of the write.
async fn a_record_imported_as_withdrawn_is_an_oai_deleted_record(store: Arc<dyn RecordStore>) {
    use arkiv_storage::OaiQuery;
    let mut gone = rec("withdrawn in EPrints", Status::Deletion);
    gone.lastmod = Some(Timestamp(1_400_000_000));
    let id = put_one(&*store, gone).await;
    let stored = store.get_record(id).await.unwrap().unwrap();
    assert_eq!(stored.datestamp, Some(Timestamp(1_400_000_000)), "its last modification");
    let listed: Vec<_> =
        store.oai_records(&OaiQuery::default(), 0, 10).await.unwrap().into_iter().map(|r| r.id.unwrap()).collect();
    assert_eq!(listed, [id], "harvesters are told it is gone");
    let undated = put_one(&*store, rec("no lastmod", Status::Deletion)).await;
    assert!(store.get_record(undated).await.unwrap().unwrap().datestamp.is_some());
    let draft = put_one(&*store, rec("a draft", Status::Inbox)).await;
    assert_eq!(store.get_record(draft).await.unwrap().unwrap().datestamp, None, "never live, never in OAI-PMH");
}

/// Usage events are counted exactly once into the aggregates: two roll-ups
/// at once (two nodes) count each hour once, a second roll-up finds nothing
/// left, an event written late for an hour already counted is counted by
/// the next one, and purging keeps what is not counted yet.
async fn usage_is_counted_once_by_concurrent_roll_ups(store: Arc<dyn RecordStore>) {
    use arkiv_model::usage::{file_target, ItemCounts, UsageEvent, UsageKind};
    use arkiv_storage::UsagePeriod;
    let mut paper = rec("A read paper", Status::Archive);
    paper.series = Some("OSW Commentary".into());
    let id = put_one(store.as_ref(), paper).await;
    let hour = 1_718_456_400; // 2024-06-15 13:00 UTC
    let event = |at: i64, kind: UsageKind, visitor: i64| UsageEvent {
        at,
        record_id: id,
        target: if kind == UsageKind::Page { 0 } else { file_target(1, "a.pdf") },
        kind,
        open: true,
        visitor,
    };
    let mut events = Vec::new();
    // 600 visitors, each: a view, a double click on it, a download; in two hours.
    for v in 0..600 {
        let at = hour + (v % 2) * 3600 + v;
        events.extend([
            event(at, UsageKind::Page, v),
            event(at + 5, UsageKind::Page, v),
            event(at + 60, UsageKind::Download, v),
        ]);
    }
    store.add_usage_events(&events).await.unwrap();
    let until = hour + 2 * 3600;
    let (a, b) = tokio::join!(store.roll_up_usage(until), store.roll_up_usage(until));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.events + b.events, 1800, "every event counted once: {a:?} {b:?}");
    assert_eq!(store.roll_up_usage(until).await.unwrap().events, 0, "nothing left");
    let want = ItemCounts { investigations: 1200, unique_investigations: 600, requests: 600, unique_requests: 600 };
    let months = store.item_usage_by_month(id).await.unwrap();
    assert_eq!(months.len(), 1);
    assert_eq!((months[0].month, months[0].counts), (2024 * 12 + 5, want));
    // The aggregates above the item agree: its year, the repository's
    // month, its groups (type, series) by year and month.
    assert_eq!(store.top_items(UsagePeriod::Year(2024), 10).await.unwrap(), vec![(id, want)]);
    assert_eq!(store.top_items(UsagePeriod::Month(2024 * 12 + 5), 10).await.unwrap(), vec![(id, want)]);
    assert_eq!(store.repository_usage_by_month(2024 * 12, 2024 * 12 + 11).await.unwrap()[0].counts, want);
    assert_eq!(store.top_groups("series", 2024, 10).await.unwrap(), vec![("OSW Commentary".to_string(), want)]);
    assert_eq!(store.top_groups("type", 2024, 10).await.unwrap(), vec![("report".to_string(), want)]);
    assert_eq!(store.group_usage_by_month("series", "OSW Commentary").await.unwrap()[0].counts, want);
    // The Item Report's reads: the item's month, by Access_Type (all Open
    // here), and nothing after it.
    let page = store.item_usage_page(2024 * 12, 2024 * 12 + 11, 0, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|r| (r.record_id, r.month, r.open, r.counts)).collect::<Vec<_>>(),
        [(id, 2024 * 12 + 5, true, want)]
    );
    assert!(store.item_usage_page(2024 * 12, 2024 * 12 + 11, id, 10).await.unwrap().is_empty());
    assert_eq!(store.usage_months_available().await.unwrap(), Some((2024 * 12 + 5, 2024 * 12 + 5)));
    let types = store.groups_by_month("type", 2024 * 12, 2024 * 12 + 11).await.unwrap();
    assert_eq!(types.iter().map(|(v, m)| (v.as_str(), m.counts)).collect::<Vec<_>>(), [("report", want)]);
    assert_eq!(store.usage_rolled_through().await.unwrap(), until);

    // A node that wrote late: its event of the first hour counts next time.
    store.add_usage_events(&[event(hour + 1000, UsageKind::Download, 9999)]).await.unwrap();
    assert_eq!(store.roll_up_usage(until).await.unwrap().events, 1);
    assert_eq!(store.item_usage_by_month(id).await.unwrap()[0].counts.requests, 601);
    assert_eq!(store.top_groups("series", 2024, 10).await.unwrap()[0].1.requests, 601);

    // Many items in one hour: the aggregates are written a few hundred
    // rows per statement, every row of them.
    let many: Vec<UsageEvent> =
        (0..600).map(|i| UsageEvent { record_id: 10_000 + i, ..event(hour + 2000, UsageKind::Download, i) }).collect();
    store.add_usage_events(&many).await.unwrap();
    assert_eq!(store.roll_up_usage(until).await.unwrap().events, 600);
    let top = store.top_items(UsagePeriod::Year(2024), 1000).await.unwrap();
    assert_eq!(top.len(), 601);
    assert!(top.iter().filter(|(i, _)| *i >= 10_000).all(|(_, c)| c.requests == 1 && c.unique_requests == 1));
    assert_eq!(store.item_usage_page(0, i64::MAX, 10_000, 1000).await.unwrap().len(), 599);

    // Keys: one per day, the same for every caller.
    let day = hour / 86_400;
    let k1 = store.usage_key(day, "first").await.unwrap();
    let k2 = store.usage_key(day, "second").await.unwrap();
    assert_eq!((k1.as_str(), k2.as_str()), ("first", "first"));
    // An uncounted event of the day keeps its key; counted events go.
    store.add_usage_events(&[event(until + 10, UsageKind::Page, 1)]).await.unwrap();
    let (events_gone, keys_gone) = store.purge_usage(until + 3600, day + 1).await.unwrap();
    assert_eq!((events_gone, keys_gone), (2401, 0));
    store.roll_up_usage(until + 3600).await.unwrap();
    assert_eq!(store.purge_usage(until + 3600, day + 1).await.unwrap(), (1, 1));
}

/// What the harvester keeps (issue 30): a source's progress replaced whole,
/// identifiers looked up by the thousand (past one statement's chunk),
/// entries replaced by a newer harvest, conflicts one per identifier (a
/// newer one replaces the older; a deletion has no incoming record), and
/// the origins OAI-PMH's provenance names, joined to their source.
async fn harvest_progress_entries_conflicts_and_origins(store: Arc<dyn RecordStore>) {
    use arkiv_storage::{HarvestConflict, HarvestSourceRow, HarvestedEntry};
    let source = HarvestSourceRow {
        name: "partner".into(),
        base_url: "https://eprints.partner.example/cgi/oai2".into(),
        set_spec: String::new(),
        prefix: "ep3".into(),
        ..Default::default()
    };
    store.save_harvest_source(&source).await.unwrap();
    let done = HarvestSourceRow {
        harvested_until: Some("2026-12-01T10:00:00Z".into()),
        last_run: Some(Timestamp(1_800_000_000)),
        records: 1500,
        ..source.clone()
    };
    store.save_harvest_source(&done).await.unwrap();
    assert_eq!(store.harvest_source("partner").await.unwrap(), Some(done.clone()));
    assert_eq!(store.harvest_sources().await.unwrap(), vec![done]);
    assert_eq!(store.harvest_source("other").await.unwrap(), None);

    let ids = store
        .put_records(
            (0..1500).map(|i| RecordWrite::new(rec(&format!("r{i}"), Status::Archive), "harvest:partner")).collect(),
        )
        .await
        .unwrap();
    let entries: Vec<HarvestedEntry> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| HarvestedEntry {
            identifier: format!("oai:partner:{i}"),
            record_id: id,
            datestamp: "2026-11-01".into(),
            revision: 1,
            harvested: Timestamp(1_800_000_000),
        })
        .collect();
    store.note_harvested("partner", &entries).await.unwrap();
    let asked: Vec<String> = (0..1600).map(|i| format!("oai:partner:{i}")).collect();
    let found = store.harvested_entries("partner", &asked).await.unwrap();
    assert_eq!(found.len(), 1500, "every known identifier, none of the 100 unknown");
    assert!(store.harvested_entries("elsewhere", &asked).await.unwrap().is_empty(), "by source");
    let newer = HarvestedEntry { datestamp: "2026-12-02".into(), revision: 2, ..entries[7].clone() };
    store.note_harvested("partner", std::slice::from_ref(&newer)).await.unwrap();
    assert_eq!(store.harvested_entries("partner", &["oai:partner:7".to_string()]).await.unwrap(), vec![newer]);

    let mut incoming = rec("Newer at the source", Status::Archive);
    incoming.id = Some(ids[3]);
    let conflict = HarvestConflict {
        source: "partner".into(),
        identifier: "oai:partner:3".into(),
        record_id: ids[3],
        datestamp: "2026-12-02".into(),
        incoming: Some(incoming.clone()),
        found: Timestamp(1_800_000_100),
    };
    let deleted =
        HarvestConflict { identifier: "oai:partner:4".into(), record_id: ids[4], incoming: None, ..conflict.clone() };
    store.put_harvest_conflicts(&[conflict.clone(), deleted.clone()]).await.unwrap();
    let later = HarvestConflict { datestamp: "2026-12-03".into(), found: Timestamp(1_800_000_200), ..conflict.clone() };
    store.put_harvest_conflicts(std::slice::from_ref(&later)).await.unwrap();
    let open = store.harvest_conflicts(10).await.unwrap();
    assert_eq!(open.len(), 2, "one per identifier");
    assert_eq!(open[0].identifier, "oai:partner:4", "oldest first");
    assert_eq!(open[0].incoming, None);
    assert_eq!(open[1].datestamp, "2026-12-03");
    assert_eq!(open[1].incoming.as_ref().unwrap().title, "Newer at the source");
    assert_eq!(store.harvest_conflict("partner", "oai:partner:3").await.unwrap(), Some(later));
    store.drop_harvest_conflict("partner", "oai:partner:3").await.unwrap();
    assert_eq!(store.harvest_conflict("partner", "oai:partner:3").await.unwrap(), None);

    let origins = store.harvest_origins(&[ids[0], ids[7], 999_999]).await.unwrap();
    assert_eq!(origins.len(), 2);
    assert_eq!(origins[0].base_url, "https://eprints.partner.example/cgi/oai2");
    assert_eq!(origins[0].identifier, "oai:partner:0");
    assert_eq!((origins[1].datestamp.as_str(), origins[1].prefix.as_str()), ("2026-12-02", "ep3"));
}

/// The citations a follower renders ahead: a record's row is replaced by
/// its next rendering, and the follower's position lands with the rows it
/// wrote (one transaction), so a follower that stops resumes where its
/// rows end. PostgreSQL cannot store a NUL: refused with the record named,
/// and nothing of the batch written.
async fn stored_citations_are_replaced_with_their_follower_position(store: Arc<dyn RecordStore>) {
    let cite = |id: RecordId, revision: i64, text: &str| StoredCitation {
        record_id: id,
        revision,
        render_key: "1.0-abc".into(),
        text: text.into(),
        html: format!("<i>{text}</i>"),
    };
    assert_eq!(store.stored_citation(7).await.unwrap(), None);
    assert_eq!(store.citations_position("citations_through").await.unwrap(), None);
    store
        .put_citations(&[cite(7, 1, "Nowak (2014)"), cite(8, 3, "Chen (2020)")], "citations_through", "k 10")
        .await
        .unwrap();
    store.put_citations(&[cite(7, 2, "Nowak (2015)")], "citations_through", "k 12").await.unwrap();
    assert_eq!(store.stored_citation(7).await.unwrap(), Some(cite(7, 2, "Nowak (2015)")));
    assert_eq!(store.stored_citation(8).await.unwrap(), Some(cite(8, 3, "Chen (2020)")));
    assert_eq!(store.citations_position("citations_through").await.unwrap().as_deref(), Some("k 12"));
    store.put_citations(&[], "citations_through", "k 20").await.unwrap();
    assert_eq!(store.citations_position("citations_through").await.unwrap().as_deref(), Some("k 20"));
    if store.put_citations(&[cite(9, 1, "fine"), cite(7, 3, "bad\0")], "citations_through", "k 30").await.is_err() {
        assert_eq!(store.stored_citation(9).await.unwrap(), None, "a refused batch writes nothing");
        assert_eq!(store.citations_position("citations_through").await.unwrap().as_deref(), Some("k 20"));
    }
}
