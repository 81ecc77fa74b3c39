//! EPrints' password hashes, so that a user brought over from EPrints logs
//! in with the password they had there. Only the login reads them
//! ([`super::login`]): a match is replaced by an argon2id hash in the same
//! step, and nothing else ever writes one.
//!
//! The forms are those of `EPrints::Utils::crypt` and `crypt_equals`
//! (perl_lib/EPrints/Utils.pm, 3.4.0 to 3.4.7), told apart as EPrints
//! tells them:
//! - not starting with `?`: Unix `crypt(3)` (`EP_CRYPT_CRYPT`, the
//!   traditional DES form, 13 characters, the first two the salt), checked
//!   by `crypt($value, substr($crypt, 0, 2))`;
//! - `?method=2&salt=S&digest=HEX` (`EP_CRYPT_SHA512`, the default
//!   3.4.0–3.4.5 write): SHA-512 of salt and password, hashed again until
//!   10,000 rounds, the last one as hex;
//! - `?method=4&digest=$2a$12$…` (`EP_CRYPT_BCRYPT`, what 3.4.6 and later
//!   write when Crypt::Eksblowfish is installed) and
//!   `?method=3&salt=S&digest=$2a$…` (`EP_CRYPT_BCRYPT_REHASH`: bcrypt of
//!   a SHA-512 form's hex digest).
//!
//! The query string is a URI's (`URI->query_form`): `/` in a salt comes as
//! `%2F`, `$` in a bcrypt digest as `%24`, in any order. Perl hashes a
//! password as it has it: EPrints' forms decode the UTF-8 they receive, and
//! Digest::SHA and crypt then take each character as one byte (Latin-1),
//! refusing wider ones. So a password is tried as Latin-1 first, and, if it
//! has other than ASCII, as UTF-8 too (what a script that never decoded it,
//! such as a command-line tool, would have hashed). The DES and bcrypt
//! arithmetic is the `pwhash` crate's, SHA-512 the `sha2` crate's.

use sha2::{Digest, Sha512};

/// What marks an EPrints hash kept in `password_hash` (an argon2id PHC
/// string starts with `$argon2`, so the two cannot be confused).
pub const MARK: &str = "eprints:";

/// The longest value taken as a hash: EPrints' column is a VARCHAR(255).
const MAX_HASH_BYTES: usize = 255;

/// A password hash EPrints wrote, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EprintsHash {
    /// Unix crypt(3), the traditional DES form.
    Crypt(String),
    /// EPrints' salted SHA-512, 10,000 rounds; the digest in lower-case hex.
    Sha512 { salt: String, digest: String },
    /// bcrypt (`$2a$…`).
    Bcrypt(String),
    /// bcrypt of the SHA-512 form's hex digest.
    BcryptRehash { salt: String, digest: String },
}

