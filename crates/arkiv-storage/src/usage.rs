//! Usage statistics in the database ([`Usage`]): the events the server
//! saw, the day's key for visitor hashes, and the aggregates the roll-up
//! keeps (per item per day per Access_Type for reports; per item per month
//! for pages). Written once over [`Backend`], like `queries.rs`; the
//! counting itself is the model's (`arkiv_model::usage::count_hour`).
//!
//! The roll-up is what makes the figures exact with several nodes writing:
//! it counts whole hours (a COUNTER user-session is an hour), one hour per
//! write transaction, and marks the events it counted in that same
//! transaction. An event is therefore counted exactly once: a roll-up
//! that fails counts nothing, two nodes rolling up at once queue on the
//! writers' lock and the second finds nothing left, and an event a node
//! wrote late (its hour already counted) is counted by the next roll-up.

use crate::queries::{read_meta, write_meta};
use crate::sql::{Backend, Bind, Sql, SqlRow, WriteTx};
use crate::{RecordId, Result};
use arkiv_model::usage::{count_hour, month_of_day, ItemCounts, UsageEvent, UsageKind, DOUBLE_CLICK_SECONDS};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

/// Events per insert statement (7 values each, far below both databases'
/// limit on bound values).
const EVENTS_PER_INSERT: usize = 500;

/// The `meta` key holding the time up to which events have been counted.
const ROLLED_THROUGH: &str = "usage_rolled_through";

/// The `meta` key holding when the server first wrote events it saw
/// itself: log lines from then on were counted live, and an import skips
/// them.
const LIVE_SINCE: &str = "usage_live_since";

/// What a roll-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollUp {
    /// Events counted (robots never reach the table).
    pub events: u64,
    /// Hours counted, one transaction each.
    pub hours: u64,
    /// Items whose figures changed.
    pub items: u64,
}

/// One month of an item's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthUsage {
    /// `year * 12 + month - 1`.
    pub month: i64,
    pub counts: ItemCounts,
}

/// One day of an item's figures for one Access_Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayUsage {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Access_Type: Open, else Controlled.
    pub open: bool,
    pub counts: ItemCounts,
}

/// Usage statistics (see the module docs).
#[async_trait]
pub trait Usage: Send + Sync + 'static {
    /// Keeps events the server saw until the roll-up counts them (and
    /// notes, the first time, since when the server counts by itself).
    async fn add_usage_events(&self, events: &[UsageEvent]) -> Result<()>;

    /// Keeps the events read from an access log whose content has this
    /// SHA-256, with a note of it, in one transaction: false (and nothing
    /// written) when that log was imported before.
    async fn import_usage_events(&self, sha256: &str, name: &str, events: &[UsageEvent], now: i64) -> Result<bool>;

    /// When the server first counted by itself (Unix seconds), if it has.
    async fn usage_live_since(&self) -> Result<Option<i64>>;

    /// The key of `day`'s visitor hashes: the one stored, else `fresh`,
    /// stored now. Every node gets the same key for a day.
    async fn usage_key(&self, day: i64, fresh: &str) -> Result<String>;

    /// Counts every event before `until` (an hour's end) not counted yet,
    /// one hour per write transaction, into the aggregates.
    async fn roll_up_usage(&self, until: i64) -> Result<RollUp>;

    /// Deletes counted events before `events_before` and the keys of days
    /// before `keys_before_day` (whose events are all counted). Returns
    /// (events, keys) deleted.
    async fn purge_usage(&self, events_before: i64, keys_before_day: i64) -> Result<(u64, u64)>;

    /// An item's figures by day and Access_Type for days `from..=to`,
    /// oldest first: one index range.
    async fn item_usage_by_day(&self, record_id: RecordId, from: i64, to: i64) -> Result<Vec<DayUsage>>;

    /// An item's figures by month, oldest first: one index range.
    async fn item_usage_by_month(&self, record_id: RecordId) -> Result<Vec<MonthUsage>>;

    /// The time up to which events are counted (0 before any roll-up).
    async fn usage_rolled_through(&self) -> Result<i64>;

    /// The whole repository's figures by month for months `from..=to`.
    async fn repository_usage_by_month(&self, from: i64, to: i64) -> Result<Vec<MonthUsage>>;

    /// The most downloaded items of a month or a year, most first (ties
    /// by the higher id): a walk down an index, `limit` rows.
    async fn top_items(&self, period: UsagePeriod, limit: i64) -> Result<Vec<(RecordId, ItemCounts)>>;

    /// The most downloaded groups of a browse view (`type`, `series`,
    /// `subject`, `division`, `creator`, `year`) in a year, most first.
    async fn top_groups(&self, view: &str, year: i64, limit: i64) -> Result<Vec<(String, ItemCounts)>>;

    /// One browse group's figures by month, oldest first.
    async fn group_usage_by_month(&self, view: &str, value: &str) -> Result<Vec<MonthUsage>>;

    /// Every group of a browse view with figures in months `from..=to`:
    /// (value, month, counts). A view has few groups (item types).
    async fn groups_by_month(&self, view: &str, from: i64, to: i64) -> Result<Vec<(String, MonthUsage)>>;

    /// Items with figures in months `from..=to`, after `after` in id
    /// order, at most `limit` items: each item's rows by month and
    /// Access_Type (an Item Report, read a page at a time).
    async fn item_usage_page(&self, from: i64, to: i64, after: RecordId, limit: i64) -> Result<Vec<ItemMonthAccess>>;

    /// The first and last month with figures, if any.
    async fn usage_months_available(&self) -> Result<Option<(i64, i64)>>;

    /// The SUSHI clients, by name.
    async fn sushi_clients(&self) -> Result<Vec<SushiClient>>;

    async fn sushi_client(&self, requestor_id: &str) -> Result<Option<SushiClient>>;

    /// Adds a client; false if its requestor ID is taken.
    async fn add_sushi_client(&self, client: &SushiClient) -> Result<bool>;

    async fn remove_sushi_client(&self, requestor_id: &str) -> Result<bool>;
}

