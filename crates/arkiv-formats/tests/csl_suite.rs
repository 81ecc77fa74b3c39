//! The CSL test suite's items (`../shared/corpus/csl_testsuite_items_1078.json`:
//! 1078 CSL-JSON items from the citeproc test fixtures, many of them odd on
//! purpose: no title, no type, names with particles or only a given name,
//! dates before year 0, month 60, seasons, ranges, numbers given as strings)
//! through Arkiv's citation code: the formatted citations of every built-in
//! style, and the CSL-JSON export.
//!
//! Arkiv writes CSL-JSON but reads none, so the items become records here,
//! in test code, as the testkit maps arXiv and Zenodo metadata; each record
//! is then held to the rules every way into Arkiv applies
//! (`arkiv_model::validate`). An item either becomes a record or is refused
//! with its position and the field at fault, never a panic.

use arkiv_formats::export::{self, csljson::CSL_JSON, styles, ExportContext};
use arkiv_model::{validate, CorporateCreator, Creator, ItemTypes, PartialDate, Record, Status};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Items of the suite that become records, as measured when this test was
/// written: 654 have a title, and of those 10 are refused (no type, or a
/// date before year 0 or with month -1). A floor, so that a mapping or rule
/// that starts refusing good items is noticed.
const IMPORTED_AT_LEAST: usize = 644;

/// The suite's items, or `None` (skipped; a failure under CI=true) without
/// ../shared.
fn items() -> Option<Vec<Value>> {
    let path = arkiv_testkit::corpus_dir()?.join("csl_testsuite_items_1078.json");
    if !path.is_file() {
        arkiv_testkit::skip(&path.display().to_string());
        return None;
    }
    let items: Vec<Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("a JSON array of items");
    assert_eq!(items.len(), 1078, "the suite's item count");
    Some(items)
}

/// A CSL name as Arkiv keeps names: a person (family, given) or a body.
#[derive(Debug, Clone, PartialEq)]
enum Name {
    Person { family: String, given: String },
    Body(String),
}

/// A text field: a string, or a number (`"volume": 3`); `None` when absent,
/// null or blank; an error for anything else.
fn text(item: &Value, key: &str) -> Result<Option<String>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("{key}: not text but {other}")),
    }
}

/// A CSL name. Particles join the part they belong to (`van` of "van Gogh"
/// to the family name, a dropping particle to the given names); a suffix
/// ("Jr.") has no place in Arkiv's names and is left out. A name with only
/// given names (a mononym such as "Banksy") is kept as a family name, as
/// EPrints keeps them; an institution (`isInstitution`) or a `literal` is a
/// body.
fn name(v: &Value) -> Result<Option<Name>, String> {
    let part = |k: &str| -> Result<String, String> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(other) => Err(format!("name part {k}: not text but {other}")),
        }
    };
    if !v.is_object() {
        return Err(format!("a name is not an object: {v}"));
    }
    let literal = part("literal")?;
    if !literal.is_empty() {
        return Ok(Some(Name::Body(literal)));
    }
    let join = |a: String, b: String| [a, b].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    let family = join(part("non-dropping-particle")?, part("family")?);
    let given = join(part("given")?, part("dropping-particle")?);
    let institution = v.get("isInstitution").is_some_and(|i| i.as_bool() == Some(true) || i.as_str() == Some("true"));
    Ok(match (family.is_empty(), given.is_empty()) {
        (true, true) => None,
        (false, true) if institution => Some(Name::Body(family)),
        (true, false) => Some(Name::Person { family: given, given: String::new() }),
        _ => Some(Name::Person { family, given }),
    })
}

fn names(item: &Value, key: &str) -> Result<Vec<Name>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => {
            list.iter().filter_map(|v| name(v).map_err(|e| format!("{key}: {e}")).transpose()).collect()
        }
        Some(other) => Err(format!("{key}: not a list of names but {other}")),
    }
}

/// Year, month and day of a CSL date, as numbers (not yet checked).
type Ymd = (i64, Option<i64>, Option<i64>);

