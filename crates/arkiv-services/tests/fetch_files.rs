//! `import --fetch-files` (issue 25): the documents an EPrints export
//! references by URL are fetched, against a local HTTP server that answers
//! well, fails once and then answers, fails for good, stalls mid-body,
//! sends other bytes than the export recorded, and sends more than the
//! limit. Each failure is one clear message for that file; every record is
//! imported, with the bytes that could be had.

use arkiv_services::fetch::FetchOptions;
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::{Config, Repository};
use md5::{Digest, Md5};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const GOOD: &[u8] = b"%PDF-1.4 a fetched paper\n";

/// Serves the cases by path, by hand: a real server would not lie about
/// its lengths or stall on purpose.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let flaky = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let flaky = flaky.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let head = |status: &str, len: Option<usize>| {
                    let len = len.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
                    format!("HTTP/1.1 {status}\r\nContent-Type: application/pdf\r\n{len}Connection: close\r\n\r\n")
                };
                let answer: Vec<u8> = match path.as_str() {
                    "/ok.pdf" => [head("200 OK", Some(GOOD.len())).as_bytes(), GOOD].concat(),
                    "/flaky.pdf" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => {
                        head("503 Service Unavailable", Some(0)).into_bytes()
                    }
                    "/flaky.pdf" => [head("200 OK", Some(GOOD.len())).as_bytes(), GOOD].concat(),
                    "/broken.pdf" => head("500 Internal Server Error", Some(0)).into_bytes(),
                    "/stall.pdf" => {
                        let _ = socket.write_all(head("200 OK", Some(1000)).as_bytes()).await;
                        let _ = socket.write_all(&GOOD[..10]).await;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                    // Announces 10 bytes and sends the whole file: the
                    // client reads the 10, which are not the file.
                    "/liar.pdf" => [head("200 OK", Some(10)).as_bytes(), GOOD].concat(),
                    // No length announced, and more than the limit.
                    "/huge.pdf" => [head("200 OK", None).as_bytes(), &vec![b'x'; 5000][..]].concat(),
                    _ => head("404 Not Found", Some(0)).into_bytes(),
                };
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

/// One record per case, each referencing its file by URL with the size and
/// MD5 of the good file, as an EPrints export records them.
fn export(base: &str) -> String {
    let md5 = hex::encode(Md5::digest(GOOD));
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<eprints xmlns=\"http://eprints.org/ep2/data/2.0\">\n",
    );
    for (i, case) in ["ok", "flaky", "broken", "stall", "liar", "huge"].iter().enumerate() {
        xml.push_str(&format!(
            "<eprint><eprintid>{id}</eprintid><eprint_status>archive</eprint_status><type>article</type>\
             <title>The {case} case</title><documents><document><pos>1</pos><security>public</security>\
             <main>{case}.pdf</main><files><file><filename>{case}.pdf</filename><filesize>{size}</filesize>\
             <hash>{md5}</hash><hash_type>MD5</hash_type><url>{base}/{case}.pdf</url></file></files>\
             </document></documents></eprint>\n",
            id = i + 1,
            size = GOOD.len(),
        ));
    }
    xml.push_str("</eprints>\n");
    xml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_referenced_by_url_are_fetched_and_each_failure_is_told() {
    let base = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo"), Config::default()).await.unwrap();
    let path = dir.path().join("export.xml");
    std::fs::write(&path, export(&base)).unwrap();
    let fetch = FetchOptions {
        max_bytes: 1000,
        timeout: Duration::from_secs(2),
        retries: 1,
        backoff: Duration::from_millis(20),
    };
    let options = ImportOptions { fetch: Some(fetch), ..ImportOptions::for_repository(&repo) };
    let report = import_eprints_xml(&repo, std::slice::from_ref(&path), &options, &mut |_| {}).await.unwrap();

    assert_eq!(report.imported, 6, "every record lands, with or without its bytes: {:?}", report.rejected);
    assert_eq!(report.files_fetched, 2, "the good file, and the one that failed once: {:?}", report.fetch_failures);
    let failures = report.fetch_failures.join("\n");
    for (case, says) in [
        ("broken.pdf", "the server answered 500 Internal Server Error (after 2 attempts)"),
        ("stall.pdf", "stalled"),
        ("liar.pdf", "the export gives 25 bytes, the server sent 10"),
        ("huge.pdf", "larger than the limit of 1000 bytes"),
    ] {
        let line =
            report.fetch_failures.iter().find(|f| f.contains(case)).unwrap_or_else(|| panic!("{case}: {failures}"));
        assert!(line.contains(says), "{case} should say {says:?}: {line}");
    }
    assert_eq!(report.fetch_failures.len(), 4, "{failures}");

    for (id, fetched) in [(1, true), (2, true), (3, false), (4, false), (5, false), (6, false)] {
        let record = repo.store.get_record(id).await.unwrap().unwrap();
        let file = &record.documents[0].files[0];
        assert_eq!(file.sha256.is_some(), fetched, "record {id}: {file:?}");
        if fetched {
            let bytes = repo.files.get(file.sha256.as_deref().unwrap()).await.unwrap().unwrap();
            assert_eq!(&bytes[..], GOOD, "record {id} holds the bytes fetched");
        } else {
            assert!(file.source_url.as_deref().is_some_and(|u| u.starts_with(&base)), "where to fetch it later stays");
        }
    }
}
