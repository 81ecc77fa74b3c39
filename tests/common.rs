//! Helpers for the end-to-end tests: run the real `arkiv` binary against
//! real repositories in temporary directories.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

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

/// A database of its own on the server `ARKIV_TEST_POSTGRES_URL` names,
/// dropped when the test ends (`arkiv_testkit::postgres`, from tests that
/// run the binary and so have no runtime of their own).
pub struct TestDatabase {
    db: Option<arkiv_testkit::postgres::TestDatabase>,
    pub url: String,
}

impl TestDatabase {
    pub fn create() -> Option<TestDatabase> {
        let admin_url = arkiv_testkit::postgres::server_url()?;
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let db = runtime.block_on(arkiv_testkit::postgres::TestDatabase::create(&admin_url));
        Some(TestDatabase { url: db.url.clone(), db: Some(db) })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (Some(db), Ok(runtime)) = (self.db.take(), tokio::runtime::Runtime::new()) else { return };
        runtime.block_on(db.drop_database());
    }
}

/// `arkiv serve` on a free port in a child process, killed when dropped.
pub struct Served {
    child: std::process::Child,
    pub addr: std::net::SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `arkiv serve` over `repo` and waits until it says where.
pub fn serve(repo: &Path) -> Served {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(["--repo", repo.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"])
        .env("ARKIV_LOG", "error")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("arkiv serve runs");
    let mut stderr = child.stderr.take().unwrap();
    let (addr, _) = served_address(&mut stderr);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(1..) = stderr.read(&mut chunk) {}
    });
    Served { child, addr }
}

/// Where `arkiv serve` listens, read from what it says on starting
/// ("Arkiv is serving "..." (N live records) at http://127.0.0.1:PORT/
/// ..."), with what it said up to there.
pub fn served_address(stderr: &mut impl std::io::Read) -> (std::net::SocketAddr, String) {
    let mut seen = String::new();
    let mut byte = [0u8; 1];
    loop {
        if stderr.read(&mut byte).unwrap_or(0) == 0 {
            panic!("arkiv serve stopped before serving: {seen}");
        }
        seen.push(byte[0] as char);
        if let Some(at) = seen.find("at http://") {
            if let Some(end) = seen[at + 10..].find('/') {
                let addr = seen[at + 10..at + 10 + end].parse().unwrap();
                return (addr, seen);
            }
        }
    }
}

/// The status line and body of one GET (headers, which carry the date,
/// left out).
pub fn page(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or("").to_string(), body.to_string())
}

/// An answer: status, headers (lower-cased names), body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The record id a REST API `201 Created` names in its `Location`.
    pub fn created_id(&self) -> Option<i64> {
        if self.status != 201 {
            return None;
        }
        self.header("location")?.rsplit('/').next()?.parse().ok()
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .find_map(|(_, v)| v.strip_prefix(&format!("{name}="))?.split(';').next().map(str::to_owned))
    }
}

/// One HTTP/1.1 request on a connection of its own; `Err` when the
/// connection fails or is cut (what a client of a killed node sees).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Answer> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("cut short"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { unchunk(body) } else { body.to_owned() };
    Ok(Answer { status, headers, body })
}

fn unchunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Creates a draft policy paper titled `title` through the REST API with
/// `authorization` (`Bearer ...`): what the writer of a load test sends.
pub fn post_draft(addr: SocketAddr, authorization: &str, title: &str) -> std::io::Result<Answer> {
    let body =
        format!("{{\"item_type\": \"policy_paper\", \"fields\": {{\"title\": \"{title}\", \"date\": \"2026\"}}}}");
    let headers = [("Authorization", authorization), ("Content-Type", "application/json")];
    http(addr, "POST", "/api/records", &headers, &body)
}

/// Adds the admin `admin@example.org` to the repository in `repo` and
/// makes it an API token with `scopes`: the `Authorization` header's value.
pub fn admin_token(repo: &Path, scopes: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut add = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(["--repo", repo.to_str().unwrap(), "user", "add", "admin@example.org", "--name", "Admin"])
        .args(["--role", "admin", "--password-stdin"])
        .env("ARKIV_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "user add: {}", stderr(&added));
    let out = arkiv(repo, &["user", "token", "admin@example.org", "--name", "load", "--scopes", scopes]);
    assert!(out.status.success(), "user token: {}", stderr(&out));
    format!("Bearer {}", stdout(&out).trim())
}

/// The admin's password ([`admin_token`]).
pub const PASSWORD: &str = "a correct horse battery";

/// How many of `ids` the `records` table of the PostgreSQL database at
/// `url` holds: what a test of lost writes counts.
pub fn stored_records(url: &str, ids: &[i64]) -> usize {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE id = ANY($1)")
            .bind(ids)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n as usize
    })
}
