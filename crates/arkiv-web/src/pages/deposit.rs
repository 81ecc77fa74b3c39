//! Depositing: the workarea (`/workarea`: a user's items by status, and
//! the "new item" form), the deposit page of one item (`/deposit/{id}`:
//! the metadata form for its type, its documents and their access, what it
//! still lacks, submit; for editors, accept and return), and the forms it
//! posts to; among them "Start from a DOI, BibTeX or RIS" (`/fill`), which
//! shows the form filled in from a looked-up or pasted record and saves
//! nothing. Thin handlers over `arkiv_services::workflow::Workflow`, which
//! asks the permission rules and keeps every change as a revision.
//!
//! Every form carries the CSRF token and the revision the user started
//! from; an upload is multipart, checked for the token before a byte of the
//! file is stored, and streamed to the file store.

use crate::auth::{self, CsrfForm, LoggedIn};
use crate::http::Problem;
use crate::pages::{parse_id, RecordPath};
use crate::AppState;
use arkiv_model::{DocumentSecurity, PartialDate, Record, RecordId, Scheme, Status, User};
use arkiv_services::accounts::Session;
use arkiv_services::doi_lookup::{form_fill, DoiLookup, FormFill};
use arkiv_services::workflow::metadata::{form_choices, form_fields, form_values, missing, Field, FieldProblem};
use arkiv_services::workflow::{may, Action, DocumentSettings, Workflow, WorkflowError};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::TryStreamExt;
use serde::Serialize;

pub fn routes(upload_limit: u64) -> Router<AppState> {
    // The multipart body may be as large as the largest file accepted plus
    // room for the small fields; the file store refuses past the limit.
    let body_limit = usize::try_from(upload_limit.saturating_add(1024 * 1024)).unwrap_or(usize::MAX);
    Router::new()
        .route("/workarea", get(workarea))
        .route("/workarea/new", post(create))
        .route("/deposit/{id}", get(deposit_page).post(save))
        .route("/deposit/{id}/fill", post(fill))
        .route("/deposit/{id}/upload", post(upload).layer(DefaultBodyLimit::max(body_limit)))
        .route("/deposit/{id}/document/{pos}", post(document))
        .route("/deposit/{id}/submit", post(submit))
        .route("/deposit/{id}/delete", post(delete_draft))
        .route("/deposit/{id}/history", get(history))
        .route("/deposit/{id}/new-version", post(new_version))
}

pub fn see_other(path: &str) -> Response {
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// A workflow failure as the visitor sees it, for the failures no form
/// shows inline.
pub fn problem(e: WorkflowError) -> Problem {
    match e {
        WorkflowError::NotFound => crate::pages::no_such_record(),
        WorkflowError::Forbidden => Problem::forbidden("Your account may not do this with this item."),
        e @ WorkflowError::Conflict { .. } => Problem::new(StatusCode::CONFLICT, "Changed meanwhile", e.to_string()),
        e @ (WorkflowError::Incomplete(_) | WorkflowError::BadUpload(_)) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Not done", e.to_string())
        }
        WorkflowError::Invalid(problems) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not done",
            problems.iter().map(|p| format!("{}: {}", p.field, p.problem)).collect::<Vec<_>>().join("; "),
        ),
        e @ WorkflowError::TooMany { .. } => Problem::new(StatusCode::TOO_MANY_REQUESTS, "Not now", e.to_string()),
        // A 503 when the file store is down, else a 500 (see `Problem::from`).
        WorkflowError::Store(e) => Problem::from(e),
    }
}