/// The first date of `issued` (Arkiv keeps one date: a range keeps its
/// start): year, month and day as numbers. Parts may be numbers or numeric
/// strings; an empty string ends the date (`["2000", "", ""]` is 2000).
/// Months 21-24 are CSL's seasons, which Arkiv cannot hold: the year stays.
/// `None` without a date, or for a date given only as text (`literal`,
/// `raw`). A month or day that is no number at all is an error; one that is
/// a number but no calendar's is left for `validate` to refuse.
fn issued(item: &Value) -> Result<Option<Ymd>, String> {
    let Some(date) = item.get("issued").filter(|d| !d.is_null()) else { return Ok(None) };
    let Some(first) = date.get("date-parts").and_then(|p| p.get(0)) else { return Ok(None) };
    let first = first.as_array().ok_or_else(|| format!("issued: a date part is not a list: {first}"))?;
    let mut parts = Vec::new();
    for p in first.iter().take(3) {
        let n = match p {
            Value::Number(n) => n.as_i64().ok_or_else(|| format!("issued: {n} is not a whole number"))?,
            Value::String(s) if s.trim().is_empty() => break,
            Value::String(s) => s.trim().parse().map_err(|_| format!("issued: {s:?} is not a number"))?,
            other => return Err(format!("issued: {other} is not a number")),
        };
        parts.push(n);
    }
    Ok(match parts[..] {
        [] => None,
        [y] => Some((y, None, None)),
        [y, m, ..] if (21..=24).contains(&m) => Some((y, None, None)),
        [y, m] => Some((y, Some(m), None)),
        [y, m, d, ..] => Some((y, Some(m), Some(d))),
    })
}

/// Arkiv's item type for a CSL type; `""` (which `validate` refuses) when
/// the item has none.
fn item_type(csl: &str) -> &'static str {
    match csl {
        "" => "",
        "article" | "article-journal" | "article-magazine" | "article-newspaper" => "article",
        "book" => "book",
        "chapter" | "entry" | "entry-dictionary" | "entry-encyclopedia" => "book_section",
        "paper-conference" => "conference_item",
        "thesis" => "thesis",
        "report" => "report",
        "dataset" => "dataset",
        "patent" => "patent",
        "motion_picture" | "broadcast" => "video",
        "song" => "audio",
        "graphic" => "image",
        _ => "other",
    }
}

/// Item `position` (1-based) as a record, or why not: the item's position
/// and id, then every problem, each naming its field.
fn to_record(item: &Value, position: usize) -> Result<Record, String> {
    let id = item.get("id").map(|v| v.to_string()).unwrap_or_else(|| "none".into());
    let refuse = |problems: Vec<String>| format!("item {position} (id {id}): {}", problems.join("; "));
    if !item.is_object() {
        return Err(refuse(vec![format!("not an object: {item}")]));
    }
    let mapped = (|| -> Result<Record, String> {
        let csl_type = text(item, "type")?.unwrap_or_default();
        let mut r = Record::new(item_type(&csl_type), &text(item, "title")?.unwrap_or_default());
        r.id = Some(position as i64);
        r.status = Status::Archive;
        for n in names(item, "author")? {
            match n {
                Name::Person { family, given } => r.creators.push(Creator::new(&family, &given)),
                Name::Body(name) => r.corp_creators.push(CorporateCreator { name, id: None }),
            }
        }
        for n in names(item, "editor")? {
            if let Name::Person { family, given } = n {
                r.editors.push(Creator::new(&family, &given));
            }
        }
        if let Some((y, m, d)) = issued(item)? {
            let small = |v: i64, what: &str| u8::try_from(v).map_err(|_| format!("issued: {what} {v} is not a {what}"));
            r.date = Some(PartialDate {
                year: i32::try_from(y).map_err(|_| format!("issued: year {y} is not a year"))?,
                month: m.map(|m| small(m, "month")).transpose()?,
                day: d.map(|d| small(d, "day")).transpose()?,
            });
        }
        let container = text(item, "container-title")?;
        match r.item_type.as_str() {
            "book_section" => r.book_title = container,
            "conference_item" => r.event_title = container.or(text(item, "event-title")?.or(text(item, "event")?)),
            _ => r.publication = container,
        }
        r.series = text(item, "collection-title")?;
        r.publisher = text(item, "publisher")?;
        r.place_of_pub = text(item, "publisher-place")?;
        r.volume = text(item, "volume")?;
        r.number = text(item, "issue")?.or(text(item, "number")?);
        r.pagerange = text(item, "page")?;
        r.pages = text(item, "number-of-pages")?;
        r.doi = text(item, "DOI")?;
        r.isbn = text(item, "ISBN")?;
        r.issn = text(item, "ISSN")?;
        r.official_url = text(item, "URL")?;
        r.abstract_text = text(item, "abstract")?;
        r.note = text(item, "note")?;
        r.languages = text(item, "language")?.into_iter().collect();
        Ok(r)
    })();
    let record = mapped.map_err(|e| refuse(vec![e]))?;
    validate(&record, &ItemTypes::default())
        .map_err(|problems| refuse(problems.iter().map(ToString::to_string).collect()))?;
    Ok(record)
}

