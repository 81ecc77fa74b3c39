//! MARC 21 bibliographic records in MARCXML ("MARC 21 slim"), as library
//! systems (Koha, Alma, FOLIO) import them and OAI-PMH serves them as
//! `marc21`: one `<marc:record>` per record, a `<marc:collection>` around a
//! list.
//!
//! Written by hand (through [`super::xml::XmlOut`]) because the MARC crates
//! of the ecosystem read and write ISO 2709, not MARCXML, and none knows
//! which fields a repository record needs. Fields follow the Library of
//! Congress's MARC 21 Format for Bibliographic Data: the leader and 008 are
//! computed from the item type and the date, names carry `$e` relator terms,
//! `$4` relator codes and `$0` ORCID URIs, 856 links the landing page and open-access files
//! only. No e-mail address leaves.

use super::xml::{
    bare_doi, bare_orcid, iso639_2b, one_line, page_range, present, record_license, relator_code, relator_term, XmlOut,
};
use super::{ExportContext, ExportFormat, ExportWriter, OaiFormat};
use arkiv_model::{Creator, Record};
use std::io::{self, Write};

pub const MARC_NS: &str = "http://www.loc.gov/MARC21/slim";
pub const MARC_SCHEMA: &str = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub const MARCXML: ExportFormat = ExportFormat {
    id: "marcxml",
    label: "MARCXML",
    media_type: "application/marcxml+xml; charset=utf-8",
    extension: "xml",
    writer: |ctx| Box::new(MarcWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: Some(OaiFormat { prefix: "marc21", schema: MARC_SCHEMA, namespace: MARC_NS, element: marc_element }),
};

/// The record as a standalone `<marc:record>` declaring its namespaces.
pub fn marc_element(record: &Record, ctx: &ExportContext, out: &mut String) {
    let location = format!("{MARC_NS} {MARC_SCHEMA}");
    let mut x = XmlOut::new(out, 0);
    x.open("marc:record", &[("xmlns:marc", MARC_NS), ("xmlns:xsi", XSI_NS), ("xsi:schemaLocation", &location)]);
    write_fields(record, ctx, &mut x);
    x.close("marc:record");
}

struct MarcWriter {
    ctx: ExportContext,
}

impl ExportWriter for MarcWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<marc:collection xmlns:marc=\"{MARC_NS}\" xmlns:xsi=\"{XSI_NS}\" xsi:schemaLocation=\"{MARC_NS} {MARC_SCHEMA}\">\n"
        )
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        let mut x = XmlOut::new(&mut s, 1);
        x.open("marc:record", &[]);
        write_fields(record, &self.ctx, &mut x);
        x.close("marc:record");
        out.write_all(s.as_bytes())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"</marc:collection>\n")
    }
}

/// Leader/06 (type of record) and leader/07 (bibliographic level) of an
/// item type: `a`/`a` for a journal article or a chapter (a component
/// part), `a`/`m` for a book or report, `m` for a dataset (computer file)...
fn record_type(item_type: &str) -> (char, char) {
    let kind = match item_type {
        "dataset" => 'm',
        "image" => 'k',
        "video" => 'g',
        "audio" => 'i',
        "composition" => 'c',
        "artefact" => 'r',
        "exhibition" | "performance" | "experiment" => 'p',
        _ => 'a',
    };
    let level = match item_type {
        "article" | "book_section" | "conference_item" => 'a',
        _ => 'm',
    };
    (kind, level)
}

/// The leader: a new record (`n`), Unicode (`a`), minimal level (`7`),
/// ISBD punctuation omitted (`c`). The record length and base address are
/// zeros: they describe ISO 2709 bytes and MARCXML has none.
fn leader(item_type: &str) -> String {
    let (kind, level) = record_type(item_type);
    format!("00000n{kind}{level} a22000007c 4500")
}

