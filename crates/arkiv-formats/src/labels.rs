//! How the citation readers read the free text a foreign file gives for
//! what the model keeps as keys: a report's or thesis's kind as an item
//! type and subtype, a name as a person or an organisation, a DOI without
//! its resolver, a web address.
//!
//! It exists because the RIS, BibTeX, CSL-JSON, Crossref and DataCite
//! readers and the OAI-PMH harvest meet the same labels (the exports write
//! them all with [`crate::export::fields::kind_label`]) and must read them
//! alike: a rule changed here changes for every reader at once.

use crate::export::fields;
use arkiv_model::{CorporateCreator, Creator, ItemTypes, PersonName};

/// A name read from free text: a person, or an organisation (a corporate
/// creator).
pub(crate) enum Author {
    Person(Creator),
    Body(CorporateCreator),
}

/// RIS's rule, also the harvest's for a bare display name: "Family, Given"
/// is a person; a name without a comma is an organisation when it is one
/// word or more than three ("UNESCO", "OSW Centre for Eastern Studies"),
/// else a person whose name is all family name (which word of "Anna
/// Kowalska" is the family name is not guessed).
pub(crate) fn author(value: &str) -> Author {
    let words = value.split_whitespace().count();
    if !value.contains(',') && (words == 1 || words > 3) {
        return Author::Body(CorporateCreator { name: fields::one_line(value), id: None });
    }
    Author::Person(person(value))
}

/// "Family, Given" (RIS's "Family, Given, Suffix" keeps the suffix with the
/// given names); without a comma, all family name.
pub(crate) fn person(value: &str) -> Creator {
    let (family, given) = value.split_once(',').unwrap_or((value, ""));
    Creator { name: PersonName::new(fields::one_line(family), fields::one_line(given)), ..Default::default() }
}

/// A report's kind from its label (RIS's `M3`, BibTeX's `type`, CSL's
/// `genre`, DataCite's `resourceType`): the repository's report type of
/// that label ("Policy Paper"), else a monograph of the subtype of that
/// label ("Technical Report", and "Other", which is a monograph's subtype
/// before it is the `other` type), else any other of the repository's
/// types by its label.
pub(crate) fn report_kind(label: &str, types: &ItemTypes) -> Option<(String, Option<String>)> {
    let label = label.trim();
    let named = |(key, l): &(&str, &str)| l.eq_ignore_ascii_case(label).then(|| key.to_string());
    let is_report = |(key, _): &(&str, &str)| arkiv_model::item_type::is_serial_grey_literature(key);
    if let Some(key) = types.iter().filter(is_report).find_map(|t| named(&t)) {
        return Some((key, None));
    }
    let subtype = arkiv_model::subtype_keys("monograph")
        .iter()
        .find(|k| arkiv_model::subtype_label(k).eq_ignore_ascii_case(label));
    if let Some(key) = subtype {
        return Some(("monograph".to_string(), Some(key.to_string())));
    }
    types.iter().find_map(|t| named(&t)).map(|key| (key, None))
}

/// A thesis's kind as the exports name it ("Masters thesis", "PhD
/// thesis", the subtype's label and " thesis") and as other tools do
/// ("Master's thesis", "Doctoral dissertation", "Doctoral"): the subtype of
/// that label. `Some(None)` for the plain type label ("Thesis"), which
/// names no subtype; `None` for a label that is no thesis kind.
pub(crate) fn thesis_kind(label: &str) -> Option<Option<&'static str>> {
    // EPrints' own thesis subtypes and the degrees the exports name.
    const KEYS: [&str; 9] =
        ["doctoral", "masters", "diploma", "postdoctoral", "phd", "engd", "mphil", "bachelors", "other"];
    let label = label.trim();
    if label.eq_ignore_ascii_case("thesis") {
        return Some(None);
    }
    let lower = label.to_ascii_lowercase();
    let words = lower.strip_suffix(" thesis").or_else(|| lower.strip_suffix(" dissertation")).unwrap_or(&lower).trim();
    let words = match words {
        "master's" | "master" => "masters",
        "doctoral" | "dissertation" => "doctoral",
        w => w,
    };
    KEYS.into_iter().find(|k| arkiv_model::subtype_label(k).eq_ignore_ascii_case(words)).map(Some)
}

/// A DOI without its resolver (`https://doi.org/`, `doi:`...); anything
/// else as it is. Checking that it is a DOI is the caller's.
pub(crate) fn bare_doi(value: &str) -> &str {
    let lower = value.to_ascii_lowercase();
    ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map_or(value, |p| value[p.len()..].trim())
}

/// Whether a value is an `http(s)://` address (white space around it
/// aside).
pub(crate) fn is_web_url(value: &str) -> bool {
    let lower = value.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thesis_kinds() {
        assert_eq!(thesis_kind("PhD thesis"), Some(Some("phd")));
        assert_eq!(thesis_kind("Masters thesis"), Some(Some("masters")));
        assert_eq!(thesis_kind("Master's thesis"), Some(Some("masters")));
        assert_eq!(thesis_kind("Doctoral"), Some(Some("doctoral")));
        assert_eq!(thesis_kind("Doctoral dissertation"), Some(Some("doctoral")));
        assert_eq!(thesis_kind("EngD thesis"), Some(Some("engd")));
        assert_eq!(thesis_kind(" Thesis "), Some(None));
        assert_eq!(thesis_kind("Habilitation"), None);
    }

    #[test]
    fn report_kinds() {
        let types = ItemTypes::default();
        assert_eq!(report_kind("Policy Paper", &types), Some(("policy_paper".into(), None)));
        assert_eq!(
            report_kind("technical report", &types),
            Some(("monograph".into(), Some("technical_report".into())))
        );
        assert_eq!(report_kind("Fish", &types), None);
    }

    #[test]
    fn names_dois_and_urls() {
        assert!(matches!(author("UNESCO"), Author::Body(_)));
        assert!(matches!(author("OSW Centre for Eastern Studies"), Author::Body(_)));
        assert!(matches!(author("Anna Kowalska"), Author::Person(c) if c.name.family == "Anna Kowalska"));
        assert!(matches!(author("Kowalska, Anna"), Author::Person(c) if c.name.given == "Anna"));
        assert_eq!(bare_doi("DOI:10.1/x"), "10.1/x");
        assert_eq!(bare_doi("https://doi.org/10.1/x"), "10.1/x");
        assert_eq!(bare_doi("10.1/x"), "10.1/x");
        assert!(is_web_url(" HTTPS://x.example/") && !is_web_url("file:///tmp/x"));
    }
}
