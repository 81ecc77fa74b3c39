//! `arkiv stats import-log`: the download history of an EPrints server's
//! access log comes along, counted as the server counts (robots, double
//! clicks, ranges, status codes); malformed and hostile lines are skipped,
//! told by number and never stop the import; a log imported again, plain
//! or gzipped, counts nothing twice.

mod common;

use common::{arkiv, init_repo, page, seed_xml, serve, stderr, stdout};
use std::io::Write;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn line(client: &str, time: &str, request: &str, status: u16, agent: &str) -> String {
    format!("{client} - - [{time} +0000] \"{request}\" {status} 5120 \"-\" \"{agent}\"\n")
}

#[test]
fn an_eprints_access_log_keeps_its_history_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repo(dir.path());
    let out = arkiv(&repo, &["import", "eprints-xml", seed_xml().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut log = Vec::new();
    let pdf = "GET /id/eprint/1/1/commentary_137.pdf HTTP/1.1";
    for l in [
        // A reader's view, clicked twice within 30 s: one Investigation.
        line("192.0.2.1", "01/Jun/2014:10:00:00", "GET /id/eprint/1/ HTTP/1.1", 200, FIREFOX),
        line("192.0.2.1", "01/Jun/2014:10:00:10", "GET /id/eprint/1/ HTTP/1.1", 304, FIREFOX),
        // A download at EPrints' document address.
        line("192.0.2.2", "01/Jun/2014:10:01:00", pdf, 200, FIREFOX),
        // A PDF viewer's ranges at Arkiv's address: one Request.
        line("192.0.2.3", "01/Jun/2014:10:05:00", "GET /1/1/commentary_137.pdf HTTP/1.1", 206, FIREFOX),
        line("192.0.2.3", "01/Jun/2014:10:06:00", "GET /1/1/commentary_137.pdf HTTP/1.1", 206, FIREFOX),
        // Not counted: a robot, another page, an error, a HEAD, an unknown record.
        line("66.249.66.1", "01/Jun/2014:10:07:00", pdf, 200, "Googlebot/2.1 (+http://www.google.com/bot.html)"),
        line("192.0.2.4", "01/Jun/2014:10:08:00", "GET /view/year/2014.html HTTP/1.1", 200, FIREFOX),
        line("192.0.2.4", "01/Jun/2014:10:09:00", "GET /id/eprint/1/ HTTP/1.1", 500, FIREFOX),
        line("192.0.2.4", "01/Jun/2014:10:10:00", "HEAD /1/ HTTP/1.1", 200, FIREFOX),
        line("192.0.2.4", "01/Jun/2014:10:11:00", "GET /999/ HTTP/1.1", 200, FIREFOX),
        // Malformed and hostile: garbage, an impossible date, a huge line.
        "this is not a log line\n".to_string(),
        line("192.0.2.5", "31/Feb/2014:10:00:00", "GET /1/ HTTP/1.1", 200, FIREFOX),
        format!(
            "192.0.2.6 - - [01/Jun/2014:10:00:00 +0000] \"GET /1/?q={} HTTP/1.1\" 200 1 \"-\" \"x\"\n",
            "a".repeat(40_000)
        ),
    ] {
        log.extend_from_slice(l.as_bytes());
    }
    log.extend_from_slice(b"\xff\xfe not UTF-8 \xc3\x28\n");
    // And one more good line after them all: the import goes on.
    log.extend_from_slice(line("192.0.2.7", "01/Jun/2014:11:00:00", pdf, 200, FIREFOX).as_bytes());
    let plain = dir.path().join("access.log");
    std::fs::write(&plain, &log).unwrap();

    let out = arkiv(&repo, &["stats", "import-log", plain.to_str().unwrap()]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "malformed lines exit 2: {said}{}", stderr(&out));
    assert!(
        said.contains("15 lines: 6 views and downloads kept; 1 by robots, 4 not a view or download of a record here, 0 from when the server counted by itself, 4 malformed."),
        "{said}"
    );
    for told in [
        "line 11: ",
        "line 12: the time is not",
        "line 13: the line is longer than 32 KiB",
        "line 14: the line is not UTF-8",
    ] {
        assert!(said.contains(told), "{told:?} in {said}");
    }

    // Again, and gzipped: the same content is the same log.
    let gz = dir.path().join("access.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&log).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for again in [&plain, &gz] {
        let out = arkiv(&repo, &["stats", "import-log", again.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("imported before; nothing counted again"), "{}", stdout(&out));
    }

    // The record's page: 3 downloads (two whole, one by ranges), 1 view.
    let served = serve(&repo);
    let (status, body) = page(served.addr, "/1/");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("Downloads: <strong>3</strong>"), "{body}");
    assert!(body.contains("Page views: <strong>1</strong>"), "{body}");
}
