//! The next page of a harvest, made while the harvester reads this one.
//!
//! A harvester asks for one page, reads it whole, then asks for the next
//! with the page's resumption token: without help, the server idles while
//! the harvester reads and the harvester idles while the server works.
//! So once a list page with a token goes out, the page that token names is
//! made in the background, and the request for it takes the finished page.
//!
//! A page made ahead is served only if it is the page a fresh request
//! would get: the change feed's newest sequence number is read before the
//! page's records are, and must still be the newest when the page is
//! taken; the repository's name, subject tree and date (which decide sets,
//! names and embargoes in the metadata) must be unchanged. Otherwise it is
//! dropped and the page made afresh. A harvest is thus answered as before,
//! byte for byte, except that `<responseDate>` is when the page was made.
//!
//! Bounded: at most [`MAX_PAGES`] pages wait at once (the oldest is
//! dropped first), and a page older than [`MAX_AGE`] is dropped when the
//! next one is started; a harvester that stops costs one page of work and,
//! until then, one page of memory (a few MB at most).
//!
//! [`Ahead::taken`] counts the requests answered with a page made ahead,
//! and [`Ahead::is_ready`] says whether a page is made and waiting: what
//! shows the work is used, and what lets a test know which way a page came.

use super::{token_key, Provider, Request, Verb};
use crate::Repository;
use anyhow::Result;
use arkiv_formats::export::ExportContext;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Pages made ahead and not yet taken: about one per harvest in progress.
const MAX_PAGES: usize = 4;
/// A page not asked for within this time is dropped.
const MAX_AGE: Duration = Duration::from_secs(120);

/// The pages being made or waiting, oldest first.
#[derive(Default)]
pub struct Ahead {
    pages: Mutex<VecDeque<Pending>>,
    /// Requests answered with a page made ahead.
    taken: AtomicU64,
}

struct Pending {
    /// The endpoint the request goes to and its resumption token.
    key: (String, String),
    started: Instant,
    task: JoinHandle<Option<Page>>,
}

/// A finished list page and what it was made from.
pub(super) struct Page {
    body: String,
    /// The token of the page after it, if any.
    next: Option<String>,
    /// The change feed's newest sequence number before its records were read.
    seq: i64,
    made_with: Fingerprint,
}

/// What a page depends on besides the records themselves. The subject
/// tree is held, not only its address, so that a new tree cannot come to
/// live at the old one's address while the page waits.
struct Fingerprint {
    repository_name: String,
    subjects: Arc<arkiv_model::SubjectTree>,
    today: arkiv_model::PartialDate,
}

impl Fingerprint {
    fn of(ctx: &ExportContext) -> Fingerprint {
        Fingerprint { repository_name: ctx.repository_name.clone(), subjects: ctx.subjects.clone(), today: ctx.today }
    }
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Fingerprint) -> bool {
        self.repository_name == other.repository_name
            && Arc::ptr_eq(&self.subjects, &other.subjects)
            && self.today == other.today
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        for p in self.pages.get_mut().map(std::mem::take).unwrap_or_default() {
            p.task.abort();
        }
    }
}

impl Ahead {
    /// How many requests were answered with a page made ahead since the
    /// repository was opened (a page found outdated is not counted).
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    /// Whether the page `token` names has been made (or given up on) and
    /// waits for its request.
    pub fn is_ready(&self, token: &str) -> bool {
        let pages = self.pages.lock().expect("oai ahead lock");
        pages.iter().any(|p| p.key.1 == token && p.task.is_finished())
    }

    /// The page made ahead for this request, if one was and it is still
    /// what the request would get. Starts making the page after it.
    pub(super) async fn take(
        repo: &Arc<Repository>,
        endpoint: &str,
        verb: Verb,
        token: &str,
    ) -> Result<Option<String>> {
        let pending = {
            let mut pages = repo.oai_ahead.pages.lock().expect("oai ahead lock");
            let at = pages.iter().position(|p| p.key.0 == endpoint && p.key.1 == token);
            at.and_then(|i| pages.remove(i))
        };
        let Some(pending) = pending else { return Ok(None) };
        let Ok(Some(page)) = pending.task.await else {
            tracing::debug!("OAI-PMH page made ahead: failed");
            return Ok(None);
        };
        if repo.store.last_change().await? != page.seq || Fingerprint::of(&repo.export_context()) != page.made_with {
            tracing::debug!("OAI-PMH page made ahead: outdated");
            return Ok(None);
        }
        repo.oai_ahead.taken.fetch_add(1, Ordering::Relaxed);
        if let Some(next) = page.next {
            Ahead::start(repo, endpoint, verb, next);
        }
        Ok(Some(page.body))
    }

    /// Starts making the page `token` names.
    pub(super) fn start(repo: &Arc<Repository>, endpoint: &str, verb: Verb, token: String) {
        let key = (endpoint.to_string(), token.clone());
        let (repo2, endpoint) = (repo.clone(), endpoint.to_string());
        let task = tokio::spawn(async move { make(&repo2, &endpoint, verb, &token).await.ok().flatten() });
        let mut pages = repo.oai_ahead.pages.lock().expect("oai ahead lock");
        while pages.len() >= MAX_PAGES || pages.front().is_some_and(|p| p.started.elapsed() > MAX_AGE) {
            if let Some(old) = pages.pop_front() {
                old.task.abort();
            }
        }
        pages.push_back(Pending { key, started: Instant::now(), task });
    }
}

/// The page, as a request with this token would get it now; `None` for an
/// error answer (the request itself will give it).
async fn make(repo: &Arc<Repository>, endpoint: &str, verb: Verb, token: &str) -> Result<Option<Page>> {
    let seq = repo.store.last_change().await?;
    let ctx = repo.export_context();
    let made_with = Fingerprint::of(&ctx);
    let provider = Provider { repo, ctx, endpoint, key: token_key(repo).await? };
    let args = [("verb".to_string(), verb.as_str().to_string()), ("resumptionToken".to_string(), token.to_string())];
    let Ok(request) = Request::parse(&args) else { return Ok(None) };
    Ok(provider.list(&request).await?.ok().map(|(body, next)| Page { body, next, seq, made_with }))
}
