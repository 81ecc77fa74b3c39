//! EPrints' users come along with their passwords (issue 25): the XML
//! export of the user dataset and a mysqldump of the `user` table go in;
//! each user logs in with their EPrints password, by address or username,
//! and the hash becomes argon2id at that login; depositors keep their
//! items whichever import runs first; bad users, hashes and rows are each
//! reported with their line while the rest land. Each test runs on SQLite
//! and on PostgreSQL.

#[path = "../../arkiv-storage/tests/backends/mod.rs"]
#[allow(dead_code)]
mod backends;

use arkiv_formats::eprints::users::{read_password_dump, read_users_xml};
use arkiv_formats::eprints::{EprintsWriter, WriteOptions};
use arkiv_model::{Record, Role, Status, User};
use arkiv_services::accounts::{create_user, login, AccountError, NewAccount};
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::users_import::{import_users, UsersReport};
use arkiv_services::{Config, Repository};
use std::sync::Arc;
use std::time::{Duration, Instant};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(super::repository(&dir, None).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::backends::with_postgres_url(|url| async move {
                        let dir = tempfile::tempdir().unwrap();
                        super::$name(super::repository(&dir, Some(url)).await).await
                    })
                    .await
                }
            )*
        }
    };
}

both!(
    users_log_in_with_their_eprints_passwords_by_address_or_username,
    depositors_keep_their_items_whichever_import_runs_first,
    bad_users_hashes_and_rows_are_each_reported_and_the_rest_land,
);

/// A repository with an admin of its own made first, so that Arkiv's user
/// 1 exists and is not EPrints' user 1.
async fn repository(dir: &tempfile::TempDir, database: Option<String>) -> Arc<Repository> {
    let mut config = Config::default();
    if let Some(url) = database {
        config.storage.database = url;
    }
    let repo = Repository::init(dir.path(), config).await.unwrap();
    let new = NewAccount {
        email: "arkiv-admin@example.org".into(),
        name: "Arkiv's own admin".into(),
        password: "a correct horse battery".into(),
        role: Role::Admin,
        scope: Default::default(),
        orcid: None,
    };
    assert_eq!(create_user(repo.accounts.as_ref(), new).await.unwrap().id, 1);
    Arc::new(repo)
}

/// Shaped as EPrints 3.4's XML export of the user dataset
/// (perl_lib/EPrints/Plugin/Export/XML.pm over DataObj/User.pm's fields),
/// with the faults a real one can have. Passwords are not in it, as in
/// EPrints' own.
const USERS: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<users xmlns="http://eprints.org/ep2/data/2.0">
  <user id="http://old.example/id/user/1">
    <userid>1</userid>
    <username>admin</username>
    <usertype>admin</usertype>
    <email>admin@old.example</email>
    <name><family>Admin</family><given>The</given></name>
  </user>
  <user id="http://old.example/id/user/2">
    <userid>2</userid>
    <username>jsmith</username>
    <usertype>user</usertype>
    <email>J.Smith@example.org</email>
    <name><family>Smith</family><given>John</given></name>
    <joined>2011-03-04 10:11:12</joined>
  </user>
  <user id="http://old.example/id/user/3">
    <userid>3</userid>
    <username>Anna</username>
    <usertype>editor</usertype>
    <email>anna@example.org</email>
    <name><family>Nowak</family><given>Anna</given></name>
    <editperms><item>0|1||eprint|-|type:type:ANY:EQ:article|-|</item></editperms>
  </user>
  <user id="http://old.example/id/user/4">
    <userid>4</userid>
    <username>JSmith</username>
    <usertype>user</usertype>
    <email>other.smith@example.org</email>
  </user>
  <user id="http://old.example/id/user/5">
    <userid>5</userid>
    <username>jsmith-lab</username>
    <usertype>user</usertype>
    <email>j.smith@example.org</email>
    <name><family>Smith</family><given>John (lab account)</given></name>
  </user>
  <user id="http://old.example/id/user/6">
    <userid>6</userid>
    <username>badhash</username>
    <usertype>user</usertype>
    <email>bad@example.org</email>
  </user>
  <user id="http://old.example/id/user/7">
    <userid>7</userid>
    <username>guest</username>
    <usertype>minuser</usertype>
    <email>guest@example.org</email>
  </user>
  <user id="http://old.example/id/user/8">
    <userid>8</userid>
    <username>broken</username></usertype>
    <email>broken@example.org</email>
  </user>
  <user id="http://old.example/id/user/9">
    <userid>9</userid>
    <username>divisions-editor</username>
    <usertype>editor</usertype>
    <email>div@example.org</email>
    <editperms><item>0|1||eprint|-|divisions:divisions:ANY:EQ:fac_eng|-|</item></editperms>
  </user>
</users>
"#;

