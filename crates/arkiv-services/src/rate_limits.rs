//! Every rate limit the site keeps, in one place: how fast a stranger may
//! guess passwords, how much mail a stranger may make the site send, and
//! how many requests an API token may make in a minute.
//! The counting itself is the store's ([`arkiv_storage::RateLimits`]): one
//! atomic step per attempt, in the database, so that parallel requests
//! cannot slip past a check and every node shares the counts.
//!
//! Logins are slowed, not locked. The key is the pair (account, address):
//! a stranger's wrong guesses delay the stranger's next guess at that
//! account, never the owner's login from another address, and a correct
//! password from an address that has not failed is always checked. Each
//! address also has a larger allowance across all accounts, against one
//! machine trying one password on every account. The address is the
//! client's own: behind a reverse proxy, the one the proxy reports, when
//! the proxy is among the trusted ones (`[server] trusted_proxies`).
//!
//! Mail is limited per kind, per recipient (no one gets a flood of resets
//! or copy requests) and per requesting address (no one makes the site
//! mail a hundred people). A mail over a limit is not sent; the visitor
//! gets the same answer as ever, so the limit does not tell them whether
//! an address has an account.

use crate::Repository;
use arkiv_model::account::email_key;
use arkiv_storage::{Claim, RatePolicy, StoreError};

/// A pair (account, address): three tries at once, then 2, 4, 8 … seconds
/// between guesses, up to a quarter of an hour; an hour of quiet forgets.
pub const LOGIN_PER_ACCOUNT_AND_ADDRESS: RatePolicy =
    RatePolicy { free: 3, first_wait: 2, growth: 2, max_wait: 15 * 60, forget_after: 3600 };

/// One address over all accounts: fifty tries, then growing waits.
pub const LOGIN_PER_ADDRESS: RatePolicy =
    RatePolicy { free: 50, first_wait: 1, growth: 2, max_wait: 15 * 60, forget_after: 3600 };

/// At most `n` per hour.
const fn per_hour(n: i64) -> RatePolicy {
    RatePolicy { free: n, first_wait: 3600, growth: 1, max_wait: 3600, forget_after: 3600 }
}

/// The kinds of mail a visitor can make the site send, each with its
/// limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A password-reset link.
    PasswordReset,
    /// A confirmation link for a new account, or a note to the owner of
    /// an address that someone tried to register again.
    Registration,
    /// A visitor's request for a copy of a restricted document, to the
    /// depositor.
    CopyRequest,
}

