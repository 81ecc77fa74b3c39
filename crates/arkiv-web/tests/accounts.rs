//! Accounts over real HTTP against a running server: logging in and out,
//! registering, and the security properties a user relies on — forms
//! without our CSRF token are refused, a session id does not survive login
//! (no fixation), failed logins are slowed without locking the owner out, passwords never reach the
//! log, cookies are HttpOnly and SameSite.

mod common;

use arkiv_model::{Document, DocumentSecurity, Record, Status, StoredFile, Timestamp};
use arkiv_services::clock::SetClock;
use arkiv_services::config::{AccountSettings, ServerSettings};
use arkiv_services::Config;
use arkiv_storage::RecordWrite;
use common::{csrf_field, set_cookie, start, start_on_clock, start_with, Site, PASSWORD};
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn log_in_see_who_you_are_and_log_out() {
    let site = start(AccountSettings::default()).await;
    let res = site.login("Depositor@Example.ORG", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/view/", "back to where the visitor was");
    let (id, attrs) = set_cookie(&res, "arkiv_session").unwrap();
    assert_eq!(id.len(), 64);
    for a in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attrs.contains(a), "session cookie lacks {a}: {attrs}");
    }
    assert!(!attrs.contains("Secure"), "plain http test site: no Secure flag");
    let cookie = format!("arkiv_session={id}");

    let home = site.get("/", &cookie).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.headers()["cache-control"].to_str().unwrap().contains("private"),
        "a personal page is not shared by caches"
    );
    let html = home.text().await.unwrap();
    assert!(html.contains("Logged in as <strong>The depositor</strong>"), "the header shows who is logged in");
    let token = csrf_field(&html);

    let page = site.get(&format!("/{}/", site.live), &cookie).await.text().await.unwrap();
    assert!(page.contains("Logged in as The depositor."), "the Actions box knows the visitor");
    assert!(!page.contains("Withdraw this item"), "a depositor may not withdraw");
    let editor = site.session("editor@example.org").await;
    let page = site.get(&format!("/{}/", site.live), &editor).await.text().await.unwrap();
    assert!(page.contains("Withdraw this item"), "an editor may withdraw a live record");

    let res = site.post("/logout", &cookie, &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&res, "arkiv_session").unwrap().1.contains("Max-Age=0"), "logging out expires the cookie");
    let html = site.get("/", &cookie).await.text().await.unwrap();
    assert!(!html.contains("Logged in as"), "the old cookie no longer logs anyone in");
    assert!(html.contains("href=\"/login\""));

    // Anonymous visitors: the "Log in" link works, and the Actions box asks them to log in.
    let page = site.get(&format!("/{}/", site.live), "").await.text().await.unwrap();
    assert!(page.contains("Actions (login required)"));
}

#[tokio::test]
async fn a_wrong_password_says_so_without_telling_which_part_was_wrong() {
    let site = start(AccountSettings::default()).await;
    let wrong = site.login("depositor@example.org", "not the password", "").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong, "arkiv_session").is_none());
    let a = wrong.text().await.unwrap();
    let unknown = site.login("nobody@example.org", PASSWORD, "").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let b = unknown.text().await.unwrap();
    let msg = "The e-mail address (or username) or the password is not right.";
    assert!(a.contains(msg) && b.contains(msg));
}

