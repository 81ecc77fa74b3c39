//! PostgreSQL's query plans of the reads that page, checked: what
//! `sqlite.rs`'s `EXPLAIN QUERY PLAN` tests say of SQLite, said here of
//! PostgreSQL. Each read a page, a browse list, OAI-PMH, the review queue,
//! the embargo job or the change feed runs is explained (`EXPLAIN (FORMAT
//! JSON)`) with the parameters its callers pass, and the plan must name the
//! index the read was written for, scan none of the big tables whole (no
//! `Seq Scan`), and, where it pages in an index's order, not sort.
//!
//! How the plans are made to mean something at test scale:
//! - the database holds a few thousand records written through the store's
//!   own write path ([`Records::put_records`], so `browse`, `oai_sets` and
//!   `changes` hold what a real repository's do, some records edited once
//!   more), then `ANALYZE`d: the planner weighs indexes and joins with
//!   real statistics, not the guesses it makes of an empty table;
//! - `enable_seqscan` is off, and `enable_sort` too for the reads that
//!   page in an index's order. On tables of a few hundred pages a
//!   sequential read, or a bitmap of a few dozen rows sorted, is honestly
//!   the cheapest plan whatever the indexes, and loading the millions of
//!   rows where it stops being so would take minutes. Turning them off only
//!   prices those nodes out: when no index can serve the read (or its
//!   order), PostgreSQL still plans the `Seq Scan` or the `Sort`, there
//!   being no other way, and the test fails. What is checked is therefore
//!   that each read *can* be served by the index it names, without reading
//!   a table whole or sorting, not the planner's choice at this scale; the
//!   index name is checked too, because with sequential reads priced out
//!   the planner would rather walk any other index whole (a bitmap of an
//!   index without a condition is also counted as a table read whole);
//! - each read is explained twice: with its parameters' values known (the
//!   custom plan of a statement's first executions) and as the generic plan
//!   PostgreSQL may switch a prepared statement to after five executions,
//!   which sqlx's statement cache makes the plan a long-running server
//!   mostly uses. One generic plan is checked as the planner chooses it,
//!   sorting allowed: a set's OAI-PMH list without dates, whose generic
//!   plan used to read and sort the whole set for each page.
//!
//! Each index checked here was dropped once, by hand, and the test failed.
//!
//! The database is a fresh one on the server `ARKIV_TEST_POSTGRES_URL`
//! names, dropped afterwards, as `tests/backends/mod.rs` makes them (which
//! a unit test cannot include: it names the crate from outside); without
//! the variable the test is skipped, and fails under `CI=true`.

use crate::postgres::PostgresStore;
use crate::queries::{
    live_ids_sql, oai_records_query, scan_by_status, work_items_tail, BROWSE_PAGE, BROWSE_VALUES, CHANGES_SINCE,
    CURRENT_JSON, EMBARGOES_DUE, LATER_VERSIONS, LATEST_TAIL, OAI_COUNT_ALL, OAI_COUNT_SET, OAI_EARLIEST,
    OAI_SET_SPECS,
};
use crate::sql::Bind;
use crate::*;
use arkiv_model::{Creator, Document, PartialDate};
use sqlx::{AssertSqlSafe, PgConnection, Row};

/// Records loaded: enough for statistics with a realistic spread (a
/// status, a type, a depositor, a creator are each a small share), few
/// enough to load in about a second.
const RECORDS: i64 = 4000;
/// Records written once more (a second revision, a second change).
const EDITED: i64 = 400;
/// The first record's last modification; each later one is an hour on.
const EPOCH: i64 = 1_500_000_000;
const TYPES: [&str; 8] =
    ["article", "book", "book_section", "conference_item", "monograph", "thesis", "report", "other"];

