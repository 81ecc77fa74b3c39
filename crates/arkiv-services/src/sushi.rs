//! The COUNTER_SUSHI API, Release 5.1: the machine-readable face of the
//! usage statistics (`/sushi/r51/...` in the web layer). Hand-written over
//! serde_json: no crate implements the server side of SUSHI.
//!
//! What a repository can report: the Platform Report (PR) and its standard
//! view PR_P1, the Item Report (IR) and its view IR_A1 (Journal Article
//! Requests). Database and Title Reports (DR, TR and their views) and
//! IR_M1 describe databases, journals, books and multimedia collections a
//! repository does not have: they answer Exception 3000, Report Not
//! Supported. Usage is not attributed to institutions, so every report is
//! the whole repository's, to "The World" (customer ID 0000000000000000 as
//! the Code of Practice has it), whichever client asks.
//!
//! Authentication is the Code's "customer ID and requestor ID" with an API
//! key: an admin adds clients on `/admin` (`Usage::add_sushi_client`). A
//! request without them is Exception 1030, an unknown requestor 2000, a
//! wrong key 2020, another customer's ID 2010. `/r51/status` is public.
//!
//! The Item Report is read a page of items at a time
//! ([`ItemReport::next_items`]), so a year over a million items is
//! streamed in bounded memory.

use crate::Repository;
use arkiv_model::usage::{month_key, ItemCounts};
use arkiv_model::{Record, RecordId};
use arkiv_storage::SushiClient;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The customer ID of reports to "The World".
pub const WORLD: &str = "0000000000000000";

/// Items read per page of an Item Report.
const ITEMS_PER_PAGE: i64 = 500;

/// A SUSHI exception: its code, message, the HTTP status it is sent with
/// when it stops a request, and what the server adds to explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SushiException {
    pub code: u16,
    pub message: &'static str,
    pub http_status: u16,
    pub data: Option<String>,
}

impl SushiException {
    fn new(code: u16, data: impl Into<String>) -> Self {
        let (message, http_status) = match code {
            1030 => ("Insufficient Information to Process Request", 400),
            2000 => ("Requestor Not Authorized to Access Service", 401),
            2010 => ("Requestor is Not Authorized to Access Usage for Institution", 403),
            2020 => ("APIKey Invalid", 401),
            3000 => ("Report Not Supported", 404),
            3020 => ("Invalid Date Arguments", 400),
            3030 => ("No Usage Available for Requested Dates", 200),
            3031 => ("Usage Not Ready for Requested Dates", 200),
            3050 => ("Parameter Not Recognized in this Context", 200),
            3060 => ("Invalid ReportFilter Value", 200),
            3062 => ("Invalid ReportAttribute Value", 200),
            _ => ("Info or Debug", 200),
        };
        SushiException { code, message, http_status, data: Some(data.into()) }
    }

    /// 3030: the report is empty.
    pub fn no_usage() -> Self {
        SushiException::new(3030, "No item was used in these months.")
    }

    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("Code".into(), json!(self.code));
        o.insert("Message".into(), json!(self.message));
        if let Some(d) = &self.data {
            o.insert("Data".into(), json!(d));
        }
        Value::Object(o)
    }
}

/// The credentials a request carries.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub customer_id: Option<String>,
    pub requestor_id: Option<String>,
    pub api_key: Option<String>,
}

/// The client these credentials are, or the exception that says why not.
pub async fn authorize(repo: &Repository, c: &Credentials) -> anyhow::Result<Result<SushiClient, SushiException>> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let (customer, requestor, key) = (given(&c.customer_id), given(&c.requestor_id), given(&c.api_key));
    let missing: Vec<&str> = [("customer_id", &customer), ("requestor_id", &requestor), ("api_key", &key)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Ok(Err(SushiException::new(1030, format!("Missing: {}", missing.join(", ")))));
    }
    let (customer, requestor, key) =
        (customer.unwrap_or_default(), requestor.unwrap_or_default(), key.unwrap_or_default());
    let Some(client) = repo.store.sushi_client(&requestor).await? else {
        return Ok(Err(SushiException::new(
            2000,
            "This requestor_id is not known here; the repository's admin issues them.",
        )));
    };
    if !crate::accounts::tokens::same_secret(&key, &client.api_key) {
        return Ok(Err(SushiException::new(2020, "The api_key does not belong to this requestor_id.")));
    }
    if customer != client.customer_id && customer != WORLD {
        return Ok(Err(SushiException::new(
            2010,
            format!("This requestor may ask for customer {} or {WORLD}.", client.customer_id),
        )));
    }
    Ok(Ok(client))
}

