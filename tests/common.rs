//! Helpers for the end-to-end tests: run the real `arkiv` binary against
//! real repositories in temporary directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn arkiv(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .arg("--repo")
        .arg(repo)
        .args(args)
        .env("ARKIV_LOG", "error")
        .output()
        .expect("the arkiv binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Creates a repository that knows the local item types of the shared
/// EPrints corpus (Caltech's), as a repository migrating from it would.
pub fn init_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    let out = Command::new(env!("CARGO_BIN_EXE_arkiv")).arg("init").arg(&repo).output().unwrap();
    assert!(out.status.success(), "init failed: {}", stderr(&out));
    let config = repo.join("arkiv.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[types]\n",
        "[types]\noral_history = \"Oral History\"\nlab_notes = \"Lab Notes\"\njournal_issue = \"Journal Issue\"\n\"posted-content\" = \"Posted Content\"\n",
    );
    std::fs::write(&config, text).unwrap();
    repo
}

/// `../shared` beside the project, or `None` (and a message) when absent.
/// Under CI it must be there.
pub fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("../shared is missing, and CI=true: the corpus tests cannot be skipped");
    }
    eprintln!("skipped: ../shared is absent");
    None
}

pub fn seed_xml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seed/seed.xml")
}

/// The summary line of an import: (imported, rejected).
pub fn import_counts(out: &Output) -> (u64, u64) {
    let text = stdout(out);
    let line = text.lines().find(|l| l.contains(" imported, ")).unwrap_or_else(|| panic!("no summary in {text}"));
    let mut words = line.split_whitespace();
    let imported = words.next().unwrap().parse().unwrap();
    let rejected = words.nth(1).unwrap().parse().unwrap();
    (imported, rejected)
}
