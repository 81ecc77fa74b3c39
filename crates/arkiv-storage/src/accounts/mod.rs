//! Accounts in the store: users, their sessions, the rate limits of
//! logins and mail, the outbox and requests for copies. A second set of
//! seams beside [`RecordStore`]'s, written once for both backends
//! (`queries.rs`), so that sessions live in the database: they survive a
//! restart and are shared by every node serving one repository.
//!
//! The store keeps what it is given. Hashing passwords, making session ids
//! and deciding what a failure count means are the services' business;
//! sessions are looked up by the hash of their id, never by the id itself.

mod queries;

use crate::{RecordStore, Result, StoreError};
use arkiv_model::{EditorScope, Role, Timestamp, User, UserId};
use async_trait::async_trait;
use std::sync::Arc;

/// A user about to be created (the store gives the id).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub scope: EditorScope,
    pub orcid: Option<String>,
    /// False for a self-registered account until its address is confirmed.
    pub verified: bool,
    /// EPrints' login name, for a user brought over from EPrints.
    pub username: Option<String>,
    /// The user's id in EPrints, for a user brought over from EPrints.
    pub eprints_userid: Option<i64>,
    /// Whether the address finds this account at login. False for an
    /// imported user whose address another account has (the address is
    /// kept for mail; see `unlisted_email_key`, which needs the EPrints id).
    pub address_login: bool,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 (hex) of the id the browser holds.
    pub id_hash: String,
    pub user_id: UserId,
    pub created: Timestamp,
    pub last_seen: Timestamp,
    pub expires: Timestamp,
    /// Secret the session's CSRF tokens are derived from.
    pub csrf_secret: String,
}

/// A message the repository sent: kept whether or not it went out by SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created: Timestamp,
    pub sent: Option<Timestamp>,
}

/// A visitor's request for a copy of a document they may not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRequest {
    pub id: i64,
    pub record_id: i64,
    pub doc_pos: u32,
    /// The main file of document `doc_pos` when the request was made, by
    /// name and SHA-256: an approval grants these bytes and no others.
    /// `None` for requests filed before the binding existed.
    pub file_name: Option<String>,
    pub file_sha256: Option<String>,
    pub requester_email: String,
    pub requester_name: String,
    pub message: String,
    pub created: Timestamp,
    /// `pending`, `approved` or `refused`.
    pub state: String,
    pub decided_by: Option<UserId>,
    pub expires: Option<Timestamp>,
}

/// Everything the accounts of a repository need from the database: every
/// seam below, implemented by both backends (`queries.rs`). A caller
/// holding an `Arc<dyn AccountStore>` reaches every method.
pub trait AccountStore: Users + Sessions + ApiTokens + RateLimits + Outbox + CopyRequests {}

impl<T: Users + Sessions + ApiTokens + RateLimits + Outbox + CopyRequests> AccountStore for T {}

