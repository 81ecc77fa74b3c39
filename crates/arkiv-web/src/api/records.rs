//! The records of the REST API: list, read, create, change, documents and
//! the review's steps, each one `Workflow` call (see the parent module).

use super::openapi::{RecordAnswer, RecordList};
use super::{json_response, ApiJson, ApiProblem, Caller};
use crate::AppState;
use arkiv_formats::eprints::WriteOptions;
use arkiv_model::{Record, RecordId, User};
use arkiv_services::accounts::api_tokens::Scope;
use arkiv_services::workflow::{may, permissions, Action, Workflow, WorkflowError};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

/// The record as the caller may see it: all of it for its depositor and
/// staff in scope (holding `read`), what the public sees otherwise.
fn record_answer(state: &AppState, caller: &Caller, record: &Record, revision: Option<i64>) -> RecordAnswer {
    let today = state.repo.today();
    let full = caller.has(Scope::Read)
        && caller.user().is_some_and(|u| record.userid == Some(u.id) || permissions::in_scope(u, record));
    let opts = WriteOptions {
        base_url: Some(state.repo.base_url().to_string()),
        include_private: full,
        public_on: if full { None } else { Some(today) },
        file_url: None,
    };
    let mut out = arkiv_formats::json::JsonLinesWriter::new(Vec::new());
    let body = out
        .write_record(record, &opts)
        .ok()
        .and_then(|_| out.finish().ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(Value::Null);
    RecordAnswer {
        id: record.id.unwrap_or(0),
        revision,
        status: record.status.as_str().to_string(),
        url: Some(state.repo.record_url(record)),
        record: Some(body),
        withdrawn_reason: None,
        document: None,
    }
}

/// The record as the caller may see it, as JSON.
fn record_json(state: &AppState, caller: &Caller, record: &Record, revision: i64) -> Value {
    serde_json::to_value(record_answer(state, caller, record, Some(revision))).unwrap_or(Value::Null)
}

fn parse_id(raw: &str) -> Result<RecordId, ApiProblem> {
    raw.parse::<RecordId>().ok().filter(|id| *id > 0).ok_or_else(ApiProblem::not_found)
}

/// `GET /api/records/{id}`: a live record for anyone; a draft, a record
/// under review or a withdrawn one for those who may see it (with `read`).
#[utoipa::path(get, path = "/api/records/{id}", tag = "records", params(("id" = i64, Path, description = "The record's id")),
    responses((status = 200, description = "The record", body = super::openapi::RecordAnswer,
        headers(("ETag" = String, description = "The revision, for If-Match"))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub(super) async fn get_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiProblem> {
    let id = parse_id(&raw)?;
    let (record, revision) = state
        .repo
        .store
        .get_record_with_revision(id)
        .await
        .map_err(ApiProblem::internal)?
        .ok_or_else(ApiProblem::not_found)?;
    // Beyond the live archive: its depositor and staff in scope (a
    // withdrawn record is a tombstone to everyone else, as on its page).
    let visible_to = |u: &User| {
        caller.has(Scope::Read)
            && may(Some(u), Action::View, Some(&record))
            && (record.userid == Some(u.id) || permissions::in_scope(u, &record))
    };
    let public = record.status == arkiv_model::Status::Archive;
    if !public && !caller.user().is_some_and(visible_to) {
        // A withdrawn record's tombstone is public: say so, not what it held.
        if record.status == arkiv_model::Status::Deletion {
            return Err(ApiProblem::new(StatusCode::GONE, "Gone", "This record was withdrawn.")
                .with(json!({ "withdrawn_reason": record.withdrawn_reason })));
        }
        return Err(ApiProblem::not_found());
    }
    Ok(json_response(StatusCode::OK, &record_json(&state, &caller, &record, revision), Some(revision)))
}

/// Records per page of `GET /api/records`, by default and at most.
const PAGE: usize = 50;
const MAX_PAGE: usize = 200;

/// `GET /api/records`: every record that was ever live, by id, a page at
/// a time (`?limit=`, up to 200, and the `next` address, a keyset cursor:
/// a page costs the page, whatever the repository's size). A withdrawn
/// record is listed as its tombstone (id, status, reason), so a system
/// that mirrors the repository learns of withdrawals. `modified_since`
/// (`YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`) lists only what changed since.
#[utoipa::path(get, path = "/api/records", tag = "records",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Records per page (50)"),
        ("cursor" = Option<i64>, Query, minimum = 0, description = "Where the page starts: the `next` address of the last page carries it"),
        ("modified_since" = Option<String>, Query, description = "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ: only records changed since")),
    responses((status = 200, description = "A page of records", body = super::openapi::RecordList), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub(super) async fn list_records(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiProblem> {
    let field = |n: &str| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let bad = |what: &str, why: String| {
        ApiProblem::new(StatusCode::BAD_REQUEST, "Bad Request", why).with(json!({ "parameter": what }))
    };
    if let Some((unknown, _)) = query.iter().find(|(k, _)| !matches!(k.as_str(), "limit" | "cursor" | "modified_since"))
    {
        return Err(bad(
            unknown,
            format!("Unknown parameter {unknown:?}: limit, cursor and modified_since are known."),
        ));
    }
    let limit = match field("limit") {
        None => PAGE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| bad("limit", format!("limit is a number from 1 to {MAX_PAGE}.")))?,
    };
    let after = match field("cursor") {
        None => 0,
        Some(v) => v
            .parse::<RecordId>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad("cursor", "The cursor is not one this API gave: start again without it.".into()))?,
    };
    let from = match field("modified_since") {
        None => None,
        Some(v) => Some(
            arkiv_services::oai::parse_datestamp(v, false)
                .map_err(|_| bad("modified_since", format!("{v:?} is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.")))?
                .0,
        ),
    };
    let oai = arkiv_storage::OaiQuery { set: None, from, until: None };
    let records = state.repo.store.oai_records(&oai, after, limit as i64 + 1).await.map_err(ApiProblem::internal)?;
    let more = records.len() > limit;
    let page = &records[..records.len().min(limit)];
    let items: Vec<RecordAnswer> = page
        .iter()
        // Ever live, yet neither live nor withdrawn: not the public's.
        .filter(|r| matches!(r.status, arkiv_model::Status::Archive | arkiv_model::Status::Deletion))
        .map(|r| {
            if r.status == arkiv_model::Status::Deletion {
                RecordAnswer {
                    id: r.id.unwrap_or(0),
                    revision: None,
                    status: r.status.as_str().to_string(),
                    url: None,
                    record: None,
                    withdrawn_reason: r.withdrawn_reason.clone(),
                    document: None,
                }
            } else {
                record_answer(&state, &caller, r, None)
            }
        })
        .collect();
    let next = match page.last().and_then(|r| r.id) {
        Some(last) if more => {
            let mut url = format!("/api/records?limit={limit}&cursor={last}");
            if let Some(v) = field("modified_since") {
                url.push_str(&format!("&modified_since={}", crate::present::query_value(v)));
            }
            Some(url)
        }
        _ => None,
    };
    Ok(json_response(
        StatusCode::OK,
        &serde_json::to_value(RecordList { records: items, next }).map_err(ApiProblem::internal)?,
        None,
    ))
}

/// What a create or an update sends: the deposit form's fields by name,
/// each a string or a list of strings (a field the form repeats).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordBody {
    /// The item type (policy_paper, article, ...): needed to create.
    #[serde(default)]
    item_type: Option<String>,
    /// The deposit form's fields by name (title, creators, date, abstract,
    /// series, number, institution, ...).
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, super::openapi::FieldValue>)]
    fields: serde_json::Map<String, Value>,
}

