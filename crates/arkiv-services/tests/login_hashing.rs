//! A login's password check never holds the threads that serve pages.
//!
//! argon2id costs tens of milliseconds of a core on purpose; checked on
//! the async runtime's threads, a burst of logins once stalled every page
//! of the site. Here the runtime has a single thread, the stored hash is
//! made expensive (256 MiB, four passes, about a second), and a "page"
//! (a task that only needs the runtime for a moment) must finish while the
//! login is still checking. Had the check run on the runtime's thread, the
//! page could not run until the login was done.

use arkiv_model::{EditorScope, Role};
use arkiv_services::accounts::{create_user, login, AccountError, NewAccount};
use arkiv_services::{Config, Repository};
use std::time::Duration;

const PASSWORD: &str = "a correct horse battery";

/// An argon2id hash far dearer than the site's own, as an old hash made
/// with raised parameters would be: verifying it takes about a second.
fn expensive_hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(256 * 1024, 4, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon.hash_password(password.as_bytes()).unwrap().to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn a_page_is_served_while_a_login_checks_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    let new = NewAccount {
        email: "editor@example.org".into(),
        name: "An editor".into(),
        password: PASSWORD.into(),
        role: Role::Editor,
        scope: EditorScope::default(),
        orcid: None,
    };
    let mut user = create_user(repo.accounts.as_ref(), new).await.unwrap();
    user.password_hash = tokio::task::spawn_blocking(|| expensive_hash(PASSWORD)).await.unwrap();
    repo.accounts.update_user(&user).await.unwrap();
    let repo = std::sync::Arc::new(repo);

    // One login first, so that the database's connections are open and the
    // next login reaches its password check within milliseconds.
    let first = login(&repo, "editor@example.org", PASSWORD, "192.0.2.1", None).await;
    assert!(first.is_ok(), "the right password logs in");

    let checking = repo.clone();
    let wrong =
        tokio::spawn(
            async move { login(&checking, "editor@example.org", "not the password", "192.0.2.1", None).await },
        );
    // Let the login reach its password check.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let page = tokio::spawn(async { "served" });
    assert_eq!(page.await.unwrap(), "served");
    assert!(!wrong.is_finished(), "the page waited for the login's password check to end");
    assert!(matches!(wrong.await.unwrap(), Err(AccountError::BadCredentials)), "and the wrong password was refused");
}