/// The revision a form says its user started from.
/// The status of a form sent back with why it was refused: 409 when the
/// item changed meanwhile, 422 for what the form itself got wrong.
fn refused_status(e: &WorkflowError) -> StatusCode {
    if matches!(e, WorkflowError::Conflict { .. }) {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

fn revision_of(pairs: &[(String, String)]) -> Result<i64, Problem> {
    field(pairs, "revision")
        .and_then(|r| r.trim().parse().ok())
        .ok_or_else(|| Problem::bad_request("The form lacks the item's revision; reload the page and try again."))
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

// --- the workarea ------------------------------------------------------------

#[derive(Serialize)]
struct ItemLine {
    id: RecordId,
    title: String,
    type_label: String,
    status: &'static str,
    changed: String,
    url: String,
    note: Option<String>,
}

#[derive(Serialize)]
struct Section {
    heading: &'static str,
    items: Vec<ItemLine>,
}

#[derive(Serialize)]
struct WorkareaPage {
    nav: &'static str,
    csrf: String,
    sections: Vec<Section>,
    types: Vec<(String, String)>,
    staff: bool,
    /// "Draft files: 312 MB of 1,024 MB": what the user's drafts hold
    /// against the quota.
    draft_files: String,
}

fn item_line(state: &AppState, r: &Record) -> ItemLine {
    let id = r.id.unwrap_or(0);
    ItemLine {
        id,
        title: if r.title.trim().is_empty() { "(untitled)".into() } else { r.title.clone() },
        type_label: state.repo.types().label(&r.item_type).to_string(),
        status: r.status.label(),
        changed: r.lastmod.map(|t| t.day()).unwrap_or_default(),
        url: if r.is_live() || r.status == Status::Deletion { format!("/{id}/") } else { format!("/deposit/{id}") },
        note: r.review_note.clone(),
    }
}

pub async fn workarea(State(state): State<AppState>, LoggedIn(session): LoggedIn) -> Result<Response, Problem> {
    let flow = Workflow::new(&state.repo, &session.user);
    let mut sections = Vec::new();
    for (status, heading) in [
        (Status::Inbox, "In your workarea"),
        (Status::Buffer, "Under review"),
        (Status::Archive, "Live in the repository"),
        (Status::Deletion, "Withdrawn"),
    ] {
        let items = flow.my_items(status, 100).await.map_err(problem)?;
        sections.push(Section { heading, items: items.iter().map(|r| item_line(&state, r)).collect() });
    }
    let types = state.repo.types().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let usage = arkiv_services::file_gc::draft_usage(&state.repo, session.user.id).await?;
    let ctx = WorkareaPage {
        nav: "workarea",
        csrf: session.csrf_token.clone(),
        sections,
        types,
        staff: session.user.role.is_staff(),
        draft_files: usage.label(),
    };
    state.page(StatusCode::OK, "workarea.html", ctx)
}

#[derive(serde::Deserialize)]
pub struct NewItem {
    #[serde(default)]
    item_type: String,
}

pub async fn create(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(form): CsrfForm<NewItem>,
) -> Result<Response, Problem> {
    let id = Workflow::new(&state.repo, &session.user).create(&form.item_type).await.map_err(problem)?;
    Ok(see_other(&format!("/deposit/{id}")))
}

/// Starts a new version of a live item in the user's workarea and opens
/// its deposit form.
pub async fn new_version(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<crate::pages::account::Empty>,
) -> Result<Response, Problem> {
    let id = parse_id(&id).ok_or_else(crate::pages::no_such_record)?;
    let new = Workflow::new(&state.repo, &session.user).new_version(id).await.map_err(problem)?;
    Ok(see_other(&format!("/deposit/{new}")))
}

// --- the deposit page -------------------------------------------------------

#[derive(Serialize)]
struct FormField {
    #[serde(flatten)]
    field: Field,
    value: String,
    /// A `choice` field's options, (value, label).
    choices: Vec<(String, String)>,
    problem: Option<String>,
}

#[derive(Serialize)]
struct SubjectBox {
    id: String,
    name: String,
    depth: usize,
    checked: bool,
}

#[derive(Serialize)]
struct DocumentLine {
    pos: u32,
    filename: String,
    mime_type: String,
    size: String,
    security: &'static str,
    embargo: String,
    license: String,
    content: String,
    url: String,
}

#[derive(Serialize)]
struct DepositPage {
    nav: &'static str,
    csrf: String,
    id: RecordId,
    revision: i64,
    title: String,
    status: &'static str,
    item_type: String,
    types: Vec<(String, String)>,
    fields: Vec<FormField>,
    subjects: Vec<SubjectBox>,
    divisions: Vec<SubjectBox>,
    documents: Vec<DocumentLine>,
    securities: Vec<(&'static str, &'static str)>,
    missing: Vec<String>,
    /// In the review buffer: what is missing is needed to go live.
    in_review: bool,
    review_note: Option<String>,
    /// Live records whose titles closely match this one's.
    duplicates: Vec<(RecordId, String)>,
    message: Option<String>,
    error: Option<String>,
    can_edit: bool,
    can_submit: bool,
    /// A draft never live, which its depositor or an editor may delete.
    can_delete: bool,
    can_review: bool,
    upload_limit_mb: u64,
    upload_js: String,
    public_url: Option<String>,
    /// The live record this item is a new version of.
    succeeds: Option<RecordId>,
    /// The "Start from a DOI, BibTeX or RIS" box: what was pasted, and
    /// what came of it.
    fill: FillView,
}

/// The "Start from a DOI, BibTeX or RIS" box after a lookup.
#[derive(Serialize, Default)]
struct FillView {
    /// What was pasted, shown again.
    text: String,
    /// Why nothing was filled.
    error: Option<String>,
    /// What was filled, when something was.
    done: Option<FillDone>,
}

#[derive(Serialize)]
struct FillDone {
    /// "Crossref (DOI 10.7554/eLife.01567)".
    source: String,
    filled: Vec<String>,
    not_carried: Vec<String>,
    notes: Vec<String>,
}

/// Shapes the deposit page. `typed` are values to show instead of the
/// record's (what the user typed into a form that came back, or what a
/// lookup found), `problems` the fields to mark, `shown_type` the item type
/// to show the form for instead of the record's.
fn deposit_ctx(
    state: &AppState,
    session: &Session,
    record: &Record,
    revision: i64,
    typed: &[(String, String)],
    problems: &[FieldProblem],
    shown_type: Option<&str>,
) -> DepositPage {
    let user = &session.user;
    let id = record.id.unwrap_or(0);
    let values = form_values(record);
    let item_type = shown_type.unwrap_or(&record.item_type);
    let fields = form_fields(item_type)
        .into_iter()
        .map(|f| {
            let value = field(typed, f.name)
                .map(str::to_string)
                .unwrap_or_else(|| values.get(f.name).cloned().unwrap_or_default());
            FormField {
                choices: form_choices(f.name, item_type, &value),
                value,
                problem: problems.iter().find(|p| p.field == f.name).map(|p| p.problem.clone()),
                field: f,
            }
        })
        .collect();
    let tree = state.repo.subjects();
    /// One tree's boxes, each under its parent, ticked where `chosen` names it.
    fn walk(
        tree: &arkiv_model::SubjectTree,
        scheme: Scheme,
        parent: Option<&str>,
        depth: usize,
        chosen: &[String],
        out: &mut Vec<SubjectBox>,
    ) {
        for s in tree.children_in(scheme, parent) {
            out.push(SubjectBox { id: s.id.clone(), name: s.name.clone(), depth, checked: chosen.contains(&s.id) });
            if depth < 8 {
                walk(tree, scheme, Some(&s.id), depth + 1, chosen, out);
            }
        }
    }
    let mut subjects = Vec::new();
    walk(&tree, Scheme::Subjects, None, 0, &record.subjects, &mut subjects);
    let mut divisions = Vec::new();
    walk(&tree, Scheme::Divisions, None, 0, &record.divisions, &mut divisions);
    let documents = record
        .documents
        .iter()
        .map(|d| {
            let main = d.main_file();
            DocumentLine {
                pos: d.pos,
                filename: main.map(|f| f.filename.clone()).unwrap_or_default(),
                mime_type: d.mime_type.clone().or_else(|| main.and_then(|f| f.mime_type.clone())).unwrap_or_default(),
                size: main.map(|f| crate::present::human_size(f.size)).unwrap_or_default(),
                security: d.security.as_str(),
                embargo: d.embargo.map(|e| e.to_string()).unwrap_or_default(),
                license: d.license.clone().unwrap_or_default(),
                content: d.content.clone().unwrap_or_default(),
                url: main.map(|f| crate::present::download_path(id, d.pos, &f.filename)).unwrap_or_default(),
            }
        })
        .collect();
    DepositPage {
        nav: "workarea",
        csrf: session.csrf_token.clone(),
        id,
        revision,
        title: if record.title.trim().is_empty() { "(untitled)".into() } else { record.title.clone() },
        status: record.status.label(),
        item_type: item_type.to_string(),
        types: state.repo.types().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        fields,
        subjects,
        divisions,
        documents,
        securities: [DocumentSecurity::Public, DocumentSecurity::Validuser, DocumentSecurity::Staffonly]
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        // Under review too: a deposit by machine (SWORD) may arrive
        // incomplete, and its editor completes it.
        missing: if matches!(record.status, Status::Inbox | Status::Buffer) {
            missing(record, &state.repo.types())
        } else {
            Vec::new()
        },
        in_review: record.status == Status::Buffer,
        review_note: record.review_note.clone(),
        duplicates: Vec::new(),
        message: None,
        error: None,
        can_edit: may(Some(user), Action::Edit, Some(record)),
        can_submit: may(Some(user), Action::Submit, Some(record)),
        can_delete: may(Some(user), Action::DeleteDraft, Some(record)),
        can_review: may(Some(user), Action::Accept, Some(record)),
        upload_limit_mb: state.repo.config.import.max_file_bytes / (1024 * 1024),
        upload_js: crate::pages::assets::upload_js_url(),
        public_url: (record.is_live()).then(|| format!("/{id}/")),
        succeeds: record.succeeds,
        fill: FillView::default(),
    }
}

/// What the deposit page says above the item: after a redirect, what just
/// happened; after a refused form, why, with what was typed and the fields
/// to mark.
struct Notice<'a> {
    status: StatusCode,
    typed: &'a [(String, String)],
    problems: &'a [FieldProblem],
    message: Option<String>,
    error: Option<String>,
    /// After a lookup: its box, and the item type the form is shown for.
    fill: Option<(FillView, Option<String>)>,
}

impl Notice<'static> {
    fn message(message: Option<String>) -> Self {
        Notice { status: StatusCode::OK, typed: &[], problems: &[], message, error: None, fill: None }
    }

    fn error(status: StatusCode, error: impl Into<String>) -> Self {
        Notice { status, typed: &[], problems: &[], message: None, error: Some(error.into()), fill: None }
    }
}

async fn render_deposit(
    state: &AppState,
    session: &Session,
    id: RecordId,
    notice: Notice<'_>,
) -> Result<Response, Problem> {
    let (record, revision) = Workflow::new(&state.repo, &session.user).load(id, Action::View).await.map_err(problem)?;
    // Whatever form brought us here, the page is shown only to those who
    // may open it: a refused form must not render it in its answer.
    if !viewer_may_open(&session.user, &record) {
        return Err(crate::pages::no_such_record());
    }
    let (fill, shown_type) = notice.fill.unwrap_or_default();
    let mut ctx = deposit_ctx(state, session, &record, revision, notice.typed, notice.problems, shown_type.as_deref());
    ctx.message = notice.message;
    ctx.error = notice.error;
    ctx.fill = fill;
    if matches!(record.status, Status::Inbox | Status::Buffer) {
        ctx.duplicates = crate::search_index::possible_duplicates(state, &record).await;
    }
    let mut res = state.page(notice.status, "deposit.html", ctx)?;
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The one page with a script: the upload form's progress bar.
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::http::DEPOSIT_CSP));
    Ok(res)
}

