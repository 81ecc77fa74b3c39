//! Every table of the database, out and in: what `arkiv backup` and
//! `arkiv restore` are built on.
//!
//! A dump reads all tables inside one read transaction, so it is one
//! consistent state however long it takes and whatever the server writes
//! meanwhile (SQLite's WAL snapshot; PostgreSQL's REPEATABLE READ). It
//! lists the tables from the database itself rather than from a list kept
//! here, so a table a later migration adds is in every backup without
//! anyone remembering it. Cells are backend-neutral ([`Cell`]): the two
//! schemas differ in types only where PostgreSQL has BOOLEAN and SQLite an
//! INTEGER, and a restore converts by the target column's type. That is
//! what lets a SQLite repository move to PostgreSQL.
//!
//! A restore writes every table in one write transaction into a database
//! that holds no records and no users, and numbers the target's id
//! sequences on from the highest id restored. Written by hand over sqlx:
//! no crate copies a schema between SQLite and PostgreSQL.

use crate::postgres::PostgresStore;
use crate::sql::Backend;
use crate::sqlite::SqliteStore;
use crate::{Result, StoreError};
use async_trait::async_trait;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{Column, Row, TypeInfo, ValueRef};

/// One value of a row, as both backends can hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
}

/// Where a dump puts its tables, one after another.
pub trait TableSink: Send {
    /// A table begins, with its columns in the order rows give cells.
    fn table(&mut self, name: &str, columns: &[String]) -> std::io::Result<()>;
    fn row(&mut self, cells: Vec<Cell>) -> std::io::Result<()>;
}

/// Where a restore reads tables from, one after another.
pub trait TableSource: Send {
    /// The next table and its columns, or `None` after the last.
    fn next_table(&mut self) -> std::io::Result<Option<(String, Vec<String>)>>;
    /// Up to `max` further rows of the current table; none at its end.
    fn rows(&mut self, max: usize) -> std::io::Result<Vec<Vec<Cell>>>;
}

/// What a dump read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The last migration applied to the database.
    pub migration: i64,
    /// The change feed's last entry in the dumped state.
    pub last_change: i64,
    /// Each table with its rows.
    pub tables: Vec<(String, u64)>,
}

/// Tables a restore may leave out: a backend's own working tables, empty
/// whenever no bulk load is running, that the other backend lacks.
pub const LOCAL_TABLES: &[&str] = &["browse_pending"];

/// Tables the dump leaves out: the migration bookkeeping, which the target
/// has of its own.
const NOT_DUMPED: &[&str] = &["_sqlx_migrations"];

#[async_trait]
pub trait Backup: Send + Sync + 'static {
    /// Every table, in one consistent read, into `sink`.
    async fn dump(&self, sink: &mut dyn TableSink) -> Result<DumpInfo>;

    /// Every table of `source` into this database, in one transaction.
    /// Refused (nothing written) unless the database holds no records and
    /// no users. Returns the rows written per table.
    async fn restore(&self, source: &mut dyn TableSource) -> Result<Vec<(String, u64)>>;

    /// The tables of this database's schema (what a backup must cover).
    async fn table_names(&self) -> Result<Vec<String>>;
}

fn quoted(name: &str) -> Result<String> {
    // Names come from the database's own catalogue or a backup's manifest:
    // only plain identifiers are taken.
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(refused(format!("{name:?} is not a table or column name")));
    }
    Ok(format!("\"{name}\""))
}

fn refused(why: String) -> StoreError {
    StoreError::Refused(why)
}

/// Rows per INSERT: within SQLite's 32,766 and PostgreSQL's 65,535 binds.
fn rows_per_insert(columns: usize) -> usize {
    (30_000 / columns.max(1)).clamp(1, 500)
}

/// The INSERT of `rows` rows into `table`.
fn insert_sql(table: &str, columns: &[String], rows: usize, pg: bool) -> Result<String> {
    let names: Vec<String> = columns.iter().map(|c| quoted(c)).collect::<Result<_>>()?;
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", quoted(table)?, names.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            if pg {
                sql.push_str(&format!("${n}"));
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    Ok(sql)
}

/// A target column's kind, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Text,
}

fn kind_of(declared: &str) -> Kind {
    let t = declared.to_ascii_uppercase();
    if t.contains("BOOL") {
        Kind::Bool
    } else if t.contains("INT") || t.contains("SERIAL") {
        Kind::Int
    } else {
        Kind::Text
    }
}