/// `/r51/status`.
pub fn status(repo: &Repository) -> Value {
    let enabled = repo.config.statistics.enabled;
    json!([{
        "Description": format!("COUNTER Release 5.1 usage reports of {}.", repo.settings().name),
        "Service_Active": enabled,
        "Note": "Reports are the whole repository's usage (customer 0000000000000000, The World): PR, PR_P1, IR, IR_A1.",
    }])
}

/// `/r51/members`: the client itself.
pub fn members(client: &SushiClient) -> Value {
    json!([{ "Customer_ID": client.customer_id, "Institution_Name": client.name }])
}

/// The reports this server supports: (id, name, description).
const REPORTS: [(&str, &str, &str); 4] = [
    ("PR", "Platform Report", "Usage of the whole repository by Data_Type."),
    ("PR_P1", "Platform Usage", "Requests of the whole repository by Data_Type (standard view of PR)."),
    ("IR", "Item Report", "Usage of each item (paper, report, article...)."),
    ("IR_A1", "Journal Article Requests", "Requests of each journal article (standard view of IR)."),
];

/// Reports of the Code of Practice that do not fit a repository.
const NOT_SUPPORTED: [&str; 12] =
    ["dr", "dr_d1", "dr_d2", "tr", "tr_b1", "tr_b2", "tr_b3", "tr_j1", "tr_j2", "tr_j3", "tr_j4", "ir_m1"];

/// `/r51/reports`.
pub async fn reports(repo: &Repository) -> anyhow::Result<Value> {
    let now = crate::statistics::this_month(repo);
    let (first, last) = repo.store.usage_months_available().await?.unwrap_or((now, now));
    Ok(Value::Array(
        REPORTS
            .iter()
            .map(|(id, name, description)| {
                json!({
                    "Report_Name": name,
                    "Report_ID": id,
                    "Release": "5.1",
                    "Report_Description": description,
                    "Path": format!("/r51/reports/{}", id.to_lowercase()),
                    "First_Month_Available": month_key(first),
                    "Last_Month_Available": month_key(last.max(first)),
                })
            })
            .collect(),
    ))
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportId {
    Pr,
    PrP1,
    Ir,
    IrA1,
}

impl ReportId {
    fn id(self) -> &'static str {
        match self {
            ReportId::Pr => "PR",
            ReportId::PrP1 => "PR_P1",
            ReportId::Ir => "IR",
            ReportId::IrA1 => "IR_A1",
        }
    }

    fn name(self) -> &'static str {
        REPORTS.iter().find(|(id, _, _)| *id == self.id()).map(|(_, n, _)| *n).unwrap_or("")
    }

    /// Whether the report takes this parameter (3050 for any other).
    fn takes(self, name: &str) -> bool {
        const EVERY: [&str; 6] = ["customer_id", "requestor_id", "api_key", "platform", "begin_date", "end_date"];
        const MASTER: [&str; 5] = ["metric_type", "data_type", "access_method", "attributes_to_show", "granularity"];
        const ITEM: [&str; 6] =
            ["access_type", "yop", "include_parent_details", "include_component_details", "item_id", "author"];
        EVERY.contains(&name)
            || match self {
                ReportId::Pr => MASTER.contains(&name),
                ReportId::Ir => MASTER.contains(&name) || ITEM.contains(&name),
                ReportId::PrP1 | ReportId::IrA1 => false,
            }
    }

    fn metrics(self) -> &'static [&'static str] {
        match self {
            ReportId::Pr | ReportId::Ir => &[
                "Total_Item_Investigations",
                "Total_Item_Requests",
                "Unique_Item_Investigations",
                "Unique_Item_Requests",
            ],
            ReportId::PrP1 | ReportId::IrA1 => &["Total_Item_Requests", "Unique_Item_Requests"],
        }
    }
}

/// A report asked for, its parameters checked.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub report: ReportId,
    /// Months, `year * 12 + month - 1`.
    pub begin: i64,
    pub end: i64,
    pub metrics: Vec<&'static str>,
    pub data_types: Option<BTreeSet<String>>,
    pub access_types: Option<BTreeSet<String>>,
    pub yop: Option<Vec<(i32, i32)>>,
    pub item_id: Option<String>,
    pub attributes: BTreeSet<String>,
    /// Warnings that go into the report's header.
    pub exceptions: Vec<SushiException>,
    /// The filters as the header repeats them.
    filters: Map<String, Value>,
    /// A tabular report without its month columns (the Code's
    /// Exclude_Monthly_Details; JSON reports have no such attribute).
    pub exclude_monthly_details: bool,
}