/// Every item, imported or refused, in order.
fn import(items: &[Value]) -> Vec<Result<Record, String>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match catch_unwind(AssertUnwindSafe(|| to_record(item, i + 1))) {
            Ok(result) => result,
            Err(panic) => panic!("item {}: the import panicked: {}", i + 1, panic_text(&*panic)),
        })
        .collect()
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn every_item_imports_or_is_refused_with_its_position() {
    let Some(items) = items() else { return };
    let results = import(&items);
    let imported = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    eprintln!(
        "{imported} of {} items imported; {} refused, these for more than a missing title:",
        items.len(),
        refused.len()
    );
    for r in refused.iter().filter(|r| !r.ends_with("title: a record needs a title")) {
        eprintln!("  {r}");
    }
    assert!(imported >= IMPORTED_AT_LEAST, "only {imported} items imported; at least {IMPORTED_AT_LEAST} did");
    // Each refusal names the item by its position, then a field and what is
    // wrong with it.
    for (i, result) in results.iter().enumerate() {
        if let Err(e) = result {
            let prefix = format!("item {} (id ", i + 1);
            assert!(e.starts_with(&prefix), "{e}");
            assert!(e.split_once("): ").is_some_and(|(_, why)| why.contains(": ")), "{e}");
        }
    }
    // Known cases, refused for the right reason or let in.
    let outcome = |title: &str, year: i64| {
        let pos = items
            .iter()
            .position(|it| it["title"] == title && issued(it).ok().flatten().is_some_and(|(y, _, _)| y == year))
            .unwrap_or_else(|| panic!("the suite has {title:?} of {year}"));
        &results[pos]
    };
    assert!(outcome("Ignore me", -250).as_ref().is_err_and(|e| e.contains("date: ")), "250 BC: no year Arkiv holds");
    assert!(outcome("BookC", -44).as_ref().is_err_and(|e| e.contains("date: ")));
    let untitled = items.iter().position(|it| it.get("title").is_none()).expect("an item without a title");
    assert!(results[untitled].as_ref().is_err_and(|e| e.contains("title: a record needs a title")));
    let typeless = items.iter().position(|it| it.get("type").is_none() && it.get("title").is_some()).unwrap();
    assert!(results[typeless].as_ref().is_err_and(|e| e.contains("type: a record needs an item type")));
    let banksy = items
        .iter()
        .position(|it| it["author"].as_array().is_some_and(|a| a.iter().any(|n| n == &json!({ "given": "Banksy" }))))
        .expect("Banksy");
    let banksy = results[banksy].as_ref().expect("a mononym imports");
    assert_eq!(banksy.creators[0].name.family, "Banksy");
}

