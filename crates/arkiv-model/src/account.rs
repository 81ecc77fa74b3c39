//! Users of the repository and what kind of staff they are: the types the
//! store keeps and the permission rules (in arkiv-services) read. No rules
//! live here beyond what a value means on its own.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

pub type UserId = i64;

/// What a user is to the repository. Ordered by reach: an editor may do
/// everything a depositor may, an admin everything an editor may.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Depositor,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Depositor, Role::Editor, Role::Admin];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Depositor => "depositor",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// Editors and admins: those who may see staff-only documents and review.
    pub fn is_staff(&self) -> bool {
        *self >= Role::Editor
    }
}

/// The part of the repository an editor looks after. Empty lists mean no
/// limit on that axis; an editor whose scope is all empty edits everything.
/// A record is in scope when it matches every non-empty axis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorScope {
    /// Subject ids (a record under a narrower subject is in scope too when
    /// the caller expands the tree; the store keeps the ids as given).
    pub subjects: Vec<String>,
    /// Item type keys (`policy_paper`...).
    pub types: Vec<String>,
    /// Series names, compared exactly.
    pub series: Vec<String>,
    /// Division ids (EPrints' first editorial axis in its publication
    /// flavour, `editor_limit_fields`), kept as given like subjects.
    pub divisions: Vec<String>,
}

impl EditorScope {
    pub fn is_unlimited(&self) -> bool {
        self.subjects.is_empty() && self.types.is_empty() && self.series.is_empty() && self.divisions.is_empty()
    }
}

/// A user account as stored. `password_hash` is a PHC string (argon2id);
/// it never leaves the services layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// As the user typed it; uniqueness is decided on [`email_key`].
    pub email: String,
    pub name: String,
    pub password_hash: String,
    /// The login name an account brought over from EPrints had there
    /// (unique whatever its case); it logs in with it as with the address.
    /// `None` for accounts made in Arkiv.
    pub username: Option<String>,
    pub role: Role,
    pub scope: EditorScope,
    pub orcid: Option<String>,
    pub created: Timestamp,
    pub disabled: bool,
    /// Whether the address is known to be the user's: confirmed through a
    /// link mailed to it, or the account was made by an admin. An
    /// unconfirmed account has no right beyond an anonymous visitor's.
    pub verified: bool,
}

/// The form of an address two accounts may not share: `A@Example.org` and
/// `a@example.org` are one mailbox to every user.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The lookup key of an imported account whose address another account
/// logs in with (EPrints lets two users share one address; Arkiv's
/// accounts are unique by [`email_key`]). It holds capital letters, which
/// no [`email_key`] does, so no typed address finds the account: it logs in
/// by its username only.
pub fn unlisted_email_key(eprints_userid: i64) -> String {
    format!("Address shared: EPrints user {eprints_userid}")
}

/// The lookup key of a username, whatever its case.
pub fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_typed_address_finds_an_unlisted_account() {
        let key = unlisted_email_key(42);
        assert_ne!(email_key(&key), key, "a typed copy of the key is lower-cased and misses it");
        assert_eq!(email_key(" Ada@Example.ORG "), "ada@example.org");
        assert_eq!(username_key(" JSmith "), "jsmith");
    }
}
