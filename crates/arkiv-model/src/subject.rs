//! The subject tree: `Geographical area > Central Asia > Kazakhstan`.
//! Records name subjects by id; the tree gives each id its name and parent.
//!
//! A repository has a second tree of the same shape, its divisions (the
//! faculties, departments and programmes that own the work: EPrints'
//! `divisions`). As in EPrints, both trees live in one id space: a division
//! is a subject node whose tree is [`Scheme::Divisions`], records name their
//! divisions in their own field, and every lookup by id (name, path) works
//! for both, so only what lists a tree's roots needs to know which it is.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub id: String,
    pub name: String,
    /// `None` for a top-level subject.
    pub parent: Option<String>,
}

/// Which of a repository's two trees a node belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    #[default]
    Subjects,
    Divisions,
}

impl Scheme {
    pub const ALL: [Scheme; 2] = [Scheme::Subjects, Scheme::Divisions];

    /// The name in the store, the CLI and EPrints (`subjects`, `divisions`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Subjects => "subjects",
            Scheme::Divisions => "divisions",
        }
    }

    pub fn parse(s: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }

    /// The first segment of the tree's OAI-PMH setSpecs (`subject:...`).
    pub fn set_prefix(&self) -> &'static str {
        match self {
            Scheme::Subjects => "subject",
            Scheme::Divisions => "division",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Scheme::Subjects => "Subject",
            Scheme::Divisions => "Division",
        }
    }
}

/// All subjects and divisions of a repository. Small (hundreds to a few
/// thousand), so it is loaded whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectTree {
    /// The subjects, then the divisions from `first_division` on.
    subjects: Vec<Subject>,
    first_division: usize,
    by_id: HashMap<String, usize>,
}

impl SubjectTree {
    /// A tree of subjects, without divisions.
    pub fn new(subjects: Vec<Subject>) -> Self {
        SubjectTree::with_divisions(subjects, Vec::new())
    }

    /// Both trees. Ids are one space, as in EPrints: a division with a
    /// subject's id is shadowed by the subject for lookups by id (the
    /// store's primary key keeps that from happening).
    pub fn with_divisions(mut subjects: Vec<Subject>, divisions: Vec<Subject>) -> Self {
        let first_division = subjects.len();
        subjects.extend(divisions);
        let mut by_id = HashMap::with_capacity(subjects.len());
        for (i, s) in subjects.iter().enumerate() {
            by_id.entry(s.id.clone()).or_insert(i);
        }
        SubjectTree { subjects, first_division, by_id }
    }

    /// Which tree the node `id` is in, if either knows it.
    pub fn scheme_of(&self, id: &str) -> Option<Scheme> {
        self.by_id.get(id).map(|&i| if i < self.first_division { Scheme::Subjects } else { Scheme::Divisions })
    }

    /// The nodes of one tree, in the store's order.
    pub fn nodes(&self, scheme: Scheme) -> &[Subject] {
        match scheme {
            Scheme::Subjects => &self.subjects[..self.first_division],
            Scheme::Divisions => &self.subjects[self.first_division..],
        }
    }

    /// The children of `parent` in one tree; `None` gives that tree's roots.
    pub fn children_in<'a>(
        &'a self,
        scheme: Scheme,
        parent: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Subject> + 'a {
        self.nodes(scheme).iter().filter(move |s| s.parent.as_deref() == parent)
    }

    /// The divisions, in the store's order.
    pub fn divisions(&self) -> impl Iterator<Item = &Subject> {
        self.nodes(Scheme::Divisions).iter()
    }

    pub fn get(&self, id: &str) -> Option<&Subject> {
        self.by_id.get(id).map(|&i| &self.subjects[i])
    }

    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.get(id).map(|s| s.name.as_str()).unwrap_or(id)
    }

    /// The subject and its ancestors, root first. Stops at a cycle.
    pub fn path(&self, id: &str) -> Vec<&Subject> {
        let mut path = Vec::new();
        let mut next = self.get(id);
        while let Some(s) = next {
            if path.iter().any(|p: &&Subject| p.id == s.id) {
                break;
            }
            path.push(s);
            next = s.parent.as_deref().and_then(|p| self.get(p));
        }
        path.reverse();
        path
    }

    /// "Geographical area > Central Asia > Kazakhstan".
    pub fn path_label(&self, id: &str) -> String {
        let path = self.path(id);
        if path.is_empty() {
            return id.to_string();
        }
        path.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" > ")
    }

    /// The children of a subject; `None` gives the subject tree's roots.
    pub fn children<'a>(&'a self, parent: Option<&'a str>) -> impl Iterator<Item = &'a Subject> + 'a {
        self.children_in(Scheme::Subjects, parent)
    }

    /// The subjects (not the divisions), in the store's order.
    pub fn iter(&self) -> impl Iterator<Item = &Subject> {
        self.nodes(Scheme::Subjects).iter()
    }

    /// Subjects and divisions, each once.
    pub fn all(&self) -> impl Iterator<Item = &Subject> {
        self.subjects.iter()
    }

    /// How many subjects (not divisions).
    pub fn len(&self) -> usize {
        self.first_division
    }

    pub fn is_empty(&self) -> bool {
        self.first_division == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_root_first() {
        let s = |id: &str, name: &str, parent: Option<&str>| Subject {
            id: id.into(),
            name: name.into(),
            parent: parent.map(Into::into),
        };
        let tree = SubjectTree::new(vec![
            s("geo", "Geographical area", None),
            s("casia", "Central Asia", Some("geo")),
            s("kz", "Kazakhstan", Some("casia")),
        ]);
        assert_eq!(tree.path_label("kz"), "Geographical area > Central Asia > Kazakhstan");
        assert_eq!(tree.children(Some("geo")).count(), 1);
        assert_eq!(tree.path_label("unknown"), "unknown");
    }

    #[test]
    fn divisions_are_a_second_tree_in_the_same_id_space() {
        let s = |id: &str, parent: Option<&str>| Subject {
            id: id.into(),
            name: id.to_uppercase(),
            parent: parent.map(Into::into),
        };
        let tree = SubjectTree::with_divisions(
            vec![s("geo", None), s("kz", Some("geo"))],
            vec![s("fac", None), s("dept", Some("fac"))],
        );
        assert_eq!(
            tree.children(None).map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["geo"],
            "divisions are not subjects"
        );
        assert_eq!(tree.children_in(Scheme::Divisions, None).map(|s| s.id.as_str()).collect::<Vec<_>>(), ["fac"]);
        assert_eq!(tree.path_label("dept"), "FAC > DEPT");
        assert_eq!(tree.scheme_of("dept"), Some(Scheme::Divisions));
        assert_eq!(tree.scheme_of("kz"), Some(Scheme::Subjects));
        assert_eq!((tree.len(), tree.all().count()), (2, 4));
    }
}
