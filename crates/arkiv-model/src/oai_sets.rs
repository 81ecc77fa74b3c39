//! Which OAI-PMH sets a record belongs to, and how a set's name is written
//! as a setSpec. Pure rules, shared by the store (which keeps a membership
//! table so a set harvest is an index range walk) and the OAI-PMH provider
//! (which lists a record's sets in its header).
//!
//! Sets: `type:{item type}`, `subject:{id}:{child id}...` (hierarchical: a
//! record is in its subject's set and in every ancestor's), the same for
//! divisions as `division:{id}:...`, `series:{name}`,
//! and `driver` (open access with a stored full text, the set DRIVER-style
//! aggregators harvest). A setSpec allows only `[A-Za-z0-9-_.!~*'()]`
//! between colons; any other byte is written `~HH` (and `~` itself `~7E`),
//! which is reversible and keeps plain ids readable.

use crate::{PartialDate, Record, Scheme, SubjectTree};

/// The set of open-access records with full text.
pub const DRIVER_SET: &str = "driver";

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'*' | b'\'' | b'(' | b')')
}

/// One segment of a setSpec (the text between colons), reversibly encoded.
pub fn encode_set_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if allowed(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("~{b:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_set_segment`]; `None` for text it cannot have made.
pub fn decode_set_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'~' => {
                let hex = s.get(i + 1..i + 3)?;
                let b = u8::from_str_radix(hex, 16).ok()?;
                if allowed(b) || hex.bytes().any(|h| h.is_ascii_lowercase()) {
                    return None; // not how the encoder writes it: one spelling per set
                }
                out.push(b);
                i += 3;
            }
            b if allowed(b) => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Whether the record is in the `driver` set: at least one document anyone
/// may read on `today` whose bytes the repository holds.
pub fn has_open_full_text(record: &Record, today: PartialDate) -> bool {
    record.documents.iter().any(|d| d.is_open_access(today) && d.files.iter().any(|f| f.sha256.is_some()))
}

/// The set of a subject: `subject:` and the ids of its path from the root
/// (`subject:geo:geo-casia`), or `subject:{id}` for an id the tree does
/// not know. The setSpec names the path, so moving a subject under another
/// parent changes the sets of every record filed under it or below it.
/// A division's set is the same with `division:`; for a node the tree
/// knows, its own tree decides the prefix.
pub fn subject_set(subjects: &SubjectTree, id: &str) -> String {
    scheme_set(subjects, subjects.scheme_of(id).unwrap_or_default(), id)
}

/// The set of node `id` of tree `scheme`, the tree's own word for a node it
/// knows (the scheme only names the set of an id the tree does not know).
pub fn scheme_set(subjects: &SubjectTree, scheme: Scheme, id: &str) -> String {
    path_sets(subjects, scheme, id).pop().unwrap_or_default()
}

/// The sets of `id` and each of its ancestors, root first.
fn path_sets(subjects: &SubjectTree, scheme: Scheme, id: &str) -> Vec<String> {
    let path = subjects.path(id);
    let scheme = subjects.scheme_of(id).unwrap_or(scheme);
    if path.is_empty() {
        return vec![format!("{}:{}", scheme.set_prefix(), encode_set_segment(id))];
    }
    let mut spec = String::from(scheme.set_prefix());
    let mut sets = Vec::with_capacity(path.len());
    for s in path {
        spec.push(':');
        spec.push_str(&encode_set_segment(&s.id));
        sets.push(spec.clone());
    }
    sets
}

/// Every set the record is in, each once, sorted. Status does not matter:
/// a withdrawn record stays in its sets, so that a set harvest reports it
/// deleted. The `driver` membership is judged on `today` (an embargo that
/// ends later changes it only at the record's next write).
pub fn record_sets(record: &Record, subjects: &SubjectTree, today: PartialDate) -> Vec<String> {
    let mut sets = vec![format!("type:{}", encode_set_segment(&record.item_type))];
    for id in &record.subjects {
        sets.extend(path_sets(subjects, Scheme::Subjects, id));
    }
    for id in &record.divisions {
        sets.extend(path_sets(subjects, Scheme::Divisions, id));
    }
    if let Some(series) = record.series.as_deref().filter(|s| !s.trim().is_empty()) {
        sets.push(format!("series:{}", encode_set_segment(series)));
    }
    if has_open_full_text(record, today) {
        sets.push(DRIVER_SET.to_string());
    }
    sets.sort();
    sets.dedup();
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, StoredFile, Subject};

    #[test]
    fn set_segments_round_trip_and_stay_in_the_allowed_alphabet() {
        for s in ["geo-casia", "Caltech Seismological Laboratory Reports", "a:b~c%d", "Zürich/ŁÓDŹ", ""] {
            let e = encode_set_segment(s);
            assert!(e.bytes().all(|b| allowed(b) || b == b'~' || b.is_ascii_hexdigit()), "{e}");
            assert!(!e.contains(':'));
            assert_eq!(decode_set_segment(&e).as_deref(), Some(s));
        }
        assert_eq!(encode_set_segment("a b"), "a~20b");
        assert_eq!(decode_set_segment("a~2"), None);
        assert_eq!(decode_set_segment("a~41"), None, "an allowed byte is never escaped");
        assert_eq!(decode_set_segment("a b"), None);
    }

    #[test]
    fn a_record_is_in_every_ancestor_subject_and_its_type_series_and_driver() {
        let tree = SubjectTree::new(vec![
            Subject { id: "geo".into(), name: "Geography".into(), parent: None },
            Subject { id: "geo-casia".into(), name: "Central Asia".into(), parent: Some("geo".into()) },
        ]);
        let mut r = Record::new("article", "T");
        r.subjects = vec!["geo-casia".into(), "unknown id".into()];
        r.series = Some("Tech Reports".into());
        let today: PartialDate = "2026-11-28".parse().unwrap();
        assert_eq!(
            record_sets(&r, &tree, today),
            ["series:Tech~20Reports", "subject:geo", "subject:geo:geo-casia", "subject:unknown~20id", "type:article"]
        );
        assert_eq!(subject_set(&tree, "geo-casia"), "subject:geo:geo-casia");
        assert_eq!(subject_set(&tree, "unknown id"), "subject:unknown~20id");
        let file = StoredFile { filename: "a.pdf".into(), sha256: Some("00".into()), ..Default::default() };
        r.documents.push(Document {
            pos: 1,
            files: vec![file],
            embargo: Some("2027".parse().unwrap()),
            ..Default::default()
        });
        assert!(!record_sets(&r, &tree, today).contains(&"driver".to_string()), "embargoed");
        r.documents[0].embargo = None;
        assert!(record_sets(&r, &tree, today).contains(&"driver".to_string()));
    }

    #[test]
    fn divisions_have_their_own_hierarchical_sets() {
        let s =
            |id: &str, parent: Option<&str>| Subject { id: id.into(), name: id.into(), parent: parent.map(Into::into) };
        let tree = SubjectTree::with_divisions(vec![s("geo", None)], vec![s("fac", None), s("dept", Some("fac"))]);
        let mut r = Record::new("article", "T");
        r.subjects = vec!["geo".into()];
        r.divisions = vec!["dept".into(), "gone".into()];
        let today: PartialDate = "2026-11-28".parse().unwrap();
        assert_eq!(
            record_sets(&r, &tree, today),
            ["division:fac", "division:fac:dept", "division:gone", "subject:geo", "type:article"]
        );
        assert_eq!(subject_set(&tree, "dept"), "division:fac:dept");
    }
}