/// Upper case, tags and punctuation out, spaces collapsed: a title as it
/// must still be found in a citation, whatever the style did to its case,
/// quotes and punctuation. Upper, not lower: title case makes the Turkish
/// dotless `ı` an `I`, whose lower case is `i`.
fn comparable(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_alphanumeric() => out.extend(c.to_uppercase()),
            _ => out.push(' '),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_imported_item_renders_in_every_style() {
    let Some(items) = items() else { return };
    let records: Vec<(usize, Record)> =
        import(&items).into_iter().enumerate().filter_map(|(i, r)| r.ok().map(|r| (i + 1, r))).collect();
    let ctx = ExportContext::example();
    // Two threads: hayagriva's processor is CPU work and the suite has
    // thousands of renderings.
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<_> = records.chunks(records.len().div_ceil(2).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let ctx = &ctx;
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for (pos, record) in chunk {
                        for style in styles::STYLES {
                            let rendered = catch_unwind(AssertUnwindSafe(|| styles::render(style.id, record, ctx)));
                            let what = format!("item {pos} ({:?}) in {}", record.title, style.id);
                            match rendered {
                                Err(panic) => failures.push(format!("{what}: panicked: {}", panic_text(&*panic))),
                                Ok(None) => failures.push(format!("{what}: not a built-in style")),
                                Ok(Some(c)) if c.text.is_empty() || c.html.is_empty() => {
                                    failures.push(format!("{what}: empty"))
                                }
                                Ok(Some(c)) if !comparable(&c.text).contains(&comparable(&record.title)) => {
                                    failures.push(format!("{what}: title missing from {:?}", c.text))
                                }
                                Ok(Some(_)) => {}
                            }
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a rendering thread")).collect()
    });
    assert!(records.len() >= IMPORTED_AT_LEAST);
    assert!(
        failures.is_empty(),
        "{} of {} renderings:\n{}",
        failures.len(),
        records.len() * styles::STYLES.len(),
        failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// An item's names as Arkiv's CSL-JSON writes them: people first, then
/// bodies (Arkiv keeps them in two lists).
fn expected_authors(item: &Value) -> Vec<Value> {
    let all = names(item, "author").unwrap();
    let people = all.iter().filter_map(|n| match n {
        Name::Person { family, given } if given.is_empty() => Some(json!({ "family": family })),
        Name::Person { family, given } => Some(json!({ "family": family, "given": given })),
        Name::Body(_) => None,
    });
    let bodies = all.iter().filter_map(|n| match n {
        Name::Body(b) => Some(json!({ "literal": b })),
        Name::Person { .. } => None,
    });
    people.chain(bodies).collect()
}

/// CSL-JSON in, records, CSL-JSON out: each imported item comes back with
/// its title, its authors and the date it was issued (the first date of a
/// range; the year of a season).
#[test]
fn csl_json_round_trip_keeps_title_authors_issued() {
    let Some(items) = items() else { return };
    let imported: Vec<(usize, Record)> =
        import(&items).into_iter().enumerate().filter_map(|(i, r)| r.ok().map(|r| (i, r))).collect();
    let records: Vec<Record> = imported.iter().map(|(_, r)| r.clone()).collect();
    let mut out = Vec::new();
    export::write_all(&CSL_JSON, &ExportContext::example(), &records, &mut out).unwrap();
    let written: Vec<Value> = serde_json::from_slice(&out).expect("the export is one JSON array");
    assert_eq!(written.len(), imported.len());
    let mut failures = Vec::new();
    for ((i, _), back) in imported.iter().zip(&written) {
        let item = &items[*i];
        let what = format!("item {} ({})", i + 1, item["title"]);
        if back["title"].as_str() != text(item, "title").unwrap().as_deref() {
            failures.push(format!("{what}: title {}", back["title"]));
        }
        let authors = back.get("author").and_then(Value::as_array).cloned().unwrap_or_default();
        if authors != expected_authors(item) {
            failures.push(format!("{what}: authors {authors:?}, expected {:?}", expected_authors(item)));
        }
        let expected_issued = issued(item).unwrap().map(|(y, m, d)| {
            let parts: Vec<i64> = [Some(y), m, d].into_iter().flatten().collect();
            json!({ "date-parts": [parts] })
        });
        if back.get("issued") != expected_issued.as_ref() {
            failures.push(format!("{what}: issued {:?}, expected {expected_issued:?}", back.get("issued")));
        }
    }
    assert!(failures.is_empty(), "{} of {} items:\n{}", failures.len(), imported.len(), failures.join("\n"));
}
