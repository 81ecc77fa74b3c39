//! SWORD v2 over HTTP, at EPrints' addresses, so a client configured for
//! an EPrints repository deposits here unchanged:
//!
//! - `/sword-app/servicedocument`: the service document;
//! - `/id/contents`: the collection (POST makes an item);
//! - `/id/eprint/N`: the Edit-IRI and SE-IRI (GET the receipt, PUT new
//!   metadata, POST more metadata or files, or nothing with
//!   `In-Progress: false` to complete, DELETE the item);
//! - `/id/eprint/N/contents`: the EM-IRI (PUT replaces the files, POST
//!   adds one, DELETE takes them all off);
//! - `/id/eprint/N/statement.atom` and `.rdf`: the statement.
//!
//! Hand-written: no crate serves SWORD. Thin like every handler: each
//! request is one call of `arkiv_services::sword`, which goes through the
//! same `Workflow` as the deposit form.
//!
//! **Who calls.** HTTP Basic, with a login (address or username) and its
//! password, or a personal API token with the `deposit` scope in the
//! password's place; counted and throttled as logins are. `On-Behalf-Of`
//! names the account a mediator deposits for.
//!
//! **One rule for `/id/eprint/N`**, which browsers, crawlers and SWORD
//! clients all ask for: a GET that carries `Authorization`, or whose
//! `Accept` asks for Atom or RDF before HTML, is a SWORD client's and gets
//! the receipt (or a 401 challenge); every other GET gets the 301 to the
//! abstract page, as it always did, except one that sends no `Accept` at
//! all (no browser or crawler does; httplib2, under PyPI's sword2 client,
//! does, and sends credentials only when challenged) for an item with no
//! public page, which is challenged (401) where it would have met a 404.
//! Other methods are SWORD's alone.

mod documents;
mod multipart;

use crate::client_address::ClientAddress;
use crate::http::OwnHeaders;
use crate::AppState;
use arkiv_formats::sword as doc;
use arkiv_model::{RecordId, Status, User};
use arkiv_services::sword::package::{self, PackageError};
use arkiv_services::sword::{self as service, Content, Outcome, SwordDeposit, SwordRefusal};
use arkiv_services::workflow::{Workflow, WorkflowError};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/sword-app/servicedocument", get(service_document))
        .route("/id/contents", get(collection_list).post(create))
        .route("/id/eprint/{id}", get(edit_get).put(replace_metadata).post(add_to_container).delete(delete_container))
        .route(
            "/id/eprint/{id}/contents",
            get(crate::pages::eprints_urls::contents).put(replace_files).post(add_files).delete(delete_files),
        )
        .route("/id/eprint/{id}/statement.atom", get(statement_atom))
        .route("/id/eprint/{id}/statement.rdf", get(statement_ore))
}

/// Largest Atom entry taken (metadata only): far beyond any real one.
const MAX_ENTRY_BYTES: usize = 1 << 20;

/// A refusal, as SWORD's error document with the profile's status.
pub struct SwordProblem {
    status: StatusCode,
    href: &'static str,
    title: &'static str,
    summary: String,
    retry_after: Option<i64>,
}

impl SwordProblem {
    fn new(status: StatusCode, href: &'static str, title: &'static str, summary: impl Into<String>) -> Self {
        SwordProblem { status, href, title, summary: summary.into(), retry_after: None }
    }

    fn bad_request(summary: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, doc::ERROR_BAD_REQUEST, "Bad Request", summary)
    }

    fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            doc::ERROR_BAD_REQUEST,
            "Not Found",
            "There is no such item, or you may not see it.",
        )
    }
}

impl IntoResponse for SwordProblem {
    fn into_response(self) -> Response {
        let body = documents::error(self.href, self.title, &self.summary);
        let mut res = (self.status, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"SWORD\""));
        }
        if let Some(s) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s.max(1)));
        }
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res.extensions_mut().insert(OwnHeaders);
        res
    }
}

