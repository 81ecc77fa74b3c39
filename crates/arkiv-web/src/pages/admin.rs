//! The admin page (`/admin`): every user with their role, editorial scope
//! and whether the account is disabled, each changeable by a small form;
//! and the subject tree, to which subjects can be added or renamed. Thin
//! handlers over `arkiv_services::admin::Admin`, which refuses anyone but
//! an admin.

use crate::auth::{CsrfForm, LoggedIn};
use crate::http::Problem;
use crate::pages::deposit::{problem, see_other};
use crate::AppState;
use arkiv_model::{EditorScope, Role};
use arkiv_services::admin::Admin;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/subjects", post(put_subject))
}

#[derive(Serialize)]
struct UserLine {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    types: String,
    series: String,
    subjects: String,
    disabled: bool,
}

#[derive(Serialize)]
struct SubjectLine {
    id: String,
    path: String,
}

#[derive(Serialize)]
struct AdminPage {
    nav: &'static str,
    csrf: String,
    users: Vec<UserLine>,
    roles: Vec<&'static str>,
    subjects: Vec<SubjectLine>,
    outbox: Vec<MessageLine>,
    /// Whether messages go out by SMTP.
    smtp: bool,
}

#[derive(Serialize)]
struct MessageLine {
    to: String,
    subject: String,
    body: String,
    created: String,
    /// When SMTP took it, if it did.
    sent: Option<String>,
}

pub async fn page(State(state): State<AppState>, LoggedIn(session): LoggedIn) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    let users = admin
        .users()
        .await
        .map_err(problem)?
        .into_iter()
        .map(|u| UserLine {
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role.as_str(),
            types: u.scope.types.join(" "),
            series: u.scope.series.join("\n"),
            subjects: u.scope.subjects.join(" "),
            disabled: u.disabled,
        })
        .collect();
    let tree = state.repo.subjects();
    let subjects = tree.iter().map(|s| SubjectLine { id: s.id.clone(), path: tree.path_label(&s.id) }).collect();
    let outbox = state
        .repo
        .accounts
        .outbox(50)
        .await
        .map_err(Problem::internal)?
        .into_iter()
        .map(|m| MessageLine { to: m.to, subject: m.subject, body: m.body, created: m.created.to_iso8601(), sent: m.sent.map(|t| t.to_iso8601()) })
        .collect();
    let ctx = AdminPage {
        outbox,
        smtp: state.repo.mailer.is_configured(),
        nav: "admin",
        csrf: session.csrf_token.clone(),
        users,
        roles: Role::ALL.iter().map(Role::as_str).collect(),
        subjects,
    };
    state.page(StatusCode::OK, "admin.html", ctx)
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    types: String,
    #[serde(default)]
    series: String,
    #[serde(default)]
    subjects: String,
    #[serde(default)]
    disabled: Option<String>,
}

fn words(s: &str) -> Vec<String> {
    s.split([' ', ',', '\n', '\r']).map(str::trim).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

pub async fn update_user(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    let id: i64 = id.parse().map_err(|_| Problem::not_found("No such user."))?;
    let role = Role::parse(&form.role).ok_or_else(|| Problem::bad_request("Unknown role."))?;
    let scope = EditorScope {
        types: words(&form.types),
        series: form.series.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        subjects: words(&form.subjects),
    };
    admin.update_user(id, role, scope, form.disabled.is_some()).await.map_err(problem)?;
    Ok(see_other("/admin"))
}

#[derive(Deserialize)]
pub struct SubjectForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
}

pub async fn put_subject(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(form): CsrfForm<SubjectForm>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    admin.put_subject(&form.id, &form.name, Some(form.parent.as_str())).await.map_err(problem)?;
    if let Some(index) = &state.search {
        index.set_subjects(state.repo.subjects());
    }
    Ok(see_other("/admin"))
}
