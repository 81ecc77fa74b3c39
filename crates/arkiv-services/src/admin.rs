//! What an admin does to the repository itself: users' roles and editorial
//! scopes, disabling an account (its sessions end at once), the subject
//! tree, and the settings that are safe to change while the site runs
//! (see [`crate::settings`]). Every method checks [`Action::Administer`]
//! first.

use crate::accounts::plausible_email;
use crate::settings::{LiveSettings, Overrides};
use crate::workflow::metadata::FieldProblem;
use crate::workflow::{may, Action, WorkflowError};
use crate::Repository;
use arkiv_model::{EditorScope, Role, Scheme, Subject, User, UserId};
use std::sync::Arc;

pub struct Admin<'a> {
    repo: &'a Repository,
    user: &'a User,
}

type Result<T> = std::result::Result<T, WorkflowError>;

fn store_err(e: impl Into<anyhow::Error>) -> WorkflowError {
    WorkflowError::Store(e.into())
}

fn invalid(field: &str, problem: impl Into<String>) -> WorkflowError {
    WorkflowError::Invalid(vec![crate::workflow::metadata::FieldProblem {
        field: field.into(),
        problem: problem.into(),
    }])
}

impl<'a> Admin<'a> {
    /// `Forbidden` unless `user` is an admin.
    pub fn new(repo: &'a Repository, user: &'a User) -> Result<Self> {
        if !may(Some(user), Action::Administer, None) {
            return Err(WorkflowError::Forbidden);
        }
        Ok(Admin { repo, user })
    }

    /// The harvested sources with their progress, and the open conflicts
    /// between local edits and newer harvested versions (at most 200, oldest
    /// first).
    pub async fn harvests(&self) -> Result<(Vec<arkiv_storage::HarvestSourceRow>, Vec<crate::harvest::ConflictView>)> {
        let sources = self.repo.store.harvest_sources().await.map_err(store_err)?;
        let conflicts = crate::harvest::conflicts(self.repo, 200).await.map_err(WorkflowError::Store)?;
        Ok((sources, conflicts))
    }

    /// Takes the harvested version of a conflict (`take`) or keeps the local one.
    pub async fn resolve_harvest_conflict(&self, source: &str, identifier: &str, take: bool) -> Result<()> {
        if self.repo.store.harvest_conflict(source, identifier).await.map_err(store_err)?.is_none() {
            return Err(WorkflowError::NotFound);
        }
        let actor = format!("user:{}", self.user.id);
        crate::harvest::resolve_conflict(self.repo, source, identifier, take, &actor).await.map_err(|e| {
            match e.downcast_ref::<arkiv_storage::StoreError>() {
                Some(arkiv_storage::StoreError::Conflict { current, .. }) => {
                    WorkflowError::Conflict { current: *current }
                }
                _ => WorkflowError::Store(e),
            }
        })
    }

    /// The clients that may harvest the COUNTER_SUSHI API.
    pub async fn sushi_clients(&self) -> Result<Vec<arkiv_storage::SushiClient>> {
        self.repo.store.sushi_clients().await.map_err(store_err)
    }

    /// Adds a SUSHI client (see [`add_sushi_client`]).
    pub async fn add_sushi_client(&self, name: &str, customer_id: &str) -> Result<arkiv_storage::SushiClient> {
        let client = add_sushi_client(self.repo, name, customer_id).await?;
        tracing::info!(by = self.user.id, requestor = %client.requestor_id, name = %client.name, "SUSHI client added");
        Ok(client)
    }

    pub async fn remove_sushi_client(&self, requestor_id: &str) -> Result<bool> {
        self.repo.store.remove_sushi_client(requestor_id).await.map_err(store_err)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        self.repo.accounts.users().await.map_err(store_err)
    }

    /// Sets a user's role, scope and whether the account is disabled. An
    /// admin cannot demote or disable their own account (someone must be
    /// left who can undo it). Disabling ends the user's sessions.
    pub async fn update_user(&self, id: UserId, role: Role, scope: EditorScope, disabled: bool) -> Result<()> {
        let mut user = self.repo.accounts.user(id).await.map_err(store_err)?.ok_or(WorkflowError::NotFound)?;
        if id == self.user.id && (role != Role::Admin || disabled) {
            return Err(invalid("role", "you cannot demote or disable your own account; ask another admin"));
        }
        user.role = role;
        user.scope = scope;
        user.disabled = disabled;
        self.repo.accounts.update_user(&user).await.map_err(store_err)?;
        if disabled {
            self.repo.accounts.delete_user_sessions(id).await.map_err(store_err)?;
        }
        Ok(())
    }