impl EprintsHash {
    /// Reads the value of EPrints' `password` column. `Ok(None)` for an
    /// empty one (no password: the user must ask for a reset link); an
    /// error saying what is wrong for anything EPrints would not have
    /// written. The error never quotes the value.
    pub fn parse(value: &str) -> Result<Option<EprintsHash>, String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > MAX_HASH_BYTES {
            return Err(format!("the password hash is {} bytes long, not a hash EPrints writes", value.len()));
        }
        let Some(query) = value.strip_prefix('?') else {
            let crypt_chars = value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/');
            if value.len() == 13 && crypt_chars {
                return Ok(Some(EprintsHash::Crypt(value.to_string())));
            }
            return Err(format!(
                "the password hash ({} characters) is neither Unix crypt's 13 characters nor EPrints' ?method=… form",
                value.chars().count()
            ));
        };
        let mut method = None;
        let mut salt = None;
        let mut digest = None;
        for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
            let (key, val) = pair.split_once('=').unwrap_or((pair, ""));
            let val = form_decode(val).ok_or("the password hash is not a well-formed query string")?;
            match form_decode(key).as_deref() {
                Some("method") => method = Some(val),
                Some("salt") => salt = Some(val),
                Some("digest") => digest = Some(val),
                _ => {}
            }
        }
        let digest = digest.filter(|d| !d.is_empty()).ok_or("the password hash has no digest")?;
        let salt_ok = |s: &Option<String>| s.as_ref().is_some_and(|s| !s.is_empty() && s.len() <= 64);
        match method.as_deref() {
            Some("2") => {
                if !salt_ok(&salt) {
                    return Err("the SHA-512 password hash has no salt".into());
                }
                if digest.len() != 128 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err("the SHA-512 password hash's digest is not 128 hexadecimal digits".into());
                }
                Ok(Some(EprintsHash::Sha512 { salt: salt.unwrap_or_default(), digest: digest.to_ascii_lowercase() }))
            }
            Some("4") if is_bcrypt(&digest) => Ok(Some(EprintsHash::Bcrypt(digest))),
            Some("3") if is_bcrypt(&digest) && salt_ok(&salt) => {
                Ok(Some(EprintsHash::BcryptRehash { salt: salt.unwrap_or_default(), digest }))
            }
            Some("3" | "4") => Err("the bcrypt password hash is not a well-formed $2a$ hash".into()),
            Some(m) => Err(format!("the password hash names crypt method {m:?}, which EPrints 3.4 does not have")),
            None => Err("the password hash names no crypt method".into()),
        }
    }

    /// Whether `password` is the one this hash was made of.
    pub fn verify(&self, password: &str) -> bool {
        if password.is_empty() || password.len() > super::password::MAX_PASSWORD_BYTES {
            return false;
        }
        perl_bytes(password).iter().any(|bytes| match self {
            EprintsHash::Crypt(hash) => pwhash::unix_crypt::verify(bytes, hash),
            EprintsHash::Sha512 { salt, digest } => constant_eq(&eprints_sha512(salt, bytes), digest),
            EprintsHash::Bcrypt(hash) => pwhash::bcrypt::verify(bytes, hash),
            EprintsHash::BcryptRehash { salt, digest } => pwhash::bcrypt::verify(eprints_sha512(salt, bytes), digest),
        })
    }
}

/// `_crypt_sha512` of perl_lib/EPrints/Utils.pm: the SHA-512 of salt and
/// value, then of the digest until 10,000 rounds, the last as hex.
fn eprints_sha512(salt: &str, value: &[u8]) -> String {
    let mut digest = Sha512::new().chain_update(salt.as_bytes()).chain_update(value).finalize();
    for _ in 1..10_000 {
        digest = Sha512::digest(digest);
    }
    hex::encode(Sha512::digest(digest))
}

/// The bytes Perl may have hashed for `password`: Latin-1 when every
/// character fits in a byte, and UTF-8 when that differs.
fn perl_bytes(password: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(2);
    if password.chars().all(|c| (c as u32) <= 0xFF) {
        out.push(password.chars().map(|c| c as u8).collect());
    }
    if !password.is_ascii() {
        out.push(password.as_bytes().to_vec());
    }
    out
}