impl MailKind {
    fn name(self) -> &'static str {
        match self {
            MailKind::PasswordReset => "reset",
            MailKind::Registration => "registration",
            MailKind::CopyRequest => "copy",
        }
    }

    /// How many of this kind one recipient gets in an hour.
    pub fn per_recipient(self) -> RatePolicy {
        match self {
            MailKind::PasswordReset => per_hour(3),
            MailKind::Registration => per_hour(3),
            MailKind::CopyRequest => per_hour(10),
        }
    }

    /// How many of this kind one address may cause in an hour, to anyone.
    pub fn per_address(self) -> RatePolicy {
        match self {
            MailKind::PasswordReset => per_hour(10),
            MailKind::Registration => per_hour(10),
            MailKind::CopyRequest => per_hour(5),
        }
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailRefused {
    /// The address that asked has caused too many of this kind lately.
    Requester { seconds: i64 },
    /// The recipient has had too many of this kind lately.
    Recipient { seconds: i64 },
}

/// Counts a mail of `kind` to `to` asked for from `address`, if both
/// limits let it through. The requester's allowance is counted first and
/// given back if the recipient's refuses, so that a full mailbox does not
/// use up an innocent visitor's allowance.
pub async fn claim_mail(
    repo: &Repository,
    kind: MailKind,
    to: &str,
    address: &str,
) -> Result<Result<(), MailRefused>, StoreError> {
    if let Err(refused) = claim_requester(repo, kind, address).await? {
        return Ok(Err(refused));
    }
    if let Err(refused) = claim_recipient(repo, kind, to).await? {
        repo.accounts.refund(&requester_key(kind, address)).await?;
        return Ok(Err(refused));
    }
    Ok(Ok(()))
}

/// Counts a mail of `kind` asked for from `address`, if the address's
/// allowance lets it through.
pub async fn claim_requester(
    repo: &Repository,
    kind: MailKind,
    address: &str,
) -> Result<Result<(), MailRefused>, StoreError> {
    let key = requester_key(kind, address);
    match repo.accounts.claim(&key, &kind.per_address(), repo.now()).await? {
        Claim::Allowed => Ok(Ok(())),
        Claim::Wait { seconds } => {
            tracing::warn!(kind = kind.name(), address, "mail not sent: too many of this kind from this address");
            Ok(Err(MailRefused::Requester { seconds }))
        }
    }
}

/// Counts a mail of `kind` to `to`, if the recipient's allowance lets it
/// through.
pub async fn claim_recipient(
    repo: &Repository,
    kind: MailKind,
    to: &str,
) -> Result<Result<(), MailRefused>, StoreError> {
    let key = format!("mail:{}:to:{}", kind.name(), email_key(to));
    match repo.accounts.claim(&key, &kind.per_recipient(), repo.now()).await? {
        Claim::Allowed => Ok(Ok(())),
        Claim::Wait { seconds } => {
            tracing::warn!(kind = kind.name(), "mail not sent: its recipient has had too many of this kind lately");
            Ok(Err(MailRefused::Recipient { seconds }))
        }
    }
}

fn requester_key(kind: MailKind, address: &str) -> String {
    format!("mail:{}:from:{address}", kind.name())
}

/// The key of a login attempt at an account from `address`: the account
/// first, so that all of an account's keys share a prefix
/// ([`login_account_prefix`]). The account is the one the login names
/// (by address or username: both count alike), or, when it names none,
/// what was typed.
pub(crate) fn login_key(user: Option<&arkiv_model::User>, typed: &str, address: &str) -> String {
    let prefix = match user {
        Some(u) => login_account_prefix(u.id),
        None => format!("login:name:{}|", email_key(typed).chars().take(254).collect::<String>()),
    };
    format!("{prefix}{address}")
}

/// What every login key of account `user` starts with.
pub(crate) fn login_account_prefix(user: arkiv_model::UserId) -> String {
    format!("login:user:{user}|")
}

/// The key of every login attempt from `address`.
pub(crate) fn login_address_key(address: &str) -> String {
    format!("login-from:{address}")
}

/// Keys are forgotten after the longest quiet any policy needs.
pub const FORGET_AFTER_SECONDS: i64 = 24 * 3600;

/// What one API token may do in a minute: `per_minute` requests.
pub fn api_token_policy(per_minute: i64) -> RatePolicy {
    RatePolicy { free: per_minute.max(1), first_wait: 60, growth: 1, max_wait: 60, forget_after: 60 }
}

/// Counts a request of API token `token_id`; `Err(seconds)` to wait when
/// the token has used its minute's allowance (`[api] requests_per_minute`).
pub async fn claim_api_request(repo: &Repository, token_id: i64) -> Result<Result<(), i64>, StoreError> {
    let policy = api_token_policy(repo.config.api.requests_per_minute);
    match repo.accounts.claim(&format!("api:token:{token_id}"), &policy, repo.now()).await? {
        Claim::Allowed => Ok(Ok(())),
        Claim::Wait { seconds } => Ok(Err(seconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_waits_grow_to_a_quarter_of_an_hour() {
        let p = LOGIN_PER_ACCOUNT_AND_ADDRESS;
        let waits: Vec<i64> = (1..=14).map(|a| p.wait_after(a)).collect();
        assert_eq!(waits, [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert_eq!(per_hour(3).wait_after(2), 0);
        assert_eq!(per_hour(3).wait_after(3), 3600);
        assert_eq!(per_hour(3).wait_after(40), 3600);
    }
}
