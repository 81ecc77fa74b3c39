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

/// Degree level of a thesis, from EPrints' `thesis_type` (kept in
/// `Record::extra`): `true` for a master's or lower degree, which citation
/// formats set apart from a doctoral thesis.
pub fn is_masters_thesis(record: &Record) -> bool {
    record.extra.iter().any(|e| {
        e.name == "thesis_type" && ["masters", "bachelors", "diploma", "mphil"].iter().any(|t| e.xml.contains(t))
    })
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

/// The larger work a part appeared in: journal, book or proceedings.
pub fn container(record: &Record) -> Option<&str> {
    text(&record.publication).or(text(&record.book_title)).or(text(&record.event_title))
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
    fn page_ranges_split() {
        assert_eq!(page_bounds("12-34"), ("12".into(), Some("34".into())));
        assert_eq!(page_bounds("12–34"), ("12".into(), Some("34".into())));
        assert_eq!(page_bounds("Art. No. 014024"), ("Art. No. 014024".into(), None));
    }
}
