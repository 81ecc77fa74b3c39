//! The seam under the stores: what a query needs from a database, so that
//! each query is written once for SQLite and PostgreSQL.
//!
//! Three small pieces, each implemented by both backends:
//! - [`Sql`] runs a statement on a connection (or inside a transaction,
//!   which derefs to one) with its values as [`Bind`]s, and gives back rows;
//! - [`SqlRow`] reads a column of such a row as one of the few types the
//!   schema uses;
//! - [`Backend`] is a store: where reads run, the connection writes go
//!   through, how a write transaction starts, and the few things whose SQL
//!   truly differs (writing a batch of records, listing ids, the size on
//!   disk).
//!
//! Statements use PostgreSQL's numbered placeholders (`$1`, `$2`): SQLite
//! reads them too (as `?NNN`, through sqlx), so one string serves both, and
//! a value can be named twice. The public traits of the crate
//! ([`crate::Records`], [`crate::Browse`], [`crate::AccountStore`]'s
//! seams...) are implemented once, over [`Backend`], in `queries.rs` and
//! `accounts/queries.rs`.
//!
//! Why not sqlx's own generics: a function generic over
//! `sqlx::Database` must repeat a dozen `Encode`/`Decode`/`Executor` bounds
//! at every use (Rust does not carry where-clauses along), and
//! `sqlx::Any` gives up SQLite's connection options and PostgreSQL's
//! arrays. These traits state the bounds once, in the macro below.

use crate::rows::PreparedBatch;
use crate::{ImportNote, RecordId, RecordWrite, Result};
use arkiv_model::Record;
use async_trait::async_trait;
use futures::stream::BoxStream;
use std::collections::HashMap;
use std::ops::DerefMut;

/// A value bound to a statement's placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
    /// A BOOLEAN on PostgreSQL, an INTEGER 0 or 1 on SQLite (sqlx maps it).
    Bool(bool),
}

/// Reading a column of a row, by position, as a type the schema uses. A
/// column of another type is a bug in the query (the schema is ours), so
/// these panic as sqlx's `Row::get` does.
pub trait SqlRow: Send + Sync + 'static {
    fn int(&self, i: usize) -> i64;
    fn opt_int(&self, i: usize) -> Option<i64>;
    fn text(&self, i: usize) -> &str;
    fn opt_text(&self, i: usize) -> Option<&str>;
    /// A BOOLEAN, or an INTEGER read as one (SQLite has no booleans).
    fn flag(&self, i: usize) -> bool;
}

/// A connection that runs statements: the pool's, the writer, or a
/// transaction (which derefs to its connection). Transactions are sqlx's
/// own (`sqlx::Connection::begin`): dropped without a commit, they roll
/// back.
#[async_trait]
pub trait Sql: sqlx::Connection + Send {
    type Row: SqlRow;

    /// Every row of a query.
    async fn rows(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<Self::Row>>;

    /// The first row of a query, if any.
    async fn row(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<Option<Self::Row>>;

    /// Runs a statement; returns how many rows it changed.
    async fn run(&mut self, sql: &str, binds: &[Bind<'_>]) -> Result<u64>;

    /// A query's rows as they arrive (for long lists decoded on the fly).
    fn stream<'a>(&'a mut self, sql: &'a str, binds: &'a [Bind<'a>]) -> BoxStream<'a, Result<Self::Row, sqlx::Error>>;

    /// The placeholder of the `n`th value (from 1) of a statement whose
    /// values appear in the order they are bound: `$n` on PostgreSQL, a
    /// bare `?` on SQLite. For the multi-row statements of bulk writes:
    /// sqlx finds each named SQLite parameter (`$n`) by asking SQLite its
    /// name, a walk along the statement's list of names, so a statement of
    /// thousands of `$n` costs the square of their number (a third of the
    /// server's time went there when every page view was a new row).
    fn placeholder(n: usize) -> String;
}

impl<'a> Bind<'a> {
    /// Binds this value to a query of any backend that takes the schema's
    /// types; the one place those bounds are written.
    fn bind_to<'q, DB>(self, query: QueryOf<'q, DB>) -> QueryOf<'q, DB>
    where
        'a: 'q,
        DB: sqlx::Database,
        i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        match self {
            Bind::Int(v) => query.bind(v),
            Bind::OptInt(v) => query.bind(v),
            Bind::Text(v) => query.bind(v),
            Bind::OptText(v) => query.bind(v),
            Bind::Bool(v) => query.bind(v),
        }
    }
}

type QueryOf<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>;

/// A query with its values bound, for any backend.
fn query<'q, DB>(sql: &'q str, binds: &'q [Bind<'q>]) -> QueryOf<'q, DB>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    // sqlx 0.9 asks that SQL not built from input be marked so: every
    // statement here is one of this crate's constants (or built from them,
    // with identifiers only); values always travel as binds.
    binds.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, b| b.bind_to(q))
}

