//! Reading CSL-JSON, the citation data of Zotero, Mendeley, pandoc and
//! every Citation Style Language processor: the inverse of
//! [`crate::export::csljson`], one item at a time.
//!
//! A file is one JSON array of items, JSON Lines (one item per line) or a
//! single item; the shared splitter (`json_items`, also Crossref's and
//! DataCite's) finds each item without parsing the file as a whole, so a
//! file of any size is read in the space of its largest item, and a broken
//! item is an error of its own while the others read. See its docs for
//! the bounds ([`MAX_ITEM_BYTES`], [`MAX_DEPTH`]).
//!
//! Each CSL type comes back as the Arkiv type the writer makes it from:
//!
//! * `article-journal` (and `article`, `article-magazine`,
//!   `article-newspaper`) → `article`; `book` → `book`; `chapter` (and the
//!   `entry-*` types) → `book_section`; `paper-conference` and `speech` →
//!   `conference_item`; `dataset`; `patent`; `document` → `other`;
//!   `motion_picture`, `broadcast` → `video`; `song` → `audio`; `graphic`,
//!   `map`, `figure` → `image`;
//! * `report` with its `genre`: the repository's report type of that label
//!   ("Policy Paper"), else a monograph of the subtype of that label
//!   ("Technical Report"), else plain `report` (the genre kept);
//! * `thesis` with its `genre` ("Masters thesis") → subtype `masters`;
//! * any other type (`webpage`, `legal_case`, `manuscript`...) → `other`,
//!   the CSL type kept in `record.extra` and named in a warning.
//!
//! Fields: `title`; `author` `{family, given}` → creators (particles and
//! suffixes joined to the names), `{literal}` → corporate creators;
//! `editor` → editors; `translator`, `illustrator`, `interviewer`,
//! `composer`, `director` → contributors with their MARC relator;
//! `issued` → date, to the precision its `date-parts` give (a range keeps
//! its start, with a warning); `container-title` → a chapter's book, else
//! the journal or proceedings (`publication`); `collection-title` →
//! series; `collection-number`, `number` and `issue` → number;
//! `publisher` → a report's or thesis's issuing body (`institution`), else
//! the publisher; `publisher-place`, `volume`, `page` (pagerange),
//! `number-of-pages` (pages), `event-title` (or the older `event`), `DOI`
//! (bare), `ISBN`, `ISSN`, `URL` (`official_url`), `abstract`, `keyword`
//! (a string the writer joins with commas, or an array), `language`,
//! `note`. The item's `id` and `citation-key` are a file's own keys and are
//! not kept. Everything else (`accessed`, `edition`, `title-short`...) is
//! kept in `record.extra` as an element of its name whose text is the value
//! (its JSON unless a string), named in [`ImportedRecord::unmapped`] and in
//! one warning: nothing read is lost silently.
//!
//! An item the model refuses ([`arkiv_model::validate`]: no title, an
//! unknown item type, text with control characters...) is an `Err` item.

#[path = "json_items.rs"]
pub(crate) mod items;

use crate::{ImportedRecord, ReadItem};
use arkiv_model::{Contributor, CorporateCreator, Creator, ItemTypes, Record, Status};
use items::{JsonItems, ListPaths, Mapper};
pub use items::{MAX_DEPTH, MAX_ITEM_BYTES};
use serde_json::{Map, Value};
use std::io::BufRead;

/// Reads CSL-JSON items (one array, JSON Lines, or a single item), one
/// [`ReadItem`] each; see the module docs.
pub struct CslJsonReader<R: BufRead> {
    items: JsonItems<R>,
    types: ItemTypes,
}

impl<R: BufRead> CslJsonReader<R> {
    /// A reader that checks records against the built-in item types.
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }
    /// A reader for a repository with these item types: a report's `genre`
    /// names one of them by its label, and records are checked against
    /// them.
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        CslJsonReader { items: JsonItems::new(reader, ListPaths::NONE), types }
    }
}

impl<R: BufRead> Iterator for CslJsonReader<R> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        let raw = self.items.next()?;
        Some(items::read_item(raw, &self.types, map_item))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Report,
    Thesis,
    Chapter,
    Other,
}