/// One item's figures for one month and Access_Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemMonthAccess {
    pub record_id: RecordId,
    pub month: i64,
    pub open: bool,
    pub counts: ItemCounts,
}

/// Who may harvest the COUNTER_SUSHI API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SushiClient {
    pub requestor_id: String,
    pub customer_id: String,
    pub api_key: String,
    pub name: String,
    pub created: i64,
}

/// A month (`year * 12 + month - 1`) or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsagePeriod {
    Month(i64),
    Year(i64),
}

const EVENT_COLUMNS: &str = "at, record_id, target, kind, open_access, visitor";

fn event_of(row: &impl SqlRow) -> Option<UsageEvent> {
    Some(UsageEvent {
        at: row.int(0),
        record_id: row.int(1),
        target: row.int(2),
        kind: UsageKind::from_code(row.int(3))?,
        open: row.int(4) != 0,
        visitor: row.int(5),
    })
}

/// A month (column `at`) and its counts (the four columns after it).
fn month_of(row: &impl SqlRow, at: usize) -> MonthUsage {
    MonthUsage { month: row.int(at), counts: counts_of(row, at + 1) }
}

fn counts_of(row: &impl SqlRow, from: usize) -> ItemCounts {
    ItemCounts {
        investigations: row.int(from),
        unique_investigations: row.int(from + 1),
        requests: row.int(from + 2),
        unique_requests: row.int(from + 3),
    }
}

/// Rows of counts upserted into an aggregate table at most per statement
/// (5 to 7 values each: far below both databases' limit on bound values).
const UPSERTS_PER_STATEMENT: usize = 250;

