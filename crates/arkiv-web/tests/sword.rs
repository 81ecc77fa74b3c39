//! SWORD v2 over real HTTP at EPrints' addresses: PyPI's `sword2` client
//! through its whole deposit (`../shared/tools/sword2_client_smoke.py`),
//! and every operation by hand, refusals included, each checked in the
//! repository as well as on the wire.

mod common;

use arkiv_model::{RecordId, Status};
use common::*;
use reqwest::{RequestBuilder, Response, StatusCode};
use std::io::Write;

const ZIP: &str = "http://purl.org/net/sword/package/SimpleZip";

fn basic(req: RequestBuilder, login: &str) -> RequestBuilder {
    req.basic_auth(login, Some(PASSWORD))
}

const ENTRY: &str = r#"<?xml version="1.0"?>
<entry xmlns="http://www.w3.org/2005/Atom" xmlns:dcterms="http://purl.org/dc/terms/">
  <title>Carbon pricing &amp; competitiveness</title>
  <author><name>Doe, Jane</name></author>
  <dcterms:abstract>What a carbon price costs exporters.</dcterms:abstract>
  <dcterms:issued>2026-03-01</dcterms:issued>
  <dcterms:type>policy paper</dcterms:type>
  <dcterms:date>not a date</dcterms:date>
