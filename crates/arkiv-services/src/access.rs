//! Who may see what of a record and have which bytes, today: the public
//! site's access rules in one place, as plain functions over the model, so
//! that every page, download and export asks the same questions and the
//! rules are tested without a server.
//!
//! A record is public only while it is live; a withdrawn one leaves a
//! tombstone; one still in a workarea or under review does not exist as far
//! as a visitor can tell (a 403 would already say that it does). A
//! document's bytes are open to anyone only when
//! [`Document::is_open_access`] says so; beyond that the workflow's
//! [`may_read_document`] decides (the depositor, staff in scope, registered
//! users for their documents).

use crate::workflow::permissions::{in_scope, may, may_read_document, Action};
use arkiv_model::{Document, DocumentSecurity, PartialDate, Record, Status, StoredFile, User};

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

/// Why a document is not open to everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// Readable by registered users or staff only.
    Security(DocumentSecurity),
    /// Embargoed until the given date.
    Embargo(PartialDate),
}

/// `None` if anyone may read the document on `today`
/// ([`Document::is_open_access`]), else why not.
pub fn restriction(doc: &Document, today: PartialDate) -> Option<Restriction> {
    if doc.is_open_access(today) {
        None
    } else if doc.security != DocumentSecurity::Public {
        Some(Restriction::Security(doc.security))
    } else {
        doc.embargo.map(Restriction::Embargo)
    }
}

/// A file this viewer may have.
#[derive(Debug, Clone, Copy)]
pub struct ReadableFile<'r> {
    pub doc: &'r Document,
    pub file: &'r StoredFile,
    /// Where its bytes are in the file store.
    pub sha256: &'r str,
    /// Open to everyone (so shared caches may keep it), not only to this
    /// viewer.
    pub open: bool,
}

/// Why a file is not served to this viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such record, as far as this viewer may know.
    NoRecord,
    /// The record was withdrawn, and its files with it.
    Withdrawn,
    /// The record has no document at that position, or no file by that name.
    NoFile,
    /// The document is for some readers only, and this viewer is not one.
    Restricted(Restriction),
    /// The record lists the file but the repository never held its bytes
    /// (an import that could not fetch them).
    BytesNotHeld,
}

