//! `arkiv import users USERS.xml --passwords user.sql` from the command
//! line: the summary names every user not imported and every hash not
//! taken by the line it is on, counts what landed, names the accounts
//! without a password, and exits with 2 when anything was refused; a file
//! that is not a users export is an error that writes nothing.

mod common;
use common::*;

const USERS: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<users xmlns="http://eprints.org/ep2/data/2.0">
  <user><userid>1</userid><username>admin</username><usertype>admin</usertype><email>admin@old.example</email></user>
  <user><userid>2</userid><username>jsmith</username><usertype>user</usertype><email>js@old.example</email></user>
  <user><userid>3</userid><username>JSMITH</username><usertype>user</usertype><email>js3@old.example</email></user>
  <user><userid>4</userid><username>lab</username><usertype>user</usertype><email>js@old.example</email></user>
</users>
"#;

const DUMP: &str = "CREATE TABLE `user` (\n  `userid` int NOT NULL,\n  `username` varchar(255),\n  \
`password` varchar(255),\n  PRIMARY KEY (`userid`)\n);\n\
INSERT INTO `user` VALUES (1,'admin','*'),(2,'jsmith','abNANd1rDfiNc'),(4,'lab',NULL);\n";

#[test]
fn the_summary_names_each_refusal_by_line_and_exits_with_2() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("repo"));
    let (users, dump) = (tmp.path().join("users.xml"), tmp.path().join("user.sql"));
    std::fs::write(&users, USERS).unwrap();
    std::fs::write(&dump, DUMP).unwrap();
    let args = ["import", "users", users.to_str().unwrap(), "--passwords", dump.to_str().unwrap()];
    let out = arkiv(&repo, &args);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{said}{}", stderr(&out));
    assert!(said.contains("users.xml, line 5: user 3 (JSMITH): the username is user 2's already"), "{said}");
    assert!(said.contains("error: ") && said.contains("users.xml, line 3: user 1 (admin)"), "{said}");
    assert!(said.contains("line 6: user 4 (lab) shares the address js@old.example with jsmith"), "{said}");
    assert!(said.contains("without a password (their first login attempt mails them a reset link"), "{said}");
    assert!(said.contains("3 users imported (1 with their EPrints password), 0 imported before, 1 rejected"), "{said}");
    // Run again: nothing new, the same user refused.
    let again = stdout(&arkiv(&repo, &args));
    assert!(
        again.contains("0 users imported (0 with their EPrints password), 3 imported before, 1 rejected"),
        "{again}"
    );
    // Not a users export: said, and nothing is written.
    let out = arkiv(&repo, &["import", "users", dump.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("holds no <user> element"), "{}", stderr(&out));
}