/// Adds each row's counts to the row of an aggregate table keyed by
/// `key_columns` (made if absent), a few hundred rows per statement. The
/// keys must be distinct (they come from a map): PostgreSQL refuses to
/// update one row twice in one statement.
async fn add_counts<C: Sql>(
    conn: &mut C,
    table: &str,
    key_columns: &str,
    rows: &[(Vec<Bind<'_>>, ItemCounts)],
) -> Result<()> {
    for chunk in rows.chunks(UPSERTS_PER_STATEMENT) {
        let mut values = Vec::with_capacity(chunk.len());
        let mut binds: Vec<Bind<'_>> = Vec::new();
        for (keys, c) in chunk {
            let first = binds.len() + 1;
            binds.extend(keys.iter().copied());
            binds.extend([
                Bind::Int(c.investigations),
                Bind::Int(c.unique_investigations),
                Bind::Int(c.requests),
                Bind::Int(c.unique_requests),
            ]);
            let placeholders: Vec<String> = (first..=binds.len()).map(C::placeholder).collect();
            values.push(format!("({})", placeholders.join(", ")));
        }
        let sql = format!(
            "INSERT INTO {table} ({key_columns}, investigations, unique_investigations, requests, unique_requests) \
             VALUES {} ON CONFLICT ({key_columns}) DO UPDATE SET \
             investigations = {table}.investigations + excluded.investigations, \
             unique_investigations = {table}.unique_investigations + excluded.unique_investigations, \
             requests = {table}.requests + excluded.requests, \
             unique_requests = {table}.unique_requests + excluded.unique_requests",
            values.join(", ")
        );
        conn.run(&sql, &binds).await?;
    }
    Ok(())
}

/// A browse group's rows as upsert rows: (view, value, month or year).
fn group_rows<'a>(map: &'a BTreeMap<(&'static str, String, i64), ItemCounts>) -> Vec<(Vec<Bind<'a>>, ItemCounts)> {
    map.iter().map(|((view, value, n), c)| (vec![Bind::Text(view), Bind::Text(value), Bind::Int(*n)], *c)).collect()
}

/// The aggregates above the item's day: the item's month and year, the
/// repository's month, and each browse group's month and year (the groups
/// the item's current record belongs to; an hour's items summed per group
/// first, so a popular series costs one write per hour, not one per item).
async fn add_rollups<B: Backend>(
    tx: &mut WriteTx<'_, B>,
    monthly: &BTreeMap<(RecordId, i64), ItemCounts>,
) -> Result<()> {
    let ids: Vec<RecordId> = monthly.keys().map(|(id, _)| *id).collect::<BTreeSet<_>>().into_iter().collect();
    let records = B::current(&mut **tx, &ids).await?;
    let mut yearly: BTreeMap<(RecordId, i64), ItemCounts> = BTreeMap::new();
    let mut repository: BTreeMap<i64, ItemCounts> = BTreeMap::new();
    let mut groups: BTreeMap<(&'static str, String, i64), ItemCounts> = BTreeMap::new();
    let mut group_years: BTreeMap<(&'static str, String, i64), ItemCounts> = BTreeMap::new();
    for (&(record_id, month), c) in monthly {
        let year = month.div_euclid(12);
        yearly.entry((record_id, year)).or_default().add(c);
        repository.entry(month).or_default().add(c);
        if let Some((record, _)) = records.get(&record_id) {
            for entry in arkiv_model::browse::browse_entries(record) {
                let view = entry.view.as_str();
                groups.entry((view, entry.value.clone(), month)).or_default().add(c);
                group_years.entry((view, entry.value, year)).or_default().add(c);
            }
        }
    }
    let ints = |map: &BTreeMap<(RecordId, i64), ItemCounts>| -> Vec<(Vec<Bind<'static>>, ItemCounts)> {
        map.iter().map(|(&(a, b), c)| (vec![Bind::Int(a), Bind::Int(b)], *c)).collect()
    };
    add_counts(&mut **tx, "usage_monthly", "record_id, month", &ints(monthly)).await?;
    add_counts(&mut **tx, "usage_yearly", "record_id, year", &ints(&yearly)).await?;
    let months: Vec<_> = repository.iter().map(|(&m, c)| (vec![Bind::Int(m)], *c)).collect();
    add_counts(&mut **tx, "usage_repository_monthly", "month", &months).await?;
    add_counts(&mut **tx, "usage_group_monthly", "view, value, month", &group_rows(&groups)).await?;
    add_counts(&mut **tx, "usage_group_yearly", "view, value, year", &group_rows(&group_years)).await?;
    Ok(())
}

#[async_trait]
impl<B: Backend> Usage for B {
    async fn add_usage_events(&self, events: &[UsageEvent]) -> Result<()> {
        let mut writer = self.writer().await?;
        // One transaction: one commit for the batch, not one per statement.
        let mut tx = B::begin_write(&mut writer).await?;
        insert_events(&mut *tx, events).await?;
        if let Some(first) = events.iter().map(|e| e.at).min() {
            tx.run(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[Bind::Text(LIVE_SINCE), Bind::Text(&first.to_string())],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn import_usage_events(&self, sha256: &str, name: &str, events: &[UsageEvent], now: i64) -> Result<bool> {
        B::check_text(&|| "the log's name".to_string(), name)?;
        let mut writer = self.writer().await?;
        let mut tx = B::begin_write(&mut writer).await?;
        let noted = tx
            .run(
                "INSERT INTO usage_imports (sha256, name, events, imported) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
                &[Bind::Text(sha256), Bind::Text(name), Bind::Int(events.len() as i64), Bind::Int(now)],
            )
            .await?;
        if noted == 0 {
            return Ok(false);
        }
        insert_events(&mut *tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn usage_live_since(&self) -> Result<Option<i64>> {
        Ok(read_meta(&mut *self.reader().await?, LIVE_SINCE).await?.and_then(|v| v.parse().ok()))
    }

    async fn usage_key(&self, day: i64, fresh: &str) -> Result<String> {
        if let Some(row) =
            self.reader().await?.row("SELECT key FROM usage_keys WHERE day = $1", &[Bind::Int(day)]).await?
        {
            return Ok(row.text(0).to_string());
        }
        let mut writer = self.writer().await?;
        writer
            .run(
                "INSERT INTO usage_keys (day, key) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
                &[Bind::Int(day), Bind::Text(fresh)],
            )
            .await?;
        let row = writer.row("SELECT key FROM usage_keys WHERE day = $1", &[Bind::Int(day)]).await?;
        Ok(row.map(|r| r.text(0).to_string()).unwrap_or_else(|| fresh.to_string()))
    }

    async fn roll_up_usage(&self, until: i64) -> Result<RollUp> {
        let mut done = RollUp::default();
        loop {
            let mut writer = self.writer().await?;
            let mut tx = B::begin_write(&mut writer).await?;
            let first = tx
                .row("SELECT MIN(at) FROM usage_events WHERE rolled = 0 AND at < $1", &[Bind::Int(until)])
                .await?
                .and_then(|r| r.opt_int(0));
            let Some(first) = first else {
                let through = read_meta(&mut *tx, ROLLED_THROUGH).await?.and_then(|v| v.parse::<i64>().ok());
                if through.is_none_or(|t| t < until) {
                    write_meta(&mut *tx, ROLLED_THROUGH, &until.to_string()).await?;
                }
                tx.commit().await?;
                return Ok(done);
            };
            let start = first.div_euclid(3600) * 3600;
            let end = (start + 3600).min(until);
            // The events of the hour, and those just after it that decide
            // whether its last clicks were double clicks.
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM usage_events WHERE rolled = 0 AND at >= $1 AND at < $2 ORDER BY at"
            );
            // Each row becomes its event as it arrives: the hour is held as
            // events (48 bytes each), never as the driver's rows too.
            let mut events: Vec<UsageEvent> = Vec::new();
            {
                use futures::TryStreamExt;
                let binds = [Bind::Int(start), Bind::Int(end + DOUBLE_CLICK_SECONDS + 1)];
                let mut rows = (*tx).stream(&sql, &binds);
                while let Some(row) = rows.try_next().await? {
                    events.extend(event_of(&row));
                }
            }
            let counts = count_hour(&events, end);
            let mut monthly: BTreeMap<(RecordId, i64), ItemCounts> = BTreeMap::new();
            let mut by_access: BTreeMap<(RecordId, i64, bool), ItemCounts> = BTreeMap::new();
            let mut daily = Vec::with_capacity(counts.len());
            for (&(record_id, day, open), c) in &counts {
                daily.push((vec![Bind::Int(record_id), Bind::Int(day), Bind::Int(i64::from(open))], *c));
                monthly.entry((record_id, month_of_day(day))).or_default().add(c);
                by_access.entry((record_id, month_of_day(day), open)).or_default().add(c);
            }
            add_counts(&mut *tx, "usage_daily", "record_id, day, open_access", &daily).await?;
            let access: Vec<_> = by_access
                .iter()
                .map(|(&(id, month, open), c)| (vec![Bind::Int(id), Bind::Int(month), Bind::Int(i64::from(open))], *c))
                .collect();
            add_counts(&mut *tx, "usage_item_access_monthly", "record_id, month, open_access", &access).await?;
            add_rollups::<B>(&mut tx, &monthly).await?;
            let marked = tx
                .run(
                    "UPDATE usage_events SET rolled = 1 WHERE rolled = 0 AND at >= $1 AND at < $2",
                    &[Bind::Int(start), Bind::Int(end)],
                )
                .await?;
            tx.commit().await?;
            done.events += marked;
            done.hours += 1;
            done.items += monthly.len() as u64;
        }
    }

    async fn purge_usage(&self, events_before: i64, keys_before_day: i64) -> Result<(u64, u64)> {
        let mut writer = self.writer().await?;
        let events =
            writer.run("DELETE FROM usage_events WHERE rolled = 1 AND at < $1", &[Bind::Int(events_before)]).await?;
        // A key goes only once no uncounted event of its day is left.
        let keys = writer
            .run(
                "DELETE FROM usage_keys WHERE day < $1 AND NOT EXISTS \
                 (SELECT 1 FROM usage_events WHERE rolled = 0 AND at < (usage_keys.day + 1) * 86400)",
                &[Bind::Int(keys_before_day)],
            )
            .await?;
        Ok((events, keys))
    }

    async fn item_usage_by_day(&self, record_id: RecordId, from: i64, to: i64) -> Result<Vec<DayUsage>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT day, open_access, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_daily WHERE record_id = $1 AND day >= $2 AND day <= $3 ORDER BY day, open_access",
                &[Bind::Int(record_id), Bind::Int(from), Bind::Int(to)],
            )
            .await?;
        Ok(rows.iter().map(|r| DayUsage { day: r.int(0), open: r.int(1) != 0, counts: counts_of(r, 2) }).collect())
    }

    async fn item_usage_by_month(&self, record_id: RecordId) -> Result<Vec<MonthUsage>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT month, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_monthly WHERE record_id = $1 ORDER BY month",
                &[Bind::Int(record_id)],
            )
            .await?;
        Ok(rows.iter().map(|r| month_of(r, 0)).collect())
    }

    async fn repository_usage_by_month(&self, from: i64, to: i64) -> Result<Vec<MonthUsage>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT month, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_repository_monthly WHERE month >= $1 AND month <= $2 ORDER BY month",
                &[Bind::Int(from), Bind::Int(to)],
            )
            .await?;
        Ok(rows.iter().map(|r| month_of(r, 0)).collect())
    }

    async fn top_items(&self, period: UsagePeriod, limit: i64) -> Result<Vec<(RecordId, ItemCounts)>> {
        let (table, column, value) = match period {
            UsagePeriod::Month(m) => ("usage_monthly", "month", m),
            UsagePeriod::Year(y) => ("usage_yearly", "year", y),
        };
        let sql = format!(
            "SELECT record_id, investigations, unique_investigations, requests, unique_requests FROM {table} \
             WHERE {column} = $1 AND requests > 0 ORDER BY requests DESC, record_id DESC LIMIT $2"
        );
        let rows = self.reader().await?.rows(&sql, &[Bind::Int(value), Bind::Int(limit)]).await?;
        Ok(rows.iter().map(|r| (r.int(0), counts_of(r, 1))).collect())
    }

    async fn top_groups(&self, view: &str, year: i64, limit: i64) -> Result<Vec<(String, ItemCounts)>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT value, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_group_yearly WHERE view = $1 AND year = $2 \
                 ORDER BY requests DESC, value DESC LIMIT $3",
                &[Bind::Text(view), Bind::Int(year), Bind::Int(limit)],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.text(0).to_string(), counts_of(r, 1))).collect())
    }

    async fn group_usage_by_month(&self, view: &str, value: &str) -> Result<Vec<MonthUsage>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT month, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_group_monthly WHERE view = $1 AND value = $2 ORDER BY month",
                &[Bind::Text(view), Bind::Text(value)],
            )
            .await?;
        Ok(rows.iter().map(|r| month_of(r, 0)).collect())
    }

    async fn groups_by_month(&self, view: &str, from: i64, to: i64) -> Result<Vec<(String, MonthUsage)>> {
        let rows = self
            .reader()
            .await?
            .rows(
                "SELECT value, month, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_group_monthly WHERE view = $1 AND month >= $2 AND month <= $3 ORDER BY value, month",
                &[Bind::Text(view), Bind::Int(from), Bind::Int(to)],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.text(0).to_string(), month_of(r, 1))).collect())
    }

    async fn item_usage_page(&self, from: i64, to: i64, after: RecordId, limit: i64) -> Result<Vec<ItemMonthAccess>> {
        // The items first (distinct ids after the cursor with usage in the
        // range, walking the primary key), then their rows.
        let mut reader = self.reader().await?;
        let ids = reader
            .rows(
                "SELECT DISTINCT record_id FROM usage_item_access_monthly \
                 WHERE record_id > $1 AND month >= $2 AND month <= $3 ORDER BY record_id LIMIT $4",
                &[Bind::Int(after), Bind::Int(from), Bind::Int(to), Bind::Int(limit)],
            )
            .await?;
        let (Some(first), Some(last)) = (ids.first().map(|r| r.int(0)), ids.last().map(|r| r.int(0))) else {
            return Ok(Vec::new());
        };
        let rows = reader
            .rows(
                "SELECT record_id, month, open_access, investigations, unique_investigations, requests, unique_requests \
                 FROM usage_item_access_monthly WHERE record_id >= $1 AND record_id <= $2 \
                 AND month >= $3 AND month <= $4 ORDER BY record_id, month, open_access",
                &[Bind::Int(first), Bind::Int(last), Bind::Int(from), Bind::Int(to)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ItemMonthAccess {
                record_id: r.int(0),
                month: r.int(1),
                open: r.int(2) != 0,
                counts: counts_of(r, 3),
            })
            .collect())
    }

    async fn usage_months_available(&self) -> Result<Option<(i64, i64)>> {
        let row = self.reader().await?.row("SELECT MIN(month), MAX(month) FROM usage_repository_monthly", &[]).await?;
        Ok(row.and_then(|r| Some((r.opt_int(0)?, r.opt_int(1)?))))
    }

    async fn sushi_clients(&self) -> Result<Vec<SushiClient>> {
        let rows = self
            .reader()
            .await?
            .rows("SELECT requestor_id, customer_id, api_key, name, created FROM sushi_clients ORDER BY name, requestor_id", &[])
            .await?;
        Ok(rows.iter().map(sushi_client_of).collect())
    }

    async fn sushi_client(&self, requestor_id: &str) -> Result<Option<SushiClient>> {
        let row = self
            .reader()
            .await?
            .row(
                "SELECT requestor_id, customer_id, api_key, name, created FROM sushi_clients WHERE requestor_id = $1",
                &[Bind::Text(requestor_id)],
            )
            .await?;
        Ok(row.as_ref().map(sushi_client_of))
    }

    async fn add_sushi_client(&self, c: &SushiClient) -> Result<bool> {
        B::check_text(&|| "the SUSHI client's name".to_string(), &c.name)?;
        let added = self
            .writer()
            .await?
            .run(
                "INSERT INTO sushi_clients (requestor_id, customer_id, api_key, name, created) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (requestor_id) DO NOTHING",
                &[
                    Bind::Text(&c.requestor_id),
                    Bind::Text(&c.customer_id),
                    Bind::Text(&c.api_key),
                    Bind::Text(&c.name),
                    Bind::Int(c.created),
                ],
            )
            .await?;
        Ok(added == 1)
    }

    async fn remove_sushi_client(&self, requestor_id: &str) -> Result<bool> {
        let gone = self
            .writer()
            .await?
            .run("DELETE FROM sushi_clients WHERE requestor_id = $1", &[Bind::Text(requestor_id)])
            .await?;
        Ok(gone == 1)
    }

    async fn usage_rolled_through(&self) -> Result<i64> {
        Ok(read_meta(&mut *self.reader().await?, ROLLED_THROUGH).await?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

/// Multi-row inserts of events.
async fn insert_events<C: Sql>(conn: &mut C, events: &[UsageEvent]) -> Result<()> {
    // Statements of EVENTS_PER_INSERT rows, the rest in halving sizes
    // (256, 128, ... 1): a handful of statement shapes, each prepared once
    // per connection and kept in its cache, whatever the batch's size.
    let mut rest = events;
    while !rest.is_empty() {
        let n = if rest.len() >= EVENTS_PER_INSERT { EVENTS_PER_INSERT } else { 1 << rest.len().ilog2() };
        let (chunk, after) = rest.split_at(n);
        rest = after;
        let mut sql = format!("INSERT INTO usage_events ({EVENT_COLUMNS}) VALUES ");
        let mut binds = Vec::with_capacity(chunk.len() * 6);
        for (i, e) in chunk.iter().enumerate() {
            let p = i * 6;
            if i > 0 {
                sql.push_str(", ");
            }
            let values: Vec<String> = (p + 1..=p + 6).map(C::placeholder).collect();
            sql.push_str(&format!("({})", values.join(", ")));
            binds.extend([
                Bind::Int(e.at),
                Bind::Int(e.record_id),
                Bind::Int(e.target),
                Bind::Int(e.kind.code()),
                Bind::Int(i64::from(e.open)),
                Bind::Int(e.visitor),
            ]);
        }
        conn.run(&sql, &binds).await?;
    }
    Ok(())
}

fn sushi_client_of(r: &impl SqlRow) -> SushiClient {
    SushiClient {
        requestor_id: r.text(0).to_string(),
        customer_id: r.text(1).to_string(),
        api_key: r.text(2).to_string(),
        name: r.text(3).to_string(),
        created: r.int(4),
    }
}
