//! Search: a Tantivy index over the live records of a repository.
//!
//! One role per module:
//! - [`schema`]: fields, text analysis (Unicode words, lower case, accents
//!   folded, English stemming) and the record → document mapping;
//! - [`words`]: word splitting for every script (CJK a character a token);
//! - [`stem`]: stemming by script (Russian for Cyrillic, English otherwise);
//! - [`pairs`]: adjacent words as one term, so phrases need no positions;
//! - [`memo`]: a text analysed once for a field and its twin fields;
//! - [`query`]: the query language and a parser that accepts any input,
//!   returning warnings instead of errors;
//! - [`request`]: what a search asks and answers (plain serializable data);
//! - [`collect`]: the matches of a query as bits, and the page of hits
//!   (block-max WAND by relevance; deep paging by cursor, not by offset);
//! - [`facet_ords`]: facet counts over the matches, from each segment's
//!   facet ordinals kept in flat arrays;
//! - [`top_values`]: the most frequent creators and series without turning
//!   every value the index knows into text;
//! - [`index`]: [`SearchIndex`]: open, write, commit, search, generations;
//! - [`extract`]: the text of public documents, PDFs parsed in a child
//!   process under time and memory limits, plain text read up to the cap;
//! - [`text_jobs`]: the workers that extract PDFs in the background, so
//!   the follower never waits for one;
//! - [`follow`]: the [`Follower`] that keeps the index in step with the
//!   store's change feed, and [`reindex`], a rebuild beside the served index.
//!
//! The index is derived data: deleting its directory loses nothing, the
//! follower rebuilds it from the store.
//!
//! Use from a server:
//!
//! ```ignore
//! let index = Arc::new(SearchIndex::open(&repo.dir.join("search"))?);
//! index.set_subjects(repo.subjects());
//! let extractor = Extractor::discover()?.with_cache(index.text_cache_dir());
//! tokio::spawn(Follower::new(Some(extractor)).run(repo.store.clone(), repo.files.clone(), index.clone(), shutdown));
//! // In a handler (searching is CPU work):
//! let results = tokio::task::spawn_blocking(move || index.search(&request)).await??;
//! ```

pub mod collect;
pub mod extract;
pub mod facet_ords;
pub mod follow;
pub mod index;
pub mod memo;
pub mod pairs;
pub mod query;
pub mod request;
pub mod schema;
pub mod stem;
pub mod text_jobs;
pub mod top_values;
pub mod words;

pub use extract::Extractor;
pub use follow::{reindex, Follower, ReindexProgress};
pub use index::SearchIndex;
pub use request::{Cursor, Facet, FacetCount, Hit, SearchRequest, SearchResults, Snippet, Sort};
