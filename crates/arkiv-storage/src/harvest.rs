//! What the harvester remembers of the repositories it harvests: each
//! source's progress, which local record holds each harvested identifier
//! (and which revision the harvest wrote, so that a local edit is seen),
//! and the conflicts between a local edit and a newer harvested version.
//!
//! The records themselves are written through [`crate::Records`] like any
//! other; these tables only point at them. The three tables are in the
//! `harvest` migration.

use crate::sql::{Backend, Bind, Sql, SqlRow};
use crate::{Result, StoreError};
use arkiv_model::{Record, RecordId, Timestamp};
use async_trait::async_trait;

/// A source and how far it has been harvested.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HarvestSourceRow {
    /// The name arkiv.toml gives it, or its base URL.
    pub name: String,
    pub base_url: String,
    /// The set asked for; empty for the whole repository.
    pub set_spec: String,
    pub prefix: String,
    /// The source's responseDate at the start of the last run that reached
    /// the end of its list: the next run's `from`.
    pub harvested_until: Option<String>,
    pub last_run: Option<Timestamp>,
    /// Why the last run stopped early; `None` after a run that ended well.
    pub last_error: Option<String>,
    /// Records taken from it so far (created or updated).
    pub records: i64,
}

/// A harvested identifier and the local record that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestedEntry {
    pub identifier: String,
    pub record_id: RecordId,
    /// The source's datestamp of the version taken.
    pub datestamp: String,
    /// The local revision the harvest wrote.
    pub revision: i64,
    pub harvested: Timestamp,
}

/// A newer harvested version of a record that was edited here.
#[derive(Debug, Clone, PartialEq)]
pub struct HarvestConflict {
    pub source: String,
    pub identifier: String,
    pub record_id: RecordId,
    /// The source's datestamp of the incoming version.
    pub datestamp: String,
    /// The incoming version; `None` when the source deleted the record.
    pub incoming: Option<Record>,
    pub found: Timestamp,
}

/// Where a harvested record came from, for OAI-PMH's `provenance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestOrigin {
    pub record_id: RecordId,
    pub base_url: String,
    pub prefix: String,
    pub identifier: String,
    pub datestamp: String,
    pub harvested: Timestamp,
}

#[async_trait]
pub trait Harvests: Send + Sync + 'static {
    async fn harvest_source(&self, name: &str) -> Result<Option<HarvestSourceRow>>;
    /// Every source harvested so far, by name.
    async fn harvest_sources(&self) -> Result<Vec<HarvestSourceRow>>;
    /// Creates or replaces the source's row.
    async fn save_harvest_source(&self, source: &HarvestSourceRow) -> Result<()>;
    /// The entries of these identifiers of `source` that exist.
    async fn harvested_entries(&self, source: &str, identifiers: &[String]) -> Result<Vec<HarvestedEntry>>;
    /// Creates or replaces entries of `source`.
    async fn note_harvested(&self, source: &str, entries: &[HarvestedEntry]) -> Result<()>;
    /// Creates or replaces conflicts (one per source and identifier: a
    /// newer incoming version replaces an older one).
    async fn put_harvest_conflicts(&self, conflicts: &[HarvestConflict]) -> Result<()>;
    /// Open conflicts, oldest first, at most `limit`.
    async fn harvest_conflicts(&self, limit: i64) -> Result<Vec<HarvestConflict>>;
    async fn harvest_conflict(&self, source: &str, identifier: &str) -> Result<Option<HarvestConflict>>;
    async fn drop_harvest_conflict(&self, source: &str, identifier: &str) -> Result<()>;
    /// Where each of these records was harvested from (records not
    /// harvested are absent).
    async fn harvest_origins(&self, ids: &[RecordId]) -> Result<Vec<HarvestOrigin>>;
}

const SOURCE_COLUMNS: &str = "name, base_url, set_spec, prefix, harvested_until, last_run, last_error, records";

fn source_of(r: &impl SqlRow) -> HarvestSourceRow {
    HarvestSourceRow {
        name: r.text(0).to_string(),
        base_url: r.text(1).to_string(),
        set_spec: r.text(2).to_string(),
        prefix: r.text(3).to_string(),
        harvested_until: r.opt_text(4).map(str::to_string),
        last_run: r.opt_int(5).map(Timestamp),
        last_error: r.opt_text(6).map(str::to_string),
        records: r.int(7),
    }
}

