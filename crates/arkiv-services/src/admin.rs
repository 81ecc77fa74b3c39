//! What an admin does to the repository itself: users' roles and editorial
//! scopes, disabling an account (its sessions end at once), and the subject
//! tree. Every method checks [`Action::Administer`] first.

use crate::workflow::{may, Action, WorkflowError};
use crate::Repository;
use arkiv_model::{EditorScope, Role, Subject, User, UserId};

pub struct Admin<'a> {
    repo: &'a Repository,
    user: &'a User,
}

type Result<T> = std::result::Result<T, WorkflowError>;

fn store_err(e: impl Into<anyhow::Error>) -> WorkflowError {
    WorkflowError::Store(e.into())
}

fn invalid(field: &str, problem: impl Into<String>) -> WorkflowError {
    WorkflowError::Invalid(vec![crate::workflow::metadata::FieldProblem { field: field.into(), problem: problem.into() }])
}

impl<'a> Admin<'a> {
    /// `Forbidden` unless `user` is an admin.
    pub fn new(repo: &'a Repository, user: &'a User) -> Result<Self> {
        if !may(Some(user), Action::Administer, None) {
            return Err(WorkflowError::Forbidden);
        }
        Ok(Admin { repo, user })
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

    /// Adds a subject or renames and moves one. The id is kept forever
    /// (records name it); the parent must exist and must not be the subject
    /// itself or under it.
    pub async fn put_subject(&self, id: &str, name: &str, parent: Option<&str>) -> Result<()> {
        let (id, name) = (id.trim(), name.trim());
        if id.is_empty() || id.len() > 100 || !id.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c)) {
            return Err(invalid("id", "a subject id is 1 to 100 letters, digits, _, - or ."));
        }
        if name.is_empty() || name.chars().count() > 300 {
            return Err(invalid("name", "a subject needs a name of at most 300 characters"));
        }
        let tree = self.repo.subjects();
        let parent = parent.map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = parent {
            if tree.get(p).is_none() {
                return Err(invalid("parent", format!("there is no subject {p:?}")));
            }
            if tree.path(p).iter().any(|s| s.id == id) {
                return Err(invalid("parent", "a subject cannot be placed under itself"));
            }
        }
        let subject = Subject { id: id.to_string(), name: name.to_string(), parent: parent.map(str::to_string) };
        self.repo.put_subjects(&[subject]).await.map_err(store_err)
    }
}