/// [`Sql`] and [`SqlRow`] for one sqlx backend. A macro rather than a
/// generic impl: the impls are for two concrete connection types, and the
/// bodies are the same sqlx calls on each.
macro_rules! sql_backend {
    ($db:ty, $conn:ty, $row:ty, $placeholder:expr) => {
        impl $crate::sql::SqlRow for $row {
            fn int(&self, i: usize) -> i64 {
                sqlx::Row::get(self, i)
            }
            fn opt_int(&self, i: usize) -> Option<i64> {
                sqlx::Row::get(self, i)
            }
            fn text(&self, i: usize) -> &str {
                sqlx::Row::get(self, i)
            }
            fn opt_text(&self, i: usize) -> Option<&str> {
                sqlx::Row::get(self, i)
            }
            fn flag(&self, i: usize) -> bool {
                sqlx::Row::get(self, i)
            }
        }

        #[async_trait::async_trait]
        impl $crate::sql::Sql for $conn {
            type Row = $row;

            async fn rows(&mut self, sql: &str, binds: &[$crate::sql::Bind<'_>]) -> $crate::Result<Vec<$row>> {
                Ok($crate::sql::query::<$db>(sql, binds).fetch_all(self).await?)
            }

            async fn row(&mut self, sql: &str, binds: &[$crate::sql::Bind<'_>]) -> $crate::Result<Option<$row>> {
                Ok($crate::sql::query::<$db>(sql, binds).fetch_optional(self).await?)
            }

            async fn run(&mut self, sql: &str, binds: &[$crate::sql::Bind<'_>]) -> $crate::Result<u64> {
                Ok($crate::sql::query::<$db>(sql, binds).execute(self).await?.rows_affected())
            }

            fn stream<'a>(
                &'a mut self,
                sql: &'a str,
                binds: &'a [$crate::sql::Bind<'a>],
            ) -> futures::stream::BoxStream<'a, std::result::Result<$row, sqlx::Error>> {
                $crate::sql::query::<$db>(sql, binds).fetch(self)
            }

            fn placeholder(n: usize) -> String {
                let make: fn(usize) -> String = $placeholder;
                make(n)
            }
        }
    };
}

sql_backend!(sqlx::Sqlite, sqlx::SqliteConnection, sqlx::sqlite::SqliteRow, |_| "?".to_string());
sql_backend!(sqlx::Postgres, sqlx::PgConnection, sqlx::postgres::PgRow, |n| format!("${n}"));

/// The row type of a backend's connections.
pub type RowOf<B> = <<B as Backend>::Conn as Sql>::Row;

/// A write transaction of a backend (see [`Backend::begin_write`]).
pub type WriteTx<'c, B> = sqlx::Transaction<'c, <<B as Backend>::Conn as sqlx::Connection>::Database>;

/// A store over one database: what the queries written once need from it,
/// and the few operations whose SQL differs between backends (each says
/// why where it is implemented).
///
/// Public so that the public traits can be implemented over it, in a
/// private module so that nothing outside the crate can name it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    type Conn: Sql + Send;
    /// A pooled connection to read on.
    type Reader: DerefMut<Target = Self::Conn> + Send;
    /// The connection writes go through.
    type Writer<'a>: DerefMut<Target = Self::Conn> + Send
    where
        Self: 'a;

    /// The status column, written so that a query does not pick the status
    /// index (SQLite's unary `+`; PostgreSQL's planner needs no such hint
    /// and has no unary plus for text). Paged reads that walk the primary
    /// key from a cursor say this, so that a page never sorts a whole
    /// status's records.
    const STATUS_OFF_INDEX: &'static str;

    /// The store's count of committed record writes
    /// ([`crate::ChangeFeed::local_writes`]).
    fn write_counter(&self) -> &std::sync::atomic::AtomicU64;

    /// Counts a committed record write.
    fn note_write(&self) {
        self.write_counter().fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// A connection of the reading pool.
    async fn reader(&self) -> Result<Self::Reader>;

    /// The connection writes go through: SQLite's one writing connection
    /// (its mutex queues the writers), a pooled connection on PostgreSQL.
    async fn writer(&self) -> Result<Self::Writer<'_>>;

    /// Begins a transaction on `conn` that no other writer can interleave
    /// with: `BEGIN IMMEDIATE` on SQLite, the writers' advisory lock on
    /// PostgreSQL (which keeps the change feed in commit order).
    async fn begin_write(conn: &mut Self::Conn) -> Result<WriteTx<'_, Self>>;

    /// Refuses text the database cannot store (PostgreSQL's TEXT cannot
    /// hold NUL), with an error that says which.
    fn check_text(_what: &dyn Fn() -> String, _text: &str) -> Result<()> {
        Ok(())
    }

    /// Writes records in one transaction (see [`crate::Records::put_records`]):
    /// SQLite with multi-row inserts and its bulk-load mode, PostgreSQL
    /// with one `UNNEST` per table, or `COPY` during a bulk load. With a `note`, an import's progress
    /// goes into the same transaction (`import_progress::write`).
    async fn write_records(&self, batch: Vec<RecordWrite>, note: Option<&ImportNote>) -> Result<Vec<RecordId>>;

    /// Runs a prepared batch's SQL inside `tx` (the rewrite of records that
    /// a change of the subject tree moves).
    async fn write_prepared(&self, tx: &mut Self::Conn, batch: &PreparedBatch) -> Result<()>;

    /// The current state of the records with these ids: one statement with
    /// the ids as one value (a JSON array on SQLite, an array on
    /// PostgreSQL).
    async fn current(conn: &mut Self::Conn, ids: &[RecordId]) -> Result<HashMap<RecordId, (Record, i64)>>;

    async fn begin_bulk_load(&self) -> Result<()> {
        Ok(())
    }

    async fn end_bulk_load(&self) -> Result<()> {
        Ok(())
    }

    /// Bytes the database takes on disk, where the backend can tell.
    async fn size_bytes(&self) -> Result<Option<u64>>;

    /// Gives back the memory of caches a long run of writes filled (see
    /// [`crate::Meta::release_write_cache`]). Nothing to do by default.
    async fn release_write_cache(&self) -> Result<()> {
        Ok(())
    }

    /// The reading pool (SQLite's single writer connection is not in it).
    fn pool_use(&self) -> crate::PoolUse;
}
