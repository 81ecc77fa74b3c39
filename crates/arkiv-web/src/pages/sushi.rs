//! The COUNTER_SUSHI API, Release 5.1, at `/sushi/r51/...` (the base URL
//! the Code of Practice asks to keep across releases is `/sushi`). Thin:
//! the query as name-value pairs goes to `arkiv_services::sushi`, and what
//! comes back is JSON, an exception with its HTTP status, or (the Item
//! Report) a body streamed a page of items at a time: the header is sent
//! once the first page is read, so a report that turns out empty still
//! says 3030 in its header.

use crate::AppState;
use arkiv_services::sushi::{self, Credentials, ItemReport, ReportId, SushiException};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/sushi/r51/status", get(status))
        .route("/sushi/r51/members", get(members))
        .route("/sushi/r51/reports", get(reports))
        .route("/sushi/r51/reports/{report}", get(report))
}

type Params = Vec<(String, String)>;

/// JSON as the API answers, exceptions included: marked as the handler's
/// own, so that `http::finish` does not dress a 4xx as an HTML error page.
fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut res = (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], value.to_string())
        .into_response();
    res.extensions_mut().insert(crate::http::OwnHeaders);
    res
}

fn exception(e: &SushiException) -> Response {
    json_response(StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST), &e.to_json())
}

fn failure(e: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{e:#}"), "SUSHI request failed");
    let e = SushiException { code: 1000, message: "Service Not Available", http_status: 503, data: None };
    exception(&e)
}

/// Query names in lower case (the specification's are), values as sent.
fn params(query: Result<Query<Params>, axum::extract::rejection::QueryRejection>) -> Params {
    query.map(|Query(q)| q).unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()
}

fn credentials(p: &Params) -> Credentials {
    let get = |n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    Credentials { customer_id: get("customer_id"), requestor_id: get("requestor_id"), api_key: get("api_key") }
}

/// The client, or the response that refuses the request.
async fn authorized(state: &AppState, p: &Params) -> Result<arkiv_storage::SushiClient, Response> {
    match sushi::authorize(&state.repo, &credentials(p)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(exception(&e)),
        Err(e) => Err(failure(e)),
    }
}

pub async fn status(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &sushi::status(&state.repo))
}

pub async fn members(
    State(state): State<AppState>,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = params(query);
    match authorized(&state, &p).await {
        Ok(client) => json_response(StatusCode::OK, &sushi::members(&client)),
        Err(res) => res,
    }
}

pub async fn reports(
    State(state): State<AppState>,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = params(query);
    if let Err(res) = authorized(&state, &p).await {
        return res;
    }
    match sushi::reports(&state.repo).await {
        Ok(list) => json_response(StatusCode::OK, &list),
        Err(e) => failure(e),
    }
}

pub async fn report(
    State(state): State<AppState>,
    Path(report): Path<String>,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = params(query);
    if let Err(res) = authorized(&state, &p).await {
        return res;
    }
    let this_month = arkiv_services::statistics::this_month(&state.repo);
    let request = match sushi::parse_request(&report, &p, this_month) {
        Ok(r) => r,
        Err(e) => return exception(&e),
    };
    match request.report {
        ReportId::Pr | ReportId::PrP1 => match sushi::platform_report(&state.repo, &request).await {
            Ok(v) => json_response(StatusCode::OK, &v),
            Err(e) => failure(e),
        },
        ReportId::Ir | ReportId::IrA1 => item_report(ItemReport::new(state.repo.clone(), request)).await,
    }
}

/// `{"Report_Header":...,"Report_Items":[{"Items":[...]}]}`, streamed.
async fn item_report(mut report: ItemReport) -> Response {
    let first = match report.next_items().await {
        Ok(first) => first,
        Err(e) => return failure(e),
    };
    let Some(first) = first else {
        let none = SushiException::no_usage();
        let body = serde_json::json!({ "Report_Header": report.header(&[none]), "Report_Items": [] });
        return json_response(StatusCode::OK, &body);
    };
    let head = format!("{{\"Report_Header\":{},\"Report_Items\":[{{\"Items\":[", report.header(&[]));
    let body = stream_items(report, head, first, |items, first| join(String::new(), items, first), b"]}]}");
    (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// An Item Report's body: `head`, the first page of items, every further
/// page as the report reads it, then `tail`. `render` writes a page (told
/// whether it is the first). A failure midway ends the body early, logged:
/// the status line is long gone.
pub(crate) fn stream_items(
    report: ItemReport,
    head: String,
    first: Vec<Value>,
    render: impl Fn(&[Value], bool) -> Bytes + Send + Sync + 'static,
    tail: &'static [u8],
) -> Body {
    let mut first_chunk = head.into_bytes();
    first_chunk.extend_from_slice(&render(&first, true));
    let render = std::sync::Arc::new(render);
    let rest = futures::stream::unfold(Some(report), move |state| {
        let render = render.clone();
        async move {
            let mut report = state?;
            match report.next_items().await {
                Ok(Some(items)) => Some((Ok::<Bytes, std::io::Error>(render(&items, false)), Some(report))),
                Ok(None) => Some((Ok(Bytes::from_static(tail)), None)),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "an item report failed midway");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    Body::from_stream(
        futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(first_chunk)) }).chain(rest),
    )
}

/// Items as JSON, comma-separated (a leading comma unless `first`).
fn join(mut out: String, items: &[Value], first: bool) -> Bytes {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !first {
            out.push(',');
        }
        out.push_str(&item.to_string());
    }
    Bytes::from(out)
}