/// The deposit page is for the item's depositor and the staff whose scope
/// covers it, whatever its status; everyone else has the public page.
fn viewer_may_open(user: &User, record: &Record) -> bool {
    record.userid == Some(user.id) || arkiv_services::workflow::permissions::in_scope(user, record)
}

pub async fn deposit_page(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    uri: Uri,
    RecordPath(id): RecordPath,
) -> Result<Response, Problem> {
    let record = state.repo.store.get_record(id).await?.ok_or_else(crate::pages::no_such_record)?;
    if !viewer_may_open(&session.user, &record) {
        return Err(crate::pages::no_such_record());
    }
    render_deposit(&state, &session, id, Notice::message(flash(uri.query()))).await
}

pub async fn save(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let expected = revision_of(&pairs)?;
    let form: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "csrf" && k != "revision").collect();
    match Workflow::new(&state.repo, &session.user).edit(id, expected, &form).await {
        Ok(_) => Ok(see_other(&format!("/deposit/{id}?saved=1"))),
        Err(WorkflowError::Invalid(problems)) => {
            let error = "Some fields could not be read, so nothing was saved. They are marked below.";
            let notice =
                Notice { typed: &form, problems: &problems, ..Notice::error(StatusCode::UNPROCESSABLE_ENTITY, error) };
            render_deposit(&state, &session, id, notice).await
        }
        Err(e @ WorkflowError::Conflict { .. }) => {
            render_deposit(&state, &session, id, Notice::error(StatusCode::CONFLICT, e.to_string())).await
        }
        Err(e) => Err(problem(e)),
    }
}

