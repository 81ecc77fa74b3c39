//! The abstract page's Cite box, over real HTTP, reads the citation the
//! follower rendered ahead (`arkiv_services::citations`) when it is of the
//! record's current revision and today's renderer, and renders its own
//! otherwise. The stored rows are marked here, so the page shows which it
//! used.

mod common;

use arkiv_formats::export::styles;
use arkiv_model::{Creator, PartialDate, Record, RecordId, Status};
use arkiv_services::citations::{catch_up, default_style, render_key, POSITION};
use arkiv_services::{Config, Repository};
use arkiv_storage::{RecordWrite, StoredCitation};

fn paper(title: &str) -> Record {
    let mut r = Record::new("report", title);
    r.status = Status::Archive;
    r.creators.push(Creator::new("Jaroslewlcz", "Aleksandra"));
    r.date = Some(PartialDate { year: 2014, month: None, day: None });
    r.series = Some("OSW Commentary".into());
    r.number = Some("137".into());
    r
}

/// The HTML of the page's formatted citation.
fn cite_box(page: &str) -> &str {
    let start = page.find("<p class=\"formatted-citation\">").expect("a Cite box") + 30;
    &page[start..start + page[start..].find("</p>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_uses_a_current_stored_citation_and_renders_a_stale_one_itself() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    let writes = vec![RecordWrite::new(paper("Less love, more fear"), "test"), RecordWrite::new(paper("Fear"), "test")];
    let ids: Vec<RecordId> = repo.store.put_records(writes).await.unwrap();
    assert_eq!(catch_up(&repo).await.unwrap(), 2);
    let ctx = repo.export_context();
    let key = render_key(&ctx);
    let (current, stale) = (ids[0], ids[1]);
    let mut marked = Vec::new();
    for (id, revision_offset) in [(current, 0), (stale, -1)] {
        let (record, revision) = repo.store.get_record_with_revision(id).await.unwrap().unwrap();
        let real = styles::render(default_style(), &record, &ctx).unwrap();
        marked.push(real.html.clone());
        repo.store
            .put_citations(
                &[StoredCitation {
                    record_id: id,
                    revision: revision + revision_offset,
                    render_key: key.clone(),
                    text: format!("stored {id}"),
                    html: format!("<b>stored {id}</b>"),
                }],
                "test_position",
                "",
            )
            .await
            .unwrap();
    }
    assert!(repo.store.citations_position(POSITION).await.unwrap().is_some());
    let (base, client, _repo) = common::serve(repo).await;
    let page = |path: String| {
        let client = client.clone();
        async move { client.get(path).send().await.unwrap().text().await.unwrap() }
    };

    let shown = page(format!("{base}/{current}/")).await;
    assert_eq!(cite_box(&shown), format!("<b>stored {current}</b>"), "the current stored citation is shown");
    let asked = page(format!("{base}/{current}/?style=mla")).await;
    assert!(cite_box(&asked).contains("Jaroslewlcz, Aleksandra"), "another style is rendered: {}", cite_box(&asked));

    let shown = page(format!("{base}/{stale}/")).await;
    assert_eq!(cite_box(&shown), marked[1], "a citation of another revision is not shown");
    assert!(cite_box(&shown).contains("Jaroslewlcz, A. (2014)"), "{}", cite_box(&shown));
}
