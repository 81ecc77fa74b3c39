//! The index directory: versions, a broken CURRENT pointer, and results as
//! JSON for an API handler.

use arkiv_model::{Record, Status};
use arkiv_search::{Facet, SearchIndex, SearchRequest};
use std::collections::HashMap;

fn record(id: i64, title: &str) -> Record {
    let mut r = Record::new("report", title);
    r.id = Some(id);
    r.status = Status::Archive;
    r
}

#[test]
fn an_index_of_another_version_is_replaced_and_refilled_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    {
        let index = SearchIndex::open(root).unwrap();
        index.index_records(&[record(1, "Energy security")], &HashMap::new()).unwrap();
        index.commit_at(7).unwrap();
        assert_eq!(index.indexed_seq(), 7);
    }
    {
        let index = SearchIndex::open(root).unwrap();
        assert_eq!(index.indexed_seq(), 7, "reopened at its committed sequence");
        assert_eq!(index.num_docs(), 1);
    }
    // Pretend an older Arkiv wrote it.
    let current = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    {
        let old = tantivy::Index::open_in_dir(root.join(current.trim())).unwrap();
        let mut w: tantivy::IndexWriter = old.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut c = w.prepare_commit().unwrap();
        c.set_payload(r#"{"version":0,"seq":7}"#);
        c.commit().unwrap();
    }
    let index = SearchIndex::open(root).unwrap();
    assert_eq!(index.indexed_seq(), 0);
    assert_eq!(index.num_docs(), 0);
    assert_ne!(std::fs::read_to_string(root.join("CURRENT")).unwrap(), current);
    drop(index);

    // A CURRENT naming nothing starts afresh too.
    std::fs::write(root.join("CURRENT"), "../../etc").unwrap();
    let index = SearchIndex::open(root).unwrap();
    assert_eq!(index.indexed_seq(), 0);
}

#[test]
fn results_serialize_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    index.index_records(&[record(1, "Energy <security> & gas"), record(2, "Gas pipelines")], &HashMap::new()).unwrap();
    index.commit().unwrap();
    let mut req = SearchRequest::new("gas");
    req.page_size = 1;
    let res = index.search(&req).unwrap();
    let json = serde_json::to_value(&res).unwrap();
    assert_eq!(json["total"], 2);
    assert!(json["facets"]["type"].is_array(), "{json}");
    assert!(json["next_cursor"].is_string());
    let html = &res.hits.iter().flat_map(|h| &h.snippets).map(|s| s.html.clone()).collect::<String>();
    assert!(!html.contains("<security>"), "snippets are escaped: {html}");
    // A request reads from JSON too.
    let req: SearchRequest =
        serde_json::from_str(r#"{"query":"gas","filters":[["type","report"]],"sort":"title"}"#).unwrap();
    assert_eq!(req.filters, vec![(Facet::Type, "report".to_string())]);
    assert_eq!(index.search(&req).unwrap().total, 2);
}

#[test]
fn page_five_thousand_by_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let records: Vec<Record> = (1..=10_002).map(|i| record(i, &format!("{i:08} report"))).collect();
    index.index_records(&records, &HashMap::new()).unwrap();
    index.commit().unwrap();
    let mut req = SearchRequest::new("report");
    req.sort = arkiv_search::Sort::Title;
    req.page_size = 2;
    req.no_facets = true;
    // Page 1, then the cursor of page 4,999's last hit (record 9,998): page 5,000.
    let first = index.search(&req).unwrap();
    assert_eq!(first.total, 10_002);
    assert_eq!(first.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 2]);
    let at =
        |i: i64| arkiv_search::Cursor { key: arkiv_search::schema::title_key(&format!("{i:08} report")), id: i as u64 };
    req.cursor = Some(at(9_998).encode());
    let t = std::time::Instant::now();
    let page = index.search(&req).unwrap();
    eprintln!("page 5,000 in {:?}", t.elapsed());
    assert_eq!(page.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![9_999, 10_000]);
    // Following its cursor gives the last page, which has none.
    req.cursor = page.next_cursor;
    let last = index.search(&req).unwrap();
    assert_eq!(last.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![10_001, 10_002]);
    assert_eq!(last.next_cursor, None);
}