#[derive(serde::Deserialize)]
pub struct FillForm {
    #[serde(default)]
    source: String,
}

/// "Start from a DOI, BibTeX or RIS": looks up a DOI (Crossref, then
/// DataCite) or reads a pasted BibTeX entry or RIS record, and shows the
/// deposit form filled in from it. Nothing is saved: the draft changes
/// when the depositor presses the form's Save. A failed lookup shows why
/// beside the box, the form as it was.
pub async fn fill(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(form): CsrfForm<FillForm>,
) -> Result<Response, Problem> {
    // The right first, as saving the form asks it.
    let (record, _) = Workflow::new(&state.repo, &session.user).load(id, Action::Edit).await.map_err(problem)?;
    let types = state.repo.types();
    let found = match DoiLookup::new(&state.repo.config.doi) {
        Ok(lookup) => lookup.lookup(&form.source, &types).await.map_err(|e| e.to_string()),
        Err(e) => Err(format!("The lookup could not start: {e}.")),
    };
    match found {
        Ok(found) => {
            let FormFill { item_type, values, filled, not_carried } = form_fill(&found, &record.item_type, &types);
            let done = FillDone { source: found.source.describe(), filled, not_carried, notes: found.notes };
            let view = FillView { text: form.source, error: None, done: Some(done) };
            let notice = Notice { typed: &values, fill: Some((view, Some(item_type))), ..Notice::message(None) };
            render_deposit(&state, &session, id, notice).await
        }
        Err(error) => {
            let view = FillView { text: form.source, error: Some(error), done: None };
            let notice =
                Notice { status: StatusCode::UNPROCESSABLE_ENTITY, fill: Some((view, None)), ..Notice::message(None) };
            render_deposit(&state, &session, id, notice).await
        }
    }
}