/// The body's fields as the form's name-value pairs.
fn form_pairs(body: &RecordBody) -> Result<Vec<(String, String)>, ApiProblem> {
    let mut pairs = Vec::new();
    if let Some(t) = &body.item_type {
        pairs.push(("item_type".to_string(), t.clone()));
    }
    let bad = |name: &str| {
        ApiProblem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Content",
            "Each field is a string or a list of strings.",
        )
        .with(json!({ "errors": [{ "field": name, "problem": "not a string or a list of strings" }] }))
    };
    for (name, value) in &body.fields {
        match value {
            Value::String(s) => pairs.push((name.clone(), s.clone())),
            Value::Array(items) => {
                for v in items {
                    pairs.push((name.clone(), v.as_str().ok_or_else(|| bad(name))?.to_string()));
                }
            }
            Value::Null => pairs.push((name.clone(), String::new())),
            _ => return Err(bad(name)),
        }
    }
    Ok(pairs)
}

/// `POST /api/records` (scope `deposit`): a new record in the caller's
/// workarea, with the fields sent. 201 with its address.
#[utoipa::path(post, path = "/api/records", tag = "records", request_body = RecordBody,
    responses((status = 201, description = "The new record, in your workarea", body = super::openapi::RecordAnswer,
        headers(("ETag" = String), ("Location" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn create_record(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RecordBody>,
) -> Result<Response, ApiProblem> {
    let user = caller.acting(Scope::Deposit)?;
    let item_type = body.item_type.clone().ok_or_else(|| {
        ApiProblem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", "Say the record's item_type.")
            .with(json!({ "errors": [{ "field": "item_type", "problem": "missing" }] }))
    })?;
    let pairs = form_pairs(&body)?;
    let flow = Workflow::new(&state.repo, user);
    // Checked before anything is written: a body that cannot be read
    // leaves no empty record behind.
    let mut trial = Record::new(&item_type, "");
    let problems =
        arkiv_services::workflow::metadata::apply_form(&mut trial, &pairs, &state.repo.types(), &state.repo.subjects());
    if !problems.is_empty() {
        return Err(WorkflowError::Invalid(problems).into());
    }
    // One write, the fields with it: an empty record created first and
    // filled by a second write was left behind, untitled, by a node killed
    // between the two (the multi-node test's fsck found one).
    let id = flow.create_with(trial).await?;
    let record =
        state.repo.store.get_record(id).await.map_err(ApiProblem::internal)?.ok_or_else(ApiProblem::not_found)?;
    let revision = 1;
    let mut res = json_response(StatusCode::CREATED, &record_json(&state, &caller, &record, revision), Some(revision));
    if let Ok(v) = HeaderValue::from_str(&format!("/api/records/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// The revision an `If-Match` names (`"r7"`).
fn if_match(headers: &HeaderMap) -> Result<i64, ApiProblem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Err(ApiProblem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "Precondition Required",
            "Send the ETag of the record you changed as If-Match, so that no one's change is lost.",
        ));
    };
    v.to_str()
        .ok()
        .and_then(|s| {
            s.trim().trim_start_matches("W/").trim_matches('"').strip_prefix('r').and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| {
            ApiProblem::new(
                StatusCode::PRECONDITION_FAILED,
                "Precondition Failed",
                "If-Match is not an ETag this API gave.",
            )
        })
}

/// The scope a change to `record` needs: `deposit` for the caller's own
/// record in their workarea, `edit` for anyone else's.
async fn change_scope(state: &AppState, caller: &Caller, id: RecordId) -> Result<Scope, ApiProblem> {
    let owner = state.repo.store.get_record(id).await.map_err(ApiProblem::internal)?.and_then(|r| r.userid);
    Ok(if owner.is_some() && owner == caller.user().map(|u| u.id) { Scope::Deposit } else { Scope::Edit })
}

/// `PUT /api/records/{id}` with `If-Match`: the fields sent replace theirs
/// (those not sent stay), through the deposit form's rules.
#[utoipa::path(put, path = "/api/records/{id}", tag = "records", params(("id" = i64, Path, description = "The record's id"), ("If-Match" = String, Header, description = "The ETag of the record as you last read it (\"r7\")")),
    request_body = RecordBody,
    responses((status = 200, description = "The record as changed", body = super::openapi::RecordAnswer,
        headers(("ETag" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn update_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RecordBody>,
) -> Result<Response, ApiProblem> {
    let id = parse_id(&raw)?;
    caller.acting(Scope::Deposit).or_else(|_| caller.acting(Scope::Edit))?;
    let user = caller.acting(change_scope(&state, &caller, id).await?)?;
    let expected = if_match(&headers)?;
    let pairs = form_pairs(&body)?;
    let record = Workflow::new(&state.repo, user).edit(id, expected, &pairs).await?;
    let revision = expected + 1;
    Ok(json_response(StatusCode::OK, &record_json(&state, &caller, &record, revision), Some(revision)))
}

/// `DELETE /api/records/{id}` with `If-Match`: a record that was never
/// live (a draft, or a deposit awaiting review), with every revision of it
/// (422 for any other record: a live one is withdrawn). 204.
#[utoipa::path(delete, path = "/api/records/{id}", tag = "records",
    params(("id" = i64, Path, description = "The record's id"),
        ("If-Match" = String, Header, description = "The ETag of the record as you last read it (\"r7\")")),
    responses((status = 204, description = "Deleted"),
        (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn delete_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    let id = parse_id(&raw)?;
    let user = caller.acting(change_scope(&state, &caller, id).await?)?;
    let expected = if_match(&headers)?;
    Workflow::new(&state.repo, user).delete_draft(id, expected).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(crate::http::OwnHeaders);
    Ok(res)
}

/// What a workflow step may send: a note (return), a reason and a
/// replacement (withdraw).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StepBody {
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    replaced_by: Option<RecordId>,
}

/// `POST /api/records/{id}/{step}` with `If-Match`, the review's steps:
/// `submit` (from the workarea to review; 422 lists what is missing),
/// `accept` (live), `return` (to the depositor, with `{"note"}`),
/// `withdraw` (`{"reason", "replaced_by"}`: a tombstone) and `restore`.
/// `submit` needs `deposit` for one's own record; the rest `edit`, and
/// the role and scope the review pages ask.
#[utoipa::path(post, path = "/api/records/{id}/{step}", tag = "workflow",
    params(("id" = i64, Path, description = "The record's id"), ("step" = super::openapi::Step, Path, description = "The step"), ("If-Match" = String, Header, description = "The ETag of the record as you last read it (\"r7\")")),
    request_body(content = Option<StepBody>, description = "A note (return), a reason and a replacement (withdraw)"),
    responses((status = 200, description = "The record after the step", body = super::openapi::RecordAnswer,
        headers(("ETag" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn workflow_step(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, step)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiProblem> {
    let id = parse_id(&raw)?;
    if !matches!(step.as_str(), "submit" | "accept" | "return" | "withdraw" | "restore") {
        return Err(ApiProblem::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            "No such step: submit, accept, return, withdraw, restore or new-version.",
        ));
    }
    let scope = if step == "submit" { change_scope(&state, &caller, id).await? } else { Scope::Edit };
    let user = caller.acting(scope)?;
    let expected = if_match(&headers)?;
    let sent: StepBody = if body.iter().all(u8::is_ascii_whitespace) {
        StepBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiProblem::new(StatusCode::BAD_REQUEST, "Bad Request", format!("The body is not a step's JSON: {e}."))
        })?
    };
    let flow = Workflow::new(&state.repo, user);
    match step.as_str() {
        "submit" => flow.submit(id, expected).await?,
        "accept" => flow.accept(id, expected).await?,
        "return" => flow.return_to_depositor(id, expected, &sent.note).await?,
        "withdraw" => flow.withdraw(id, expected, &sent.reason, sent.replaced_by).await?,
        _ => flow.restore(id, expected).await?,
    }
    let (record, revision) = flow.load(id, Action::View).await?;
    Ok(json_response(StatusCode::OK, &record_json(&state, &caller, &record, revision), Some(revision)))
}

/// `POST /api/records/{id}/new-version`: a new version of a live record
/// in the caller's workarea (201, its address), to be deposited like any.
#[utoipa::path(post, path = "/api/records/{id}/new-version", tag = "workflow", params(("id" = i64, Path, description = "The record's id")),
    responses((status = 201, description = "The new version, in your workarea", body = super::openapi::RecordAnswer,
        headers(("ETag" = String), ("Location" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn new_version(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiProblem> {
    let id = parse_id(&raw)?;
    let user = caller.acting(change_scope(&state, &caller, id).await?)?;
    let flow = Workflow::new(&state.repo, user);
    let new = flow.new_version(id).await?;
    let (record, revision) = flow.load(new, Action::View).await?;
    let mut res = json_response(StatusCode::CREATED, &record_json(&state, &caller, &record, revision), Some(revision));
    if let Ok(v) = HeaderValue::from_str(&format!("/api/records/{new}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /api/records/{id}/documents/{pos}`: the document's main file, by
/// the site's one access rule (`access::readable_file`): open documents of
/// live records to all; the rest to whom the workflow allows, with the
/// `read` scope (a token without it reads as the public does). Streamed;
/// always as an attachment, under a sandbox policy.
#[utoipa::path(get, path = "/api/records/{id}/documents/{pos}", tag = "records",
    params(("id" = i64, Path, description = "The record's id"), ("pos" = u32, Path, description = "The document's position")),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = Vec<u8>,
        headers(("ETag" = String, description = "The file's SHA-256"))),
        (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub(super) async fn download_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, raw_pos)): Path<(String, String)>,
) -> Result<Response, ApiProblem> {
    use arkiv_services::access::{readable_file, Refusal};
    let id = parse_id(&raw)?;
    let pos = raw_pos.parse::<u32>().ok().filter(|p| *p > 0).ok_or_else(ApiProblem::not_found)?;
    let record =
        state.repo.store.get_record(id).await.map_err(ApiProblem::internal)?.ok_or_else(ApiProblem::not_found)?;
    let main = record.document(pos).and_then(|d| d.main_file()).map(|f| f.filename.clone()).unwrap_or_default();
    let viewer = caller.user().filter(|_| caller.has(Scope::Read));
    let readable = readable_file(viewer, &record, pos, &main, state.repo.today()).map_err(|why| match why {
        Refusal::NoRecord | Refusal::NoFile | Refusal::BytesNotHeld => ApiProblem::not_found(),
        Refusal::Withdrawn => {
            ApiProblem::new(StatusCode::GONE, "Gone", "This record was withdrawn, and its files with it.")
        }
        Refusal::Restricted(r) => ApiProblem::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            match r {
                arkiv_services::access::Restriction::Security(s) => {
                    format!("This document is for {} only.", s.label().to_lowercase())
                }
                arkiv_services::access::Restriction::Embargo(until) => {
                    format!("This document is embargoed until {until}.")
                }
            },
        ),
    })?;
    let len =
        state.repo.files.size(readable.sha256).await.map_err(ApiProblem::failed)?.ok_or_else(ApiProblem::not_found)?;
    let body = crate::pages::files::stream(state.repo.files.clone(), readable.sha256.to_string(), 0, len);
    let mut res = Response::new(body);
    let h = res.headers_mut();
    let ct = crate::pages::files::content_type(readable.file.mime_type.as_deref(), &readable.file.filename);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CONTENT_DISPOSITION, crate::pages::files::disposition(false, &readable.file.filename));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", readable.sha256)) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if readable.open { "public, max-age=3600" } else { "private, no-store" }),
    );
    res.extensions_mut().insert(crate::http::OwnHeaders);
    Ok(res)
}

/// `POST /api/records/{id}/documents` with `If-Match`: the body is one
/// file, streamed to the file store (never whole in memory) and refused
/// past `[import] max_file_bytes`: at once when its `Content-Length` says
/// so, else when that many bytes have come. Its name comes from
/// `?filename=` or `Content-Disposition`; `?security=`, `embargo`,
/// `license` and `content` are the deposit form's document settings.
#[utoipa::path(post, path = "/api/records/{id}/documents", tag = "records",
    params(("id" = i64, Path, description = "The record's id"), ("If-Match" = String, Header, description = "The ETag of the record as you last read it (\"r7\")"),
        ("filename" = Option<String>, Query, description = "The file's name (else Content-Disposition's)"),
        ("security" = Option<String>, Query, description = "public, validuser or staffonly"),
        ("embargo" = Option<String>, Query, description = "YYYY-MM-DD: closed until then"),
        ("license" = Option<String>, Query, description = "A licence's id (cc_by) or URL"),
        ("content" = Option<String>, Query, description = "published, accepted, submitted, supplemental...")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, description = "The record with the new document", body = super::openapi::RecordAnswer,
        headers(("ETag" = String), ("Location" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn add_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
    body: axum::body::Body,
) -> Result<Response, ApiProblem> {
    use futures::TryStreamExt;
    let id = parse_id(&raw)?;
    let user = caller.acting(change_scope(&state, &caller, id).await?)?;
    let expected = if_match(&headers)?;
    let max = state.repo.config.import.max_file_bytes;
    let declared_length =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > max) {
        return Err(ApiProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Content Too Large",
            format!("The file is larger than this repository accepts ({} MB).", max / (1024 * 1024)),
        ));
    }
    let field = |n: &str| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let filename = field("filename")
        .map(str::to_string)
        .or_else(|| {
            let cd = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
            let at = cd.find("filename=")? + 9;
            Some(cd[at..].split(';').next()?.trim().trim_matches('"').to_string())
        })
        .unwrap_or_default();
    let settings = crate::pages::deposit::document_settings(&query)
        .map_err(|e| ApiProblem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", e))?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| *t != "application/octet-stream")
        .map(str::to_string);
    let bytes =
        body.into_data_stream().map_err(|e| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e.to_string()));
    let flow = Workflow::new(&state.repo, user);
    let pos = match flow.add_document(id, expected, &filename, declared.as_deref(), Box::pin(bytes), settings).await {
        Ok(pos) => pos,
        Err(WorkflowError::BadUpload(why)) if why.contains("larger than this repository accepts") => {
            return Err(ApiProblem::new(StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large", why));
        }
        Err(WorkflowError::BadUpload(why)) => {
            return Err(ApiProblem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", why));
        }
        Err(e) => return Err(e.into()),
    };
    let (record, revision) = flow.load(id, Action::View).await?;
    let answer = RecordAnswer { document: Some(pos), ..record_answer(&state, &caller, &record, Some(revision)) };
    let mut res = json_response(
        StatusCode::CREATED,
        &serde_json::to_value(answer).map_err(ApiProblem::internal)?,
        Some(revision),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("/api/records/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// What `PUT /api/records/{id}/documents/{pos}` sends: who may read the
/// document, its embargo, licence and version, as on the deposit form
/// (a setting not sent is the form's default: public, no embargo).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentBody {
    /// public, validuser or staffonly
    #[serde(default)]
    security: Option<String>,
    /// YYYY-MM-DD: closed until then
    #[serde(default)]
    embargo: Option<String>,
    /// A licence's id (cc_by) or URL
    #[serde(default)]
    license: Option<String>,
    /// published, accepted, submitted, supplemental...
    #[serde(default)]
    content: Option<String>,
}

fn parse_pos(raw: &str) -> Result<u32, ApiProblem> {
    raw.parse::<u32>().ok().filter(|p| *p > 0).ok_or_else(ApiProblem::not_found)
}

/// The record after a change to one of its documents: 200, its new ETag;
/// 404 when it has no document at `pos`.
async fn after_document_change(
    state: &AppState,
    caller: &Caller,
    flow: &Workflow<'_>,
    id: RecordId,
    changed: Result<(), WorkflowError>,
) -> Result<Response, ApiProblem> {
    match changed {
        Err(WorkflowError::NotFound) => {
            return Err(ApiProblem::new(StatusCode::NOT_FOUND, "Not Found", "The record has no document there."));
        }
        other => other?,
    }
    let (record, revision) = flow.load(id, Action::View).await?;
    Ok(json_response(StatusCode::OK, &record_json(state, caller, &record, revision), Some(revision)))
}

/// `PUT /api/records/{id}/documents/{pos}` with `If-Match`: the document's
/// access settings, through the deposit form's rules.
#[utoipa::path(put, path = "/api/records/{id}/documents/{pos}", tag = "records",
    params(("id" = i64, Path, description = "The record's id"), ("pos" = u32, Path, description = "The document's position"),
        ("If-Match" = String, Header, description = "The ETag of the record as you last read it (\"r7\")")),
    request_body = DocumentBody,
    responses((status = 200, description = "The record as changed", body = super::openapi::RecordAnswer,
        headers(("ETag" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn update_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, raw_pos)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<DocumentBody>,
) -> Result<Response, ApiProblem> {
    let (id, pos) = (parse_id(&raw)?, parse_pos(&raw_pos)?);
    let user = caller.acting(change_scope(&state, &caller, id).await?)?;
    let expected = if_match(&headers)?;
    let pairs: Vec<(String, String)> = [
        ("security", &body.security),
        ("embargo", &body.embargo),
        ("license", &body.license),
        ("content", &body.content),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
    .collect();
    let settings = crate::pages::deposit::document_settings(&pairs)
        .map_err(|e| ApiProblem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", e))?;
    let flow = Workflow::new(&state.repo, user);
    let changed = flow.set_document(id, expected, pos, settings).await;
    after_document_change(&state, &caller, &flow, id, changed).await
}

/// `DELETE /api/records/{id}/documents/{pos}` with `If-Match`: the document
/// comes off the record (a record that was ever live keeps its bytes for
/// good, as earlier revisions name them; a draft's are purged later).
#[utoipa::path(delete, path = "/api/records/{id}/documents/{pos}", tag = "records",
    params(("id" = i64, Path, description = "The record's id"), ("pos" = u32, Path, description = "The document's position"),
        ("If-Match" = String, Header, description = "The ETag of the record as you last read it (\"r7\")")),
    responses((status = 200, description = "The record without the document", body = super::openapi::RecordAnswer,
        headers(("ETag" = String))), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn remove_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, raw_pos)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    let (id, pos) = (parse_id(&raw)?, parse_pos(&raw_pos)?);
    let user = caller.acting(change_scope(&state, &caller, id).await?)?;
    let expected = if_match(&headers)?;
    let flow = Workflow::new(&state.repo, user);
    let changed = flow.remove_document(id, expected, pos).await;
    after_document_change(&state, &caller, &flow, id, changed).await
}
