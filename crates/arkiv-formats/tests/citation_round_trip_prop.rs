//! Generated records survive the citation formats (issue 30): a batch
//! exported as BibTeX, RIS or CSL-JSON reads back with the reader of the
//! same format, every record reads, and each field the export carries is
//! equal to the original after the export's own normalisations.
//!
//! The records are plausible ones of the types the three formats carry
//! (article, book, book section, conference item, thesis with a subtype,
//! report, policy and working paper with series and number, dataset,
//! other), each with the fields its type has: a journal article its
//! journal, volume, issue, pages and ISSN; a book its publisher, place,
//! ISBN and page count; a thesis and a report their institution. Text is
//! any letter of any script with punctuation, LaTeX's specials among it
//! (`: { } % & $ # _ \`), and runs of spaces; people have a family and a
//! given name, particles and accents included; bodies have no comma.
//!
//! `normalise_for` applies what the module docs of the corpus round trips
//! (`ris_round_trip.rs`, `bibtex_round_trip.rs`, `json_readers.rs`) list
//! as each export's own losses, and nothing else:
//!
//! * all three: text is read on one line (CSL-JSON keeps an abstract's
//!   and a note's paragraphs); the DOI is bare; `official_url` comes back
//!   as the record's page in the exporting repository, which is what the
//!   exports write there;
//! * RIS: a body whose name is two or three words (no comma) is read as a
//!   person whose name is all family name, after the people (RIS gives an
//!   organisation as an `AU` with no comma; which words of "Anna Kowalska"
//!   are the family name is not guessed);
//! * BibTeX: `year` and `month` only (no day); no language; a thesis is
//!   doctoral or master's (`@phdthesis`, `@mastersthesis`); a report in a
//!   series comes back as `report` (its `type` holds the series); a
//!   dataset or other work is a `@misc`, whose publisher is its
//!   `howpublished` and so comes back as its publication; a `--` in text
//!   comes back as an en dash and `---` as an em dash (LaTeX's ligatures,
//!   documented for titles, and the same in every field the writer escapes);
//! * CSL-JSON: only the first language.
//!
//! The comparison takes the fields these formats carry; what none of them
//! writes (status, subjects, ORCIDs, contributors, documents...) is not
//! generated.

use arkiv_formats::bibtex::BibtexReader;
use arkiv_formats::csl_json::CslJsonReader;
use arkiv_formats::export::{self, fields, fields::Genre, ExportContext};
use arkiv_formats::ris::RisReader;
use arkiv_formats::ReadItem;
use arkiv_model::{CorporateCreator, Creator, PartialDate, PersonName, Record};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Generated records

/// Text of any script with punctuation and LaTeX's specials, sometimes
/// with runs of spaces; trimmed, with a letter in it.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[\\p{{L}}\\p{{N}}ÀÉÎÕÜàéîõüçñßøåłŁžŽ :{{}}%&$#_\\\\.,;!?'\"()/\\-–]{{1,{max}}}"
    ))
    .unwrap()
    .prop_map(|s| s.trim().to_string())
    .prop_filter("no letter", |s| s.chars().any(char::is_alphanumeric))
}

/// Paragraphs, some with a line break inside, as an imported abstract has.
fn paragraphs() -> impl Strategy<Value = String> {
    vec((text(60), option::of(text(40))), 1..4).prop_map(|paras| {
        paras
            .into_iter()
            .map(|(a, b)| match b {
                Some(b) => format!("{a}\n{b}"),
                None => a,
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    })
}

/// A keyword: no comma or semicolon, which the BibTeX and CSL-JSON
/// exports join keywords with.
fn keyword() -> impl Strategy<Value = String> {
    text(25).prop_map(|k| k.replace([',', ';'], " ").trim().to_string()).prop_filter("blank", |k| !k.is_empty())
}

fn date() -> impl Strategy<Value = PartialDate> {
    (1000i32..=2100, option::of((1u8..=12, option::of(1u8..=28)))).prop_map(|(year, md)| PartialDate {
        year,
        month: md.map(|(m, _)| m),
        day: md.and_then(|(_, d)| d),
    })
}

/// A word of a name: capitalised, of any cased script.
fn name_word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]{1,10}",
        "[А-Я][а-я]{1,10}",
        "[ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ][α-ω]{1,8}",
        "[A-Z][a-z]{1,6}-[A-Z][a-z]{1,6}",
        Just("O'Brien".to_string()),
        Just("Łukasiewicz".to_string()),
        Just("Nguyễn".to_string()),
        Just("李".to_string()),
    ]
}

