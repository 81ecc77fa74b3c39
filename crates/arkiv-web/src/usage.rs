//! What the statistics learn from a response. A handler whose answer may
//! count (a live record's abstract page, a document's bytes) marks it with
//! a [`Countable`] extension; the layer [`note`], around every route, then
//! hands a visit to the repository's recorder if the answer is one COUNTER
//! counts: a `GET` answered 200 or 304 (Code of Practice §3.1.1, "HTTP
//! status codes"), or 206 for part of a document, or a document's 307 to
//! its presigned URL on S3 (`pages/files.rs`). A HEAD, an error or a
//! refusal never counts. The layer only queues the visit
//! (`arkiv_services::usage::UsageRecorder::note`); it never waits.

use crate::auth::Viewer;
use crate::client_address::ClientAddress;
use crate::AppState;
use arkiv_model::usage::UsageKind;
use arkiv_model::RecordId;
use arkiv_services::usage::{Visit, Visitor};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// A response that counts if it succeeds: whose item, which URL of it (0:
/// the abstract page; else `arkiv_model::usage::file_target`), as what, and
/// its Access_Type (Open, else Controlled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Countable {
    pub record_id: RecordId,
    pub target: i64,
    pub kind: UsageKind,
    pub open: bool,
}

/// The layer: notes the visit of every successful countable answer.
pub async fn note(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    ClientAddress(address): ClientAddress,
    request: Request,
    next: Next,
) -> Response {
    let get = request.method() == Method::GET;
    let user_agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let response = next.run(request).await;
    let Some(countable) = response.extensions().get::<Countable>().copied() else { return response };
    let kind = match (response.status(), countable.kind) {
        (StatusCode::OK | StatusCode::NOT_MODIFIED, kind) => kind,
        (StatusCode::PARTIAL_CONTENT, UsageKind::Download | UsageKind::PartialDownload) => UsageKind::PartialDownload,
        // A download handed to the file store by presigned URL: the bytes
        // go from there, so this is the moment it is known to happen.
        (StatusCode::TEMPORARY_REDIRECT, kind @ (UsageKind::Download | UsageKind::PartialDownload)) => kind,
        _ => return response,
    };
    if get {
        let visitor = match &viewer {
            Some(session) => Visitor::Account(session.user.id),
            None => Visitor::Address(address, user_agent.clone()),
        };
        let visit = Visit {
            record_id: countable.record_id,
            target: countable.target,
            kind,
            open: countable.open,
            visitor,
            user_agent,
        };
        state.repo.usage.note(state.repo.now(), visit);
    }
    response
}
