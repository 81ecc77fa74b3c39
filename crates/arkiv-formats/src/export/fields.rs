//! What the text formats (BibTeX, RIS, Refer, CSL-JSON, CSV, formatted
//! citations) read from a record the same way: the kind of work an item
//! type is, the first and last page of a range, the degree of a thesis, a
//! thesis's or report's issuing body. One reading, so that a record is the
//! same work in every format a reference manager imports.

use arkiv_model::Record;

/// The kind of work, as the citation formats distinguish works. Local item
/// types (`oral_history`, `lab_notes`...) fall to [`Genre::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Genre {
    Article,
    Book,
    BookSection,
    Conference,
    Thesis,
    /// Reports, working and policy papers, monographs: numbered grey
    /// literature issued by an institution.
    Report,
    Dataset,
    Patent,
    Other,
}

impl Genre {
    pub fn of(record: &Record) -> Genre {
        match record.item_type.as_str() {
            "article" => Genre::Article,
            "book" => Genre::Book,
            "book_section" => Genre::BookSection,
            "conference_item" => Genre::Conference,
            "thesis" => Genre::Thesis,
            "report" | "working_paper" | "policy_paper" | "monograph" => Genre::Report,
            "dataset" => Genre::Dataset,
            "patent" => Genre::Patent,
            _ => Genre::Other,
        }
    }
}

/// Degree level of a thesis, from its subtype (EPrints' `thesis_type`):
/// `true` for a master's or lower degree, which citation formats set apart
/// from a doctoral thesis.
pub fn is_masters_thesis(record: &Record) -> bool {
    record.subtype().is_some_and(arkiv_model::is_masters_subtype)
}

/// What kind of report or thesis a record is, in words, for the fields
/// reference managers call "report type" and "thesis type" (RIS `M3`,
/// CSL `genre`): the subtype's name ("Working Paper", "PhD thesis"), else
/// the item type's label ("Policy Paper", "Thesis").
pub fn kind_label(record: &Record, types: &arkiv_model::ItemTypes) -> String {
    match (Genre::of(record), record.subtype()) {
        (Genre::Thesis, Some(key)) => format!("{} thesis", arkiv_model::subtype_label(key)),
        (_, Some(key)) => arkiv_model::subtype_label(key),
        _ => types.label(&record.item_type).to_string(),
    }
}

/// The body that issued a report or thesis: the institution, else the
/// publisher.
pub fn issuing_body(record: &Record) -> Option<&str> {
    record.institution.as_deref().or(record.publisher.as_deref()).filter(|s| !s.trim().is_empty())
}

/// `12-34` (or `12–34`, `12--34`) as first and last page; a single page or
/// an article number as first page only.
pub fn page_bounds(range: &str) -> (String, Option<String>) {
    let range = range.trim();
    for sep in ["--", "–", "—", "-"] {
        if let Some((a, b)) = range.split_once(sep) {
            let (a, b) = (a.trim(), b.trim());
            if !a.is_empty() && !b.is_empty() {
                return (a.to_string(), Some(b.to_string()));
            }
        }
    }
    (range.to_string(), None)
}

/// Non-empty, trimmed text, or `None`.
pub fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The DOI without a resolver prefix: `10.1234/x`.
pub fn bare_doi(record: &Record) -> Option<&str> {
    let doi = text(&record.doi)?;
    Some(
        ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"]
            .iter()
            .find_map(|p| doi.strip_prefix(p))
            .unwrap_or(doi),
    )
}

/// The larger work a part appeared in: journal, book or proceedings. A
/// book section's is its book (`book_title`) before anything in
/// `publication`, as EPrints' own citation reads it ("In: Editor (ed.)
/// The Book").
pub fn container(record: &Record) -> Option<&str> {
    if Genre::of(record) == Genre::BookSection {
        return text(&record.book_title).or(text(&record.publication));
    }
    text(&record.publication).or(text(&record.book_title)).or(text(&record.event_title))
}

/// A conference paper's proceedings: the book it is in (`publication`,
/// else `book_title`), never the event, which formats name apart (CSL's
/// `event-title`, RIS's `T2` for a `CONF`).
pub fn proceedings(record: &Record) -> Option<&str> {
    text(&record.publication).or(text(&record.book_title))
}

/// A licence as a URL, which is what every reader of a licence field can
/// use (a reference manager's "Rights", DC's `dc:rights`, schema.org's
/// `license`): a URL as given; Creative Commons licences by SPDX id
/// (`CC-BY-4.0`), by EPrints key with a version (`cc_by_nc_4`) or without
/// one (`cc_by`, taken as 4.0, the version EPrints 3.4 links); CC0; a few
/// software licences by SPDX id. `None` for anything else ("all rights
/// reserved"), which readers then get as written.
pub fn license_url(license: &str) -> Option<String> {
    let l = license.trim();
    if l.starts_with("https://") || l.starts_with("http://") {
        return Some(l.to_string());
    }
    let key = l.to_ascii_lowercase().replace('_', "-");
    match key.as_str() {
        "cc0" | "cc0-1.0" | "cc-public-domain" => {
            return Some("https://creativecommons.org/publicdomain/zero/1.0/".into());
        }
        "mit" => return Some("https://spdx.org/licenses/MIT.html".into()),
        "apache-2.0" => return Some("https://spdx.org/licenses/Apache-2.0.html".into()),
        "gpl-3.0" | "gpl" => return Some("https://spdx.org/licenses/GPL-3.0-or-later.html".into()),
        _ => {}
    }
    const KINDS: [&str; 6] = ["by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"];
    let rest = key.strip_prefix("cc-")?;
    let (kind, version) = match rest.rsplit_once('-') {
        Some((kind, v)) if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !v.is_empty() => {
            (kind, if v.contains('.') { v.to_string() } else { format!("{v}.0") })
        }
        _ => (rest, "4.0".to_string()),
    };
    KINDS.contains(&kind).then(|| format!("https://creativecommons.org/licenses/{kind}/{version}/"))
}

/// Collapses runs of whitespace (line breaks of imported abstracts) to one
/// space, for the line-based formats (RIS, Refer).
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// English month abbreviations, as BibTeX's month macros name them.
pub const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_become_urls() {
        let cc = |k: &str, v: &str| Some(format!("https://creativecommons.org/licenses/{k}/{v}/"));
        assert_eq!(license_url("cc_by"), cc("by", "4.0"));
        assert_eq!(license_url("cc_by_nc_nd"), cc("by-nc-nd", "4.0"));
        assert_eq!(license_url("cc_by_nc_4"), cc("by-nc", "4.0"));
        assert_eq!(license_url("CC-BY-4.0"), cc("by", "4.0"));
        assert_eq!(license_url("CC-BY-SA-3.0"), cc("by-sa", "3.0"));
        assert_eq!(license_url("cc0").as_deref(), Some("https://creativecommons.org/publicdomain/zero/1.0/"));
        assert_eq!(license_url("https://example.org/l").as_deref(), Some("https://example.org/l"));
        assert_eq!(license_url("all rights reserved"), None);
        assert_eq!(license_url("cc_nonsense"), None);
    }

    #[test]
    fn page_ranges_split() {
        assert_eq!(page_bounds("12-34"), ("12".into(), Some("34".into())));
        assert_eq!(page_bounds("12–34"), ("12".into(), Some("34".into())));
        assert_eq!(page_bounds("Art. No. 014024"), ("Art. No. 014024".into(), None));
    }
}
