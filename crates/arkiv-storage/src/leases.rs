//! Leases: how the jobs that must run on one node at a time (embargo
//! lifting, mail, scheduled harvests, statistics roll-ups, garbage
//! collection) find out, among several nodes over one database, which
//! node runs them. A lease is a row naming its holder and when it expires;
//! the holder renews it while it works, and a node that dies stops
//! renewing, so its leases fall to the next node that asks once they
//! expire. Taking and renewing are one upsert each (PostgreSQL locks the
//! row and re-evaluates the condition on its newest version; SQLite has
//! one writer), so of any number of nodes asking at once exactly one holds
//! a lease. Expiry is by the asking node's clock: nodes' clocks must agree
//! to well within a lease's length (NTP does).

use crate::sql::{Backend, Bind, Sql, SqlRow};
use crate::Result;
use arkiv_model::Timestamp;
use async_trait::async_trait;

/// Who holds a lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease `name` for `holder` until `until`, or renews it,
    /// if it is free (never taken, or expired by `now`) or `holder`'s
    /// already. Whether `holder` holds it now.
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool>;

    /// Gives the lease up if `holder` holds it (a node stopping cleanly):
    /// the next node to ask takes it at once.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;

    /// The lease `name` as it stands, expired or not; `None` if it was
    /// never taken.
    async fn lease(&self, name: &str) -> Result<Option<Lease>>;
}

#[async_trait]
impl<B: Backend> Leases for B {
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool> {
        let sql = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                   WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 \
                   RETURNING holder";
        let binds = [Bind::Text(name), Bind::Text(holder), Bind::Int(until.0), Bind::Int(now.0)];
        Ok(self.writer().await?.row(sql, &binds).await?.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.writer()
            .await?
            .run("DELETE FROM leases WHERE name = $1 AND holder = $2", &[Bind::Text(name), Bind::Text(holder)])
            .await?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>> {
        let row = self
            .reader()
            .await?
            .row("SELECT holder, expires_at FROM leases WHERE name = $1", &[Bind::Text(name)])
            .await?;
        Ok(row.map(|r| Lease { holder: r.text(0).to_owned(), expires_at: Timestamp(r.int(1)) }))
    }
}
