//! COUNTER reports in the tabular form the Code of Practice lays out
//! (Release 5.1, section 3.2): thirteen header rows, a blank row, then a row
//! per item (or data type) and metric with the reporting period's total and
//! a column per month (`Jan-2026`; left out with Exclude_Monthly_Details).
//! Made from the same JSON the SUSHI API answers (`crate::sushi`), so the
//! two never disagree. Tab-separated, UTF-8 with a byte order mark as the
//! official samples have it; a tab or line break inside a value becomes a
//! space.

use crate::sushi::{ReportId, ReportRequest};
use arkiv_model::usage::month_key;
use serde_json::Value;

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn cell(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

fn join_array(v: &Value) -> String {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("|"))
        .or_else(|| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn month_heading(month: i64) -> String {
    format!("{}-{:04}", MONTHS[month.rem_euclid(12) as usize], month.div_euclid(12))
}

/// The header rows and the blank row after them, from a JSON
/// Report_Header.
pub fn header_rows(h: &Value) -> String {
    let s = |k: &str| h[k].as_str().map(cell).unwrap_or_default();
    let filters = h["Report_Filters"].as_object();
    let get = |k: &str| filters.and_then(|f| f.get(k));
    let metric_types = get("Metric_Type").map(|m| join_array(m).replace('|', "; ")).unwrap_or_default();
    let other_filters: Vec<String> = filters
        .map(|f| {
            f.iter()
                .filter(|(k, _)| !["Begin_Date", "End_Date", "Metric_Type"].contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={}", join_array(v)))
                .collect()
        })
        .unwrap_or_default();
    let attributes: Vec<String> = h["Report_Attributes"]
        .as_object()
        .map(|a| a.iter().map(|(k, v)| format!("{k}={}", join_array(v))).collect())
        .unwrap_or_default();
    let exceptions: Vec<String> = h["Exceptions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let data = e["Data"].as_str().map(|d| format!(" ({d})")).unwrap_or_default();
                    format!("{}: {}{data}", e["Code"], e["Message"].as_str().unwrap_or(""))
                })
                .collect()
        })
        .unwrap_or_default();
    let institution_id = h["Institution_ID"]
        .as_object()
        .map(|o| {
            o.iter()
                .flat_map(|(ns, ids)| {
                    ids.as_array().into_iter().flatten().filter_map(|i| i.as_str()).map(move |i| format!("{ns}:{i}"))
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let period = format!(
        "Begin_Date={}; End_Date={}",
        get("Begin_Date").and_then(|v| v.as_str()).unwrap_or(""),
        get("End_Date").and_then(|v| v.as_str()).unwrap_or("")
    );
    let rows = [
        ("Report_Name", s("Report_Name")),
        ("Report_ID", s("Report_ID")),
        ("Release", s("Release")),
        ("Institution_Name", s("Institution_Name")),
        ("Institution_ID", cell(&institution_id)),
        ("Metric_Types", cell(&metric_types)),
        ("Report_Filters", cell(&other_filters.join("; "))),
        ("Report_Attributes", cell(&attributes.join("; "))),
        ("Exceptions", cell(&exceptions.join("; "))),
        ("Reporting_Period", period),
        ("Created", s("Created")),
        ("Created_By", s("Created_By")),
        ("Registry_Record", s("Registry_Record")),
    ];
    let mut out = String::from("\u{feff}");
    for (name, value) in rows {
        out.push_str(name);
        out.push('\t');
        out.push_str(&value);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A metric's total over the period and its month cells (none when the
/// report excludes monthly details).
fn counts_cells(counts: &Value, r: &ReportRequest) -> (i64, Vec<String>) {
    let months: Vec<i64> = (r.begin..=r.end).map(|m| counts[month_key(m)].as_i64().unwrap_or(0)).collect();
    let total = months.iter().sum();
    let cells = if r.exclude_monthly_details { Vec::new() } else { months.iter().map(i64::to_string).collect() };
    (total, cells)
}

/// The month columns' headings (none when excluded).
fn month_headings(r: &ReportRequest) -> Vec<String> {
    if r.exclude_monthly_details {
        Vec::new()
    } else {
        (r.begin..=r.end).map(month_heading).collect()
    }
}

/// A Platform Report (PR, PR_P1) as a table.
pub fn platform_table(report: &Value, r: &ReportRequest) -> String {
    let mut out = header_rows(&report["Report_Header"]);
    let access_method = r.attributes.contains("Access_Method");
    let mut heading = vec!["Platform".to_string(), "Data_Type".to_string()];
    if access_method {
        heading.push("Access_Method".into());
    }
    heading.extend(["Metric_Type".to_string(), "Reporting_Period_Total".to_string()]);
    heading.extend(month_headings(r));
    out.push_str(&heading.join("\t"));
    out.push('\n');
    for item in report["Report_Items"].as_array().into_iter().flatten() {
        let platform = cell(item["Platform"].as_str().unwrap_or(""));
        for ap in item["Attribute_Performance"].as_array().into_iter().flatten() {
            for (metric, counts) in ap["Performance"].as_object().into_iter().flatten() {
                let mut row = vec![platform.clone(), cell(ap["Data_Type"].as_str().unwrap_or(""))];
                if access_method {
                    row.push(cell(ap["Access_Method"].as_str().unwrap_or("Regular")));
                }
                let (total, cells) = counts_cells(counts, r);
                row.extend([metric.clone(), total.to_string()]);
                row.extend(cells);
                out.push_str(&row.join("\t"));
                out.push('\n');
            }
        }
    }
    out
}

/// The column headings of an Item Report (IR, IR_A1) table.
pub fn item_heading(r: &ReportRequest) -> String {
    let mut cols: Vec<String> = ["Item", "Publisher", "Publisher_ID", "Platform"].map(String::from).to_vec();
    for a in ["Authors", "Publication_Date", "Article_Version"] {
        if r.attributes.contains(a) || r.report == ReportId::IrA1 {
            cols.push(a.into());
        }
    }
    cols.extend(["DOI", "Proprietary_ID", "ISBN", "Print_ISSN", "Online_ISSN", "URI"].map(String::from));
    if r.report == ReportId::Ir {
        cols.push("Data_Type".into());
        for a in ["YOP", "Access_Type", "Access_Method"] {
            if r.attributes.contains(a) {
                cols.push(a.into());
            }
        }
    } else {
        cols.push("Access_Type".into());
    }
    cols.extend(["Metric_Type".to_string(), "Reporting_Period_Total".to_string()]);
    cols.extend(month_headings(r));
    let mut line = cols.join("\t");
    line.push('\n');
    line
}

/// The rows of some items of an Item Report, as the JSON has them.
pub fn item_rows(items: &[Value], r: &ReportRequest) -> String {
    let mut out = String::new();
    for item in items {
        let s = |k: &str| cell(item[k].as_str().unwrap_or(""));
        let id = |k: &str| cell(item["Item_ID"][k].as_str().unwrap_or(""));
        let mut fixed = vec![s("Item"), s("Publisher"), String::new(), s("Platform")];
        for a in ["Authors", "Publication_Date", "Article_Version"] {
            if r.attributes.contains(a) || r.report == ReportId::IrA1 {
                fixed.push(match a {
                    "Authors" => cell(
                        &item["Authors"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|x| x["Name"].as_str()).collect::<Vec<_>>().join("; "))
                            .unwrap_or_default(),
                    ),
                    other => s(other),
                });
            }
        }
        fixed.extend([id("DOI"), id("Proprietary"), id("ISBN"), id("Print_ISSN"), id("Online_ISSN"), id("URI")]);
        for ap in item["Attribute_Performance"].as_array().into_iter().flatten() {
            let mut attributes = Vec::new();
            if r.report == ReportId::Ir {
                attributes.push(cell(ap["Data_Type"].as_str().unwrap_or("")));
                for a in ["YOP", "Access_Type", "Access_Method"] {
                    if r.attributes.contains(a) {
                        attributes.push(cell(ap[a].as_str().unwrap_or("")));
                    }
                }
            } else {
                attributes.push(cell(ap["Access_Type"].as_str().unwrap_or("")));
            }
            for (metric, counts) in ap["Performance"].as_object().into_iter().flatten() {
                let (total, cells) = counts_cells(counts, r);
                let mut row = fixed.clone();
                row.extend(attributes.iter().cloned());
                row.extend([metric.clone(), total.to_string()]);
                row.extend(cells);
                out.push_str(&row.join("\t"));
                out.push('\n');
            }
        }
    }
    out
}
