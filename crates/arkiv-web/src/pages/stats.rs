//! The repository's statistics: `/stats?year=YYYY` (the totals by month,
//! the most downloaded items of the month and of the year, and the year's
//! figures by item type, series, subject, division and creator), each
//! table also as CSV at `/stats/{table}.csv?year=YYYY`, every cell through
//! the CSV formula neutraliser. EPrints' statistics addresses (IRStats2's
//! `/cgi/stats/...`) lead here. The figures are the service's
//! (`arkiv_services::statistics`); this module only shapes them.

use crate::http::{moved, Problem};
use crate::present::{cite, value_path, CiteView};
use crate::AppState;
use arkiv_model::browse::BrowseView;
use arkiv_model::usage::ItemCounts;
use arkiv_services::statistics::{self, TopItem, YearStatistics, CSV_ROWS};
use arkiv_storage::UsagePeriod;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/stats", get(stats_page))
        .route("/stats/{table}", get(stats_csv))
        .route("/stats/counter/{report}", get(counter_tsv))
        .route("/cgi/stats", get(eprints_stats))
        .route("/cgi/stats/{*rest}", get(eprints_stats))
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// The year asked for (this year when none), or a 400 that says why.
fn year_of(state: &AppState, query: Result<Query<YearQuery>, QueryRejection>) -> Result<i64, Problem> {
    let this_year = i64::from(state.repo.today().year);
    let asked = query.ok().and_then(|Query(q)| q.year).filter(|y| !y.trim().is_empty());
    let Some(asked) = asked else { return Ok(this_year) };
    match asked.trim().parse::<i64>() {
        Ok(y) if (1900..=this_year).contains(&y) => Ok(y),
        _ => {
            Err(Problem::bad_request(format!("The year must be a year from 1900 to {this_year}, such as {this_year}.")))
        }
    }
}

#[derive(Serialize)]
struct Figures {
    downloads: i64,
    views: i64,
    unique_downloads: i64,
}

impl From<ItemCounts> for Figures {
    fn from(c: ItemCounts) -> Self {
        Figures { downloads: c.requests, views: c.page_views(), unique_downloads: c.unique_requests }
    }
}

#[derive(Serialize)]
struct ItemLine {
    cite: Option<CiteView>,
    id: i64,
    figures: Figures,
}

#[derive(Serialize)]
struct GroupLine {
    label: String,
    url: String,
    figures: Figures,
}

#[derive(Serialize)]
struct GroupSection {
    heading: &'static str,
    table: &'static str,
    rows: Vec<GroupLine>,
}

#[derive(Serialize)]
struct MonthLine {
    label: String,
    figures: Figures,
}

#[derive(Serialize)]
struct StatsPage {
    nav: &'static str,
    year: i64,
    years: Vec<i64>,
    total: Figures,
    months: Vec<MonthLine>,
    month_label: String,
    top_month: Vec<ItemLine>,
    top_year: Vec<ItemLine>,
    groups: Vec<GroupSection>,
}

fn month_label(month: i64) -> String {
    crate::present::date_label(arkiv_model::PartialDate {
        year: month.div_euclid(12) as i32,
        month: Some((month.rem_euclid(12) + 1) as u8),
        day: None,
    })
}

fn heading(view: BrowseView) -> &'static str {
    match view {
        BrowseView::Type => "By item type",
        BrowseView::Series => "By series",
        BrowseView::Subject => "By subject",
        BrowseView::Division => "By division",
        BrowseView::Creator => "By creator",
        BrowseView::Year => "By year of publication",
    }
}

fn item_lines(state: &AppState, items: Vec<TopItem>) -> Vec<ItemLine> {
    items
        .into_iter()
        .map(|t| ItemLine { cite: t.record.as_ref().map(|r| cite(&state.repo, r)), id: t.id, figures: t.counts.into() })
        .collect()
}