impl From<SwordRefusal> for SwordProblem {
    fn from(e: SwordRefusal) -> Self {
        use StatusCode as S;
        let message = e.to_string();
        match e {
            SwordRefusal::Credentials(_) => Self::new(S::UNAUTHORIZED, doc::ERROR_BAD_REQUEST, "Unauthorized", message),
            SwordRefusal::Throttled { seconds } => SwordProblem {
                retry_after: Some(seconds),
                ..Self::new(S::TOO_MANY_REQUESTS, doc::ERROR_BAD_REQUEST, "Too Many Requests", message)
            },
            SwordRefusal::MediationNotAllowed => {
                Self::new(S::PRECONDITION_FAILED, doc::ERROR_MEDIATION_NOT_ALLOWED, "Mediation Not Allowed", message)
            }
            SwordRefusal::TargetOwnerUnknown(_) => {
                Self::new(S::FORBIDDEN, doc::ERROR_TARGET_OWNER_UNKNOWN, "Target Owner Unknown", message)
            }
            SwordRefusal::Package(
                PackageError::TooLarge { .. } | PackageError::Bomb { .. } | PackageError::TooManyFiles { .. },
            ) => Self::new(S::PAYLOAD_TOO_LARGE, doc::ERROR_MAX_UPLOAD_SIZE_EXCEEDED, "Content Too Large", message),
            SwordRefusal::Package(PackageError::Unreadable(_) | PackageError::Empty) | SwordRefusal::EprintsXml(_) => {
                Self::new(S::UNSUPPORTED_MEDIA_TYPE, doc::ERROR_CONTENT, "Unsupported Content", message)
            }
            SwordRefusal::Package(PackageError::Io(e)) => internal(e),
            SwordRefusal::Package(_) | SwordRefusal::Entry(_) => Self::bad_request(message),
            SwordRefusal::Workflow(w) => w.into(),
        }
    }
}

impl From<WorkflowError> for SwordProblem {
    fn from(e: WorkflowError) -> Self {
        use StatusCode as S;
        let message = e.to_string();
        match e {
            WorkflowError::NotFound => Self::not_found(),
            WorkflowError::Forbidden => Self::new(
                S::FORBIDDEN,
                doc::ERROR_BAD_REQUEST,
                "Forbidden",
                "Your account may not do this to this item (a submitted item waits for its review; a live one is changed by editors).",
            ),
            WorkflowError::Conflict { .. } => Self::new(S::CONFLICT, doc::ERROR_BAD_REQUEST, "Conflict", message),
            WorkflowError::Incomplete(_) => Self::new(S::UNPROCESSABLE_ENTITY, doc::ERROR_BAD_REQUEST, "Unprocessable", message),
            WorkflowError::Invalid(problems) => Self::bad_request(
                problems.iter().map(|p| format!("{}: {}", p.field, p.problem)).collect::<Vec<_>>().join("; "),
            ),
            WorkflowError::BadUpload(why) if why.contains("larger than this repository accepts") || why.contains("quota") => {
                Self::new(S::PAYLOAD_TOO_LARGE, doc::ERROR_MAX_UPLOAD_SIZE_EXCEEDED, "Content Too Large", why)
            }
            WorkflowError::BadUpload(why) => Self::bad_request(why),
            WorkflowError::TooMany { seconds } => SwordProblem {
                retry_after: Some(seconds),
                ..Self::new(S::TOO_MANY_REQUESTS, doc::ERROR_BAD_REQUEST, "Too Many Requests", message)
            },
            WorkflowError::Store(e) if crate::http::file_store_unavailable(&e) => {
                tracing::warn!(error = %format!("{e:#}"), "the file store is unavailable");
                SwordProblem {
                    retry_after: Some(30),
                    ..Self::new(
                        S::SERVICE_UNAVAILABLE,
                        doc::ERROR_BAD_REQUEST,
                        "Service Unavailable",
                        "The file store is not answering just now; nothing was saved. Try again in a minute.",
                    )
                }
            }
            WorkflowError::Store(e) => internal(format!("{e:#}")),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> SwordProblem {
    tracing::error!(error = %e, "SWORD request failed");
    SwordProblem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        doc::ERROR_BAD_REQUEST,
        "Internal Server Error",
        "The repository could not answer this request. Please try again later.",
    )
}

/// A SWORD client: the account its credentials name, and the account
/// `On-Behalf-Of` names, if any.
pub struct SwordClient {
    user: User,
    owner: Option<User>,
}

impl SwordClient {
    /// The workflow as the owner, by the caller.
    fn deposit<'s>(&'s self, state: &'s AppState) -> Result<SwordDeposit<'s>, SwordProblem> {
        let owner = self.owner.as_ref().unwrap_or(&self.user);
        Ok(SwordDeposit::new(Workflow::on_behalf_of(&state.repo, owner, &self.user)?))
    }
}

/// `Authorization: Basic`'s login and password.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), SwordProblem>> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?;
    let bad = || {
        Err(SwordRefusal::Credentials(
            "send HTTP Basic credentials: Authorization: Basic base64(login:password)".into(),
        )
        .into())
    };
    let Some(encoded) = value.to_str().ok().and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
    else {
        return Some(bad());
    };
    let Some(decoded) =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok())
    else {
        return Some(bad());
    };
    match decoded.split_once(':') {
        Some((login, password)) => Some(Ok((login.to_string(), password.to_string()))),
        None => Some(bad()),
    }
}