fn person() -> impl Strategy<Value = Creator> {
    let particle = prop_oneof![Just("van"), Just("van der"), Just("de"), Just("de la"), Just("von"), Just("ibn")];
    (option::of(particle), vec(name_word(), 1..3), vec(name_word(), 1..3)).prop_map(|(particle, family, given)| {
        let mut family = family.join(" ");
        if let Some(p) = particle {
            family = format!("{p} {family}");
        }
        Creator { name: PersonName::new(family, given.join(" ")), ..Default::default() }
    })
}

fn body() -> impl Strategy<Value = CorporateCreator> {
    text(50)
        .prop_map(|n| n.replace(',', " ").trim().to_string())
        .prop_filter("blank", |n| n.chars().any(char::is_alphanumeric))
        .prop_map(|name| CorporateCreator { name, id: None })
}

/// A DOI, sometimes with a resolver; `--` among its characters (the
/// `biblatex` crate reads it as an en dash, so the BibTeX reader takes
/// DOIs and URLs as written).
fn doi() -> impl Strategy<Value = String> {
    (
        option::of(prop_oneof![Just("https://doi.org/"), Just("doi:")]),
        "10\\.[0-9]{4,5}/[A-Za-z0-9._;()/:<>-]{1,24}(--)?",
    )
        .prop_map(|(prefix, doi)| format!("{}{doi}", prefix.unwrap_or_default()))
}

const TYPES: &[&str] = &[
    "article",
    "book",
    "book_section",
    "conference_item",
    "thesis",
    "report",
    "policy_paper",
    "working_paper",
    "dataset",
    "other",
];

/// Every optional field, generated for any record; [`record`] keeps those
/// of its type.
#[derive(Debug, Clone)]
struct Parts {
    container: String,
    event_title: Option<String>,
    series: Option<String>,
    volume: Option<String>,
    number: Option<String>,
    pagerange: Option<String>,
    pages: Option<String>,
    publisher: Option<String>,
    place_of_pub: Option<String>,
    institution: String,
    isbn: Option<String>,
    issn: Option<String>,
}

prop_compose! {
    fn parts()(
        (container, event_title, series, volume, number) in (
            text(60),
            option::of(text(60)),
            option::of(text(40)),
            option::of("[0-9]{1,3}"),
            option::of("[0-9]{1,3}|[A-Z]{1,3}[0-9]{1,4}|[0-9]{1,3}/[0-9]{4}"),
        ),
        (pagerange, pages, publisher, place_of_pub, institution, isbn, issn) in (
            option::of("[0-9]{1,4}-[0-9]{1,4}|e[0-9]{3,6}"),
            option::of("[0-9]{2,4}"),
            option::of(text(50)),
            option::of(text(30)),
            text(50),
            option::of("978-[0-9]-[0-9]{2,5}-[0-9]{2,5}-[0-9X]"),
            option::of("[0-9]{4}-[0-9]{3}[0-9X]"),
        ),
    ) -> Parts {
        Parts { container, event_title, series, volume, number, pagerange, pages, publisher, place_of_pub, institution, isbn, issn }
    }
}

prop_compose! {
    fn record()(
        (item_type, thesis_type, title) in (
            proptest::sample::select(TYPES),
            proptest::sample::select(arkiv_model::subtype_keys("thesis")),
            text(120),
        ),
        (creators, corp_creators, editors) in (vec(person(), 0..4), vec(body(), 0..2), vec(person(), 0..3)),
        (date, doi, official_url) in (
            option::of(date()),
            option::of(doi()),
            option::of("https://[a-z]{3,10}\\.org/[a-z0-9/]{1,20}"),
        ),
        (abstract_text, note, keywords, languages) in (
            option::of(paragraphs()),
            option::of(paragraphs()),
            vec(keyword(), 0..5),
            vec(proptest::sample::select(&["en", "de", "fr", "ru", "kk", "pl"][..]), 0..3),
        ),
        p in parts(),
    ) -> Record {
        let mut r = Record::new(item_type, &title);
        r.creators = creators;
        r.corp_creators = corp_creators;
        r.editors = editors;
        r.date = date;
        r.doi = doi;
        r.official_url = official_url;
        r.abstract_text = abstract_text;
        r.note = note;
        r.keywords = keywords;
        r.languages = languages.into_iter().map(str::to_string).collect();
        match item_type {
            "article" => {
                r.publication = Some(p.container);
                (r.volume, r.number, r.pagerange, r.issn, r.publisher) = (p.volume, p.number, p.pagerange, p.issn, p.publisher);
            }
            "book" => {
                (r.publisher, r.place_of_pub, r.isbn, r.pages) = (p.publisher, p.place_of_pub, p.isbn, p.pages);
                (r.series, r.volume) = (p.series, p.volume);
            }
            "book_section" => {
                r.book_title = Some(p.container);
                (r.pagerange, r.publisher, r.place_of_pub, r.isbn, r.series) =
                    (p.pagerange, p.publisher, p.place_of_pub, p.isbn, p.series);
            }
            "conference_item" => {
                r.publication = Some(p.container);
                (r.event_title, r.pagerange, r.publisher, r.place_of_pub, r.isbn) =
                    (p.event_title, p.pagerange, p.publisher, p.place_of_pub, p.isbn);
            }
            "thesis" => {
                r.subtype = Some(thesis_type.to_string());
                (r.place_of_pub, r.pages) = (p.place_of_pub, p.pages);
                r.institution = Some(p.institution);
            }
            "report" | "policy_paper" | "working_paper" => {
                (r.series, r.number, r.place_of_pub, r.pages) = (p.series, p.number, p.place_of_pub, p.pages);
                r.institution = Some(p.institution);
            }
            _ => (r.publisher, r.place_of_pub) = (p.publisher, p.place_of_pub),
        }
        r
    }
}

