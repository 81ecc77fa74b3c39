//! The query language on a small hand-made index: fields, operators,
//! prefixes, diacritics both ways, Cyrillic, years, types; and a property
//! test that no input makes the parser or a search fail; odd input (colons,
//! unbalanced quotes, bare operators) gives the expected records and says
//! what was read differently.

use arkiv_model::{CorporateCreator, Creator, PartialDate, Record, RecordId, Status};
use arkiv_search::{Facet, SearchIndex, SearchRequest, Sort};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

fn rec(id: RecordId, title: &str, family: &str, year: i32, ty: &str) -> Record {
    let mut r = Record::new(ty, title);
    r.id = Some(id);
    r.status = Status::Archive;
    r.creators = vec![Creator::new(family, "Anna")];
    r.date = Some(PartialDate::year(year));
    r
}

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<(tempfile::TempDir, SearchIndex)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let index = SearchIndex::open(dir.path()).unwrap();
            let mut a = rec(1, "Integrating Central Asia: the Eurasian Union", "Jarosiéwicz", 2014, "policy_paper");
            a.abstract_text = Some("Kazakhstan and Russia in the customs union.".into());
            a.series = Some("OSW Commentary".into());
            a.number = Some("137".into());
            a.keywords = vec!["Eurasian integration".into()];
            a.languages = vec!["en".into()];
            a.doi = Some("10.1234/osw.137".into());
            let mut b = rec(2, "Интеграция России и Казахстана", "Ярошевич", 2012, "working_paper");
            b.languages = vec!["ru".into()];
            b.abstract_text = Some("Евразийский союз и его экономика.".into());
            let mut c = rec(3, "Polityka energetyczna Polski", "Jarosiewicz", 2010, "report");
            c.corp_creators = vec![CorporateCreator { name: "Ośrodek Studiów Wschodnich".into(), id: None }];
            c.languages = vec!["pl".into()];
            c.isbn = Some("978-83-62936-13-7".into());
            let mut d = rec(4, "Die Energiepolitik Deutschlands: Müller über Gas", "Müller", 2008, "article");
            d.languages = vec!["de".into()];
            let mut e = rec(6, "日本のエネルギー政策と中央アジア", "山田", 2016, "article");
            e.abstract_text = Some("한국의 에너지 정책".into());
            let mut withdrawn = rec(5, "Withdrawn paper on integration", "Nobody", 2011, "article");
            withdrawn.status = Status::Deletion;
            let mut texts = HashMap::new();
            texts.insert(4, "Der Text des Dokuments spricht von Pipelines und Nord Stream.".to_string());
            index.index_records(&[a, b, c, d, e, withdrawn], &texts).unwrap();
            index.commit_at(5).unwrap();
            (dir, index)
        })
        .1
}

