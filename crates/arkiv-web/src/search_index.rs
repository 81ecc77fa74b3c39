//! The search index behind `/search`: opened beside the repository
//! (`<repo>/search`), kept in step with the store's change feed by a
//! [`Follower`] running as a background task for as long as the server
//! runs. The index is derived data: if it cannot be opened the site is
//! served without search (the search pages say so), never not at all.

use arkiv_search::{Extractor, Follower, SearchIndex};
use arkiv_services::Repository;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Whether the follower indexes the text of public documents.
#[derive(Debug, Clone, Default)]
pub enum FullText {
    /// Metadata only. The default: a binary that
    /// embeds the site does not necessarily act as the extraction child.
    #[default]
    Off,
    /// [`Extractor::discover`]: `ARKIV_EXTRACT_TEXT_BIN`, else
    /// `arkiv-extract-text` beside the binary, else the running binary
    /// itself, which must then call
    /// `arkiv_search::extract::run_child_if_requested()` first thing in
    /// `main` (the `arkiv` command does). If discovery fails, metadata only.
    Discover,
    /// This extractor (given the index's text cache if it has none).
    With(Extractor),
}

/// The repository's search index (`<repo>/search`), or `None` (logged) if
/// it cannot be opened.
fn open_index(repo: &Repository) -> Option<Arc<SearchIndex>> {
    match SearchIndex::open(&repo.dir.join("search")) {
        Ok(index) => {
            index.set_subjects(repo.subjects());
            Some(Arc::new(index))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "the search index cannot be opened: serving without search");
            None
        }
    }
}

fn extractor(full_text: FullText, index: &SearchIndex) -> Option<Extractor> {
    let ex = match full_text {
        FullText::Off => return None,
        FullText::Discover => match Extractor::discover() {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "no text extractor found: indexing metadata only, without full text");
                return None;
            }
        },
        FullText::With(e) => e,
    };
    Some(if ex.cache_dir.is_some() { ex } else { ex.with_cache(index.text_cache_dir()) })
}

/// The index and its follower, running. Stop it with [`Searching::stop`];
/// dropping it stops the follower too (at its next poll).
pub struct Searching {
    pub index: Arc<SearchIndex>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Searching {
    /// Opens the index and spawns the follower on the current runtime.
    pub fn start(repo: &Arc<Repository>, full_text: FullText) -> Option<Searching> {
        let index = open_index(repo)?;
        let follower = Follower::new(extractor(full_text, &index));
        let (stop, stopped) = oneshot::channel::<()>();
        let (store, files, idx) = (repo.store.clone(), repo.files.clone(), index.clone());
        let task = tokio::spawn(async move {
            follower
                .run(store, files, idx, async move {
                    let _ = stopped.await;
                })
                .await
        });
        Some(Searching { index, stop: Some(stop), task: Some(task) })
    }

    /// Stops the follower and waits for it to finish its current batch.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Searching {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Live records whose titles closely match `record`'s (see
/// [`arkiv_services::workflow::metadata::title_likeness`]): the warning a
/// depositor sees before submitting a paper the repository may already
/// hold. One query of the title's words, five hits; empty without an index.
pub async fn possible_duplicates(
    state: &crate::AppState,
    record: &arkiv_model::Record,
) -> Vec<(arkiv_model::RecordId, String)> {
    use arkiv_services::workflow::metadata::{title_likeness, DUPLICATE_LIKENESS};
    let Some(index) = state.search.as_ref() else { return Vec::new() };
    // Words only: a title's colons and quotes are not query syntax here.
    let words: String = record.title.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    if words.trim().is_empty() {
        return Vec::new();
    }
    let req = arkiv_search::SearchRequest { query: words, page_size: 5, no_facets: true, ..Default::default() };
    let Ok(results) = index.search(&req) else { return Vec::new() };
    let ids: Vec<_> = results.hits.iter().map(|h| h.id).filter(|id| Some(*id) != record.id).collect();
    let Ok(found) = state.repo.store.get_records(&ids).await else { return Vec::new() };
    found
        .into_iter()
        .filter(|r| r.is_live() && title_likeness(&r.title, &record.title) >= DUPLICATE_LIKENESS)
        .filter_map(|r| Some((r.id?, r.title)))
        .collect()
}
