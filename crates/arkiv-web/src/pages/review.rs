//! The editors' side: the review buffer (`/review`, oldest first or newest,
//! all types or one, only the items in the editor's scope, paged by a
//! cursor), and the forms that move
//! an item through its life: accept into the archive, return to the
//! depositor with a note, withdraw a live item (it becomes a tombstone),
//! restore a withdrawn one. Each form carries the CSRF token and the
//! revision the editor saw; the rules are the workflow service's.

use crate::auth::{CsrfForm, LoggedIn};
use crate::http::Problem;
use crate::pages::deposit::{problem, see_other};
use crate::pages::{parse_id, RecordPath};
use crate::AppState;
use arkiv_model::RecordId;
use arkiv_services::workflow::{ReviewFilter, Workflow, WorkflowError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

const PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(buffer))
        .route("/deposit/{id}/accept", post(accept))
        .route("/deposit/{id}/return", post(send_back))
        .route("/deposit/{id}/withdraw", post(withdraw))
        .route("/deposit/{id}/restore", post(restore))
}

#[derive(Deserialize, Default)]
pub struct BufferQuery {
    /// `LASTMOD-ID` of the last item of the previous page.
    #[serde(default)]
    after: String,
    /// Only items of this type (empty: all).
    #[serde(default, rename = "type")]
    item_type: String,
    /// `oldest` (the default: the queue's order) or `newest`.
    #[serde(default)]
    sort: String,
}

#[derive(Serialize)]
struct BufferLine {
    id: RecordId,
    title: String,
    type_label: String,
    creators: String,
    submitted: String,
    depositor: Option<i64>,
    /// What the form would still require (a deposit by machine may come
    /// incomplete): the editor completes it before accepting.
    missing: Vec<String>,
}

#[derive(Serialize)]
struct TypeChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct BufferPage {
    nav: &'static str,
    items: Vec<BufferLine>,
    /// The next page's query string (filter, order and cursor).
    next: Option<String>,
    first_page: bool,
    types: Vec<TypeChoice>,
    newest_first: bool,
    filtered: bool,
}

pub async fn buffer(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    query: Result<Query<BufferQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let after = q.after.split_once('-').and_then(|(t, id)| Some((t.parse().ok()?, id.parse().ok()?)));
    // An unknown type filters nothing rather than hiding the whole queue.
    let item_type = Some(q.item_type.trim()).filter(|t| state.repo.types().contains(t)).map(str::to_string);
    let filter = ReviewFilter { item_type, newest_first: q.sort == "newest" };
    let page = Workflow::new(&state.repo, &session.user).review_buffer(&filter, after, PAGE).await.map_err(problem)?;
    let items = page
        .items
        .iter()
        .map(|r| BufferLine {
            id: r.id.unwrap_or(0),
            title: if r.title.trim().is_empty() { "(untitled)".into() } else { r.title.clone() },
            type_label: state.repo.types().label(&r.item_type).to_string(),
            creators: r.creators.iter().take(3).map(|c| c.name.inverted()).collect::<Vec<_>>().join("; "),
            submitted: r.lastmod.map(|t| t.day()).unwrap_or_default(),
            depositor: r.userid,
            missing: arkiv_services::workflow::metadata::missing(r, &state.repo.types()),
        })
        .collect();
    let chosen = filter.item_type.as_deref().unwrap_or("");
    let types = state
        .repo
        .types()
        .iter()
        .map(|(k, l)| TypeChoice { value: k.to_string(), label: l.to_string(), selected: k == chosen })
        .collect();
    let next = page.next.map(|(t, id)| {
        let sort = if filter.newest_first { "newest" } else { "oldest" };
        format!("type={chosen}&sort={sort}&after={t}-{id}")
    });
    let ctx = BufferPage {
        nav: "review",
        items,
        next,
        first_page: after.is_none(),
        types,
        newest_first: filter.newest_first,
        filtered: filter.item_type.is_some(),
    };
    state.page(StatusCode::OK, "review.html", ctx)
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    revision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    replaced_by: String,
}

impl StepForm {
    fn revision(&self) -> Result<i64, Problem> {
        self.revision
            .trim()
            .parse()
            .map_err(|_| Problem::bad_request("The form lacks the item's revision; reload the page and try again."))
    }
}

/// Where to go after a step: the item's public page once it is live or
/// withdrawn, else back to the buffer.
fn done(result: Result<(), WorkflowError>, to: String) -> Result<Response, Problem> {
    result.map_err(problem)?;
    Ok(see_other(&to))
}

pub async fn accept(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Result<Response, Problem> {
    done(Workflow::new(&state.repo, &session.user).accept(id, form.revision()?).await, format!("/{id}/"))
}

pub async fn send_back(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Result<Response, Problem> {
    let note: String = form.note.chars().take(5000).collect();
    done(
        Workflow::new(&state.repo, &session.user).return_to_depositor(id, form.revision()?, &note).await,
        "/review".into(),
    )
}

pub async fn withdraw(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Result<Response, Problem> {
    let flow = Workflow::new(&state.repo, &session.user);
    // The right first, then the form's values.
    flow.load(id, arkiv_services::workflow::Action::Withdraw).await.map_err(problem)?;
    let replaced_by = match form.replaced_by.trim() {
        "" => None,
        other => Some(parse_id(other.trim_matches('/')).ok_or_else(|| {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Not done", "The replacement must be an item's number.")
        })?),
    };
    let reason: String = form.reason.chars().take(2000).collect();
    done(flow.withdraw(id, form.revision()?, &reason, replaced_by).await, format!("/{id}/"))
}

pub async fn restore(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    RecordPath(id): RecordPath,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Result<Response, Problem> {
    done(Workflow::new(&state.repo, &session.user).restore(id, form.revision()?).await, format!("/{id}/"))
}