    /// Confirms a user's address by hand (an admin who knows the person,
    /// or a repository without mail): the account may be used from now on.
    pub async fn confirm_user(&self, id: UserId) -> Result<()> {
        let mut user = self.repo.accounts.user(id).await.map_err(store_err)?.ok_or(WorkflowError::NotFound)?;
        if !user.verified {
            user.verified = true;
            self.repo.accounts.update_user(&user).await.map_err(store_err)?;
            tracing::info!(user = id, admin = self.user.id, "address confirmed by an admin");
        }
        Ok(())
    }

    /// Adds a subject or renames and moves one. The id is kept forever
    /// (records name it); the parent must exist and must not be the subject
    /// itself or under it. A move reaches every record filed under the
    /// subject or below it in the same transaction (their OAI-PMH sets name
    /// the subject's path; each gets a revision by `system:subjects`, which
    /// the search index follows). Returns how many records that rewrote.
    ///
    /// `scheme` says which tree: the subjects or the divisions. An id names
    /// one node of either tree, so an id the other tree holds is refused.
    pub async fn put_subject(&self, scheme: Scheme, id: &str, name: &str, parent: Option<&str>) -> Result<u64> {
        let (id, name) = (id.trim(), name.trim());
        if id.is_empty() || id.len() > 100 || !id.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c)) {
            return Err(invalid("id", "a subject id is 1 to 100 letters, digits, _, - or ."));
        }
        if name.is_empty() || name.chars().count() > 300 {
            return Err(invalid("name", "a subject needs a name of at most 300 characters"));
        }
        let tree = self.repo.subjects();
        let word = scheme.label().to_lowercase();
        if let Some(other) = tree.scheme_of(id).filter(|s| *s != scheme) {
            return Err(invalid("id", format!("{id:?} is already a {}", other.label().to_lowercase())));
        }
        let parent = parent.map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = parent {
            if tree.scheme_of(p) != Some(scheme) {
                return Err(invalid("parent", format!("there is no {word} {p:?}")));
            }
            if tree.path(p).iter().any(|s| s.id == id) {
                return Err(invalid("parent", "a subject cannot be placed under itself"));
            }
        }
        let subject = Subject { id: id.to_string(), name: name.to_string(), parent: parent.map(str::to_string) };
        let rewritten = self.repo.put_subjects(scheme, &[subject]).await.map_err(store_err)?;
        tracing::info!(admin = self.user.id, email = %self.user.email, tree = scheme.as_str(), subject = id, parent = ?parent, rewritten, "subject saved");
        Ok(rewritten)
    }
}

/// The settings form as typed: each field's text, and the fields to put
/// back to `arkiv.toml`'s value (what was typed for those is ignored).
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    pub name: String,
    pub description: String,
    pub contact_email: String,
    pub registration: bool,
    /// Domains separated by spaces, commas or lines.
    pub allowed_domains: String,
    pub session_hours: String,
    /// Field names (`name`, `description`, `contact_email`, `registration`,
    /// `allowed_domains`, `session_hours`) to reset.
    pub reset: Vec<String>,
}

impl SettingsForm {
    /// The form as it opens: the settings in effect, nothing to reset.
    pub fn showing(live: &LiveSettings) -> SettingsForm {
        SettingsForm {
            name: live.name.clone(),
            description: live.description.clone(),
            contact_email: live.contact_email.clone(),
            registration: live.accounts.registration,
            allowed_domains: live.accounts.allowed_domains.join("\n"),
            session_hours: live.accounts.session_hours.to_string(),
            reset: Vec::new(),
        }
    }
}

pub const MAX_SITE_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_ALLOWED_DOMAINS: usize = 100;
pub const MAX_SESSION_HOURS: u32 = 24 * 365;