/// The access settings of a document form (upload or change).
pub(crate) fn document_settings(pairs: &[(String, String)]) -> Result<DocumentSettings, String> {
    let s = field(pairs, "security").unwrap_or("public");
    let security = DocumentSecurity::parse(s).ok_or_else(|| format!("{s:?} is not an access level"))?;
    let embargo = match field(pairs, "embargo").map(str::trim).filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => Some(
            e.parse::<PartialDate>()
                .ok()
                .filter(PartialDate::is_valid)
                .ok_or_else(|| format!("the embargo date {e:?} is not a date: write YYYY-MM-DD"))?,
        ),
    };
    let text =
        |name| field(pairs, name).map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(500).collect());
    Ok(DocumentSettings { security, embargo, license: text("license"), content: text("content") })
}

pub async fn upload(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    mut multipart: Multipart,
) -> Result<Response, Problem> {
    let flow = Workflow::new(&state.repo, &session.user);
    let mut pairs: Vec<(String, String)> = Vec::new();
    let bad_form = || Problem::bad_request("The upload form could not be read; reload the page and try again.");
    while let Some(part) = multipart.next_field().await.map_err(|_| bad_form())? {
        let name = part.name().unwrap_or("").to_string();
        if name != "file" {
            if pairs.len() > 20 {
                return Err(bad_form());
            }
            // Small fields only: read at most 8 KB of each, never a
            // whole oversized part into memory.
            let mut part = part;
            let mut value = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(|_| bad_form())? {
                value.extend_from_slice(&chunk);
                if value.len() > 8192 {
                    return Err(Problem::bad_request(format!("The form field {name:?} is too long.")));
                }
            }
            pairs.push((name, String::from_utf8_lossy(&value).chars().take(2000).collect()));
            continue;
        }
        // The file comes last in the form; everything it needs is known.
        if !auth::csrf_matches(field(&pairs, "csrf").unwrap_or("")) {
            return Err(Problem::forbidden(
                "This form has expired or did not come from this site. Please go back, reload the page and send it again.",
            ));
        }
        // The right first, then the form's values.
        flow.load(id, Action::Edit).await.map_err(problem)?;
        let expected = revision_of(&pairs)?;
        let settings = match document_settings(&pairs) {
            Ok(s) => s,
            Err(e) => {
                return render_deposit(&state, &session, id, Notice::error(StatusCode::UNPROCESSABLE_ENTITY, e)).await
            }
        };
        let filename = part.file_name().unwrap_or("").to_string();
        let declared = part.content_type().map(str::to_string);
        let bytes = part.map_err(|e| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e.to_string()));
        let result = flow.add_document(id, expected, &filename, declared.as_deref(), Box::pin(bytes), settings).await;
        return match result {
            Ok(pos) => Ok(see_other(&format!("/deposit/{id}?uploaded={pos}"))),
            Err(e @ (WorkflowError::BadUpload(_) | WorkflowError::Conflict { .. })) => {
                let status = refused_status(&e);
                render_deposit(&state, &session, id, Notice::error(status, format!("The file was not added: {e}.")))
                    .await
            }
            Err(e) => Err(problem(e)),
        };
    }
    if !auth::csrf_matches(field(&pairs, "csrf").unwrap_or("")) {
        return Err(Problem::forbidden("This form has expired or did not come from this site."));
    }
    flow.load(id, Action::Edit).await.map_err(problem)?;
    render_deposit(&state, &session, id, Notice::error(StatusCode::UNPROCESSABLE_ENTITY, "Choose a file to upload."))
        .await
}

