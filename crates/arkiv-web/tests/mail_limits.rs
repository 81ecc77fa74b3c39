//! No stranger can turn the site's mail into a weapon (issue 22): each
//! kind of mail a visitor can cause (password resets, registration links,
//! copy requests) is limited per recipient and per requesting address, and
//! each says who asked and from where, quoting what the visitor typed as
//! theirs. The site sits behind a trusted proxy here, so that requests
//! can come from many addresses.

mod common;

use arkiv_model::{Document, DocumentSecurity, Record, Status, StoredFile};
use arkiv_services::accounts::reset::request_reset;
use arkiv_services::config::ServerSettings;
use arkiv_services::Config;
use arkiv_storage::RecordWrite;
use common::{csrf_field, set_cookie, start_with, Site};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

async fn site() -> Site {
    let trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    start_with(Config { server: ServerSettings { trusted_proxies, ..Default::default() }, ..Config::default() }).await
}

async fn mails_to(site: &Site, to: &str) -> Vec<String> {
    let outbox = site.repo.accounts.outbox(10_000).await.unwrap();
    outbox.into_iter().filter(|m| m.to == to).map(|m| m.body).collect()
}

/// A form's CSRF cookie and token, got once and posted many times.
async fn form(site: &Site, path: &str) -> (String, String) {
    let res = site.get(path, "").await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    let (cookie, _) = set_cookie(&res, "arkiv_csrf").expect("a CSRF cookie");
    (format!("arkiv_csrf={cookie}"), csrf_field(&res.text().await.unwrap()))
}

