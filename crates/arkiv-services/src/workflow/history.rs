//! A record's history as people read it: each revision with who made it,
//! when, and for every field it changed the value before and after, in
//! words rather than JSON where the value is text or a list of text.
//! Pure: it reads revisions the store kept and names users through a
//! lookup the caller passes in. A file purged from a draft (see
//! `crate::file_gc`) is said to be, on the revision that removed it, so
//! the history never seems to offer bytes that are gone.

use arkiv_model::Revision;
use arkiv_storage::FilePurge;
use serde::Serialize;
use serde_json::Value;

/// The longest value shown in a diff; longer ones are cut with an ellipsis.
const MAX_SHOWN: usize = 600;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub number: i64,
    /// Who: a user's name where the actor is `user:ID`, the EPrints actor
    /// and "(in EPrints)" for `eprints:...`, else the actor
    /// (`import`, `system`...).
    pub actor: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    pub status: &'static str,
    pub changes: Vec<FieldChange>,
    /// Files this revision removed whose bytes were purged since:
    /// "paper.pdf: file purged on 2026-12-14".
    pub purged: Vec<String>,
}

/// Every revision, newest first, each against the one before it. `name_of`
/// turns a user id into a name (or `None` for a deleted user).
pub fn history(
    revisions: &[Revision],
    purges: &[FilePurge],
    name_of: impl Fn(i64) -> Option<String>,
) -> Vec<HistoryEntry> {
    let mut out = Vec::with_capacity(revisions.len());
    let removed_by = |purge: &FilePurge| {
        let names = |r: &Revision| r.record.files().any(|(_, f)| f.sha256.as_deref() == Some(purge.sha256.as_str()));
        let last = revisions.iter().rposition(names)?;
        revisions.get(last + 1).map(|r| r.number)
    };
    let purged_in: Vec<(i64, String)> = purges
        .iter()
        .filter_map(|p| {
            let day = day_of(p.purged_at.0);
            Some((removed_by(p)?, format!("{}: file purged on {day}", p.filename)))
        })
        .collect();
    let mut previous: Option<Value> = None;
    for rev in revisions {
        let now = serde_json::to_value(&rev.record).unwrap_or(Value::Null);
        let changes = rev
            .changed
            .iter()
            .map(|field| FieldChange {
                field: field.clone(),
                before: previous.as_ref().and_then(|p| p.get(field)).map(shown).unwrap_or_default(),
                after: now.get(field).map(shown).unwrap_or_default(),
            })
            .filter(|c| c.before != c.after)
            .collect();
        let actor = match rev.actor.strip_prefix("user:").and_then(|id| id.parse().ok()) {
            Some(id) => name_of(id).unwrap_or_else(|| format!("user {id}")),
            // A revision from before the record came to Arkiv.
            None => match rev.actor.strip_prefix(crate::history_import::EPRINTS_ACTOR) {
                Some(who) => format!("{who} (in EPrints)"),
                None => rev.actor.clone(),
            },
        };
        let at = time::OffsetDateTime::from_unix_timestamp(rev.at.0)
            .map(|t| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                )
            })
            .unwrap_or_default();
        let purged = purged_in.iter().filter(|(n, _)| *n == rev.number).map(|(_, note)| note.clone()).collect();
        out.push(HistoryEntry { number: rev.number, actor, at, status: rev.record.status.label(), changes, purged });
        previous = Some(now);
    }
    out.reverse();
    out
}

/// A moment's day, `YYYY-MM-DD` (UTC).
fn day_of(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// A value in words: text as it is, lists one entry per line, people as
/// "Family, Given", anything else as compact JSON.
fn shown(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join("\n"),
        Value::Object(m) => match (m.get("name"), m.get("filename")) {
            (Some(Value::Object(n)), _) => {
                let family = n.get("family").and_then(Value::as_str).unwrap_or("");
                match n.get("given").and_then(Value::as_str) {
                    Some(g) if !g.is_empty() => format!("{family}, {g}"),
                    _ => family.to_string(),
                }
            }
            (_, Some(Value::String(f))) => f.clone(),
            _ => v.to_string(),
        },
        other => other.to_string(),
    };
    if text.chars().count() > MAX_SHOWN {
        text.chars().take(MAX_SHOWN).collect::<String>() + "…"
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::{changed_fields, Creator, Record, Timestamp};

    fn rev(number: i64, actor: &str, before: Option<&Record>, record: Record) -> Revision {
        Revision {
            record_id: 1,
            number,
            actor: actor.into(),
            at: Timestamp(1_700_000_000),
            changed: changed_fields(before, &record),
            record,
        }
    }

    #[test]
    fn each_revision_says_who_changed_what_from_what() {
        let mut a = Record::new("report", "First title");
        let r1 = rev(1, "import", None, a.clone());
        let mut b = a.clone();
        b.title = "Second title".into();
        b.creators = vec![Creator::new("Nowak", "Anna")];
        let r2 = rev(2, "user:7", Some(&a), b.clone());
        a = b;
        let h = history(&[r1, r2], &[], |id| (id == 7).then(|| "Ed Itor".to_string()));
        assert_eq!(h[0].number, 2, "newest first");
        assert_eq!(h[0].actor, "Ed Itor");
        assert_eq!(h[1].actor, "import");
        let title = h[0].changes.iter().find(|c| c.field == "title").unwrap();
        assert_eq!((title.before.as_str(), title.after.as_str()), ("First title", "Second title"));
        let creators = h[0].changes.iter().find(|c| c.field == "creators").unwrap();
        assert_eq!((creators.before.as_str(), creators.after.as_str()), ("", "Nowak, Anna"));
        assert_eq!(h[0].at, "2023-11-14 22:13:20");
        let _ = a;
    }
}