impl ReportRequest {
    /// `PR_2026-01_2026-12`: a file name for the report.
    pub fn report_name_for_file(&self) -> String {
        format!("{}_{}_{}", self.report.id(), month_key(self.begin), month_key(self.end))
    }
}

/// `yyyy-mm` or `yyyy-mm-dd` as a month; `None` if it is neither.
fn parse_month(s: &str) -> Option<i64> {
    let s = s.trim();
    let (year, rest) = s.split_once('-')?;
    let (month, day) = match rest.split_once('-') {
        Some((m, d)) => (m, Some(d)),
        None => (rest, None),
    };
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let year: i32 = year.parse().ok().filter(|y| (1900..=9999).contains(y))?;
    let month: u8 = month.parse().ok().filter(|m| (1..=12).contains(m))?;
    if let Some(d) = day {
        let d: u8 = d.parse().ok().filter(|_| d.len() == 2)?;
        if d == 0 || d > arkiv_model::date::days_in_month(year, month) {
            return None;
        }
    }
    Some(i64::from(year) * 12 + i64::from(month) - 1)
}

fn last_day(month: i64) -> String {
    let (y, m) = (month.div_euclid(12) as i32, (month.rem_euclid(12) + 1) as u8);
    format!("{y:04}-{m:02}-{:02}", arkiv_model::date::days_in_month(y, m))
}

/// The COUNTER Data_Type of an item type.
pub fn data_type(item_type: &str) -> &'static str {
    match item_type {
        "article" => "Article",
        "book_section" => "Book_Segment",
        "conference_item" => "Conference_Item",
        "thesis" => "Thesis_or_Dissertation",
        "dataset" => "Dataset",
        "report" | "policy_paper" | "working_paper" | "monograph" => "Report",
        "patent" => "Patent",
        "image" => "Image",
        "video" => "Audiovisual",
        "audio" => "Sound",
        "book" => "Book_Segment",
        _ => "Other",
    }
}

