//! The people and bodies a record names: creators, editors, contributors,
//! and corporate creators.

use serde::{Deserialize, Serialize};

/// A person's name as EPrints keeps it: family and given apart, so citations
/// can invert and initial them and browse views can sort by family name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    pub family: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub given: String,
}

impl PersonName {
    pub fn new(family: impl Into<String>, given: impl Into<String>) -> Self {
        PersonName { family: family.into(), given: given.into() }
    }

    /// "Jaroslewlcz, Aleksandra": the inverted form citations and browse views use.
    pub fn inverted(&self) -> String {
        if self.given.is_empty() {
            self.family.clone()
        } else {
            format!("{}, {}", self.family, self.given)
        }
    }
}

/// An author (or editor) of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Creator {
    pub name: PersonName,
    /// The local identifier EPrints keeps in `creators/item/id` (often an e-mail
    /// address or a staff id). It is exported as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// ORCID iD, `0000-0002-1825-0097`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcid: Option<String>,
    /// Contact address. Kept for staff; never written by any public export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Creator {
    pub fn new(family: &str, given: &str) -> Self {
        Creator { name: PersonName::new(family, given), ..Default::default() }
    }
}

/// A contributor in a role other than author or editor (translator,
/// interviewer, thesis advisor...). The role is EPrints' contributor type,
/// usually a MARC relator URI or code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Contributor {
    pub role: String,
    #[serde(flatten)]
    pub person: Creator,
}

/// An organisation credited as author ("OSW Centre for Eastern Studies").
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CorporateCreator {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
