//! Permission rules, one place for all of them. A viewer is `None` when
//! anonymous. Staff (editors, admins) act on records in their scope; an
//! admin's scope is everything. A depositor acts on their own records while
//! they are in the workarea.

use arkiv_model::{Document, PartialDate, Record, Role, Status, User};

/// What a visitor may want to do with a record (or, for [`Action::Deposit`]
/// and [`Action::Review`], with the repository).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the record's page (live records: everyone; others: their
    /// depositor and staff in scope).
    View,
    /// Create a new item in one's workarea.
    Deposit,
    /// Change the record's metadata or documents.
    Edit,
    /// Move it from the workarea to the review buffer.
    Submit,
    /// See the review buffer.
    Review,
    /// Accept it from the buffer into the archive.
    Accept,
    /// Send it back from the buffer to the depositor.
    Return,
    /// Withdraw a live record (it becomes a tombstone).
    Withdraw,
    /// Bring a withdrawn record back.
    Restore,
    /// Ask for a copy of a document the visitor may not read.
    RequestCopy,
    /// Start a new version of a live record in one's workarea (its
    /// depositor, or staff in scope).
    NewVersion,
    /// Manage users, subjects and settings.
    Administer,
    /// Deposit for another account (SWORD's `On-Behalf-Of`: a publisher's
    /// router, a library's mediated service). An editor's right by default:
    /// the deposit lands in the other account's workarea, as its own.
    Mediate,
    /// Delete an item that was never live, with its history: its depositor
    /// takes back a draft, or a deposit not yet accepted; staff in scope
    /// likewise. A record that was ever live is withdrawn instead.
    DeleteDraft,
}

/// Whether an editor's scope covers the record. Admins' covers everything.
pub fn in_scope(user: &User, record: &Record) -> bool {
    if user.role == Role::Admin {
        return true;
    }
    if !user.role.is_staff() {
        return false;
    }
    let s = &user.scope;
    (s.types.is_empty() || s.types.contains(&record.item_type))
        && (s.subjects.is_empty() || record.subjects.iter().any(|r| s.subjects.contains(r)))
        && (s.series.is_empty() || record.series.as_ref().is_some_and(|r| s.series.contains(r)))
        && (s.divisions.is_empty() || record.divisions.iter().any(|r| s.divisions.contains(r)))
}

/// Whether a user's rights count: not disabled, and the address confirmed.
/// Anyone else is treated as an anonymous visitor.
fn acts(user: &User) -> bool {
    !user.disabled && user.verified
}

fn owns(user: &User, record: &Record) -> bool {
    record.userid == Some(user.id)
}

/// The one rule every handler asks.
pub fn may(viewer: Option<&User>, action: Action, record: Option<&Record>) -> bool {
    let user = viewer.filter(|u| acts(u));
    match (action, user, record) {
        (Action::View, _, Some(r)) if r.is_live() || r.status == Status::Deletion => true,
        (Action::View, Some(u), Some(r)) => owns(u, r) || in_scope(u, r),
        (Action::Deposit, Some(_), _) => true,
        (Action::Review, Some(u), _) => u.role.is_staff(),
        (Action::Administer, Some(u), _) => u.role == Role::Admin,
        (Action::Mediate, Some(u), _) => u.role.is_staff(),
        (Action::DeleteDraft, Some(u), Some(r)) => {
            matches!(r.status, Status::Inbox | Status::Buffer)
                && r.datestamp.is_none()
                && (owns(u, r) || in_scope(u, r))
        }
        (Action::RequestCopy, _, Some(r)) => r.is_live(),
        (Action::NewVersion, Some(u), Some(r)) => r.is_live() && (owns(u, r) || in_scope(u, r)),
        (Action::Edit, Some(u), Some(r)) => match r.status {
            Status::Inbox => owns(u, r) || in_scope(u, r),
            Status::Buffer | Status::Archive => in_scope(u, r),
            Status::Deletion => false,
        },
        (Action::Submit, Some(u), Some(r)) => r.status == Status::Inbox && (owns(u, r) || in_scope(u, r)),
        (Action::Accept | Action::Return, Some(u), Some(r)) => r.status == Status::Buffer && in_scope(u, r),
        (Action::Withdraw, Some(u), Some(r)) => r.status == Status::Archive && in_scope(u, r),
        (Action::Restore, Some(u), Some(r)) => r.status == Status::Deletion && in_scope(u, r),
        _ => false,
    }
}

/// Whether a user may deposit on behalf of others: by role
/// ([`Action::Mediate`]), or because the configuration names the account
/// (`[sword] mediators`, by address or username: a router's account needs
/// the right without an editor's other rights).
pub fn may_mediate(user: &User, granted: &[String]) -> bool {
    let named = |g: &String| {
        g.eq_ignore_ascii_case(&user.email) || user.username.as_deref().is_some_and(|n| g.eq_ignore_ascii_case(n))
    };
    may(Some(user), Action::Mediate, None) || (acts(user) && granted.iter().any(named))
}

