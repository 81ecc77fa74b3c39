//! Importing EPrints' users (`arkiv import users USERS.xml [--passwords
//! DUMP]`): the XML export of the user dataset gives usernames, addresses,
//! names, user types and editorial scopes; EPrints never exports
//! passwords, so a dump of its `user` table gives the hashes, which are
//! kept marked for the login alone ([`crate::accounts::legacy`]) and
//! replaced by argon2id at each user's first login.
//!
//! Decisions, each said in the report where it applies:
//! - EPrints' `user`, `editor` and `admin` become depositor, editor and
//!   admin; another type rejects its user. Imported accounts count as
//!   confirmed: the repository vouches for them as EPrints did.
//! - An editor's `editperms` (EPrints searches) become Arkiv's editorial
//!   scope when they name only subjects, item types and series, in one
//!   search or in several over the same field. Any other scope cannot be
//!   held by Arkiv's: that editor gets a scope that matches nothing until
//!   an admin sets one (never more than EPrints allowed).
//! - A username taken already (by an earlier user of the file, compared
//!   case-insensitively as EPrints does, or by an account here) rejects
//!   its user.
//! - Two users with one address (EPrints allows it, Arkiv's accounts are
//!   unique by address): the first by EPrints id, or an account that has
//!   it already, keeps it for logging in; the others are imported with the
//!   address for mail and log in by username only.
//! - A user with no hash, or one that is not a form EPrints writes, is
//!   imported without a password: their first login attempt mails them a
//!   reset link. A malformed hash is reported as an error. No mail goes
//!   out at import: reset links last an hour, and the site may not be at
//!   its address yet.
//! - Records imported before their depositor get them now: each record
//!   whose EPrints depositor is an imported user, and that has none, gets
//!   the user (a revision by `system:users`). Users already imported (by
//!   EPrints id) are left as they are, so a second run adds only what the
//!   first could not.

use crate::accounts::legacy::{EprintsHash, MARK};
use crate::accounts::{plausible_email, MAX_NAME_CHARS};
use crate::Repository;
use anyhow::Result;
use arkiv_formats::eprints::paths::search_terms;
use arkiv_formats::eprints::users::{EprintsUser, Item, PasswordRow};
use arkiv_model::account::username_key;
use arkiv_model::{EditorScope, Role, UserId};
use arkiv_storage::{NewUser, RecordWrite, StoreError};
use std::collections::{BTreeMap, HashMap};

/// Who a depositor given by this import is recorded as, in the history.
pub const USERS_ACTOR: &str = "system:users";

/// The longest username taken (EPrints' column is a VARCHAR(255)).
const MAX_USERNAME_BYTES: usize = 255;

/// What a users import did. Lines are the users file's, except in
/// `dump_rejected`, which are the password dump's.
#[derive(Debug, Default)]
pub struct UsersReport {
    pub imported: usize,
    /// Users imported by an earlier run (known by their EPrints id), left as
    /// they are.
    pub already: usize,
    /// (line, why) for each user not imported.
    pub rejected: Vec<(usize, String)>,
    /// (line, why) for each user imported without their password because
    /// its hash is not one EPrints writes.
    pub bad_hashes: Vec<(usize, String)>,
    /// (line, why) for each row of the password dump that could not be used.
    pub dump_rejected: Vec<(usize, String)>,
    /// (line, what) for users imported with a remark: an address shared,
    /// an editorial scope that could not be kept.
    pub warnings: Vec<(usize, String)>,
    /// Users imported with EPrints' password hash.
    pub with_password: usize,
    /// Usernames of the users imported without a password (no hash given,
    /// or a malformed one): a reset link reaches them at their first login.
    pub without_password: Vec<String>,
    /// Records given their depositor.
    pub depositors_given: usize,
}

impl UsersReport {
    /// Whether anything was refused (the command then exits with 2).
    pub fn has_errors(&self) -> bool {
        !self.rejected.is_empty() || !self.bad_hashes.is_empty() || !self.dump_rejected.is_empty()
    }
}

