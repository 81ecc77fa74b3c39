//! Citation lines in the manner of EPrints' default citations: the line a
//! reader sees on the abstract page, in browse views and in search results.
//!
//! The line is made of three parts, so that a page can link or emphasise the
//! title without re-implementing the rules: what stands before the title,
//! the title, and what follows it.

use crate::item_type::{is_serial_grey_literature, ItemTypes};
use crate::person::Creator;
use crate::record::Record;

/// A citation line split around its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// "Jaroslewlcz, Aleksandra (2014) "
    pub lead: String,
    pub title: String,
    /// ". OSW Commentary No. 137, 29.05.2014. [Policy Paper]"
    pub tail: String,
}

impl std::fmt::Display for Citation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.lead, self.title, self.tail)
    }
}

/// The record's citation line as plain text.
pub fn citation_line(record: &Record, types: &ItemTypes) -> String {
    citation(record, types).to_string()
}

/// "A", "A and B", "A, B and C": how EPrints joins names.
pub fn join_names(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

fn people(list: &[Creator]) -> String {
    join_names(&list.iter().map(|c| c.name.inverted()).collect::<Vec<_>>())
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Appends `text`, after `sep` if something stands before it.
fn push(out: &mut String, sep: &str, text: &str) {
    if !text.is_empty() {
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(text);
    }
}

/// Builds the citation of a record.
pub fn citation(record: &Record, types: &ItemTypes) -> Citation {
    let mut lead = if !record.creators.is_empty() {
        people(&record.creators)
    } else if !record.editors.is_empty() {
        let suffix = if record.editors.len() == 1 { "(ed.)" } else { "(eds.)" };
        format!("{} {suffix}", people(&record.editors))
    } else {
        join_names(&record.corp_creators.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
    };
    if let Some(year) = record.year() {
        if !lead.is_empty() {
            lead.push(' ');
        }
        lead.push_str(&format!("({year})"));
    }
    if !lead.is_empty() {
        lead.push(' ');
    }

    let title = record.title.trim().to_string();
    let mut tail = String::new();
    match record.ispublished.as_deref() {
        Some("inpress") => tail.push_str(" (In Press)"),
        Some("submitted") => tail.push_str(" (Submitted)"),
        Some("unpub") => tail.push_str(" (Unpublished)"),
        _ => {}
    }
    let mut body = String::new();
    let key = record.item_type.as_str();
    match key {
        "article" => {
            if let Some(p) = nonempty(&record.publication) {
                body.push_str(p);
                push(&mut body, ", ", nonempty(&record.volume).unwrap_or(""));
                if let Some(n) = nonempty(&record.number) {
                    body.push_str(&format!(" ({n})"));
                }
            }
            if let Some(p) = nonempty(&record.pagerange) {
                if !body.is_empty() {
                    body.push_str(". ");
                }
                body.push_str(&format!("pp. {p}"));
            }
            if let Some(issn) = nonempty(&record.issn) {
                push(&mut body, ". ", &format!("ISSN {issn}"));
            }
        }
        "book_section" => {
            let mut inner = String::from("In: ");
            if !record.editors.is_empty() {
                let suffix = if record.editors.len() == 1 { "(ed.)" } else { "(eds.)" };
                inner.push_str(&format!("{} {suffix} ", people(&record.editors)));
            }
            inner.push_str(nonempty(&record.book_title).or(nonempty(&record.publication)).unwrap_or(""));
            push(&mut inner, ". ", &publisher_place(record));
            if let Some(p) = nonempty(&record.pagerange) {
                inner.push_str(&format!(", pp. {p}"));
            }
            if let Some(isbn) = nonempty(&record.isbn) {
                inner.push_str(&format!(". ISBN {isbn}"));
            }
            if inner != "In: " {
                body = inner;
            }
        }
        "policy_paper" | "working_paper" => {
            body.push_str(nonempty(&record.series).unwrap_or(""));
            if let Some(n) = nonempty(&record.number) {
                push(&mut body, " ", &format!("No. {n}"));
            }
            if let Some(d) = record.date.filter(|d| d.month.is_some()) {
                push(&mut body, ", ", &d.dotted());
            }
            if body.is_empty() {
                body = publisher_place(record);
            }
        }
        "thesis" => {
            // EPrints: "PhD thesis, University of X."
            match record.subtype() {
                Some(key) => body.push_str(&format!("{} thesis", crate::subtype_label(key))),
                None => body.push_str("Thesis"),
            }
            push(&mut body, ", ", nonempty(&record.institution).unwrap_or(""));
        }
        "conference_item" => {
            if let Some(e) = nonempty(&record.event_title) {
                body.push_str(&format!("In: {e}"));
            }
        }
        _ if is_serial_grey_literature(key) || key == "book" => {
            // A monograph says what kind it is first, as EPrints' citation
            // does: "Technical Report. Publisher, Place."
            body.push_str(nonempty(&record.series).unwrap_or(""));
            push(&mut body, ", ", nonempty(&record.number).unwrap_or(""));
            let place = publisher_place(record);
            push(&mut body, ". ", &place);
            if let Some(isbn) = nonempty(&record.isbn) {
                push(&mut body, ". ", &format!("ISBN {isbn}"));
            }
            if let Some(kind) = record.subtype().filter(|_| key == "monograph") {
                let kind = crate::subtype_label(kind);
                body = if body.is_empty() { kind } else { format!("{kind}. {body}") };
            }
        }
        _ => body = publisher_place(record),
    }
    let ends_sentence = |tail: &str| {
        let text = if tail.is_empty() { title.as_str() } else { tail };
        text.ends_with(['.', '?', '!'])
    };
    if !body.is_empty() {
        if !ends_sentence(&tail) {
            tail.push('.');
        }
        tail.push(' ');
        tail.push_str(&body);
    }
    if !ends_sentence(&tail) {
        tail.push('.');
    }
    tail.push_str(&format!(" [{}]", types.label(key)));
    Citation { lead, title, tail }
}

/// "Institution/publisher, Place": the imprint.
fn publisher_place(record: &Record) -> String {
    let who = nonempty(&record.publisher).or(nonempty(&record.institution)).unwrap_or("");
    let mut s = who.to_string();
    push(&mut s, ", ", nonempty(&record.place_of_pub).unwrap_or(""));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::PartialDate;

    fn seed() -> Record {
        let mut r =
            Record::new("policy_paper", "Kazakhstan's attitude towards integration with Russia: less love, more fear");
        r.creators.push(Creator::new("Jaroslewlcz", "Aleksandra"));
        r.date = Some("2014-05-29".parse::<PartialDate>().unwrap());
        r.series = Some("OSW Commentary".into());
        r.number = Some("137".into());
        r.ispublished = Some("pub".into());
        r
    }

    #[test]
    fn the_seed_renders_as_on_its_page() {
        assert_eq!(
            citation_line(&seed(), &ItemTypes::default()),
            "Jaroslewlcz, Aleksandra (2014) Kazakhstan's attitude towards integration with Russia: less love, more fear. OSW Commentary No. 137, 29.05.2014. [Policy Paper]"
        );
    }

    #[test]
    fn a_monograph_and_a_thesis_say_what_kind_they_are() {
        let types = ItemTypes::default();
        let mut monograph = Record::new("monograph", "Grid stability");
        monograph.creators.push(Creator::new("Omarov", "Daniyar"));
        monograph.date = Some(crate::PartialDate::year(2011));
        monograph.subtype = Some("technical_report".into());
        monograph.publisher = Some("Caltech".into());
        assert!(citation_line(&monograph, &types).contains("Grid stability. Technical Report. Caltech"));
        let mut thesis = Record::new("thesis", "Water and power");
        thesis.institution = Some("Nazarbayev University".into());
        thesis
            .extra
            .push(crate::ExtraField { name: "thesis_type".into(), xml: "<thesis_type>masters</thesis_type>".into() });
        assert_eq!(thesis.subtype(), Some("masters"), "found in a record imported before the field");
        assert!(citation_line(&thesis, &types).contains("Masters thesis, Nazarbayev University"));
    }

    #[test]
    fn a_year_only_date_is_not_padded_to_a_day() {
        let mut r = seed();
        r.date = Some(PartialDate::year(2014));
        assert_eq!(citation(&r, &ItemTypes::default()).tail, ". OSW Commentary No. 137. [Policy Paper]");
    }

    #[test]
    fn articles_cite_their_journal() {
        let mut r = Record::new("article", "Why things fall?");
        r.creators = vec![Creator::new("Doe", "Jane"), Creator::new("Roe", "Rick"), Creator::new("Poe", "Edgar")];
        r.date = Some(PartialDate::year(1999));
        r.publication = Some("Journal of Falls".into());
        r.volume = Some("12".into());
        r.number = Some("3".into());
        r.pagerange = Some("1-10".into());
        assert_eq!(
            citation_line(&r, &ItemTypes::default()),
            "Doe, Jane, Roe, Rick and Poe, Edgar (1999) Why things fall? Journal of Falls, 12 (3). pp. 1-10. [Article]"
        );
    }

    #[test]
    fn editors_and_bodies_stand_in_for_missing_authors() {
        let mut r = Record::new("book", "Collected papers");
        r.editors = vec![Creator::new("Doe", "Jane")];
        r.publisher = Some("OSW".into());
        r.place_of_pub = Some("Warsaw".into());
        assert_eq!(citation_line(&r, &ItemTypes::default()), "Doe, Jane (ed.) Collected papers. OSW, Warsaw. [Book]");
        let mut r = Record::new("report", "Annual report");
        r.corp_creators.push(crate::CorporateCreator { name: "Centre for Eastern Studies".into(), id: None });
        r.ispublished = Some("unpub".into());
        assert_eq!(
            citation_line(&r, &ItemTypes::default()),
            "Centre for Eastern Studies Annual report (Unpublished). [Report]"
        );
    }
}