/// A cell as the target column takes it, or why it cannot.
fn converted(cell: &Cell, kind: Kind, table: &str, column: &str) -> Result<Cell> {
    Ok(match (cell, kind) {
        (Cell::Null, _) => Cell::Null,
        (Cell::Int(i), Kind::Int) => Cell::Int(*i),
        (Cell::Bool(b), Kind::Int) => Cell::Int(*b as i64),
        (Cell::Bool(b), Kind::Bool) => Cell::Bool(*b),
        (Cell::Int(i), Kind::Bool) => Cell::Bool(*i != 0),
        (Cell::Text(t), Kind::Text) => Cell::Text(t.clone()),
        (Cell::Int(i), Kind::Text) => Cell::Text(i.to_string()),
        (other, _) => return Err(refused(format!("{table}.{column}: {other:?} does not fit a {kind:?} column"))),
    })
}

/// Reads the source's tables and checks them against the target's columns
/// before anything is written: the plan of the restore.
struct Plan {
    /// (table, source columns, their kinds in the target)
    tables: Vec<(String, Vec<String>, Vec<Kind>)>,
}

fn plan_table(
    name: &str,
    columns: &[String],
    target: &std::collections::HashMap<String, Vec<(String, String)>>,
) -> Result<Option<Vec<Kind>>> {
    let Some(target_columns) = target.get(name) else {
        if LOCAL_TABLES.contains(&name) {
            return Ok(None);
        }
        return Err(refused(format!(
            "the backup holds a table {name} this version of Arkiv does not have: restore it with the version that made it, or a later one"
        )));
    };
    columns
        .iter()
        .map(|c| {
            target_columns.iter().find(|(n, _)| n == c).map(|(_, t)| kind_of(t)).ok_or_else(|| {
                refused(format!("the backup's table {name} has a column {c} this version of Arkiv does not have"))
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

// ---------------------------------------------------------------------------
// SQLite

fn sqlite_cell(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Cell> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let type_name = raw.type_info().name().to_string();
    Ok(match type_name.as_str() {
        "INTEGER" | "BOOLEAN" => Cell::Int(row.try_get::<i64, _>(i)?),
        "TEXT" => Cell::Text(row.try_get::<String, _>(i)?),
        other => {
            let column = row.columns()[i].name().to_string();
            return Err(refused(format!("column {column} holds a {other} value, which no Arkiv table stores")));
        }
    })
}

async fn sqlite_columns(conn: &mut sqlx::SqliteConnection, table: &str) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info({})", quoted(table)?)))
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(|r| (r.get::<String, _>("name"), r.get::<String, _>("type"))).collect())
}

async fn sqlite_tables(conn: &mut sqlx::SqliteConnection) -> Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).filter(|n| !NOT_DUMPED.contains(&n.as_str())).collect())
}

#[async_trait]
impl Backup for SqliteStore {
    async fn dump(&self, sink: &mut dyn TableSink) -> Result<DumpInfo> {
        let mut conn = self.reader().await?;
        // A deferred transaction: its first read fixes the snapshot every
        // later read of it sees (WAL mode), whatever commits meanwhile.
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        let result = sqlite_dump(&mut conn, sink).await;
        let _ = sqlx::query("COMMIT").execute(&mut *conn).await;
        result
    }

    async fn restore(&self, source: &mut dyn TableSource) -> Result<Vec<(String, u64)>> {
        let mut writer = self.writer().await?;
        let mut tx = SqliteStore::begin_write(&mut writer).await?;
        refuse_if_not_empty(count(&mut *tx, "records").await?, count(&mut *tx, "users").await?)?;
        let mut target = std::collections::HashMap::new();
        for t in sqlite_tables(&mut tx).await? {
            let columns = sqlite_columns(&mut tx, &t).await?;
            target.insert(t, columns);
        }
        let written = restore_into(&mut *tx, source, &target, false).await?;
        tx.commit().await?;
        self.note_write();
        Ok(written)
    }

    async fn table_names(&self) -> Result<Vec<String>> {
        sqlite_tables(&mut *self.reader().await?).await
    }
}