impl FromRequestParts<AppState> for SwordClient {
    type Rejection = SwordProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SwordProblem> {
        let Some(credentials) = basic_credentials(&parts.headers) else {
            return Err(SwordRefusal::Credentials(
                "SWORD deposit needs an account: send its login and password (HTTP Basic).".into(),
            )
            .into());
        };
        let (login, password) = credentials?;
        let ClientAddress(address) =
            ClientAddress::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        let user = service::authenticate(&state.repo, &login, &password, &address.to_string()).await?;
        let owner =
            match parts.headers.get("on-behalf-of").and_then(|v| v.to_str().ok()).filter(|v| !v.trim().is_empty()) {
                Some(name) => Some(service::owner_named(&state.repo, &user, name).await?),
                None => None,
            };
        Ok(SwordClient { user, owner })
    }
}

/// The client, or its refusal once the body is read: a client that sends
/// credentials only when challenged (httplib2, under PyPI's sword2) sends
/// its whole body first, and would meet a closed connection (a broken
/// pipe) instead of the challenge were the body left unread. Up to
/// `MAX_ENTRY_BYTES` is read: a larger body without credentials is cut off.
async fn heard(client: Result<SwordClient, SwordProblem>, body: Body) -> Result<(SwordClient, Body), SwordProblem> {
    match client {
        Ok(c) => Ok((c, body)),
        Err(refusal) => {
            let _ = axum::body::to_bytes(body, MAX_ENTRY_BYTES).await;
            Err(refusal)
        }
    }
}

/// `In-Progress`: absent means false (the deposit is complete).
fn in_progress(headers: &HeaderMap) -> Result<bool, SwordProblem> {
    match headers.get("in-progress").map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(SwordProblem::bad_request(format!("In-Progress is true or false, not {v:?}."))),
    }
}

fn parse_container(raw: &str) -> Result<RecordId, SwordProblem> {
    raw.parse::<RecordId>().ok().filter(|id| *id > 0).ok_or_else(SwordProblem::not_found)
}

/// The file name a client sent: `Content-Disposition`'s `filename*` or
/// `filename`, quoted or not, percent-decoded (the python client sends it
/// unquoted and URL-quoted).
fn sent_filename(headers: &HeaderMap) -> Option<String> {
    let cd = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    let mut plain = None;
    for part in cd.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.trim_matches('"');
            let v = v.split_once("''").map_or(v, |(_, rest)| rest);
            return Some(percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
        }
        if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(percent_encoding::percent_decode_str(v.trim_matches('"')).decode_utf8_lossy().into_owned());
        }
    }
    plain
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_entry(headers: &HeaderMap) -> bool {
    media_type(headers) == "application/atom+xml"
}

