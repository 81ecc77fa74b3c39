//! Mail by SMTP, through real HTTP: a password reset goes out to a real
//! SMTP server (aiosmtpd, from the tools venv `scripts/tools.sh` makes),
//! arrives at the right address with a link that resets the password, and
//! is marked sent in the outbox; with a server that does not answer, the
//! reset page answers as always, at once, and the message waits unsent.

mod common;

use arkiv_model::Timestamp;
use arkiv_services::config::MailSettings;
use arkiv_services::mail::{retry_unsent, Retried, SEND_TIMEOUT};
use arkiv_services::Config;
use common::{csrf_field, set_cookie, start_with, Site};
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// aiosmtpd listening on 127.0.0.1, keeping what it receives in a Maildir;
/// stopped when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    python: PathBuf,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    /// Started, or `None` (after `skip`) if the venv lacks aiosmtpd.
    async fn start() -> Option<SmtpServer> {
        let python = arkiv_testkit::checkers::python()?;
        let probe = Command::new(&python).args(["-c", "import aiosmtpd"]).output().expect("python runs");
        if !probe.status.success() {
            arkiv_testkit::skip("aiosmtpd in the Python venv (run scripts/tools.sh)");
            return None;
        }
        let maildir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail")) // Python makes a Maildir only where nothing is
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("aiosmtpd ended before listening: {status}");
            }
            assert!(Instant::now() < deadline, "aiosmtpd does not listen on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(SmtpServer { child, port, python, maildir })
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, each read by Python's `email` package:
    /// (To, From, Subject, the decoded text).
    fn messages(&self) -> Vec<[String; 4]> {
        let new = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(&new) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        files.iter().map(|f| read_message(&self.python, f)).collect()
    }

    /// Waits (a bounded while) for `n` messages.
    async fn wait_for(&self, n: usize) -> Vec<[String; 4]> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(python: &Path, file: &Path) -> [String; 4] {
    let script = r#"
import email, email.policy, json, sys
with open(sys.argv[1], "rb") as f:
    m = email.message_from_binary_file(f, policy=email.policy.default)
print(json.dumps([str(m["To"]), str(m["From"]), str(m["Subject"]), m.get_content()]))
"#;
    let out = arkiv_testkit::checkers::run_python(python, script, &[file.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("four strings")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn site_mailing_to(smtp_url: &str) -> Site {
    start_with(Config { mail: MailSettings { smtp_url: smtp_url.into(), from: String::new() }, ..Config::default() })
        .await
}

/// Asks for a reset of each address through the form; the answers, and the
/// cookie and token the form came with.
async fn ask_resets(site: &Site, emails: &[&str]) -> (Vec<String>, String, String) {
    let res = site.get("/password/forgot", "").await;
    let (cookie, _) = set_cookie(&res, "arkiv_csrf").unwrap();
    let cookie = format!("arkiv_csrf={cookie}");
    let token = csrf_field(&res.text().await.unwrap());
    let mut answers = Vec::new();
    for email in emails {
        let res = site.post("/password/forgot", &cookie, &[("csrf", &token), ("email", email)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{email}");
        answers.push(res.text().await.unwrap());
    }
    (answers, cookie, token)
}

/// Waits (a bounded while) until every message of the outbox is sent.
async fn wait_until_sent(site: &Site) -> Vec<arkiv_storage::OutboxMessage> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let outbox = site.repo.accounts.outbox(10).await.unwrap();
        if outbox.iter().all(|m| m.sent.is_some()) || Instant::now() > deadline {
            return outbox;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_goes_out_by_smtp_and_its_link_resets_the_password() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let site = site_mailing_to(&smtp.url()).await;
    let (answers, cookie, token) = ask_resets(&site, &["Depositor@example.org", "nobody@example.org"]).await;
    assert!(answers[0].contains("is on its way"));
    assert_eq!(answers[0], answers[1], "the answer does not tell which addresses have accounts");

    let received = smtp.wait_for(1).await;
    assert_eq!(received.len(), 1, "only the real account gets a message");
    let [to, from, subject, body] = &received[0];
    assert_eq!(to, "depositor@example.org");
    assert_eq!(from, "Arkiv <repository@example.org>", "the repository's name and contact address by default");
    assert_eq!(subject, "Resetting your password at Arkiv");
    let outbox = wait_until_sent(&site).await;
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].sent.is_some(), "the outbox notes that the message went out");
    // (Save the line end the SMTP transfer adds after the last line.)
    assert_eq!(outbox[0].body.trim_end(), body.trim_end(), "the mail is the outbox's message");
    let admin = site.session("admin@example.org").await;
    assert!(
        site.get("/admin", &admin).await.text().await.unwrap().contains("(sent "),
        "the admin page says it went out"
    );

    // The link, as the user clicks it (the configured base URL is not this
    // test server's: its path and query are what count).
    let link = body.lines().map(str::trim).find(|l| l.contains("/password/reset?token=")).expect("a reset link");
    let path = link.strip_prefix(Config::default().repository.base_url.as_str()).expect("the link is on the site");
    let form = site.get(path, &cookie).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("name=\"token\""));
    let reset_token = path.rsplit('=').next().unwrap();
    let new_password = "a passphrase sent by mail";
    let res = site
        .post(
            "/password/reset",
            &cookie,
            &[("csrf", &token), ("token", reset_token), ("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert!(res.text().await.unwrap().contains("Your password has been changed"));
    assert_eq!(site.login("depositor@example.org", new_password, "").await.status(), StatusCode::SEE_OTHER);

    // A message that did not go out when it was made goes out on the retry.
    let now = Timestamp::now();
    let waiting = site
        .repo
        .accounts
        .add_to_outbox("reader@example.org", "Waiting", "Sent late.\n", Timestamp(now.0 - 600))
        .await
        .unwrap();
    assert_eq!(retry_unsent(&site.repo).await, Retried { sent: 1, failed: 0 });
    let received = smtp.wait_for(2).await;
    assert!(
        received.iter().any(|[to, _, subject, _]| to == "reader@example.org" && subject == "Waiting"),
        "{received:?}"
    );
    assert!(site.repo.accounts.unsent(Timestamp(0), 10).await.unwrap().iter().all(|m| m.id != waiting));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_silent_smtp_server_the_reset_answers_at_once_and_the_message_waits() {
    // Takes connections (the kernel completes them) but never greets.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let site = site_mailing_to(&format!("smtp://{}", silent.local_addr().unwrap())).await;
    let started = Instant::now();
    let (answers, _, _) = ask_resets(&site, &["depositor@example.org", "nobody@example.org"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the answer does not wait for the server ({:?})",
        started.elapsed()
    );
    assert!(answers[0].contains("is on its way"));
    assert_eq!(answers[0], answers[1], "a failing server does not show in the answer");

    // Two older unsent messages: the retry gives up on the server after the
    // first times out, rather than waiting out every message.
    let now = Timestamp::now();
    for to in ["a@example.org", "b@example.org"] {
        site.repo.accounts.add_to_outbox(to, "Older", "Still waiting.\n", Timestamp(now.0 - 600)).await.unwrap();
    }
    let started = Instant::now();
    assert_eq!(retry_unsent(&site.repo).await, Retried { sent: 0, failed: 1 });
    assert!(started.elapsed() < SEND_TIMEOUT + Duration::from_secs(5), "{:?}", started.elapsed());
    // By now the reset's own attempt has timed out too.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let outbox = site.repo.accounts.outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 3);
    assert!(outbox.iter().all(|m| m.sent.is_none()), "nothing is marked sent: {outbox:?}");
    let reset = outbox.iter().find(|m| m.to == "depositor@example.org").expect("the reset is kept");
    assert!(reset.body.contains("/password/reset?token="));
    let admin = site.session("admin@example.org").await;
    assert!(site.get("/admin", &admin).await.text().await.unwrap().contains("(not sent)"));
    drop(silent);
}