pub async fn stats_page(
    State(state): State<AppState>,
    query: Result<Query<YearQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let year = year_of(&state, query)?;
    let s: YearStatistics = statistics::year_statistics(&state.repo, year).await?;
    let this_year = i64::from(state.repo.today().year);
    let ctx = StatsPage {
        nav: "stats",
        year,
        years: (this_year.saturating_sub(9)..=this_year).rev().collect(),
        total: s.total.into(),
        months: s.months.iter().map(|m| MonthLine { label: month_label(m.month), figures: m.counts.into() }).collect(),
        month_label: month_label(s.month),
        top_month: item_lines(&state, s.top_month),
        top_year: item_lines(&state, s.top_year),
        groups: s
            .groups
            .into_iter()
            .map(|g| GroupSection {
                heading: heading(g.view),
                table: g.view.as_str(),
                rows: g
                    .rows
                    .into_iter()
                    .map(|r| GroupLine { url: value_path(g.view, &r.value), label: r.label, figures: r.counts.into() })
                    .collect(),
            })
            .collect(),
    };
    state.page(StatusCode::OK, "stats.html", ctx)
}

/// `/stats/{table}.csv`: `months`, `items` (the year's most downloaded, up
/// to [`CSV_ROWS`]), or a group table (`type`, `series`, `subject`,
/// `division`, `creator`).
pub async fn stats_csv(
    State(state): State<AppState>,
    Path(table): Path<String>,
    query: Result<Query<YearQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let no_table = || {
        Problem::not_found(
            "No such table. The tables are months, items, type, series, subject, division and creator, as .csv.",
        )
    };
    let name = table.strip_suffix(".csv").ok_or_else(no_table)?;
    let year = year_of(&state, query)?;
    let header = ["downloads", "unique_downloads", "investigations", "unique_investigations", "page_views"];
    let numbers = |c: &ItemCounts| {
        [c.requests, c.unique_requests, c.investigations, c.unique_investigations, c.page_views()]
            .map(|n| n.to_string())
            .to_vec()
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    match name {
        "months" => {
            rows.push([&["month"][..], &header].concat().iter().map(|s| s.to_string()).collect());
            for m in statistics::year_months(&state.repo, year).await? {
                let label = arkiv_model::usage::month_key(m.month);
                rows.push([vec![label], numbers(&m.counts)].concat());
            }
        }
        "items" => {
            rows.push([&["id", "url", "title"][..], &header].concat().iter().map(|s| s.to_string()).collect());
            for t in statistics::top_items(&state.repo, UsagePeriod::Year(year), CSV_ROWS).await? {
                let title = t.record.as_ref().map(|r| r.title.clone()).unwrap_or_default();
                let url = format!("{}{}", state.repo.base_url(), crate::present::record_path(t.id));
                rows.push([vec![t.id.to_string(), url, title], numbers(&t.counts)].concat());
            }
        }
        other => {
            let view = BrowseView::parse(other).filter(|v| statistics::GROUP_VIEWS.contains(v)).ok_or_else(no_table)?;
            rows.push([&[other, "label"][..], &header].concat().iter().map(|s| s.to_string()).collect());
            for g in statistics::group_table(&state.repo, view, year, CSV_ROWS).await?.rows {
                rows.push([vec![g.value, g.label], numbers(&g.counts)].concat());
            }
        }
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    for row in &rows {
        writer
            .write_record(row.iter().map(|c| arkiv_formats::export::csv::neutralise(c).into_owned()))
            .map_err(|e| Problem::internal(format!("CSV: {e}")))?;
    }
    let body = writer.into_inner().map_err(|e| Problem::internal(format!("CSV: {e}")))?;
    let disposition = format!("attachment; filename=\"stats-{name}-{year}.csv\"");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII")),
        ],
        body,
    )
        .into_response())
}