</entry>"#;

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex_of(&Md5::digest(bytes))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An error document's status and its `sword:error` href.
async fn sword_error(res: Response) -> (StatusCode, String) {
    let status = res.status();
    let body = res.text().await.unwrap();
    let at = body.find("<sword:error").unwrap_or_else(|| panic!("{status}: not a SWORD error document: {body}"));
    let href = body[at..].split("href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (status, href)
}

/// Sends `head` (a request line and headers, each ending in CRLF; Host and
/// Connection: close are added) and `body` as they are, and reads the
/// answer's head: for what reqwest would not send (no Accept at all, a
/// Content-Length it does not mean to honour).
async fn raw(site: &Site, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = site.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("{head}Host: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

/// A multipart/related deposit as the profile shows it: the entry, then
/// the file in base64 with its own Packaging and Content-MD5.
fn multipart(entry: &str, file: &[u8], filename: &str, md5: &str) -> (String, Vec<u8>) {
    use base64::Engine;
    let boundary = "===============1605871705==";
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let body = format!(
        "--{boundary}\r\nContent-Type: application/atom+xml; charset=\"utf-8\"\r\nContent-Disposition: attachment; name=\"atom\"\r\nMIME-Version: 1.0\r\n\r\n{entry}\r\n\
         --{boundary}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; name=payload; filename={filename}\r\n\
         Packaging: http://purl.org/net/sword/package/Binary\r\nContent-MD5: {md5}\r\nMIME-Version: 1.0\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--{boundary}--\r\n",
        lines.join("\r\n")
    );
    (format!("multipart/related; boundary=\"{boundary}\"; type=\"application/atom+xml\""), body.into_bytes())
}

/// Bytes that do not compress (a linear congruential stream).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

/// The record id at the end of an Edit-IRI.
fn id_of(edit: &str) -> RecordId {
    edit.rsplit('/').next().unwrap().parse().unwrap()
}

async fn count_records(site: &Site) -> usize {
    let mut n = 0;
    for id in 1..200 {
        if site.repo.store.get_record(id).await.unwrap().is_some() {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn the_sword2_client_from_pypi_deposits_start_to_end() {
    let Some(shared) = arkiv_testkit::shared_dir() else { return };
    let Some(python) = arkiv_testkit::checkers::sword_python() else { return };
    let site = start_at_own_address(Default::default()).await;
    let script = shared.join("tools/sword2_client_smoke.py");
    let sd = site.url("/sword-app/servicedocument");
    // httplib2 under the client keeps a cache in its working directory.
    let scratch = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(&python)
        .current_dir(scratch.path())
        .arg(&script)
        .args([sd.as_str(), "depositor@example.org", PASSWORD])
        .output()
        .await
        .expect("the sword2 client runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the sword2 client failed:\n{said}");
    for expected in [
        "SD valid: True version: 2.0",
        "packaging: ['http://purl.org/net/sword/package/SimpleZip'",
        "create(metadata) -> 201",
        "create(zip) -> 201",
        "update_files_for_resource -> 204",
        "get_deposit_receipt -> 200",
        "statement states: [('http://purl.org/net/sword/terms/state/inProgress'",
        "complete_deposit -> 200",
        "delete_container -> 204",
    ] {
        assert!(said.contains(expected), "expected {expected:?} in:\n{said}");
    }
    // What the client did, as the repository holds it: the metadata
    // deposit, its file replaced, completed into review; the zip deposit
    // deleted whole.
    let edit = said.split("create(metadata) -> 201 edit: ").nth(1).unwrap().split_whitespace().next().unwrap();
    let first = site.repo.store.get_record(id_of(edit)).await.unwrap().expect("the metadata deposit");
    assert_eq!(first.title, "Carbon pricing and competitiveness: a policy brief");
    assert_eq!(first.abstract_text.as_deref(), Some("Abstract text"));
    assert_eq!(first.creators.len(), 1, "the Atom author and dcterms:creator are one person");
    assert_eq!(first.status, Status::Buffer, "completed: in review");
    let files: Vec<_> = first.files().map(|(_, f)| f.filename.clone()).collect();
    assert_eq!(files, ["v2.pdf"]);
    let zip_edit = said.split("create(zip) -> 201 ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(site.repo.store.get_record(id_of(zip_edit)).await.unwrap().is_none(), "deleted");
}

/// A SWORD site with small bounds, so refusals are cheap to provoke: 1 MiB
/// per file and of drafts per depositor, packages expanding at most 20
/// times.
async fn small_site() -> Site {
    let mut config = arkiv_services::Config::default();
    config.import.max_file_bytes = 1 << 20;
    config.sword.max_expansion = 20;
    config.deposit.draft_quota_mb = 1;
    // A depositor's account given the right to mediate, as a router's is.
    config.sword.mediators = vec!["Other@example.org".into()];
    start_at_own_address(config).await
}

async fn user_id(site: &Site, login: &str) -> i64 {
    arkiv_services::accounts::find_login(site.repo.accounts.as_ref(), login).await.unwrap().unwrap().id
}

#[tokio::test]
async fn every_sword_operation_keeps_the_workflows_rules_and_refuses_clearly() {
    let site = small_site().await;
    let c = &site.client;
    let collection = site.url("/id/contents");
    let depositor = "depositor@example.org";

    // The service document: credentials or a Basic challenge.
    let res = c.get(site.url("/sword-app/servicedocument")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let res = c.get(site.url("/sword-app/servicedocument")).basic_auth(depositor, Some("wrong")).send().await.unwrap();
    assert_eq!(sword_error(res).await.0, StatusCode::UNAUTHORIZED);
    let sd = basic(c.get(site.url("/sword-app/servicedocument")), depositor).send().await.unwrap();
    assert_eq!(sd.status(), StatusCode::OK);
    let sd = sd.text().await.unwrap();
    assert!(sd.contains("<sword:version>2.0</sword:version>") && sd.contains(&collection), "{sd}");
    assert!(sd.contains("<sword:mediation>false</sword:mediation>"), "a depositor may not mediate: {sd}");

    // An Atom entry, in progress: the depositor's workarea, the values
    // that could be read, and a receipt saying what is missing.
    let before = count_records(&site).await;
    let res = basic(c.post(&collection), depositor)
        .header("content-type", "application/atom+xml;type=entry")
        .header("in-progress", "true")
        .body(ENTRY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let edit = res.headers()["location"].to_str().unwrap().to_string();
    let receipt = res.text().await.unwrap();
    assert!(receipt.contains(&format!("rel=\"edit-media\" href=\"{edit}/contents\"")), "{receipt}");
    assert!(receipt.contains("\"not a date\" is not a date"), "what was left out is said: {receipt}");
    let id = id_of(&edit);
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!((record.status, record.userid), (Status::Inbox, Some(user_id(&site, depositor).await)));
    assert_eq!(record.title, "Carbon pricing & competitiveness");
    assert_eq!(record.item_type, "policy_paper", "dcterms:type named a type of the repository");
    assert_eq!(record.date.unwrap().to_string(), "2026-03-01");
    assert!(receipt.contains("Before it can go live it needs"), "{receipt}");

    // One address, two askers: a browser is sent to the page, a client
    // with credentials gets the receipt, one without is challenged.
    let res = c.get(&edit).header("accept", "text/html,*/*").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(res.headers()["location"], format!("/{id}/").as_str());
    let res = basic(c.get(&edit), depositor).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/atom+xml;type=entry");
    let no_accept = raw(&site, &format!("GET /id/eprint/{id} HTTP/1.1\r\n"), b"").await;
    assert!(no_accept.starts_with("HTTP/1.1 401"), "no Accept, no public page: challenged: {no_accept}");
    let no_accept = raw(&site, "GET /id/eprint/999 HTTP/1.1\r\n", b"").await;
    assert!(no_accept.starts_with("HTTP/1.1 401"), "an absent id alike: {no_accept}");
    let no_accept = raw(&site, &format!("GET /id/eprint/{} HTTP/1.1\r\n", site.live), b"").await;
    assert!(no_accept.starts_with("HTTP/1.1 301"), "a live item's link works for any client: {no_accept}");
    let other = basic(c.get(&edit), "other@example.org").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "another depositor's draft does not exist for them");

    // A file to the EM-IRI, with its checksum; a wrong checksum changes nothing.
    let pdf = b"%PDF-1.4 a policy brief".to_vec();
    let add = |bytes: Vec<u8>, md5: String| {
        basic(c.post(format!("{edit}/contents")), depositor)
            .header("content-type", "application/pdf")
            .header("content-disposition", "attachment; filename=brief%20v1.pdf")
            .header("content-md5", md5)
            .body(bytes)
            .send()
    };
    let res = add(pdf.clone(), "0".repeat(32)).await.unwrap();
    assert_eq!(
        sword_error(res).await,
        (StatusCode::PRECONDITION_FAILED, arkiv_formats::sword::ERROR_CHECKSUM_MISMATCH.into())
    );
    assert!(site.repo.store.get_record(id).await.unwrap().unwrap().documents.is_empty(), "nothing half-written");
    let res = add(pdf.clone(), md5_hex(&pdf)).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!(record.files().map(|(_, f)| f.filename.clone()).collect::<Vec<_>>(), ["brief v1.pdf"]);
    assert_eq!(record.documents[0].mime_type.as_deref(), Some("application/pdf"));

    // A SimpleZip package replaces the files; the statement lists them.
    let package = zip_of(&[("paper.pdf", b"%PDF-1.4 the paper"), ("data/table.csv", b"a,b\n1,2\n")]);
    let res = basic(c.put(format!("{edit}/contents")), depositor)
        .header("content-type", "application/zip")
        .header("packaging", ZIP)
        .body(package)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!(record.files().map(|(_, f)| f.filename.clone()).collect::<Vec<_>>(), ["paper.pdf", "table.csv"]);
    let atom = basic(c.get(format!("{edit}/statement.atom")), depositor).send().await.unwrap().text().await.unwrap();
    assert!(atom.contains("state/inProgress") && atom.contains("/table.csv"), "{atom}");
    let ore = basic(c.get(format!("{edit}/statement.rdf")), depositor).send().await.unwrap().text().await.unwrap();
    assert!(ore.contains("ore:aggregates") && ore.contains("/paper.pdf"), "{ore}");

    // New metadata replaces the old: what the entry does not give is emptied.
    let entry = r#"<entry xmlns="http://www.w3.org/2005/Atom"><title>Carbon pricing, revised</title></entry>"#;
    let res = basic(c.put(&edit), depositor)
        .header("content-type", "application/atom+xml;type=entry")
        .header("in-progress", "true")
        .body(entry)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!((record.title.as_str(), record.abstract_text.as_deref()), ("Carbon pricing, revised", None));
    assert_eq!(record.documents.len(), 2, "metadata only: the files stay");

    // Complete: to review as it is; the depositor can no longer change it.
    let res = basic(c.post(&edit), depositor)
        .header("in-progress", "false")
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Submitted"));
    assert_eq!(site.repo.store.get_record(id).await.unwrap().unwrap().status, Status::Buffer);
    let res = basic(c.put(&edit), depositor)
        .header("content-type", "application/atom+xml;type=entry")
        .body(entry)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "in review: the editor's now");
    let res = basic(c.delete(format!("{edit}/contents")), depositor).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(count_records(&site).await, before + 1);

    // Refused deposits leave nothing behind. (First a draft of 900 kB,
    // so that a package can pass the 1 MiB draft quota once its item is
    // made: that item goes again.)
    let res = basic(c.post(&collection), depositor)
        .header("content-type", "application/octet-stream")
        .header("in-progress", "true")
        .body(noise(900_000, 3))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let before = before + 1;
    let refused = [
        (
            "a malformed Atom entry",
            "application/atom+xml;type=entry",
            None,
            b"<entry xmlns=\"http://www.w3.org/2005/Atom\"><title>x</entry>".to_vec(),
            StatusCode::BAD_REQUEST,
            arkiv_formats::sword::ERROR_BAD_REQUEST,
        ),
        (
            "an unknown packaging",
            "application/zip",
            Some("http://purl.org/net/sword/package/METSDSpaceSIP"),
            zip_of(&[("a.pdf", b"%PDF")]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            arkiv_formats::sword::ERROR_CONTENT,
        ),
        (
            "a zip that is not one",
            "application/zip",
            Some(ZIP),
            b"%PDF-1.4 not a zip".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            arkiv_formats::sword::ERROR_CONTENT,
        ),
        (
            "a zip naming a file outside itself",
            "application/zip",
            Some(ZIP),
            zip_of(&[("ok.pdf", b"%PDF"), ("../../../etc/cron.d/evil", b"* * * * * root true")]),
            StatusCode::BAD_REQUEST,
            arkiv_formats::sword::ERROR_BAD_REQUEST,
        ),
        (
            "a zip bomb",
            "application/zip",
            Some(ZIP),
            zip_of(&[("zeros.bin", &vec![0u8; 8 << 20])]),
            StatusCode::PAYLOAD_TOO_LARGE,
            arkiv_formats::sword::ERROR_MAX_UPLOAD_SIZE_EXCEEDED,
        ),
        (
            "a package past the draft quota",
            "application/zip",
            Some(ZIP),
            zip_of(&[("a.bin", &noise(100_000, 1)), ("b.bin", &noise(100_000, 2))]),
            StatusCode::PAYLOAD_TOO_LARGE,
            arkiv_formats::sword::ERROR_MAX_UPLOAD_SIZE_EXCEEDED,
        ),
        (
            "a file past the size limit",
            "application/pdf",
            None,
            vec![b'%'; (1 << 20) + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            arkiv_formats::sword::ERROR_MAX_UPLOAD_SIZE_EXCEEDED,
        ),
    ];
    for (what, content_type, packaging, body, status, href) in refused {
        let mut req = basic(c.post(&collection), depositor).header("content-type", content_type);
        if let Some(p) = packaging {
            req = req.header("packaging", p);
        }
        let res = req.body(body).send().await.unwrap();
        assert_eq!(sword_error(res).await, (status, href.to_string()), "{what}");
        assert_eq!(count_records(&site).await, before + 1, "{what}: nothing was made");
    }
    // No credentials: refused before the body is read.
    let res =
        c.post(&collection).header("content-type", "application/atom+xml;type=entry").body(ENTRY).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count_records(&site).await, before + 1);
}

#[tokio::test]
async fn mediated_packaged_and_oversized_deposits() {
    use base64::Engine;
    let site = small_site().await;
    let c = &site.client;
    let collection = site.url("/id/contents");
    let (depositor, editor) = ("depositor@example.org", "editor@example.org");
    let entry = |req: RequestBuilder| req.header("content-type", "application/atom+xml;type=entry").body(ENTRY);

    // On-Behalf-Of: an editor's right, not a depositor's; an unknown
    // owner is said to be unknown.
    let res =
        entry(basic(c.post(&collection), depositor).header("on-behalf-of", "other@example.org")).send().await.unwrap();
    assert_eq!(
        sword_error(res).await,
        (StatusCode::PRECONDITION_FAILED, arkiv_formats::sword::ERROR_MEDIATION_NOT_ALLOWED.into())
    );
    let res =
        entry(basic(c.post(&collection), editor).header("on-behalf-of", "nobody@example.org")).send().await.unwrap();
    assert_eq!(
        sword_error(res).await,
        (StatusCode::FORBIDDEN, arkiv_formats::sword::ERROR_TARGET_OWNER_UNKNOWN.into())
    );
    let res = entry(basic(c.post(&collection), editor).header("on-behalf-of", depositor).header("in-progress", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = id_of(res.headers()["location"].to_str().unwrap());
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!(
        (record.userid, record.status),
        (Some(user_id(&site, depositor).await), Status::Inbox),
        "the owner's workarea"
    );
    let revisions = site.repo.store.revisions(id).await.unwrap();
    assert_eq!(revisions[0].actor, format!("user:{}", user_id(&site, editor).await), "the mediator is who did it");
    // An account named in `[sword] mediators` has the right without an
    // editor's role, and its service document says so.
    let router = "other@example.org";
    let sd = basic(c.get(site.url("/sword-app/servicedocument")), router).send().await.unwrap().text().await.unwrap();
    assert!(sd.contains("<sword:mediation>true</sword:mediation>"), "{sd}");
    let res = entry(basic(c.post(&collection), router).header("on-behalf-of", depositor)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let mediated =
        site.repo.store.get_record(id_of(res.headers()["location"].to_str().unwrap())).await.unwrap().unwrap();
    assert_eq!(mediated.userid, Some(user_id(&site, depositor).await));

    // A personal API token with the deposit scope stands in for the password.
    let (token, _) = arkiv_services::accounts::api_tokens::create_token(
        site.repo.accounts.as_ref(),
        &site.repo.accounts.user(user_id(&site, depositor).await).await.unwrap().unwrap(),
        "router",
        &[arkiv_services::accounts::api_tokens::Scope::Deposit],
        30,
    )
    .await
    .unwrap();
    let sd = c.get(site.url("/sword-app/servicedocument")).basic_auth(depositor, Some(&token)).send().await.unwrap();
    assert_eq!(sd.status(), StatusCode::OK);

    // A binary deposit, complete: taken though the form would want more,
    // in review, and its page tells the editor what is missing.
    let res = basic(c.post(&collection), depositor)
        .header("content-type", "application/pdf")
        .header("content-disposition", "attachment; filename=\"report.pdf\"")
        .body(b"%PDF-1.4 a report".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = id_of(res.headers()["location"].to_str().unwrap());
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!((record.status, record.item_type.as_str()), (Status::Buffer, "article"), "[sword] default_item_type");
    let page = site.get(&format!("/deposit/{id}"), &site.session(editor).await).await.text().await.unwrap();
    assert!(page.contains("Before it can go live, this item needs") && page.contains("<li>a title</li>"), "{page}");
    let queue = site.get("/review", &site.session(editor).await).await.text().await.unwrap();
    assert!(queue.contains("Needs: a title, at least one author"), "the review queue says so too: {queue}");

    // An EPrints XML package: its metadata and its embedded file.
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 embedded");
    let xml = format!(
        "<?xml version=\"1.0\"?><eprints xmlns=\"http://eprints.org/ep2/data/2.0\"><eprint>\
         <eprint_status>archive</eprint_status><type>policy_paper</type>\
         <title>Kazakhstan's attitude towards integration with Russia</title>\
         <creators><item><name><family>Jaroslewicz</family><given>Aleksandra</given></name></item></creators>\
         <date>2014-05-29</date><documents><document><pos>1</pos><format>application/pdf</format><main>osw.pdf</main>\
         <files><file><filename>osw.pdf</filename><data encoding=\"base64\">{pdf}</data></file></files></document></documents>\
         </eprint></eprints>"
    );
    let res = basic(c.post(&collection), depositor)
        .header("content-type", "application/vnd.eprints.data+xml")
        .header("packaging", "http://eprints.org/ep2/data/2.0")
        .header("in-progress", "true")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let record = site.repo.store.get_record(id_of(res.headers()["location"].to_str().unwrap())).await.unwrap().unwrap();
    assert_eq!(record.title, "Kazakhstan's attitude towards integration with Russia");
    assert_eq!(
        (record.status, record.item_type.as_str()),
        (Status::Inbox, "policy_paper"),
        "the package's status is not taken"
    );
    assert_eq!(record.files().map(|(_, f)| f.filename.clone()).collect::<Vec<_>>(), ["osw.pdf"]);

    // A multipart deposit: the entry and the file in one request; a
    // wrong checksum in the file's part makes nothing; then more of both
    // to the SE-IRI.
    let brief = b"%PDF-1.4 the brief, in base64".to_vec();
    let (ct, body) = multipart(ENTRY, &brief, "brief.pdf", &"0".repeat(32));
    let before = count_records(&site).await;
    let res = basic(c.post(&collection), depositor).header("content-type", &ct).body(body).send().await.unwrap();
    assert_eq!(sword_error(res).await.1, arkiv_formats::sword::ERROR_CHECKSUM_MISMATCH);
    assert_eq!(count_records(&site).await, before);
    let (ct, body) = multipart(ENTRY, &brief, "brief.pdf", &md5_hex(&brief));
    let res = basic(c.post(&collection), depositor)
        .header("content-type", &ct)
        .header("in-progress", "true")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let edit = res.headers()["location"].to_str().unwrap().to_string();
    let record = site.repo.store.get_record(id_of(&edit)).await.unwrap().unwrap();
    assert_eq!(record.title, "Carbon pricing & competitiveness");
    assert_eq!(record.files().map(|(_, f)| f.size).collect::<Vec<_>>(), [brief.len() as u64], "decoded");
    let more = r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:dcterms="http://purl.org/dc/terms/"><dcterms:publisher>OSW</dcterms:publisher></entry>"#;
    let (ct, body) = multipart(more, b"%PDF-1.4 an annex", "annex.pdf", &md5_hex(b"%PDF-1.4 an annex"));
    let res = basic(c.post(&edit), depositor)
        .header("content-type", &ct)
        .header("in-progress", "true")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let record = site.repo.store.get_record(id_of(&edit)).await.unwrap().unwrap();
    assert_eq!((record.publisher.as_deref(), record.title.as_str()), (Some("OSW"), "Carbon pricing & competitiveness"));
    assert_eq!(record.files().count(), 2);
    let res = basic(c.post(&collection), depositor)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(sword_error(res).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A live item is withdrawn by an editor, never deleted over SWORD.
    let res = basic(c.delete(site.url(&format!("/id/eprint/{}", site.live))), editor).send().await.unwrap();
    assert_eq!(
        sword_error(res).await,
        (StatusCode::METHOD_NOT_ALLOWED, arkiv_formats::sword::ERROR_METHOD_NOT_ALLOWED.into())
    );
    assert!(site.repo.store.get_record(site.live).await.unwrap().is_some());

    // 10 GB announced: refused at once, before a byte of it is read.
    let before = count_records(&site).await;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{depositor}:{PASSWORD}"));
    let head = format!(
        "POST /id/contents HTTP/1.1\r\nAuthorization: Basic {credentials}\r\nContent-Type: application/zip\r\n\
         Packaging: {ZIP}\r\nContent-Length: 10737418240\r\n"
    );
    let answer = raw(&site, &head, b"PK").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("MaxUploadSizeExceeded"), "{answer}");
    // Streamed with no length: cut off at the bound.
    let chunks = futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'%'; 64 * 1024])));
    let res = basic(c.post(&collection), depositor)
        .header("content-type", "application/pdf")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count_records(&site).await, before, "nothing was made");
}

/// Every SWORD operation on an item × every kind of caller × every status:
/// the answers follow the one permission table (`workflow::may`), as the
/// deposit form's do. Callers send API tokens in the password's place
/// (the same account as its password; an argon2 check per request would
/// make the 252 cases slow in a debug build).
#[tokio::test]
async fn every_sword_operation_for_every_caller_and_status() {
    use arkiv_model::Record;
    use arkiv_services::accounts::api_tokens::{create_token, Scope};
    use arkiv_services::workflow::{may, Action};
    use arkiv_storage::RecordWrite;
    let site = start_at_own_address(Default::default()).await;
    let c = &site.client;
    let who = [
        None,
        Some("depositor@example.org"),
        Some("other@example.org"),
        Some("editor@example.org"),
        Some("papers@example.org"),
        Some("theses@example.org"),
        Some("admin@example.org"),
    ];
    let mut callers = Vec::new();
    for email in who {
        callers.push(match email {
            None => None,
            Some(e) => {
                let user = site.repo.accounts.user_by_email(e).await.unwrap().unwrap();
                let (token, _) =
                    create_token(site.repo.accounts.as_ref(), &user, "matrix", &[Scope::Deposit], 1).await.unwrap();
                Some((user, token))
            }
        });
    }
    let owner = callers[1].as_ref().unwrap().0.id;
    let entry = r#"<entry xmlns="http://www.w3.org/2005/Atom"><title>The matrix paper, changed</title></entry>"#;
    // (operation, method, tail, the action it takes, body kind, success)
    let ops: [(&str, &str, &str, Action, &str, u16); 9] = [
        // As a SWORD client asks (a browser's GET is sent to the page).
        ("receipt", "GET", "", Action::View, "atom", 200),
        ("statement", "GET", "/statement.atom", Action::View, "", 200),
        ("replace metadata", "PUT", "", Action::Edit, "entry", 200),
        ("add metadata", "POST", "", Action::Edit, "entry", 200),
        ("complete", "POST", "", Action::Submit, "empty", 200),
        ("add a file", "POST", "/contents", Action::Edit, "file", 201),
        ("replace the files", "PUT", "/contents", Action::Edit, "file", 204),
        ("delete the files", "DELETE", "/contents", Action::Edit, "", 204),
        ("delete", "DELETE", "", Action::DeleteDraft, "", 204),
    ];
    let mut failures = Vec::new();
    for status in [Status::Inbox, Status::Buffer, Status::Archive, Status::Deletion] {
        for (op, method, tail, action, body, success) in &ops {
            for (i, caller) in callers.iter().enumerate() {
                let mut r = Record::new("policy_paper", "The matrix paper");
                r.status = status;
                r.userid = Some(owner);
                let id = site.repo.store.put_records(vec![RecordWrite::new(r.clone(), "test")]).await.unwrap()[0];
                let stored = site.repo.store.get_record(id).await.unwrap().unwrap();
                let url = site.url(&format!("/id/eprint/{id}{tail}"));
                let mut req = c.request(method.parse().unwrap(), url).header("in-progress", "true");
                req = match *body {
                    "entry" => req.header("content-type", "application/atom+xml;type=entry").body(entry),
                    "file" => req.header("content-type", "application/pdf").body(b"%PDF-1.4 m".to_vec()),
                    "atom" => req.header("accept", "application/atom+xml;type=entry"),
                    _ => req,
                };
                if *body == "empty" {
                    // In-Progress: false alone.
                    req = c
                        .request(method.parse().unwrap(), site.url(&format!("/id/eprint/{id}")))
                        .header("in-progress", "false")
                        .header("content-length", "0");
                }
                if let Some((u, t)) = caller {
                    req = req.basic_auth(&u.email, Some(t));
                }
                let got = req.send().await.unwrap().status().as_u16();
                let user = caller.as_ref().map(|(u, _)| u);
                let want = match user {
                    None => 401,
                    Some(u) if !may(Some(u), Action::View, Some(&stored)) => 404,
                    // Completing what is not in a workarea changes nothing.
                    Some(_) if *op == "complete" && status != Status::Inbox => 200,
                    Some(u) if may(Some(u), *action, Some(&stored)) => *success,
                    // Whoever could change it is told it was live.
                    Some(u) if *action == Action::DeleteDraft && may(Some(u), Action::Edit, Some(&stored)) => 405,
                    Some(_) => 403,
                };
                if got != want {
                    failures.push(format!(
                        "{op} of a {status:?} item by {}: {got}, not {want}",
                        who[i].unwrap_or("anonymous")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of 252 cases:\n{}", failures.len(), failures.join("\n"));
}
