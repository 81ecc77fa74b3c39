//! The REST API under `/api/`: JSON in and out, for scripts, research-
//! information systems and publishers' routers. Thin, like every handler:
//! each operation is one call of the same `Workflow` the deposit form
//! uses, so the API can skip no rule (permissions, validation, revisions,
//! review), and every write is a revision attributed to the caller's user.
//!
//! Who calls ([`Caller`]): a personal API token (`Authorization: Bearer
//! arkiv_...`, made on `/profile`), limited to its scopes; or, for reading
//! only, the browser's session (a write with nothing but a cookie is
//! refused: a cookie is sent by any page that posts here, a token is not,
//! so the API needs no CSRF tokens); or nobody, who reads what the public
//! reads.
//!
//! Records carry their revision as a strong ETag (`"r7"`); a change must
//! send it back in `If-Match` (428 without it, 412 when someone changed the
//! record meanwhile). Every error is RFC 9457 `application/problem+json`,
//! never an HTML page.

use crate::auth::session_of;
use crate::http::OwnHeaders;
use crate::AppState;
use arkiv_model::User;
use arkiv_services::accounts::api_tokens::{self, Scope, TokenHolder};
use arkiv_services::workflow::WorkflowError;
use axum::extract::rejection::JsonRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

mod openapi;
pub(crate) use openapi::Problem;
mod records;
mod users;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/me", get(me))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/docs", get(openapi::docs))
        .route("/api/subjects", get(subjects))
        .route("/api/users", get(users::list_users))
        .route("/api/users/{id}", axum::routing::put(users::update_user))
        .route("/api/records", get(records::list_records).post(records::create_record))
        .route("/api/records/{id}", get(records::get_record).put(records::update_record).delete(records::delete_record))
        .route("/api/records/{id}/new-version", post(records::new_version))
        .route("/api/records/{id}/{step}", post(records::workflow_step))
        .route("/api/records/{id}/documents", post(records::add_document))
        .route(
            "/api/records/{id}/documents/{pos}",
            get(records::download_document).put(records::update_document).delete(records::remove_document),
        )
}

/// An RFC 9457 problem: what went wrong, as JSON.
#[derive(Debug)]
pub struct ApiProblem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    /// More members (`errors`, `current_revision`).
    extra: Option<Value>,
    /// A `WWW-Authenticate` challenge, for 401s.
    challenge: Option<&'static str>,
    /// Seconds for `Retry-After`, for 429s.
    retry_after: Option<i64>,
}

impl ApiProblem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        ApiProblem { status, title, detail: detail.into(), extra: None, challenge: None, retry_after: None }
    }

    fn unauthorized(detail: impl Into<String>, challenge: &'static str) -> Self {
        ApiProblem { challenge: Some(challenge), ..Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail) }
    }

    fn with(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found", "There is no such record, or you may not see it.")
    }

    /// A failure on our side: a 503 with `Retry-After` when it is the file
    /// store not answering (see `crate::http::file_store_unavailable`),
    /// else a 500.
    pub(crate) fn failed(e: impl Into<anyhow::Error>) -> Self {
        let e: anyhow::Error = e.into();
        if !crate::http::file_store_unavailable(&e) {
            return Self::internal(format!("{e:#}"));
        }
        tracing::warn!(error = %format!("{e:#}"), "the file store is unavailable");
        ApiProblem {
            retry_after: Some(30),
            ..ApiProblem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "The file store is not answering just now; nothing was saved. Try again in a minute.",
            )
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "The repository could not answer this request. Please try again later.",
        )
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some(Value::Object(more)), Some(obj)) = (self.extra, body.as_object_mut()) {
            obj.extend(more);
        }
        let mut res = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"))],
            body.to_string(),
        )
            .into_response();
        if let Some(c) = self.challenge {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        if let Some(s) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s.max(1)));
        }
        res.extensions_mut().insert(OwnHeaders);
        res
    }
}

impl From<WorkflowError> for ApiProblem {
    fn from(e: WorkflowError) -> Self {
        match e {
            WorkflowError::NotFound => ApiProblem::not_found(),
            WorkflowError::Forbidden => {
                ApiProblem::new(StatusCode::FORBIDDEN, "Forbidden", "Your account may not do this to this record.")
            }
            WorkflowError::Conflict { current } => ApiProblem::new(
                StatusCode::PRECONDITION_FAILED,
                "Precondition Failed",
                format!("The record was changed meanwhile: it is at revision {current}. Read it again and resend your change with its ETag."),
            )
            .with(json!({ "current_revision": current })),
            WorkflowError::Incomplete(lacking) => ApiProblem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Content",
                format!("The record is not complete: it needs {}.", lacking.join(", ")),
            )
            .with(json!({ "missing": lacking })),
            WorkflowError::Invalid(problems) => ApiProblem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Content",
                "Some fields could not be read; nothing was saved.",
            )
            .with(json!({
                "errors": problems.iter().map(|p| json!({ "field": p.field, "problem": p.problem })).collect::<Vec<_>>()
            })),
            WorkflowError::BadUpload(why) => ApiProblem::new(StatusCode::BAD_REQUEST, "Bad Request", why),
            e @ WorkflowError::TooMany { seconds } => ApiProblem {
                retry_after: Some(seconds),
                ..ApiProblem::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", e.to_string())
            },
            WorkflowError::Store(e) => ApiProblem::failed(e),
        }
    }
}

