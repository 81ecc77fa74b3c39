//! The deposit form's side of a record: which fields an item type asks for,
//! what must be filled before an item may be submitted, and how the text a
//! depositor typed becomes record fields (and back, to fill the form).
//!
//! The form is plain text on purpose: it works without JavaScript, and a
//! browser, `curl` and a test all send it the same way. Lists are one entry
//! per line (creators as `Family, Given` with an optional ORCID iD after
//! it); subjects are repeated `subjects` fields.

use arkiv_model::validate::{doi_problem, is_orcid, license_problem};
use arkiv_model::{CorporateCreator, Creator, ItemTypes, PartialDate, Record, Scheme, SubjectTree};
use serde::Serialize;

/// One field of the deposit form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The form field's name (the record field's serialized name).
    pub name: &'static str,
    pub label: &'static str,
    /// `line`, `text` (several lines), `list` (one per line), `date`,
    /// `choice` (one of [`form_choices`]).
    pub kind: &'static str,
    pub help: &'static str,
}

const fn f(name: &'static str, label: &'static str, kind: &'static str, help: &'static str) -> Field {
    Field { name, label, kind, help }
}

const TITLE: Field = f("title", "Title", "line", "");
const CREATORS: Field =
    f("creators", "Authors", "list", "One per line: Family, Given, optionally followed by an ORCID iD.");
const CORP: Field = f("corp_creators", "Corporate authors", "list", "Organisations credited as authors, one per line.");
const DATE: Field = f("date", "Date", "date", "YYYY, YYYY-MM or YYYY-MM-DD.");
const ABSTRACT: Field = f("abstract", "Abstract", "text", "");
const KEYWORDS: Field = f("keywords", "Keywords", "list", "One per line.");
const LANGUAGES: Field = f("languages", "Languages", "line", "ISO 639 codes separated by spaces: en pl ru.");
const SERIES: Field = f("series", "Series", "line", "The series the paper appears in, e.g. OSW Commentary.");
const NUMBER: Field = f("number", "Number", "line", "Its number in the series (or the journal issue).");
const INSTITUTION: Field = f("institution", "Institution", "line", "");
const DEPARTMENT: Field = f("department", "Department", "line", "");
const PUBLISHER: Field = f("publisher", "Publisher", "line", "");
const PLACE: Field = f("place_of_pub", "Place of publication", "line", "");
const PAGES: Field = f("pages", "Number of pages", "line", "");
const PAGERANGE: Field = f("pagerange", "Page range", "line", "e.g. 12-34.");
const PUBLICATION: Field = f("publication", "Journal or publication", "line", "");
const VOLUME: Field = f("volume", "Volume", "line", "");
const BOOK_TITLE: Field = f("book_title", "Book title", "line", "");
const EVENT: Field = f("event_title", "Event", "line", "");
const DOI: Field = f("doi", "DOI", "line", "10.1234/abc, without https://doi.org/.");
const ISBN: Field = f("isbn", "ISBN", "line", "");
const ISSN: Field = f("issn", "ISSN", "line", "");
const URL: Field = f("official_url", "Official URL", "line", "The publisher's page, if any.");
const LICENSE: Field = f("license", "Licence", "line", "An SPDX id (CC-BY-4.0) or a licence's URL.");
const NOTE: Field = f("note", "Note", "text", "");
// The kind within the type (EPrints' monograph_type, thesis_type,
// pres_type), by EPrints' keys so that records move both ways unchanged.
const MONOGRAPH_KIND: Field = f("subtype", "Kind of monograph", "choice", "");
const THESIS_KIND: Field = f("subtype", "Kind of thesis", "choice", "");
const PRESENTATION_KIND: Field = f("subtype", "Kind of presentation", "choice", "");

