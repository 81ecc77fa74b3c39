//! Confirming an address. A self-registered account has no right beyond an
//! anonymous visitor's (it cannot even log in) until its owner opens a
//! one-time link mailed to the address: registering with someone else's
//! address, or one that does not exist, gets nothing. The link goes out
//! through [`crate::mail`]: into the outbox always, by SMTP when a server
//! is configured; without one an admin can pass it on from `/admin`, or
//! confirm the account there. Accounts an admin makes are confirmed when
//! made, and a password reset (which also proves the address) confirms too.
//!
//! The token is 32 random bytes stored only by its SHA-256, like a session
//! id, and works once, within [`CONFIRM_VALID_SECONDS`]. Opening the link
//! is not enough: the account's password must be given with it. Otherwise
//! a stranger could register someone's address with a password of their
//! own, wait for the owner to click the link out of curiosity, and log in
//! to an account that now passes for the owner's.

use super::tokens::{random_token, session_hash};
use super::AccountError;
use crate::rate_limits::{claim_mail, MailKind};
use crate::Repository;
use arkiv_model::{Timestamp, User, UserId};

/// How long a confirmation link works.
pub const CONFIRM_VALID_SECONDS: i64 = 48 * 3600;

/// A new link is mailed at most this often per account, however often its
/// owner (or anyone with the password) tries to log in.
pub const RESEND_AFTER_SECONDS: i64 = 10 * 60;

/// Mails a confirmation link to a new account's address, asked for from
/// `address`, within the limits of [`MailKind::Registration`] (a link not
/// sent over a limit can be had later by logging in).
///
/// The mail does not greet the recipient by the name the registrant typed:
/// that name is a stranger's words until the address is confirmed, and a
/// greeting would present them as the site's.
pub async fn send_confirmation(repo: &Repository, user: &User, address: &str) -> Result<(), AccountError> {
    if claim_mail(repo, MailKind::Registration, &user.email, address).await?.is_err() {
        return Ok(());
    }
    let token = random_token();
    let now = repo.now();
    repo.accounts
        .create_confirmation(&session_hash(&token), user.id, now, Timestamp(now.0 + CONFIRM_VALID_SECONDS))
        .await?;
    let settings = repo.settings();
    let site = &settings.name;
    let link = format!("{}/register/confirm?token={token}", repo.base_url());
    let subject = format!("Confirm your address at {site}");
    let body = format!(
        "Hello,\n\nan account at {site} was registered with this address ({}).\n\
         To confirm that the address is yours and start using the account, open this link within two days:\n\n\
         {link}\n\n\
         If you did not register, ignore this message: the account stays unused, and nothing is done with your address.\n",
        crate::mail::asked_from(address, now)
    );
    crate::mail::send(repo, &user.email, &subject, &body, Some(&link)).await?;
    Ok(())
}

/// Mails a new link to an unconfirmed account (whose password was just
/// given from `address`), unless one went out in the last
/// [`RESEND_AFTER_SECONDS`]. Does nothing for a confirmed, disabled or
/// unknown account.
pub async fn resend_confirmation(repo: &Repository, user: UserId, address: &str) -> Result<(), AccountError> {
    let Some(user) = repo.accounts.user(user).await?.filter(|u| !u.verified && !u.disabled) else { return Ok(()) };
    let recent = repo.accounts.last_confirmation(user.id).await?;
    if recent.is_some_and(|at| repo.now().0 - at.0 < RESEND_AFTER_SECONDS) {
        return Ok(());
    }
    send_confirmation(repo, &user, address).await
}

/// Tells the owner of an address that someone tried to register it again.
/// The registration form answers alike for a new and a known address; the
/// difference reaches only the mailbox.
pub(super) async fn send_already_registered(repo: &Repository, user: &User, address: &str) -> Result<(), AccountError> {
    if claim_mail(repo, MailKind::Registration, &user.email, address).await?.is_err() {
        return Ok(());
    }
    let settings = repo.settings();
    let site = &settings.name;
    let base = repo.base_url();
    let subject = format!("Your account at {site}");
    let body = format!(
        "Hello {},\n\nsomeone asked to register a new account at {site} with this address, which already has one\n\
         ({}).\n\
         If it was you, log in at {base}/login, or choose a new password at {base}/password/forgot.\n\
         If it was not you, ignore this message: nothing was changed.\n",
        user.name,
        crate::mail::asked_from(address, repo.now())
    );
    crate::mail::send(repo, &user.email, &subject, &body, None).await?;
    Ok(())
}

/// Uses a confirmation link, with the account's password: the address is
/// confirmed and the account may be used from now on.
pub async fn confirm_address(repo: &Repository, token: &str, password: &str) -> Result<User, AccountError> {
    let expired = || {
        AccountError::Invalid(
            "This link has expired or has been used already. Log in to have a new one sent to you.".into(),
        )
    };
    if token.len() != 64 {
        return Err(expired());
    }
    let hash = session_hash(token);
    let id = repo.accounts.confirmation_user(&hash, repo.now()).await?.ok_or_else(expired)?;
    let user = repo.accounts.user(id).await?.filter(|u| !u.disabled).ok_or_else(expired)?;
    if !super::password::verify_in_pool(password, &user.password_hash).await {
        return Err(AccountError::Invalid(
            "The password is not the one this account was registered with. If you did not register it, ignore the link."
                .into(),
        ));
    }
    repo.accounts.take_confirmation(&hash, repo.now()).await?.ok_or_else(expired)?;
    let user = repo.accounts.user(id).await?.ok_or_else(expired)?;
    tracing::info!(user = user.id, "address confirmed");
    Ok(user)
}
