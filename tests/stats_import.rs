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
    drop(served);

    // The history is SUSHI's too, for a client the operator adds by hand.
    let out = arkiv(&repo, &["stats", "sushi-client", "x"]);
    assert_eq!(out.status.code(), Some(2), "a one-letter name is refused");
    assert!(stderr(&out).contains("name: A name of 2 to 200 characters"), "{}", stderr(&out));
    let out = arkiv(&repo, &["stats", "sushi-client", "Jisc IRUS"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let credentials = stdout(&out).lines().collect::<Vec<_>>().join("&");
    assert!(credentials.starts_with("customer_id=0000000000000000&requestor_id="), "{credentials}");
    let served = serve(&repo);
    let (status, body) =
        page(served.addr, &format!("/sushi/r51/reports/pr?{credentials}&begin_date=2014-06&end_date=2014-06"));
    assert!(status.contains("200"), "{status} {body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let counts = &report["Report_Items"][0]["Attribute_Performance"][0]["Performance"];
    assert_eq!(counts["Total_Item_Requests"]["2014-06"], 3, "{body}");
    assert_eq!(counts["Total_Item_Investigations"]["2014-06"], 4, "{body}");
    let (status, _) = page(served.addr, "/sushi/r51/reports/pr?customer_id=0000000000000000&requestor_id=nobody&api_key=x&begin_date=2014-06&end_date=2014-06");
    assert!(status.contains("401"), "an unknown requestor: {status}");
}

/// `arkiv stats import-access`: EPrints' access table, as its XML export
/// and as `mysql -B` text, counted by the Code (EPrints' own counting left
/// double clicks and ranges in); a document is found by its EPrints id;
/// a malformed row is told by line and the rest land; a table imported
/// again counts nothing twice.
#[test]
fn eprints_access_table_keeps_its_history_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repo(dir.path());
    // The seed with EPrints' document id 3456, as an export carries it.
    let seed =
        std::fs::read_to_string(seed_xml()).unwrap().replacen("<pos>1</pos>", "<pos>1</pos><docid>3456</docid>", 1);
    std::fs::create_dir(dir.path().join("files")).unwrap();
    let pdf = seed_xml().parent().unwrap().join("files/commentary_137.pdf");
    std::fs::copy(pdf, dir.path().join("files/commentary_137.pdf")).unwrap();
    let seed_path = dir.path().join("seed.xml");
    std::fs::write(&seed_path, seed).unwrap();
    let out = arkiv(&repo, &["import", "eprints-xml", seed_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let access = |id: u32, time: &str, who: &str, agent: &str, service: &str, eprint: &str, doc: &str| {
        format!(
            "  <access id=\"http://old.example/id/access/{id}\">\n    <accessid>{id}</accessid>\n    \
             <datestamp>{time}</datestamp>\n    <requester_id>{who}</requester_id>\n    \
             <requester_user_agent>{agent}</requester_user_agent>\n    \
             <service_type_id>{service}</service_type_id>\n    <referent_id>{eprint}</referent_id>\n{doc}  \
             </access>\n"
        )
    };
    let doc = |d: &str| format!("    <referent_docid>{d}</referent_docid>\n");
    let mut xml =
        String::from("<?xml version='1.0' encoding='utf-8'?>\n<accesses xmlns=\"http://eprints.org/ep2/data/2.0\">\n");
    for row in [
        // Section 7.3 (double clicks): two views by one reader 10 s apart are one.
        access(1, "2013-03-01 09:00:00", "192.0.2.1", FIREFOX, "?abstract=yes", "1", ""),
        access(2, "2013-03-01 09:00:10", "192.0.2.1", FIREFOX, "?abstract=yes", "1", ""),
        // Downloads of document 3456 by two readers: two Requests.
        access(3, "2013-03-01 09:01:00", "192.0.2.2", FIREFOX, "?fulltext=yes", "1", &doc("3456")),
        access(4, "2013-03-02 12:00:00", "192.0.2.3", FIREFOX, "?fulltext=yes", "oai:old.example:1", &doc("3456")),
        // Section 7.8 (robots): a harvester EPrints' shorter list let through.
        access(5, "2013-03-02 12:01:00", "192.0.2.4", "python-requests/2.31", "?fulltext=yes", "1", &doc("3456")),
        // Not counted: a document this record does not have, an eprint not held.
        access(6, "2013-03-02 12:02:00", "192.0.2.5", FIREFOX, "?fulltext=yes", "1", &doc("9999")),
        access(7, "2013-03-02 12:03:00", "192.0.2.5", FIREFOX, "?abstract=yes", "999", ""),
        // Malformed: an impossible date; a row without a requester.
        access(8, "2013-02-30 12:00:00", "192.0.2.6", FIREFOX, "?abstract=yes", "1", ""),
        access(9, "2013-03-02 12:04:00", "", FIREFOX, "?abstract=yes", "1", ""),
    ] {
        xml.push_str(&row);
    }
    xml.push_str("</accesses>\n");
    let xml_path = dir.path().join("access.xml");
    std::fs::write(&xml_path, &xml).unwrap();

    let out = arkiv(&repo, &["stats", "import-access", xml_path.to_str().unwrap()]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "malformed rows exit 2: {said}{}", stderr(&out));
    assert!(
        said.contains("9 rows: 4 views and downloads kept; 1 by robots, 2 not a view or download of a record here, 0 from when the server counted by itself, 2 malformed."),
        "{said}"
    );
    assert!(said.contains("line 63: ") && said.contains("is not a time"), "{said}");
    assert!(said.contains("line 71: the row has no requester_id"), "{said}");

    let again = arkiv(&repo, &["stats", "import-access", xml_path.to_str().unwrap()]);
    assert!(stdout(&again).contains("imported before; nothing counted again"), "{}", stdout(&again));

    // The same table as `mysql -B` prints it, a month on: one more view.
    let tsv = "accessid\tdatestamp_year\tdatestamp_month\tdatestamp_day\tdatestamp_hour\tdatestamp_minute\t\
               datestamp_second\trequester_id\trequester_user_agent\trequester_country\trequester_institution\t\
               referring_entity_id\tservice_type_id\treferent_id\treferent_docid\n\
               10\t2013\t4\t1\t8\t0\t0\t192.0.2.8\tMozilla/5.0 (Windows NT 10.0)\tNULL\tNULL\t\t?abstract=yes\t1\tNULL\n";
    let tsv_path = dir.path().join("access.tsv");
    std::fs::write(&tsv_path, tsv).unwrap();
    let out = arkiv(&repo, &["stats", "import-access", tsv_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("1 rows: 1 views and downloads kept"), "{}", stdout(&out));

    // The record's page: 2 downloads, 2 views (one double click merged).
    let served = serve(&repo);
    let (status, body) = page(served.addr, "/1/");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("Downloads: <strong>2</strong>"), "{body}");
    assert!(body.contains("Page views: <strong>2</strong>"), "{body}");
}
