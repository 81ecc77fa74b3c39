//! The repository's mail: password-reset links, requests for copies and
//! their answers. [`send`] keeps every message in the outbox first (the
//! admin page lists it), so nothing a user is owed is ever lost; then, when
//! `[mail] smtp_url` names a server, it goes out by SMTP in the background,
//! and is marked sent once the server took it. A message that could not go
//! out stays unsent, and [`retry_unsent`] (the web server's hourly
//! housekeeping) tries it again. With no server configured the log line
//! carries what an admin needs to pass the message on.
//!
//! Sending never holds up or fails the request that made the message: the
//! request returns once the message is stored (so its timing does not tell
//! whether a message went out, nor to whom), every attempt is bounded by
//! [`SEND_TIMEOUT`], and a failure is logged, never returned.

use crate::config::Config;
use crate::Repository;
use anyhow::{anyhow, Result};
use arkiv_model::Timestamp;
use arkiv_storage::{AccountStore, OutboxMessage, StoreError};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The longest one attempt to hand a message to the SMTP server may take
/// (connecting, TLS, authentication and the transfer together).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Unsent messages are retried for this long after they were made (a
/// copy's download link works 7 days); older ones stay in the outbox.
pub const RETRY_DAYS: i64 = 7;

/// At most this many messages are retried per round.
const RETRY_BATCH: i64 = 100;

/// Messages younger than this are left out of a retry: the request that
/// made them may still be sending them.
const IN_FLIGHT_SECONDS: i64 = 60;

/// At most this many messages are handed to the server at once.
const PARALLEL_SENDS: usize = 4;

/// How messages go out: by SMTP, or (with no server configured) nowhere
/// beyond the outbox and the log.
pub struct Mailer {
    smtp: Option<Smtp>,
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for the log (the URL may hold a password).
    server: String,
    permits: Semaphore,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the SMTP server did not take the message within {} s", SEND_TIMEOUT.as_secs())]
    Timeout,
    #[error("the message cannot be made: {0}")]
    Message(String),
    #[error("no SMTP server is configured")]
    NotConfigured,
}

impl MailError {
    /// Whether the server could not be reached or refused for now (rather
    /// than refusing this one message): retrying others is pointless.
    fn server_unavailable(&self) -> bool {
        match self {
            MailError::Smtp(e) => !e.is_permanent(),
            MailError::Timeout | MailError::NotConfigured => true,
            MailError::Message(_) => false,
        }
    }
}

impl Mailer {
    /// A mailer that sends nothing (the outbox and the log only).
    pub fn none() -> Mailer {
        Mailer { smtp: None }
    }

    /// The mailer `[mail]` describes. An SMTP URL or sender lettre cannot
    /// use is an error, so a misconfigured server is found at start.
    pub fn from_config(config: &Config) -> Result<Mailer> {
        let url = config.mail.smtp_url.trim();
        if url.is_empty() {
            return Ok(Mailer::none());
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow!("[mail] smtp_url is not a usable SMTP address ({e})"))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = if config.mail.from.trim().is_empty() {
            let r = &config.repository;
            let address =
                r.contact_email.parse().map_err(|e| anyhow!("[repository] contact_email cannot be a sender ({e})"))?;
            Mailbox::new(Some(r.name.clone()), address)
        } else {
            config.mail.from.trim().parse().map_err(|e| anyhow!("[mail] from is not an address ({e})"))?
        };
        Ok(Mailer {
            smtp: Some(Smtp { transport, from, server: server_of(url), permits: Semaphore::new(PARALLEL_SENDS) }),
        })
    }

    /// Whether messages go out by SMTP.
    pub fn is_configured(&self) -> bool {
        self.smtp.is_some()
    }

    /// Hands one message to the SMTP server, within [`SEND_TIMEOUT`].
    pub async fn deliver(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let smtp = self.smtp.as_ref().ok_or(MailError::NotConfigured)?;
        let to: Mailbox = to.parse().map_err(|e| MailError::Message(format!("{to:?} is not an address: {e}")))?;
        let message = Message::builder()
            .from(smtp.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| MailError::Message(e.to_string()))?;
        let attempt = async {
            let _permit = smtp.permits.acquire().await;
            smtp.transport.send(message).await
        };
        tokio::time::timeout(SEND_TIMEOUT, attempt).await.map_err(|_| MailError::Timeout)??;
        Ok(())
    }

    fn server(&self) -> &str {
        self.smtp.as_ref().map_or("", |s| s.server.as_str())
    }
}

/// `host:port` (or `host`) of an SMTP URL: no scheme, credentials or query.
fn server_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_string()
}

/// Where and when a visitor asked for a mail, as the mail says it: "the
/// request came from the address 203.0.113.9 on 2026-12-06 16:30:00 UTC". The address
/// is the one the site saw (see `[server] trusted_proxies`).
pub fn asked_from(address: &str, at: Timestamp) -> String {
    format!("the request came from the address {address} on {} UTC", at.to_eprints())
}

