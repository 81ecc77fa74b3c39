//! Random secrets and their comparison: session ids (the browser holds the
//! id, the store only its SHA-256), CSRF tokens (bound to a session's
//! secret, or to a pre-login cookie for the login and registration forms).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// 256 random bits, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a session id.
pub fn session_hash(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// The CSRF token of forms shown within a session: derived from the
/// session's secret, so that it changes with the session (and so on login)
/// and a token from one session is worthless in another.
pub fn csrf_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"arkiv-csrf\0");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Compares secrets in time independent of where they differ (`subtle`;
/// the length, which every token shares, may show).
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_exactly() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..63]));
        assert_ne!(session_hash(&a), a);
        assert_ne!(csrf_token(&a), csrf_token(&b));
    }
}
