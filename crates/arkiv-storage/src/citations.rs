//! Formatted citations kept as derived data: the abstract page's Cite box
//! in the default style, written by a follower of the change feed
//! (`arkiv_services::citations`) so that a first view reads it instead of
//! running the CSL processor (most of a first view's time). Like the search
//! index, the table is never the truth: a row is used only while its
//! revision is the record's current one and its render key is what the
//! renderer would write today, and the follower's position is kept in
//! `meta` in the same transaction as the rows it wrote.

use crate::queries::{read_meta, write_meta};
use crate::sql::{Backend, Bind, Sql, SqlRow};
use crate::Result;
use arkiv_model::RecordId;
use async_trait::async_trait;

/// One record's citation as it was rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCitation {
    pub record_id: RecordId,
    /// The revision rendered.
    pub revision: i64,
    /// The renderer's version and what of the repository it read (base
    /// URL, names): a row rendered otherwise is stale.
    pub render_key: String,
    pub text: String,
    pub html: String,
}

#[async_trait]
pub trait Citations: Send + Sync + 'static {
    /// The stored citation of `id`, whatever its revision and key.
    async fn stored_citation(&self, id: RecordId) -> Result<Option<StoredCitation>>;

    /// Writes `rows` (each replacing the record's earlier row) and sets the
    /// `meta` value `position_key` to `position`, in one write transaction:
    /// a follower that stops between batches resumes where its rows end.
    async fn put_citations(&self, rows: &[StoredCitation], position_key: &str, position: &str) -> Result<()>;

    /// The `meta` value a follower keeps its position under (read on the
    /// writer, which holds what the last [`Citations::put_citations`]
    /// committed).
    async fn citations_position(&self, position_key: &str) -> Result<Option<String>>;
}

#[async_trait]
impl<B: Backend> Citations for B {
    async fn stored_citation(&self, id: RecordId) -> Result<Option<StoredCitation>> {
        let row = self
            .reader()
            .await?
            .row("SELECT revision, render_key, text, html FROM citations WHERE record_id = $1", &[Bind::Int(id)])
            .await?;
        Ok(row.map(|r| StoredCitation {
            record_id: id,
            revision: r.int(0),
            render_key: r.text(1).to_owned(),
            text: r.text(2).to_owned(),
            html: r.text(3).to_owned(),
        }))
    }

    async fn put_citations(&self, rows: &[StoredCitation], position_key: &str, position: &str) -> Result<()> {
        for c in rows {
            let what = || format!("the citation of record {}", c.record_id);
            B::check_text(&what, &c.text)?;
            B::check_text(&what, &c.html)?;
            B::check_text(&what, &c.render_key)?;
        }
        let mut writer = self.writer().await?;
        let mut tx = B::begin_write(&mut writer).await?;
        for c in rows {
            tx.run(
                "INSERT INTO citations (record_id, revision, render_key, text, html) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (record_id) DO UPDATE SET revision = excluded.revision, \
                 render_key = excluded.render_key, text = excluded.text, html = excluded.html",
                &[
                    Bind::Int(c.record_id),
                    Bind::Int(c.revision),
                    Bind::Text(&c.render_key),
                    Bind::Text(&c.text),
                    Bind::Text(&c.html),
                ],
            )
            .await?;
        }
        write_meta(&mut *tx, position_key, position).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn citations_position(&self, position_key: &str) -> Result<Option<String>> {
        read_meta(&mut *self.writer().await?, position_key).await
    }
}
