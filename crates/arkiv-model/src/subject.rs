//! The subject tree: `Geographical area > Central Asia > Kazakhstan`.
//! Records name subjects by id; the tree gives each id its name and parent.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub id: String,
    pub name: String,
    /// `None` for a top-level subject.
    pub parent: Option<String>,
}

/// All subjects of a repository. Small (hundreds to a few thousand), so it is
/// loaded whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectTree {
    subjects: Vec<Subject>,
    by_id: HashMap<String, usize>,
}

impl SubjectTree {
    pub fn new(subjects: Vec<Subject>) -> Self {
        let by_id = subjects.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        SubjectTree { subjects, by_id }
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

    pub fn children<'a>(&'a self, parent: Option<&'a str>) -> impl Iterator<Item = &'a Subject> + 'a {
        self.subjects.iter().filter(move |s| s.parent.as_deref() == parent)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Subject> {
        self.subjects.iter()
    }

    pub fn len(&self) -> usize {
        self.subjects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty()
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
}