/// Who an API request comes from; see the module docs.
pub enum Caller {
    Anonymous,
    /// A browser's session: reading only.
    Session(User),
    Token(TokenHolder),
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::Anonymous => None,
            Caller::Session(u) => Some(u),
            Caller::Token(t) => Some(&t.user),
        }
    }

    /// Whether the caller may act with `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        match self {
            Caller::Anonymous => false,
            Caller::Session(_) => scope == Scope::Read,
            Caller::Token(t) => t.may(scope),
        }
    }

    /// The user, if the caller holds `scope`; else the problem to answer.
    fn acting(&self, scope: Scope) -> Result<&User, ApiProblem> {
        match (self, self.user()) {
            (_, None) => Err(ApiProblem::unauthorized(
                "Send a personal API token (made on your profile page) as Authorization: Bearer.",
                "Bearer",
            )),
            (Caller::Session(_), Some(_)) => Err(ApiProblem::unauthorized(
                "Changes through the API need a personal API token (made on your profile page); a browser session can only read.",
                "Bearer",
            )),
            (_, Some(user)) if self.has(scope) => Ok(user),
            _ => Err(ApiProblem::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("This token lacks the scope {:?} (or your role no longer allows it).", scope.as_str()),
            )
            .with(json!({ "required_scope": scope.as_str() }))),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiProblem> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let value = value.to_str().unwrap_or("");
            let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
                return Err(ApiProblem::unauthorized(
                    "The API takes personal API tokens only: Authorization: Bearer arkiv_...",
                    "Bearer",
                ));
            };
            return match api_tokens::authenticate(state.repo.accounts.as_ref(), token).await {
                Ok(Ok(holder)) => {
                    match arkiv_services::rate_limits::claim_api_request(&state.repo, holder.token_id).await {
                        Ok(Ok(())) => Ok(Caller::Token(holder)),
                        Ok(Err(seconds)) => Err(ApiProblem {
                            retry_after: Some(seconds),
                            ..ApiProblem::new(
                                StatusCode::TOO_MANY_REQUESTS,
                                "Too Many Requests",
                                format!(
                                    "This token has made its {} requests of the minute: try again in {seconds} s.",
                                    state.repo.config.api.requests_per_minute
                                ),
                            )
                        }),
                        Err(e) => Err(ApiProblem::internal(e)),
                    }
                }
                Ok(Err(refused)) => {
                    Err(ApiProblem::unauthorized(refused.to_string(), "Bearer error=\"invalid_token\""))
                }
                Err(e) => Err(ApiProblem::internal(e)),
            };
        }
        // A session reads only: `Caller::acting` refuses it any change.
        Ok(session_of(&parts.extensions).map_or(Caller::Anonymous, |s| Caller::Session(s.user)))
    }
}

/// A JSON body, or a problem that says why it could not be read.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiProblem;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, ApiProblem> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(body_problem(e)),
        }
    }
}

fn body_problem(e: JsonRejection) -> ApiProblem {
    let (status, title) = match &e {
        JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type"),
        JsonRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large"),
        JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content"),
        _ => (StatusCode::BAD_REQUEST, "Bad Request"),
    };
    ApiProblem::new(status, title, e.body_text())
}

/// `/api/me`: who the API takes the caller for, and what they may do.
#[utoipa::path(get, path = "/api/me", tag = "accounts",
    responses((status = 200, description = "Who you are to the API", body = openapi::Me), (status = "default", description = "A problem (RFC 9457): what went wrong and why", body = openapi::Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
async fn me(caller: Caller) -> Response {
    let scopes: Vec<&str> = Scope::ALL.into_iter().filter(|s| caller.has(*s)).map(Scope::as_str).collect();
    let user = caller.user();
    let body = openapi::Me {
        authenticated: user.is_some(),
        id: user.map(|u| u.id),
        name: user.map(|u| u.name.clone()),
        role: user.map(|u| u.role.as_str().to_string()),
        via: user.map(|_| if matches!(caller, Caller::Token(_)) { "token" } else { "session" }.to_string()),
        scopes: scopes.into_iter().map(str::to_string).collect(),
    };
    json_response(StatusCode::OK, &serde_json::to_value(body).unwrap_or(Value::Null), None)
}

/// A JSON answer; with `etag`, the record's revision as its strong ETag.
pub(crate) fn json_response(status: StatusCode, body: &Value, etag: Option<i64>) -> Response {
    let mut res = (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.to_string())
        .into_response();
    if let Some(rev) = etag {
        if let Ok(v) = HeaderValue::from_str(&format!("\"r{rev}\"")) {
            res.headers_mut().insert(header::ETAG, v);
        }
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    }
    res.extensions_mut().insert(OwnHeaders);
    res
}

/// `GET /api/subjects`: the subject tree and the divisions, every node
/// with its parent.
#[utoipa::path(get, path = "/api/subjects", tag = "subjects",
    responses((status = 200, description = "Every node of both trees", body = Vec<openapi::SubjectNode>),
        (status = "default", description = "A problem (RFC 9457)", body = openapi::Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
async fn subjects(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    use arkiv_model::Scheme;
    let tree = state.repo.subjects();
    let nodes: Vec<openapi::SubjectNode> = [Scheme::Subjects, Scheme::Divisions]
        .into_iter()
        .flat_map(|scheme| {
            tree.nodes(scheme).iter().map(move |s| openapi::SubjectNode {
                id: s.id.clone(),
                name: s.name.clone(),
                parent: s.parent.clone(),
                scheme: scheme.as_str().to_string(),
            })
        })
        .collect();
    json_response(StatusCode::OK, &serde_json::to_value(nodes).unwrap_or(Value::Null), None)
}
