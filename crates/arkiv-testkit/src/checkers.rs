//! The third-party programs tests check Arkiv's output with. Each is found
//! the way CI sets it up (`scripts/tools.sh`); when one is missing the test
//! says so and skips, and under `CI=true` it fails instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The Python interpreter that has the PyPI clients: `$ARKIV_PYTHON`, else
/// `target/tools-venv/bin/python` if `scripts/tools.sh` made it; `None`
/// (after [`crate::skip`]) otherwise.
pub fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ARKIV_PYTHON").map(PathBuf::from).filter(|p| p.exists()) {
        return Some(p);
    }
    let venv = crate::workspace().join("target/tools-venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    crate::skip("the Python clients (run scripts/tools.sh, or set ARKIV_PYTHON)");
    None
}

/// The Python interpreter that has the SWORD v2 client (`sword2` 0.3, in
/// a virtualenv of its own: it pins an old lxml): `$ARKIV_SWORD_PYTHON`,
/// else `target/sword-venv/bin/python` as `scripts/tools.sh` makes it;
/// `None` (after [`crate::skip`]) otherwise.
pub fn sword_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ARKIV_SWORD_PYTHON").map(PathBuf::from).filter(|p| p.exists()) {
        return Some(p);
    }
    let venv = crate::workspace().join("target/sword-venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    crate::skip("the SWORD v2 client (run scripts/tools.sh, or set ARKIV_SWORD_PYTHON)");
    None
}

/// A program on PATH (`xmllint`, `bibtex`, `biber`), or `None` (after
/// [`crate::skip`]). An unset PATH is one more way for the program to be
/// missing: skipped with a message, failed under CI, never silently.
pub fn program(name: &str) -> Option<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        crate::skip(&format!("{name} (PATH is not set)"));
        return None;
    };
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    crate::skip(&format!("{name} (run scripts/tools.sh)"));
    None
}

/// Runs a Python script (its source text) with arguments; stdin gets
/// `input`. Returns the process's output whatever its exit status.
pub fn run_python(python: &Path, script: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    child.wait_with_output().expect("python runs")
}

/// Validates an XML document against a schema of `../shared/xsd` (a path
/// relative to it, e.g. `mods/mods-3-8.xsd`) with `xmllint --nonet`, every
/// import resolved through the schemas' catalog.xml. `Ok(())`, or xmllint's
/// complaints. Panics if xmllint or the schemas are missing: call
/// [`xmllint_ready`] first.
pub fn validate_xml(xml: &[u8], schema: &str) -> Result<(), String> {
    let xsd = crate::workspace().join("../shared/xsd");
    let file = tempfile_path("xml");
    std::fs::write(&file, xml).expect("write temporary XML");
    let out = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(xsd.join(schema))
        .arg(&file)
        .env("XML_CATALOG_FILES", xsd.join("catalog.xml"))
        .output()
        .expect("xmllint runs");
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Validates many XML documents against one schema in a single xmllint run
/// (one process for a whole corpus rather than one per record). `Ok(())`,
/// or xmllint's complaints, which name the failing documents by their
/// index (`doc-17.xml`).
pub fn validate_xml_many(docs: &[Vec<u8>], schema: &str) -> Result<(), String> {
    let xsd = crate::workspace().join("../shared/xsd");
    let dir = tempfile_path("d");
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let files: Vec<PathBuf> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let file = dir.join(format!("doc-{i}.xml"));
            std::fs::write(&file, doc).expect("write temporary XML");
            file
        })
        .collect();
    let out = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(xsd.join(schema))
        .args(&files)
        .env("XML_CATALOG_FILES", xsd.join("catalog.xml"))
        .output()
        .expect("xmllint runs");
    let _ = std::fs::remove_dir_all(&dir);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.ends_with(" validates"))
            .take(40)
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

/// Whether xmllint and the schemas are here (else skipped, or failed under
/// CI).
pub fn xmllint_ready() -> bool {
    crate::xsd_dir().is_some() && program("xmllint").is_some()
}

fn tempfile_path(ext: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!("arkiv-check-{}-{}.{ext}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)))
}