/// A batch of records with ids, as a repository exports them.
fn batch() -> impl Strategy<Value = Vec<Record>> {
    vec(record(), 1..5).prop_map(|mut records| {
        for (i, r) in records.iter_mut().enumerate() {
            r.id = Some(i as i64 + 1);
        }
        records
    })
}

// ---------------------------------------------------------------------------
// What comes back

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Bibtex,
    Ris,
    CslJson,
}

fn one_line(value: &Option<String>) -> Option<String> {
    fields::text(value).map(fields::one_line).filter(|s| !s.is_empty())
}

fn paragraphs_of(value: &Option<String>) -> Option<String> {
    let paras: Vec<String> =
        fields::text(value)?.split("\n\n").map(fields::one_line).filter(|p| !p.is_empty()).collect();
    (!paras.is_empty()).then(|| paras.join("\n\n"))
}

fn person_one_line(c: &Creator) -> Creator {
    Creator { name: PersonName::new(fields::one_line(&c.name.family), fields::one_line(&c.name.given)), ..c.clone() }
}

/// The record as `format` gives it back: the original with that export's
/// documented losses applied (see the module docs).
fn normalise_for(format: Format, original: &Record) -> Record {
    let mut r = original.clone();
    // Text on one line (CSL-JSON keeps paragraphs of abstracts and notes).
    r.title = fields::one_line(&r.title);
    for field in [
        &mut r.publication,
        &mut r.book_title,
        &mut r.event_title,
        &mut r.series,
        &mut r.volume,
        &mut r.number,
        &mut r.pagerange,
        &mut r.pages,
        &mut r.publisher,
        &mut r.place_of_pub,
        &mut r.institution,
        &mut r.isbn,
        &mut r.issn,
    ] {
        *field = one_line(field);
    }
    if format == Format::CslJson {
        r.abstract_text = paragraphs_of(&r.abstract_text);
        r.note = paragraphs_of(&r.note);
    } else {
        r.abstract_text = one_line(&r.abstract_text);
        r.note = one_line(&r.note);
    }
    r.creators = r.creators.iter().map(person_one_line).collect();
    r.editors = r.editors.iter().map(person_one_line).collect();
    for c in &mut r.corp_creators {
        c.name = fields::one_line(&c.name);
    }
    // CSL-JSON's one string of keywords keeps the spaces inside each.
    if format != Format::CslJson {
        r.keywords = r.keywords.iter().map(|k| fields::one_line(k)).collect();
    }
    // A bare DOI; the record's page as its URL.
    r.doi = fields::bare_doi(original).map(str::to_string);
    r.official_url = Some(ExportContext::example().record_url(original));
    match format {
        Format::Ris => {
            // A body of two or three words is read as a person.
            let (bodies, people): (Vec<_>, Vec<_>) = std::mem::take(&mut r.corp_creators)
                .into_iter()
                .partition(|c| !matches!(c.name.split_whitespace().count(), 2 | 3));
            r.creators.extend(people.into_iter().map(|c| Creator::new(&c.name, "")));
            r.corp_creators = bodies;
        }
        Format::Bibtex => {
            r.date = r.date.map(|d| PartialDate { day: None, ..d });
            r.languages.clear();
            // LaTeX's ligatures, in all text but page ranges and ids.
            let dashes = |s: &mut String| *s = s.replace("---", "—").replace("--", "–");
            dashes(&mut r.title);
            for field in [
                &mut r.publication,
                &mut r.book_title,
                &mut r.event_title,
                &mut r.series,
                &mut r.number,
                &mut r.publisher,
                &mut r.place_of_pub,
                &mut r.institution,
                &mut r.abstract_text,
                &mut r.note,
            ] {
                field.iter_mut().for_each(dashes);
            }
            r.keywords.iter_mut().for_each(dashes);
            r.corp_creators.iter_mut().for_each(|c| dashes(&mut c.name));
            match Genre::of(original) {
                Genre::Thesis => {
                    let masters = fields::is_masters_thesis(original);
                    r.subtype = Some(if masters { "masters" } else { "doctoral" }.into());
                }
                Genre::Report if r.series.is_some() => r.item_type = "report".into(),
                Genre::Dataset | Genre::Other => {
                    r.item_type = "other".into();
                    r.publication = r.publication.take().or(r.publisher.take());
                }
                _ => {}
            }
        }
        Format::CslJson => r.languages.truncate(1),
    }
    r
}

