//! Bulk loads into the PostgreSQL store: a large import into an empty
//! repository, written with `COPY` into tables that keep only the indexes
//! the writes themselves need, the others built once at the end.
//!
//! What an ordinary write keeps up to date entry by entry, and what makes
//! a PostgreSQL import slow as it grows, is the indexes keyed by values
//! that arrive in random order: the secondary indexes of `records` (status,
//! owner, dates, type) and the primary keys of `browse` (view, value, sort
//! key; seven entries a record) and `oai_sets` (set, record; five). Each
//! batch dirties pages all over them, and every page dirtied for the first
//! time after a checkpoint is written to the log whole. During a bulk load
//! instead:
//! - the secondary indexes of the big tables (`records`, `revisions`,
//!   `changes`, `browse`, `oai_sets`) and the primary keys of `browse` and
//!   `oai_sets` are dropped; the SQL that makes them again is kept in
//!   `meta` (under [`DROPPED_INDEXES`], as on SQLite) in the same
//!   transaction;
//! - the loading store writes new rows with `COPY ... FROM STDIN` ([`Copy`])
//!   inside each batch's transaction, with the import's progress note, so
//!   a committed batch is durable and an import resumes as always; what it
//!   stores out of line it compresses with lz4 where the server can
//!   ([`compress_with_lz4`]).
//!
//! Kept: the primary keys of `records` (each batch looks up the records it
//! updates, and allocates ids above the highest), `revisions` and `changes`
//! (both appended in key order, so cheap to keep, and what reads of a
//! record's history and of the change feed walk), and every small table's.
//! The primary keys of `browse` and `oai_sets` guard nothing a write relies
//! on: each write computes a record's entries and sets afresh from the
//! record as stored, under the writers' lock, so the same row is never
//! added twice (a duplicate would make the key's rebuild fail, loudly,
//! rather than list a record twice). Without them a write that removes
//! entries (an edit during the load) scans the table.
//!
//! [`finish`] rebuilds what was dropped, a transaction per index, each under
//! the writers' lock and removing its SQL from the list, then analyses the
//! tables. Browse entries are written as they come (not held back as on
//! SQLite): without an index to keep up, appending them costs no more than
//! holding them. So a load killed half-way loses nothing it reported done,
//! and the next opening of the database by any process finishes it
//! ([`crate::postgres::PostgresStore::open`]). Until then queries are
//! correct but may scan.

use crate::bulk_load::{dropped_indexes, DROPPED_INDEXES};
use crate::postgres::PostgresStore;
use crate::queries::write_meta;
use crate::sql::Backend;
use crate::Result;
use sqlx::PgConnection;
use std::fmt::Write as _;

/// The tables whose indexes a bulk load drops: the ones that grow by rows
/// per record.
const TABLES: [&str; 5] = ["records", "revisions", "changes", "browse", "oai_sets"];

/// The tables whose primary key a bulk load drops too: keyed by values in
/// random order (a browse value, a set), and written only by appends
/// that compute their rows afresh (see the module docs).
const KEYS_DROPPED: [&str; 2] = ["browse", "oai_sets"];

/// Memory each index build may sort in before spilling to disk (the
/// server's default is 64 MB; the browse key of 1,000,000 records is about
/// 500 MB of tuples).
const BUILD_MEMORY: &str = "1GB";

/// Starts a bulk load: drops the indexes (see the module docs), keeping
/// their SQL. One begun while another is unfinished keeps both lists (the
/// second finds nothing more to drop).
pub(crate) async fn begin(conn: &mut PgConnection) -> Result<()> {
    let mut tx = PostgresStore::begin_write(conn).await?;
    let mut kept = dropped_indexes(&mut *tx).await?;
    // Unique indexes back the primary keys and the constraints ON CONFLICT
    // names; those stay, but for browse's (below).
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname, indexdef FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename = ANY($1) AND indexdef NOT LIKE 'CREATE UNIQUE %' \
         ORDER BY tablename, indexname",
    )
    .bind(&TABLES[..])
    .fetch_all(&mut *tx)
    .await?;
    for (name, sql) in indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {}", quote(&name)))).execute(&mut *tx).await?;
        kept.push(sql);
    }
    for table in KEYS_DROPPED {
        let key: Option<(String, String)> = sqlx::query_as(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = $1::regclass AND contype = 'p'",
        )
        .bind(table)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((name, def)) = key {
            sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} DROP CONSTRAINT {}", quote(&name))))
                .execute(&mut *tx)
                .await?;
            kept.push(format!("ALTER TABLE {table} ADD CONSTRAINT {} {def}", quote(&name)));
        }
    }
    write_meta(&mut *tx, DROPPED_INDEXES, &serde_json::to_string(&kept).expect("strings serialize")).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a bulk load, this store's or one a killed process left: each
