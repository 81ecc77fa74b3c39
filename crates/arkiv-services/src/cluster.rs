//! Several nodes over one database: the settings of `arkiv.toml` that must
//! be the same on every node, checked when a node starts.
//!
//! Nodes share the database, the file store and each other's links, so a
//! node started with another base URL, bucket, statistics or account rules
//! would serve a different site under the same name. The first node to
//! start records its *shared* settings in `meta`; a later node whose own
//! differ is refused, with the differences named. What may differ from node
//! to node, and so is left out: where the node listens and its connection
//! limits and timeouts, the proxies in front of it, its templates
//! directory, how it reaches the database, the file store's credentials and
//! timeouts, the SMTP URL, and anything that looks like a secret (never
//! written into the database).

use crate::{Config, Repository};
use anyhow::Result;
use std::collections::BTreeMap;

/// Where the shared settings are recorded.
pub const SHARED_SETTINGS_KEY: &str = "cluster.shared_settings";

/// Settings (dotted paths into `arkiv.toml`) each node may have its own of.
pub const NODE_LOCAL: &[&str] = &[
    "server.listen",
    "server.templates",
    "server.max_connections",
    "server.header_timeout_secs",
    "server.idle_timeout_secs",
    "server.body_timeout_secs",
    "server.trusted_proxies",
    "storage.database",
    "s3.access_key_id",
    "s3.connect_timeout_secs",
    "s3.timeout_secs",
    "s3.retries",
    "mail.smtp_url",
];

/// The settings every node must share, as dotted path → value (JSON).
pub fn shared_settings(config: &Config) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let value = serde_json::to_value(config).expect("the configuration serializes");
    flatten("", &value, &mut out);
    out.retain(|k, _| {
        let lower = k.to_ascii_lowercase();
        !NODE_LOCAL.contains(&k.as_str()) && !["password", "secret", "token"].iter().any(|s| lower.contains(s))
    });
    out
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&path, v, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// Checks this node's shared settings against the database's record of
/// them; records them when there is none, or when `take` (the operator
/// changed them on purpose: `arkiv serve --take-settings`). Fails, naming
/// each difference, when they differ.
pub async fn check_shared_settings(repo: &Repository, take: bool) -> Result<()> {
    let mine = shared_settings(&repo.config);
    let recorded: Option<BTreeMap<String, String>> =
        repo.store.meta(SHARED_SETTINGS_KEY).await?.and_then(|json| serde_json::from_str(&json).ok());
    match recorded {
        Some(theirs) if !take && theirs != mine => {
            let keys: std::collections::BTreeSet<&String> = theirs.keys().chain(mine.keys()).collect();
            let shown = |v: Option<&String>| v.map_or("(absent)".to_owned(), Clone::clone);
            let differences: Vec<String> = keys
                .into_iter()
                .filter(|k| theirs.get(*k) != mine.get(*k))
                .map(|k| format!("  {k}: {} here, {} on the other nodes", shown(mine.get(k)), shown(theirs.get(k))))
                .collect();
            anyhow::bail!(
                "this node's arkiv.toml differs from the settings the other nodes over this database run with:\n{}\n\
                 Make this node's settings the same; or, if they were changed on purpose, start it with \
                 `arkiv serve --take-settings` (nodes running keep theirs until they restart, and a node \
                 started with the old ones is then refused).",
                differences.join("\n")
            )
        }
        Some(theirs) if theirs == mine => Ok(()),
        _ => {
            let json = serde_json::to_string(&mine).expect("strings serialize");
            repo.store.set_meta(SHARED_SETTINGS_KEY, &json).await?;
            Ok(())
        }
    }
}