/// The options of a `choice` field, as (value, label): none chosen first,
/// then the choices EPrints offers, then `current` when it is none of them
/// (an imported record's local key), so that saving the form never loses
/// it.
pub fn form_choices(field: &str, item_type: &str, current: &str) -> Vec<(String, String)> {
    if field != "subtype" {
        return Vec::new();
    }
    let keys = arkiv_model::subtype_keys(item_type);
    let mut choices = vec![(String::new(), "(not given)".to_string())];
    choices.extend(keys.iter().map(|k| (k.to_string(), arkiv_model::subtype_label(k))));
    let current = current.trim();
    if !current.is_empty() && !keys.contains(&current) {
        choices.push((current.to_string(), arkiv_model::subtype_label(current)));
    }
    choices
}

/// The fields the form shows for an item type, in order. Grey literature
/// (policy and working papers, reports) asks for series, number and
/// institution; an article for its journal; a chapter for its book.
pub fn form_fields(item_type: &str) -> Vec<Field> {
    let mut fields = vec![TITLE, CREATORS, CORP, DATE];
    let specific: &[Field] = match item_type {
        "monograph" => &[MONOGRAPH_KIND, SERIES, NUMBER, INSTITUTION, DEPARTMENT, PUBLISHER, PLACE, PAGES],
        "policy_paper" | "working_paper" | "report" => {
            &[SERIES, NUMBER, INSTITUTION, DEPARTMENT, PUBLISHER, PLACE, PAGES]
        }
        "article" => &[PUBLICATION, VOLUME, NUMBER, PAGERANGE, ISSN, PUBLISHER],
        "book" => &[PUBLISHER, PLACE, SERIES, NUMBER, ISBN, PAGES],
        "book_section" => &[BOOK_TITLE, PUBLISHER, PLACE, PAGERANGE, ISBN],
        "thesis" => &[THESIS_KIND, INSTITUTION, DEPARTMENT, PAGES],
        "conference_item" => &[PRESENTATION_KIND, EVENT, PLACE, PAGERANGE, PUBLISHER],
        _ => &[PUBLISHER, PLACE, PAGES],
    };
    fields.extend_from_slice(specific);
    fields.extend_from_slice(&[ABSTRACT, KEYWORDS, LANGUAGES, DOI, URL, LICENSE, NOTE]);
    if !fields.contains(&ISBN) && matches!(item_type, "monograph" | "report") {
        fields.push(ISBN);
    }
    fields
}

/// What an item still lacks before it may be submitted for review, in the
/// words the depositor sees. Empty: ready.
pub fn missing(record: &Record, types: &ItemTypes) -> Vec<String> {
    let mut out = Vec::new();
    if record.title.trim().is_empty() {
        out.push("a title".to_string());
    }
    if record.creators.is_empty() && record.corp_creators.is_empty() {
        out.push("at least one author (a person or an organisation)".to_string());
    }
    if record.date.is_none() {
        out.push("the date".to_string());
    }
    let required: &[(&str, &Option<String>)] = match record.item_type.as_str() {
        "policy_paper" => &[
            ("the series", &record.series),
            ("the number in the series", &record.number),
            ("the institution", &record.institution),
        ],
        "working_paper" => &[("the series", &record.series), ("the institution", &record.institution)],
        "report" | "thesis" => &[("the institution", &record.institution)],
        "article" => &[("the journal", &record.publication)],
        "book_section" => &[("the book's title", &record.book_title)],
        "conference_item" => &[("the event", &record.event_title)],
        _ => &[],
    };
    for (what, value) in required {
        if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
            out.push(what.to_string());
        }
    }
    if record.documents.is_empty() {
        out.push("a document (the full text)".to_string());
    }
    if let Err(problems) = arkiv_model::validate(record, types) {
        for p in problems {
            let text = p.to_string();
            if p.field != "title" || !record.title.trim().is_empty() {
                out.push(format!("a correction: {text}"));
            }
        }
    }
    out
}