/// The body as what it is: an Atom entry; a file or package (its
/// `Packaging`), spooled, bounded and checked against `Content-MD5`; or
/// both, as a multipart deposit (`multipart.rs`).
async fn content(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Content, SwordProblem> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if is_entry(headers) {
        if declared.is_some_and(|n| n > MAX_ENTRY_BYTES as u64) {
            return Err(too_large(MAX_ENTRY_BYTES as u64));
        }
        let bytes = axum::body::to_bytes(body, MAX_ENTRY_BYTES).await.map_err(|_| too_large(MAX_ENTRY_BYTES as u64))?;
        return Ok(Content::Entry(bytes.to_vec()));
    }
    let limit = state.repo.config.import.max_file_bytes;
    if media_type(headers) == "multipart/related" {
        // Base64 takes four bytes for three, and the entry and the
        // parts' headers come besides.
        if declared.is_some_and(|n| n > limit / 3 * 4 + MAX_ENTRY_BYTES as u64 + 65_536) {
            return Err(too_large(limit));
        }
        return multipart::read(state, headers, body).await;
    }
    if media_type(headers).starts_with("multipart/") {
        return Err(SwordProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            doc::ERROR_CONTENT,
            "Unsupported Content",
            "A multipart deposit is multipart/related (an Atom entry and a file), not another multipart type.",
        ));
    }
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let stream =
        body.into_data_stream().map_err(|e| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e.to_string()));
    media(state, headers, stream).await
}

fn too_large(limit: u64) -> SwordProblem {
    SwordProblem::from(SwordRefusal::Package(PackageError::TooLarge { limit }))
}

/// A file or a package, as `headers` (the request's, or a multipart
/// part's) describe it: packaging checked first, then the bytes spooled,
/// bounded and checked against `Content-MD5`.
async fn media<S>(state: &AppState, headers: &HeaderMap, stream: S) -> Result<Content, SwordProblem>
where
    S: futures::Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
{
    let packaging =
        headers.get("packaging").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or(doc::PACKAGE_BINARY);
    let eprints_type = media_type(headers) == "application/vnd.eprints.data+xml";
    if ![doc::PACKAGE_BINARY, doc::PACKAGE_SIMPLE_ZIP, doc::PACKAGE_EPRINTS_XML].contains(&packaging) {
        return Err(SwordProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            doc::ERROR_CONTENT,
            "Unsupported Packaging",
            format!(
                "This repository does not take the packaging {packaging:?}: it takes {}, {} and {}.",
                doc::PACKAGE_BINARY,
                doc::PACKAGE_SIMPLE_ZIP,
                doc::PACKAGE_EPRINTS_XML
            ),
        ));
    }
    let limit = state.repo.config.import.max_file_bytes;
    let spooled =
        package::spool(stream, limit, &SwordDeposit::spool_dir(&state.repo)).await.map_err(SwordRefusal::from)?;
    if let Some(sent) = headers.get("content-md5").and_then(|v| v.to_str().ok()) {
        if !service::checksum_matches(&spooled, sent) {
            return Err(SwordProblem::new(
                StatusCode::PRECONDITION_FAILED,
                doc::ERROR_CHECKSUM_MISMATCH,
                "Checksum Mismatch",
                format!("Content-MD5 says {sent}, but the body that arrived has MD5 {}.", spooled.md5_hex),
            ));
        }
    }
    if spooled.size == 0 {
        return Err(SwordProblem::bad_request("The body is empty: send a file, a package or an Atom entry."));
    }
    Ok(match packaging {
        doc::PACKAGE_SIMPLE_ZIP => Content::SimpleZip(spooled),
        doc::PACKAGE_EPRINTS_XML => Content::EprintsXml(spooled),
        _ if eprints_type => Content::EprintsXml(spooled),
        _ => Content::Binary {
            body: spooled,
            filename: sent_filename(headers).unwrap_or_else(|| "deposit.bin".into()),
            mime: Some(media_type(headers)).filter(|t| !t.is_empty() && t != "application/octet-stream"),
        },
    })
}

fn atom(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut res = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res.extensions_mut().insert(OwnHeaders);
    res
}

/// A receipt, with the Edit-IRI as `Location` when `status` is 201.
fn receipt(state: &AppState, status: StatusCode, outcome: &Outcome) -> Response {
    let mut res = atom(status, "application/atom+xml;type=entry", documents::receipt(state, outcome));
    let at = documents::Addresses::of(state, outcome.record.id.unwrap_or_default());
    if let Ok(v) = HeaderValue::from_str(&at.edit) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn no_content() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(OwnHeaders);
    res
}

