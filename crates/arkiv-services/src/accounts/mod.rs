//! Accounts: creating users, logging in and out, and the sessions that
//! carry a login from one request to the next. Used by the web handlers
//! and the CLI alike; nothing here knows of cookies or HTTP.
//!
//! Rules kept here, whoever asks:
//! - passwords are stored only as argon2id hashes ([`password`]) and never
//!   logged (no function here logs or formats one);
//! - a login from an address that has failed at an account lately waits
//!   a growing delay before its password is checked, and an address that
//!   has failed at many accounts waits too ([`crate::rate_limits`]); no
//!   one is locked out, and a stranger's failures never delay the owner's
//!   login from another address;
//! - every login starts a new session with a new id and a new CSRF secret,
//!   and ends the session the browser came with: an id planted before
//!   login is worthless after it (no fixation);
//! - sessions are looked up by the hash of their id and expire after
//!   [`AccountSettings::session_hours`] without use.

pub mod api_tokens;
pub mod confirm;
pub mod legacy;
pub mod password;
pub mod profile;
pub mod reset;
pub mod tokens;

use crate::config::AccountSettings;
use arkiv_model::account::email_key;
use arkiv_model::validate::is_orcid;
use arkiv_model::{EditorScope, Role, Timestamp, User};
use arkiv_storage::{AccountStore, NewUser, SessionRow, StoreError};
use password::{hash_in_pool, password_problem, verify_nothing_in_pool};

/// A session's use is written back at most this often, so that reading
/// pages does not write to the database on every request.
const TOUCH_EVERY_SECONDS: i64 = 300;

const MAX_EMAIL_BYTES: usize = 254;
pub(crate) const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Something the user typed is not acceptable; the message says what.
    #[error("{0}")]
    Invalid(String),
    #[error("An account with this e-mail address exists already.")]
    EmailTaken,
    #[error("This repository does not take registrations; ask its staff for an account.")]
    RegistrationClosed,
    #[error("Accounts can only be registered with an address at {0}.")]
    DomainNotAllowed(String),
    /// Deliberately the same for an unknown address, a wrong password and
    /// a disabled account: the form does not tell which addresses exist.
    #[error(
        "The e-mail address (or username) or the password is not right. An account brought over from the \
         earlier repository without its password has none here yet: if it is yours, a link to choose one is on \
         its way to its address."
    )]
    BadCredentials,
    #[error("Too many failed logins from your address. Please wait {} before trying again.", wait_words(*seconds))]
    Throttled { seconds: i64 },
    /// The password was right, but the address was never confirmed.
    #[error(
        "This account's address is not confirmed yet. We have sent a link to it: open it to start using the account."
    )]
    Unconfirmed { user: arkiv_model::UserId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// "12 seconds", "3 minutes": a wait as a person reads it.
pub fn wait_words(seconds: i64) -> String {
    match seconds {
        ..=1 => "a second".into(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", (seconds + 59) / 60),
    }
}

/// What a new account is made from.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
    pub scope: EditorScope,
    pub orcid: Option<String>,
}

/// A session just made: the id goes to the browser, once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
    pub expires: Timestamp,
}

/// The user a request comes from and their session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub id_hash: String,
    pub csrf_token: String,
    pub expires: Timestamp,
}

/// Whether `email` (trimmed) looks like an address mail can go to: a local
/// part, one `@`, a domain with a dot; no spaces or control characters.
pub fn plausible_email(email: &str) -> bool {
    let email = email.trim();
    email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
}

fn check_email(email: &str) -> Result<(), AccountError> {
    if plausible_email(email) {
        Ok(())
    } else {
        Err(AccountError::Invalid("Please give a valid e-mail address.".into()))
    }
}

/// Creates an account of any role (the CLI's `user add`, an admin's page,
/// imports): its address counts as confirmed, as an admin vouches for it.
pub async fn create_user(store: &dyn AccountStore, new: NewAccount) -> Result<User, AccountError> {
    insert_user(store, new, true).await
}

async fn insert_user(store: &dyn AccountStore, new: NewAccount, verified: bool) -> Result<User, AccountError> {
    check_email(&new.email)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AccountError::Invalid(format!("Please give your name (at most {MAX_NAME_CHARS} characters).")));
    }
    if let Some(problem) = password_problem(&new.password) {
        return Err(AccountError::Invalid(problem));
    }
    let orcid = new.orcid.map(|o| o.trim().to_string()).filter(|o| !o.is_empty());
    if orcid.as_deref().is_some_and(|o| !is_orcid(o)) {
        return Err(AccountError::Invalid("The ORCID iD is not valid (e.g. 0000-0002-1825-0097).".into()));
    }
    let user = NewUser {
        email: new.email.trim().to_string(),
        name: name.to_string(),
        password_hash: hash_in_pool(&new.password).await,
        role: new.role,
        scope: new.scope,
        orcid,
        verified,
        username: None,
        eprints_userid: None,
        address_login: true,
    };
    store.create_user(&user).await?.ok_or(AccountError::EmailTaken)
}

