//! The skip rule of the checkers: a missing program is a skip with a message
//! on a developer's machine and a failure under `CI=true`, whatever made it
//! missing (here PATH unset, or a PATH without it). Each case runs this test
//! binary again as a child process with the environment the case needs, so
//! that the rule is seen as CI would see it (the exit status and the
//! message), and no test changes its own process's environment.

use std::process::{Command, Output};

/// The child's entry point, run only by [`child`]: looks up `xmllint` and
/// asserts it was not found (the caller took it off PATH).
#[test]
#[ignore = "run by the other tests of this file in a child process"]
fn lookup_in_child() {
    if std::env::var_os("ARKIV_TESTKIT_CHILD").is_none() {
        return;
    }
    assert_eq!(arkiv_testkit::checkers::program("xmllint"), None);
}

/// Runs [`lookup_in_child`] with PATH set to `path` (removed if `None`) and
/// CI set to `ci` (removed if `None`).
fn child(path: Option<&std::path::Path>, ci: Option<&str>) -> (Output, String) {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args(["lookup_in_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    cmd.env("ARKIV_TESTKIT_CHILD", "1");
    match path {
        Some(p) => cmd.env("PATH", p),
        None => cmd.env_remove("PATH"),
    };
    match ci {
        Some(v) => cmd.env("CI", v),
        None => cmd.env_remove("CI"),
    };
    let out = cmd.output().expect("the test binary runs again");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

#[test]
fn path_unset_under_ci_fails_with_a_message() {
    let (out, text) = child(None, Some("true"));
    assert!(!out.status.success(), "PATH unset under CI=true passed:\n{text}");
    assert!(text.contains("xmllint (PATH is not set) is missing and CI=true: this test cannot be skipped"), "{text}");
}

#[test]
fn path_unset_without_ci_skips_with_a_message() {
    for ci in [None, Some("false")] {
        let (out, text) = child(None, ci);
        assert!(out.status.success(), "CI={ci:?}:\n{text}");
        assert!(text.contains("SKIP: xmllint (PATH is not set) is missing; test skipped"), "CI={ci:?}:\n{text}");
    }
}

#[test]
fn program_not_on_path_under_ci_fails_with_a_message() {
    let empty = std::env::temp_dir().join(format!("arkiv-skips-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (ci_out, ci_text) = child(Some(&empty), Some("true"));
    let (dev_out, dev_text) = child(Some(&empty), None);
    let _ = std::fs::remove_dir(&empty);
    assert!(!ci_out.status.success(), "a PATH without xmllint under CI=true passed:\n{ci_text}");
    assert!(ci_text.contains("xmllint (run scripts/tools.sh) is missing and CI=true"), "{ci_text}");
    assert!(dev_out.status.success(), "{dev_text}");
    assert!(dev_text.contains("SKIP: xmllint (run scripts/tools.sh) is missing; test skipped"), "{dev_text}");
}