/// Record `i` of the generated repository: mostly live, a twentieth each
/// in review, in a depositor's inbox and withdrawn; 150 depositors, 400
/// creators, 20 series, 35 years; a few with a running embargo or an
/// earlier version.
fn generated(i: i64) -> Record {
    // Each field from its own hash of `i`, so that no two are correlated
    // (with plain `i % n`, the review buffer held no report at all).
    let pick = |salt: u64, n: u64| -> i64 {
        let mut h = (i as u64 ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 29;
        (h.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 32) as i64 % n as i64
    };
    let mut r = Record::new(TYPES[pick(1, 8) as usize], &format!("Record {i} on topic {}", pick(2, 97)));
    r.status = match pick(3, 20) {
        0 => Status::Buffer,
        1 => Status::Inbox,
        2 => Status::Deletion,
        _ => Status::Archive,
    };
    r.creators = vec![Creator::new(&format!("Family{}", pick(4, 400)), "Given")];
    r.date = Some(PartialDate::year(1990 + pick(5, 35) as i32));
    r.series = (pick(6, 5) == 0).then(|| format!("Series {}", pick(7, 20)));
    r.userid = Some(1 + pick(8, 150));
    r.lastmod = Some(Timestamp(EPOCH + i * 3600));
    if pick(9, 50) == 0 {
        // Ends long after any clock this test runs under: still due.
        r.documents =
            vec![Document { embargo: Some(PartialDate::year(2100 + pick(10, 10) as i32)), ..Default::default() }];
    }
    r.succeeds = (i > 4 && pick(11, 100) == 0).then_some(i - 4);
    r
}

/// Fills the store and refreshes the planner's statistics.
async fn load(store: &PostgresStore) {
    let ids: Vec<i64> = (1..=RECORDS).collect();
    for chunk in ids.chunks(1000) {
        let batch = chunk.iter().map(|&i| RecordWrite::new(generated(i), "test")).collect();
        store.put_records(batch).await.expect("load records");
    }
    // Edits spread over the table, later than every first write.
    let edits = (1..=EDITED)
        .map(|n| {
            let i = n * (RECORDS / EDITED);
            let mut r = generated(i);
            r.id = Some(i);
            r.title.push_str(" (revised)");
            r.lastmod = Some(Timestamp(EPOCH + (RECORDS + n) * 3600));
            RecordWrite::new(r, "test")
        })
        .collect();
    store.put_records(edits).await.expect("edit records");
    sqlx::query("ANALYZE").execute(&store.pool).await.expect("analyze");
}

/// One node of a plan: its type, the table it reads, the index it walks.
#[derive(Debug)]
struct Node {
    kind: String,
    table: Option<String>,
    index: Option<String>,
    /// Whether an index is searched (`Index Cond`), not walked whole.
    searched: bool,
}

/// The nodes of an `EXPLAIN (FORMAT JSON)` plan, depth first.
fn nodes(plan: &serde_json::Value, out: &mut Vec<Node>) {
    let text = |key: &str| plan.get(key).and_then(|v| v.as_str()).map(str::to_string);
    out.push(Node {
        kind: text("Node Type").unwrap_or_default(),
        table: text("Relation Name"),
        index: text("Index Name"),
        searched: plan.get("Index Cond").is_some(),
    });
    for child in plan.get("Plans").and_then(|p| p.as_array()).into_iter().flatten() {
        nodes(child, out);
    }
}

/// A parameter as a literal of `EXECUTE`: quoted, of unknown type, so that
/// PostgreSQL reads it as the type the statement gave the parameter.
fn literal(bind: &Bind<'_>) -> String {
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match bind {
        Bind::Int(n) | Bind::OptInt(Some(n)) => quoted(&n.to_string()),
        Bind::Text(s) | Bind::OptText(Some(s)) => quoted(s),
        Bind::Bool(b) => quoted(&b.to_string()),
        Bind::OptInt(None) | Bind::OptText(None) => "NULL".to_string(),
    }
}

/// The plan of `sql` with `binds`, custom (the values known) or generic.
/// Through `PREPARE` and `EXPLAIN EXECUTE`, so that `plan_cache_mode`
/// decides which, as it does for the store's own prepared statements.
async fn explain(conn: &mut PgConnection, case: &Case<'_>, generic: bool) -> Vec<Node> {
    let (sql, binds) = (&case.sql, &case.binds);
    let mode = if generic { "force_generic_plan" } else { "force_custom_plan" };
    sqlx::query(AssertSqlSafe(format!("SET plan_cache_mode = {mode}"))).execute(&mut *conn).await.unwrap();
    // Sorts priced out unless the read may sort, or its generic plan is
    // checked as the planner chooses it (see `Case::generic_as_chosen`).
    let sort = if case.sorts || (generic && case.generic_as_chosen) { "on" } else { "off" };
    sqlx::query(AssertSqlSafe(format!("SET enable_sort = {sort}"))).execute(&mut *conn).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("PREPARE planned AS {sql}")))
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let args = if binds.is_empty() {
        String::new()
    } else {
        format!("({})", binds.iter().map(literal).collect::<Vec<_>>().join(", "))
    };
    let row = sqlx::query(AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) EXECUTE planned{args}")))
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    sqlx::query("DEALLOCATE planned").execute(&mut *conn).await.unwrap();
    // `json`, whose binary form is its text: sqlx is built without its JSON
    // types, so read unchecked as a string.
    let json: String = row.try_get_unchecked(0).unwrap();
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut out = Vec::new();
    nodes(&plan[0]["Plan"], &mut out);
    out
}