#[tokio::test]
async fn forms_without_our_csrf_token_are_refused() {
    let site = start(AccountSettings::default()).await;
    let (cookie, token) = site.login_form().await;
    let login = [("email", "depositor@example.org"), ("password", PASSWORD)];
    // No token, a wrong token, a token without its cookie (another site's form).
    let no_token = site.post("/login", &cookie, &login).await;
    let wrong = site.post("/login", &cookie, &[login[0], login[1], ("csrf", &"0".repeat(64))]).await;
    let no_cookie = site.post("/login", "", &[login[0], login[1], ("csrf", &token)]).await;
    for (what, res) in [("no token", no_token), ("a wrong token", wrong), ("no cookie", no_cookie)] {
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "login with {what}");
        assert!(set_cookie(&res, "arkiv_session").is_none(), "login with {what} logged in");
        assert!(res.text().await.unwrap().contains("did not come from this site"));
    }

    // Logged in: logout needs the session's token, not the pre-login one.
    let session = site.session("depositor@example.org").await;
    let res = site.post("/logout", &format!("{session}; {cookie}"), &[("csrf", &token)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = site.get("/", &session).await.text().await.unwrap();
    assert!(html.contains("Logged in as"), "the refused logout ended nothing");

    let res = site
        .post(
            "/register",
            &cookie,
            &[("email", "x@example.org"), ("name", "X"), ("password", PASSWORD), ("password_again", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(site.repo.accounts.user_by_email("x@example.org").await.unwrap().is_none());
}

/// BREACH: a compressed page that reflects input beside the CSRF token
/// lets an attacker who sees only sizes guess the token. So the token a page
/// carries is masked afresh for every response: two answers of the same
/// page, with the same input reflected, never carry the same string, and
/// each of them is accepted; a token of another session is still refused.
#[tokio::test]
async fn the_csrf_token_is_masked_afresh_in_every_page() {
    let site = start(AccountSettings::default()).await;
    let session = site.session("depositor@example.org").await;
    let page = || async {
        let res = site
            .client
            .get(site.url("/search?q=reflected"))
            .header("cookie", &session)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = String::from_utf8(decompress(res).await).unwrap();
        assert!(html.contains("reflected"));
        csrf_field(&html)
    };
    let (a, b) = (page().await, page().await);
    assert_ne!(a, b, "two answers of one page carry the same CSRF string");
    let csrf = |html: &str| csrf_field(html);
    let profile = site.get("/profile", &session).await.text().await.unwrap();
    let c = csrf(&profile);
    assert!(c != a && c != b);
    for token in [&a, &b, &c] {
        let res = site.post("/profile", &session, &[("csrf", token), ("name", "Renamed"), ("orcid", "")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "a masked token is accepted");
    }
    let other = site.session("editor@example.org").await;
    let theirs = csrf(&site.get("/profile", &other).await.text().await.unwrap());
    let res = site.post("/profile", &session, &[("csrf", &theirs), ("name", "Taken"), ("orcid", "")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "another session's token");

    // Before login too: the login form's token, for one cookie.
    let (cookie, first) = site.login_form().await;
    let (_, second) = site.login_form_with(&cookie).await;
    assert_ne!(first, second);
    for token in [first, second] {
        let form = [("csrf", token.as_str()), ("email", "depositor@example.org"), ("password", PASSWORD)];
        assert_eq!(site.post("/login", &cookie, &form).await.status(), StatusCode::SEE_OTHER);
    }
}

/// The body of a response, gunzipped if it came compressed.
async fn decompress(res: reqwest::Response) -> Vec<u8> {
    let gzip = res.headers().get("content-encoding").is_some_and(|v| v == "gzip");
    let bytes = res.bytes().await.unwrap().to_vec();
    if !gzip {
        return bytes;
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out).unwrap();
    out
}

#[tokio::test]
async fn a_session_id_does_not_survive_login() {
    let site = start(AccountSettings::default()).await;
    // An attacker's own session id, planted in the victim's browser.
    let planted = site.session("editor@example.org").await;
    let res = site.login("depositor@example.org", PASSWORD, &planted).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (fresh, _) = set_cookie(&res, "arkiv_session").unwrap();
    assert_ne!(format!("arkiv_session={fresh}"), planted, "login issues a new id");
    let html = site.get("/", &planted).await.text().await.unwrap();
    assert!(!html.contains("Logged in as"), "the id the browser came with is dead after login");
    let html = site.get("/", &format!("arkiv_session={fresh}")).await.text().await.unwrap();
    assert!(html.contains("Logged in as <strong>The depositor</strong>"));

    // A made-up id logs nobody in.
    let html = site.get("/", &format!("arkiv_session={}", "ab".repeat(32))).await.text().await.unwrap();
    assert!(!html.contains("Logged in as"));
}

#[tokio::test]
async fn failed_logins_are_slowed_by_growing_waits() {
    // The repository's clock stands still unless the test moves it, so the
    // wait said does not depend on how fast a loaded machine answers.
    let clock = Arc::new(SetClock::new(Timestamp::parse("2026-12-01T10:00:00Z").unwrap()));
    let site = start_on_clock(Config::default(), clock.clone()).await;
    for i in 0..3 {
        let res = site.login("depositor@example.org", &format!("wrong password {i}"), "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = site.login("depositor@example.org", PASSWORD, "").await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "right after three failures, even the right password waits"
    );
    assert_eq!(res.headers()["retry-after"], "2", "the wait is short at first, and said");
    assert!(set_cookie(&res, "arkiv_session").is_none());
    assert!(res.text().await.unwrap().contains("Please wait 2 seconds"));
    // Another account from the same address is not slowed by these failures.
    let res = site.login("editor@example.org", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A second later it still waits; once the wait is over, the right
    // password gets in.
    clock.advance(1);
    let res = site.login("depositor@example.org", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");
    clock.advance(1);
    let res = site.login("depositor@example.org", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the owner got in after the wait");
}

/// A login posted through a reverse proxy that reports `client` as the
/// visitor's address.
async fn login_via_proxy(site: &Site, client: &str, email: &str, password: &str) -> reqwest::Response {
    let (cookie, token) = site.login_form().await;
    site.client
        .post(site.url("/login"))
        .header("cookie", cookie)
        .header("x-forwarded-for", client)
        .form(&[("csrf", token.as_str()), ("email", email), ("password", password), ("target", "/")])
        .send()
        .await
        .unwrap()
}

fn behind_a_proxy(trusted: &[&str]) -> Config {
    let trusted_proxies = trusted.iter().map(|t| t.parse().unwrap()).collect();
    Config { server: ServerSettings { trusted_proxies, ..Default::default() }, ..Config::default() }
}

/// Lockout as a weapon: a stranger's wrong guesses at an editor's account
/// do not keep the editor out, from the editor's own address; a thousand
/// guesses in parallel are not all checked; and a stranger's failures do
/// not keep out the other visitors behind the same reverse proxy.
#[tokio::test]
async fn a_strangers_failures_do_not_lock_the_owner_out() {
    let site = start_with(behind_a_proxy(&["127.0.0.1"])).await;
    let stranger = "203.0.113.9";
    let guesses = (0..40).map(|i| {
        let site = &site;
        async move { login_via_proxy(site, stranger, "editor@example.org", &format!("guess number {i}")).await.status() }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (3, 37), "of 40 parallel guesses, three passwords were checked");

    let res = login_via_proxy(&site, "198.51.100.7", "editor@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the editor, from their own address, gets in at once");
    let res = login_via_proxy(&site, stranger, "editor@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the stranger's address still waits, right or wrong");

    // The same stranger fails at many accounts: other visitors behind the
    // proxy are not held back.
    for i in 0..60 {
        login_via_proxy(&site, stranger, &format!("nobody{i}@example.org"), "a wrong password").await;
    }
    let res = login_via_proxy(&site, stranger, "depositor@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "an address failing at every account waits everywhere");
    let res = login_via_proxy(&site, "198.51.100.8", "depositor@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a visitor behind the same proxy is not");
}

/// Without the proxy listed, the header is the client's own words: a
/// guesser who writes a new address into each request is counted at the
/// address they connect from.
#[tokio::test]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    let site = start_with(behind_a_proxy(&["10.0.0.0/8"])).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let res = login_via_proxy(&site, &format!("198.51.100.{i}"), "editor@example.org", "a wrong guess").await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429], "all five guesses came from 127.0.0.1");
}

#[tokio::test]
async fn registration_follows_the_settings() {
    let open = start(AccountSettings { allowed_domains: vec!["example.ac.uk".into()], ..Default::default() }).await;
    let (cookie, token) = open.login_form().await;
    let form = |email: &'static str, again: &'static str| {
        vec![("email", email), ("name", "New Person"), ("password", PASSWORD), ("password_again", again), ("orcid", "")]
    };
    let mut f = form("someone@elsewhere.org", PASSWORD);
    f.push(("csrf", &token));
    let res = open.post("/register", &cookie, &f).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("example.ac.uk"));
    let mut f = form("someone@dept.example.ac.uk", "different password");
    f.push(("csrf", &token));
    let res = open.post("/register", &cookie, &f).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("The two passwords differ"));
    let mut f = form("someone@dept.example.ac.uk", PASSWORD);
    f.push(("csrf", &token));
    let res = open.post("/register", &cookie, &f).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookie(&res, "arkiv_session").is_none(), "no session before the address is confirmed");
    let first = res.text().await.unwrap();
    assert!(first.contains("We have sent a message to <strong>someone@dept.example.ac.uk</strong>"), "{first}");
    // Registering the address again answers the same page: the form does
    // not tell which addresses have accounts. The owner is told by mail.
    let res = open.post("/register", &cookie, &f).await;
    assert_eq!(res.status(), StatusCode::OK, "one account per address, but the same answer");
    assert_eq!(res.text().await.unwrap(), first);
    let mails = open.repo.accounts.outbox(10).await.unwrap();
    assert_eq!(mails.len(), 2);
    assert!(mails[0].body.contains("which already has one"), "{}", mails[0].body);
    assert!(mails[1].body.contains("/register/confirm?token="), "{}", mails[1].body);

    let closed = start(AccountSettings { registration: false, ..Default::default() }).await;
    assert_eq!(closed.get("/register", "").await.status(), StatusCode::FORBIDDEN);
    let (cookie, token) = closed.login_form().await;
    let mut f = form("someone@example.org", PASSWORD);
    f.push(("csrf", &token));
    assert_eq!(closed.post("/register", &cookie, &f).await.status(), StatusCode::FORBIDDEN);
    assert!(closed.repo.accounts.user_by_email("someone@example.org").await.unwrap().is_none());
}

/// Registers an account through the form; what the page said.
async fn register(site: &Site, email: &str) -> String {
    let (cookie, token) = site.login_form().await;
    let form = [
        ("csrf", token.as_str()),
        ("email", email),
        ("name", "A stranger"),
        ("password", PASSWORD),
        ("password_again", PASSWORD),
    ];
    let res = site.post("/register", &cookie, &form).await;
    assert!(set_cookie(&res, "arkiv_session").is_none(), "registering logs nobody in");
    res.text().await.unwrap()
}

/// A live record with one document for registered users only; its URL.
async fn members_only_document(site: &Site) -> String {
    let sha = site.repo.files.put(bytes::Bytes::from_static(b"%PDF-1.4 members only")).await.unwrap();
    let mut r = Record::new("policy_paper", "A paper for members");
    r.status = Status::Archive;
    r.documents = vec![Document {
        pos: 1,
        security: DocumentSecurity::Validuser,
        main: Some("f.pdf".into()),
        mime_type: Some("application/pdf".into()),
        files: vec![StoredFile { filename: "f.pdf".into(), size: 21, sha256: Some(sha), ..Default::default() }],
        ..Default::default()
    }];
    let id = site.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
    format!("/{id}/1/f.pdf")
}

/// The confirmation link of the newest mail to `to`, as a path.
async fn confirmation_link(site: &Site, to: &str) -> String {
    let mails = site.repo.accounts.outbox(50).await.unwrap();
    let mail = mails.iter().find(|m| m.to == to).unwrap_or_else(|| panic!("no mail to {to}"));
    let at = mail.body.find("/register/confirm?token=").expect("a confirmation link");
    mail.body[at..].split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn a_registered_account_gets_nothing_until_its_address_is_confirmed() {
    // Registration restricted to a domain: owning an address there is what
    // the restriction means, so an unconfirmed one must count for nothing.
    let site =
        start(AccountSettings { allowed_domains: vec!["university.example".into()], ..Default::default() }).await;
    let pdf = members_only_document(&site).await;
    assert_eq!(site.get(&pdf, "").await.status(), StatusCode::FORBIDDEN, "anonymous visitors may not read it");

    let page = register(&site, "rector@university.example").await;
    assert!(page.contains("Open the link in it"), "{page}");
    // The right password does not log in an unconfirmed account; it sends
    // the link again (at most every few minutes).
    let res = site.login("rector@university.example", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&res, "arkiv_session").is_none(), "no session for an unconfirmed account");
    assert!(res.text().await.unwrap().contains("not confirmed yet"));
    let user = site.repo.accounts.user_by_email("rector@university.example").await.unwrap().unwrap();
    assert!(!user.verified);

    // The link alone does not confirm: whoever opens it must know the password.
    let link = confirmation_link(&site, "rector@university.example").await;
    let res = site.get(&link, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = format!("arkiv_csrf={}", set_cookie(&res, "arkiv_csrf").unwrap().0);
    let html = res.text().await.unwrap();
    let (token, csrf) = (link.rsplit('=').next().unwrap().to_string(), csrf_field(&html));
    let confirm =
        |password: &'static str| [("csrf", csrf.clone()), ("token", token.clone()), ("password", password.to_string())];
    let form = confirm("a guess at the password");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = site.post("/register/confirm", &cookie, &pairs).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!site.repo.accounts.user(user.id).await.unwrap().unwrap().verified, "a wrong password confirms nothing");

    let form = confirm(PASSWORD);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = site.post("/register/confirm", &cookie, &pairs).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (id, _) = set_cookie(&res, "arkiv_session").expect("confirmed and logged in");
    let session = format!("arkiv_session={id}");
    assert_eq!(site.get(&pdf, &session).await.status(), StatusCode::OK, "a confirmed account reads it");
    // The link worked once.
    let res = site.post("/register/confirm", &cookie, &pairs).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_address_that_cannot_receive_mail_gets_nothing_unless_an_admin_confirms_it() {
    let site = start(AccountSettings::default()).await;
    let pdf = members_only_document(&site).await;
    register(&site, "nobody@not-a-real-domain.invalid").await;
    let res = site.login("nobody@not-a-real-domain.invalid", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&res, "arkiv_session").is_none());
    // Nor does a session made behind the form's back carry any right: the
    // one rule treats an unconfirmed user as anonymous.
    let user = site.repo.accounts.user_by_email("nobody@not-a-real-domain.invalid").await.unwrap().unwrap();
    let session =
        arkiv_services::accounts::open_session(site.repo.accounts.as_ref(), &Default::default(), &user).await.unwrap();
    let forged = format!("arkiv_session={}", session.id);
    assert_eq!(site.get(&pdf, &forged).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(site.get("/workarea", &forged).await.status(), StatusCode::SEE_OTHER, "not logged in at all");

    // The admin sees the account as unconfirmed and confirms it by hand.
    let admin = site.session("admin@example.org").await;
    let html = site.get("/admin", &admin).await.text().await.unwrap();
    assert!(html.contains("address not confirmed"), "the admin page says which accounts are unconfirmed");
    let token = csrf_field(&html);
    let path = format!("/admin/users/{}", user.id);
    let res = site.post(&path, &admin, &[("csrf", &token), ("role", "depositor"), ("confirm", "1")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = site.session("nobody@not-a-real-domain.invalid").await;
    assert_eq!(site.get(&pdf, &session).await.status(), StatusCode::OK);
}

/// `/password/forgot` answers a known address as it answers an unknown
/// one: at once, with the same page, whatever the lookup, the token and
/// the mail cost afterwards. The test holds the database's write lock (as
/// a long import would) while it asks: had the site done any of that work
/// before answering, the known address's answer would wait for the lock
/// and give the address away.
#[tokio::test]
async fn a_password_reset_answers_alike_for_known_and_unknown_addresses() {
    use sqlx::Connection;
    let site = start(AccountSettings::default()).await;
    let res = site.get("/password/forgot", "").await;
    let (cookie, _) = set_cookie(&res, "arkiv_csrf").unwrap();
    let cookie = format!("arkiv_csrf={cookie}");
    let token = csrf_field(&res.text().await.unwrap());
    let url = site.repo.config.database_url(&site.repo.dir);
    let mut lock = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut lock).await.unwrap();
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().unwrap();
    let mut pages = Vec::new();
    for email in ["editor@example.org", "nobody@example.org"] {
        let res = client
            .post(site.url("/password/forgot"))
            .header("cookie", &cookie)
            .form(&[("csrf", token.as_str()), ("email", email)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{email} got no answer while the database was busy: {e}"));
        assert_eq!(res.status(), StatusCode::OK, "{email}");
        pages.push(res.text().await.unwrap());
    }
    assert_eq!(pages[0], pages[1], "the same page for a known and an unknown address");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    // The work was done after answering: the owner gets the link.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !site.repo.accounts.outbox(10).await.unwrap().iter().any(|m| m.to == "editor@example.org") {
        assert!(std::time::Instant::now() < deadline, "the reset link reaches the outbox");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn login_targets_stay_on_this_site() {
    let site = start(AccountSettings::default()).await;
    for target in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
        let (cookie, token) = site.login_form().await;
        let res = site
            .post(
                "/login",
                &cookie,
                &[("csrf", &token), ("email", "depositor@example.org"), ("password", PASSWORD), ("target", target)],
            )
            .await;
        assert_eq!(res.headers()["location"], "/", "target {target}");
    }
}

/// A writer the test reads back: everything the server logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn passwords_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The process-wide subscriber, not a thread's: tracing caches per call
    // site whether anyone listens, and a call site first reached by another
    // test's thread (with no subscriber of its own) would stay silent here.
    // Other tests' events land in the capture too: none may hold a password.
    tracing::subscriber::set_global_default(subscriber).expect("only this test sets the global subscriber");
    let site = start(AccountSettings::default()).await;
    let wrong = "Wrong-Secret-Typed-Into-The-Form";
    site.login("depositor@example.org", wrong, "").await;
    site.login("depositor@example.org", PASSWORD, "").await;
    let (cookie, token) = site.login_form().await;
    let new_password = "Brand-New-Registration-Secret";
    site.post(
        "/register",
        &cookie,
        &[
            ("csrf", &token),
            ("email", "n@example.org"),
            ("name", "N"),
            ("password", new_password),
            ("password_again", new_password),
        ],
    )
    .await;
    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    assert!(
        log.contains("failed login") && log.contains("registered, address not confirmed"),
        "the log was captured:\n{log}"
    );
    for secret in [wrong, PASSWORD, new_password, "argon2id"] {
        assert!(!log.contains(secret), "{secret:?} reached the log:\n{log}");
    }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_one_time_link() {
    let site = start(AccountSettings::default()).await;
    let old_session = site.session("depositor@example.org").await;
    let res = site.get("/password/forgot", "").await;
    let (cookie, _) = set_cookie(&res, "arkiv_csrf").unwrap();
    let cookie = format!("arkiv_csrf={cookie}");
    let token = csrf_field(&res.text().await.unwrap());
    let mut answers = Vec::new();
    for email in ["Depositor@example.org", "nobody@example.org"] {
        let res = site.post("/password/forgot", &cookie, &[("csrf", &token), ("email", email)]).await;
        assert_eq!(res.status(), StatusCode::OK);
        answers.push(res.text().await.unwrap());
    }
    assert!(answers[0].contains("is on its way"));
    assert_eq!(answers[0], answers[1], "the answer does not tell which addresses have accounts");

    // No SMTP here: the message waits in the outbox (and the admin page
    // shows it). It is prepared after the answer, in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let outbox = loop {
        let outbox = site.repo.accounts.outbox(10).await.unwrap();
        if !outbox.is_empty() || std::time::Instant::now() > deadline {
            break outbox;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(outbox.len(), 1, "only the real account gets a message");
    assert_eq!(outbox[0].to, "depositor@example.org");
    let link = outbox[0].body.lines().find(|l| l.contains("/password/reset?token=")).unwrap().trim().to_string();
    let reset_token = link.rsplit('=').next().unwrap().to_string();
    let admin = site.session("admin@example.org").await;
    assert!(site.get("/admin", &admin).await.text().await.unwrap().contains("Resetting your password"));

    let form = site.get(&format!("/password/reset?token={reset_token}"), &cookie).await;
    assert_eq!(form.headers()["referrer-policy"], "no-referrer", "the token does not leak through Referer");
    assert!(form.text().await.unwrap().contains("name=\"token\""));
    let new_password = "a brand new passphrase";
    let res = site
        .post(
            "/password/reset",
            &cookie,
            &[("csrf", &token), ("token", &reset_token), ("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Your password has been changed"));
    assert!(
        !site.get("/", &old_session).await.text().await.unwrap().contains("Logged in as"),
        "every old session ended"
    );
    assert_eq!(site.login("depositor@example.org", PASSWORD, "").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(site.login("depositor@example.org", new_password, "").await.status(), StatusCode::SEE_OTHER);
    let again = site
        .post(
            "/password/reset",
            &cookie,
            &[
                ("csrf", &token),
                ("token", &reset_token),
                ("password", "yet another passphrase"),
                ("password_again", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "the link works once");
}

#[tokio::test]
async fn the_profile_keeps_name_and_orcid_and_changes_the_password() {
    let site = start(AccountSettings::default()).await;
    let session = site.session("depositor@example.org").await;
    let other_browser = site.session("depositor@example.org").await;
    let html = site.get("/profile", &session).await.text().await.unwrap();
    let token = csrf_field(&html);
    let bad = site
        .post("/profile", &session, &[("csrf", &token), ("name", "Anna Nowak"), ("orcid", "0000-0002-1825-0098")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY, "a wrong check digit is refused");
    let res = site
        .post(
            "/profile",
            &session,
            &[("csrf", &token), ("name", "Anna Nowak"), ("orcid", "https://orcid.org/0000-0002-1825-0097")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let user = site.repo.accounts.user_by_email("depositor@example.org").await.unwrap().unwrap();
    assert_eq!((user.name.as_str(), user.orcid.as_deref()), ("Anna Nowak", Some("0000-0002-1825-0097")));

    let wrong = site
        .post(
            "/profile/password",
            &session,
            &[
                ("csrf", &token),
                ("current", "not it"),
                ("password", "a new passphrase!"),
                ("password_again", "a new passphrase!"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = site
        .post(
            "/profile/password",
            &session,
            &[
                ("csrf", &token),
                ("current", PASSWORD),
                ("password", "a new passphrase!"),
                ("password_again", "a new passphrase!"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (fresh, _) = set_cookie(&res, "arkiv_session").expect("this browser stays logged in with a new session");
    assert!(site
        .get("/", &format!("arkiv_session={fresh}"))
        .await
        .text()
        .await
        .unwrap()
        .contains("Logged in as <strong>Anna Nowak</strong>"));
    assert!(!site.get("/", &other_browser).await.text().await.unwrap().contains("Logged in as"), "other sessions end");
    assert_eq!(site.login("depositor@example.org", "a new passphrase!", "").await.status(), StatusCode::SEE_OTHER);
}
