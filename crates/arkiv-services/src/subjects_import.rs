//! Importing EPrints' subject tree from its subjects file or the XML
//! export of its subject dataset (`arkiv import subjects FILE`), so that the records an EPrints export
//! files under `QA75` land under "Electronic computers. Computer science"
//! and its ancestors, in the browse view, the OAI sets and the facets.
//!
//! EPrints keeps every tree under one `ROOT`: the subjects under the node
//! `subjects`, and its divisions under `divisions`. The subtree below the
//! subjects root (`subjects` unless told otherwise) becomes Arkiv's subject
//! tree and the subtree below `divisions` its division tree, each root's
//! children that tree's top level. EPrints allows several parents;
//! Arkiv keeps the first one inside the subtree and says so for the others.
//! A line that cannot be placed (a parent never defined, a cycle, a bad
//! key, a key given twice) is reported with its line number, and the rest
//! is imported.

use crate::Repository;
use anyhow::Result;
use arkiv_formats::eprints::subjects::{read_subjects_file, read_subjects_xml, FlatSubject, SubjectLine};
use arkiv_model::{Scheme, Subject};
use std::collections::{BTreeMap, HashMap};

/// What a subjects import did.
#[derive(Debug, Default)]
pub struct SubjectsReport {
    /// Subjects imported.
    pub imported: usize,
    /// Divisions imported.
    pub divisions: usize,
    /// (line, why) for each line not imported.
    pub rejected: Vec<(usize, String)>,
    /// Lines imported with a remark (a second parent dropped).
    pub warnings: Vec<(usize, String)>,
    /// Entries under other top nodes, left out.
    pub outside: usize,
}

fn plausible_id(id: &str) -> bool {
    (1..=100).contains(&id.len()) && id.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
}

/// The subjects of a file in either form: XML when it starts with `<`,
/// else EPrints' line format. An error only for XML that is not
/// well-formed (the line format reports bad lines one by one).
pub fn read_subjects(bytes: &[u8]) -> std::result::Result<Vec<SubjectLine>, String> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return read_subjects_xml(bytes);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the subjects file is not UTF-8 ({e})"))?;
    Ok(read_subjects_file(text))
}

/// The node whose subtree is EPrints' division tree.
pub const DIVISIONS_ROOT: &str = "divisions";

/// Imports the subtree below `root` of the subjects read from a file as
/// the subject tree, and the subtree below [`DIVISIONS_ROOT`] as the
/// division tree.
pub async fn import_subjects(repo: &Repository, lines: Vec<SubjectLine>, root: &str) -> Result<SubjectsReport> {
    let mut report = SubjectsReport::default();
    let scheme_of_root = |id: &str| match id {
        _ if id == root => Some(Scheme::Subjects),
        DIVISIONS_ROOT => Some(Scheme::Divisions),
        _ => None,
    };
    let mut by_id: BTreeMap<String, (usize, FlatSubject)> = BTreeMap::new();
    for line in lines {
        match line.result {
            Err(why) => report.rejected.push((line.line, why)),
            Ok(s) if scheme_of_root(&s.id).is_some() || s.id == "ROOT" => {}
            Ok(s) if !plausible_id(&s.id) => report.rejected.push((
                line.line,
                format!("{:?} is not a subject key Arkiv keeps (letters, digits, _, - and .)", s.id),
            )),
            Ok(s) if by_id.contains_key(&s.id) => report
                .rejected
                .push((line.line, format!("subject {} is defined twice (first on line {})", s.id, by_id[&s.id].0))),
            Ok(s) => {
                by_id.insert(s.id.clone(), (line.line, s));
            }
        }
    }
    // Each subject's place: None for the root's children, Some(parent)
    // below; found by walking up the first parents, which must reach the
    // root without meeting a subject twice.
    let mut placed: HashMap<String, (Scheme, Option<String>)> = HashMap::new();
    for (id, (line, s)) in &by_id {
        let Some(first) = s.parents.first() else { continue };
        if s.parents.len() > 1 {
            report.warnings.push((
                *line,
                format!("subject {id} is also under {}: Arkiv keeps one parent, {first}", s.parents[1..].join(", ")),
            ));
        }
        // Walk up to see where the chain ends.
        let mut seen = vec![id.as_str()];
        let mut current = first.as_str();
        let outcome = loop {
            if let Some(scheme) = scheme_of_root(current) {
                break Ok(Some(scheme));
            }
            if current == "ROOT" {
                break Ok(None); // another top node
            }
            if seen.contains(&current) {
                break Err(format!("subject {id} cannot be placed: the chain of its parents loops at {current}"));
            }
            seen.push(current);
            match by_id.get(current) {
                Some((_, parent)) => match parent.parents.first() {
                    Some(p) => current = p.as_str(),
                    None => break Err(format!("subject {current} has no parent")),
                },
                None => break Err(format!("the parent {current} of subject {id} is not defined in the file")),
            }
        };
        match outcome {
            Ok(Some(scheme)) => {
                placed.insert(id.clone(), (scheme, scheme_of_root(first).is_none().then(|| first.clone())));
            }
            Ok(None) => report.outside += 1,
            Err(why) => report.rejected.push((*line, why)),
        }
    }
    // Parents first: sort by depth, so that the store never meets a child
    // before its parent.
    let depth = |id: &str| {
        let mut d = 0;
        let mut current = placed.get(id).and_then(|(_, p)| p.clone());
        while let Some(p) = current {
            d += 1;
            current = placed.get(&p).and_then(|(_, p)| p.clone());
        }
        d
    };
    report.rejected.sort();
    report.warnings.sort();
    for scheme in Scheme::ALL {
        let mut nodes: Vec<Subject> = placed
            .iter()
            .filter(|(_, (s, _))| *s == scheme)
            .map(|(id, (_, parent))| Subject { id: id.clone(), name: by_id[id].1.name.clone(), parent: parent.clone() })
            .collect();
        nodes.sort_by_key(|s| (depth(&s.id), s.id.clone()));
        if !nodes.is_empty() {
            repo.put_subjects(scheme, &nodes).await?;
        }
        match scheme {
            Scheme::Subjects => report.imported = nodes.len(),
            Scheme::Divisions => report.divisions = nodes.len(),
        }
    }
    Ok(report)
}