/// A read to explain and what its plan must show.
struct Case<'a> {
    what: &'a str,
    sql: String,
    binds: Vec<Bind<'a>>,
    /// Indexes the plan must walk, by name.
    indexes: &'a [&'a str],
    /// Whether the plan may sort (a read that does not page in an index's
    /// order, or one whose input is a handful of rows).
    sorts: bool,
    /// Whether the generic plan is checked with sorting allowed, as the
    /// planner would choose it: for a read whose generic plan once sorted
    /// where the custom plans did not.
    generic_as_chosen: bool,
}

fn case<'a>(what: &'a str, sql: String, binds: Vec<Bind<'a>>, indexes: &'a [&'a str]) -> Case<'a> {
    Case { what, sql, binds, indexes, sorts: false, generic_as_chosen: false }
}

/// What is wrong with `plan` for `case`, if anything.
fn faults(case: &Case<'_>, plan: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    for index in case.indexes {
        if !plan.iter().any(|n| n.index.as_deref() == Some(index)) {
            out.push(format!("does not use {index}"));
        }
    }
    for node in plan {
        if node.kind == "Seq Scan" {
            out.push(format!("reads {} whole", node.table.as_deref().unwrap_or("?")));
        }
        // A bitmap is built whole before it is read: without a condition,
        // of every row (an ordered walk without one, under a merge join or
        // a limit, may stop early, so it is not counted).
        if node.kind == "Bitmap Index Scan" && !node.searched {
            out.push(format!("reads all of {} (a table read whole)", node.index.as_deref().unwrap_or("?")));
        }
        if !case.sorts && node.kind.contains("Sort") {
            out.push(format!("sorts ({})", node.kind));
        }
    }
    out
}

/// The reads each page or job runs, with the parameters they pass.
fn cases<'a>(oai: &'a [(OaiQuery, RecordId)], work: &'a [WorkQuery]) -> Vec<Case<'a>> {
    let mid = RECORDS / 2;
    let mut cases = vec![
        // The abstract page (get_record_with_revision) and get_records.
        case(
            "record by id",
            format!("{CURRENT_JSON} WHERE r.id = $1"),
            vec![Bind::Int(mid)],
            &["records_pkey", "revisions_pkey"],
        ),
        // Scans (exports, the search index's rebuild): a page after a cursor.
        case(
            "scan of a status",
            format!("{CURRENT_JSON} {}", scan_by_status::<PostgresStore>()),
            vec![Bind::Int(mid), Bind::Text("archive"), Bind::Int(500)],
            &["records_pkey", "revisions_pkey"],
        ),
        case(
            "scan of every record",
            format!("{CURRENT_JSON} WHERE r.id > $1 ORDER BY r.id LIMIT $2"),
            vec![Bind::Int(mid), Bind::Int(500)],
            &["records_pkey", "revisions_pkey"],
        ),
        // The sitemap: one file's id range.
        case(
            "live ids of a range",
            live_ids_sql::<PostgresStore>(),
            vec![Bind::Int(mid), Bind::Int(mid + 500)],
            &["records_pkey"],
        ),
        // The home page and the feeds.
        case("latest", format!("{CURRENT_JSON} {LATEST_TAIL}"), vec![Bind::Int(10)], &["records_by_status_datestamp"]),
        // Browse pages: the values of a view, then a value's records.
        case(
            "browse values",
            BROWSE_VALUES.to_string(),
            vec![Bind::Text("creator"), Bind::Text("Family2"), Bind::Int(50)],
            &["browse_counts_pkey"],
        ),
        case(
            "browse page",
            BROWSE_PAGE.to_string(),
            vec![Bind::Text("type"), Bind::Text("article"), Bind::Text(""), Bind::Int(0), Bind::Int(51)],
            &["browse_pkey", "records_pkey", "revisions_pkey"],
        ),
        case(
            "browse page after a cursor",
            BROWSE_PAGE.to_string(),
            vec![Bind::Text("year"), Bind::Text("2001"), Bind::Text("record 1000"), Bind::Int(1000), Bind::Int(51)],
            &["browse_pkey", "records_pkey", "revisions_pkey"],
        ),
        // OAI-PMH: ListSets and Identify.
        case("set specs", OAI_SET_SPECS.to_string(), vec![Bind::Text(""), Bind::Int(100)], &["oai_sets_pkey"]),
        case("earliest datestamp", OAI_EARLIEST.to_string(), vec![], &["records_oai_by_lastmod"]),
        case(
            "size of a date range",
            OAI_COUNT_ALL.to_string(),
            vec![Bind::Int(EPOCH + RECORDS / 4 * 3600), Bind::Int(EPOCH + RECORDS / 2 * 3600)],
            &["records_oai_by_lastmod"],
        ),
        case(
            "size of a set",
            OAI_COUNT_SET.to_string(),
            vec![Bind::Text("type:article"), Bind::Int(i64::MIN), Bind::Int(i64::MAX)],
            &["oai_sets_pkey", "records_pkey"],
        ),
        // The change feed (the search index's follower, the page cache).
        case("changes since", CHANGES_SINCE.to_string(), vec![Bind::Int(mid), Bind::Int(201)], &["changes_pkey"]),
        // The embargo job and the abstract page's later versions.
        case(
            "embargoes due",
            EMBARGOES_DUE.to_string(),
            vec![Bind::Int(21000101), Bind::Int(200)],
            &["records_by_embargo"],
        ),
        Case {
            sorts: true,
            ..case("later versions", LATER_VERSIONS.to_string(), vec![Bind::Int(1)], &["records_by_succeeds"])
        },
    ];
    // ListRecords and ListIdentifiers: every shape, first page and resumed.
    for (query, after) in oai {
        let (sql, binds) = oai_records_query(query, *after, 501);
        let indexes: &'static [&'static str] = if query.set.is_some() {
            &["oai_sets_pkey", "records_pkey", "revisions_pkey"]
        } else {
            &["records_pkey", "revisions_pkey"]
        };
        // Without dates, a set's generic plan walks the set in order even
        // as the planner chooses (it sorted the whole set while the query
        // said `lastmod BETWEEN $3 AND $4` with no dates given).
        let generic_as_chosen = query.set.is_some() && query.from.is_none() && query.until.is_none();
        cases.push(Case { generic_as_chosen, ..case("OAI-PMH list", sql, binds, indexes) });
    }
    // The review buffer and the depositors' lists.
    for query in work {
        let (tail, binds) = work_items_tail(query, 20);
        let index: &'static [&'static str] = match (query.owner, &query.item_type) {
            (Some(_), _) => &["records_by_user"],
            (None, Some(_)) => &["records_by_status_type"],
            (None, None) => &["records_by_status_lastmod"],
        };
        cases.push(case("work items", format!("{CURRENT_JSON} {tail}"), binds, index));
    }
    cases
}

