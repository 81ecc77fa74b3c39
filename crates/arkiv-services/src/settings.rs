//! The settings an admin may change while the site runs: the repository's
//! name, description and contact address, whether visitors may register
//! (and from which domains), and how long a login lasts.
//!
//! `arkiv.toml` stays the defaults. What an admin changes is kept in the
//! database (the store's `meta` table, key [`SETTINGS_KEY`]) as one JSON
//! object of only the fields changed ([`Overrides`]); a field absent from
//! it is the file's. [`LiveSettings`] is the two overlaid: what every
//! reader uses, through [`crate::Repository::settings`].
//!
//! Not here, on purpose: `base_url` (every record's address and OAI-PMH
//! identifier is built from it), the database, the listening address and
//! the import limits, which need a restart anyway.

use crate::config::{AccountSettings, Config};
use serde::{Deserialize, Serialize};

/// The `meta` key of the stored overrides.
pub const SETTINGS_KEY: &str = "live_settings";

/// What an admin changed, field by field; `None` is the file's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_hours: Option<u32>,
}

impl Overrides {
    /// The stored form: a JSON object of the changed fields only.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("overrides serialize")
    }

    pub fn from_json(json: &str) -> serde_json::Result<Overrides> {
        serde_json::from_str(json)
    }

    /// The names of the fields changed here, in the form's order.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let flags = [
            ("name", self.name.is_some()),
            ("description", self.description.is_some()),
            ("contact_email", self.contact_email.is_some()),
            ("registration", self.registration.is_some()),
            ("allowed_domains", self.allowed_domains.is_some()),
            ("session_hours", self.session_hours.is_some()),
        ];
        for (field, set) in flags {
            if set {
                out.push(field);
            }
        }
        out
    }
}

/// The settings in effect: the file's, overlaid by the stored overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSettings {
    pub name: String,
    pub description: String,
    pub contact_email: String,
    /// Registration, allowed domains and session length.
    pub accounts: AccountSettings,
    /// Which of them were changed here rather than read from the file.
    pub overrides: Overrides,
}

impl LiveSettings {
    /// The file's settings with `overrides` laid over them.
    pub fn overlay(config: &Config, overrides: Overrides) -> LiveSettings {
        let file = &config.repository;
        let accounts = &config.accounts;
        let o = &overrides;
        LiveSettings {
            name: o.name.clone().unwrap_or_else(|| file.name.clone()),
            description: o.description.clone().unwrap_or_else(|| file.description.clone()),
            contact_email: o.contact_email.clone().unwrap_or_else(|| file.contact_email.clone()),
            accounts: AccountSettings {
                registration: o.registration.unwrap_or(accounts.registration),
                allowed_domains: o.allowed_domains.clone().unwrap_or_else(|| accounts.allowed_domains.clone()),
                session_hours: o.session_hours.unwrap_or(accounts.session_hours),
            },
            overrides,
        }
    }

    /// The file's settings alone.
    pub fn from_file(config: &Config) -> LiveSettings {
        LiveSettings::overlay(config, Overrides::default())
    }

    /// The stored overrides as read from the store's value (`None`: none
    /// stored). A value that cannot be read is logged and ignored: the site
    /// keeps running on the file's settings, and the admin page shows them.
    pub fn parse_stored(stored: Option<&str>) -> Overrides {
        match stored.map(Overrides::from_json) {
            None => Overrides::default(),
            Some(Ok(o)) => o,
            Some(Err(e)) => {
                tracing::warn!(error = %e, key = SETTINGS_KEY, "the stored settings cannot be read; using arkiv.toml's");
                Overrides::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Config {
        let mut c = Config::default();
        c.repository.name = "From the file".into();
        c.accounts.allowed_domains = vec!["example.org".into()];
        c
    }

    #[test]
    fn the_file_is_the_default_an_override_wins_and_a_reset_falls_back() {
        let config = file();
        let plain = LiveSettings::from_file(&config);
        assert_eq!(plain.name, "From the file");
        assert_eq!(plain.accounts, config.accounts);
        assert!(plain.overrides.fields().is_empty());

        let o = Overrides {
            name: Some("Changed here".into()),
            registration: Some(false),
            session_hours: Some(8),
            ..Default::default()
        };
        let live = LiveSettings::overlay(&config, o.clone());
        assert_eq!(live.name, "Changed here");
        assert!(!live.accounts.registration);
        assert_eq!(live.accounts.session_hours, 8);
        assert_eq!(live.description, config.repository.description, "what was not changed is the file's");
        assert_eq!(live.accounts.allowed_domains, vec!["example.org".to_string()]);
        assert_eq!(live.overrides.fields(), ["name", "registration", "session_hours"]);

        // Stored as only the changed fields, and read back the same.
        let json = o.to_json();
        assert_eq!(json, r#"{"name":"Changed here","registration":false,"session_hours":8}"#);
        assert_eq!(LiveSettings::parse_stored(Some(&json)), o);

        // Reset: the override removed, the file's value again.
        let reset = Overrides { name: None, ..o };
        assert_eq!(LiveSettings::overlay(&config, reset).name, "From the file");
        assert_eq!(LiveSettings::parse_stored(None), Overrides::default());
        assert_eq!(LiveSettings::parse_stored(Some("not json")), Overrides::default(), "unreadable: the file's");
    }
}
