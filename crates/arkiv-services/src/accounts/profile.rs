//! A user's own account: their name and ORCID iD, and changing their
//! password, which needs the current one and ends every other session.

use super::password::{hash_in_pool, password_problem, verify_in_pool};
use super::{open_session, AccountError, NewSession, MAX_NAME_CHARS};
use crate::config::AccountSettings;
use arkiv_model::validate::is_orcid;
use arkiv_model::User;
use arkiv_storage::AccountStore;

/// Sets the user's name and ORCID iD (empty: none).
pub async fn update_profile(
    store: &dyn AccountStore,
    user: &User,
    name: &str,
    orcid: &str,
) -> Result<User, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AccountError::Invalid(format!("Please give your name (at most {MAX_NAME_CHARS} characters).")));
    }
    let orcid = orcid.trim().trim_start_matches("https://orcid.org/").trim_start_matches("http://orcid.org/");
    if !orcid.is_empty() && !is_orcid(orcid) {
        return Err(AccountError::Invalid("The ORCID iD is not valid (e.g. 0000-0002-1825-0097).".into()));
    }
    let mut updated = store.user(user.id).await?.ok_or(AccountError::BadCredentials)?;
    updated.name = name.to_string();
    updated.orcid = Some(orcid.to_string()).filter(|o| !o.is_empty());
    store.update_user(&updated).await?;
    Ok(updated)
}

/// Changes the password if `current` is right; ends every session of the
/// user (a stolen one too) and opens a new one for this browser.
pub async fn change_password(
    store: &dyn AccountStore,
    settings: &AccountSettings,
    user: &User,
    current: &str,
    new: &str,
) -> Result<NewSession, AccountError> {
    let mut stored = store.user(user.id).await?.ok_or(AccountError::BadCredentials)?;
    if !verify_in_pool(current, &stored.password_hash).await {
        return Err(AccountError::Invalid("The current password is not right.".into()));
    }
    if let Some(problem) = password_problem(new) {
        return Err(AccountError::Invalid(problem));
    }
    stored.password_hash = hash_in_pool(new).await;
    store.update_user(&stored).await?;
    store.delete_user_sessions(stored.id).await?;
    tracing::info!(user = stored.id, "password changed");
    open_session(store, settings, &stored).await
}