/// Self-registration from the public form: an unconfirmed depositor
/// account, if the repository takes registrations from this address's
/// domain, and a confirmation link mailed to the address
/// ([`confirm`]). The account gets nothing until the link is opened.
///
/// The answer is the same whether or not the address has an account
/// already (the owner of a known address is told by mail instead), and
/// so is the work done: the password is hashed either way.
pub async fn register(
    repo: &crate::Repository,
    email: &str,
    name: &str,
    password: &str,
    orcid: Option<String>,
    address: &str,
) -> Result<(), AccountError> {
    let settings = &repo.settings().accounts;
    if !settings.registration {
        return Err(AccountError::RegistrationClosed);
    }
    check_email(email)?;
    if !settings.allowed_domains.is_empty() {
        let domain = email_key(email).rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
        let allowed = settings.allowed_domains.iter().any(|d| {
            let d = d.trim().trim_start_matches('@').to_lowercase();
            domain == d || domain.ends_with(&format!(".{d}"))
        });
        if !allowed {
            return Err(AccountError::DomainNotAllowed(settings.allowed_domains.join(", ")));
        }
    }
    let new = NewAccount {
        email: email.to_string(),
        name: name.to_string(),
        password: password.to_string(),
        role: Role::Depositor,
        scope: EditorScope::default(),
        orcid,
    };
    match insert_user(repo.accounts.as_ref(), new, false).await {
        Ok(user) => {
            tracing::info!(user = user.id, "registered, address not confirmed yet");
            confirm::send_confirmation(repo, &user, address).await
        }
        Err(AccountError::EmailTaken) => {
            match repo.accounts.user_by_email(email).await? {
                Some(owner) if !owner.disabled => confirm::send_already_registered(repo, &owner, address).await?,
                _ => {}
            }
            tracing::info!("registration asked for an address that has an account");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The account a login names: the one with this address, else the one
/// with this username (accounts brought over from EPrints). An address
/// wins over another account's username that reads the same.
pub async fn find_login(store: &dyn AccountStore, login: &str) -> Result<Option<User>, StoreError> {
    let login = login.trim();
    if login.is_empty() || login.len() > MAX_EMAIL_BYTES {
        return Ok(None);
    }
    match store.user_by_email(login).await? {
        Some(user) => Ok(Some(user)),
        None => store.user_by_username(login).await,
    }
}

/// Checks a login and opens a new session for it, ending `previous` (the
/// session the browser came with, if any). `login` is the account's
/// address or, for an account brought over from EPrints, its username
/// ([`find_login`]); `address` is the client's IP.
///
/// Before the password is checked, the attempt is counted under its
/// (account, address) pair and its address, each in one atomic step
/// ([`crate::rate_limits`]); an attempt that comes too soon is refused
/// unchecked, with the wait. A correct password forgets the pair's
/// failures and gives the address its attempt back.
///
/// A password that matches the hash EPrints made ([`legacy`]) logs in and
/// replaces it with an argon2id hash. An account with no password that
/// can be checked (brought over without one) fails like a wrong password,
/// counted alike, and its owner is mailed a reset link (within the reset
/// mail's limits): the answer does not tell such accounts apart.
pub async fn login(
    repo: &std::sync::Arc<crate::Repository>,
    login: &str,
    password: &str,
    address: &str,
    previous: Option<&str>,
) -> Result<(User, NewSession), AccountError> {
    let user = check_credentials(repo, login, password, address).await?;
    let store = repo.accounts.as_ref();
    if let Some(old) = previous {
        store.delete_session(&tokens::session_hash(old)).await?;
    }
    let session = start_session(store, &repo.settings().accounts, &user, repo.now()).await?;
    tracing::info!(user = user.id, address, "login");
    Ok((user, session))
}

/// The user whose login and password these are, counted and throttled
/// exactly as [`login`] counts them, without a session: what a client
/// that sends its credentials with every request (SWORD's HTTP Basic)
/// is checked by, so guessing passwords there is no cheaper than on the
/// login form.
pub async fn check_credentials(
    repo: &std::sync::Arc<crate::Repository>,
    login: &str,
    password: &str,
    address: &str,
) -> Result<User, AccountError> {
    use crate::rate_limits::{login_address_key, login_key, LOGIN_PER_ACCOUNT_AND_ADDRESS, LOGIN_PER_ADDRESS};
    use arkiv_storage::Claim;
    use password::{check_in_pool, Check};
    let store = repo.accounts.as_ref();
    let now = repo.now();
    let user = find_login(store, login).await?;
    let pair = login_key(user.as_ref(), login, address);
    let from = login_address_key(address);
    if let Claim::Wait { seconds } = store.claim(&pair, &LOGIN_PER_ACCOUNT_AND_ADDRESS, now).await? {
        tracing::warn!(address, "login refused unchecked: this address failed at this account lately");
        return Err(AccountError::Throttled { seconds });
    }
    if let Claim::Wait { seconds } = store.claim(&from, &LOGIN_PER_ADDRESS, now).await? {
        store.refund(&pair).await?;
        tracing::warn!(address, "login refused unchecked: this address failed at many accounts lately");
        return Err(AccountError::Throttled { seconds });
    }
    let check = match &user {
        Some(u) => check_in_pool(password, &u.password_hash).await,
        None => {
            verify_nothing_in_pool(password).await;
            Check::Wrong
        }
    };
    let right = matches!(check, Check::Right | Check::RightByEprintsHash);
    let mut user = match user {
        Some(u) if right && !u.disabled => u,
        other => {
            // Both attempts stay counted.
            tracing::info!(address, "failed login");
            if let (Check::NoPassword, Some(u)) = (check, other.filter(|u| !u.disabled)) {
                // Mailed from a task of its own, so that this answer takes no
                // longer than any other failure's.
                let (repo, address) = (repo.clone(), address.to_string());
                tokio::spawn(async move {
                    let why = "someone (we hope you) tried to log in to";
                    let note = "The account came over from the repository's earlier software without a password.";
                    if let Err(e) = reset::send_reset(&repo, &u, &address, &format!("{note}\n{why}")).await {
                        tracing::warn!(error = %e, "a reset link for an account without a password could not be sent");
                    }
                });
            }
            return Err(AccountError::BadCredentials);
        }
    };
    if check == Check::RightByEprintsHash {
        user.password_hash = hash_in_pool(password).await;
        store.update_user(&user).await?;
        tracing::info!(user = user.id, "the password hash EPrints made was replaced by argon2id");
    }
    store.forget(&pair).await?;
    store.refund(&from).await?;
    if !user.verified {
        return Err(AccountError::Unconfirmed { user: user.id });
    }
    Ok(user)
}

/// Opens a session for a user just registered (no password to check).
pub async fn open_session(
    store: &dyn AccountStore,
    settings: &AccountSettings,
    user: &User,
) -> Result<NewSession, AccountError> {
    start_session(store, settings, user, Timestamp::now()).await
}

async fn start_session(
    store: &dyn AccountStore,
    settings: &AccountSettings,
    user: &User,
    now: Timestamp,
) -> Result<NewSession, AccountError> {
    let id = tokens::random_token();
    let secret = tokens::random_token();
    let expires = Timestamp(now.0 + settings.session_seconds());
    let row = SessionRow {
        id_hash: tokens::session_hash(&id),
        user_id: user.id,
        created: now,
        last_seen: now,
        expires,
        csrf_secret: secret.clone(),
    };
    store.create_session(&row).await?;
    Ok(NewSession { id, csrf_token: tokens::csrf_token(&secret), expires })
}

/// The live session with this id and its user; `None` for an unknown,
/// expired or malformed id, or a disabled user. Extends the session's life
/// (sliding expiry).
pub async fn session(
    store: &dyn AccountStore,
    settings: &AccountSettings,
    session_id: &str,
) -> Result<Option<Session>, StoreError> {
    if session_id.len() != 64 || !session_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = tokens::session_hash(session_id);
    let Some(row) = store.session(&hash).await? else { return Ok(None) };
    let now = Timestamp::now();
    if row.expires.0 <= now.0 {
        store.delete_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = store.user(row.user_id).await?.filter(|u| !u.disabled && u.verified) else { return Ok(None) };
    let mut expires = row.expires;
    if now.0 - row.last_seen.0 >= TOUCH_EVERY_SECONDS {
        expires = Timestamp(now.0 + settings.session_seconds());
        store.touch_session(&hash, now, expires).await?;
    }
    Ok(Some(Session { user, csrf_token: tokens::csrf_token(&row.csrf_secret), id_hash: hash, expires }))
}

/// Ends a session (logout).
pub async fn logout(store: &dyn AccountStore, session_id: &str) -> Result<(), StoreError> {
    store.delete_session(&tokens::session_hash(session_id)).await
}