/// Checks a report request's parameters (`params` as sent, names in lower
/// case). Bad dates stop it (3020, or 1030 when missing); unknown
/// parameters and filter values it cannot apply become warnings.
pub fn parse_request(
    report: &str,
    params: &[(String, String)],
    this_month: i64,
) -> Result<ReportRequest, SushiException> {
    let report = match report.to_ascii_lowercase().as_str() {
        "pr" => ReportId::Pr,
        "pr_p1" => ReportId::PrP1,
        "ir" => ReportId::Ir,
        "ir_a1" => ReportId::IrA1,
        other if NOT_SUPPORTED.contains(&other) => {
            return Err(SushiException::new(
                3000,
                format!(
                "{} describes databases, journals or books a repository does not have; ask for PR, PR_P1, IR or IR_A1.",
                other.to_uppercase()
            ),
            ))
        }
        other => {
            return Err(SushiException::new(3000, format!("No report {other:?}; ask for PR, PR_P1, IR or IR_A1.")))
        }
    };
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let mut exceptions = Vec::new();
    let unknown: Vec<&str> = params
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !report.takes(k))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !unknown.is_empty() {
        exceptions.push(SushiException::new(3050, unknown.join(", ")));
    }
    let (Some(begin_s), Some(end_s)) = (get("begin_date"), get("end_date")) else {
        return Err(SushiException::new(1030, "begin_date and end_date are required (yyyy-mm or yyyy-mm-dd)."));
    };
    let begin = parse_month(begin_s)
        .ok_or_else(|| SushiException::new(3020, format!("begin_date {begin_s:?} is not yyyy-mm or yyyy-mm-dd.")))?;
    let mut end = parse_month(end_s)
        .ok_or_else(|| SushiException::new(3020, format!("end_date {end_s:?} is not yyyy-mm or yyyy-mm-dd.")))?;
    if end < begin {
        return Err(SushiException::new(3020, "end_date is before begin_date."));
    }
    if begin > this_month {
        return Err(SushiException::new(3020, "begin_date is in the future."));
    }
    if end > this_month {
        exceptions.push(SushiException::new(
            3031,
            format!("Usage after {} is not ready; the report ends there.", month_key(this_month)),
        ));
        end = this_month;
    }
    let list = |name: &str| {
        get(name).map(|v| v.split('|').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<BTreeSet<_>>())
    };
    let mut filters = Map::new();
    filters.insert("Begin_Date".into(), json!(format!("{}-01", month_key(begin))));
    filters.insert("End_Date".into(), json!(last_day(end)));
    let mut invalid = Vec::new();
    // Metric types: those of the report, in its order.
    let mut metrics: Vec<&'static str> = report.metrics().to_vec();
    let mut data_types = None;
    let mut access_types = None;
    let mut yop = None;
    let mut item_id = None;
    let mut attributes = BTreeSet::new();
    match report {
        ReportId::Pr | ReportId::Ir => {
            if let Some(asked) = list("metric_type") {
                invalid.extend(
                    asked.iter().filter(|m| !report.metrics().contains(&m.as_str()) && !is_known_metric(m)).cloned(),
                );
                metrics.retain(|m| asked.contains(*m));
                let mut shown: Vec<Value> = Vec::new();
                for m in report.metrics() {
                    if asked.contains(*m) {
                        shown.push(json!(m));
                    }
                }
                if !shown.is_empty() {
                    filters.insert("Metric_Type".into(), Value::Array(shown));
                }
            }
            if let Some(asked) = list("data_type") {
                let known =
                    |d: &str| if report == ReportId::Pr { PR_DATA_TYPES.contains(&d) } else { is_item_data_type(d) };
                invalid.extend(asked.iter().filter(|d| !known(d)).cloned());
                let valid: BTreeSet<String> = asked.into_iter().filter(|d| known(d)).collect();
                if !valid.is_empty() {
                    filters.insert("Data_Type".into(), json!(valid.iter().collect::<Vec<_>>()));
                }
                data_types = Some(valid);
            }
            if let Some(asked) = list("access_method") {
                invalid.extend(asked.iter().filter(|m| *m != "Regular" && *m != "TDM").cloned());
                let valid: Vec<&String> = asked.iter().filter(|m| *m == "Regular" || *m == "TDM").collect();
                if !valid.is_empty() {
                    filters.insert("Access_Method".into(), json!(valid));
                }
                if !asked.contains("Regular") {
                    // Arkiv has no text and data mining access: nothing to report.
                    metrics.clear();
                }
            }
            if let Some(asked) = list("attributes_to_show") {
                let allowed: &[&str] = match report {
                    ReportId::Pr => &["Access_Method"],
                    _ => &["YOP", "Access_Type", "Access_Method", "Authors", "Publication_Date"],
                };
                let bad: Vec<String> = asked.iter().filter(|a| !allowed.contains(&a.as_str())).cloned().collect();
                if !bad.is_empty() {
                    exceptions.push(SushiException::new(3062, format!("attributes_to_show: {}", bad.join(", "))));
                }
                attributes = asked.into_iter().filter(|a| allowed.contains(&a.as_str())).collect();
            }
            if let Some(g) = get("granularity") {
                if g != "Month" {
                    exceptions
                        .push(SushiException::new(3062, format!("granularity {g:?}: usage is reported by month")));
                }
            }
            if report == ReportId::Ir {
                if let Some(asked) = list("access_type") {
                    invalid.extend(
                        asked.iter().filter(|a| !["Controlled", "Open", "Free_To_Read"].contains(&a.as_str())).cloned(),
                    );
                    let valid: Vec<&String> =
                        asked.iter().filter(|a| ["Controlled", "Open", "Free_To_Read"].contains(&a.as_str())).collect();
                    if !valid.is_empty() {
                        filters.insert("Access_Type".into(), json!(valid));
                    }
                    access_types = Some(asked);
                }
                if let Some(asked) = list("yop") {
                    let mut ranges = Vec::new();
                    let mut shown = Vec::new();
                    for r in &asked {
                        let (a, b) = r.split_once('-').unwrap_or((r, r));
                        let year = |y: &str| {
                            y.parse::<i32>().ok().filter(|_| y.len() == 4 && y.bytes().all(|c| c.is_ascii_digit()))
                        };
                        match (year(a), year(b)) {
                            (Some(a), Some(b)) if a <= b => {
                                ranges.push((a, b));
                                shown.push(r.clone());
                            }
                            _ => invalid.push(r.clone()),
                        }
                    }
                    if !shown.is_empty() {
                        filters.insert("YOP".into(), json!(shown));
                    }
                    yop = Some(ranges);
                }
                if let Some(id) = get("item_id") {
                    if id.len() >= 2 {
                        filters.insert("Item_ID".into(), json!(id));
                    }
                    item_id = Some(id.to_string());
                }
                if let Some(author) = get("author") {
                    exceptions.push(SushiException::new(
                        3060,
                        format!("author {author:?}: filtering by author is not supported"),
                    ));
                }
                for p in ["include_parent_details", "include_component_details"] {
                    if get(p).is_some_and(|v| !v.eq_ignore_ascii_case("false")) {
                        exceptions.push(SushiException::new(
                            3062,
                            format!("{p}: items here have no parents or components to detail"),
                        ));
                    }
                }
            }
        }
        ReportId::PrP1 => {
            filters.insert("Access_Method".into(), json!(["Regular"]));
            filters.insert(
                "Metric_Type".into(),
                json!(["Searches_Platform", "Total_Item_Requests", "Unique_Item_Requests", "Unique_Title_Requests"]),
            );
        }
        ReportId::IrA1 => {
            filters.insert("Access_Method".into(), json!(["Regular"]));
            filters.insert("Data_Type".into(), json!(["Article"]));
            filters.insert("Metric_Type".into(), json!(["Total_Item_Requests", "Unique_Item_Requests"]));
            data_types = Some(["Article".to_string()].into());
        }
    }
    if !invalid.is_empty() {
        exceptions.push(SushiException::new(3060, invalid.join(", ")));
    }
    Ok(ReportRequest {
        report,
        begin,
        end,
        metrics,
        data_types,
        access_types,
        yop,
        item_id,
        attributes,
        exceptions,
        filters,
        exclude_monthly_details: false,
    })
}