/// Maps one CSL-JSON item to the model; see the module docs.
pub(crate) fn map_item(mut item: Map<String, Value>, types: &ItemTypes) -> Result<ImportedRecord, String> {
    let mut m = Mapper::default();
    let csl_type = item.remove("type");
    let type_name = items::text(csl_type.as_ref()).unwrap_or_default();
    let (kind, item_type, subtype) = match type_name.as_str() {
        "article-journal" | "article" | "article-magazine" | "article-newspaper" => (Kind::Other, "article", None),
        "book" => (Kind::Other, "book", None),
        "chapter" | "entry" | "entry-dictionary" | "entry-encyclopedia" => (Kind::Chapter, "book_section", None),
        "paper-conference" => (Kind::Other, "conference_item", None),
        "speech" => (Kind::Other, "conference_item", Some("speech")),
        "thesis" => (Kind::Thesis, "thesis", None),
        "report" => (Kind::Report, "report", None),
        "dataset" => (Kind::Other, "dataset", None),
        "patent" => (Kind::Other, "patent", None),
        "document" => (Kind::Other, "other", None),
        "motion_picture" | "broadcast" => (Kind::Other, "video", None),
        "song" => (Kind::Other, "audio", None),
        "graphic" | "map" | "figure" => (Kind::Other, "image", None),
        "" => {
            m.warn("no CSL type; read as other".into());
            (Kind::Other, "other", None)
        }
        other => {
            m.warn(format!("CSL type {other:?} has no item type of its own; read as other"));
            m.unmapped("type", csl_type.as_ref().unwrap_or(&Value::Null));
            (Kind::Other, "other", None)
        }
    };
    let mut r = Record { item_type: item_type.into(), status: Status::Archive, ..Default::default() };
    r.subtype = subtype.map(str::to_string);
    let mut title = None;
    for (key, value) in item {
        if items::is_empty(&value) {
            continue;
        }
        let t = || items::text(Some(&value));
        match key.as_str() {
            "id" | "citation-key" => {}
            "title" => m.single(&mut title, &key, t()),
            "author" => names(&mut m, &key, &value, |n| match n {
                Name::Person(c) => r.creators.push(c),
                Name::Literal(s) => r.corp_creators.push(CorporateCreator { name: s, id: None }),
            }),
            "editor" => names(&mut m, &key, &value, |n| match n {
                Name::Person(c) => r.editors.push(c),
                Name::Literal(s) => r.editors.push(items::person(&s, "")),
            }),
            "translator" | "illustrator" | "interviewer" | "composer" | "director" => {
                let code = match key.as_str() {
                    "translator" => "TRL",
                    "illustrator" => "ILL",
                    "interviewer" => "IVR",
                    "composer" => "CMP",
                    _ => "DRT",
                };
                names(&mut m, &key, &value, |n| {
                    let person = match n {
                        Name::Person(c) => c,
                        Name::Literal(s) => items::person(&s, ""),
                    };
                    r.contributors.push(Contributor { role: format!("{}{code}", items::RELATOR), person });
                })
            }
            "issued" => match items::date_parts(&value) {
                Some((date, range)) => {
                    if range {
                        m.warn("issued is a range; its start is the date".into());
                        m.unmapped(&key, &value);
                    }
                    r.date = Some(date);
                }
                None => {
                    m.warn("issued holds no date the model can keep; kept verbatim".into());
                    m.unmapped(&key, &value);
                }
            },
            "container-title" if kind == Kind::Chapter => m.single(&mut r.book_title, &key, t()),
            "container-title" => m.single(&mut r.publication, &key, t()),
            "collection-title" => m.single(&mut r.series, &key, t()),
            "collection-number" | "number" | "issue" => m.single(&mut r.number, &key, t()),
            "publisher" if matches!(kind, Kind::Report | Kind::Thesis) => m.single(&mut r.institution, &key, t()),
            "publisher" => m.single(&mut r.publisher, &key, t()),
            "publisher-place" => m.single(&mut r.place_of_pub, &key, t()),
            "volume" => m.single(&mut r.volume, &key, t()),
            "page" => m.single(&mut r.pagerange, &key, t()),
            "number-of-pages" => m.single(&mut r.pages, &key, t()),
            "event-title" | "event" => m.single(&mut r.event_title, &key, t()),
            "genre" if kind == Kind::Report => match t().and_then(|g| crate::labels::report_kind(&g, types)) {
                Some((item_type, subtype)) => {
                    r.item_type = item_type;
                    r.subtype = subtype;
                }
                None => m.unmapped(&key, &value),
            },
            "genre" if kind == Kind::Thesis => match t().as_deref().and_then(crate::labels::thesis_kind) {
                Some(subtype) => r.subtype = subtype.map(str::to_string),
                None => m.unmapped(&key, &value),
            },
            "DOI" => match t() {
                Some(v) => {
                    let doi = items::doi(&mut m, &key, &v);
                    m.single(&mut r.doi, &key, doi);
                }
                None => m.unmapped(&key, &value),
            },
            "ISBN" => m.single(&mut r.isbn, &key, t()),
            "ISSN" => m.single(&mut r.issn, &key, t()),
            "URL" => m.single(&mut r.official_url, &key, t()),
            "abstract" => {
                let text = value.as_str().and_then(items::paragraphs);
                m.single(&mut r.abstract_text, &key, text)
            }
            "keyword" => match &value {
                Value::String(s) => {
                    r.keywords.extend(s.split([',', ';']).map(str::trim).filter(|k| !k.is_empty()).map(str::to_string))
                }
                other => r.keywords.extend(items::texts(Some(other))),
            },
            "language" => r.languages.extend(t()),
            "note" => {
                let text = value.as_str().and_then(items::paragraphs);
                m.single(&mut r.note, &key, text)
            }
            _ => m.unmapped(&key, &value),
        }
    }
    r.title = title.unwrap_or_default();
    Ok(m.finish(r))
}

