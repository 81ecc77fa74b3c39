//! Random secrets and their comparison: session ids (the browser holds the
//! id, the store only its SHA-256), CSRF tokens (bound to a session's
//! secret, or to a pre-login cookie for the login and registration forms),
//! masked afresh for each page that carries one (`mask_token`).

use rand::rngs::OsRng;
use rand::RngCore;
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

/// A CSRF token as one page carries it: a fresh random pad and the token
/// XORed with it, both hex (128 characters for a 64-character token). No
/// two responses carry the same string, so a compressed page that reflects
/// input beside it tells an attacker nothing about the token (BREACH).
/// A token that is not hex is returned as it is.
pub fn mask_token(token: &str) -> String {
    let Ok(bytes) = hex::decode(token) else { return token.to_string() };
    let mut pad = vec![0u8; bytes.len()];
    OsRng.fill_bytes(&mut pad);
    let masked: Vec<u8> = bytes.iter().zip(&pad).map(|(b, p)| b ^ p).collect();
    format!("{}{}", hex::encode(pad), hex::encode(masked))
}

/// Whether a form's `sent` token is `token`: masked ([`mask_token`]) or as
/// it is (a template of an installation's own may print it unmasked).
/// Compared in constant time.
pub fn token_matches(sent: &str, token: &str) -> bool {
    if sent.len() == 2 * token.len() && !token.is_empty() {
        let (pad, masked) = sent.split_at(token.len());
        let (Ok(pad), Ok(masked)) = (hex::decode(pad), hex::decode(masked)) else { return false };
        let unmasked: Vec<u8> = pad.iter().zip(&masked).map(|(p, m)| p ^ m).collect();
        return same_secret(&hex::encode(unmasked), token);
    }
    same_secret(sent, token)
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
    fn masked_tokens_differ_each_time_and_match_their_token() {
        let token = random_token();
        let (a, b) = (mask_token(&token), mask_token(&token));
        assert_eq!(a.len(), 128);
        assert_ne!(a, b);
        assert!(!a.contains(&token));
        assert!(token_matches(&a, &token) && token_matches(&b, &token) && token_matches(&token, &token));
        assert!(!token_matches(&a, &random_token()));
        let mut flipped = a.clone().into_bytes();
        flipped[100] = if flipped[100] == b'0' { b'1' } else { b'0' };
        assert!(!token_matches(&String::from_utf8(flipped).unwrap(), &token));
        assert!(!token_matches(&"zz".repeat(64), &token));
    }

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

    /// A secret as `random_token` makes them (64 hex digits), fixed.
    const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    /// SHA-256 of `arkiv-csrf`, a NUL byte and [`SECRET`], hex; worked out
    /// once apart from this code (Python's hashlib) and written down. Tokens
    /// in forms already shown must stay valid across an upgrade, so a change
    /// here is a change of format, not a refactoring.
    const SECRET_CSRF: &str = "bbb499760bc5ec7138b1c8a5f1a5457791e2c428dd54a12792c831e7c5166fb8";

    /// The digest underneath, against FIPS 180-2's own examples (the empty
    /// message, "abc", and the 448-bit message).
    #[test]
    fn session_hash_is_sha256_known_answers() {
        assert_eq!(session_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(session_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            session_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(session_hash(SECRET), "6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b");
    }

    #[test]
    fn csrf_token_known_answers() {
        assert_eq!(csrf_token(SECRET), SECRET_CSRF);
        assert_eq!(csrf_token(&"ff".repeat(32)), "f1cce48ea6872587fe3694ac31d54095a79e3e7a99753f9ccd1eff9e6cfd37c3");
    }

    /// Any one character changed (to another hex digit, or to upper case),
    /// one dropped or one added: refused.
    #[test]
    fn a_changed_csrf_token_is_refused() {
        assert!(same_secret(SECRET_CSRF, &csrf_token(SECRET)));
        for i in 0..SECRET_CSRF.len() {
            let mut flipped = SECRET_CSRF.as_bytes().to_vec();
            flipped[i] = if flipped[i] == b'0' { b'1' } else { b'0' };
            let flipped = String::from_utf8(flipped).unwrap();
            assert!(!same_secret(&flipped, SECRET_CSRF), "changed at {i}: {flipped}");
        }
        assert!(!same_secret(&SECRET_CSRF.to_uppercase(), SECRET_CSRF));
        assert!(!same_secret(&SECRET_CSRF[1..], SECRET_CSRF));
        assert!(!same_secret(&format!("{SECRET_CSRF}0"), SECRET_CSRF));
        assert!(!same_secret("", SECRET_CSRF));
    }

    /// Another session's token, and strings made from the same secret for
    /// another purpose (the secret itself, the hash the store keeps of a
    /// session id), are not this session's CSRF token.
    #[test]
    fn a_token_for_another_session_or_purpose_is_refused() {
        let other_session = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
        assert!(!same_secret(&csrf_token(other_session), SECRET_CSRF));
        assert!(!same_secret(SECRET, SECRET_CSRF));
        assert!(!same_secret(&session_hash(SECRET), SECRET_CSRF));
    }

    async fn repo_and_user(dir: &std::path::Path) -> (crate::Repository, arkiv_model::User) {
        let repo = crate::Repository::init(dir, crate::config::Config::default()).await.unwrap();
        let new = crate::accounts::NewAccount {
            email: "token@example.org".into(),
            name: "Token".into(),
            password: "a correct horse battery".into(),
            role: arkiv_model::Role::Depositor,
            scope: Default::default(),
            orcid: None,
        };
        let user = crate::accounts::create_user(repo.accounts.as_ref(), new).await.unwrap();
        (repo, user)
    }

    /// A session id is taken until its expiry and refused from that second
    /// on; the live session's CSRF token is the known answer for its secret.
    /// (The clock only moves forward, so "expires now" and "expired a
    /// second ago" are refused however long the test takes.)
    #[tokio::test]
    async fn a_session_is_refused_from_its_expiry_on() {
        use arkiv_model::Timestamp;
        let dir = tempfile::tempdir().unwrap();
        let (repo, user) = repo_and_user(dir.path()).await;
        let store = repo.accounts.as_ref();
        let settings = crate::config::AccountSettings::default();
        let now = Timestamp::now();
        let ids = ["1".repeat(64), "2".repeat(64), "3".repeat(64)];
        for (id, expires) in ids.iter().zip([now.0 + 3600, now.0, now.0 - 1]) {
            let row = arkiv_storage::SessionRow {
                id_hash: session_hash(id),
                user_id: user.id,
                created: Timestamp(now.0 - 7200),
                last_seen: now,
                expires: Timestamp(expires),
                csrf_secret: SECRET.into(),
            };
            store.create_session(&row).await.unwrap();
        }
        let live = crate::accounts::session(store, &settings, &ids[0]).await.unwrap().expect("a live session");
        assert_eq!(live.user.id, user.id);
        assert_eq!(live.csrf_token, SECRET_CSRF);
        assert!(crate::accounts::session(store, &settings, &ids[1]).await.unwrap().is_none(), "expires now");
        assert!(crate::accounts::session(store, &settings, &ids[2]).await.unwrap().is_none(), "a second past");
    }

    /// A reset link's token: refused one second past its expiry, with the
    /// message the visitor sees; a live one works once.
    #[tokio::test]
    async fn a_reset_token_is_refused_one_second_past_expiry() {
        use arkiv_model::Timestamp;
        let dir = tempfile::tempdir().unwrap();
        let (repo, user) = repo_and_user(dir.path()).await;
        let store = repo.accounts.as_ref();
        let now = Timestamp::now();
        let (stale, live) = ("4".repeat(64), "5".repeat(64));
        let created = Timestamp(now.0 - super::super::reset::RESET_VALID_SECONDS - 1);
        store.create_reset(&session_hash(&stale), user.id, created, Timestamp(now.0 - 1)).await.unwrap();
        let refused = crate::accounts::reset::reset_password(store, &stale, "another good passphrase").await;
        match refused {
            Err(super::super::AccountError::Invalid(message)) => assert!(message.contains("expired"), "{message}"),
            other => panic!("an expired token was not refused: {other:?}"),
        }
        store.create_reset(&session_hash(&live), user.id, now, Timestamp(now.0 + 3600)).await.unwrap();
        let reset = crate::accounts::reset::reset_password(store, &live, "another good passphrase").await.unwrap();
        assert_eq!(reset.id, user.id);
        assert!(crate::accounts::reset::reset_password(store, &live, "a third good passphrase").await.is_err());
    }
}