/// `GET /sword-app/servicedocument`.
async fn service_document(State(state): State<AppState>, client: SwordClient) -> Response {
    let mediation = arkiv_services::workflow::may_mediate(&client.user, &state.repo.config.sword.mediators);
    atom(StatusCode::OK, "application/atomsvc+xml; charset=utf-8", documents::service_document(&state, mediation))
}

/// `GET /id/contents`: a collection is deposited into, not listed here.
async fn collection_list(_client: SwordClient) -> SwordProblem {
    SwordProblem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        doc::ERROR_METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        "The collection takes deposits (POST); your items are listed on your page of the repository.",
    )
}

/// `POST /id/contents`: a new item.
async fn create(
    State(state): State<AppState>,
    client: Result<SwordClient, SwordProblem>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SwordProblem> {
    let (client, body) = heard(client, body).await?;
    let progress = in_progress(&headers)?;
    let content = content(&state, &headers, body).await?;
    let outcome = client.deposit(&state)?.create(content, progress).await?;
    Ok(receipt(&state, StatusCode::CREATED, &outcome))
}

/// Whether a GET of `/id/eprint/N` is a SWORD client's (module docs).
fn wants_sword(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::AUTHORIZATION) {
        return true;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let position = |needle: &str| accept.find(needle);
    let sword = [position("application/atom+xml"), position("application/rdf+xml")].into_iter().flatten().min();
    match (sword, position("text/html")) {
        (Some(s), Some(h)) => s < h,
        (Some(_), None) => true,
        _ => false,
    }
}

/// `GET /id/eprint/N`: the receipt for a SWORD client, the abstract page
/// for everyone else (module docs).
async fn edit_get(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, SwordProblem> {
    let (mut parts, _) = request.into_parts();
    if !wants_sword(&parts.headers) {
        let Some(id) = crate::pages::parse_id(&raw) else {
            return Ok(crate::pages::no_such_record().into_response());
        };
        // A machine (no Accept at all) asking for an item with no public
        // page is challenged for credentials where a browser would meet a
        // 404: httplib2, under the sword2 client, sends them only when
        // challenged. Absent ids are challenged alike, so the answer does
        // not tell drafts from nothing.
        let public = || async {
            let record = state.repo.store.get_record(id).await.map_err(internal)?;
            Ok::<_, SwordProblem>(record.is_some_and(|r| matches!(r.status, Status::Archive | Status::Deletion)))
        };
        if !parts.headers.contains_key(header::ACCEPT) && !public().await? {
            return Err(
                SwordRefusal::Credentials("this item's receipt needs the depositor's credentials".into()).into()
            );
        }
        return Ok(crate::http::moved(&crate::present::record_path(id)));
    }
    let client = SwordClient::from_request_parts(&mut parts, &state).await?;
    let id = parse_container(&raw)?;
    let outcome = client.deposit(&state)?.outcome(id).await?;
    Ok(receipt(&state, StatusCode::OK, &outcome))
}

/// `PUT /id/eprint/N`: the entry's metadata replaces the item's.
async fn replace_metadata(
    State(state): State<AppState>,
    client: Result<SwordClient, SwordProblem>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SwordProblem> {
    let (client, body) = heard(client, body).await?;
    let id = parse_container(&raw)?;
    let progress = in_progress(&headers)?;
    let deposit = client.deposit(&state)?;
    let outcome = match content(&state, &headers, body).await? {
        Content::Entry(xml) => deposit.replace_metadata(id, &xml, progress).await?,
        Content::Multipart { entry, media } => deposit.metadata_and_files(id, &entry, *media, true, progress).await?,
        _ => {
            return Err(SwordProblem::bad_request(
                "PUT on the Edit-IRI takes an Atom entry (with a file, as multipart/related); files alone go to the EM-IRI (…/contents).",
            ))
        }
    };
    Ok(receipt(&state, StatusCode::OK, &outcome))
}

/// `POST /id/eprint/N` (the SE-IRI): more metadata, more files, or, with
/// no body and `In-Progress: false`, the end of an in-progress deposit.
async fn add_to_container(
    State(state): State<AppState>,
    client: Result<SwordClient, SwordProblem>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SwordProblem> {
    let (client, body) = heard(client, body).await?;
    let id = parse_container(&raw)?;
    let progress = in_progress(&headers)?;
    let empty = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) == Some("0");
    let deposit = client.deposit(&state)?;
    let outcome = if empty {
        if progress {
            deposit.outcome(id).await?
        } else {
            deposit.complete(id).await?
        }
    } else {
        match content(&state, &headers, body).await? {
            Content::Entry(xml) => deposit.add_metadata(id, &xml, progress).await?,
            Content::Multipart { entry, media } => {
                deposit.metadata_and_files(id, &entry, *media, false, progress).await?
            }
            files => deposit.add_files(id, files, progress).await?,
        }
    };
    Ok(receipt(&state, StatusCode::OK, &outcome))
}

/// `DELETE /id/eprint/N`: the item, if it was never live.
async fn delete_container(
    State(state): State<AppState>,
    client: SwordClient,
    Path(raw): Path<String>,
) -> Result<Response, SwordProblem> {
    let id = parse_container(&raw)?;
    client.deposit(&state)?.delete(id).await.map_err(|e| match e {
        SwordRefusal::Workflow(WorkflowError::Invalid(_)) => SwordProblem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            doc::ERROR_METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "This item was live: it is withdrawn by an editor, not deleted.",
        ),
        other => other.into(),
    })?;
    Ok(no_content())
}

/// Files for the EM-IRI: a file or a package, never an entry.
async fn file_content(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Content, SwordProblem> {
    match content(state, headers, body).await? {
        Content::Entry(_) | Content::Multipart { .. } => {
            Err(SwordProblem::bad_request("The EM-IRI takes files; metadata goes to the Edit-IRI."))
        }
        c => Ok(c),
    }
}

/// `PUT /id/eprint/N/contents`: the files sent replace the item's.
async fn replace_files(
    State(state): State<AppState>,
    client: Result<SwordClient, SwordProblem>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SwordProblem> {
    let (client, body) = heard(client, body).await?;
    let id = parse_container(&raw)?;
    let files = file_content(&state, &headers, body).await?;
    // The profile has In-Progress on the Col-IRI, Edit-IRI and SE-IRI
    // only: on the EM-IRI it is ignored (the python client sends false).
    client.deposit(&state)?.replace_files(id, files, true).await?;
    Ok(no_content())
}

/// `POST /id/eprint/N/contents`: one more file (or a package's files).
async fn add_files(
    State(state): State<AppState>,
    client: Result<SwordClient, SwordProblem>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SwordProblem> {
    let (client, body) = heard(client, body).await?;
    let id = parse_container(&raw)?;
    let files = file_content(&state, &headers, body).await?;
    // In-Progress is ignored here, as on PUT.
    let outcome = client.deposit(&state)?.add_files(id, files, true).await?;
    Ok(receipt(&state, StatusCode::CREATED, &outcome))
}

/// `DELETE /id/eprint/N/contents`: every file off the item.
async fn delete_files(
    State(state): State<AppState>,
    client: SwordClient,
    Path(raw): Path<String>,
) -> Result<Response, SwordProblem> {
    let id = parse_container(&raw)?;
    client.deposit(&state)?.delete_files(id).await?;
    Ok(no_content())
}

async fn statement(state: &AppState, client: &SwordClient, raw: &str, ore: bool) -> Result<Response, SwordProblem> {
    let id = parse_container(raw)?;
    let outcome = client.deposit(state)?.outcome(id).await?;
    let depositor = match outcome.record.userid {
        Some(uid) => state.repo.accounts.user(uid).await.map_err(internal)?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    let body = documents::statement(state, &outcome, &depositor, ore);
    Ok(if ore {
        atom(StatusCode::OK, "application/rdf+xml", body)
    } else {
        atom(StatusCode::OK, "application/atom+xml;type=feed", body)
    })
}

/// `GET /id/eprint/N/statement.atom`.
async fn statement_atom(
    State(state): State<AppState>,
    client: SwordClient,
    Path(raw): Path<String>,
) -> Result<Response, SwordProblem> {
    statement(&state, &client, &raw, false).await
}

/// `GET /id/eprint/N/statement.rdf`.
async fn statement_ore(
    State(state): State<AppState>,
    client: SwordClient,
    Path(raw): Path<String>,
) -> Result<Response, SwordProblem> {
    statement(&state, &client, &raw, true).await
}