/// The fields the three formats carry, for comparing.
#[derive(Debug, PartialEq, Eq)]
struct Mapped {
    item_type: String,
    subtype: Option<String>,
    title: String,
    creators: Vec<(String, String)>,
    corp_creators: Vec<String>,
    editors: Vec<(String, String)>,
    date: Option<PartialDate>,
    publication: Option<String>,
    book_title: Option<String>,
    event_title: Option<String>,
    series: Option<String>,
    volume: Option<String>,
    number: Option<String>,
    pagerange: Option<String>,
    pages: Option<String>,
    publisher: Option<String>,
    place_of_pub: Option<String>,
    institution: Option<String>,
    doi: Option<String>,
    official_url: Option<String>,
    isbn: Option<String>,
    issn: Option<String>,
    abstract_text: Option<String>,
    keywords: Vec<String>,
    languages: Vec<String>,
    note: Option<String>,
}

fn mapped(r: &Record) -> Mapped {
    let names = |list: &[Creator]| list.iter().map(|c| (c.name.family.clone(), c.name.given.clone())).collect();
    Mapped {
        item_type: r.item_type.clone(),
        subtype: r.subtype().map(str::to_string),
        title: r.title.clone(),
        creators: names(&r.creators),
        corp_creators: r.corp_creators.iter().map(|c| c.name.clone()).collect(),
        editors: names(&r.editors),
        date: r.date,
        publication: r.publication.clone(),
        book_title: r.book_title.clone(),
        event_title: r.event_title.clone(),
        series: r.series.clone(),
        volume: r.volume.clone(),
        number: r.number.clone(),
        pagerange: r.pagerange.clone(),
        pages: r.pages.clone(),
        publisher: r.publisher.clone(),
        place_of_pub: r.place_of_pub.clone(),
        institution: r.institution.clone(),
        doi: r.doi.clone(),
        official_url: r.official_url.clone(),
        isbn: r.isbn.clone(),
        issn: r.issn.clone(),
        abstract_text: r.abstract_text.clone(),
        keywords: r.keywords.clone(),
        languages: r.languages.clone(),
        note: r.note.clone(),
    }
}

fn export_and_read(format: Format, records: &[Record]) -> (String, Vec<ReadItem>) {
    let export_format = match format {
        Format::Bibtex => &export::bibtex::BIBTEX,
        Format::Ris => &export::ris::RIS,
        Format::CslJson => &export::csljson::CSL_JSON,
    };
    let mut out = Vec::new();
    export::write_all(export_format, &ExportContext::example(), records, &mut out).unwrap();
    let items = match format {
        Format::Bibtex => BibtexReader::new(out.as_slice()).collect(),
        Format::Ris => RisReader::new(out.as_slice()).collect(),
        Format::CslJson => CslJsonReader::new(out.as_slice()).collect(),
    };
    (String::from_utf8(out).unwrap(), items)
}

fn round_trip(format: Format, records: &[Record]) -> Result<(), TestCaseError> {
    let (text, items) = export_and_read(format, records);
    prop_assert_eq!(items.len(), records.len(), "{:?}:\n{}", format, text);
    for (i, (original, item)) in records.iter().zip(&items).enumerate() {
        prop_assert_eq!(item.position, i + 1);
        let back = match &item.result {
            Ok(back) => back,
            Err(e) => {
                return Err(TestCaseError::fail(format!("{format:?}: record {} does not read: {e}\n{text}", i + 1)))
            }
        };
        prop_assert!(
            back.unmapped.is_empty(),
            "{:?}: the writer's own fields all have a place: {:?}\n{}",
            format,
            back.unmapped,
            text
        );
        prop_assert_eq!(mapped(&back.record), mapped(&normalise_for(format, original)), "{:?}:\n{}", format, text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn records_come_back_from_bibtex(records in batch()) {
        round_trip(Format::Bibtex, &records)?;
    }

    #[test]
    fn records_come_back_from_ris(records in batch()) {
        round_trip(Format::Ris, &records)?;
    }

    #[test]
    fn records_come_back_from_csl_json(records in batch()) {
        round_trip(Format::CslJson, &records)?;
    }
}