/// The Data_Types the Platform Report's and the Item Report's filters
/// accept (the specification's enumerations).
const PR_DATA_TYPES: [&str; 24] = [
    "Article",
    "Audiovisual",
    "Book",
    "Book_Segment",
    "Conference",
    "Conference_Item",
    "Database_Full_Item",
    "Dataset",
    "Image",
    "Interactive_Resource",
    "Journal",
    "Multimedia",
    "News_Item",
    "Newspaper_or_Newsletter",
    "Other",
    "Patent",
    "Reference_Item",
    "Reference_Work",
    "Report",
    "Software",
    "Sound",
    "Standard",
    "Thesis_or_Dissertation",
    "Unspecified",
];
/// The Data_Types of the Platform Report that name containers (a journal,
/// a book, a reference work, a newspaper, a conference): an Item Report
/// lists items, so it takes every other one.
const CONTAINER_DATA_TYPES: [&str; 5] = ["Book", "Conference", "Journal", "Newspaper_or_Newsletter", "Reference_Work"];

fn is_item_data_type(d: &str) -> bool {
    PR_DATA_TYPES.contains(&d) && !CONTAINER_DATA_TYPES.contains(&d)
}

fn is_known_metric(m: &str) -> bool {
    // Metrics of the Code this server never counts: asking for them is not
    // invalid, there is just no usage of them.
    ["Searches_Platform", "Unique_Title_Investigations", "Unique_Title_Requests", "Limit_Exceeded", "No_License"]
        .contains(&m)
}

fn metric_value(c: &ItemCounts, metric: &str) -> i64 {
    match metric {
        "Total_Item_Investigations" => c.investigations,
        "Total_Item_Requests" => c.requests,
        "Unique_Item_Investigations" => c.unique_investigations,
        "Unique_Item_Requests" => c.unique_requests,
        _ => 0,
    }
}