async fn post_from(site: &Site, client: &str, path: &str, form: &(String, String), fields: &[(&str, &str)]) -> u16 {
    let mut all = vec![("csrf", form.1.as_str())];
    all.extend_from_slice(fields);
    let res = site
        .client
        .post(site.url(path))
        .header("cookie", &form.0)
        .header("x-forwarded-for", client)
        .form(&all)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn password_reset_mails_are_limited_per_person_and_per_address() {
    let site = site().await;
    // Through the form: the mail says where the request came from.
    let forgot = form(&site, "/password/forgot").await;
    let status =
        post_from(&site, "198.51.100.7", "/password/forgot", &forgot, &[("email", "editor@example.org")]).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while mails_to(&site, "editor@example.org").await.is_empty() {
        assert!(Instant::now() < deadline, "the reset mail arrives");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mail = &mails_to(&site, "editor@example.org").await[0];
    assert!(mail.contains("the request came from the address 198.51.100.7 on "), "{mail}");

    // 150 requests for one person, from one address and then from 150:
    // three mails in all reach them this hour.
    for _ in 0..150 {
        request_reset(&site.repo, "depositor@example.org", "203.0.113.9").await.unwrap();
    }
    for i in 0..150 {
        request_reset(&site.repo, "depositor@example.org", &format!("10.9.{}.{}", i / 200, i % 200 + 1)).await.unwrap();
    }
    assert_eq!(mails_to(&site, "depositor@example.org").await.len(), 3, "three resets an hour reach one person");

    // One address asking for every account: ten mails, then no more.
    for who in ["other", "papers", "theses", "admin"] {
        for _ in 0..3 {
            request_reset(&site.repo, &format!("{who}@example.org"), "192.0.2.50").await.unwrap();
        }
    }
    let mut sent = 0;
    for who in ["other", "papers", "theses", "admin"] {
        sent += mails_to(&site, &format!("{who}@example.org")).await.len();
    }
    assert_eq!(sent, 10, "one address causes ten reset mails an hour, to anyone");
}

#[tokio::test]
async fn copy_requests_are_limited_per_requester_and_mails_per_depositor() {
    let site = site().await;
    let id = restricted_record(&site).await;
    let path = format!("/copy-request/{id}/1");
    let request = form(&site, &path).await;
    let fields: &[(&str, &str)] =
        &[("name", "Your bank: call +1 555 0100 now"), ("email", "attacker@example.net"), ("message", "Please")];
    let mut statuses = Vec::new();
    for _ in 0..200 {
        statuses.push(post_from(&site, "203.0.113.9", &path, &request, fields).await);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "five requests an hour from one address");
    assert!(statuses[5..].iter().all(|s| *s == 429), "the rest are refused: {statuses:?}");
    let kept = site.repo.accounts.pending_copy_requests(None, 1000).await.unwrap();
    assert_eq!(kept.len(), 5, "refused requests are not kept");
    let mails = mails_to(&site, "depositor@example.org").await;
    assert_eq!(mails.len(), 5);
    let mail = &mails[0];
    assert!(mail.starts_with("A visitor asked for a copy"), "the visitor's words do not open the mail: {mail}");
    assert!(
        mail.contains("They gave their name as \"Your bank: call +1 555 0100 now\" and their e-mail address as attacker@example.net; neither is checked."),
        "{mail}"
    );
    assert!(mail.contains("the request came from the address 203.0.113.9 on "), "{mail}");

    // From many addresses: every request is kept for the depositor to see,
    // but only ten mails an hour reach them.
    for i in 0..40 {
        let status = post_from(&site, &format!("10.8.0.{}", i + 1), &path, &request, fields).await;
        assert_eq!(status, 200);
    }
    assert_eq!(site.repo.accounts.pending_copy_requests(None, 1000).await.unwrap().len(), 45);
    assert_eq!(mails_to(&site, "depositor@example.org").await.len(), 10, "ten copy-request mails an hour");
}

#[tokio::test]
async fn registration_mails_are_limited_per_address_and_per_person() {
    let site = site().await;
    let register = form(&site, "/register").await;
    let fields = |email: &'static str| {
        [
            ("email", email),
            ("name", "Visit www.evil.example"),
            ("password", "a long enough password"),
            ("password_again", "a long enough password"),
        ]
    };
    // One address registers someone else's address again and again, and
    // then from many addresses: three mails reach its owner.
    for i in 0..20 {
        let client = if i < 10 { "203.0.113.9".to_string() } else { format!("10.7.0.{i}") };
        assert_eq!(post_from(&site, &client, "/register", &register, &fields("victim@example.org")).await, 200);
    }
    let mails = mails_to(&site, "victim@example.org").await;
    assert_eq!(mails.len(), 3, "three registration mails an hour reach one address");
    let first = mails.last().unwrap();
    assert!(first.starts_with("Hello,\n"), "the registrant's name is not presented as the recipient's: {first}");
    assert!(!first.contains("evil.example"));
    assert!(first.contains("the request came from the address 203.0.113.9 on "), "{first}");
    // An owner told of a second registration is told where it came from.
    for i in 0..3 {
        let client = format!("10.6.0.{i}");
        assert_eq!(post_from(&site, &client, "/register", &register, &fields("editor@example.org")).await, 200);
    }
    let told = mails_to(&site, "editor@example.org").await;
    assert_eq!(told.len(), 3);
    assert!(told[0].contains("which already has one") && told[0].contains("the request came from the address 10.6.0."));

    // One address registering many addresses causes ten mails an hour.
    let many = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"].map(|x| format!("{x}@example.com"));
    for email in &many {
        let fields = [
            ("email", email.as_str()),
            ("name", "Someone"),
            ("password", "a long enough password"),
            ("password_again", "a long enough password"),
        ];
        assert_eq!(post_from(&site, "192.0.2.77", "/register", &register, &fields).await, 200);
    }
    let mut mailed = 0;
    for email in &many {
        mailed += mails_to(&site, email).await.len();
    }
    assert_eq!(mailed, 10, "one address causes ten registration mails an hour");
}

/// A live record of the depositor's whose first document is staff-only.
async fn restricted_record(site: &Site) -> i64 {
    let user = site.repo.accounts.user_by_email("depositor@example.org").await.unwrap().unwrap();
    let mut r = Record::new("policy_paper", "A restricted paper");
    r.status = Status::Archive;
    r.userid = Some(user.id);
    let sha = site.repo.files.put(bytes::Bytes::from_static(b"%PDF-1.4 restricted")).await.unwrap();
    r.documents = vec![Document {
        pos: 1,
        security: DocumentSecurity::Staffonly,
        main: Some("f.pdf".into()),
        mime_type: Some("application/pdf".into()),
        files: vec![StoredFile { filename: "f.pdf".into(), size: 19, sha256: Some(sha), ..Default::default() }],
        ..Default::default()
    }];
    site.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0]
}
