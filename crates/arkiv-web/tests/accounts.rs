//! Accounts over real HTTP against a running server: logging in and out,
//! registering, and the security properties a user relies on — forms
//! without our CSRF token are refused, a session id does not survive login
//! (no fixation), failed logins are throttled, passwords never reach the
//! log, cookies are HttpOnly and SameSite.

mod common;

use arkiv_services::config::AccountSettings;
use common::{csrf_field, set_cookie, start, PASSWORD};
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
    let msg = "The e-mail address or the password is not right.";
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
async fn failed_logins_are_throttled() {
    let site = start(AccountSettings::default()).await;
    for i in 0..5 {
        let res = site.login("depositor@example.org", &format!("wrong password {i}"), "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = site.login("depositor@example.org", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(set_cookie(&res, "arkiv_session").is_none());
    assert!(res.text().await.unwrap().contains("Too many failed logins"));
    // Another account is not locked by these failures (the address limit is higher).
    let res = site.login("editor@example.org", PASSWORD, "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
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
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (id, _) = set_cookie(&res, "arkiv_session").expect("registered and logged in");
    let html = open.get("/", &format!("arkiv_session={id}")).await.text().await.unwrap();
    assert!(html.contains("Logged in as <strong>New Person</strong> (depositor)"));
    let res = open.post("/register", &cookie, &f).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "one account per address");

    let closed = start(AccountSettings { registration: false, ..Default::default() }).await;
    assert_eq!(closed.get("/register", "").await.status(), StatusCode::FORBIDDEN);
    let (cookie, token) = closed.login_form().await;
    let mut f = form("someone@example.org", PASSWORD);
    f.push(("csrf", &token));
    assert_eq!(closed.post("/register", &cookie, &f).await.status(), StatusCode::FORBIDDEN);
    assert!(closed.repo.accounts.user_by_email("someone@example.org").await.unwrap().is_none());
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
    assert!(log.contains("failed login") && log.contains("registered"), "the log was captured:\n{log}");
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

    // No SMTP here: the message waits in the outbox (and the admin page shows it).
    let outbox = site.repo.accounts.outbox(10).await.unwrap();
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
