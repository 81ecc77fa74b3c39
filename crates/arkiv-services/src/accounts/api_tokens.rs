//! Personal API tokens: how a script, a CRIS or a publisher's router acts
//! as a user over the REST API (`Authorization: Bearer arkiv_...`).
//!
//! A user makes a token on `/profile`, names it, picks its scopes and how
//! long it lives, and sees it once: the store keeps only its SHA-256, like
//! a session id. A token can do no more than its scopes say, and no more
//! than its user's role allows today (an editor demoted to depositor loses
//! what the `edit` scope gave; a disabled account's tokens stop at once).
//! A revoked or expired token is refused with a reason the caller can act
//! on, never taken for anonymous.

use super::tokens;
use arkiv_model::{Role, Timestamp, User, UserId};
use arkiv_storage::{AccountStore, ApiTokenRow, StoreError};

/// What the token text starts with: a secret scanner can find a leaked one.
pub const TOKEN_PREFIX: &str = "arkiv_";

/// Tokens a user may hold that are neither revoked nor expired.
pub const MAX_LIVE_TOKENS: usize = 20;

/// The longest life a token may be given, in days.
pub const MAX_DAYS: i64 = 366;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read what the user may read (drafts, the review buffer, restricted files).
    Read,
    /// Create records and deposit them: the user's own workarea.
    Deposit,
    /// Edit and move records through review as the user's editorial role allows.
    Edit,
    /// Users, roles and the repository's settings.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Deposit, Scope::Edit, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Deposit => "deposit",
            Scope::Edit => "edit",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The least role that may hold the scope.
    fn needs(self) -> Role {
        match self {
            Scope::Read | Scope::Deposit => Role::Depositor,
            Scope::Edit => Role::Editor,
            Scope::Admin => Role::Admin,
        }
    }

    /// Whether `role` may use the scope (today: roles change).
    pub fn allowed_to(self, role: Role) -> bool {
        role >= self.needs()
    }
}

/// The scopes of a stored token; unknown words are ignored.
pub fn parse_scopes(s: &str) -> Vec<Scope> {
    let mut v: Vec<Scope> = s.split_whitespace().filter_map(Scope::parse).collect();
    v.sort();
    v.dedup();
    v
}

/// A token as its user's profile lists it.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}

impl TokenInfo {
    fn of(row: ApiTokenRow) -> Self {
        TokenInfo {
            id: row.id,
            name: row.name,
            scopes: parse_scopes(&row.scopes),
            created: row.created,
            expires: row.expires,
            last_used: row.last_used,
            revoked: row.revoked,
        }
    }

    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked.is_none() && self.expires.0 > now.0
    }
}

/// Why a token was not made.
#[derive(Debug, thiserror::Error)]
pub enum NewTokenError {
    #[error("Give the token a name of 1 to 100 characters, on one line.")]
    Name,
    #[error("Choose at least one scope.")]
    NoScope,
    #[error("Your role does not allow the scope {0}.")]
    ScopeNotAllowed(&'static str),
    #[error("A token lives 1 to {MAX_DAYS} days.")]
    Days,
    #[error("You have {MAX_LIVE_TOKENS} tokens in use: revoke one first.")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a token for `user`; returns the token (shown once) and what is
/// kept of it.
pub async fn create_token(
    store: &dyn AccountStore,
    user: &User,
    name: &str,
    scopes: &[Scope],
    days: i64,
) -> Result<(String, TokenInfo), NewTokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(NewTokenError::Name);
    }
    if scopes.is_empty() {
        return Err(NewTokenError::NoScope);
    }
    if let Some(s) = scopes.iter().find(|s| !s.allowed_to(user.role)) {
        return Err(NewTokenError::ScopeNotAllowed(s.as_str()));
    }
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(NewTokenError::Days);
    }
    let now = Timestamp::now();
    let live = store.user_api_tokens(user.id).await?.into_iter().filter(|t| t.revoked.is_none() && t.expires.0 > now.0);
    if live.count() >= MAX_LIVE_TOKENS {
        return Err(NewTokenError::TooMany);
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let token = format!("{TOKEN_PREFIX}{}", tokens::random_token());
    let mut row = ApiTokenRow {
        id: 0,
        user_id: user.id,
        name: name.to_string(),
        token_hash: tokens::session_hash(&token),
        scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        created: now,
        expires: Timestamp(now.0 + days * 86_400),
        last_used: None,
        revoked: None,
    };
    row.id = store.create_api_token(&row).await?;
    tracing::info!(user = user.id, token = row.id, scopes = %row.scopes, "API token made");
    Ok((token, TokenInfo::of(row)))
}

/// A user's tokens, newest first.
pub async fn list_tokens(store: &dyn AccountStore, user: UserId) -> Result<Vec<TokenInfo>, StoreError> {
    Ok(store.user_api_tokens(user).await?.into_iter().map(TokenInfo::of).collect())
}

/// Revokes one of `user`'s tokens; false if it is not theirs or was revoked.
pub async fn revoke_token(store: &dyn AccountStore, user: UserId, id: i64) -> Result<bool, StoreError> {
    let done = store.revoke_api_token(user, id, Timestamp::now()).await?;
    if done {
        tracing::info!(user, token = id, "API token revoked");
    }
    Ok(done)
}

/// Who a bearer token speaks for, and what it may do.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub user: User,
    pub token_id: i64,
    /// Its scopes that its user's role allows today.
    pub scopes: Vec<Scope>,
}

impl TokenHolder {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a bearer token was refused (each a 401 that says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    #[error("This API token is not known here.")]
    Unknown,
    #[error("This API token has expired: make a new one on your profile page.")]
    Expired,
    #[error("This API token was revoked.")]
    Revoked,
    #[error("The account this API token belongs to cannot log in (disabled or not confirmed).")]
    AccountClosed,
}

/// Seconds between notes of a token's last use.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The holder of the token a request sent.
pub async fn authenticate(
    store: &dyn AccountStore,
    token: &str,
) -> Result<Result<TokenHolder, TokenRefused>, StoreError> {
    let token = token.trim();
    if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 64 {
        return Ok(Err(TokenRefused::Unknown));
    }
    let Some(row) = store.api_token(&tokens::session_hash(token)).await? else { return Ok(Err(TokenRefused::Unknown)) };
    let now = Timestamp::now();
    if row.revoked.is_some() {
        return Ok(Err(TokenRefused::Revoked));
    }
    if row.expires.0 <= now.0 {
        return Ok(Err(TokenRefused::Expired));
    }
    let Some(user) = store.user(row.user_id).await?.filter(|u| !u.disabled && u.verified) else {
        return Ok(Err(TokenRefused::AccountClosed));
    };
    if row.last_used.is_none_or(|t| now.0 - t.0 >= TOUCH_EVERY_SECONDS) {
        store.touch_api_token(row.id, now).await?;
    }
    let scopes = parse_scopes(&row.scopes).into_iter().filter(|s| s.allowed_to(user.role)).collect();
    Ok(Ok(TokenHolder { user, token_id: row.id, scopes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_roles() {
        assert!(Scope::Deposit.allowed_to(Role::Depositor));
        assert!(!Scope::Edit.allowed_to(Role::Depositor));
        assert!(Scope::Edit.allowed_to(Role::Admin));
        assert!(!Scope::Admin.allowed_to(Role::Editor));
        assert_eq!(parse_scopes("edit read banana read"), vec![Scope::Read, Scope::Edit]);
    }
}
