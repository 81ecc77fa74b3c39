//! Resumption tokens. Stateless: a token carries everything the next page
//! needs (verb, metadataPrefix, set, from, until, the last id sent, the
//! cursor and the completeListSize counted at the first request), so it
//! survives a restart and works on any node of the same repository. A keyed
//! SHA-256 tag (the key is a random secret in the store's settings) makes a
//! token that was altered or made up answer badResumptionToken instead of
//! walking wherever it points.

use sha2::{Digest, Sha256};

/// Where a list stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub verb: String,
    pub prefix: String,
    pub set: Option<String>,
    pub from: Option<i64>,
    pub until: Option<i64>,
    /// The last record id (or, for ListSets, the last setSpec) sent.
    pub after: String,
    /// How many items were sent before the next page.
    pub cursor: u64,
    pub complete_list_size: Option<u64>,
}

const VERSION: &str = "1";

fn tag(key: &[u8], payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(key);
    h.update(b"\0");
    h.update(payload.as_bytes());
    hex::encode(&h.finalize()[..12])
}

fn opt(v: &Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl Token {
    /// `1!verb!prefix!set!from!until!after!cursor!size!tag`: setSpecs,
    /// prefixes and verbs cannot hold `!`... except setSpecs, whose alphabet
    /// allows it: the set goes hex-encoded.
    pub fn encode(&self, key: &[u8]) -> String {
        let payload = format!(
            "{VERSION}!{}!{}!{}!{}!{}!{}!{}!{}",
            self.verb,
            self.prefix,
            self.set.as_deref().map(|s| hex::encode(s.as_bytes())).unwrap_or_default(),
            opt(&self.from),
            opt(&self.until),
            hex::encode(self.after.as_bytes()),
            self.cursor,
            self.complete_list_size.map(|n| n.to_string()).unwrap_or_default(),
        );
        let t = tag(key, &payload);
        format!("{payload}!{t}")
    }

    /// `None` for anything [`Token::encode`] did not make with this key.
    pub fn decode(text: &str, key: &[u8]) -> Option<Token> {
        let (payload, t) = text.rsplit_once('!')?;
        if tag(key, payload) != t {
            return None;
        }
        let parts: Vec<&str> = payload.split('!').collect();
        let [version, verb, prefix, set, from, until, after, cursor, size] = parts.as_slice() else { return None };
        if *version != VERSION {
            return None;
        }
        let num = |s: &str| if s.is_empty() { Some(None) } else { s.parse::<i64>().ok().map(Some) };
        let text_of = |s: &str| hex::decode(s).ok().and_then(|b| String::from_utf8(b).ok());
        Some(Token {
            verb: verb.to_string(),
            prefix: prefix.to_string(),
            set: if set.is_empty() { None } else { Some(text_of(set)?) },
            from: num(from)?,
            until: num(until)?,
            after: text_of(after)?,
            cursor: cursor.parse().ok()?,
            complete_list_size: if size.is_empty() { None } else { Some(size.parse().ok()?) },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let t = Token {
            verb: "ListRecords".into(),
            prefix: "oai_dc".into(),
            set: Some("series:a!b".into()),
            from: Some(-5),
            until: None,
            after: "1234".into(),
            cursor: 100,
            complete_list_size: Some(2500),
        };
        let text = t.encode(b"key");
        assert_eq!(Token::decode(&text, b"key"), Some(t.clone()));
        assert_eq!(Token::decode(&text, b"other key"), None, "another repository's token");
        let forged = text.replacen("!100!", "!200!", 1);
        assert_ne!(forged, text);
        assert_eq!(Token::decode(&forged, b"key"), None);
        let mut flipped = text.clone().into_bytes();
        flipped[3] ^= 1;
        assert_eq!(Token::decode(&String::from_utf8_lossy(&flipped), b"key"), None);
        for junk in ["", "!", "bogus", "1!a!b!!!!!!!", &"!".repeat(500)] {
            assert_eq!(Token::decode(junk, b"key"), None);
        }
    }
}