/// What `mysqldump eprints user` writes (columns cut to a few of 3.4's).
/// User 2's password "secret" in Unix crypt, user 3's "old password 2" in
/// EPrints' SHA-512 form, both made by Perl as EPrints makes them (see
/// `accounts::legacy`'s tests); user 6's is no hash at all; user 5 has none.
const DUMP: &str = "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n\
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
DROP TABLE IF EXISTS `user`;\n\
CREATE TABLE `user` (\n  `userid` int NOT NULL DEFAULT '0',\n  `rev_number` int DEFAULT NULL,\n\
  `username` varchar(255) DEFAULT NULL,\n  `password` varchar(255) DEFAULT NULL,\n\
  `usertype` varchar(255) DEFAULT NULL,\n  PRIMARY KEY (`userid`),\n  KEY `user_username` (`username`)\n\
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;\n\
LOCK TABLES `user` WRITE;\n\
INSERT INTO `user` VALUES (1,4,'admin',NULL,'admin'),(2,7,'jsmith','abNANd1rDfiNc','user'),\
(3,2,'Anna','?method=2&salt=Qz&digest=14382522ce19152f57844f82fcd1725fe0041945c8e6677fc683e1212d60c75dbf923dcc2c038d70fed87fbf7753be88c1d58e78f553cb66b1489f3d5b30b50e','editor'),\
(5,1,'jsmith-lab',NULL,'user'),(6,1,'badhash','my password','user'),(9,1,'divisions-editor',NULL,'editor'),\
(10,1,'ghost');\n\
UNLOCK TABLES;\n";

async fn import(repo: &Repository) -> UsersReport {
    let dump = read_password_dump(DUMP.as_bytes()).unwrap();
    import_users(repo, read_users_xml(USERS.as_bytes()), Some(dump)).await.unwrap()
}

async fn by_username(repo: &Repository, username: &str) -> User {
    repo.accounts.user_by_username(username).await.unwrap().unwrap_or_else(|| panic!("{username} was imported"))
}

async fn log_in(repo: &Arc<Repository>, who: &str, password: &str) -> Result<User, AccountError> {
    login(repo, who, password, "192.0.2.7", None).await.map(|(user, _)| user)
}

async fn users_log_in_with_their_eprints_passwords_by_address_or_username(repo: Arc<Repository>) {
    import(&repo).await;
    // The crypt user by address (in any case), the SHA-512 one by username.
    for (who, password, username) in [("j.smith@EXAMPLE.org", "secret", "jsmith"), ("anna", "old password 2", "Anna")] {
        let before = by_username(&repo, username).await;
        assert!(before.password_hash.starts_with("eprints:"), "kept as EPrints made it");
        assert!(
            matches!(log_in(&repo, who, "not it").await, Err(AccountError::BadCredentials)),
            "a wrong password fails"
        );
        let user = log_in(&repo, who, password).await.unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(user.id, before.id);
        let after = by_username(&repo, username).await;
        assert!(after.password_hash.starts_with("$argon2id$"), "replaced at the login: {}", after.password_hash);
        // The same password goes on working, by address and by username.
        assert_eq!(log_in(&repo, username, password).await.unwrap().id, before.id);
        assert_eq!(log_in(&repo, &before.email, password).await.unwrap().id, before.id);
        assert!(matches!(log_in(&repo, username, "not it either").await, Err(AccountError::BadCredentials)));
    }
    // Anna's scope is her editperms'; the import vouches for everyone.
    let anna = by_username(&repo, "anna").await;
    assert_eq!((anna.role, anna.scope.types.clone(), anna.verified), (Role::Editor, vec!["article".to_string()], true));

    // The lab account shares jsmith's address: the address finds jsmith, the
    // lab account is found by username, and mail still reaches the address.
    let lab = by_username(&repo, "jsmith-lab").await;
    assert_eq!(lab.email, "j.smith@example.org");
    let by_address = repo.accounts.user_by_email("j.smith@example.org").await.unwrap().unwrap();
    assert_eq!(by_address.username.as_deref(), Some("jsmith"));

    // No password came with it: any login fails alike, and a reset link
    // goes to its address.
    assert!(matches!(log_in(&repo, "jsmith-lab", "anything at all").await, Err(AccountError::BadCredentials)));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let outbox = repo.accounts.outbox(10).await.unwrap();
        if let Some(m) = outbox.iter().find(|m| m.body.contains("jsmith-lab")) {
            assert_eq!(m.to, "j.smith@example.org");
            assert!(m.body.contains("/password/reset?token="), "{}", m.body);
            assert!(m.body.contains("without a password"), "{}", m.body);
            break;
        }
        assert!(Instant::now() < deadline, "no reset link was sent for the account without a password");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// EPrints XML of records whose depositors are EPrints' users 1, 2 and 3.
fn records_xml(dir: &std::path::Path, name: &str, records: &[(i64, i64)]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut w = EprintsWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for &(id, userid) in records {
        let mut r = Record::new("article", &format!("Paper {id}"));
        r.id = Some(id);
        r.status = Status::Archive;
        r.userid = Some(userid);
        w.write_record(&r, &WriteOptions::default()).unwrap();
    }
    w.finish().unwrap();
    path
}

async fn depositors_keep_their_items_whichever_import_runs_first(repo: Arc<Repository>) {
    let dir = tempfile::tempdir().unwrap();
    let options = ImportOptions::for_repository(&repo);
    // Records first: EPrints' user 1 is not Arkiv's user 1 (its own admin).
    let before = records_xml(dir.path(), "before.xml", &[(100, 2), (101, 1)]);
    let report = import_eprints_xml(&repo, &[before], &options, &mut |_| {}).await.unwrap();
    assert_eq!((report.imported, report.depositors_waiting), (2, 2));
    for id in [100, 101] {
        assert_eq!(repo.store.get_record(id).await.unwrap().unwrap().userid, None, "no one's until the users come");
    }
    let users = import(&repo).await;
    assert_eq!(users.depositors_given, 2);
    let jsmith = by_username(&repo, "jsmith").await;
    let admin = by_username(&repo, "admin").await;
    assert_ne!(admin.id, 1);
    assert_eq!(repo.store.get_record(100).await.unwrap().unwrap().userid, Some(jsmith.id));
    assert_eq!(repo.store.get_record(101).await.unwrap().unwrap().userid, Some(admin.id));
    // Records after the users: mapped as they land.
    let after = records_xml(dir.path(), "after.xml", &[(102, 3), (103, 2), (104, 77)]);
    let report = import_eprints_xml(&repo, &[after], &options, &mut |_| {}).await.unwrap();
    assert_eq!((report.imported, report.depositors_waiting), (3, 1), "user 77 was never imported");
    let anna = by_username(&repo, "anna").await;
    assert_eq!(repo.store.get_record(102).await.unwrap().unwrap().userid, Some(anna.id));
    assert_eq!(repo.store.get_record(103).await.unwrap().unwrap().userid, Some(jsmith.id));
    assert_eq!(repo.store.get_record(104).await.unwrap().unwrap().userid, None);
    // A second run of the users import changes nothing.
    let again = import(&repo).await;
    assert_eq!((again.imported, again.already, again.depositors_given), (0, 6, 0));
}

async fn bad_users_hashes_and_rows_are_each_reported_and_the_rest_land(repo: Arc<Repository>) {
    // The division tree, as EPrints' subjects file gives it.
    let tree = "divisions:University Structure:ROOT:0\nfac_eng:Faculty of Engineering:divisions:0\n\
                sch_ecs:Electronics and Computer Science:fac_eng:1\nsch_civ:Civil Engineering:fac_eng:1\n\
                fac_law:Faculty of Law:divisions:1\n";
    let lines = arkiv_services::subjects_import::read_subjects(tree.as_bytes()).unwrap();
    arkiv_services::subjects_import::import_subjects(&repo, lines, "subjects").await.unwrap();
    let report = import(&repo).await;
    assert_eq!(report.imported, 6, "admin, jsmith, Anna, jsmith-lab, badhash, divisions-editor: {report:#?}");
    assert_eq!(report.with_password, 2);
    let said = |list: &[(usize, String)], line: usize| {
        list.iter()
            .find(|(l, _)| *l == line)
            .map(|(_, why)| why.clone())
            .unwrap_or_else(|| panic!("line {line}: {list:?}"))
    };
    let rejected: Vec<usize> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(rejected, [26, 45, 51], "{:?}", report.rejected);
    assert!(said(&report.rejected, 26).contains("the username is user 2's already"), "{:?}", report.rejected);
    assert!(said(&report.rejected, 45).contains("user type \"minuser\""), "{:?}", report.rejected);
    assert!(said(&report.rejected, 51).contains("broken at line 53"), "{:?}", report.rejected);
    assert_eq!(report.bad_hashes.len(), 1);
    assert!(said(&report.bad_hashes, 39).contains("user 6 (badhash)"), "{:?}", report.bad_hashes);
    assert!(!report.bad_hashes[0].1.contains("my password"), "a bad hash is never quoted");
    assert_eq!(report.dump_rejected.len(), 1);
    assert!(report.dump_rejected[0].1.contains("a row of 3 values"), "{:?}", report.dump_rejected);
    assert!(said(&report.warnings, 32).contains("shares the address j.smith@example.org with jsmith"));
    assert_eq!(report.without_password, ["admin", "jsmith-lab", "badhash", "divisions-editor"]);
    // EPrints' first editorial axis: a faculty's editor reviews its
    // schools' items too, as EPrints' search matched them.
    let divisions = by_username(&repo, "divisions-editor").await;
    assert_eq!(divisions.role, Role::Editor);
    let mut scoped = divisions.scope.divisions.clone();
    scoped.sort();
    assert_eq!(scoped, ["fac_eng", "sch_civ", "sch_ecs"], "{:?}", divisions.scope);
    assert!(divisions.scope.types.is_empty() && divisions.scope.subjects.is_empty());
    assert!(repo.accounts.user_by_username("guest").await.unwrap().is_none());
    assert!(repo.accounts.user_by_username("broken").await.unwrap().is_none());
    // A user with a malformed hash has no password that works.
    assert!(matches!(log_in(&repo, "badhash", "my password").await, Err(AccountError::BadCredentials)));
}