/// A bcrypt hash as Crypt::Eksblowfish writes it: `$2a$NN$` and 53
/// characters of bcrypt's base-64.
fn is_bcrypt(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 60
        && s.starts_with("$2")
        && matches!(b[2], b'a' | b'b' | b'y')
        && b[3] == b'$'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && b[7..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/')
}

/// A URI query value decoded as URI.pm encodes it (`%XX`, `+` a space);
/// `None` for a broken escape or bytes that are not UTF-8.
fn form_decode(s: &str) -> Option<String> {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn constant_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference hashes made by Perl 5.36 as EPrints makes them: `crypt`
    /// is `perl -e 'print crypt("secret","ab")'`; the SHA-512 forms are
    /// `_crypt_sha512` and `URI->query_form(method => 2, salt => $salt,
    /// digest => …)` of perl_lib/EPrints/Utils.pm, run with Digest::SHA
    /// and URI on the password after `utf8::decode` (as EPrints' forms
    /// give it).
    #[test]
    fn hashes_made_by_eprints_perl_verify() {
        let crypt = EprintsHash::parse("abNANd1rDfiNc").unwrap().unwrap();
        assert_eq!(crypt, EprintsHash::Crypt("abNANd1rDfiNc".into()));
        assert!(crypt.verify("secret"));
        assert!(!crypt.verify("Secret"));
        // crypt(3) reads eight characters: EPrints let the longer ones in too.
        let long = EprintsHash::parse("xYiBFA6uT5A/Y").unwrap().unwrap();
        assert!(long.verify("old password 1") && long.verify("old pass"));
        assert!(!long.verify("old pas"));
        // crypt("crypté", "zz") of the decoded string: é as the byte 0xE9.
        assert!(EprintsHash::parse("zznEAZYZPEcBo").unwrap().unwrap().verify("crypté"));

        let sha = "?method=2&salt=Qz&digest=14382522ce19152f57844f82fcd1725fe0041945c8e6677fc683e1212d60c75dbf923dcc2c038d70fed87fbf7753be88c1d58e78f553cb66b1489f3d5b30b50e";
        let sha = EprintsHash::parse(sha).unwrap().unwrap();
        assert!(matches!(&sha, EprintsHash::Sha512 { salt, .. } if salt == "Qz"));
        assert!(sha.verify("old password 2"));
        assert!(!sha.verify("old password 3"));
        assert!(!sha.verify(""));
        // A salt with `/`, escaped by URI.pm, and a password beyond ASCII.
        let latin = "?method=2&salt=.%2F&digest=1f0fbd7499d3cf3cc11f032dd155616552b3c0bfa5119a069d78f6f3ddea3815b2d903d72e4e26e1d9b564618f8c9db657d149f4bc8e88204382ab0c9a72eda9";
        assert!(EprintsHash::parse(latin).unwrap().unwrap().verify("pässwörd 3"));
        // The pairs in another order (3.4.6 builds them from a hash).
        let reordered = "?digest=58a70cb2594b8b5c42bda9696218b7b4a077ae049bd6457fd93d28b294575158edb9266252d96f4cf23c449f2381e6cf1782de70d172479c676408ebaa820f94&salt=a%2F&method=2";
        assert!(EprintsHash::parse(reordered).unwrap().unwrap().verify("secret"));
    }

    /// A bcrypt test vector of OpenBSD's (the password "U*U"), as EPrints
    /// 3.4.6 keeps bcrypt: `?method=4&digest=` and the hash, URI-escaped.
    #[test]
    fn bcrypt_forms_verify() {
        let stored = "?method=4&digest=%242a%2405%24CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        let hash = EprintsHash::parse(stored).unwrap().unwrap();
        assert!(hash.verify("U*U"));
        assert!(!hash.verify("U*V"));
    }

    #[test]
    fn what_eprints_never_writes_is_refused_without_being_quoted() {
        assert_eq!(EprintsHash::parse("  ").unwrap(), None, "no password");
        for bad in [
            "plaintext password",
            "abNANd1rDfiN",
            "?method=2&salt=Qz&digest=1438",
            "?method=2&digest=14382522ce19152f57844f82fcd1725fe0041945c8e6677fc683e1212d60c75dbf923dcc2c038d70fed87fbf7753be88c1d58e78f553cb66b1489f3d5b30b50e",
            "?method=9&salt=Qz&digest=ab",
            "?method=4&digest=$2a$05$short",
            "?salt=%ZZ&digest=x&method=2",
        ] {
            let why = EprintsHash::parse(bad).unwrap_err();
            assert!(!why.contains(bad), "{why}");
        }
        assert!(EprintsHash::parse(&"a".repeat(300)).unwrap_err().contains("300 bytes"));
    }
}
