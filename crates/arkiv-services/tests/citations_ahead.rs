//! The Cite box rendered ahead (`arkiv_services::citations`), on SQLite and
//! PostgreSQL: the follower renders every live record's citation in the
//! default style, exactly as the page would; a stored citation is used only
//! for the revision it was rendered from and with today's render key; an
//! edit is followed; a renamed repository (whose name a citation may print)
//! has everything rendered anew.

#[path = "../../arkiv-storage/tests/backends/mod.rs"]
#[allow(dead_code)]
mod backends;

use arkiv_formats::export::styles;
use arkiv_model::{Creator, PartialDate, Record, RecordId, Status};
use arkiv_services::citations::{catch_up, default_style, render_key, stored};
use arkiv_services::settings::Overrides;
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    the_follower_renders_live_records_and_follows_their_changes(fixture(&dir, None).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    backends::with_postgres_url(|url| async move {
        let dir = tempfile::tempdir().unwrap();
        the_follower_renders_live_records_and_follows_their_changes(fixture(&dir, Some(url)).await).await
    })
    .await
}

async fn fixture(dir: &tempfile::TempDir, database: Option<String>) -> Repository {
    let mut config = Config::default();
    if let Some(url) = database {
        config.storage.database = url;
    }
    Repository::init(dir.path(), config).await.unwrap()
}

fn paper(title: &str, status: Status) -> Record {
    let mut r = Record::new("report", title);
    r.status = status;
    r.creators.push(Creator::new("Jaroslewlcz", "Aleksandra"));
    r.date = Some(PartialDate { year: 2014, month: Some(5), day: Some(29) });
    r.series = Some("OSW Commentary".into());
    r.number = Some("137".into());
    r.publisher = Some("OSW Centre for Eastern Studies".into());
    r
}

async fn put(repo: &Repository, record: Record, expected: Option<i64>) -> RecordId {
    let mut write = RecordWrite::new(record, "test");
    write.expected_revision = expected;
    repo.store.put_records(vec![write]).await.unwrap()[0]
}

/// What the page would render itself, and the stored one if it may be used.
async fn rendered_and_stored(
    repo: &Repository,
    id: RecordId,
) -> (styles::FormattedCitation, Option<styles::FormattedCitation>) {
    let ctx = repo.export_context();
    let (record, revision) = repo.store.get_record_with_revision(id).await.unwrap().unwrap();
    let rendered = styles::render(default_style(), &record, &ctx).unwrap();
    (rendered, stored(repo, &ctx, id, revision).await)
}

async fn the_follower_renders_live_records_and_follows_their_changes(repo: Repository) {
    let live = put(&repo, paper("Kazakhstan's attitude towards integration with Russia", Status::Archive), None).await;
    let other = put(&repo, paper("Less love, more fear", Status::Archive), None).await;
    let draft = put(&repo, paper("A draft", Status::Inbox), None).await;
    assert_eq!(rendered_and_stored(&repo, live).await.1, None, "nothing is stored before the follower runs");

    assert_eq!(catch_up(&repo).await.unwrap(), 2, "the two live records, not the draft");
    for id in [live, other] {
        let (rendered, stored) = rendered_and_stored(&repo, id).await;
        assert_eq!(stored.as_ref(), Some(&rendered), "record {id}: the stored citation is the page's own");
        assert!(rendered.text.contains("Jaroslewlcz, A. (2014"), "{}", rendered.text);
    }
    assert_eq!(repo.store.stored_citation(draft).await.unwrap(), None);
    assert_eq!(catch_up(&repo).await.unwrap(), 0, "caught up: nothing to render again");

    // An edit: the row of the earlier revision is not used for the new one.
    let (record, revision) = repo.store.get_record_with_revision(live).await.unwrap().unwrap();
    let mut edited = record.clone();
    edited.title = "Kazakhstan and Russia: less love, more fear".into();
    put(&repo, edited, Some(revision)).await;
    assert_eq!(rendered_and_stored(&repo, live).await.1, None, "a stale citation is never shown");
    assert_eq!(catch_up(&repo).await.unwrap(), 1);
    let (rendered, stored) = rendered_and_stored(&repo, live).await;
    assert!(rendered.text.contains("Kazakhstan and Russia"), "{}", rendered.text);
    assert_eq!(stored, Some(rendered));

    // A renamed repository changes the render key: nothing stored is used
    // until the follower has rendered everything again.
    let key = render_key(&repo.export_context());
    repo.put_settings(&Overrides { name: Some("Another name".into()), ..Default::default() }).await.unwrap();
    assert_ne!(render_key(&repo.export_context()), key);
    assert_eq!(rendered_and_stored(&repo, other).await.1, None);
    assert_eq!(catch_up(&repo).await.unwrap(), 2, "every live record rendered anew");
    let (rendered, stored) = rendered_and_stored(&repo, other).await;
    assert_eq!(stored, Some(rendered));
}