async fn sqlite_dump(conn: &mut sqlx::SqliteConnection, sink: &mut dyn TableSink) -> Result<DumpInfo> {
    let migration: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await?;
    let last_change: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&mut *conn).await?;
    let mut info = DumpInfo { backend: "sqlite".into(), migration, last_change, tables: Vec::new() };
    for table in sqlite_tables(conn).await? {
        let columns: Vec<String> = sqlite_columns(conn, &table).await?.into_iter().map(|(n, _)| n).collect();
        sink.table(&table, &columns)?;
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {}", quoted(&table)?))).fetch(&mut *conn);
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await? {
            let cells = (0..columns.len()).map(|i| sqlite_cell(&row, i)).collect::<Result<Vec<_>>>()?;
            sink.row(cells)?;
            n += 1;
        }
        info.tables.push((table, n));
    }
    Ok(info)
}

// ---------------------------------------------------------------------------
// PostgreSQL

fn pg_cell(row: &sqlx::postgres::PgRow, i: usize) -> Result<Cell> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let type_name = raw.type_info().name().to_string();
    Ok(match type_name.as_str() {
        "INT8" => Cell::Int(row.try_get::<i64, _>(i)?),
        "INT4" => Cell::Int(row.try_get::<i32, _>(i)? as i64),
        "INT2" => Cell::Int(row.try_get::<i16, _>(i)? as i64),
        "BOOL" => Cell::Bool(row.try_get::<bool, _>(i)?),
        "TEXT" | "VARCHAR" => Cell::Text(row.try_get::<String, _>(i)?),
        other => {
            let column = row.columns()[i].name().to_string();
            return Err(refused(format!("column {column} holds a {other} value, which no Arkiv table stores")));
        }
    })
}

async fn pg_tables(conn: &mut sqlx::PgConnection) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).filter(|n| !NOT_DUMPED.contains(&n.as_str())).collect())
}

/// (name, type, whether its default draws on a sequence)
async fn pg_columns(conn: &mut sqlx::PgConnection, table: &str) -> Result<Vec<(String, String, bool)>> {
    let rows = sqlx::query(
        "SELECT column_name::text, data_type::text, COALESCE(column_default, '') LIKE 'nextval(%' \
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(|r| (r.get::<String, _>(0), r.get::<String, _>(1), r.get::<bool, _>(2))).collect())
}

#[async_trait]
impl Backup for PostgresStore {
    async fn dump(&self, sink: &mut dyn TableSink) -> Result<DumpInfo> {
        let mut conn = self.reader().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // One snapshot for every table, taken at the first read.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
        let migration: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::bigint FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut *tx)
                .await?;
        let last_change: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::bigint FROM changes").fetch_one(&mut *tx).await?;
        let mut info = DumpInfo { backend: "postgres".into(), migration, last_change, tables: Vec::new() };
        for table in pg_tables(&mut tx).await? {
            let columns: Vec<String> = pg_columns(&mut tx, &table).await?.into_iter().map(|(n, _, _)| n).collect();
            sink.table(&table, &columns)?;
            let mut rows =
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {}", quoted(&table)?))).fetch(&mut *tx);
            let mut n = 0u64;
            while let Some(row) = rows.try_next().await? {
                let cells = (0..columns.len()).map(|i| pg_cell(&row, i)).collect::<Result<Vec<_>>>()?;
                sink.row(cells)?;
                n += 1;
            }
            drop(rows);
            info.tables.push((table, n));
        }
        tx.commit().await?;
        Ok(info)
    }

    async fn restore(&self, source: &mut dyn TableSource) -> Result<Vec<(String, u64)>> {
        let mut writer = self.writer().await?;
        let mut tx = PostgresStore::begin_write(&mut writer).await?;
        refuse_if_not_empty(count(&mut *tx, "records").await?, count(&mut *tx, "users").await?)?;
        let mut target = std::collections::HashMap::new();
        let mut serials = Vec::new();
        for t in pg_tables(&mut tx).await? {
            let columns = pg_columns(&mut tx, &t).await?;
            serials.extend(columns.iter().filter(|c| c.2).map(|c| (t.clone(), c.0.clone())));
            target.insert(t, columns.into_iter().map(|(n, ty, _)| (n, ty)).collect());
        }
        let written = restore_into(&mut *tx, source, &target, true).await?;
        // Ids the database hands out from now on follow the restored ones.
        for (table, column) in serials {
            let (t, c) = (quoted(&table)?, quoted(&column)?);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false)"
            )))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.note_write();
        Ok(written)
    }

    async fn table_names(&self) -> Result<Vec<String>> {
        pg_tables(&mut *self.reader().await?).await
    }
}

