//! Known-item search on real corpora: a title, a creator, a DOI find their
//! record first; the seed is the first hit for `Kazakhstan Russia
//! integration`. Reads ../shared/corpus (skips when absent, fails under CI).

mod common;

use arkiv_model::{Record, RecordId};
use arkiv_search::{Facet, SearchIndex, SearchRequest, Sort};
use std::collections::{HashMap, HashSet};

fn build(records: &[Record]) -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    index.index_records(records, &HashMap::new()).unwrap();
    index.commit_at(1).unwrap();
    (dir, index)
}

fn first(index: &SearchIndex, q: &str) -> Option<RecordId> {
    let mut req = SearchRequest::new(q);
    req.no_facets = true;
    req.page_size = 3;
    index.search(&req).unwrap().hits.first().map(|h| h.id)
}

fn fold(s: &str) -> String {
    let mut a = arkiv_search::schema::fold_analyzer();
    let mut st = a.token_stream(s);
    let mut out = Vec::new();
    while st.advance() {
        out.push(st.token().text.clone());
    }
    out.join(" ")
}

#[test]
fn known_items_come_first() {
    let Some(dir) = common::corpus_dir() else { return };
    let records = common::all_records(&dir);
    assert!(records.len() > 1000, "{}", records.len());
    let (_tmp, index) = build(&records);
    assert_eq!(index.num_docs(), records.len() as u64);

    // The seed.
    assert_eq!(first(&index, "Kazakhstan Russia integration"), Some(1));
    assert_eq!(first(&index, "kazakhstan's attitude"), Some(1));

    // Titles (every 7th record with a title of 4+ words not shared).
    let mut title_count: HashMap<String, usize> = HashMap::new();
    for r in &records {
        *title_count.entry(fold(&r.title)).or_default() += 1;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for r in records.iter().step_by(7) {
        if r.title.split_whitespace().count() < 4 || title_count[&fold(&r.title)] > 1 {
            continue;
        }
        checked += 1;
        let got = first(&index, &r.title);
        if got != r.id {
            failures.push(format!("title {:?}: got {got:?}, want {:?}", r.title, r.id));
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(failures.is_empty(), "{} of {checked} titles failed:\n{}", failures.len(), failures.join("\n"));

    // DOIs.
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for r in &records {
        let Some(doi) = r.doi.as_deref() else { continue };
        if !seen.insert(doi.to_lowercase()) {
            continue;
        }
        checked += 1;
        for q in [doi.to_string(), format!("doi:{doi}")] {
            let got = first(&index, &q);
            if got != r.id {
                failures.push(format!("DOI {q:?}: got {got:?}, want {:?}", r.id));
            }
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(failures.is_empty(), "{} of {checked} DOIs failed:\n{}", failures.len(), failures.join("\n"));

    // Creators whose family name, as a word, is in the creators of one
    // record only: `creator:Family`, "Family, Given" and "Given Family".
    let mut word_records: HashMap<String, HashSet<RecordId>> = HashMap::new();
    for r in &records {
        let names = r
            .creators
            .iter()
            .chain(&r.editors)
            .map(|c| format!("{} {}", c.name.family, c.name.given))
            .chain(r.corp_creators.iter().map(|c| c.name.clone()));
        for n in names {
            for w in fold(&n).split(' ') {
                word_records.entry(w.to_string()).or_default().insert(r.id.unwrap());
            }
        }
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for r in records.iter().step_by(5) {
        let Some(c) = r.creators.iter().find(|c| {
            let f = fold(&c.name.family);
            f.len() > 3 && !f.contains(' ') && word_records[&f].len() == 1 && !c.name.given.is_empty()
        }) else {
            continue;
        };
        checked += 1;
        let queries =
            [format!("creator:{}", c.name.family), c.name.inverted(), format!("{} {}", c.name.given, c.name.family)];
        for q in queries {
            let got = first(&index, &q);
            if got != r.id {
                failures.push(format!("creator {q:?}: got {got:?}, want {:?}", r.id));
            }
        }
    }
    assert!(checked > 50, "{checked}");
    assert!(failures.is_empty(), "{} of {checked} creators failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn facets_sorting_and_deep_paging_on_the_corpus() {
    let Some(dir) = common::corpus_dir() else { return };
    let records = common::all_records(&dir);
    let (_tmp, index) = build(&records);

    // Everything, newest first, paged by cursor with no gaps or repeats.
    let mut req = SearchRequest::new("");
    req.page_size = 100;
    let mut seen = HashSet::new();
    let mut last_key = i64::MAX;
    let dates: HashMap<RecordId, i64> =
        records.iter().map(|r| (r.id.unwrap(), arkiv_search::schema::date_key(r.date.as_ref()))).collect();
    let mut pages = 0;
    loop {
        let res = index.search(&req).unwrap();
        assert_eq!(res.total, records.len() as u64);
        for h in &res.hits {
            assert!(seen.insert(h.id), "repeated {}", h.id);
            let k = dates[&h.id];
            let k = if k == 0 { i64::MIN } else { k };
            assert!(k <= last_key, "not newest first");
            last_key = k;
        }
        pages += 1;
        match res.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
        req.no_facets = true;
    }
    assert_eq!(seen.len(), records.len());
    assert!(pages >= 12);

    // Facets combine with the query, and filters narrow.
    let mut req = SearchRequest::new("quark");
    let res = index.search(&req).unwrap();
    assert!(res.total > 5);
    let types = &res.facets[&Facet::Type];
    assert_eq!(types.iter().map(|c| c.count).sum::<u64>(), res.total);
    let years = &res.facets[&Facet::Year];
    assert!(years.windows(2).all(|w| w[0].value < w[1].value), "year histogram in order");
    let year = years[0].value.clone();
    req.filters.push((Facet::Year, year.clone()));
    let narrowed = index.search(&req).unwrap();
    assert_eq!(narrowed.total, years[0].count);
    assert!(narrowed.facets[&Facet::Year].iter().all(|c| c.value == year));

    // Title sort is alphabetical (on folded titles).
    let mut req = SearchRequest::new("quark");
    req.sort = Sort::Title;
    req.page_size = 50;
    let res = index.search(&req).unwrap();
    let titles: Vec<String> = res.hits.iter().map(|h| fold(&records[h.id as usize - 1].title)).collect();
    let keys: Vec<&[u8]> = titles.iter().map(|t| &t.as_bytes()[..t.len().min(8)]).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // Snippets highlight the match.
    let res = index.search(&SearchRequest::new("Kazakhstan Russia integration")).unwrap();
    let title = res.hits[0].snippets.iter().find(|s| s.field == "title").expect("title snippet");
    assert!(title.html.contains("<b>Kazakhstan</b>"), "{}", title.html);
}