/// A Performance object: each metric's non-zero months (COUNTER leaves
/// zero months and metrics out).
fn performance(metrics: &[&'static str], months: &BTreeMap<i64, ItemCounts>) -> Map<String, Value> {
    let mut perf = Map::new();
    for m in metrics {
        let counts: Map<String, Value> = months
            .iter()
            .filter_map(|(month, c)| Some((month_key(*month), json!(Some(metric_value(c, m)).filter(|v| *v > 0)?))))
            .collect();
        if !counts.is_empty() {
            perf.insert((*m).to_string(), Value::Object(counts));
        }
    }
    perf
}

/// The platform's short ID for proprietary identifiers (the base URL's
/// host, as the pattern `^[a-zA-Z][a-zA-Z0-9_./]{1,17}` allows).
pub fn platform_id(repo: &Repository) -> String {
    let host = repo.base_url().split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
    let id: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').take(18).collect();
    match id.chars().next() {
        Some(c) if c.is_ascii_alphabetic() && id.len() >= 2 => id,
        _ => "arkiv".to_string(),
    }
}

fn header(repo: &Repository, r: &ReportRequest, exceptions: &[SushiException]) -> Value {
    let mut h = Map::new();
    h.insert("Release".into(), json!("5.1"));
    h.insert("Report_ID".into(), json!(r.report.id()));
    h.insert("Report_Name".into(), json!(r.report.name()));
    h.insert("Created".into(), json!(repo.now().to_iso8601()));
    h.insert("Created_By".into(), json!(format!("{} (Arkiv)", repo.settings().name)));
    h.insert("Institution_ID".into(), json!({ "Proprietary": [format!("{}:{WORLD}", platform_id(repo))] }));
    h.insert("Institution_Name".into(), json!("The World"));
    h.insert("Registry_Record".into(), json!(""));
    h.insert("Report_Filters".into(), Value::Object(r.filters.clone()));
    if matches!(r.report, ReportId::Pr | ReportId::Ir) && !r.attributes.is_empty() {
        h.insert("Report_Attributes".into(), json!({ "Attributes_To_Show": r.attributes.iter().collect::<Vec<_>>() }));
    }
    if !exceptions.is_empty() {
        h.insert("Exceptions".into(), Value::Array(exceptions.iter().map(SushiException::to_json).collect()));
    }
    Value::Object(h)
}

/// A Platform Report (PR or PR_P1), whole.
pub async fn platform_report(repo: &Repository, r: &ReportRequest) -> anyhow::Result<Value> {
    let rows = repo.store.groups_by_month("type", r.begin, r.end).await?;
    let mut by_type: BTreeMap<&'static str, BTreeMap<i64, ItemCounts>> = BTreeMap::new();
    for (item_type, m) in &rows {
        let dt = data_type(item_type);
        if r.data_types.as_ref().is_some_and(|d| !d.contains(dt)) {
            continue;
        }
        by_type.entry(dt).or_default().entry(m.month).or_default().add(&m.counts);
    }
    let mut attribute_performance = Vec::new();
    for (dt, months) in &by_type {
        let perf = performance(&r.metrics, months);
        // PR's and PR_P1's Performance objects need two metrics at least.
        if perf.len() < 2 && !(r.report == ReportId::Pr && perf.len() == 1 && r.metrics.len() == 1) {
            continue;
        }
        let mut ap = Map::new();
        ap.insert("Data_Type".into(), json!(dt));
        if r.attributes.contains("Access_Method") {
            ap.insert("Access_Method".into(), json!("Regular"));
        }
        ap.insert("Performance".into(), Value::Object(perf));
        attribute_performance.push(Value::Object(ap));
    }
    let mut exceptions = r.exceptions.clone();
    let items = if attribute_performance.is_empty() {
        exceptions.push(SushiException::new(3030, "No usage in these months."));
        Vec::new()
    } else {
        vec![json!({ "Platform": repo.settings().name, "Attribute_Performance": attribute_performance })]
    };
    Ok(json!({ "Report_Header": header(repo, r, &exceptions), "Report_Items": items }))
}

/// An Item Report (IR or IR_A1), read a page of items at a time.
pub struct ItemReport {
    repo: std::sync::Arc<Repository>,
    request: ReportRequest,
    after: RecordId,
    done: bool,
    pub items_written: u64,
}

impl ItemReport {
    pub fn new(repo: std::sync::Arc<Repository>, request: ReportRequest) -> Self {
        ItemReport { repo, request, after: 0, done: false, items_written: 0 }
    }

    /// The report's header, with `exceptions` beyond the request's own
    /// (3030 when the report turned out empty).
    pub fn header(&self, extra: &[SushiException]) -> Value {
        let mut all = self.request.exceptions.clone();
        all.extend_from_slice(extra);
        header(&self.repo, &self.request, &all)
    }

    /// What was asked for.
    pub fn request(&self) -> &ReportRequest {
        &self.request
    }

    /// The next items (as JSON), or `None` when all are out.
    pub async fn next_items(&mut self) -> anyhow::Result<Option<Vec<Value>>> {
        let r = &self.request;
        while !self.done {
            let rows = self.repo.store.item_usage_page(r.begin, r.end, self.after, ITEMS_PER_PAGE).await?;
            let Some(last) = rows.last().map(|x| x.record_id) else {
                self.done = true;
                return Ok(None);
            };
            self.after = last;
            let ids: Vec<RecordId> = rows.iter().map(|x| x.record_id).collect::<BTreeSet<_>>().into_iter().collect();
            let records: BTreeMap<RecordId, Record> =
                self.repo.store.get_records(&ids).await?.into_iter().filter_map(|r| Some((r.id?, r))).collect();
            let mut items = Vec::new();
            let mut i = 0;
            while i < rows.len() {
                let id = rows[i].record_id;
                let mut j = i;
                while j < rows.len() && rows[j].record_id == id {
                    j += 1;
                }
                if let Some(record) = records.get(&id) {
                    if let Some(item) = self.item(record, &rows[i..j]) {
                        items.push(item);
                    }
                }
                i = j;
            }
            if !items.is_empty() {
                self.items_written += items.len() as u64;
                return Ok(Some(items));
            }
        }
        Ok(None)
    }

    fn item(&self, record: &Record, rows: &[arkiv_storage::ItemMonthAccess]) -> Option<Value> {
        let r = &self.request;
        let repo = &self.repo;
        let dt = data_type(&record.item_type);
        if r.data_types.as_ref().is_some_and(|d| !d.contains(dt)) {
            return None;
        }
        let year = record.year();
        if let Some(ranges) = &r.yop {
            let y = year.unwrap_or(1);
            if !ranges.iter().any(|(a, b)| (*a..=*b).contains(&y)) {
                return None;
            }
        }
        let id = record.id.unwrap_or(0);
        let proprietary = format!("{}:{id}", platform_id(repo));
        let uri = repo.record_url(record);
        let doi = arkiv_formats::export::fields::bare_doi(record).filter(|d| is_counter_doi(d)).map(str::to_string);
        if let Some(wanted) = &r.item_id {
            let w = wanted.trim();
            let matches = w == proprietary
                || w == uri
                || w == id.to_string()
                || doi
                    .as_deref()
                    .is_some_and(|d| w.eq_ignore_ascii_case(d) || w.eq_ignore_ascii_case(&format!("DOI:{d}")));
            if !matches {
                return None;
            }
        }
        let show_access = r.attributes.contains("Access_Type") || r.report == ReportId::IrA1;
        let mut by_access: BTreeMap<Option<bool>, BTreeMap<i64, ItemCounts>> = BTreeMap::new();
        for row in rows {
            let access = if row.open { "Open" } else { "Controlled" };
            if r.access_types.as_ref().is_some_and(|a| !a.contains(access)) {
                continue;
            }
            by_access
                .entry(show_access.then_some(row.open))
                .or_default()
                .entry(row.month)
                .or_default()
                .add(&row.counts);
        }
        let mut attribute_performance = Vec::new();
        for (open, months) in &by_access {
            let perf = performance(&r.metrics, months);
            if perf.is_empty() || (r.report == ReportId::IrA1 && perf.len() < 2) {
                continue;
            }
            let mut ap = Map::new();
            if r.report == ReportId::Ir {
                ap.insert("Data_Type".into(), json!(dt));
                if r.attributes.contains("YOP") {
                    ap.insert("YOP".into(), json!(format!("{:04}", year.unwrap_or(1).clamp(1, 9999))));
                }
            }
            if let Some(open) = open {
                ap.insert("Access_Type".into(), json!(if *open { "Open" } else { "Controlled" }));
            }
            if r.report == ReportId::Ir && r.attributes.contains("Access_Method") {
                ap.insert("Access_Method".into(), json!("Regular"));
            }
            ap.insert("Performance".into(), Value::Object(perf));
            attribute_performance.push(Value::Object(ap));
        }
        if attribute_performance.is_empty() {
            return None;
        }
        let mut item = Map::new();
        let title = if record.title.trim().is_empty() { format!("Item {id}") } else { record.title.clone() };
        item.insert("Item".into(), json!(title));
        let publisher = [&record.publisher, &record.institution]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| repo.settings().name.clone());
        item.insert("Publisher".into(), json!(publisher));
        item.insert("Platform".into(), json!(repo.settings().name));
        let mut ids = Map::new();
        if let Some(d) = &doi {
            ids.insert("DOI".into(), json!(d));
        }
        ids.insert("Proprietary".into(), json!(proprietary));
        ids.insert("URI".into(), json!(uri));
        item.insert("Item_ID".into(), Value::Object(ids));
        if r.attributes.contains("Authors") {
            let mut seen = BTreeSet::new();
            let authors: Vec<Value> = record
                .creators
                .iter()
                .map(|c| c.name.inverted())
                .chain(record.corp_creators.iter().map(|c| c.name.clone()))
                .filter(|n| n.chars().count() >= 2 && seen.insert(n.clone()))
                .take(3)
                .map(|n| json!({ "Name": n }))
                .collect();
            if !authors.is_empty() {
                item.insert("Authors".into(), Value::Array(authors));
            }
        }
        if r.attributes.contains("Publication_Date") {
            if let Some(d) = record.date.filter(|d| d.month.is_some() && d.day.is_some()) {
                item.insert("Publication_Date".into(), json!(d.to_string()));
            }
        }
        item.insert("Attribute_Performance".into(), Value::Array(attribute_performance));
        Some(Value::Object(item))
    }
}