/// Users, and the password-reset tokens that let one back in.
#[async_trait]
pub trait Users: Send + Sync + 'static {
    /// Creates a user. `None` if an account with the same address (compared
    /// case-insensitively) exists.
    async fn create_user(&self, user: &NewUser) -> Result<Option<User>>;

    async fn user(&self, id: UserId) -> Result<Option<User>>;

    /// The user with this address, whatever its case.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;

    /// The user with this username (an account brought over from EPrints),
    /// whatever its case.
    async fn user_by_username(&self, username: &str) -> Result<Option<User>>;

    /// The users brought over from EPrints: EPrints' user id → Arkiv's.
    async fn eprints_users(&self) -> Result<std::collections::HashMap<i64, UserId>>;

    /// Rewrites everything of a user but its id, address and creation time.
    async fn update_user(&self, user: &User) -> Result<()>;

    /// Every user, in id order.
    async fn users(&self) -> Result<Vec<User>>;

    /// Stores a password-reset token (by its hash) for a user.
    async fn create_reset(&self, token_hash: &str, user: UserId, created: Timestamp, expires: Timestamp) -> Result<()>;

    /// Uses up a reset token: removes it (and every other token of its
    /// user) and returns the user, if it existed and had not expired at
    /// `now`. A token works once.
    async fn take_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>>;

    /// Stores an address-confirmation token (by its hash) for a user.
    async fn create_confirmation(
        &self,
        token_hash: &str,
        user: UserId,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<()>;

    /// The user a confirmation token is for, if it exists and has not
    /// expired at `now` (the token is not used up).
    async fn confirmation_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>>;

    /// Uses up a confirmation token: if it exists and has not expired at
    /// `now`, marks its user's address confirmed, removes every
    /// confirmation token of that user, and returns the user. One
    /// transaction: a token confirms once.
    async fn take_confirmation(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>>;

    /// The newest confirmation token's creation time for a user (so that a
    /// new link is not mailed at every attempt).
    async fn last_confirmation(&self, user: UserId) -> Result<Option<Timestamp>>;
}

/// Logged-in sessions, by the hash of the id the browser holds.
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    async fn create_session(&self, session: &SessionRow) -> Result<()>;

    /// The session with this id hash, expired or not (the caller decides).
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>>;

    /// Moves a session's last use and expiry on.
    async fn touch_session(&self, id_hash: &str, last_seen: Timestamp, expires: Timestamp) -> Result<()>;

    async fn delete_session(&self, id_hash: &str) -> Result<()>;

    /// Ends every session of a user (password changed, account disabled).
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64>;

    /// Forgets sessions that expired before `now`.
    async fn purge_sessions(&self, now: Timestamp) -> Result<u64>;
}

/// A personal API token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub id: i64,
    pub user_id: UserId,
    /// What its user called it ("CRIS sync", "my script").
    pub name: String,
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    /// Space-separated scopes (read, deposit, edit, admin).
    pub scopes: String,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub last_used: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}

/// Personal API tokens (`Authorization: Bearer`).
#[async_trait]
pub trait ApiTokens: Send + Sync + 'static {
    /// Stores a new token (its `id` is ignored) and returns its id.
    async fn create_api_token(&self, token: &ApiTokenRow) -> Result<i64>;

    /// The token with this hash, expired, revoked or not (the caller decides).
    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>>;

    /// A user's tokens, newest first.
    async fn user_api_tokens(&self, user: UserId) -> Result<Vec<ApiTokenRow>>;

    /// Revokes a token of `user` at `at`; false if it is not theirs or was
    /// revoked already.
    async fn revoke_api_token(&self, user: UserId, id: i64, at: Timestamp) -> Result<bool>;

    /// Notes a token's use.
    async fn touch_api_token(&self, id: i64, at: Timestamp) -> Result<()>;
}

/// How a rate limit lets attempts through under one key: `free` at once,
/// then each further one only after a wait that starts at `first_wait`
/// seconds and grows `growth` times with every attempt, up to `max_wait`.
/// A key quiet for `forget_after` seconds starts again from nothing.
///
/// With `growth` 1 and `first_wait` equal to `forget_after`, this is "at
/// most `free` per period" (mail); with `growth` 2 it is the growing delay
/// that slows a guesser without ever locking anyone out for long (logins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePolicy {
    pub free: i64,
    pub first_wait: i64,
    pub growth: i64,
    pub max_wait: i64,
    pub forget_after: i64,
}

impl RatePolicy {
    /// Seconds to wait after the `attempt`-th attempt (counted from 1)
    /// before the next may come.
    pub fn wait_after(&self, attempt: i64) -> i64 {
        if attempt < self.free {
            return 0;
        }
        let mut wait = self.first_wait;
        for _ in self.free..attempt {
            if wait >= self.max_wait {
                break;
            }
            wait = wait.saturating_mul(self.growth.max(1));
        }
        wait.min(self.max_wait)
    }
}