pub(crate) enum Name {
    Person(Creator),
    Literal(String),
}

/// The names of a CSL name list: `{family, given}` (with particles and
/// suffix) a person, `{literal}` a literal name.
fn names(m: &mut Mapper, key: &str, value: &Value, mut each: impl FnMut(Name)) {
    let Some(list) = value.as_array() else {
        m.unmapped(key, value);
        return;
    };
    for n in list {
        let field = |k: &str| items::text(n.get(k)).unwrap_or_default();
        let (family, given, literal) = (field("family"), field("given"), field("literal"));
        if family.is_empty() && given.is_empty() {
            if literal.is_empty() {
                m.warn(format!("a name in {key} has no family, given or literal name; kept verbatim"));
                m.unmapped(key, n);
            } else {
                each(Name::Literal(literal));
            }
            continue;
        }
        let join = |a: String, b: String, sep: &str| match (a.is_empty(), b.is_empty()) {
            (false, false) => format!("{a}{sep}{b}"),
            (true, _) => b,
            (_, true) => a,
        };
        let family = join(field("non-dropping-particle"), family, " ");
        let given = join(given, field("dropping-particle"), " ");
        let given = join(given, field("suffix"), ", ");
        each(Name::Person(items::person(&family, &given)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_checks::{err, ok, outline};

    fn read(text: &str) -> Vec<ReadItem> {
        CslJsonReader::new(text.as_bytes()).collect()
    }

    const ARTICLE: &str = r#"[
{"id":"jaroslewicz2014","type":"article-journal","title":"Kazakhstan's attitude",
 "author":[{"family":"Jaroslewicz","given":"Aleksandra"},{"family":"Beethoven","given":"Ludwig","non-dropping-particle":"van"},{"literal":"OSW Centre for Eastern Studies"}],
 "editor":[{"family":"Editor","given":"Ed"}],
 "container-title":"Journal of Eurasian Studies","volume":"5","issue":"2","page":"101-117",
 "issued":{"date-parts":[[2014,"5"]]},"DOI":"https://doi.org/10.1016/j.euras.2014.05.001",
 "ISSN":"1879-3665","publisher":"Elsevier","publisher-place":"Amsterdam","URL":"https://example.org/a",
 "abstract":"Less   love,\nmore fear.","keyword":"Kazakhstan, Eurasian Economic Union","language":"en",
 "note":"Open access.","accessed":{"date-parts":[[2020,1,1]]},"title-short":"Kazakhstan"},
{"type":"report","title":"Russia's long war","collection-title":"OSW Commentary","collection-number":"137",
 "genre":"Policy Paper","publisher":"Centre for Eastern Studies"},
{"type":"thesis","title":"Water","genre":"Masters thesis","publisher":"Nazarbayev University"},
{"type":"webpage","title":"A page"}
]"#;

    #[test]
    fn items_of_each_kind() {
        let items = read(ARTICLE);
        assert_eq!(outline(&items), [(1, true), (2, true), (3, true), (4, true)]);
        assert_eq!(items[1].line, Some(10));
        let imported = ok(&items[0]);
        let r = &imported.record;
        assert_eq!((r.item_type.as_str(), r.status), ("article", Status::Archive));
        assert_eq!(r.title, "Kazakhstan's attitude");
        let names: Vec<_> = r.creators.iter().map(|c| c.name.inverted()).collect();
        assert_eq!(names, ["Jaroslewicz, Aleksandra", "van Beethoven, Ludwig"]);
        assert_eq!(r.corp_creators[0].name, "OSW Centre for Eastern Studies");
        assert_eq!(r.editors[0].name.inverted(), "Editor, Ed");
        assert_eq!(r.publication.as_deref(), Some("Journal of Eurasian Studies"));
        assert_eq!((r.volume.as_deref(), r.number.as_deref()), (Some("5"), Some("2")));
        assert_eq!(r.pagerange.as_deref(), Some("101-117"));
        assert_eq!(r.date.unwrap().to_string(), "2014-05");
        assert_eq!(r.doi.as_deref(), Some("10.1016/j.euras.2014.05.001"));
        assert_eq!((r.issn.as_deref(), r.publisher.as_deref()), (Some("1879-3665"), Some("Elsevier")));
        assert_eq!(r.place_of_pub.as_deref(), Some("Amsterdam"));
        assert_eq!(r.official_url.as_deref(), Some("https://example.org/a"));
        assert_eq!(r.abstract_text.as_deref(), Some("Less love, more fear."));
        assert_eq!(r.keywords, ["Kazakhstan", "Eurasian Economic Union"]);
        assert_eq!((r.languages.as_slice(), r.note.as_deref()), (&["en".to_string()][..], Some("Open access.")));
        assert_eq!(imported.unmapped, ["accessed", "title-short"]);
        assert_eq!(r.extra[1].xml, "<title-short>Kazakhstan</title-short>");
        assert!(imported.warnings.iter().any(|w| w.contains("accessed, title-short")), "{:?}", imported.warnings);

        let paper = &ok(&items[1]).record;
        assert_eq!(paper.item_type, "policy_paper");
        assert_eq!((paper.series.as_deref(), paper.number.as_deref()), (Some("OSW Commentary"), Some("137")));
        assert_eq!(
            (paper.institution.as_deref(), paper.publisher.as_deref()),
            (Some("Centre for Eastern Studies"), None)
        );
        let thesis = &ok(&items[2]).record;
        assert_eq!(
            (thesis.subtype.as_deref(), thesis.institution.as_deref()),
            (Some("masters"), Some("Nazarbayev University"))
        );
        let page = ok(&items[3]);
        assert_eq!((page.record.item_type.as_str(), page.unmapped.as_slice()), ("other", &["type".to_string()][..]));
    }

    #[test]
    fn a_broken_item_costs_only_itself() {
        let text = r#"[{"type":"book","title":"One"}, {"type":"book","title":}, {"type":"book"}, 7, {"type":"book","title":"Four"}]"#;
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, false), (4, false), (5, true)]);
        assert!(err(&items[1]).starts_with("item 2 (line 1): not valid JSON"), "{}", err(&items[1]));
        assert!(err(&items[2]).contains("title: a record needs a title"), "{}", err(&items[2]));
        assert!(err(&items[3]).contains("not a JSON object but a number"), "{}", err(&items[3]));
        // JSON Lines, the same.
        let items = read("{\"type\":\"book\",\"title\":\"A\"}\n{\"type\":\"book\",\"title\":\"B\"}\n");
        assert_eq!(outline(&items), [(1, true), (2, true)]);
        assert_eq!(items[1].line, Some(2));
    }

    #[test]
    fn not_json_and_bounds() {
        let items = read("TY  - JOUR\nER  -\n");
        assert_eq!(outline(&items), [(0, false)]);
        assert!(err(&items[0]).contains("not JSON"), "{}", err(&items[0]));
        let deep = format!(
            r#"[{{"title":"Deep","x":{}{}}}, {{"type":"book","title":"After"}}]"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let items = read(&deep);
        assert_eq!(outline(&items), [(1, false), (2, true)]);
        assert!(err(&items[0]).contains("nested deeper than"), "{}", err(&items[0]));
    }

    #[test]
    fn dates_names_and_ranges() {
        let items = read(
            r#"{"type":"book","title":"T","issued":{"date-parts":[[2001,2,3],[2002]]},"author":[{"family":"Luther King","given":"Martin","suffix":"Jr."},{"given":""}]}"#,
        );
        let imported = ok(&items[0]);
        assert_eq!(imported.record.date.unwrap().to_string(), "2001-02-03");
        assert_eq!(imported.record.creators[0].name.inverted(), "Luther King, Martin, Jr.");
        assert!(imported.unmapped.contains(&"issued".to_string()));
        let items = read(r#"{"type":"book","title":"T","issued":{"date-parts":[[2001,13]]}}"#);
        assert_eq!(ok(&items[0]).record.date, None);
        let items = read(r#"{"type":"book","title":"T","issued":{"raw":"2001-02"}}"#);
        assert_eq!(ok(&items[0]).record.date.unwrap().to_string(), "2001-02");
    }
}