/// Whether the viewer may read a document's files. Open-access documents
/// (public and out of embargo: [`Document::is_open_access`]) of live
/// records go to everyone. Otherwise: registered-users documents to any
/// logged-in user once the embargo is over; everything to the depositor
/// and to staff in scope.
pub fn may_read_document(viewer: Option<&User>, record: &Record, doc: &Document, today: PartialDate) -> bool {
    use arkiv_model::DocumentSecurity;
    let user = viewer.filter(|u| acts(u));
    if let Some(u) = user {
        if owns(u, record) || in_scope(u, record) {
            return true;
        }
    }
    if !record.is_live() {
        return false;
    }
    if doc.is_open_access(today) {
        return true;
    }
    let embargo_over = doc.embargo.is_none_or(|e| arkiv_model::document::embargo_over(e, today));
    user.is_some() && doc.security == DocumentSecurity::Validuser && embargo_over
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arkiv_model::{DocumentSecurity, EditorScope, Timestamp};

    /// A user for tests (also `access.rs`'s).
    pub(crate) fn user(id: i64, role: Role, scope: EditorScope) -> User {
        User {
            id,
            email: format!("u{id}@example.org"),
            name: "U".into(),
            password_hash: String::new(),
            username: None,
            role,
            scope,
            orcid: None,
            created: Timestamp(0),
            disabled: false,
            verified: true,
        }
    }

    #[test]
    fn editors_act_in_scope_only() {
        let mut r = Record::new("policy_paper", "T");
        r.status = Status::Buffer;
        r.userid = Some(1);
        let papers = user(2, Role::Editor, EditorScope { types: vec!["policy_paper".into()], ..Default::default() });
        let theses = user(3, Role::Editor, EditorScope { types: vec!["thesis".into()], ..Default::default() });
        let owner = user(1, Role::Depositor, EditorScope::default());
        assert!(may(Some(&papers), Action::Accept, Some(&r)));
        assert!(!may(Some(&theses), Action::Accept, Some(&r)));
        assert!(!may(Some(&owner), Action::Accept, Some(&r)));
        assert!(!may(Some(&owner), Action::Edit, Some(&r)), "submitted: the depositor waits for review");
        assert!(may(Some(&owner), Action::View, Some(&r)));
        assert!(!may(None, Action::View, Some(&r)));
        // Divisions, EPrints' first editorial axis.
        let ecs = user(4, Role::Editor, EditorScope { divisions: vec!["sch_ecs".into()], ..Default::default() });
        assert!(!may(Some(&ecs), Action::Accept, Some(&r)), "an item of no division");
        r.divisions = vec!["sch_law".into()];
        assert!(!may(Some(&ecs), Action::Accept, Some(&r)));
        r.divisions.push("sch_ecs".into());
        assert!(may(Some(&ecs), Action::Accept, Some(&r)));
    }

    #[test]
    fn mediation_is_staffs_and_a_deposit_not_yet_live_can_be_taken_back() {
        let owner = user(1, Role::Depositor, EditorScope::default());
        let other = user(9, Role::Depositor, EditorScope::default());
        let editor = user(2, Role::Editor, EditorScope::default());
        assert!(may(Some(&editor), Action::Mediate, None));
        assert!(!may(Some(&owner), Action::Mediate, None));
        assert!(!may(None, Action::Mediate, None));
        let granted = vec!["U9@example.org".to_string()];
        assert!(may_mediate(&other, &granted), "named in [sword] mediators");
        assert!(!may_mediate(&owner, &granted));
        assert!(may_mediate(&editor, &[]));
        let mut r = Record::new("report", "T");
        r.userid = Some(1);
        for status in [Status::Inbox, Status::Buffer] {
            r.status = status;
            assert!(may(Some(&owner), Action::DeleteDraft, Some(&r)), "{status:?}");
            assert!(may(Some(&editor), Action::DeleteDraft, Some(&r)));
            assert!(!may(Some(&other), Action::DeleteDraft, Some(&r)));
        }
        r.status = Status::Archive;
        assert!(!may(Some(&owner), Action::DeleteDraft, Some(&r)), "live: withdrawn, not deleted");
        r.status = Status::Inbox;
        r.datestamp = Some(Timestamp(5));
        assert!(!may(Some(&owner), Action::DeleteDraft, Some(&r)), "an item that was once live");
    }

    #[test]
    fn restricted_documents_need_the_right_viewer() {
        let mut r = Record::new("report", "T");
        r.status = Status::Archive;
        r.userid = Some(1);
        let today = PartialDate { year: 2026, month: Some(1), day: Some(1) };
        let doc = |security, embargo: Option<i32>| Document {
            security,
            embargo: embargo.map(|y| PartialDate { year: y, month: None, day: None }),
            ..Default::default()
        };
        let other = user(9, Role::Depositor, EditorScope::default());
        let editor = user(2, Role::Editor, EditorScope::default());
        assert!(may_read_document(None, &r, &doc(DocumentSecurity::Public, None), today));
        assert!(!may_read_document(None, &r, &doc(DocumentSecurity::Public, Some(2030)), today));
        assert!(!may_read_document(Some(&other), &r, &doc(DocumentSecurity::Public, Some(2030)), today));
        assert!(may_read_document(Some(&editor), &r, &doc(DocumentSecurity::Public, Some(2030)), today));
        assert!(!may_read_document(None, &r, &doc(DocumentSecurity::Validuser, None), today));
        assert!(may_read_document(Some(&other), &r, &doc(DocumentSecurity::Validuser, None), today));
        assert!(!may_read_document(Some(&other), &r, &doc(DocumentSecurity::Staffonly, None), today));
        assert!(may_read_document(Some(&editor), &r, &doc(DocumentSecurity::Staffonly, None), today));
    }
}
