//! Simple Dublin Core (`oai_dc:dc`) as a record: the inverse of
//! [`crate::export::dc`], so that what an Arkiv (or EPrints) repository
//! serves comes back as it was, and read leniently for everyone else.
//!
//! | element | field |
//! |---|---|
//! | `dc:title` | the title (the first; others kept unmapped) |
//! | `dc:creator` | "Family, Given" a person; without a comma a corporate creator when one word or more than three, else a person all family name (RIS's rule, [`crate::ris`]) |
//! | `dc:contributor` | a contributor (MARC relator CTB): DC does not say who edited |
//! | `dc:subject` | keywords, each once |
//! | `dc:description` | the abstract, then the note (Arkiv writes them in that order) |
//! | `dc:publisher` | publisher |
//! | `dc:date` | date, to the precision written (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, a timestamp) |
//! | `dc:type` | `PeerReviewed`/`NonPeerReviewed` → refereed; else the item type: the repository's own label ("Policy Paper"), or a common vocabulary ([`super::type_from_vocabulary`]); the first that resolves wins, unknown → `other` with a warning |
//! | `dc:identifier` | a DOI (URL or `doi:`) → doi; the first other web address → official_url (the landing page at the source); further web addresses naming a file (`.../name.pdf`) → a document to fetch; `ISBN x`, `ISSN x` (Arkiv's) → isbn, issn; the header's own `oai:` identifier is dropped |
//! | `dc:language` | languages, lower case |
//! | `dc:rights` | a licence URL → licence ([`super::license_from_url`]); text → licence when no URL is given; `info:eu-repo/semantics/openAccess` and the other access rights, and a licence's name beside its URL, kept unmapped |
//! | `dc:relation` | a web address → a related link; other text → the series (Arkiv writes "Series Number" there), with a warning |
//! | `dc:source` | publication (the journal or book) |
//! | `dc:format`, `dc:coverage`, anything else | kept unmapped |

use super::{doi_of, license_from_url, parse_date, resolve_type, Mapper, Node};
use crate::eprints::clip;
use crate::labels::{author, is_web_url, person, Author};
use crate::{FileData, FileSource, ImportedRecord};
use arkiv_model::{Contributor, Document, ItemTypes, Record, RelatedLink, Status, StoredFile};

pub const OAI_DC_NS: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
pub const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
/// The DC terms namespace, whose elements some sources mix into oai_dc.
const DCTERMS_NS: &str = "http://purl.org/dc/terms/";
const RELATOR_CONTRIBUTOR: &str = "http://www.loc.gov/loc.terms/relators/CTB";

