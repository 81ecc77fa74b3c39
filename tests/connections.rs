//! Sockets that strangers open and leave silent cannot starve the server:
//! `arkiv serve` runs as a child process with a small open-file limit (as a
//! default `ulimit -n` is, scaled down), a client holds more half-sent
//! requests than the server has room for, and a reader beside it must still
//! get every page at once. Then each timeout is checked on its own: a
//! header never finished, a kept-alive connection left idle, a request body
//! that goes silent.
//!
//! Before the connection cap and the timeouts (`arkiv_web::connections`),
//! the server accepted sockets until the process ran out of descriptors and
//! kept each for as long as the client liked: the reader's requests waited
//! in the backlog and timed out.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `arkiv serve` in a child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// What the server has written to stderr so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `arkiv serve` on a free port under `ulimit -n open_files` (soft
/// and hard), with `[server]` settings replaced by `settings`.
fn serve(repo: &Path, open_files: u32, settings: &[(&str, &str)]) -> Server {
    let config = repo.join("arkiv.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    for (key, value) in settings {
        let start = text.find(&format!("\n{key} = ")).unwrap_or_else(|| panic!("{key} is in arkiv.toml")) + 1;
        let end = start + text[start..].find('\n').unwrap();
        text.replace_range(start..end, &format!("{key} = {value}"));
    }
    std::fs::write(&config, text).unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {open_files} && exec \"$0\" --repo \"$1\" serve --listen 127.0.0.1:0"))
        .arg(env!("CARGO_BIN_EXE_arkiv"))
        .arg(repo)
        .env("ARKIV_LOG", "error")
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs arkiv serve");
    // "Arkiv is serving "..." (0 live records) at http://127.0.0.1:PORT/ ..."
    let mut stderr = child.stderr.take().unwrap();
    let (addr, seen) = common::served_address(&mut stderr);
    // Keep draining stderr so the child never blocks on a full pipe, and
    // keep what it says for tests that read the server's complaints.
    let log = std::sync::Arc::new(std::sync::Mutex::new(seen));
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut chunk) {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    Server { child, addr, log }
}

/// One whole request on a new connection: the status line, or what went
/// wrong (a timeout included).
fn fetch(addr: SocketAddr, path: &str, wait: Duration) -> Result<String, String> {
    fetch_page(addr, path, wait).map(|page| page.lines().next().unwrap_or("").to_string())
}

/// One whole request on a new connection: the whole answer, headers and
/// body, or what went wrong.
fn fetch_page(addr: SocketAddr, path: &str, wait: Duration) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(&addr, wait).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(wait)).unwrap();
    s.set_write_timeout(Some(wait)).unwrap();
    // One write, as a browser sends it (`write!` would send it in pieces).
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).map_err(|e| format!("read: {e}"))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Whether the server closes `s` within `within` (reads to its end).
fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return None,
            Err(_) => return Some(start.elapsed()),
        }
    }
}

/// Opens `n` sockets, each with half a request's headers, and holds them:
/// what a client that starves servers does. Raises this process's own
/// open-file limit first, since it holds them too.
fn half_sent_requests(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let _ = rlimit::increase_nofile_limit(4096);
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).expect("the kernel accepts into the backlog");
            s.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n").unwrap();
            s
        })
        .collect()
}

#[test]
fn silent_sockets_past_the_cap_do_not_starve_readers() {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::init_repo(dir.path());
    // 400 descriptors: the cap is 32 connections (less than 400 - 256).
    // Timeouts long enough that only the cap can help the reader.
    let server = serve(
        &repo,
        400,
        &[
            ("max_connections", "32"),
            ("header_timeout_secs", "300"),
            ("idle_timeout_secs", "300"),
            ("body_timeout_secs", "300"),
        ],
    );
    assert!(fetch(server.addr, "/", Duration::from_secs(30)).unwrap().contains(" 200 "), "the server serves");

    // 500 sockets, each with half a request's headers: more than the
    // server has descriptors for, and far more than the cap. This test
    // holds them too, so its own limit must allow them.
    let silent = half_sent_requests(server.addr, 500);
    // A reader beside them: every page, each within 5 s.
    for i in 0..20 {
        let status = fetch(server.addr, "/", Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("request {i} beside 500 silent sockets: {e}"));
        assert!(status.contains(" 200 "), "request {i}: {status}");
    }
    drop(silent);
}