/// dropped index made again, in a transaction of its own that also takes
/// its SQL off the list, so a finish killed in between is taken up where
/// it stopped. Does nothing (one read of `meta`) when none is unfinished.
pub(crate) async fn finish(conn: &mut PgConnection) -> Result<()> {
    if dropped_indexes(conn).await?.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    loop {
        let mut tx = PostgresStore::begin_write(conn).await?;
        // Read again under the lock: another process may have finished.
        let mut kept = dropped_indexes(&mut *tx).await?;
        let Some(sql) = (!kept.is_empty()).then(|| kept.remove(0)) else {
            sqlx::query("DELETE FROM meta WHERE key = $1").bind(DROPPED_INDEXES).execute(&mut *tx).await?;
            tx.commit().await?;
            break;
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")))
            .execute(&mut *tx)
            .await?;
        if !already_there(&mut tx, &sql).await? {
            // SQL PostgreSQL itself wrote (pg_indexes, pg_constraint) for
            // an index this store dropped, not anything from input.
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).execute(&mut *tx).await?;
        }
        write_meta(&mut *tx, DROPPED_INDEXES, &serde_json::to_string(&kept).expect("strings serialize")).await?;
        tx.commit().await?;
        tracing::debug!(at = ?started.elapsed(), "{sql}");
    }
    // The planner's statistics were taken of empty tables.
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {}", TABLES.join(", ")))).execute(&mut *conn).await?;
    tracing::info!(took = ?started.elapsed(), "bulk load finished: indexes rebuilt");
    Ok(())
}

/// Whether what `sql` makes exists already (made by hand, or by a
/// migration): an index of that name, or a primary key on `browse`.
async fn already_there(conn: &mut PgConnection, sql: &str) -> Result<bool> {
    let key_of = KEYS_DROPPED.iter().find(|t| sql.starts_with(&format!("ALTER TABLE {t} ADD CONSTRAINT ")));
    let found: Option<i32> = if let Some(table) = key_of {
        sqlx::query_scalar("SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'")
            .bind(table)
            .fetch_optional(&mut *conn)
            .await?
    } else {
        let name = sql
            .strip_prefix("CREATE INDEX ")
            .and_then(|rest| rest.split_whitespace().next())
            .map(|n| n.trim_matches('"').to_string())
            .unwrap_or_default();
        sqlx::query_scalar(
            "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1 AND tablename = ANY($2)",
        )
        .bind(name)
        .bind(&TABLES[..])
        .fetch_optional(&mut *conn)
        .await?
    };
    Ok(found.is_some())
}

/// Whether the server can compress values with lz4 (built with it;
/// PostgreSQL 14 and later).
pub(crate) async fn lz4(conn: &mut PgConnection) -> Result<bool> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Compresses the values the rest of the transaction on `conn` stores out
/// of line (TOAST: the revisions' JSON of 2 KB and more) with lz4 rather
/// than the default pglz: at 100,000 records `COPY revisions` took 1.6 to
/// 2.2 s instead of 4.0 (BENCHMARKS.md), and the table came out smaller.
/// Values keep their method, so reading them needs nothing.
pub(crate) async fn compress_with_lz4(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SET LOCAL default_toast_compression = 'lz4'").execute(conn).await?;
    Ok(())
}

/// An identifier as SQL (catalog names: ours, but quoted all the same).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Rows in `COPY`'s text format, built column by column: tab between
/// columns, a newline after each row, `\N` for NULL, and in text the
/// backslash, tab, newline and carriage return escaped with a backslash
/// (the only bytes the format gives a meaning; NUL, which it cannot carry,
/// is refused before, as for every write: `check_batch_text`).
#[derive(Default)]
pub(crate) struct Copy {
    buf: String,
    rows: usize,
    /// Whether the next value starts a row (takes no tab before it).
    row_started: bool,
}

impl Copy {
    fn column(&mut self) {
        if self.row_started {
            self.buf.push('\t');
        }
        self.row_started = true;
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        self.column();
        write!(self.buf, "{v}").expect("writing to a String");
        self
    }

    pub(crate) fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => {
                self.column();
                self.buf.push_str("\\N");
                self
            }
        }
    }

    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        self.column();
        // The runs between the bytes to escape are copied whole: a record's
        // JSON has a backslash in most strings (every \" of a quote), so a
        // character-by-character copy would be the common case. The four
        // are ASCII, never inside a multi-byte character, so every cut
        // falls between characters.
        let mut run = 0;
        for (i, b) in s.bytes().enumerate() {
            let escaped = match b {
                b'\\' => "\\\\",
                b'\t' => "\\t",
                b'\n' => "\\n",
                b'\r' => "\\r",
                _ => continue,
            };
            self.buf.push_str(&s[run..i]);
            self.buf.push_str(escaped);
            run = i + 1;
        }
        self.buf.push_str(&s[run..]);
        self
    }

    pub(crate) fn end_row(&mut self) {
        self.buf.push('\n');
        self.row_started = false;
        self.rows += 1;
    }

    /// Sends the rows with `statement` (`COPY table (columns) FROM STDIN`)
    /// on `conn`, inside its transaction. Nothing is sent for no rows.
    pub(crate) async fn send(self, conn: &mut PgConnection, statement: &str) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut copy = conn.copy_in_raw(statement).await?;
        if let Err(e) = copy.send(self.buf.into_bytes()).await {
            let _ = copy.abort("the rows could not be sent").await;
            return Err(e.into());
        }
        copy.finish().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Copy;

    #[test]
    fn copy_text_escapes_what_the_format_reads() {
        let mut c = Copy::default();
        c.int(7).opt_int(None).text("a\tb\nc\\d\re \"q\" 'é' \\N").end_row();
        c.text("").opt_int(Some(-1)).end_row();
        assert_eq!(c.buf, "7\t\\N\ta\\tb\\nc\\\\d\\re \"q\" 'é' \\\\N\n\t-1\n");
        assert_eq!(c.rows, 2);
    }
}