/// The 008 field (fixed-length data elements), 40 characters: when the
/// record was made, its date, that it is an online resource (form of item
/// `o`), nature of contents for theses and reports, conference
/// publication, and its language.
fn field_008(record: &Record, ctx: &ExportContext) -> String {
    let entered = record.datestamp.map(|t| t.day()).unwrap_or_else(|| ctx.today.to_string());
    let entered: String = entered.chars().filter(char::is_ascii_digit).skip(2).take(6).collect();
    let entered = format!("{entered:0<6}");
    let (date_type, date1) = match record.date.filter(|d| d.is_valid()) {
        Some(d) => ('s', format!("{:04}", d.year)),
        None => ('n', "uuuu".to_string()),
    };
    let (kind, _) = record_type(&record.item_type);
    // Positions 18-34 depend on the type of record.
    let material: String = match kind {
        'a' => {
            let nature = match record.item_type.as_str() {
                "thesis" => 'm',
                "report" | "working_paper" | "policy_paper" => 't',
                "patent" => 'j',
                _ => ' ',
            };
            let conference = if record.item_type == "conference_item" { '1' } else { '0' };
            format!("    {}o{nature}    {conference}00 0 ", ' ')
        }
        'm' => "     o  a        ".to_string(),
        'k' | 'g' | 'r' => {
            let visual = match kind {
                'k' => 'i',
                'g' => 'v',
                _ => 'r',
            };
            format!("nnn        o   {visual}n")
        }
        'c' | 'i' => "uunn o           ".to_string(),
        _ => "     o           ".to_string(),
    };
    debug_assert_eq!(material.chars().count(), 17, "{material:?}");
    let language = record.languages.iter().find_map(|l| iso639_2b(l)).unwrap_or("und");
    format!("{entered}{date_type}{date1}    xx {material}{language} d")
}

struct Field<'x, 'o> {
    x: &'x mut XmlOut<'o>,
    tag: &'static str,
    subfields: Vec<(char, String)>,
    ind: (char, char),
}

/// Starts a data field; subfields with blank values are dropped, and a
/// field left with none is not written (the schema wants at least one).
fn field<'x, 'o>(x: &'x mut XmlOut<'o>, tag: &'static str, ind1: char, ind2: char) -> Field<'x, 'o> {
    Field { x, tag, subfields: Vec::new(), ind: (ind1, ind2) }
}

impl Field<'_, '_> {
    fn sub(mut self, code: char, value: &str) -> Self {
        let value = one_line(value);
        if !value.is_empty() {
            self.subfields.push((code, value));
        }
        self
    }
    fn opt(self, code: char, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.sub(code, v),
            None => self,
        }
    }
    fn write(self) {
        if self.subfields.is_empty() {
            return;
        }
        let (i1, i2) = (self.ind.0.to_string(), self.ind.1.to_string());
        self.x.open("marc:datafield", &[("tag", self.tag), ("ind1", &i1), ("ind2", &i2)]);
        for (code, value) in &self.subfields {
            self.x.leaf("marc:subfield", &[("code", &code.to_string())], value);
        }
        self.x.close("marc:datafield");
    }
}

/// A name with its role twice: `$e` the relator term for people, `$4` the
/// relator code for machines (importers read the code: Zotero's MARC.js
/// maps `aut`, `edt`, `ctb`, `trl`... to its creator types and files a
/// name without one as an author).
fn person_field(x: &mut XmlOut, tag: &'static str, person: &Creator, role: &str, code: Option<&str>) {
    let name = one_line(&person.name.inverted());
    if name.is_empty() {
        return;
    }
    // First indicator 1: surname first; 0: a forename alone.
    let ind1 = if person.name.given.trim().is_empty() { '0' } else { '1' };
    let orcid = person.orcid.as_deref().and_then(bare_orcid).map(|o| format!("https://orcid.org/{o}"));
    field(x, tag, ind1, ' ').sub('a', &name).sub('e', role).opt('4', code).opt('0', orcid.as_deref()).write();
}

/// Nonfiling characters of a title: the length of a leading English,
/// French or German article, for 245's second indicator.
fn nonfiling(title: &str) -> char {
    const ARTICLES: &[&str] = &["The ", "A ", "An ", "Der ", "Die ", "Das ", "Le ", "La ", "Les ", "L'"];
    ARTICLES
        .iter()
        .find(|a| title.starts_with(**a) && title.len() > a.len())
        .map(|a| char::from_digit(a.len() as u32, 10).unwrap_or('0'))
        .unwrap_or('0')
}

