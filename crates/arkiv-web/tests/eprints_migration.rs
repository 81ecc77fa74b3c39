//! A whole EPrints repository moves in (issue 25's migration test): its
//! subject file with subjects and divisions, an export whose records name
//! their subjects, divisions and depositors and reference their documents
//! by URL on the old server, its users with the password hashes of a dump
//! of its user table, and its history with the revision files EPrints
//! kept. Then, over HTTP: every user logs in with the old password, by
//! username and by address, and finds their own items; every subject and
//! division page lists the right records; the fetched documents download;
//! the history shows what the record was in EPrints. A document whose URL
//! answers 500 or never finishes is told, and its record lands. On SQLite
//! and on PostgreSQL.

#[path = "../../arkiv-storage/tests/backends/mod.rs"]
#[allow(dead_code)]
mod backends;
mod common;

use arkiv_formats::eprints::history::read_history;
use arkiv_formats::eprints::users::{read_password_dump, read_users_xml};
use arkiv_services::fetch::FetchOptions;
use arkiv_services::history_import::import_history;
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::subjects_import::{import_subjects, read_subjects};
use arkiv_services::users_import::import_users;
use arkiv_services::Config;
use common::{set_cookie, start_with, Site, EPRINTS_SUBJECTS};
use md5::{Digest, Md5};
use reqwest::StatusCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_eprints_repository_moves_in_whole() {
    an_eprints_repository_moves_in_whole(start_with(Config::default()).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_eprints_repository_moves_in_whole() {
    backends::with_postgres_url(|url| async move {
        let mut config = Config::default();
        config.storage.database = url;
        an_eprints_repository_moves_in_whole(start_with(config).await).await
    })
    .await
}

const USERS: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<users xmlns="http://eprints.org/ep2/data/2.0">
  <user><userid>2</userid><username>jsmith</username><usertype>user</usertype>
    <email>J.Smith@old.example</email><name><family>Smith</family><given>John</given></name></user>
  <user><userid>3</userid><username>anna</username><usertype>user</usertype>
    <email>anna@old.example</email><name><family>Nowak</family><given>Anna</given></name></user>
  <user><userid>4</userid><username>anna</username><usertype>user</usertype>
    <email>other@old.example</email></user>
  <user><userid>5</userid><username>bad</username><usertype>user</usertype>
    <email>bad@old.example</email></user>
</users>
"#;

/// John Smith's "secret" in Unix crypt, Anna Nowak's "old password 2" in
/// EPrints' SHA-512 form (made by Perl as EPrints makes them); user 5's
/// hash is malformed.
const DUMP: &str = "userid,username,password\n\
2,jsmith,abNANd1rDfiNc\n\
3,anna,?method=2&salt=Qz&digest=14382522ce19152f57844f82fcd1725fe0041945c8e6677fc683e1212d60c75dbf923dcc2c038d70fed87fbf7753be88c1d58e78f553cb66b1489f3d5b30b50e\n\
5,bad,?method=2&salt=Qz&digest=nothex\n";

const PDF: &[u8] = b"%PDF-1.4 the paper from the old server\n";

/// The old server: one good document, one that fails, one that stalls.
async fn old_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
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
                let head = |status: &str, len: usize| {
                    format!("HTTP/1.1 {status}\r\nContent-Type: application/pdf\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
                };
                let answer = match path.as_str() {
                    "/300/1/circuits.pdf" => [head("200 OK", PDF.len()).as_bytes(), PDF].concat(),
                    "/301/1/contracts.pdf" => head("500 Internal Server Error", 0).into_bytes(),
                    "/302/1/bridges.pdf" => {
                        let _ = socket.write_all(head("200 OK", PDF.len()).as_bytes()).await;
                        let _ = socket.write_all(&PDF[..5]).await;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                    _ => head("404 Not Found", 0).into_bytes(),
                };
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

fn eprint(base: &str, id: u32, user: u32, title: &str, subject: &str, division: &str, file: &str) -> String {
    format!(
        "<eprint><eprintid>{id}</eprintid><eprint_status>archive</eprint_status><userid>{user}</userid>\
         <type>article</type><title>{title}</title><date>2014</date>\
         <subjects><item>{subject}</item></subjects><divisions><item>{division}</item></divisions>\
         <documents><document><docid>{id}1</docid><pos>1</pos><security>public</security><main>{file}</main>\
         <files><file><filename>{file}</filename><filesize>{size}</filesize><hash>{md5}</hash>\
         <hash_type>MD5</hash_type><url>{base}/{id}/1/{file}</url></file></files></document></documents></eprint>\n",
        size = PDF.len(),
        md5 = hex::encode(Md5::digest(PDF)),
    )
}

async fn log_in(site: &Site, who: &str, password: &str) -> Result<String, StatusCode> {
    let res = site.login(who, password, "").await;
    match set_cookie(&res, "arkiv_session") {
        Some((id, _)) if res.status() == StatusCode::SEE_OTHER => Ok(format!("arkiv_session={id}")),
        _ => Err(res.status()),
    }
}

async fn an_eprints_repository_moves_in_whole(site: Site) {
    let repo = site.repo.clone();
    let base = old_server().await;
    let dir = tempfile::tempdir().unwrap();

    // 1. The subject tree and the divisions.
    let subjects =
        import_subjects(&repo, read_subjects(EPRINTS_SUBJECTS.as_bytes()).unwrap(), "subjects").await.unwrap();
    assert_eq!((subjects.imported, subjects.divisions, subjects.rejected.len()), (4, 3, 0), "{subjects:?}");

    // 2. The records, their documents fetched from the old server.
    let export = dir.path().join("export.xml");
    let records = [
        eprint(&base, 300, 2, "Circuits of the school", "QA75", "sch_ecs", "circuits.pdf"),
        eprint(&base, 301, 3, "Contracts of the lawyers", "K", "fac_law", "contracts.pdf"),
        eprint(&base, 302, 2, "Bridges of the faculty", "QA", "fac_eng", "bridges.pdf"),
    ];
    std::fs::write(
        &export,
        format!("<eprints xmlns=\"http://eprints.org/ep2/data/2.0\">{}</eprints>", records.concat()),
    )
    .unwrap();
    let fetch = FetchOptions { timeout: Duration::from_secs(2), retries: 0, ..Default::default() };
    let options = ImportOptions { fetch: Some(fetch), ..ImportOptions::for_repository(&repo) };
    let imported = import_eprints_xml(&repo, &[export], &options, &mut |_| {}).await.unwrap();
    assert_eq!(imported.imported, 3, "every record lands: {:?}", imported.rejected);
    assert_eq!(imported.files_fetched, 1);
    let failures = imported.fetch_failures.join("\n");
    assert!(failures.contains("contracts.pdf") && failures.contains("500"), "{failures}");
    assert!(failures.contains("bridges.pdf") && failures.contains("stalled"), "{failures}");

    // 3. The users, after their records: each depositor gets their items.
    let users =
        import_users(&repo, read_users_xml(USERS.as_bytes()), Some(read_password_dump(DUMP.as_bytes()).unwrap()))
            .await
            .unwrap();
    // The second "anna" is refused (usernames are unique); the user with a
    // malformed hash comes without a password, each told by its line.
    assert_eq!(users.imported, 3, "{users:?}");
    assert_eq!(users.rejected.iter().map(|(line, _)| *line).collect::<Vec<_>>(), [7], "{users:?}");
    assert!(users.rejected[0].1.contains("the username is user 3's already"), "{users:?}");
    assert_eq!(users.bad_hashes.iter().map(|(line, _)| *line).collect::<Vec<_>>(), [9], "{users:?}");
    assert_eq!(users.without_password, ["bad"]);

    // 4. The history of record 300, with the state EPrints kept of it.
    let documents = dir.path().join("documents");
    let revisions = documents.join("disk0/00/00/03/00/revisions");
    std::fs::create_dir_all(&revisions).unwrap();
    std::fs::write(
        revisions.join("1.xml"),
        "<?xml version='1.0' encoding='utf-8' ?>\n<eprint xmlns=\"http://eprints.org/ep2/data/2.0\">\
         <eprintid>300</eprintid><eprint_status>inbox</eprint_status><type>article</type>\
         <title>Circuits, a draft</title></eprint>\n",
    )
    .unwrap();
    let history = "<histories xmlns=\"http://eprints.org/ep2/data/2.0\"><history><historyid>1</historyid>\
        <userid>2</userid><actor>John Smith</actor><datasetid>eprint</datasetid><objectid>300</objectid>\
        <revision>1</revision><timestamp>2014-05-20 09:00:00</timestamp><action>create</action></history></histories>";
    let history = import_history(&repo, read_history(history.as_bytes()).unwrap(), &documents).await.unwrap();
    assert_eq!((history.records, history.revisions), (1, 1), "{history:?}");

    // Every user logs in with the old password and finds their items.
    for (username, address, password, mine, not_mine) in [
        (
            "jsmith",
            "j.smith@old.example",
            "secret",
            &["Circuits of the school", "Bridges of the faculty"][..],
            "Contracts",
        ),
        ("anna", "anna@old.example", "old password 2", &["Contracts of the lawyers"][..], "Circuits"),
    ] {
        assert_eq!(log_in(&site, username, "wrong").await, Err(StatusCode::UNAUTHORIZED));
        let session = log_in(&site, username, password).await.unwrap_or_else(|s| panic!("{username}: {s}"));
        log_in(&site, address, password).await.unwrap_or_else(|s| panic!("{address}: {s}"));
        let html = site.get("/workarea", &session).await.text().await.unwrap();
        for title in mine {
            assert!(html.contains(title), "{username} finds {title}: {html}");
        }
        assert!(!html.contains(not_mine), "{username} finds no one else's");
    }

    // The user whose hash could not be read cannot log in with a password.
    assert_eq!(log_in(&site, "bad", "anything").await, Err(StatusCode::UNAUTHORIZED));

    // Every subject and division page lists the right records.
    let anonymous = "";
    for (path, lists, not) in [
        ("/view/subject/QA75.html", "Circuits of the school", "Bridges"),
        ("/view/subject/QA.html", "Bridges of the faculty", "Circuits"),
        ("/view/subject/K.html", "Contracts of the lawyers", "Circuits"),
        ("/view/division/sch_ecs.html", "Circuits of the school", "Bridges"),
        ("/view/division/fac_eng.html", "Bridges of the faculty", "Contracts"),
        ("/view/division/fac_law.html", "Contracts of the lawyers", "Bridges"),
    ] {
        let res = site.get(path, anonymous).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(lists) && !html.contains(not), "{path}: {html}");
    }
    // The subject and division trees count their branches.
    let html = site.get("/view/subject/", anonymous).await.text().await.unwrap();
    assert!(html.contains("Q Science") && html.contains("K Law"), "{html}");
    let html = site.get("/view/division/", anonymous).await.text().await.unwrap();
    assert!(html.contains("Faculty of Engineering") && html.contains("2</span>"), "{html}");

    // The fetched document downloads at its old address too.
    let res = site.get("/id/eprint/300/1/circuits.pdf", anonymous).await;
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    let res = site.get("/300/1/circuits.pdf", anonymous).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(&res.bytes().await.unwrap()[..], PDF);

    // The history shows the state the record had in EPrints.
    let revisions = repo.store.revisions(300).await.unwrap();
    assert_eq!(revisions[0].record.title, "Circuits, a draft");
    assert_eq!(revisions[0].actor, "eprints:John Smith");
    assert_eq!(revisions.last().unwrap().record.title, "Circuits of the school");
}