#[test]
fn each_timeout_closes_what_waits_too_long() {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::init_repo(dir.path());
    let server =
        serve(&repo, 600, &[("header_timeout_secs", "1"), ("idle_timeout_secs", "1"), ("body_timeout_secs", "1")]);
    let within = Duration::from_secs(10);

    // Half a header, then silence.
    let mut half = TcpStream::connect(server.addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: te").unwrap();
    let took = closed_within(&mut half, within).expect("a header never finished is closed");
    assert!(took >= Duration::from_millis(500), "not before the timeout: {took:?}");

    // Nothing at all.
    let mut mute = TcpStream::connect(server.addr).unwrap();
    closed_within(&mut mute, within).expect("a connection that never sends is closed");

    // One whole request kept alive, then silence.
    let mut kept = TcpStream::connect(server.addr).unwrap();
    kept.write_all(b"GET /robots.txt HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    closed_within(&mut kept, within).expect("an idle kept-alive connection is closed");

    // A body promised and not sent.
    let mut body = TcpStream::connect(server.addr).unwrap();
    body.write_all(
        b"POST /oai2 HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nverb=Ide",
    )
    .unwrap();
    closed_within(&mut body, within).expect("a silent request body ends its request");

    // The server itself is fine.
    assert!(fetch(server.addr, "/", within).unwrap().contains(" 200 "));
}

#[test]
fn with_every_connection_busy_a_new_one_is_told_503_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::init_repo(dir.path());
    let server = serve(&repo, 600, &[("max_connections", "4"), ("body_timeout_secs", "300")]);
    // Four requests in flight, each waiting for the rest of its body.
    let mut busy = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(
            b"POST /oai2 HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nverb=",
        )
        .unwrap();
        busy.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let status = fetch(server.addr, "/", Duration::from_secs(5)).expect("an answer, not a wait");
    assert!(status.contains(" 503 "), "a fifth connection with four busy: {status}");
    assert!(started.elapsed() < Duration::from_secs(2), "at once: {:?}", started.elapsed());
    // A client whose request arrives after the server has answered (a slow
    // network, or a client that sends in pieces) still reads the 503: the
    // server reads what it sends before closing, so no reset overtakes the
    // answer. Without that, the second piece failed with "broken pipe" or
    // the read with "connection reset".
    let mut late = TcpStream::connect(server.addr).unwrap();
    late.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    late.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n").expect("the first piece is sent");
    std::thread::sleep(Duration::from_millis(100));
    late.write_all(b"Connection: close\r\n\r\n").expect("the second piece is sent, not refused with a reset");
    let mut answer = Vec::new();
    late.read_to_end(&mut answer).expect("the answer is read, not reset away");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 503 "), "a late request still reads the 503");
    // A busy connection finishing makes room again.
    let mut first = busy.remove(0);
    first.write_all(&[b'x'; 95]).unwrap();
    let mut answer = [0u8; 12];
    first.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200", "the busy request was answered in the end");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = fetch(server.addr, "/", Duration::from_secs(5)).unwrap();
        if status.contains(" 200 ") {
            break;
        }
        assert!(Instant::now() < deadline, "no room after a busy connection ended: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn with_sockets_held_at_the_cap_a_new_record_is_indexed_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::init_repo(dir.path());
    // 400 descriptors and the default cap (4,096 connections): the server
    // must itself keep room for its database, index and files, so it
    // takes at most 400 - 256 connections.
    let server = serve(
        &repo,
        400,
        &[("header_timeout_secs", "300"), ("idle_timeout_secs", "300"), ("body_timeout_secs", "300")],
    );
    let wait = Duration::from_secs(30);
    assert!(fetch(server.addr, "/", wait).unwrap().contains(" 200 "), "the server serves");
    let search = "/search?q=Kazakhstan";
    assert!(!fetch_page(server.addr, search, wait).unwrap().contains("less love, more fear"), "not there yet");

    // 500 half-sent requests, held: more sockets than the process has
    // descriptors.
    let silent = half_sent_requests(server.addr, 500);
    // Let the server accept what it will of them before the import lands.
    std::thread::sleep(Duration::from_millis(500));

    // A record arrives (another process writes the database); the server's
    // index follows the change feed, so it must open segment files while
    // the sockets are held.
    let out = common::arkiv(&repo, &["import", "eprints-xml", common::seed_xml().to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", common::stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = fetch_page(server.addr, search, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("search beside 500 silent sockets: {e}"));
        if page.contains("less love, more fear") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the imported record was not found by search within 30 s; the server said: {}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Its page, twice (the second from the page cache), and the home page.
    for path in ["/1/", "/1/", "/"] {
        let status = fetch(server.addr, path, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{path} beside 500 silent sockets: {e}"));
        assert!(status.contains(" 200 "), "{path}: {status}");
    }
    let log = server.log.lock().unwrap().clone();
    assert!(
        !log.contains("Too many open files") && !log.contains("os error 24"),
        "the server ran out of descriptors: {log}"
    );
    drop(silent);
}
