//! Forgotten passwords. A user asks with their address; if an account has
//! it, a one-time link valid for an hour goes out through [`crate::mail`]:
//! into the outbox always, by SMTP when a server is configured, and to the
//! log when none is (an admin can pass it on; it is never lost). The answer is the same whether or not the address
//! has an account, so the form does not tell which addresses exist. Using
//! the link sets the new password and ends every session of the account.

use super::password::{hash_in_pool, password_problem};
use super::tokens::{random_token, session_hash};
use super::AccountError;
use crate::rate_limits::{claim_mail, MailKind};
use crate::Repository;
use arkiv_model::{Timestamp, User};
use arkiv_storage::AccountStore;

/// How long a reset link works.
pub const RESET_VALID_SECONDS: i64 = 3600;

/// Asks for a reset link to the account at `email`, and returns at once:
/// the lookup and everything after it run in a task of their own, so the
/// answer takes the same time, and says the same, whether or not the
/// address has an account (a lookup that finds one, then writes a token
/// and a message, once answered measurably later than one that found
/// none). What goes wrong in the task is logged.
pub fn request_reset_in_background(repo: std::sync::Arc<Repository>, email: &str, address: &str) {
    let (email, address) = (email.to_string(), address.to_string());
    tokio::spawn(async move {
        if let Err(e) = request_reset(&repo, &email, &address).await {
            tracing::warn!(error = %e, "a password reset could not be prepared");
        }
    });
}

/// Sends a reset link to the account at `email` (an address, or the
/// username of an account brought over from EPrints), if there is one (and
/// it is not disabled), asked for from `address`, within the limits of
/// [`MailKind::PasswordReset`]: a few per hour to one person, and a few
/// more per hour from one address. The web form calls
/// [`request_reset_in_background`].
pub async fn request_reset(repo: &Repository, email: &str, address: &str) -> Result<(), AccountError> {
    let Some(user) = super::find_login(repo.accounts.as_ref(), email).await?.filter(|u| !u.disabled) else {
        tracing::info!("password reset asked for an address without an account");
        return Ok(());
    };
    send_reset(repo, &user, address, "someone (we hope you) asked to reset the password of").await
}

/// Mails `user` a reset link, asked for from `address`, within the limits
/// of [`MailKind::PasswordReset`]. `why` begins the message's first
/// sentence, which goes on with the account.
pub async fn send_reset(repo: &Repository, user: &User, address: &str, why: &str) -> Result<(), AccountError> {
    let store = repo.accounts.as_ref();
    let settings = repo.settings();
    let (base_url, site_name) = (repo.base_url(), &settings.name);
    if claim_mail(repo, MailKind::PasswordReset, &user.email, address).await?.is_err() {
        return Ok(());
    }
    let token = random_token();
    let now = repo.now();
    store.create_reset(&session_hash(&token), user.id, now, Timestamp(now.0 + RESET_VALID_SECONDS)).await?;
    let link = format!("{base_url}/password/reset?token={token}");
    let subject = format!("Resetting your password at {site_name}");
    let account = match &user.username {
        Some(username) => format!("your account {username}"),
        None => "your account".to_string(),
    };
    let body = format!(
        "Hello {},\n\n{why} {account} at {site_name}\n\
         ({}).\n\
         To choose a new password, open this link within an hour:\n\n{link}\n\n\
         If you did not ask for this, ignore this message: your password stays as it is.\n",
        user.name,
        crate::mail::asked_from(address, now),
    );
    crate::mail::send(repo, &user.email, &subject, &body, Some(&link)).await?;
    Ok(())
}

/// Sets a new password with a reset token; ends every session of the user.
pub async fn reset_password(store: &dyn AccountStore, token: &str, new_password: &str) -> Result<User, AccountError> {
    if let Some(problem) = password_problem(new_password) {
        return Err(AccountError::Invalid(problem));
    }
    let expired =
        || AccountError::Invalid("This link has expired or has been used already. Please ask for a new one.".into());
    if token.len() != 64 {
        return Err(expired());
    }
    let user_id = store.take_reset(&session_hash(token), Timestamp::now()).await?.ok_or_else(expired)?;
    let mut user = store.user(user_id).await?.filter(|u| !u.disabled).ok_or_else(expired)?;
    user.password_hash = hash_in_pool(new_password).await;
    // The link reached the address: that confirms it.
    user.verified = true;
    store.update_user(&user).await?;
    store.delete_user_sessions(user.id).await?;
    // An owner slowed by their own failures, who proved the address, may
    // log in at once from anywhere.
    store.forget_prefix(&crate::rate_limits::login_account_prefix(user.id)).await?;
    tracing::info!(user = user.id, "password reset");
    Ok(user)
}