pub async fn document(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    Path((raw, pos)): Path<(String, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let id = parse_id(&raw).ok_or_else(crate::pages::no_such_record)?;
    let pos =
        parse_id(&pos).and_then(|p| u32::try_from(p).ok()).ok_or_else(|| Problem::not_found("No such document."))?;
    let flow = Workflow::new(&state.repo, &session.user);
    // The right first, then the form's values.
    flow.load(id, Action::Edit).await.map_err(problem)?;
    let expected = revision_of(&pairs)?;
    let result = if field(&pairs, "remove").is_some() {
        flow.remove_document(id, expected, pos).await
    } else {
        match document_settings(&pairs) {
            Ok(settings) => flow.set_document(id, expected, pos, settings).await,
            Err(e) => {
                return render_deposit(&state, &session, id, Notice::error(StatusCode::UNPROCESSABLE_ENTITY, e)).await
            }
        }
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/deposit/{id}?saved=1"))),
        Err(e @ WorkflowError::Conflict { .. }) => {
            render_deposit(&state, &session, id, Notice::error(StatusCode::CONFLICT, e.to_string())).await
        }
        Err(e) => Err(problem(e)),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let expected = revision_of(&pairs)?;
    match Workflow::new(&state.repo, &session.user).submit(id, expected).await {
        Ok(()) => Ok(see_other("/workarea?submitted=1")),
        Err(e @ (WorkflowError::Incomplete(_) | WorkflowError::Conflict { .. })) => {
            let status = refused_status(&e);
            render_deposit(&state, &session, id, Notice::error(status, format!("Not submitted: {e}."))).await
        }
        Err(e) => Err(problem(e)),
    }
}

/// Deletes a draft that was never live, with every revision of it, once
/// the form's box saying so is ticked; back to the workarea.
pub async fn delete_draft(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let expected = revision_of(&pairs)?;
    if field(&pairs, "confirm") != Some("1") {
        let notice = Notice::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not deleted: tick the box to say that the item and its files should go.".to_string(),
        );
        return render_deposit(&state, &session, id, notice).await;
    }
    match Workflow::new(&state.repo, &session.user).delete_draft(id, expected).await {
        Ok(()) => Ok(see_other("/workarea?deleted=1")),
        Err(e @ (WorkflowError::Invalid(_) | WorkflowError::Conflict { .. })) => {
            let status = refused_status(&e);
            let why = match &e {
                WorkflowError::Invalid(p) => p.iter().map(|p| p.problem.clone()).collect::<Vec<_>>().join("; "),
                other => other.to_string(),
            };
            render_deposit(&state, &session, id, Notice::error(status, format!("Not deleted: {why}."))).await
        }
        Err(e) => Err(problem(e)),
    }
}

#[derive(Serialize)]
struct HistoryPage {
    nav: &'static str,
    id: RecordId,
    title: String,
    entries: Vec<arkiv_services::workflow::history::HistoryEntry>,
}

/// `/deposit/{id}/history`: every revision, who made it, and what changed.
pub async fn history(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
) -> Result<Response, Problem> {
    let (record, entries) = Workflow::new(&state.repo, &session.user).history(id).await.map_err(problem)?;
    let title = if record.title.trim().is_empty() { "(untitled)".into() } else { record.title.clone() };
    state.page(StatusCode::OK, "history.html", HistoryPage { nav: "workarea", id, title, entries })
}

/// Shown on the deposit page after a redirect: what just happened.
pub fn flash(query: Option<&str>) -> Option<String> {
    let q = query?;
    if q.contains("saved=1") {
        Some("Saved.".into())
    } else if q.contains("uploaded=") {
        Some("The file was added.".into())
    } else {
        None
    }
}
