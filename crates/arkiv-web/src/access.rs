//! Who may see what: the public site's access rules in one place, as plain
//! functions over the model, so every page and download asks the same
//! questions and the rules can be tested without a server.
//!
//! A record is public only while it is live; a withdrawn one leaves a
//! tombstone; one still in a workarea or under review does not exist as far
//! as a visitor can tell (a 403 would already say that it does). A
//! document's bytes are public only if the document says `public` and its
//! embargo, if any, has run out.

use arkiv_model::{Document, PartialDate, Record, Status};

/// What a visitor may learn of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// The abstract page and public documents.
    Public,
    /// Only the tombstone: citation, reason, successor.
    Withdrawn,
    /// Nothing: answered as if the record did not exist.
    Hidden,
}

pub fn visibility(record: &Record) -> Visibility {
    match record.status {
        Status::Archive => Visibility::Public,
        Status::Deletion => Visibility::Withdrawn,
        Status::Inbox | Status::Buffer => Visibility::Hidden,
    }
}

/// Why a document's bytes may not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// Readable by registered users or staff only.
    Security,
    /// Embargoed until the given date.
    Embargo(PartialDate),
}

/// `None` if anyone may download the document today, else why not.
pub fn restriction(doc: &Document, today: time::Date) -> Option<Restriction> {
    if doc.security != arkiv_model::DocumentSecurity::Public {
        return Some(Restriction::Security);
    }
    match doc.embargo {
        Some(until) if !embargo_over(until, today) => Some(Restriction::Embargo(until)),
        _ => None,
    }
}

/// True once the embargo date has come (see [`arkiv_model::document::embargo_over`]).
pub fn embargo_over(until: PartialDate, today: time::Date) -> bool {
    arkiv_model::document::embargo_over(until, as_partial(today))
}

/// A calendar day as the model's date type.
pub fn as_partial(day: time::Date) -> PartialDate {
    PartialDate { year: day.year(), month: Some(u8::from(day.month())), day: Some(day.day()) }
}

/// Today in UTC, the calendar embargo dates are read in.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::DocumentSecurity;
    use time::macros::date;

    fn pd(s: &str) -> PartialDate {
        s.parse().unwrap()
    }

    #[test]
    fn embargoes_open_on_their_day_and_partial_dates_at_their_end() {
        let today = date!(2024 - 06 - 15);
        assert!(embargo_over(pd("2024-06-15"), today));
        assert!(!embargo_over(pd("2024-06-16"), today));
        assert!(!embargo_over(pd("2024-06"), today));
        assert!(embargo_over(pd("2024-05"), today));
        assert!(!embargo_over(pd("2024"), today));
        assert!(embargo_over(pd("2023"), today));
        assert!(embargo_over(pd("2024-02"), date!(2024 - 02 - 29)));
    }

    #[test]
    fn only_public_unembargoed_documents_are_open() {
        let today = date!(2024 - 06 - 15);
        let mut doc = Document { pos: 1, ..Default::default() };
        assert_eq!(restriction(&doc, today), None);
        doc.embargo = Some(pd("2099-01-01"));
        assert_eq!(restriction(&doc, today), Some(Restriction::Embargo(pd("2099-01-01"))));
        doc.embargo = None;
        doc.security = DocumentSecurity::Staffonly;
        assert_eq!(restriction(&doc, today), Some(Restriction::Security));
        doc.security = DocumentSecurity::Validuser;
        assert_eq!(restriction(&doc, today), Some(Restriction::Security));
    }

    #[test]
    fn only_live_records_are_public() {
        let mut r = Record::new("article", "T");
        for (status, want) in [
            (Status::Inbox, Visibility::Hidden),
            (Status::Buffer, Visibility::Hidden),
            (Status::Archive, Visibility::Public),
            (Status::Deletion, Visibility::Withdrawn),
        ] {
            r.status = status;
            assert_eq!(visibility(&r), want);
        }
    }
}