/// The role of an EPrints user type.
fn role_of(usertype: &str) -> Option<Role> {
    match usertype {
        "user" => Some(Role::Depositor),
        "editor" => Some(Role::Editor),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

/// Arkiv's editorial scope for EPrints' `editperms`, or why it has none.
/// No `editperms` is no limit, as in EPrints.
pub fn editor_scope(editperms: &[String]) -> Result<EditorScope, String> {
    let mut scopes = Vec::new();
    for search in editperms {
        let terms = search_terms(search);
        if terms.is_empty() {
            return Err(format!("the search {:?} is not one Arkiv can read", short(search)));
        }
        let mut scope = EditorScope::default();
        for (field, value) in terms {
            let words = || value.split_whitespace().map(str::to_string);
            match field.as_str() {
                "subjects" => scope.subjects.extend(words()),
                "type" => scope.types.extend(words()),
                "series" => scope.series.push(value.trim().to_string()),
                "divisions" => scope.divisions.extend(words()),
                other => return Err(format!("it limits the field {other}, which Arkiv's scopes do not have")),
            }
        }
        scopes.push(scope);
    }
    let axes = |s: &EditorScope| {
        [!s.subjects.is_empty(), !s.types.is_empty(), !s.series.is_empty(), !s.divisions.is_empty()]
            .iter()
            .filter(|x| **x)
            .count()
    };
    match scopes.len() {
        0 => Ok(EditorScope::default()),
        1 => Ok(scopes.remove(0)),
        _ if scopes.iter().all(|s| axes(s) == 1) => {
            // Several searches, each over one field: one scope if it is the same field.
            let mut union = EditorScope::default();
            for s in scopes {
                union.subjects.extend(s.subjects);
                union.types.extend(s.types);
                union.series.extend(s.series);
                union.divisions.extend(s.divisions);
            }
            if axes(&union) == 1 {
                Ok(union)
            } else {
                Err("its searches limit different fields, each on its own, which one Arkiv scope cannot say".into())
            }
        }
        _ => Err("it is several searches over several fields, which one Arkiv scope cannot say".into()),
    }
}

/// The item type of the scope given to an editor whose EPrints scope
/// cannot be kept: no record has it, so they review nothing, and /admin
/// shows it for what it is (an empty scope there would mean everything).
pub const NO_SCOPE_TYPE: &str = "none:eprints-scope-not-kept";

/// A scope with the narrower subjects and divisions of those it names, as
/// EPrints matches them (a search for a faculty finds its schools' items).
/// Arkiv's scopes match the ids they list, so the tree as it is at the
/// import is written out; ids the tree does not know are kept as given.
fn with_narrower(mut scope: EditorScope, tree: &arkiv_model::SubjectTree) -> EditorScope {
    use arkiv_model::Scheme;
    for (ids, scheme) in [(&mut scope.subjects, Scheme::Subjects), (&mut scope.divisions, Scheme::Divisions)] {
        let named: Vec<String> = std::mem::take(ids);
        for node in tree.nodes(scheme) {
            if !named.contains(&node.id) && tree.path(&node.id).iter().any(|p| named.contains(&p.id)) {
                ids.push(node.id.clone());
            }
        }
        let mut all = named;
        all.append(ids);
        *ids = all;
    }
    scope
}

fn nothing() -> EditorScope {
    EditorScope { types: vec![NO_SCOPE_TYPE.to_string()], ..Default::default() }
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Imports the users read from the export, with the password hashes of the
/// dump when there is one.
pub async fn import_users(
    repo: &Repository,
    users: Vec<Item<EprintsUser>>,
    passwords: Option<Vec<Item<PasswordRow>>>,
) -> Result<UsersReport> {
    let mut report = UsersReport::default();
    // The dump's rows by EPrints id; a second row for one id is an error.
    let mut hashes: HashMap<i64, (usize, PasswordRow)> = HashMap::new();
    for row in passwords.iter().flatten() {
        match &row.result {
            Err(why) => report.dump_rejected.push((row.line, why.clone())),
            Ok(r) if hashes.contains_key(&r.userid) => report
                .dump_rejected
                .push((row.line, format!("user {} is given twice (first on line {})", r.userid, hashes[&r.userid].0))),
            Ok(r) => {
                hashes.insert(r.userid, (row.line, r.clone()));
            }
        }
    }
    // The readable users, in EPrints id order: the first by id keeps a
    // shared address or username.
    let mut good: BTreeMap<i64, (usize, EprintsUser)> = BTreeMap::new();
    for item in users {
        match item.result {
            Err(why) => report.rejected.push((item.line, why)),
            Ok(u) if good.contains_key(&u.userid) => report
                .rejected
                .push((item.line, format!("user {} is given twice (first on line {})", u.userid, good[&u.userid].0))),
            Ok(u) => {
                good.insert(u.userid, (item.line, u));
            }
        }
    }
    let store = repo.accounts.as_ref();
    let known = store.eprints_users().await?;
    let mut usernames: HashMap<String, (i64, usize)> = HashMap::new();
    let mut linked: Vec<(i64, UserId)> = Vec::new();
    for (userid, (line, user)) in good {
        if let Some(&id) = known.get(&userid) {
            report.already += 1;
            linked.push((userid, id));
            continue;
        }
        match prepare(repo, &mut report, &mut usernames, line, &user, hashes.get(&userid)).await? {
            Ok(new) => {
                let without_password = new.password_hash.is_empty();
                match store.create_user(&new).await? {
                    Some(created) => {
                        report.imported += 1;
                        if without_password {
                            report.without_password.push(user.username.clone());
                        } else {
                            report.with_password += 1;
                        }
                        linked.push((userid, created.id));
                    }
                    None => report.rejected.push((
                        line,
                        format!(
                            "user {userid} ({}): an account with this username or address appeared meanwhile",
                            user.username
                        ),
                    )),
                }
            }
            Err(why) => report.rejected.push((line, why)),
        }
    }
    for (eprints_userid, user) in linked {
        report.depositors_given += give_depositor(repo, eprints_userid, user).await?;
    }
    report.rejected.sort();
    report.warnings.sort();
    report.bad_hashes.sort();
    report.dump_rejected.sort();
    Ok(report)
}

/// The account one EPrints user becomes, or why they cannot be imported.
async fn prepare(
    repo: &Repository,
    report: &mut UsersReport,
    usernames: &mut HashMap<String, (i64, usize)>,
    line: usize,
    user: &EprintsUser,
    hash: Option<&(usize, PasswordRow)>,
) -> Result<Result<NewUser, String>, StoreError> {
    let store = repo.accounts.as_ref();
    let who = format!("user {} ({})", user.userid, short(&user.username));
    let username = user.username.trim();
    if username.len() > MAX_USERNAME_BYTES || username.chars().any(char::is_control) {
        return Ok(Err(format!(
            "{who}: the username is longer than {MAX_USERNAME_BYTES} bytes or holds control characters"
        )));
    }
    let key = username_key(username);
    if let Some((first, first_line)) = usernames.get(&key) {
        return Ok(Err(format!("{who}: the username is user {first}'s already (line {first_line}); usernames are unique whatever their case")));
    }
    if store.user_by_username(username).await?.is_some() {
        return Ok(Err(format!("{who}: an account of this repository has the username already")));
    }
    let Some(role) = role_of(user.usertype.as_str()) else {
        return Ok(Err(format!(
            "{who}: the user type {:?} is not one Arkiv knows (user, editor, admin)",
            short(&user.usertype)
        )));
    };
    if !plausible_email(&user.email) {
        return Ok(Err(format!("{who}: {:?} is not an e-mail address", short(&user.email))));
    }
    let scope = match role {
        Role::Editor => match editor_scope(&user.editperms) {
            Ok(scope) => with_narrower(scope, &repo.subjects()),
            Err(why) => {
                report.warnings.push((
                    line,
                    format!(
                        "{who}: the editorial scope cannot be kept ({why}); they review nothing until an admin \
                         sets their scope on /admin"
                    ),
                ));
                nothing()
            }
        },
        _ => EditorScope::default(),
    };
    // The password: the dump's, else one the export happens to carry.
    let given = match hash {
        Some((dump_line, row)) => {
            if let Some(name) = row.username.as_deref().filter(|n| username_key(n) != key) {
                report.bad_hashes.push((
                    line,
                    format!(
                        "{who}: the password dump's user {} (line {dump_line}) is {:?}, not this user: its hash is \
                         not taken, and the user is imported without a password",
                        user.userid,
                        short(name)
                    ),
                ));
                None
            } else {
                row.password.clone()
            }
        }
        None => user.password.clone(),
    };
    let password_hash = match given.as_deref().map(EprintsHash::parse) {
        None | Some(Ok(None)) => String::new(),
        Some(Ok(Some(_))) => format!("{MARK}{}", given.as_deref().unwrap_or_default().trim()),
        Some(Err(why)) => {
            report.bad_hashes.push((line, format!("{who}: {why}; imported without a password")));
            String::new()
        }
    };
    // The address: this user's to log in with unless an account has it.
    let address_login = match store.user_by_email(&user.email).await? {
        None => true,
        Some(other) => {
            let holder = match &other.username {
                Some(name) => format!("{name}, imported before"),
                None => format!("the account {}", other.email),
            };
            report.warnings.push((
                line,
                format!(
                    "{who} shares the address {} with {holder}, who logs in with it; {} logs in by username only \
                     (mail still goes to the address)",
                    user.email, user.username
                ),
            ));
            false
        }
    };
    let name = format!("{} {}", user.given.trim(), user.family.trim());
    let name: String = name.trim().chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    usernames.insert(key, (user.userid, line));
    Ok(Ok(NewUser {
        email: user.email.trim().to_string(),
        name: if name.is_empty() { username.to_string() } else { name },
        password_hash,
        role,
        scope,
        orcid: None,
        verified: true,
        username: Some(username.to_string()),
        eprints_userid: Some(user.userid),
        address_login,
    }))
}

/// Gives the records whose EPrints depositor was `eprints_userid`, and that
/// have no depositor, the account `user`; returns how many.
async fn give_depositor(repo: &Repository, eprints_userid: i64, user: UserId) -> Result<usize> {
    let ids = repo.store.eprints_depositor_records(eprints_userid).await?;
    let mut given = 0;
    for chunk in ids.chunks(500) {
        let mut writes = Vec::new();
        for &id in chunk {
            if let Some((mut record, revision)) = repo.store.get_record_with_revision(id).await? {
                if record.userid.is_none() {
                    record.userid = Some(user);
                    writes.push(RecordWrite {
                        record,
                        actor: USERS_ACTOR.to_string(),
                        expected_revision: Some(revision),
                    });
                }
            }
        }
        if writes.is_empty() {
            continue;
        }
        let n = writes.len();
        match repo.store.put_records(writes).await {
            Ok(_) => given += n,
            // Changed meanwhile: the next run takes what is left.
            Err(StoreError::Conflict { .. }) => {
                tracing::warn!(eprints_userid, "records changed while their depositor was given; run the import again")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editperms_become_a_scope_where_arkiv_can_say_it() {
        let search = |fields: &str| format!("0|1||eprint|-|{fields}|-|");
        assert_eq!(editor_scope(&[]).unwrap(), EditorScope::default());
        let one = editor_scope(&[search("subjects:subjects:ANY:EQ:QA75 QA76|type:type:ANY:EQ:article")]).unwrap();
        assert_eq!(one.subjects, ["QA75", "QA76"]);
        assert_eq!(one.types, ["article"]);
        let union = editor_scope(&[search("type:type:ANY:EQ:article"), search("type:type:ANY:EQ:thesis")]).unwrap();
        assert_eq!(union.types, ["article", "thesis"]);
        assert!(editor_scope(&[search("type:type:ANY:EQ:article"), search("subjects:subjects:ANY:EQ:QA")])
            .unwrap_err()
            .contains("different fields"));
        assert_eq!(editor_scope(&[search("divisions:divisions:ANY:EQ:sch_ecs")]).unwrap().divisions, ["sch_ecs"]);
        assert!(editor_scope(&[search("date:date:ALL:EQ:2020")]).unwrap_err().contains("the field date"));
        assert!(editor_scope(&["nonsense".into()]).is_err());
    }
}