/// Maps one `oai_dc:dc` element; `oai_identifier` is the record header's.
pub(crate) fn read(dc: &Node, types: &ItemTypes, oai_identifier: &str) -> Result<ImportedRecord, String> {
    let mut m = Mapper::default();
    let mut r = Record { status: Status::Archive, ..Default::default() };
    let mut title = None;
    let mut descriptions = 0;
    let mut item_type: Option<(String, Option<String>)> = None;
    let mut unknown_types = Vec::new();
    let mut rights_text = Vec::new();
    let mut licence_from_url = None;
    for e in &dc.children {
        // The text as written (trimmed); an element with children, which
        // simple DC has none of, by all its text.
        let value = match e.text.trim() {
            "" => e.all_text(),
            text => text.to_string(),
        };
        let dc_element = e.ns.as_deref() == Some(DC_NS) || e.ns.as_deref() == Some(DCTERMS_NS);
        let name = if dc_element { format!("dc_{}", e.name) } else { e.name.clone() };
        let shown = if dc_element { format!("dc:{}", e.name) } else { format!("<{}>", e.name) };
        if value.is_empty() {
            continue;
        }
        if !dc_element {
            m.unmapped(&name, &shown, &value);
            continue;
        }
        match e.name.as_str() {
            "title" => m.single(&mut title, &name, &shown, &value),
            "creator" => match author(&value) {
                Author::Person(c) => r.creators.push(c),
                Author::Body(c) => r.corp_creators.push(c),
            },
            "contributor" => {
                r.contributors.push(Contributor { role: RELATOR_CONTRIBUTOR.into(), person: person(&value) })
            }
            "subject" => {
                if !r.keywords.iter().any(|k| k.eq_ignore_ascii_case(&value)) {
                    r.keywords.push(value);
                }
            }
            "description" | "abstract" => {
                descriptions += 1;
                match descriptions {
                    1 => r.abstract_text = Some(value),
                    2 => r.note = Some(value),
                    _ => m.unmapped(&name, &shown, &value),
                }
            }
            "publisher" => m.single(&mut r.publisher, &name, &shown, &value),
            "date" | "issued" => match parse_date(&value) {
                Some(d) if r.date.is_none() => r.date = Some(d),
                Some(d) if r.date == Some(d) => {}
                parsed => {
                    if parsed.is_none() {
                        m.warn(format!("{shown} {:?} is not a date", clip(&value)));
                    }
                    m.unmapped(&name, &shown, &value);
                }
            },
            "type" => match value.as_str() {
                "PeerReviewed" => r.refereed = Some(true),
                "NonPeerReviewed" => r.refereed = Some(false),
                _ => match resolve_type(&value, types) {
                    Some(resolved) if item_type.is_none() => item_type = Some(resolved),
                    Some(_) => m.unmapped(&name, &shown, &value),
                    None => unknown_types.push(value),
                },
            },
            "identifier" => identifier(&mut m, &mut r, &value, oai_identifier, &name, &shown),
            "language" => {
                let l = value.to_lowercase();
                if !r.languages.contains(&l) {
                    r.languages.push(l);
                }
            }
            "rights" | "license" => {
                let lower = value.to_ascii_lowercase();
                if lower.starts_with("info:eu-repo/semantics/") {
                    m.unmapped(&name, &shown, &value);
                } else if is_web_url(&value) && licence_from_url.is_none() {
                    licence_from_url = Some(license_from_url(&value));
                } else {
                    rights_text.push(value);
                }
            }
            "relation" => {
                if is_web_url(&value) {
                    r.related.push(RelatedLink { url: value, relation: None, description: None });
                } else if let Some(doi) = doi_of(&value) {
                    r.related.push(RelatedLink {
                        url: format!("https://doi.org/{doi}"),
                        relation: None,
                        description: None,
                    });
                } else if r.series.is_none() {
                    m.warn(format!("{shown} {:?} read as the series", clip(&value)));
                    r.series = Some(value);
                } else {
                    m.unmapped(&name, &shown, &value);
                }
            }
            "source" => m.single(&mut r.publication, &name, &shown, &value),
            _ => m.unmapped(&name, &shown, &value),
        }
    }
    // A licence's URL is the licence; its name beside it ("Creative Commons
    // Attribution 4.0 International") says it again. Without a URL, the
    // first text is the licence (Arkiv writes one that has no URL as it is).
    let mut rights_text = rights_text.into_iter();
    r.license = licence_from_url.or_else(|| rights_text.next());
    for text in rights_text {
        m.unmapped("dc_rights", "dc:rights", &text);
    }
    match item_type {
        Some((key, subtype)) => {
            r.item_type = key;
            r.subtype = subtype;
            for t in unknown_types {
                m.unmapped("dc_type", "dc:type", &t);
            }
        }
        None => {
            r.item_type = "other".into();
            match unknown_types.first() {
                Some(t) => m.warn(format!("dc:type {:?} is no type this repository knows; read as other", clip(t))),
                None => m.warn("no dc:type; read as other".into()),
            }
            for t in unknown_types {
                m.unmapped("dc_type", "dc:type", &t);
            }
        }
    }
    r.title = title.unwrap_or_default();
    Ok(m.into_record(r))
}

fn identifier(m: &mut Mapper, r: &mut Record, value: &str, oai_identifier: &str, name: &str, shown: &str) {
    if value == oai_identifier {
        return;
    }
    if let Some(doi) = doi_of(value) {
        return m.single(&mut r.doi, name, shown, &doi);
    }
    for (scheme, field) in [("ISBN ", &mut r.isbn), ("ISSN ", &mut r.issn)] {
        if let Some(v) = value.strip_prefix(scheme).or_else(|| value.strip_prefix(&scheme.to_lowercase())) {
            return m.single(field, name, shown, v);
        }
    }
    if !is_web_url(value) {
        return m.unmapped(name, shown, value);
    }
    if r.official_url.is_none() {
        r.official_url = Some(value.to_string());
        return;
    }
    match file_name(value) {
        Some(filename) => {
            let pos = r.documents.len() as u32 + 1;
            r.documents.push(Document {
                pos,
                main: Some(filename.clone()),
                files: vec![StoredFile {
                    filename: filename.clone(),
                    source_url: Some(value.into()),
                    ..Default::default()
                }],
                ..Default::default()
            });
            m.files.push(FileSource { doc_pos: pos, filename, source: FileData::Url(value.into()) });
        }
        None => m.unmapped(name, shown, value),
    }
}