fn ids(q: &str) -> Vec<RecordId> {
    let mut ids: Vec<RecordId> = index().search(&SearchRequest::new(q)).unwrap().hits.iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

#[test]
fn diacritics_fold_both_ways() {
    assert_eq!(ids("Jarosiewicz"), vec![1, 3]);
    assert_eq!(ids("Jarosiéwicz"), vec![1, 3]);
    assert_eq!(ids("muller"), vec![4]);
    assert_eq!(ids("Osrodek Studiow"), vec![3]);
    assert_eq!(ids("creator:\"Ośrodek Studiów Wschodnich\""), vec![3]);
}

#[test]
fn cyrillic_is_found_by_cyrillic() {
    assert_eq!(ids("Интеграция"), vec![2]);
    assert_eq!(ids("интеграция казахстана"), vec![2]);
    assert_eq!(ids("Ярошевич"), vec![2]);
    assert_eq!(ids("евразийский"), vec![2]);
    // Russian stemming: other forms of the same words.
    assert_eq!(ids("Казахстан"), vec![2]);
    assert_eq!(ids("интеграции"), vec![2]);
    assert_eq!(ids("title:россия"), vec![2]);
    assert_eq!(ids("Евразийского союза"), vec![2]);
}

#[test]
fn unspaced_scripts_are_found_by_any_word_in_them() {
    assert_eq!(ids("エネルギー政策"), vec![6]);
    assert_eq!(ids("中央アジア"), vec![6]);
    assert_eq!(ids("山田"), vec![6]);
    assert_eq!(ids("에너지"), vec![6]);
    assert_eq!(ids("政策中央"), Vec::<RecordId>::new(), "characters apart are not a match");
}

#[test]
fn stemming_prefixes_phrases_fields() {
    assert_eq!(ids("integration"), vec![1], "stemmed title: Integrating; withdrawn records are not found");
    assert_eq!(ids("integr*"), vec![1]);
    assert_eq!(ids("title:eurasian"), vec![1]);
    assert_eq!(ids("abstract:customs"), vec![1]);
    assert_eq!(ids("\"customs union\""), vec![1]);
    assert_eq!(ids("\"union customs\""), Vec::<RecordId>::new());
    // Phrases are searched by word pairs, in every field a phrase searches.
    assert_eq!(ids("\"russia in the customs union\""), vec![1]);
    assert_eq!(ids("\"russia in the union\""), Vec::<RecordId>::new());
    assert_eq!(ids("\"osw commentary\""), vec![1], "series");
    assert_eq!(ids("\"eurasian integration\""), vec![1], "keyword");
    assert_eq!(ids("\"Jarosiéwicz Anna\""), vec![1, 3], "creators, folded");
    assert_eq!(ids("\"Studiów Wschodnich\""), vec![3], "corporate creator");
    assert_eq!(ids("\"Anna Jarosiewicz\""), Vec::<RecordId>::new(), "pairs keep the order");
    // Found by pairs, highlighted by words.
    let res = index().search(&SearchRequest::new("\"customs union\"")).unwrap();
    let html: String = res.hits[0].snippets.iter().map(|s| s.html.clone()).collect();
    assert!(html.contains("<b>customs</b> <b>union</b>"), "{html}");
    assert_eq!(ids("series:osw"), vec![1]);
    assert_eq!(ids("OSW Commentary 137"), vec![1]);
    assert_eq!(ids("subject:integration"), vec![1]);
    assert_eq!(ids("10.1234/osw.137"), vec![1]);
    assert_eq!(ids("isbn:978-83-62936-13-7"), vec![3]);
    assert_eq!(ids("pipelines"), vec![4], "full text");
    assert_eq!(ids("fulltext:stream"), vec![4]);
    assert_eq!(ids("type:report"), vec![3]);
    assert_eq!(ids("year:2010..2012"), vec![2, 3]);
    assert_eq!(ids("year:2014"), vec![1]);
    assert_eq!(ids("lang:ru"), vec![2]);
    assert_eq!(ids("jarosiewicz AND energetyczna"), vec![3]);
    assert_eq!(ids("jarosiewicz NOT energetyczna"), vec![1]);
    assert_eq!(ids("jarosiewicz -energetyczna"), vec![1]);
    assert_eq!(ids("muller OR Ярошевич"), vec![2, 4]);
    assert_eq!(ids("(muller OR Ярошевич) year:2012"), vec![2]);
    assert_eq!(ids("NOT jarosiewicz"), vec![2, 4, 6]);
}

#[test]
fn any_words_when_none_has_all() {
    let res = index().search(&SearchRequest::new("muller jarosiewicz")).unwrap();
    assert_eq!(res.total, 3);
    assert!(!res.warnings.is_empty());
}

#[test]
fn facets_and_filters() {
    let mut req = SearchRequest::new("");
    let res = index().search(&req).unwrap();
    assert_eq!(res.total, 5);
    let types: Vec<(String, u64)> = res.facets[&Facet::Type].iter().map(|c| (c.value.clone(), c.count)).collect();
    assert_eq!(types.len(), 4);
    assert_eq!(res.facets[&Facet::FullText].iter().find(|c| c.value == "yes").map(|c| c.count), Some(1));
    assert_eq!(
        res.facets[&Facet::Year].iter().map(|c| c.value.as_str()).collect::<Vec<_>>(),
        ["2008", "2010", "2012", "2014", "2016"]
    );
    req.filters = vec![(Facet::Creator, "Jarosiewicz, Anna".into())];
    assert_eq!(index().search(&req).unwrap().hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![3]);
    req.filters = vec![(Facet::Language, "RU".into())];
    assert_eq!(index().search(&req).unwrap().total, 1);
    req.filters = vec![(Facet::Year, "nonsense".into())];
    let res = index().search(&req).unwrap();
    assert_eq!(res.total, 5);
    assert_eq!(res.warnings.len(), 1);
    // Sorting.
    let mut req = SearchRequest::new("");
    req.sort = Sort::Oldest;
    assert_eq!(index().search(&req).unwrap().hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![4, 3, 2, 1, 6]);
    req.sort = Sort::Title;
    assert_eq!(index().search(&req).unwrap().hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![4, 1, 3, 2, 6]);
    // A bad cursor is the first page with a warning.
    req.cursor = Some("garbage".into());
    assert_eq!(index().search(&req).unwrap().warnings.len(), 1);
}

/// Every record the index holds (the withdrawn one is never found): what a
/// query that asks for nothing shows.
const ALL: &[RecordId] = &[1, 2, 3, 4, 6];

/// Odd input as a visitor types or pastes it: each gives the records the
/// visitor would expect, and where the input was read differently from what
/// was typed, a message saying what (`says`: a part of some warning; an
/// empty `says` means no warning at all). `hits: None` marks the two
/// inputs whose hits are not asserted (see their comments).
#[test]
fn hostile_inputs_give_results_or_messages() {
    struct Case {
        q: String,
        hits: Option<&'static [RecordId]>,
        says: &'static [&'static str],
    }
    fn case(q: impl Into<String>, hits: &'static [RecordId], says: &'static [&'static str]) -> Case {
        Case { q: q.into(), hits: Some(hits), says }
    }
    const UNCLOSED_QUOTE: &str = "A quotation mark was not closed";
    const UNCLOSED_PAREN: &str = "A parenthesis was not closed";
    const STRAY_PAREN: &str = "A closing parenthesis had no opening one";
    const SHORT_PREFIX: &str = "a prefix needs at least 2 letters before the *";
    let cases = [
        // Titles pasted with their colon: the colon is not a field.
        case("Integrating Central Asia: the Eurasian Union", &[1], &[]),
        case("Central Asia:", &[1], &[]),
        case("Energiepolitik Deutschlands: Müller", &[4], &[]),
        case("foo:bar:baz", &[], &[]),
        // Nothing to search for: every record, quietly.
        case("", ALL, &[]),
        case(":", ALL, &[]),
        case("::::", ALL, &[]),
        case("/", ALL, &[]),
        case("\\", ALL, &[]),
        case("[]{}^~", ALL, &[]),
        case("!!", ALL, &[]),
        case("&&||", ALL, &[]),
        case("AND", ALL, &[]),
        case("OR OR", ALL, &[]),
        case("NOT", ALL, &[]),
        case("- - -", ALL, &[]),
        case("\u{0}\u{1}\u{7f}", ALL, &[]),
        case("\u{feff}", ALL, &[]),
        case("\u{fffd}", ALL, &[]),
        case("😀 🇵🇱", ALL, &[]),
        // A dangling operator is dropped; the words are searched.
        case("jarosiewicz AND", &[1, 3], &[]),
        case("AND jarosiewicz", &[1, 3], &[]),
        case("OR muller", &[4], &[]),
        case("muller NOT", &[4], &[]),
        // Unbalanced quotes and parentheses: read, and said so.
        case("\"", ALL, &[UNCLOSED_QUOTE]),
        case("\"unbalanced", &[], &[UNCLOSED_QUOTE]),
        case("\"customs union", &[1], &[UNCLOSED_QUOTE]),
        case("title:\"eurasian union", &[1], &[UNCLOSED_QUOTE]),
        case("title:\"", ALL, &[UNCLOSED_QUOTE]),
        case("(", ALL, &[UNCLOSED_PAREN]),
        case("((((", ALL, &[UNCLOSED_PAREN]),
        case("(muller", &[4], &[UNCLOSED_PAREN]),
        case("title:(", ALL, &[UNCLOSED_PAREN]),
        case("title:(eurasian", &[1], &[UNCLOSED_PAREN]),
        case(")", ALL, &[STRAY_PAREN]),
        case("))))", ALL, &[STRAY_PAREN]),
        case("muller)", &[4], &[STRAY_PAREN]),
        // Fields without a usable value.
        case("title:", ALL, &["`title:` needs something after it"]),
        case("year:", ALL, &["`year:` needs something after it"]),
        case("year:abc", ALL, &["`year:abc` is not a year or a range"]),
        case("year:abc muller", &[4], &["`year:abc` is not a year or a range"]),
        // Too-short prefixes are searched as words.
        case("*", ALL, &[SHORT_PREFIX]),
        case("**", ALL, &[SHORT_PREFIX]),
        case("a*", &[], &[SHORT_PREFIX]),
        // Scripts the index has no record in: no hits, no complaint.
        case("日本語のテキスト", &[], &[]),
        case("עברית", &[], &[]),
        case("العربية", &[], &[]),
        case("ελληνικά", &[], &[]),
        case("한국어", &[], &[]),
        case("x\u{200b}y", &[], &[]),
        // Bounds.
        case(
            "integration ".repeat(1000),
            &[1],
            &["The query was cut to its first 1000 characters", "Only the first 32 words of the query were searched"],
        ),
        case(
            "(".repeat(10_000),
            ALL,
            &["The query was cut to its first 1000 characters", "Parentheses nest at most 8 deep"],
        ),
        case(format!("{}muller", "(".repeat(20)), &[4], &["Parentheses nest at most 8 deep", UNCLOSED_PAREN]),
        // Hits not asserted: the message says the group was ignored, yet its
        // last word (`b`) is searched and finds nothing.
        Case { q: "type:(a b)".into(), hits: None, says: &["`type:` takes one value; the group after it was ignored"] },
        // Hits not asserted: a DOI pasted as a link is searched as written
        // (every word of the link), so it does not find the record whose DOI
        // is 10.1234/osw.137.
        Case { q: "https://doi.org/10.1234/osw.137".into(), hits: None, says: &[] },
    ];
    let mut failures = Vec::new();
    for Case { q: query, hits, says } in &cases {
        // Long inputs are named by their start and length in the report.
        let q = match query.char_indices().nth(40) {
            Some((end, _)) => format!("{}… ({} chars)", &query[..end], query.chars().count()),
            None => query.clone(),
        };
        let res = match index().search(&SearchRequest::new(query.clone())) {
            Ok(res) => res,
            Err(e) => {
                failures.push(format!("{q:?}: error {e:#}"));
                continue;
            }
        };
        let mut found: Vec<RecordId> = res.hits.iter().map(|h| h.id).collect();
        found.sort();
        if let Some(hits) = hits {
            if found != *hits || res.total != hits.len() as u64 {
                failures.push(format!("{q:?}: hits {found:?} (total {}), expected {hits:?}", res.total));
            }
        }
        if says.is_empty() && !res.warnings.is_empty() {
            failures.push(format!("{q:?}: expected no message, got {:?}", res.warnings));
        }
        for part in *says {
            if !res.warnings.iter().any(|w| w.contains(part)) {
                failures.push(format!("{q:?}: no message saying {part:?}; got {:?}", res.warnings));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} queries:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

fn mixed_string() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        proptest::sample::select(
            (0x20u8..0x7f).filter(|b| b.is_ascii_punctuation()).map(|b| (b as char).to_string()).collect::<Vec<_>>()
        ),
        proptest::sample::select(vec![
            "title:",
            "creator:",
            "year:",
            "type:",
            "lang:",
            "AND",
            "OR",
            "NOT",
            " ",
            "\"",
            "(",
            ")",
            "*",
            "-",
            "integr",
            "Казахстан",
            "Jarosiéwicz",
            "日本",
            "عرب",
            "ελλη",
            "😀",
            "\u{0}",
            "\t",
            "\n",
            "..",
            "2010",
        ])
        .prop_map(String::from),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-zA-Z0-9]{1,8}",
    ];
    proptest::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_input_fails(q in mixed_string()) {
        let parsed = arkiv_search::query::parse(&q);
        // Anything that parses compiles and runs.
        let res = index().search(&SearchRequest::new(q.clone()));
        prop_assert!(res.is_ok(), "{:?}: {:?} ({:?})", q, res.err(), parsed);
    }

    #[test]
    fn any_string_at_all(q in any::<String>(), cursor in any::<String>(), filter in any::<String>()) {
        let mut req = SearchRequest::new(q);
        req.cursor = Some(cursor);
        req.filters = vec![(Facet::Subject, filter.clone()), (Facet::Year, filter)];
        prop_assert!(index().search(&req).is_ok());
    }
}

/// Creator and series counts (counted by `top_values`, not by Tantivy's
/// facet collector) are exact across index segments: each commit below
/// makes a segment, and the counts must equal those of the records.
#[test]
fn creator_and_series_counts_are_exact_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let mut expected_creators: HashMap<String, u64> = HashMap::new();
    let mut expected_series: HashMap<String, u64> = HashMap::new();
    let mut id = 0;
    for segment in 0..4 {
        let mut batch = Vec::new();
        for i in 0..300 {
            id += 1;
            // Creator k appears in (k % 7 + 1) records of each segment, so
            // the most frequent differ by little and many values tie.
            let k = (i * 31 + segment * 17) % 90;
            let family = format!("Family{k:03}");
            let mut r = rec(id, &format!("Paper {id} on energy"), &family, 2000 + (i % 20), "report");
            r.series = Some(format!("Series/{}", i % 40));
            *expected_creators.entry(format!("{family}, Anna")).or_default() += 1;
            *expected_series.entry(format!("Series/{}", i % 40)).or_default() += 1;
            batch.push(r);
        }
        index.index_records(&batch, &HashMap::new()).unwrap();
        index.commit_at(id).unwrap();
    }
    let res = index.search(&SearchRequest::new("energy")).unwrap();
    assert_eq!(res.total, 1200);
    for (facet, expected) in [(Facet::Creator, &expected_creators), (Facet::Series, &expected_series)] {
        let shown = &res.facets[&facet];
        assert_eq!(shown.len(), facet.max_values().min(expected.len()), "{facet:?}");
        for c in shown {
            assert_eq!(Some(&c.count), expected.get(&c.value), "{facet:?} {}", c.value);
        }
        // The shown values are the most frequent, most frequent first.
        let mut best: Vec<u64> = expected.values().copied().collect();
        best.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(shown.iter().map(|c| c.count).collect::<Vec<_>>(), best[..shown.len()].to_vec(), "{facet:?}");
    }
}

