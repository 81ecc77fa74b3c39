//! Request a copy: the form a visitor fills for a restricted document
//! (`/copy-request/{id}/{pos}`), the list of pending requests a depositor
//! or an editor decides (`/copy-requests`), and the download an approval
//! grants (`/copy/{token}`, for a week, served privately and sandboxed).
//! Thin handlers over `arkiv_services::workflow::copies`.

use crate::auth::{self, set_cookie, CsrfForm, LoggedIn, CSRF_COOKIE};
use crate::client_address::ClientAddress;
use crate::http::Problem;
use crate::pages::deposit::{problem, see_other};
use crate::pages::files::{content_type, disposition, stream};
use crate::pages::parse_id;
use crate::AppState;
use arkiv_services::workflow::copies;
use arkiv_services::workflow::WorkflowError;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/copy-request/{id}/{pos}", get(form).post(file_request))
        .route("/copy-requests", get(pending))
        .route("/copy-requests/{rid}", post(decide))
        .route("/copy/{token}", get(download))
}

#[derive(Serialize)]
struct FormPage {
    nav: &'static str,
    csrf: String,
    id: i64,
    pos: u32,
    title: String,
    filename: String,
    sent: bool,
    error: Option<String>,
}

fn ids(id: &str, pos: &str) -> Result<(i64, u32), Problem> {
    let id = parse_id(id).ok_or_else(crate::pages::no_such_record)?;
    let pos =
        parse_id(pos).and_then(|p| u32::try_from(p).ok()).ok_or_else(|| Problem::not_found("No such document."))?;
    Ok((id, pos))
}

async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    id: i64,
    pos: u32,
    sent: bool,
    error: Option<String>,
) -> Result<Response, Problem> {
    let record =
        state.repo.store.get_record(id).await?.filter(|r| r.is_live()).ok_or_else(crate::pages::no_such_record)?;
    let doc = record.document(pos).ok_or_else(|| Problem::not_found("No such document."))?;
    let (csrf, new_cookie) = auth::form_token(headers);
    let ctx = FormPage {
        nav: "",
        csrf,
        id,
        pos,
        title: record.title.clone(),
        filename: doc.main_file().map(|f| f.filename.clone()).unwrap_or_default(),
        sent,
        error: error.clone(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut res = state.page(status, "copy_request.html", ctx)?;
    if let Some(t) = new_cookie {
        res.headers_mut().append(header::SET_COOKIE, set_cookie(state, CSRF_COOKIE, &t, 24 * 3600));
    }
    Ok(res)
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, pos)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let (id, pos) = ids(&id, &pos)?;
    form_page(&state, &headers, id, pos, false, None).await
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

pub async fn file_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, pos)): Path<(String, String)>,
    address: ClientAddress,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<Response, Problem> {
    let (id, pos) = ids(&id, &pos)?;
    let address = address.to_string();
    match copies::request_copy(&state.repo, id, pos, &form.email, &form.name, &form.message, &address).await {
        Ok(()) => form_page(&state, &headers, id, pos, true, None).await,
        Err(WorkflowError::Invalid(problems)) => {
            let text = problems.iter().map(|p| p.problem.clone()).collect::<Vec<_>>().join("; ");
            form_page(&state, &headers, id, pos, false, Some(text)).await
        }
        Err(e) => Err(problem(e)),
    }
}

#[derive(Serialize)]
struct PendingLine {
    id: i64,
    record_id: i64,
    title: String,
    requester: String,
    message: String,
    created: String,
}

#[derive(Serialize)]
struct PendingPage {
    nav: &'static str,
    csrf: String,
    requests: Vec<PendingLine>,
}

pub async fn pending(State(state): State<AppState>, LoggedIn(session): LoggedIn) -> Result<Response, Problem> {
    let requests = copies::pending_for(&state.repo, &session.user, 200)
        .await
        .map_err(problem)?
        .into_iter()
        .map(|p| PendingLine {
            id: p.request.id,
            record_id: p.request.record_id,
            title: p.record.title,
            requester: format!("{} <{}>", p.request.requester_name, p.request.requester_email),
            message: p.request.message,
            created: p.request.created.day(),
        })
        .collect();
    state.page(
        StatusCode::OK,
        "copy_requests.html",
        PendingPage { nav: "workarea", csrf: session.csrf_token.clone(), requests },
    )
}

#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    Path(rid): Path<String>,
    CsrfForm(form): CsrfForm<Decision>,
) -> Result<Response, Problem> {
    let rid = parse_id(&rid).ok_or_else(|| Problem::not_found("No such request."))?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(Problem::bad_request("Approve or refuse.")),
    };
    copies::decide(&state.repo, &session.user, rid, approve).await.map_err(problem)?;
    Ok(see_other("/copy-requests"))
}

/// The approved copy: the document's main file, to this link's holder only.
pub async fn download(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, Problem> {
    let gone = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            "Link not valid",
            "This download link has expired or is not valid. Ask for a copy again from the item's page.",
        )
    };
    let doc = match copies::by_token(&state.repo, &token).await {
        Ok(copies::CopyGrant::File(doc)) => *doc,
        Ok(copies::CopyGrant::NoLongerAvailable) => {
            return Err(Problem::new(
                StatusCode::GONE,
                "Copy no longer available",
                "This copy is no longer available: the document it was approved for has been removed or changed. \
                 Ask for a copy again from the item's page.",
            ))
        }
        Err(WorkflowError::NotFound) => return Err(gone()),
        Err(other) => return Err(problem(other)),
    };
    let file = doc.main_file().ok_or_else(gone)?;
    let sha = file.sha256.clone().ok_or_else(gone)?;
    let len = state.repo.files.size(&sha).await?.ok_or_else(gone)?;
    let mut res = Response::new(stream(state.repo.files.clone(), sha, 0, len));
    let h = res.headers_mut();
    let ty = content_type(file.mime_type.as_deref(), &file.filename);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ty).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CONTENT_DISPOSITION, disposition(false, &file.filename));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(res)
}
