//! What the HTTP tests of accounts and the workflow share: a running server
//! over a fresh repository with one user of every kind, and a client that
//! logs in as any of them.
#![allow(dead_code)]

use arkiv_model::{EditorScope, Record, Role, Status};
use arkiv_services::accounts::{create_user, NewAccount};
use arkiv_services::config::AccountSettings;
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use reqwest::{redirect, Client, Response, StatusCode};
use std::sync::Arc;
use std::time::Duration;

pub const PASSWORD: &str = "a correct horse battery";

/// EPrints' subjects file of the publication flavour's shape: subjects
/// (Q > QA > QA75, K) and divisions (fac_eng > sch_ecs, fac_law).
pub const EPRINTS_SUBJECTS: &str = "\
subjects:Subjects:ROOT:0
divisions:University Structure:ROOT:0
fac_eng:Faculty of Engineering:divisions:0
sch_ecs:School of Electronics and Computer Science:fac_eng:1
fac_law:Faculty of Law:divisions:1
Q:Q Science:subjects:0
QA:QA Mathematics:Q:1
QA75:Electronic computers. Computer science:QA:1
K:K Law:subjects:1
";

pub struct Site {
    pub base: String,
    pub client: Client,
    pub repo: Arc<Repository>,
    pub live: i64,
    _dir: tempfile::TempDir,
}

pub async fn start(accounts: AccountSettings) -> Site {
    start_with(Config { accounts, ..Config::default() }).await
}

/// A running server over a fresh repository with this configuration.
pub async fn start_with(config: Config) -> Site {
    start_on_clock(config, Arc::new(arkiv_services::clock::SystemClock)).await
}

/// The same on a clock the test sets (`arkiv_services::clock::SetClock`):
/// for what waits on time, without the test waiting.
pub async fn start_on_clock(config: Config, clock: Arc<dyn arkiv_services::clock::Clock>) -> Site {
    start_listening(config, clock, None).await
}

/// A running server whose configured base URL is its own address: for
/// clients that follow the absolute addresses it gives (SWORD's IRIs).
pub async fn start_at_own_address(mut config: Config) -> Site {
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    config.repository.base_url = format!("http://{}", listener.local_addr().unwrap());
    start_listening(config, Arc::new(arkiv_services::clock::SystemClock), Some(listener)).await
}

async fn start_listening(
    config: Config,
    clock: Arc<dyn arkiv_services::clock::Clock>,
    listener: Option<tokio::net::TcpListener>,
) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), config).await.unwrap().with_clock(clock);
    let scoped = |t: &str| EditorScope { types: vec![t.to_string()], ..Default::default() };
    for (email, name, role, scope) in [
        ("depositor@example.org", "The depositor", Role::Depositor, EditorScope::default()),
        ("editor@example.org", "The editor", Role::Editor, EditorScope::default()),
        ("other@example.org", "Another depositor", Role::Depositor, EditorScope::default()),
        ("papers@example.org", "The policy papers editor", Role::Editor, scoped("policy_paper")),
        ("theses@example.org", "The theses editor", Role::Editor, scoped("thesis")),
        ("admin@example.org", "The admin", Role::Admin, EditorScope::default()),
    ] {
        let new =
            NewAccount { email: email.into(), name: name.into(), password: PASSWORD.into(), role, scope, orcid: None };
        create_user(repo.accounts.as_ref(), new).await.unwrap();
    }
    let mut r = Record::new("policy_paper", "A live paper");
    r.status = Status::Archive;
    let live = repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
    let (base, client, repo) = serve_on(repo, listener).await;
    Site { base, client, repo, live, _dir: dir }
}