/// Keeps a message in the outbox and returns its id; then, with SMTP
/// configured, sends it in the background. `link` (a reset link, say) goes
/// to the log with the message when no server is configured, so that an
/// admin reading the log can pass it on. Only storing it can fail.
pub async fn send(
    repo: &Repository,
    to: &str,
    subject: &str,
    body: &str,
    link: Option<&str>,
) -> Result<i64, StoreError> {
    let created = Timestamp::now();
    let id = repo.accounts.add_to_outbox(to, subject, body, created).await?;
    if repo.mailer.is_configured() {
        let message =
            OutboxMessage { id, to: to.into(), subject: subject.into(), body: body.into(), created, sent: None };
        let (accounts, mailer) = (repo.accounts.clone(), repo.mailer.clone());
        tokio::spawn(async move {
            let _ = deliver_and_mark(accounts.as_ref(), &mailer, &message).await;
        });
    } else if let Some(link) = link {
        tracing::info!(to, message = id, subject, %link, "message in the outbox (no SMTP configured)");
    } else {
        tracing::info!(to, message = id, subject, "message in the outbox (no SMTP configured)");
    }
    Ok(id)
}

/// Sends a message of the outbox and marks it sent; a failure is logged.
async fn deliver_and_mark(accounts: &dyn AccountStore, mailer: &Mailer, m: &OutboxMessage) -> Result<(), MailError> {
    match mailer.deliver(&m.to, &m.subject, &m.body).await {
        Ok(()) => {
            tracing::info!(to = %m.to, message = m.id, server = mailer.server(), "message sent by SMTP");
            if let Err(e) = accounts.mark_sent(m.id, Timestamp::now()).await {
                tracing::warn!(message = m.id, error = %e, "a message went out but could not be marked sent");
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(to = %m.to, message = m.id, server = mailer.server(), error = %e, "message not sent: it stays in the outbox, to be retried");
            Err(e)
        }
    }
}

/// What a retry round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Retried {
    pub sent: usize,
    pub failed: usize,
}

/// Tries again the messages of the last [`RETRY_DAYS`] that have not gone
/// out, oldest first; stops at the first failure that says the server is
/// unreachable or refusing for now. Nothing to do without SMTP.
pub async fn retry_unsent(repo: &Repository) -> Retried {
    let mut done = Retried::default();
    if !repo.mailer.is_configured() {
        return done;
    }
    let now = Timestamp::now();
    let messages = match repo.accounts.unsent(Timestamp(now.0 - RETRY_DAYS * 86_400), RETRY_BATCH).await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::warn!(error = %e, "the unsent messages could not be read");
            return done;
        }
    };
    for m in messages.iter().filter(|m| m.created.0 <= now.0 - IN_FLIGHT_SECONDS) {
        match deliver_and_mark(repo.accounts.as_ref(), &repo.mailer, m).await {
            Ok(()) => done.sent += 1,
            Err(e) => {
                done.failed += 1;
                if e.server_unavailable() {
                    break;
                }
            }
        }
    }
    if done != Retried::default() {
        tracing::info!(sent = done.sent, failed = done.failed, "unsent messages retried");
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MailSettings;

    fn config(smtp_url: &str, from: &str) -> Config {
        Config { mail: MailSettings { smtp_url: smtp_url.into(), from: from.into() }, ..Config::default() }
    }

    #[test]
    fn no_url_no_smtp() {
        assert!(!Mailer::from_config(&Config::default()).unwrap().is_configured());
        assert!(!Mailer::from_config(&config("  ", "")).unwrap().is_configured());
    }

    #[tokio::test]
    async fn urls_lettre_takes_make_a_mailer_and_others_are_refused() {
        for url in
            ["smtp://127.0.0.1:2525", "smtp://u:p@mail.example.org:587?tls=required", "smtps://u:p@mail.example.org"]
        {
            assert!(Mailer::from_config(&config(url, "")).unwrap().is_configured(), "{url}");
        }
        for url in ["mail.example.org", "http://mail.example.org", "smtp://mail.example.org?tls=sometimes"] {
            assert!(Mailer::from_config(&config(url, "")).is_err(), "{url}");
        }
        assert!(Mailer::from_config(&config("smtp://127.0.0.1", "not an address")).is_err());
        let m = Mailer::from_config(&config("smtp://127.0.0.1", "Arkiv <a@example.org>")).unwrap();
        assert_eq!(m.smtp.unwrap().from.to_string(), "Arkiv <a@example.org>");
        let m = Mailer::from_config(&config("smtp://127.0.0.1", "")).unwrap();
        assert_eq!(
            m.smtp.unwrap().from.email.to_string(),
            Config::default().repository.contact_email,
            "the contact address by default"
        );
    }

    #[test]
    fn the_log_names_the_server_without_credentials() {
        assert_eq!(server_of("smtp://user:secret@mail.example.org:587?tls=required"), "mail.example.org:587");
        assert_eq!(server_of("smtps://mail.example.org/ehlo-name"), "mail.example.org");
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_quickly_and_says_so() {
        // A port nothing listens on: refused at once, not a timeout.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let m = Mailer::from_config(&config(&format!("smtp://127.0.0.1:{port}"), "")).unwrap();
        let e = m.deliver("someone@example.org", "Subject", "Body").await.unwrap_err();
        assert!(e.server_unavailable(), "{e}");
        let bad = m.deliver("not an address", "Subject", "Body").await.unwrap_err();
        assert!(!bad.server_unavailable(), "{bad}");
    }
}
