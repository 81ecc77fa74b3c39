//! EPrints' users over HTTP (issue 25): after `import users` with a dump
//! of the user table, each user logs in on the site's login form with the
//! password they had in EPrints, by address or username; after that login
//! the stored hash is argon2id and the password still works; and each
//! depositor finds the items they deposited in EPrints in their workarea,
//! never another account's that happens to have the same number. On
//! SQLite and PostgreSQL.

#[path = "../../arkiv-storage/tests/backends/mod.rs"]
#[allow(dead_code)]
mod backends;
mod common;

use arkiv_formats::eprints::users::{read_password_dump, read_users_xml};
use arkiv_formats::eprints::{EprintsWriter, WriteOptions};
use arkiv_model::{Record, Status};
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::users_import::import_users;
use arkiv_services::Config;
use common::{set_cookie, start_with, Site};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_eprints_users_log_in_with_their_old_passwords_and_find_their_items() {
    eprints_users_log_in_with_their_old_passwords_and_find_their_items(start_with(Config::default()).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_eprints_users_log_in_with_their_old_passwords_and_find_their_items() {
    backends::with_postgres_url(|url| async move {
        let mut config = Config::default();
        config.storage.database = url;
        eprints_users_log_in_with_their_old_passwords_and_find_their_items(start_with(config).await).await
    })
    .await
}

const USERS: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<users xmlns="http://eprints.org/ep2/data/2.0">
  <user id="http://old.example/id/user/1"><userid>1</userid><username>admin</username><usertype>admin</usertype>
    <email>admin@old.example</email></user>
  <user id="http://old.example/id/user/2"><userid>2</userid><username>jsmith</username><usertype>user</usertype>
    <email>J.Smith@old.example</email><name><family>Smith</family><given>John</given></name></user>
  <user id="http://old.example/id/user/3"><userid>3</userid><username>anna</username><usertype>user</usertype>
    <email>anna@old.example</email><name><family>Nowak</family><given>Anna</given></name></user>
</users>
"#;

/// User 2's password "secret" in Unix crypt, user 3's "old password 2" in
/// EPrints' SHA-512 form (made by Perl as EPrints makes them).
const DUMP: &str = "userid,username,password\n\
1,admin,\n\
2,jsmith,abNANd1rDfiNc\n\
3,anna,?method=2&salt=Qz&digest=14382522ce19152f57844f82fcd1725fe0041945c8e6677fc683e1212d60c75dbf923dcc2c038d70fed87fbf7753be88c1d58e78f553cb66b1489f3d5b30b50e\n";

/// Logs in through the form; the session cookie, or the status.
async fn log_in(site: &Site, who: &str, password: &str) -> Result<String, StatusCode> {
    let res = site.login(who, password, "").await;
    match set_cookie(&res, "arkiv_session") {
        Some((id, _)) if res.status() == StatusCode::SEE_OTHER => Ok(format!("arkiv_session={id}")),
        _ => Err(res.status()),
    }
}

async fn eprints_users_log_in_with_their_old_passwords_and_find_their_items(site: Site) {
    let repo = site.repo.clone();
    // The harness's first account, depositor@example.org, is Arkiv's user 1.
    let arkiv_one = repo.accounts.user(1).await.unwrap().unwrap();
    assert_eq!(arkiv_one.email, "depositor@example.org");

    // The records come first, naming EPrints' users 1, 2 and 3.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.xml");
    let mut w = EprintsWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for (id, userid, title) in [(300, 2, "Smith's paper"), (301, 3, "Nowak's paper"), (302, 1, "The old admin's paper")]
    {
        let mut r = Record::new("policy_paper", title);
        r.id = Some(id);
        r.status = Status::Archive;
        r.userid = Some(userid);
        w.write_record(&r, &WriteOptions::default()).unwrap();
    }
    w.finish().unwrap();
    let imported =
        import_eprints_xml(&repo, &[path], &ImportOptions::for_repository(&repo), &mut |_| {}).await.unwrap();
    assert_eq!(imported.imported, 3);
    let dump = read_password_dump(DUMP.as_bytes()).unwrap();
    let report = import_users(&repo, read_users_xml(USERS.as_bytes()), Some(dump)).await.unwrap();
    assert_eq!((report.imported, report.with_password, report.depositors_given), (3, 2, 3), "{report:?}");

    for (address, username, password, mine, theirs) in [
        ("j.smith@old.example", "jsmith", "secret", "Smith&#39;s paper", "Nowak"),
        ("anna@old.example", "anna", "old password 2", "Nowak&#39;s paper", "Smith"),
    ] {
        assert_eq!(log_in(&site, username, "not the password").await, Err(StatusCode::UNAUTHORIZED));
        // The first login, by username, with the EPrints password.
        let session = log_in(&site, username, password).await.unwrap_or_else(|s| panic!("{username}: {s}"));
        let user = repo.accounts.user_by_username(username).await.unwrap().unwrap();
        assert!(user.password_hash.starts_with("$argon2id$"), "{username}: the hash is argon2id after the login");
        // The same password, now checked against argon2id, by address.
        log_in(&site, address, password).await.unwrap_or_else(|s| panic!("{address}: {s}"));
        assert_eq!(log_in(&site, address, "still not it").await, Err(StatusCode::UNAUTHORIZED));

        let workarea = site.get("/workarea", &session).await;
        assert_eq!(workarea.status(), StatusCode::OK);
        let html = workarea.text().await.unwrap();
        assert!(html.contains(mine), "{username} sees their item: {html}");
        assert!(!html.contains(theirs) && !html.contains("old admin"), "{username} sees no one else's");
    }
    // Arkiv's user 1 did not inherit EPrints' user 1's paper.
    let session = site.session("depositor@example.org").await;
    let html = site.get("/workarea", &session).await.text().await.unwrap();
    assert!(!html.contains("The old admin"), "EPrints' user 1 is not Arkiv's user 1");
    let old_admin = repo.accounts.user_by_username("admin").await.unwrap().unwrap();
    assert_eq!(repo.store.get_record(302).await.unwrap().unwrap().userid, Some(old_admin.id));
}