fn conflict_of(r: &impl SqlRow) -> Result<HarvestConflict> {
    let incoming = match r.opt_text(4) {
        Some(json) => Some(serde_json::from_str(json).map_err(|source| StoreError::Corrupt { id: r.int(2), source })?),
        None => None,
    };
    Ok(HarvestConflict {
        source: r.text(0).to_string(),
        identifier: r.text(1).to_string(),
        record_id: r.int(2),
        datestamp: r.text(3).to_string(),
        incoming,
        found: Timestamp(r.int(5)),
    })
}

const CONFLICT_COLUMNS: &str = "source, identifier, record_id, datestamp, incoming, found";

/// Rows per multi-row statement: 6 binds each, well within both databases'
/// limits.
const ROWS: usize = 1000;

#[async_trait]
impl<B: Backend> Harvests for B {
    async fn harvest_source(&self, name: &str) -> Result<Option<HarvestSourceRow>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM harvest_sources WHERE name = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Text(name)]).await?.map(|r| source_of(&r)))
    }

    async fn harvest_sources(&self) -> Result<Vec<HarvestSourceRow>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM harvest_sources ORDER BY name");
        Ok(self.reader().await?.rows(&sql, &[]).await?.iter().map(source_of).collect())
    }

    async fn save_harvest_source(&self, s: &HarvestSourceRow) -> Result<()> {
        for text in [&s.name, &s.base_url, &s.set_spec, &s.prefix] {
            B::check_text(&|| format!("harvest source {:?}", s.name), text)?;
        }
        let sql = format!(
            "INSERT INTO harvest_sources ({SOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, set_spec = excluded.set_spec, \
             prefix = excluded.prefix, harvested_until = excluded.harvested_until, last_run = excluded.last_run, \
             last_error = excluded.last_error, records = excluded.records"
        );
        let binds = [
            Bind::Text(&s.name),
            Bind::Text(&s.base_url),
            Bind::Text(&s.set_spec),
            Bind::Text(&s.prefix),
            Bind::OptText(s.harvested_until.as_deref()),
            Bind::OptInt(s.last_run.map(|t| t.0)),
            Bind::OptText(s.last_error.as_deref()),
            Bind::Int(s.records),
        ];
        self.writer().await?.run(&sql, &binds).await?;
        Ok(())
    }

    async fn harvested_entries(&self, source: &str, identifiers: &[String]) -> Result<Vec<HarvestedEntry>> {
        let mut out = Vec::new();
        let mut conn = self.reader().await?;
        for chunk in identifiers.chunks(ROWS) {
            let list: Vec<String> = (2..chunk.len() + 2).map(B::Conn::placeholder).collect();
            let sql = format!(
                "SELECT identifier, record_id, datestamp, revision, harvested FROM harvested_records \
                 WHERE source = {} AND identifier IN ({})",
                B::Conn::placeholder(1),
                list.join(", ")
            );
            let mut binds = vec![Bind::Text(source)];
            binds.extend(chunk.iter().map(|i| Bind::Text(i)));
            for r in conn.rows(&sql, &binds).await? {
                out.push(HarvestedEntry {
                    identifier: r.text(0).to_string(),
                    record_id: r.int(1),
                    datestamp: r.text(2).to_string(),
                    revision: r.int(3),
                    harvested: Timestamp(r.int(4)),
                });
            }
        }
        Ok(out)
    }

    async fn note_harvested(&self, source: &str, entries: &[HarvestedEntry]) -> Result<()> {
        for e in entries {
            B::check_text(&|| format!("harvested identifier {:?}", e.identifier), &e.identifier)?;
            B::check_text(&|| format!("datestamp of {:?}", e.identifier), &e.datestamp)?;
        }
        let mut conn = self.writer().await?;
        for chunk in entries.chunks(ROWS) {
            let mut sql = String::from(
                "INSERT INTO harvested_records (source, identifier, record_id, datestamp, revision, harvested) VALUES ",
            );
            let mut binds = Vec::with_capacity(chunk.len() * 6);
            for (n, e) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                let values: Vec<String> = (6 * n + 1..=6 * n + 6).map(B::Conn::placeholder).collect();
                sql.push_str(&format!("({})", values.join(", ")));
                binds.extend([
                    Bind::Text(source),
                    Bind::Text(&e.identifier),
                    Bind::Int(e.record_id),
                    Bind::Text(&e.datestamp),
                    Bind::Int(e.revision),
                    Bind::Int(e.harvested.0),
                ]);
            }
            sql.push_str(
                " ON CONFLICT (source, identifier) DO UPDATE SET record_id = excluded.record_id, \
                 datestamp = excluded.datestamp, revision = excluded.revision, harvested = excluded.harvested",
            );
            conn.run(&sql, &binds).await?;
        }
        Ok(())
    }

    async fn put_harvest_conflicts(&self, conflicts: &[HarvestConflict]) -> Result<()> {
        let mut conn = self.writer().await?;
        for c in conflicts {
            let json = c.incoming.as_ref().map(|r| serde_json::to_string(r).expect("records serialize"));
            B::check_text(&|| format!("conflict of {:?}", c.identifier), &c.identifier)?;
            if let Some(json) = &json {
                B::check_text(&|| format!("incoming version of {:?}", c.identifier), json)?;
            }
            let sql = format!(
                "INSERT INTO harvest_conflicts ({CONFLICT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (source, identifier) DO UPDATE SET record_id = excluded.record_id, \
                 datestamp = excluded.datestamp, incoming = excluded.incoming, found = excluded.found"
            );
            let binds = [
                Bind::Text(&c.source),
                Bind::Text(&c.identifier),
                Bind::Int(c.record_id),
                Bind::Text(&c.datestamp),
                Bind::OptText(json.as_deref()),
                Bind::Int(c.found.0),
            ];
            conn.run(&sql, &binds).await?;
        }
        Ok(())
    }

    async fn harvest_conflicts(&self, limit: i64) -> Result<Vec<HarvestConflict>> {
        let sql =
            format!("SELECT {CONFLICT_COLUMNS} FROM harvest_conflicts ORDER BY found, source, identifier LIMIT $1");
        self.reader().await?.rows(&sql, &[Bind::Int(limit)]).await?.iter().map(conflict_of).collect()
    }

    async fn harvest_conflict(&self, source: &str, identifier: &str) -> Result<Option<HarvestConflict>> {
        let sql = format!("SELECT {CONFLICT_COLUMNS} FROM harvest_conflicts WHERE source = $1 AND identifier = $2");
        let row = self.reader().await?.row(&sql, &[Bind::Text(source), Bind::Text(identifier)]).await?;
        row.as_ref().map(conflict_of).transpose()
    }

    async fn drop_harvest_conflict(&self, source: &str, identifier: &str) -> Result<()> {
        self.writer()
            .await?
            .run(
                "DELETE FROM harvest_conflicts WHERE source = $1 AND identifier = $2",
                &[Bind::Text(source), Bind::Text(identifier)],
            )
            .await?;
        Ok(())
    }

    async fn harvest_origins(&self, ids: &[RecordId]) -> Result<Vec<HarvestOrigin>> {
        let mut out = Vec::new();
        let mut conn = self.reader().await?;
        for chunk in ids.chunks(ROWS) {
            let list: Vec<String> = (1..=chunk.len()).map(B::Conn::placeholder).collect();
            let sql = format!(
                "SELECT h.record_id, s.base_url, s.prefix, h.identifier, h.datestamp, h.harvested \
                 FROM harvested_records h JOIN harvest_sources s ON s.name = h.source \
                 WHERE h.record_id IN ({}) ORDER BY h.record_id",
                list.join(", ")
            );
            let binds: Vec<Bind> = chunk.iter().map(|&id| Bind::Int(id)).collect();
            for r in conn.rows(&sql, &binds).await? {
                out.push(HarvestOrigin {
                    record_id: r.int(0),
                    base_url: r.text(1).to_string(),
                    prefix: r.text(2).to_string(),
                    identifier: r.text(3).to_string(),
                    datestamp: r.text(4).to_string(),
                    harvested: Timestamp(r.int(5)),
                });
            }
        }
        Ok(out)
    }
}