/// The file a web address names: its last path segment, when that has an
/// extension (`.../7/1/paper.pdf`) and is a safe file name.
fn file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let after_host = path.split("://").nth(1)?.split_once('/')?.1;
    let segment = after_host.rsplit('/').next()?;
    let (stem, ext) = segment.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() || ext.len() > 5 || matches!(ext, "html" | "htm" | "php" | "asp" | "aspx") {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    let filename = arkiv_model::validate::clean_filename(&decoded);
    arkiv_model::validate::is_safe_filename(&filename).then_some(filename)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(body: &str) -> ImportedRecord {
        let xml = format!(
            "<oai_dc:dc xmlns:oai_dc=\"{OAI_DC_NS}\" xmlns:dc=\"{DC_NS}\" xmlns:x=\"urn:x\">{body}</oai_dc:dc>"
        );
        let node = super::super::parse(xml.as_bytes()).unwrap();
        read(&node, &ItemTypes::default(), "oai:x:1").unwrap()
    }

    #[test]
    fn a_zenodo_record() {
        let i = dc("<dc:creator>Prasadi Zoysa, Kanakarathnage Kavindya</dc:creator><dc:creator>Meika4</dc:creator>\
            <dc:date>2025-09-23</dc:date><dc:description>Abstract</dc:description>\
            <dc:identifier>https://doi.org/10.5281/zenodo.1</dc:identifier><dc:identifier>oai:x:1</dc:identifier>\
            <dc:publisher>Zenodo</dc:publisher><dc:relation>https://github.com/a/b</dc:relation>\
            <dc:rights>info:eu-repo/semantics/openAccess</dc:rights>\
            <dc:rights>Creative Commons Attribution 4.0 International</dc:rights>\
            <dc:rights>https://creativecommons.org/licenses/by/4.0/legalcode</dc:rights>\
            <dc:title>A title</dc:title><dc:title>A second title</dc:title>\
            <dc:type>info:eu-repo/semantics/article</dc:type><dc:format>application/pdf</dc:format><x:y>z</x:y>");
        let r = &i.record;
        assert_eq!((r.title.as_str(), r.item_type.as_str()), ("A title", "article"));
        assert_eq!(r.creators[0].name.inverted(), "Prasadi Zoysa, Kanakarathnage Kavindya");
        assert_eq!(r.corp_creators[0].name, "Meika4");
        assert_eq!(r.date.unwrap().to_string(), "2025-09-23");
        assert_eq!(r.doi.as_deref(), Some("10.5281/zenodo.1"));
        assert_eq!(r.license.as_deref(), Some("cc_by"));
        assert_eq!(r.related[0].url, "https://github.com/a/b");
        assert_eq!(r.publisher.as_deref(), Some("Zenodo"));
        assert_eq!(i.unmapped, ["dc_rights", "dc_title", "dc_format", "y"]);
        assert!(r.extra.iter().any(|e| e.xml == "<dc_rights>info:eu-repo/semantics/openAccess</dc_rights>"));
        assert!(i.warnings.iter().any(|w| w.contains("dc:format")), "{:?}", i.warnings);
    }

    #[test]
    fn types_dates_and_files() {
        let i = dc("<dc:title>T</dc:title><dc:type>Policy Paper</dc:type><dc:type>PeerReviewed</dc:type>\
            <dc:date>2014-05</dc:date><dc:identifier>https://repo.example.org/7/</dc:identifier>\
            <dc:identifier>https://repo.example.org/7/1/my%20paper.pdf</dc:identifier>\
            <dc:identifier>ISBN 978-3-16-148410-0</dc:identifier><dc:rights>all rights reserved</dc:rights>\
            <dc:relation>OSW Commentary 137</dc:relation><dc:source>Journal</dc:source>");
        let r = &i.record;
        assert_eq!((r.item_type.as_str(), r.refereed), ("policy_paper", Some(true)));
        assert_eq!(r.date.unwrap().to_string(), "2014-05");
        assert_eq!(r.official_url.as_deref(), Some("https://repo.example.org/7/"));
        assert_eq!(i.files[0].filename, "my paper.pdf");
        assert_eq!(r.isbn.as_deref(), Some("978-3-16-148410-0"));
        assert_eq!(r.license.as_deref(), Some("all rights reserved"));
        assert_eq!(r.series.as_deref(), Some("OSW Commentary 137"));
        assert_eq!(r.publication.as_deref(), Some("Journal"));
        let unknown = dc("<dc:title>T</dc:title><dc:type>Fish</dc:type><dc:date>2020-01-01T10:00:00Z</dc:date>");
        assert_eq!(unknown.record.item_type, "other");
        assert_eq!(unknown.record.date.unwrap().to_string(), "2020-01-01");
        assert!(unknown.warnings.iter().any(|w| w.contains("Fish")));
        assert_eq!(unknown.unmapped, ["dc_type"]);
    }
}