// ---------------------------------------------------------------------------
// Both

/// How many rows `table` holds, on either backend.
async fn count<C: crate::sql::Sql>(conn: &mut C, table: &str) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {}", quoted(table)?);
    Ok(conn.row(&sql, &[]).await?.map(|r| crate::sql::SqlRow::int(&r, 0)).unwrap_or(0))
}

fn refuse_if_not_empty(records: i64, users: i64) -> Result<()> {
    if records > 0 || users > 0 {
        return Err(refused(format!(
            "the target already holds {records} records and {users} users: a backup is restored into an empty repository only"
        )));
    }
    Ok(())
}

/// Writes every table of `source` on `conn` (inside the caller's
/// transaction): the target's own rows of each are deleted first (a new
/// repository's defaults), then the backup's inserted in batches.
async fn restore_into<C>(
    conn: &mut C,
    source: &mut dyn TableSource,
    target: &std::collections::HashMap<String, Vec<(String, String)>>,
    pg: bool,
) -> Result<Vec<(String, u64)>>
where
    C: RestoreConn,
{
    let mut plan = Plan { tables: Vec::new() };
    let mut written = Vec::new();
    while let Some((name, columns)) = source.next_table()? {
        let Some(kinds) = plan_table(&name, &columns, target)? else {
            // A backend's own table the target lacks: skip its rows.
            while !source.rows(1000)?.is_empty() {}
            continue;
        };
        conn.execute_sql(&format!("DELETE FROM {}", quoted(&name)?), Vec::new()).await?;
        let per = rows_per_insert(columns.len());
        let mut n = 0u64;
        loop {
            let rows = source.rows(per)?;
            if rows.is_empty() {
                break;
            }
            let mut binds = Vec::with_capacity(rows.len() * columns.len());
            for row in &rows {
                if row.len() != columns.len() {
                    return Err(refused(format!(
                        "a row of {name} has {} cells for {} columns",
                        row.len(),
                        columns.len()
                    )));
                }
                for ((cell, kind), column) in row.iter().zip(&kinds).zip(&columns) {
                    binds.push((converted(cell, *kind, &name, column)?, *kind));
                }
            }
            conn.execute_sql(&insert_sql(&name, &columns, rows.len(), pg)?, binds).await?;
            n += rows.len() as u64;
        }
        plan.tables.push((name.clone(), columns, kinds));
        written.push((name, n));
    }
    Ok(written)
}

/// What a restore needs of a connection: one statement with typed binds.
#[async_trait]
trait RestoreConn: Send {
    async fn execute_sql(&mut self, sql: &str, binds: Vec<(Cell, Kind)>) -> Result<()>;
}

#[async_trait]
impl RestoreConn for sqlx::SqliteConnection {
    async fn execute_sql(&mut self, sql: &str, binds: Vec<(Cell, Kind)>) -> Result<()> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for (cell, kind) in binds {
            q = match (cell, kind) {
                (Cell::Int(i), _) => q.bind(i),
                (Cell::Bool(b), _) => q.bind(b as i64),
                (Cell::Text(t), _) => q.bind(t),
                (Cell::Null, Kind::Text) => q.bind(None::<String>),
                (Cell::Null, _) => q.bind(None::<i64>),
            };
        }
        q.execute(&mut *self).await?;
        Ok(())
    }
}

#[async_trait]
impl RestoreConn for sqlx::PgConnection {
    async fn execute_sql(&mut self, sql: &str, binds: Vec<(Cell, Kind)>) -> Result<()> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for (cell, kind) in binds {
            q = match (cell, kind) {
                (Cell::Int(i), _) => q.bind(i),
                (Cell::Bool(b), _) => q.bind(b),
                (Cell::Text(t), _) => q.bind(t),
                (Cell::Null, Kind::Text) => q.bind(None::<String>),
                (Cell::Null, Kind::Bool) => q.bind(None::<bool>),
                (Cell::Null, Kind::Int) => q.bind(None::<i64>),
            };
        }
        q.execute(&mut *self).await?;
        Ok(())
    }
}