/// Whether `viewer` may have the file `filename` of document `pos` of
/// `record` on `today`: the one decision every download makes.
pub fn readable_file<'r>(
    viewer: Option<&User>,
    record: &'r Record,
    pos: u32,
    filename: &str,
    today: PartialDate,
) -> Result<ReadableFile<'r>, Refusal> {
    // Beyond the public: a depositor reads the files of their own items,
    // staff those of items in their scope, whatever their status.
    match visibility(record) {
        Visibility::Public => {}
        Visibility::Hidden if may(viewer, Action::View, Some(record)) => {}
        Visibility::Withdrawn if viewer.is_some_and(|u| in_scope(u, record)) => {}
        Visibility::Hidden => return Err(Refusal::NoRecord),
        Visibility::Withdrawn => return Err(Refusal::Withdrawn),
    }
    let doc = record.document(pos).ok_or(Refusal::NoFile)?;
    let file = doc.file(filename).ok_or(Refusal::NoFile)?;
    let open = doc.is_open_access(today) && record.is_live();
    if !open && !may_read_document(viewer, record, doc, today) {
        if let Some(why) = restriction(doc, today) {
            return Err(Refusal::Restricted(why));
        }
    }
    let sha256 = file.sha256.as_deref().filter(|s| arkiv_storage::files::is_sha256(s)).ok_or(Refusal::BytesNotHeld)?;
    Ok(ReadableFile { doc, file, sha256, open })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::{EditorScope, Role};

    fn pd(s: &str) -> PartialDate {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_unembargoed_documents_are_open() {
        let today = pd("2024-06-15");
        let mut doc = Document { pos: 1, ..Default::default() };
        assert_eq!(restriction(&doc, today), None);
        doc.embargo = Some(pd("2099-01-01"));
        assert_eq!(restriction(&doc, today), Some(Restriction::Embargo(pd("2099-01-01"))));
        doc.embargo = Some(pd("2024-06-15"));
        assert_eq!(restriction(&doc, today), None, "an embargo opens on its day");
        doc.embargo = Some(pd("2024-06"));
        assert!(restriction(&doc, today).is_some(), "a month's embargo runs to its end");
        doc.embargo = None;
        doc.security = DocumentSecurity::Staffonly;
        assert_eq!(restriction(&doc, today), Some(Restriction::Security(DocumentSecurity::Staffonly)));
        doc.security = DocumentSecurity::Validuser;
        assert_eq!(restriction(&doc, today), Some(Restriction::Security(DocumentSecurity::Validuser)));
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

    fn record_with(security: DocumentSecurity, status: Status) -> Record {
        let mut r = Record::new("article", "T");
        r.status = status;
        r.userid = Some(7);
        r.documents = vec![Document {
            pos: 1,
            security,
            files: vec![StoredFile { filename: "a.pdf".into(), sha256: Some("ab".repeat(32)), ..Default::default() }],
            ..Default::default()
        }];
        r
    }

    fn user(id: i64, role: Role) -> User {
        crate::workflow::permissions::tests::user(id, role, EditorScope::default())
    }

    #[test]
    fn downloads_follow_the_one_rule() {
        let today = pd("2024-06-15");
        let public = record_with(DocumentSecurity::Public, Status::Archive);
        let got = readable_file(None, &public, 1, "a.pdf", today).expect("open to all");
        assert!(got.open);
        assert_eq!(readable_file(None, &public, 1, "b.pdf", today).unwrap_err(), Refusal::NoFile);
        assert_eq!(readable_file(None, &public, 2, "a.pdf", today).unwrap_err(), Refusal::NoFile);

        let mut embargoed = record_with(DocumentSecurity::Public, Status::Archive);
        embargoed.documents[0].embargo = Some(pd("2024-06-16"));
        assert_eq!(
            readable_file(None, &embargoed, 1, "a.pdf", today).unwrap_err(),
            Refusal::Restricted(Restriction::Embargo(pd("2024-06-16")))
        );
        assert!(readable_file(None, &embargoed, 1, "a.pdf", pd("2024-06-16")).unwrap().open, "open on its day");

        let members = record_with(DocumentSecurity::Validuser, Status::Archive);
        assert_eq!(
            readable_file(None, &members, 1, "a.pdf", today).unwrap_err(),
            Refusal::Restricted(Restriction::Security(DocumentSecurity::Validuser))
        );
        let reader = user(1, Role::Depositor);
        let got = readable_file(Some(&reader), &members, 1, "a.pdf", today).expect("registered users read it");
        assert!(!got.open, "not for shared caches");

        let draft = record_with(DocumentSecurity::Public, Status::Inbox);
        assert_eq!(readable_file(None, &draft, 1, "a.pdf", today).unwrap_err(), Refusal::NoRecord);
        assert_eq!(readable_file(Some(&reader), &draft, 1, "a.pdf", today).unwrap_err(), Refusal::NoRecord);
        let depositor = user(7, Role::Depositor);
        assert!(readable_file(Some(&depositor), &draft, 1, "a.pdf", today).is_ok(), "the depositor reads their draft");

        let withdrawn = record_with(DocumentSecurity::Public, Status::Deletion);
        assert_eq!(readable_file(None, &withdrawn, 1, "a.pdf", today).unwrap_err(), Refusal::Withdrawn);
        let editor = user(2, Role::Editor);
        assert!(readable_file(Some(&editor), &withdrawn, 1, "a.pdf", today).is_ok(), "staff in scope");

        let mut unfetched = record_with(DocumentSecurity::Public, Status::Archive);
        unfetched.documents[0].files[0].sha256 = None;
        assert_eq!(readable_file(None, &unfetched, 1, "a.pdf", today).unwrap_err(), Refusal::BytesNotHeld);
    }
}