/// Serves a repository a test made itself (in `dir`), with the same
/// accounts as [`start`], as a `Site`.
pub async fn serve_site(repo: Repository, dir: tempfile::TempDir) -> Site {
    for (email, role) in [("depositor@example.org", Role::Depositor), ("admin@example.org", Role::Admin)] {
        let new = NewAccount {
            email: email.into(),
            name: email.into(),
            password: PASSWORD.into(),
            role,
            scope: EditorScope::default(),
            orcid: None,
        };
        create_user(repo.accounts.as_ref(), new).await.unwrap();
    }
    let (base, client, repo) = serve_on(repo, None).await;
    Site { base, client, repo, live: 0, _dir: dir }
}

/// Serves `repo` on a free local port: its base URL, a client that does
/// not follow redirects, and the repository.
pub async fn serve(repo: Repository) -> (String, Client, Arc<Repository>) {
    serve_on(repo, None).await
}

async fn serve_on(repo: Repository, listener: Option<tokio::net::TcpListener>) -> (String, Client, Arc<Repository>) {
    let repo = Arc::new(repo);
    let listener = match listener {
        Some(l) => l,
        None => arkiv_web::bind("127.0.0.1:0").await.unwrap(),
    };
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(arkiv_web::serve(listener, repo.clone(), Default::default(), std::future::pending()));
    let client = Client::builder().redirect(redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    (base, client, repo)
}

/// A public document of one PDF file of `size` bytes stored as `sha`.
pub fn pdf_document(pos: u32, name: &str, sha: &str, size: usize) -> arkiv_model::Document {
    let file = arkiv_model::StoredFile {
        filename: name.into(),
        mime_type: Some("application/pdf".into()),
        size: size as u64,
        sha256: Some(sha.into()),
        ..Default::default()
    };
    arkiv_model::Document { pos, main: Some(name.into()), files: vec![file], ..Default::default() }
}

/// The value of cookie `name` set by a response, with its attributes.
pub fn set_cookie(res: &Response, name: &str) -> Option<(String, String)> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
        let (k, value) = pair.split_once('=')?;
        (k.trim() == name).then(|| (value.to_string(), attrs.to_string()))
    })
}

/// The hidden CSRF field of the first form on a page (masked afresh for
/// each response, so read to its closing quote).
pub fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

impl Site {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, cookies: &str) -> Response {
        self.client.get(self.url(path)).header("cookie", cookies).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, cookies: &str, form: &[(&str, &str)]) -> Response {
        self.client.post(self.url(path)).header("cookie", cookies).form(form).send().await.unwrap()
    }

    /// The login form's pre-session cookie and token.
    pub async fn login_form(&self) -> (String, String) {
        self.login_form_with("").await
    }

    /// The login form as a browser holding `cookies` gets it.
    pub async fn login_form_with(&self, cookies: &str) -> (String, String) {
        let res = self.get("/login", cookies).await;
        assert_eq!(res.status(), StatusCode::OK, "GET /login");
        let cookie = match set_cookie(&res, "arkiv_csrf") {
            Some((cookie, attrs)) => {
                assert!(attrs.contains("HttpOnly") && attrs.contains("SameSite=Lax"), "{attrs}");
                format!("arkiv_csrf={cookie}")
            }
            None => {
                assert!(!cookies.is_empty(), "an anonymous visitor gets a CSRF cookie");
                String::new()
            }
        };
        let token = csrf_field(&res.text().await.unwrap());
        (cookie, token)
    }

    /// Logs in, sending `extra_cookies` along; the new session id.
    pub async fn login(&self, email: &str, password: &str, extra_cookies: &str) -> Response {
        let (cookie, token) = self.login_form_with(extra_cookies).await;
        let cookies = format!("{cookie}; {extra_cookies}");
        self.post(
            "/login",
            &cookies,
            &[("csrf", &token), ("email", email), ("password", password), ("target", "/view/")],
        )
        .await
    }

    pub async fn session(&self, email: &str) -> String {
        let res = self.login(email, PASSWORD, "").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login of {email}");
        let (id, _) = set_cookie(&res, "arkiv_session").expect("a session cookie");
        format!("arkiv_session={id}")
    }
}