/// How alike two titles are, from 0 (no word shared) to 1 (the same words):
/// the share of distinct words (lower-cased, letters and digits only) the
/// two have in common. A deposit whose title scores [`DUPLICATE_LIKENESS`]
/// or more against a live record is flagged as a possible duplicate.
pub fn title_likeness(a: &str, b: &str) -> f64 {
    let words = |t: &str| -> std::collections::BTreeSet<String> {
        t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    };
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

pub const DUPLICATE_LIKENESS: f64 = 0.8;

/// The form's values for a record, by field name (what the form shows).
pub fn form_values(record: &Record) -> std::collections::BTreeMap<&'static str, String> {
    let mut v = std::collections::BTreeMap::new();
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    v.insert("title", record.title.clone());
    v.insert(
        "creators",
        record
            .creators
            .iter()
            .map(|c| match &c.orcid {
                Some(o) => format!("{} {o}", c.name.inverted()),
                None => c.name.inverted(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    v.insert("corp_creators", record.corp_creators.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join("\n"));
    v.insert("date", record.date.map(|d| d.to_string()).unwrap_or_default());
    v.insert("abstract", opt(&record.abstract_text));
    v.insert("keywords", record.keywords.join("\n"));
    v.insert("languages", record.languages.join(" "));
    for (name, value) in text_fields_of(record) {
        v.insert(name, opt(value));
    }
    v
}

fn text_fields_of(r: &Record) -> [(&'static str, &Option<String>); 18] {
    [
        ("subtype", &r.subtype),
        ("series", &r.series),
        ("number", &r.number),
        ("institution", &r.institution),
        ("department", &r.department),
        ("publisher", &r.publisher),
        ("place_of_pub", &r.place_of_pub),
        ("pages", &r.pages),
        ("pagerange", &r.pagerange),
        ("publication", &r.publication),
        ("volume", &r.volume),
        ("book_title", &r.book_title),
        ("event_title", &r.event_title),
        ("doi", &r.doi),
        ("isbn", &r.isbn),
        ("issn", &r.issn),
        ("official_url", &r.official_url),
        ("license", &r.license),
    ]
}

fn text_field_mut<'a>(r: &'a mut Record, name: &str) -> Option<&'a mut Option<String>> {
    Some(match name {
        "subtype" => &mut r.subtype,
        "series" => &mut r.series,
        "number" => &mut r.number,
        "institution" => &mut r.institution,
        "department" => &mut r.department,
        "publisher" => &mut r.publisher,
        "place_of_pub" => &mut r.place_of_pub,
        "pages" => &mut r.pages,
        "pagerange" => &mut r.pagerange,
        "publication" => &mut r.publication,
        "volume" => &mut r.volume,
        "book_title" => &mut r.book_title,
        "event_title" => &mut r.event_title,
        "doi" => &mut r.doi,
        "isbn" => &mut r.isbn,
        "issn" => &mut r.issn,
        "official_url" => &mut r.official_url,
        "license" => &mut r.license,
        "note" => &mut r.note,
        "abstract" => &mut r.abstract_text,
        _ => return None,
    })
}

/// A field the form could not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// Applies a submitted form (name/value pairs as sent) to a record. Only
/// the fields the form names are touched: fields of another item type and
/// what the form never shows (editors, documents, imported extras) stay as
/// they were. A value that cannot be read is reported and leaves its field
/// unchanged; the rest still apply. `item_type` changes the type when the
/// repository knows it. Subjects and divisions not in their tree are
/// ignored.
pub fn apply_form(
    record: &mut Record,
    pairs: &[(String, String)],
    types: &ItemTypes,
    subjects: &SubjectTree,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let mut bad = |field: &str, problem: String| problems.push(FieldProblem { field: field.into(), problem });
    let mut saw_subjects = false;
    let mut new_subjects = Vec::new();
    let mut saw_divisions = false;
    let mut new_divisions = Vec::new();
    for (name, raw) in pairs {
        let value = clean(raw);
        match name.as_str() {
            "item_type" => {
                if types.contains(&value) {
                    record.item_type = value;
                } else {
                    bad("item_type", format!("{value:?} is not an item type of this repository"));
                }
            }
            "title" => record.title = value.split_whitespace().collect::<Vec<_>>().join(" "),
            "creators" => match parse_creators(&value, &record.creators) {
                Ok(c) => record.creators = c,
                Err(e) => bad("creators", e),
            },
            "corp_creators" => {
                record.corp_creators = lines(&value).map(|name| CorporateCreator { name, id: None }).collect();
            }
            "date" => {
                if value.is_empty() {
                    record.date = None;
                } else {
                    match value.parse::<PartialDate>() {
                        Ok(d) if d.is_valid() => record.date = Some(d),
                        _ => bad("date", format!("{value:?} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")),
                    }
                }
            }
            "keywords" => record.keywords = lines(&value).collect(),
            "languages" => {
                let codes: Vec<String> =
                    value.split([' ', ',', ';']).filter(|s| !s.is_empty()).map(str::to_lowercase).collect();
                match codes.iter().find(|c| !(2..=3).contains(&c.len()) || !c.chars().all(|ch| ch.is_ascii_lowercase()))
                {
                    Some(c) => bad("languages", format!("{c:?} is not an ISO 639 code (en, pl, rus...)")),
                    None => record.languages = codes,
                }
            }
            "doi" => {
                let doi = value
                    .trim_start_matches("https://doi.org/")
                    .trim_start_matches("http://dx.doi.org/")
                    .trim_start_matches("doi:")
                    .to_string();
                if let Some(problem) = Some(doi.as_str()).filter(|d| !d.is_empty()).and_then(doi_problem) {
                    bad("doi", problem);
                } else {
                    record.doi = Some(doi).filter(|d| !d.is_empty());
                }
            }
            "license" if license_problem(&value).is_some() => {
                bad("license", license_problem(&value).unwrap_or_default());
            }
            "official_url" if !(value.is_empty() || value.starts_with("https://") || value.starts_with("http://")) => {
                bad("official_url", format!("{value:?} is not a web address (http:// or https://)"));
            }
            "subjects" => {
                saw_subjects = true;
                if subjects.scheme_of(&value) == Some(Scheme::Subjects) && !new_subjects.contains(&value) {
                    new_subjects.push(value);
                }
            }
            "divisions" => {
                saw_divisions = true;
                if subjects.scheme_of(&value) == Some(Scheme::Divisions) && !new_divisions.contains(&value) {
                    new_divisions.push(value);
                }
            }
            // The form says it sent its subject list even when none is ticked.
            "subjects_shown" => saw_subjects = true,
            "divisions_shown" => saw_divisions = true,
            other => {
                if let Some(field) = text_field_mut(record, other) {
                    *field = Some(value).filter(|v| !v.is_empty());
                }
            }
        }
    }
    if saw_subjects {
        record.subjects = new_subjects;
    }
    if saw_divisions {
        record.divisions = new_divisions;
    }
    problems
}

/// A form value with line endings made `\n`, control characters other
/// than newline and tab removed, and the ends trimmed.
fn clean(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

fn lines(value: &str) -> impl Iterator<Item = String> + '_ {
    value.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string)
}

/// `Family, Given [ORCID]` per line. A creator already on the record with
/// the same name keeps what the form does not show (local id, e-mail).
fn parse_creators(value: &str, before: &[Creator]) -> Result<Vec<Creator>, String> {
    let mut out = Vec::new();
    for line in lines(value) {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        let mut orcid = None;
        if let Some(last) = words.last() {
            let id = last.trim_start_matches("https://orcid.org/").trim_start_matches("http://orcid.org/");
            if id.len() == 19 && id.chars().filter(|c| *c == '-').count() == 3 {
                if !is_orcid(id) {
                    return Err(format!("{last:?} is not a valid ORCID iD (its check digit is wrong)"));
                }
                orcid = Some(id.to_string());
                words.pop();
            }
        }
        let name = words.join(" ");
        let (family, given) = match name.split_once(',') {
            Some((f, g)) => (f.trim().to_string(), g.trim().to_string()),
            None => match name.rsplit_once(' ') {
                // "Aleksandra Jarosiewicz": the last word is the family name.
                Some((g, f)) => (f.to_string(), g.to_string()),
                None => (name.clone(), String::new()),
            },
        };
        if family.is_empty() {
            return Err(format!("{line:?} has no family name: write Family, Given"));
        }
        let mut creator = before
            .iter()
            .find(|c| c.name.family == family && c.name.given == given)
            .cloned()
            .unwrap_or_else(|| Creator::new(&family, &given));
        if orcid.is_some() {
            creator.orcid = orcid;
        }
        out.push(creator);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_policy_paper_asks_for_its_series_and_is_incomplete_without_it() {
        let names: Vec<_> = form_fields("policy_paper").iter().map(|f| f.name).collect();
        assert!(names.contains(&"series") && names.contains(&"number") && names.contains(&"institution"));
        assert!(!form_fields("article").iter().any(|f| f.name == "institution"));
        let types = ItemTypes::default();
        let r = Record::new("policy_paper", "");
        let m = missing(&r, &types);
        assert!(m.contains(&"a title".to_string()) && m.contains(&"the series".to_string()), "{m:?}");
    }

    #[test]
    fn the_form_fills_a_record_and_reports_what_it_cannot_read() {
        let mut r = Record::new("policy_paper", "");
        let tree =
            SubjectTree::new(vec![arkiv_model::Subject { id: "kz".into(), name: "Kazakhstan".into(), parent: None }]);
        let problems = apply_form(
            &mut r,
            &pairs(&[
                ("title", "  Kazakhstan's   attitude\r\n"),
                ("creators", "Jaroslewlcz, Aleksandra 0000-0002-1825-0097\r\nJan Kowalski\n\n"),
                ("date", "2014-05-29"),
                ("series", "OSW Commentary"),
                ("number", ""),
                ("subjects_shown", "1"),
                ("subjects", "kz"),
                ("subjects", "nowhere"),
                ("languages", "en pl"),
                ("doi", "https://doi.org/10.1234/x"),
                ("official_url", "javascript:alert(1)"),
            ]),
            &ItemTypes::default(),
            &tree,
        );
        assert_eq!(r.title, "Kazakhstan's attitude");
        assert_eq!(r.creators[0].name.family, "Jaroslewlcz");
        assert_eq!(r.creators[0].orcid.as_deref(), Some("0000-0002-1825-0097"));
        assert_eq!((r.creators[1].name.family.as_str(), r.creators[1].name.given.as_str()), ("Kowalski", "Jan"));
        assert_eq!(r.date.unwrap().to_string(), "2014-05-29");
        assert_eq!(r.number, None);
        assert_eq!(r.subjects, vec!["kz".to_string()]);
        assert_eq!(r.doi.as_deref(), Some("10.1234/x"));
        assert_eq!(r.official_url, None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "official_url");
        assert_eq!(form_values(&r)["creators"], "Jaroslewlcz, Aleksandra 0000-0002-1825-0097\nKowalski, Jan");
    }

    #[test]
    fn titles_alike_up_to_case_and_punctuation() {
        let t = "Kazakhstan's attitude towards integration with Russia: less love, more fear";
        assert!(
            title_likeness(t, "KAZAKHSTAN'S ATTITUDE TOWARDS INTEGRATION WITH RUSSIA - less love more fear")
                >= DUPLICATE_LIKENESS
        );
        assert!(title_likeness(t, "Russia's attitude towards Kazakhstan") < DUPLICATE_LIKENESS);
        assert_eq!(title_likeness("", ""), 0.0);
    }

    #[test]
    fn a_wrong_orcid_or_date_is_refused_and_the_old_value_stays() {
        let mut r = Record::new("article", "T");
        r.date = Some("2020".parse().unwrap());
        let problems = apply_form(
            &mut r,
            &pairs(&[("creators", "Doe, Jane 0000-0002-1825-0098"), ("date", "2020-13-01")]),
            &ItemTypes::default(),
            &SubjectTree::default(),
        );
        assert_eq!(problems.len(), 2);
        assert_eq!(r.date.unwrap().to_string(), "2020");
        assert!(r.creators.is_empty());
    }
}