fn oai_shapes() -> Vec<(OaiQuery, RecordId)> {
    let from = Some(EPOCH + RECORDS / 4 * 3600);
    let until = Some(EPOCH + RECORDS / 2 * 3600);
    let set = |s: &str| Some(s.to_string());
    let mut shapes = Vec::new();
    for after in [0, RECORDS / 2] {
        shapes.push((OaiQuery::default(), after));
        shapes.push((OaiQuery { from, until, ..Default::default() }, after));
        shapes.push((OaiQuery { from, ..Default::default() }, after));
        shapes.push((OaiQuery { set: set("type:article"), ..Default::default() }, after));
        shapes.push((OaiQuery { set: set("type:article"), from, until }, after));
    }
    shapes
}

fn work_shapes() -> Vec<WorkQuery> {
    let mut shapes = Vec::new();
    for newest_first in [false, true] {
        for after in [None, Some((EPOCH + RECORDS / 2 * 3600, RECORDS / 2))] {
            let base = WorkQuery { status: Status::Buffer, after, newest_first, ..Default::default() };
            shapes.push(base.clone());
            shapes.push(WorkQuery { item_type: Some("report".into()), ..base.clone() });
            shapes.push(WorkQuery { status: Status::Inbox, owner: Some(7), ..base.clone() });
            shapes.push(WorkQuery { status: Status::Archive, owner: Some(7), ..base });
        }
    }
    shapes
}

#[tokio::test]
async fn paged_reads_use_their_indexes_on_postgres() {
    // Fails under CI=true: the plans must be checked there.
    let Some(admin_url) = arkiv_testkit::postgres::server_url() else { return };
    let db = arkiv_testkit::postgres::TestDatabase::create(&admin_url).await;
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(check_plans(&db.url))).await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn check_plans(url: &str) {
    let store = PostgresStore::open(url).await.expect("open");
    load(&store).await;
    let mut conn = store.pool.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off").execute(&mut *conn).await.unwrap();
    let (oai, work) = (oai_shapes(), work_shapes());
    let mut wrong = Vec::new();
    for case in cases(&oai, &work) {
        for generic in [false, true] {
            let plan = explain(&mut conn, &case, generic).await;
            let faults = faults(&case, &plan);
            if !faults.is_empty() {
                let kind = if generic { "generic" } else { "custom" };
                wrong.push(format!("{} ({kind} plan): {}\n  {}\n  {plan:?}", case.what, faults.join("; "), case.sql));
            }
        }
    }
    assert!(wrong.is_empty(), "{} plans are wrong:\n{}", wrong.len(), wrong.join("\n"));
}
