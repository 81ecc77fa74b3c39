//! Two nodes over one database (issue 32): two `Repository` values over
//! one repository, as two server processes would hold it. What an admin
//! changes on one (the live settings, a subject) reaches the other at its
//! next [`Repository::follow_shared`] (every two seconds beside a server),
//! without a restart; with nothing changed, a follow reloads nothing.

use arkiv_model::{Scheme, Subject};
use arkiv_services::settings::Overrides;
use arkiv_services::{Config, Repository};

#[tokio::test]
async fn what_one_node_changes_the_other_takes_in_at_its_next_follow() {
    let dir = tempfile::tempdir().unwrap();
    let a = Repository::init(dir.path(), Config::default()).await.unwrap();
    let b = Repository::open(dir.path()).await.unwrap();
    assert!(!b.follow_shared().await.unwrap(), "nothing changed since b opened");

    a.put_settings(&Overrides { name: Some("Policy Papers Online".into()), ..Default::default() }).await.unwrap();
    assert_eq!(a.settings().name, "Policy Papers Online");
    assert_ne!(b.settings().name, "Policy Papers Online", "b holds its copy until it looks");
    assert!(b.follow_shared().await.unwrap());
    assert_eq!(b.settings().name, "Policy Papers Online");
    assert!(!b.follow_shared().await.unwrap(), "once taken in, nothing more to reload");

    let geo = Subject { id: "geo".into(), name: "Geography".into(), parent: None };
    a.put_subjects(Scheme::Subjects, &[geo]).await.unwrap();
    assert!(b.subjects().get("geo").is_none());
    assert!(b.follow_shared().await.unwrap());
    assert_eq!(b.subjects().get("geo").map(|s| s.name.as_str()), Some("Geography"));
    // A rename is a change too, even to a tree of the same shape.
    let renamed = Subject { id: "geo".into(), name: "Regions".into(), parent: None };
    a.put_subjects(Scheme::Subjects, &[renamed]).await.unwrap();
    assert!(b.follow_shared().await.unwrap());
    assert_eq!(b.subjects().name("geo"), "Regions");
}

/// A node whose shared settings differ from those the first node recorded
/// is refused with each difference named; what is each node's own (where
/// it listens, its proxies, its secrets) may differ; `take` records the
/// new ones, after which the old ones are refused.
#[tokio::test]
async fn a_node_with_other_shared_settings_is_refused() {
    use arkiv_services::cluster::{check_shared_settings, shared_settings};
    let dir = tempfile::tempdir().unwrap();
    let first = Repository::init(dir.path(), Config::default()).await.unwrap();
    check_shared_settings(&first, false).await.unwrap();

    let mut own = first.config.clone();
    own.server.listen = "10.0.0.7:8080".into();
    own.server.trusted_proxies = vec!["10.0.0.1".parse().unwrap()];
    own.s3.secret_access_key = "node-secret".into();
    // Another node: the same repository, read with its own arkiv.toml.
    let node = |config: Config| async {
        let mut repo = Repository::open(dir.path()).await.unwrap();
        repo.config = config;
        repo
    };
    check_shared_settings(&node(own.clone()).await, false).await.expect("node-local settings may differ");
    assert!(!shared_settings(&own).values().any(|v| v.contains("node-secret")), "secrets are not recorded");

    let mut other = first.config.clone();
    other.repository.base_url = "https://elsewhere.example.org".into();
    other.statistics.enabled = !first.config.statistics.enabled;
    let refused = check_shared_settings(&node(other.clone()).await, false).await.unwrap_err().to_string();
    assert!(
        refused.contains("repository.base_url: \"https://elsewhere.example.org\" here, \"http://127.0.0.1:8080\""),
        "{refused}"
    );
    assert!(refused.contains("statistics.enabled"), "{refused}");
    assert!(refused.contains("--take-settings"), "{refused}");
    assert!(!refused.contains("server.listen"), "{refused}");

    check_shared_settings(&node(other.clone()).await, true).await.unwrap();
    check_shared_settings(&node(other).await, false).await.unwrap();
    let refused = check_shared_settings(&first, false).await.unwrap_err().to_string();
    assert!(refused.contains("\"http://127.0.0.1:8080\" here"), "the old settings are refused now: {refused}");
}