impl Admin<'_> {
    /// Changes the live settings: each field either resets to the file's
    /// value or takes what was typed (kept as an override only where it
    /// differs from the file). Every field is checked first; if any is not
    /// acceptable nothing is stored and each problem is named by its field.
    /// The change is in effect on this node at once, on others at their
    /// next reload, and is logged with who made it.
    pub async fn update_settings(&self, form: &SettingsForm) -> Result<Arc<LiveSettings>> {
        let file = &self.repo.config;
        let reset = |field: &str| form.reset.iter().any(|r| r == field);
        let mut problems = Vec::new();
        let mut problem =
            |field: &str, text: &str| problems.push(FieldProblem { field: field.into(), problem: text.into() });
        // An override is kept only where it differs from the file.
        fn differs<T: PartialEq>(value: T, file: &T) -> Option<T> {
            (value != *file).then_some(value)
        }
        let mut next = Overrides::default();

        if !reset("name") {
            let name = form.name.trim();
            if name.is_empty() || name.chars().count() > MAX_SITE_NAME_CHARS || name.chars().any(char::is_control) {
                problem(
                    "name",
                    &format!("the repository needs a name of 1 to {MAX_SITE_NAME_CHARS} characters, on one line"),
                );
            } else {
                next.name = differs(name.to_string(), &file.repository.name);
            }
        }
        if !reset("description") {
            let description = form.description.trim();
            if description.chars().count() > MAX_DESCRIPTION_CHARS
                || description.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                problem(
                    "description",
                    &format!("the description is at most {MAX_DESCRIPTION_CHARS} characters of text"),
                );
            } else {
                next.description = differs(description.to_string(), &file.repository.description.trim().to_string());
            }
        }
        if !reset("contact_email") {
            let email = form.contact_email.trim();
            if !plausible_email(email) {
                problem("contact_email", "the contact needs an e-mail address readers and harvesters can write to, e.g. repository@example.org");
            } else {
                next.contact_email = differs(email.to_string(), &file.repository.contact_email);
            }
        }
        if !reset("registration") {
            next.registration = differs(form.registration, &file.accounts.registration);
        }
        if !reset("allowed_domains") {
            match domains(&form.allowed_domains) {
                Ok(list) => next.allowed_domains = differs(list, &file.accounts.allowed_domains),
                Err(text) => problem("allowed_domains", &text),
            }
        }
        if !reset("session_hours") {
            match form.session_hours.trim().parse::<u32>() {
                Ok(h) if (1..=MAX_SESSION_HOURS).contains(&h) => {
                    next.session_hours = differs(h, &file.accounts.session_hours)
                }
                _ => problem(
                    "session_hours",
                    &format!("a login lasts a whole number of hours from 1 to {MAX_SESSION_HOURS} (a year)"),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(WorkflowError::Invalid(problems));
        }

        let before = self.repo.settings();
        let after = self.repo.put_settings(&next).await.map_err(store_err)?;
        let changes = describe_changes(&before, &after);
        tracing::info!(
            admin = self.user.id,
            email = %self.user.email,
            changes = %if changes.is_empty() { "none".to_string() } else { changes.join("; ") },
            overridden = %after.overrides.fields().join(" "),
            "live settings changed"
        );
        Ok(after)
    }
}

/// The allowed-domains field as a list: lowercased, a leading `@` dropped,
/// duplicates removed; or what is wrong with it.
fn domains(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut list: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|w| !w.is_empty()) {
        let d = word.trim_start_matches('@').trim_end_matches('.').to_lowercase();
        if !is_domain(&d) {
            bad.push(word.to_string());
        } else if !list.contains(&d) {
            list.push(d);
        }
    }
    if !bad.is_empty() {
        return Err(format!("not a domain name (like example.org): {}", bad.join(", ")));
    }
    if list.len() > MAX_ALLOWED_DOMAINS {
        return Err(format!("at most {MAX_ALLOWED_DOMAINS} domains"));
    }
    Ok(list)
}

