//! `arkiv user token`: an operator makes a personal API token for an
//! account from the shell (for a CRIS or a router that deposits), under
//! the same rules as the profile page, and the API takes it.

mod common;

use common::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

#[test]
fn an_operator_makes_a_token_the_api_takes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repo(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args([
            "--repo",
            repo.to_str().unwrap(),
            "user",
            "add",
            "cris@example.org",
            "--name",
            "CRIS",
            "--password-stdin",
        ])
        .env("ARKIV_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a correct horse battery\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success(), "user add");

    let out = arkiv(&repo, &["user", "token", "cris@example.org", "--name", "sync", "--scopes", "read,edit"]);
    assert_eq!(out.status.code(), Some(2), "a depositor may not hold edit");
    assert!(stderr(&out).contains("does not allow the scope edit"), "{}", stderr(&out));
    let out = arkiv(&repo, &["user", "token", "nobody@example.org", "--name", "sync"]);
    assert!(!out.status.success());
    let out = arkiv(&repo, &["user", "token", "cris@example.org", "--name", "sync", "--scopes", "read,deposit"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert!(token.starts_with("arkiv_") && token.len() == 70, "{token}");

    let served = serve(&repo);
    let mut s = std::net::TcpStream::connect(served.addr).unwrap();
    write!(s, "GET /api/me HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"scopes\":[\"read\",\"deposit\"]") && answer.contains("\"via\":\"token\""), "{answer}");
}