/// IRStats2's addresses (`/cgi/stats/report`, `/cgi/stats/report/eprint/N`
/// and the like): an item's figures are on its page, the rest on /stats.
pub async fn eprints_stats(rest: Option<Path<String>>) -> Response {
    let rest = rest.map(|Path(r)| r).unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if let Some(i) = parts.iter().position(|p| *p == "eprint") {
        if let Some(id) = parts.get(i + 1).and_then(|id| crate::pages::parse_id(id)) {
            return moved(&crate::present::record_path(id));
        }
    }
    moved("/stats")
}

/// `/stats/counter/{pr,pr_p1,ir,ir_a1}.tsv`: a COUNTER report as the Code's
/// table, with the SUSHI API's parameters (`begin_date`, `end_date`,
/// filters, `attributes_to_show`; by default this year so far). Public, as
/// /stats is: the reports are the whole repository's, to The World.
pub async fn counter_tsv(
    State(state): State<AppState>,
    Path(report): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    use arkiv_services::counter_tsv::{header_rows, item_heading, item_rows, platform_table};
    use arkiv_services::sushi::{self, ItemReport, ReportId};
    let id = report
        .strip_suffix(".tsv")
        .ok_or_else(|| Problem::not_found("The COUNTER reports are pr.tsv, pr_p1.tsv, ir.tsv and ir_a1.tsv."))?;
    let mut params: Vec<(String, String)> =
        query.map(|Query(q)| q).unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    // The tabular reports' own attribute (the Code, section 3.3.8).
    let mut exclude_monthly_details = false;
    for (_, value) in params.iter().filter(|(k, _)| k == "exclude_monthly_details") {
        exclude_monthly_details = match value.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(Problem::bad_request("Exclude_Monthly_Details is True or False.")),
        };
    }
    params.retain(|(k, _)| k != "exclude_monthly_details");
    let this_month = statistics::this_month(&state.repo);
    for (name, month) in [("begin_date", this_month - this_month.rem_euclid(12)), ("end_date", this_month)] {
        if !params.iter().any(|(k, _)| k == name) {
            params.push((name.into(), arkiv_model::usage::month_key(month)));
        }
    }
    let mut request = sushi::parse_request(id, &params, this_month).map_err(|e| {
        let status = StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST);
        Problem::new(status, e.message, e.data.unwrap_or_default())
    })?;
    request.exclude_monthly_details = exclude_monthly_details;
    // The header says so, as the Code's tables do.
    let noted = move |mut header: serde_json::Value| {
        if exclude_monthly_details {
            header["Report_Attributes"]["Exclude_Monthly_Details"] = "True".into();
        }
        header
    };
    let tsv = |body: Body| {
        let name = format!("attachment; filename=\"{}.tsv\"", request.report_name_for_file());
        Response::builder()
            .header(header::CONTENT_TYPE, "text/tab-separated-values; charset=utf-8")
            .header(header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).expect("ASCII"))
            .body(body)
            .expect("valid response")
    };
    match request.report {
        ReportId::Pr | ReportId::PrP1 => {
            let mut json = sushi::platform_report(&state.repo, &request).await?;
            json["Report_Header"] = noted(json["Report_Header"].take());
            Ok(tsv(Body::from(platform_table(&json, &request))))
        }
        ReportId::Ir | ReportId::IrA1 => {
            let mut report = ItemReport::new(state.repo.clone(), request.clone());
            let first = report.next_items().await?;
            let Some(first) = first else {
                let none = sushi::SushiException::no_usage();
                let mut out = header_rows(&noted(report.header(&[none])));
                out.push_str(&item_heading(&request));
                return Ok(tsv(Body::from(out)));
            };
            let mut head = header_rows(&noted(report.header(&[])));
            head.push_str(&item_heading(&request));
            let rows = request.clone();
            let render =
                move |items: &[serde_json::Value], _first: bool| axum::body::Bytes::from(item_rows(items, &rows));
            Ok(tsv(crate::pages::sushi::stream_items(report, head, first, render, b"")))
        }
    }
}
