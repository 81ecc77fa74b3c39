//! Password hashing: argon2id with OWASP's recommended parameters (19 MiB,
//! two passes, one lane), stored as PHC strings so that parameters can be
//! raised later without invalidating existing hashes.
//!
//! A hash costs tens of milliseconds of one core, by design. Run on the
//! async runtime's threads, a burst of logins would hold every thread that
//! serves pages: 64 parallel logins once pushed an unrelated page from 2 ms
//! to seconds. So the services hash through [`hash_in_pool`] and
//! [`verify_in_pool`]: on tokio's blocking threads, at most
//! [`hashing_at_once`] at a time, the rest waiting their turn in order;
//! the cores left over keep serving pages.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{LazyLock, OnceLock};
use tokio::sync::Semaphore;

/// Shortest and longest password accepted. The upper bound keeps one login
/// attempt from costing unbounded hashing time.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of a new salted hash of `password`.
pub fn hash_password(password: &str) -> String {
    // The salt: 16 bytes from the operating system's generator.
    let hash: PasswordHash = argon2().hash_password(password.as_bytes()).expect("argon2 hashes any input");
    hash.to_string()
}

/// Whether `password` matches the stored hash. A malformed hash matches
/// nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time a real verification takes, so that a login for an
/// unknown address answers no faster than one for a known address.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("arkiv: no such account"));
    let _ = verify_password(password, phc);
}

/// How many hashes run at once: half the cores (at least one), so that a
/// login flood leaves the other half to the site.
pub fn hashing_at_once() -> usize {
    std::thread::available_parallelism().map(|n| (n.get() / 2).max(1)).unwrap_or(1)
}

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hashing_at_once()));

/// Runs `work` on the blocking pool once a hashing permit is free.
async fn in_pool<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    // The semaphore is never closed, so acquiring cannot fail.
    let _permit = HASHING.acquire().await.expect("the hashing semaphore is never closed");
    tokio::task::spawn_blocking(work).await.expect("hashing does not panic")
}

/// [`hash_password`], off the async runtime's threads; see the module docs.
pub async fn hash_in_pool(password: &str) -> String {
    let password = password.to_string();
    in_pool(move || hash_password(&password)).await
}

/// [`verify_password`], off the async runtime's threads.
pub async fn verify_in_pool(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_string(), phc.to_string());
    in_pool(move || verify_password(&password, &phc)).await
}

/// [`verify_nothing`], off the async runtime's threads.
pub async fn verify_nothing_in_pool(password: &str) {
    let password = password.to_string();
    in_pool(move || verify_nothing(&password)).await
}

/// What checking a password against a stored value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The password is right (an argon2id hash).
    Right,
    /// The password is right, by a hash EPrints made: the caller replaces
    /// it with an argon2id hash now.
    RightByEprintsHash,
    /// The password is not right.
    Wrong,
    /// The account has no password that can be checked (brought over from
    /// EPrints without one): only a reset link lets its owner in.
    NoPassword,
}

/// Checks `password` against what an account stores: an argon2id PHC
/// string, an EPrints hash marked [`super::legacy::MARK`] (only the import
/// writes those), or nothing. Spends at least a verification's time
/// whatever it finds, so an account without a password answers no faster.
pub fn check_password(password: &str, stored: &str) -> Check {
    use super::legacy::{EprintsHash, MARK};
    match stored.strip_prefix(MARK) {
        _ if stored.is_empty() => {
            verify_nothing(password);
            Check::NoPassword
        }
        Some(eprints) => {
            let check = match EprintsHash::parse(eprints) {
                Ok(Some(hash)) if hash.verify(password) => Check::RightByEprintsHash,
                Ok(Some(_)) => Check::Wrong,
                Ok(None) | Err(_) => Check::NoPassword,
            };
            // EPrints' SHA-512 takes a fifth of an argon2id check, crypt
            // next to nothing: without this, a quick answer would tell that
            // an account exists and has not logged in since the move.
            verify_nothing(password);
            check
        }
        None if verify_password(password, stored) => Check::Right,
        None => Check::Wrong,
    }
}

/// [`check_password`], off the async runtime's threads.
pub async fn check_in_pool(password: &str, stored: &str) -> Check {
    let (password, stored) = (password.to_string(), stored.to_string());
    in_pool(move || check_password(&password, &stored)).await
}

/// Why a new password is refused, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(format!("The password must have at least {MIN_PASSWORD_CHARS} characters."))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(format!("The password may have at most {MAX_PASSWORD_BYTES} bytes."))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery");
        let b = hash_password("correct horse battery");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("correct horse battery", "not a hash"));
    }

    /// A hash stored before an upgrade must still let its user in. This one
    /// was made by another implementation (Python's argon2-cffi, with the
    /// parameters above), as a hash made by an earlier argon2 crate would be
    /// read: PHC strings are the contract, not the crate version.
    #[test]
    fn a_hash_made_elsewhere_verifies() {
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$Mt/+yS3/2QoII3TKv1jt3A$IMHCcITnSzau5ohawGRAiyTOV6YRkGQge271S5eXABw";
        assert!(verify_password("a correct horse battery", phc));
        assert!(!verify_password("a correct horse batterY", phc));
    }

    #[test]
    fn weak_and_huge_passwords_are_refused() {
        assert!(password_problem("short").is_some());
        assert!(password_problem(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_some());
        assert!(password_problem("long enough pass").is_none());
    }
}