/// A domain name of at least two labels, each 1 to 63 letters, digits or
/// hyphens, not starting or ending with a hyphen.
fn is_domain(d: &str) -> bool {
    d.len() <= 253
        && d.split('.').count() >= 2
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// What differs between two settings, for the log.
fn describe_changes(before: &LiveSettings, after: &LiveSettings) -> Vec<String> {
    let mut out = Vec::new();
    let o = &after.overrides;
    let mut note = |field: &str, was: String, now: String, here: bool, was_here: bool| {
        if was != now || here != was_here {
            let source = if here { "changed here" } else { "arkiv.toml's" };
            out.push(format!("{field}: {was} -> {now} ({source})"));
        }
    };
    let b = &before.overrides;
    note("name", format!("{:?}", before.name), format!("{:?}", after.name), o.name.is_some(), b.name.is_some());
    note(
        "description",
        format!("{:?}", before.description),
        format!("{:?}", after.description),
        o.description.is_some(),
        b.description.is_some(),
    );
    note(
        "contact_email",
        format!("{:?}", before.contact_email),
        format!("{:?}", after.contact_email),
        o.contact_email.is_some(),
        b.contact_email.is_some(),
    );
    note(
        "registration",
        before.accounts.registration.to_string(),
        after.accounts.registration.to_string(),
        o.registration.is_some(),
        b.registration.is_some(),
    );
    note(
        "allowed_domains",
        format!("{:?}", before.accounts.allowed_domains),
        format!("{:?}", after.accounts.allowed_domains),
        o.allowed_domains.is_some(),
        b.allowed_domains.is_some(),
    );
    note(
        "session_hours",
        before.accounts.session_hours.to_string(),
        after.accounts.session_hours.to_string(),
        o.session_hours.is_some(),
        b.session_hours.is_some(),
    );
    out
}

/// Adds a SUSHI client named `name` (an institution, an aggregator): its
/// requestor ID and API key are made here, at random; its customer ID is
/// `customer_id` if given, else The World's (every report is the whole
/// repository's). What an admin does on `/admin`, and the operator with
/// `arkiv stats sushi-client` (who holds the repository's files, so no
/// account is asked for).
pub async fn add_sushi_client(repo: &Repository, name: &str, customer_id: &str) -> Result<arkiv_storage::SushiClient> {
    let name = name.trim();
    if name.chars().count() < 2 || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(invalid("name", "A name of 2 to 200 characters, on one line."));
    }
    let customer_id = match customer_id.trim() {
        "" => crate::sushi::WORLD.to_string(),
        c if c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.:".contains(ch)) => c.to_string(),
        _ => return Err(invalid("customer_id", "Letters, digits and - _ . : only, up to 64.")),
    };
    let client = arkiv_storage::SushiClient {
        requestor_id: crate::accounts::tokens::random_token()[..24].to_string(),
        customer_id,
        api_key: crate::accounts::tokens::random_token(),
        name: name.to_string(),
        created: repo.now().0,
    };
    if !repo.store.add_sushi_client(&client).await.map_err(store_err)? {
        return Err(invalid("name", "Try again: the random requestor ID was taken."));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use arkiv_model::Role;

    async fn repo_and_admin(dir: &std::path::Path) -> (Repository, User) {
        let mut config = Config::default();
        config.repository.name = "The file's name".into();
        let repo = Repository::init(dir, config).await.unwrap();
        let new = crate::accounts::NewAccount {
            email: "admin@example.org".into(),
            name: "Admin".into(),
            password: "a correct horse battery".into(),
            role: Role::Admin,
            scope: EditorScope::default(),
            orcid: None,
        };
        let user = crate::accounts::create_user(repo.accounts.as_ref(), new).await.unwrap();
        (repo, user)
    }

    #[tokio::test]
    async fn settings_overlay_the_file_survive_a_reopen_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let (repo, admin) = repo_and_admin(dir.path()).await;
        let a = Admin::new(&repo, &admin).unwrap();
        assert_eq!(repo.settings().name, "The file's name");

        // Changing one field overrides that one only.
        let mut form = SettingsForm::showing(&repo.settings());
        form.name = "  Changed live ".into();
        form.allowed_domains = "@Example.ac.uk, example.org example.org".into();
        let live = a.update_settings(&form).await.unwrap();
        assert_eq!(live.name, "Changed live");
        assert_eq!(live.accounts.allowed_domains, ["example.ac.uk", "example.org"]);
        assert_eq!(live.overrides.fields(), ["name", "allowed_domains"]);
        assert_eq!(repo.settings().name, "Changed live");
        assert_eq!(repo.export_context().repository_name, "Changed live");

        // Bad values: each named, nothing stored.
        let mut bad = SettingsForm::showing(&repo.settings());
        bad.name = " ".into();
        bad.contact_email = "nobody".into();
        bad.session_hours = "0".into();
        bad.allowed_domains = "example.org not_a_domain".into();
        match a.update_settings(&bad).await {
            Err(WorkflowError::Invalid(problems)) => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                assert_eq!(fields, ["name", "contact_email", "allowed_domains", "session_hours"]);
            }
            other => panic!("bad values accepted: {other:?}"),
        }
        assert_eq!(repo.settings().name, "Changed live");

        // Kept in the database: reopening the repository keeps the change.
        drop(repo);
        let repo = Repository::open(dir.path()).await.unwrap();
        assert_eq!(repo.settings().name, "Changed live");
        assert_eq!(repo.config.repository.name, "The file's name", "the file is untouched");

        // Reset: back to the file's value; another field untouched.
        let a = Admin::new(&repo, &admin).unwrap();
        let mut form = SettingsForm::showing(&repo.settings());
        form.reset = vec!["name".into()];
        let live = a.update_settings(&form).await.unwrap();
        assert_eq!(live.name, "The file's name");
        assert_eq!(live.overrides.fields(), ["allowed_domains"]);
        // Typing the file's value is no override either.
        let mut form = SettingsForm::showing(&live);
        form.allowed_domains = String::new();
        assert!(a.update_settings(&form).await.unwrap().overrides.fields().is_empty());

        // Only an admin.
        let mut editor = admin.clone();
        editor.role = Role::Editor;
        assert!(matches!(Admin::new(&repo, &editor), Err(WorkflowError::Forbidden)));
    }

    #[test]
    fn domains_are_checked_one_by_one() {
        assert_eq!(domains("").unwrap(), Vec::<String>::new());
        assert_eq!(domains("a.org\nB.a.org;c.org.").unwrap(), ["a.org", "b.a.org", "c.org"]);
        assert!(domains("localhost").is_err());
        assert!(domains("-a.org").is_err());
        assert!(domains("a..org").is_err());
        assert!(domains("a.org/x").unwrap_err().contains("a.org/x"));
    }
}