/// Every facet's counts equal those of the records, whether the matches
/// are few (counted one by one) or most of a segment (counted as the
/// totals less the others), across segments, with records replaced since
/// (their old documents deleted but still in the segments), with a filter,
/// and drilling down the subject tree.
#[test]
fn facet_counts_equal_the_records_whatever_the_share_of_matches() {
    use arkiv_model::{Subject, SubjectTree};
    use std::collections::BTreeMap;
    let subject = |id: &str, parent: Option<&str>| Subject {
        id: id.into(),
        name: format!("Subject {id}"),
        parent: parent.map(Into::into),
    };
    let tree = SubjectTree::new(vec![
        subject("geo", None),
        subject("asia", Some("geo")),
        subject("kz", Some("asia")),
        subject("uz", Some("asia")),
        subject("europe", Some("geo")),
        subject("econ", None),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    index.set_subjects(std::sync::Arc::new(tree));
    let types = ["report", "article", "working_paper", "policy_paper"];
    let leaves = ["kz", "uz", "europe", "econ", "asia"];
    let make = |id: i64, version: usize| {
        let i = id as usize + version;
        let word = if i.is_multiple_of(3) { "gas" } else { "energy" };
        let mut r = rec(
            id,
            &format!("Paper {id} on {word}"),
            &format!("Family{}", i % 11),
            2000 + (i % 7) as i32,
            types[i % 4],
        );
        r.languages =
            if i.is_multiple_of(5) { vec!["en".into(), "pl".into()] } else { vec![["en", "pl"][i % 2].into()] };
        r.subjects = vec![leaves[i % 5].into()];
        if i.is_multiple_of(4) {
            r.subjects.push(leaves[(i + 1) % 5].into());
        }
        r.series = Some(format!("Series {}", i % 6));
        r
    };
    let mut records: BTreeMap<i64, Record> = BTreeMap::new();
    for segment in 0..3 {
        let batch: Vec<Record> = (1..=200).map(|n| make(segment * 200 + n, 0)).collect();
        for r in &batch {
            records.insert(r.id.unwrap(), r.clone());
        }
        index.index_records(&batch, &HashMap::new()).unwrap();
        index.commit_at(segment + 1).unwrap();
    }
    // Replace every seventh record: its old document stays, deleted, in its
    // segment.
    let replaced: Vec<Record> = (1..=600).filter(|id| id % 7 == 0).map(|id| make(id, 1)).collect();
    for r in &replaced {
        records.insert(r.id.unwrap(), r.clone());
    }
    index.index_records(&replaced, &HashMap::new()).unwrap();
    index.commit_at(4).unwrap();

    // The path from the root to each of a record's subjects.
    let chains = |r: &Record| -> Vec<Vec<String>> {
        let ancestry = |leaf: &str| -> Vec<String> {
            let mut chain = vec![leaf.to_string()];
            let parent = |s: &str| match s {
                "asia" | "europe" => Some("geo"),
                "kz" | "uz" => Some("asia"),
                _ => None,
            };
            while let Some(p) = parent(chain.last().unwrap()) {
                chain.push(p.to_string());
            }
            chain.reverse();
            chain
        };
        r.subjects.iter().map(|s| ancestry(s)).collect()
    };
    let is_under =
        |chain: &[String], path: &[&str]| chain.len() >= path.len() && chain.iter().zip(path).all(|(a, b)| a == b);
    // The children of `path` a record's subjects are under.
    let subjects_under = |r: &Record, path: &[&str]| -> Vec<String> {
        let mut out: Vec<String> = chains(r)
            .into_iter()
            .filter(|c| c.len() > path.len() && is_under(c, path))
            .map(|c| c[path.len()].clone())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    for (query, filter, path) in [
        ("energy", None, vec![]),
        ("gas", None, vec![]),
        ("energy", Some("report"), vec![]),
        ("paper", None, vec!["geo"]),
        ("gas", None, vec!["geo", "asia"]),
    ] {
        let mut req = SearchRequest::new(query);
        if let Some(t) = filter {
            req.filters.push((Facet::Type, t.into()));
        }
        if let Some(last) = path.last() {
            req.filters.push((Facet::Subject, last.to_string()));
        }
        let res = index.search(&req).unwrap();
        let matching: Vec<&Record> = records
            .values()
            .filter(|r| query == "paper" || r.title.ends_with(query))
            .filter(|r| filter.is_none_or(|t| r.item_type == t))
            .filter(|r| chains(r).iter().any(|c| is_under(c, &path)))
            .collect();
        assert_eq!(res.total, matching.len() as u64, "{query} {filter:?} {path:?}");
        let mut expected: BTreeMap<Facet, BTreeMap<String, u64>> = BTreeMap::new();
        for r in &matching {
            let mut add = |f: Facet, v: String| *expected.entry(f).or_default().entry(v).or_default() += 1;
            add(Facet::Type, r.item_type.clone());
            add(Facet::Year, r.year().unwrap().to_string());
            add(Facet::Creator, format!("{}, Anna", r.creators[0].name.family));
            add(Facet::Series, r.series.clone().unwrap());
            add(Facet::FullText, "no".into());
            for l in &r.languages {
                add(Facet::Language, l.clone());
            }
            for s in subjects_under(r, &path) {
                add(Facet::Subject, s);
            }
        }
        for facet in Facet::ALL {
            let shown: BTreeMap<String, u64> = res.facets[&facet].iter().map(|c| (c.value.clone(), c.count)).collect();
            assert_eq!(shown, expected.remove(&facet).unwrap_or_default(), "{facet:?} for {query} {filter:?} {path:?}");
        }
    }
}

/// Paging by relevance with the cursor (block-max WAND skipping what cannot
/// reach the page) visits every match once, in the order of one long page,
/// though most scores tie (broken by id) and the matches span several
/// segments.
#[test]
fn relevance_pages_by_cursor_visit_every_match_once() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    for segment in 0..3i64 {
        // In descending ids, so that a segment's document order is not the
        // order of ids that breaks ties.
        let batch: Vec<Record> = (1..=30)
            .rev()
            .map(|n| {
                let id = segment * 30 + n;
                // Three title lengths, so scores take few values and tie a lot.
                let title = ["energy", "energy security", "energy security in europe"][(id % 3) as usize];
                rec(id, title, "Family", 2000, "report")
            })
            .collect();
        index.index_records(&batch, &HashMap::new()).unwrap();
        index.commit_at(segment + 1).unwrap();
    }
    let mut long = SearchRequest::new("energy");
    long.page_size = 100;
    let all: Vec<RecordId> = index.search(&long).unwrap().hits.iter().map(|h| h.id).collect();
    assert_eq!(all.len(), 90);
    let mut paged = Vec::new();
    let mut req = SearchRequest::new("energy");
    req.page_size = 7;
    loop {
        let page = index.search(&req).unwrap();
        paged.extend(page.hits.iter().map(|h| h.id));
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
        assert!(paged.len() <= 90, "paging does not end");
    }
    assert_eq!(paged, all);
}