/// What a rate limit answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The attempt may go ahead; it has been counted.
    Allowed,
    /// Not yet: the next attempt under this key may come in this many
    /// seconds. Nothing was counted.
    Wait { seconds: i64 },
}

/// Rate limits under keys the services choose (a login's account and
/// address, a mail's recipient): counted in the database, so that every
/// node of a site shares them.
#[async_trait]
pub trait RateLimits: Send + Sync + 'static {
    /// Counts an attempt under `key` if `policy` lets it through now, in
    /// one atomic step: of any number of parallel claims, exactly as many
    /// pass as the policy allows.
    async fn claim(&self, key: &str, policy: &RatePolicy, now: Timestamp) -> Result<Claim>;

    /// Takes back one counted attempt under `key` (one that turned out not
    /// to count, as a correct login does for its address).
    async fn refund(&self, key: &str) -> Result<()>;

    /// Forgets `key` entirely (a successful login forgets its account and
    /// address's failures).
    async fn forget(&self, key: &str) -> Result<()>;

    /// Forgets every key that starts with `prefix` (a password reset
    /// forgets its account's failures from every address).
    async fn forget_prefix(&self, prefix: &str) -> Result<u64>;

    /// Forgets keys whose last attempt was before `quiet_since`.
    async fn purge_rate_limits(&self, quiet_since: Timestamp) -> Result<u64>;
}

/// Every message the repository sends, kept whether or not SMTP took it.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Keeps a message in the outbox; returns its id.
    async fn add_to_outbox(&self, to: &str, subject: &str, body: &str, created: Timestamp) -> Result<i64>;

    /// The newest messages first.
    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>>;

    /// Notes that a message went out by SMTP at `at` (the first time only).
    async fn mark_sent(&self, id: i64, at: Timestamp) -> Result<()>;

    /// Messages not sent yet that were created at or after `since`, oldest
    /// first, at most `limit`.
    async fn unsent(&self, since: Timestamp, limit: i64) -> Result<Vec<OutboxMessage>>;

    /// How many messages SMTP has not taken yet, however old (the partial
    /// index `outbox_unsent`: no scan of the sent ones).
    async fn unsent_count(&self) -> Result<u64>;
}

/// Visitors' requests for copies of documents they may not read, and the
/// download tokens of approved ones.
#[async_trait]
pub trait CopyRequests: Send + Sync + 'static {
    /// Files a request for a copy (state `pending`); returns its id.
    async fn add_copy_request(&self, request: &CopyRequest) -> Result<i64>;

    async fn copy_request(&self, id: i64) -> Result<Option<CopyRequest>>;

    /// Pending requests, oldest first, about records deposited by `owner`
    /// (or about any record when `None`), at most `limit`.
    async fn pending_copy_requests(&self, owner: Option<UserId>, limit: i64) -> Result<Vec<CopyRequest>>;

    /// Decides a pending request: approved with a token (by hash) valid
    /// until `expires`, or refused. False if it was not pending any more.
    async fn decide_copy_request(
        &self,
        id: i64,
        approved: bool,
        by: UserId,
        at: Timestamp,
        token_hash: Option<&str>,
        expires: Option<Timestamp>,
    ) -> Result<bool>;

    /// The approved request a download token belongs to, if it has not
    /// expired at `now`.
    async fn copy_by_token(&self, token_hash: &str, now: Timestamp) -> Result<Option<CopyRequest>>;
}

/// Opens the database a URL names as both a record store and an account
/// store (one connection pool behind both).
pub async fn open_stores(url: &str) -> Result<(Arc<dyn RecordStore>, Arc<dyn AccountStore>)> {
    if url.starts_with("sqlite:") {
        let s = Arc::new(crate::sqlite::SqliteStore::open(url).await?);
        Ok((s.clone(), s))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let s = Arc::new(crate::postgres::PostgresStore::open(url).await?);
        Ok((s.clone(), s))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}