fn write_fields(record: &Record, ctx: &ExportContext, x: &mut XmlOut) {
    x.leaf("marc:leader", &[], &leader(&record.item_type));
    x.leaf("marc:controlfield", &[("tag", "001")], &record.id.unwrap_or(0).to_string());
    x.leaf("marc:controlfield", &[("tag", "003")], &ctx.oai_host);
    if let Some(changed) = record.lastmod {
        let stamp: String = changed.to_eprints().chars().filter(char::is_ascii_digit).collect();
        x.leaf("marc:controlfield", &[("tag", "005")], &format!("{stamp}.0"));
    }
    x.leaf("marc:controlfield", &[("tag", "008")], &field_008(record, ctx));

    if let Some(isbn) = present(&record.isbn) {
        field(x, "020", ' ', ' ').sub('a', isbn).write();
    }
    if let Some(issn) = present(&record.issn).filter(|_| present(&record.publication).is_none()) {
        field(x, "022", ' ', ' ').sub('a', issn).write();
    }
    if let Some(doi) = present(&record.doi).and_then(bare_doi) {
        field(x, "024", '7', ' ').sub('a', &doi).sub('2', "doi").write();
    }
    if let Some(other) = present(&record.id_number) {
        field(x, "024", '8', ' ').sub('a', other).write();
    }
    field(x, "040", ' ', ' ').sub('a', &ctx.repository_name).sub('b', "eng").sub('c', &ctx.repository_name).write();
    let languages: Vec<&str> = record.languages.iter().filter_map(|l| iso639_2b(l)).collect();
    if !languages.is_empty() {
        let mut f = field(x, "041", '0', ' ');
        for l in languages {
            f = f.sub('a', l);
        }
        f.write();
    }

    // The first author is the main entry (100, or 110 for a body); the
    // title then gets 245 first indicator 1 (added entry), else 0.
    let mut creators = record.creators.iter().filter(|c| !one_line(&c.name.inverted()).is_empty());
    let first_person = creators.next();
    let corporate: Vec<&str> = record.corp_creators.iter().map(|c| c.name.trim()).filter(|n| !n.is_empty()).collect();
    let mut main_entry = true;
    if let Some(first) = first_person {
        person_field(x, "100", first, "author", Some("aut"));
    } else if let Some(body) = corporate.first() {
        field(x, "110", '2', ' ').sub('a', body).sub('e', "author").sub('4', "aut").write();
    } else {
        main_entry = false;
    }

    let title = one_line(&record.title);
    field(x, "245", if main_entry { '1' } else { '0' }, nonfiling(&title)).sub('a', &title).write();

    let publisher = present(&record.publisher).or(present(&record.institution));
    let date = record.date.filter(|d| d.is_valid()).map(|d| d.year.to_string());
    field(x, "264", ' ', '1')
        .opt('a', present(&record.place_of_pub))
        .opt('b', publisher)
        .opt('c', date.as_deref())
        .write();

    let pages = present(&record.pages).map(|p| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            format!("1 online resource ({p} pages)")
        } else {
            format!("1 online resource ({p})")
        }
    });
    field(x, "300", ' ', ' ').sub('a', pages.as_deref().unwrap_or("1 online resource")).write();
    // RDA content, media and carrier types of an online text.
    if record_type(&record.item_type).0 == 'a' {
        field(x, "336", ' ', ' ').sub('a', "text").sub('b', "txt").sub('2', "rdacontent").write();
    }
    field(x, "337", ' ', ' ').sub('a', "computer").sub('b', "c").sub('2', "rdamedia").write();
    field(x, "338", ' ', ' ').sub('a', "online resource").sub('b', "cr").sub('2', "rdacarrier").write();

    if let Some(series) = present(&record.series) {
        // 490 1_: the series as it appears, traced in 830.
        field(x, "490", '1', ' ').sub('a', series).opt('v', present(&record.number)).write();
    }
    if let Some(note) = present(&record.note) {
        field(x, "500", ' ', ' ').sub('a', note).write();
    }
    if record.item_type == "thesis" {
        field(x, "502", ' ', ' ')
            .sub('a', "Thesis")
            .opt('c', present(&record.institution))
            .opt('d', date.as_deref())
            .write();
    }
    if let Some(abstract_text) = present(&record.abstract_text) {
        field(x, "520", '3', ' ').sub('a', abstract_text).write();
    }
    if let Some(license) = record_license(record, ctx) {
        let url = super::fields::license_url(&license);
        field(x, "540", ' ', ' ').sub('a', &license).opt('u', url.as_deref()).write();
    }
    for subject in &record.subjects {
        field(x, "650", ' ', '7').sub('a', ctx.subjects.name(subject)).sub('2', "local").write();
    }
    for keyword in &record.keywords {
        field(x, "653", ' ', ' ').sub('a', keyword).write();
    }
    field(x, "655", ' ', '7').sub('a', ctx.item_types.label(&record.item_type)).sub('2', "local").write();
    if record.subtype().is_some() {
        let kind = super::fields::kind_label(record, &ctx.item_types);
        field(x, "655", ' ', '7').sub('a', &kind).sub('2', "local").write();
    }

    for creator in creators {
        person_field(x, "700", creator, "author", Some("aut"));
    }
    for editor in &record.editors {
        person_field(x, "700", editor, "editor", Some("edt"));
    }
    for contributor in &record.contributors {
        let code = relator_code(&contributor.role);
        person_field(x, "700", &contributor.person, &relator_term(&contributor.role), code.as_deref());
    }
    let skip = if first_person.is_none() { 1 } else { 0 };
    for body in corporate.iter().skip(skip) {
        field(x, "710", '2', ' ').sub('a', body).sub('e', "author").sub('4', "aut").write();
    }

    let host = present(&record.publication).or(present(&record.book_title)).or(present(&record.event_title));
    if let Some(host) = host {
        let mut related = Vec::new();
        if let Some(v) = present(&record.volume) {
            related.push(format!("Vol. {v}"));
        }
        if let Some(n) = present(&record.number).filter(|_| present(&record.series).is_none()) {
            related.push(format!("no. {n}"));
        }
        if let Some(d) = &date {
            related.push(format!("({d})"));
        }
        if let Some(r) = present(&record.pagerange) {
            related.push(format!("p. {r}"));
        }
        let (first, _) = present(&record.pagerange).map(page_range).unwrap_or((None, None));
        // $q, the enumeration in a machine-readable form: volume:issue<page.
        let enumeration = present(&record.volume).map(|v| {
            let issue = present(&record.number)
                .filter(|_| present(&record.series).is_none())
                .map(|n| format!(":{n}"))
                .unwrap_or_default();
            let page = first.as_deref().map(|p| format!("<{p}")).unwrap_or_default();
            format!("{v}{issue}{page}")
        });
        let host_issn = present(&record.issn).filter(|_| present(&record.publication).is_some());
        let host_isbn = present(&record.isbn).filter(|_| present(&record.book_title).is_some());
        field(x, "773", '0', ' ')
            .sub('t', host)
            .opt('g', Some(related.join(", ")).as_deref())
            .opt('q', enumeration.as_deref())
            .opt('x', host_issn)
            .opt('z', host_isbn)
            .write();
    }
    if let Some(series) = present(&record.series) {
        field(x, "830", ' ', '0').sub('a', series).opt('v', present(&record.number)).write();
    }

    let landing = ctx.record_url(record);
    field(x, "856", '4', '0').sub('u', &landing).sub('z', "Record page").write();
    for (doc, url) in ctx.open_documents(record) {
        if let Some(url) = url {
            let mime = doc.mime_type.as_deref().or(doc.main_file().and_then(|f| f.mime_type.as_deref()));
            field(x, "856", '4', '0').sub('u', &url).opt('q', mime).sub('z', "Open access").write();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_fields_have_their_lengths() {
        for t in [
            "article",
            "thesis",
            "dataset",
            "image",
            "video",
            "audio",
            "composition",
            "artefact",
            "exhibition",
            "local_type",
        ] {
            assert_eq!(leader(t).len(), 24, "{t}");
            let mut r = Record::new(t, "x");
            r.date = Some("2014-05-29".parse().unwrap());
            r.languages = vec!["pl".into()];
            let ctx = crate::export::ExportContext::example();
            let f = field_008(&r, &ctx);
            assert_eq!(f.chars().count(), 40, "{t}: {f:?}");
            assert_eq!(&f[6..11], "s2014");
            assert_eq!(&f[35..38], "pol");
        }
        assert_eq!(&leader("article")[6..8], "aa");
        assert_eq!(&leader("policy_paper")[6..8], "am");
        assert_eq!(nonfiling("The policy"), '4');
        assert_eq!(nonfiling("Kazakhstan's attitude"), '0');
    }
}