/// Whether a DOI has the shape the COUNTER schema requires
/// (`10.NNNN.../suffix`).
fn is_counter_doi(d: &str) -> bool {
    let Some(rest) = d.strip_prefix("10.") else { return false };
    let Some((registrant, suffix)) = rest.split_once('/') else { return false };
    let b = registrant.as_bytes();
    b.len() >= 3
        && (b'1'..=b'9').contains(&b[0])
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3..].iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && !suffix.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const DEC_2026: i64 = 2026 * 12 + 11;

    /// The filters' Data_Types are the official specification's, PR's
    /// and IR's each (IR's being PR's less the containers).
    #[test]
    fn data_types_are_the_specifications() {
        let Some(shared) = arkiv_testkit::shared_dir() else { return };
        let spec: Value =
            serde_json::from_slice(&std::fs::read(shared.join("counter/COUNTER_SUSHI_API_r51.json")).unwrap()).unwrap();
        let listed = |schema: &str| -> BTreeSet<String> {
            spec["components"]["schemas"][schema]["allOf"][0]["properties"]["Data_Type"]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{schema} lists Data_Types"))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let pr: BTreeSet<String> = PR_DATA_TYPES.iter().map(|d| d.to_string()).collect();
        assert_eq!(pr, listed("PR_Attribute_Performance_Other"));
        let ir: BTreeSet<String> = pr.iter().filter(|d| is_item_data_type(d)).cloned().collect();
        assert_eq!(ir, listed("IR_Attribute_Performance"));
        assert!(!is_item_data_type("Journal") && !is_item_data_type("Banana"));
    }

    #[test]
    fn dates_are_checked() {
        let ok =
            parse_request("pr", &params(&[("begin_date", "2026-01"), ("end_date", "2026-03-31")]), DEC_2026).unwrap();
        assert_eq!((ok.begin, ok.end), (2026 * 12, 2026 * 12 + 2));
        for (b, e, code) in [
            ("2026-13", "2026-12", 3020),
            ("2026-02-30", "2026-12", 3020),
            ("2026-05", "2026-01", 3020),
            ("2027-01", "2027-02", 3020),
            ("0000-01", "2026-01", 3020),
            ("banana", "2026-01", 3020),
        ] {
            let e = parse_request("pr", &params(&[("begin_date", b), ("end_date", e)]), DEC_2026).unwrap_err();
            assert_eq!(e.code, code, "{b} {e:?}");
        }
        assert_eq!(parse_request("pr", &params(&[("begin_date", "2026-01")]), DEC_2026).unwrap_err().code, 1030);
        // A range past this month is cut there, with 3031.
        let cut =
            parse_request("ir", &params(&[("begin_date", "2026-01"), ("end_date", "9999-12")]), DEC_2026).unwrap();
        assert_eq!(cut.end, DEC_2026);
        assert!(cut.exceptions.iter().any(|e| e.code == 3031));
    }

    #[test]
    fn reports_a_repository_has_not_are_not_supported() {
        for r in ["dr", "tr_j1", "IR_M1", "nope"] {
            let e =
                parse_request(r, &params(&[("begin_date", "2026-01"), ("end_date", "2026-01")]), DEC_2026).unwrap_err();
            assert_eq!((e.code, e.http_status), (3000, 404), "{r}");
        }
    }

    #[test]
    fn unknown_parameters_and_values_are_warnings() {
        let r = parse_request(
            "pr",
            &params(&[
                ("begin_date", "2026-01"),
                ("end_date", "2026-01"),
                ("colour", "red"),
                ("metric_type", "Total_Item_Requests|Bogus"),
            ]),
            DEC_2026,
        )
        .unwrap();
        let codes: Vec<u16> = r.exceptions.iter().map(|e| e.code).collect();
        assert_eq!(codes, [3050, 3060]);
        assert_eq!(r.metrics, ["Total_Item_Requests"]);
    }

    #[test]
    fn dois_the_schema_accepts() {
        assert!(is_counter_doi("10.1234/abc"));
        assert!(is_counter_doi("10.12345.6/x"));
        assert!(!is_counter_doi("10.12/abc"));
        assert!(!is_counter_doi("10.0123/abc"));
        assert!(!is_counter_doi("11.1234/abc"));
    }
}
