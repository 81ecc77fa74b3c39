//! The admin page (`/admin`): every user with their role, editorial scope
//! and whether the account is disabled, each changeable by a small form;
//! the subject tree, to which subjects can be added or renamed; and the
//! settings safe to change while the site runs (`/admin/settings`: name,
//! description, contact, registration, session length), each shown with
//! whether it is arkiv.toml's or was changed here, and a way back to the
//! file's value; and the harvests (`/admin/harvests`): each source's
//! progress, and each conflict between a local edit and a newer harvested
//! version with both side by side, to take or to keep. Thin handlers over `arkiv_services::admin::Admin`, which
//! refuses anyone but an admin.

use crate::auth::{CsrfForm, LoggedIn};
use crate::http::Problem;
use crate::pages::deposit::{problem, see_other};
use crate::AppState;
use arkiv_model::{EditorScope, Role, Scheme};
use arkiv_services::accounts::Session;
use arkiv_services::admin::{Admin, SettingsForm};
use arkiv_services::workflow::metadata::FieldProblem;
use arkiv_services::workflow::WorkflowError;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/subjects", post(put_subject))
        .route("/admin/settings", post(update_settings))
        .route("/admin/sushi", post(add_sushi_client))
        .route("/admin/sushi/remove", post(remove_sushi_client))
        .route("/admin/harvests", get(harvests))
        .route("/admin/harvests/resolve", post(resolve_harvest_conflict))
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
    divisions: String,
    disabled: bool,
    verified: bool,
}

#[derive(Serialize)]
struct SubjectLine {
    id: String,
    path: String,
    /// `subjects` or `divisions`.
    tree: &'static str,
}

#[derive(Serialize)]
struct AdminPage {
    nav: &'static str,
    csrf: String,
    users: Vec<UserLine>,
    roles: Vec<&'static str>,
    subjects: Vec<SubjectLine>,
    outbox: Vec<MessageLine>,
    settings: Vec<SettingLine>,
    settings_saved: bool,
    settings_error: Option<&'static str>,
    /// Whether messages go out by SMTP.
    smtp: bool,
    /// What this process's statistics recorder has done since it started.
    usage: arkiv_services::usage::RecorderCounts,
    statistics: bool,
    sushi_clients: Vec<SushiLine>,
    /// The SUSHI base URL clients are given.
    sushi_url: String,
}

/// A client of the COUNTER_SUSHI API, as the admin page lists it.
#[derive(Serialize)]
struct SushiLine {
    name: String,
    customer_id: String,
    requestor_id: String,
    api_key: String,
    created: String,
}

/// One live setting on the form: what it is now (or what was typed, when
/// the form comes back with problems) and where it comes from.
#[derive(Serialize)]
struct SettingLine {
    field: &'static str,
    label: &'static str,
    help: &'static str,
    /// `text`, `email`, `number`, `textarea` or `checkbox`.
    kind: &'static str,
    value: String,
    checked: bool,
    /// Changed on this page (stored in the database), not arkiv.toml's.
    changed_here: bool,
    /// arkiv.toml's value, as the form would show it.
    file_value: String,
    reset: bool,
    problem: Option<String>,
}

/// A form sent back with problems: what was typed, and what is wrong.
type Typed<'a> = Option<(&'a SettingsForm, &'a [FieldProblem])>;

fn setting_lines(state: &AppState, typed: Typed<'_>) -> Vec<SettingLine> {
    let live = state.repo.settings();
    let file = &state.repo.config;
    let o = &live.overrides;
    let shown = SettingsForm::showing(&live);
    let form = typed.map(|(f, _)| f).unwrap_or(&shown);
    let problem = |field: &str| {
        typed.and_then(|(_, problems)| problems.iter().find(|p| p.field == field)).map(|p| p.problem.clone())
    };
    type Text = &'static str;
    let line =
        |field: Text, label: Text, help: Text, kind: Text, value: String, file_value: String, changed_here: bool| {
            SettingLine {
                field,
                label,
                help,
                kind,
                checked: kind == "checkbox" && value == "yes",
                value,
                changed_here,
                file_value,
                reset: form.reset.iter().any(|r| r == field),
                problem: problem(field),
            }
        };
    let yes_no = |b: bool| if b { "yes".to_string() } else { "no".to_string() };
    let domains = |d: &[String]| if d.is_empty() { "(any)".to_string() } else { d.join(", ") };
    vec![
        line(
            "name",
            "Repository name",
            "In every page's header and title, the feeds, OAI-PMH Identify and export file names.",
            "text",
            form.name.clone(),
            file.repository.name.clone(),
            o.name.is_some(),
        ),
        line(
            "description",
            "Description",
            "One or two sentences on the home page and in the OpenSearch description.",
            "textarea",
            form.description.clone(),
            file.repository.description.clone(),
            o.description.is_some(),
        ),
        line(
            "contact_email",
            "Contact e-mail",
            "Where readers and harvesters write to (OAI-PMH adminEmail); requests for copies of items without a depositor go here.",
            "email",
            form.contact_email.clone(),
            file.repository.contact_email.clone(),
            o.contact_email.is_some(),
        ),
        line(
            "registration",
            "Visitors may register (as depositors)",
            "A registered account can do nothing (no deposit, no registered-users documents) until its address is confirmed by the link mailed to it, or by you below. Staff accounts are made by `arkiv user add` either way.",
            "checkbox",
            yes_no(form.registration),
            yes_no(file.accounts.registration),
            o.registration.is_some(),
        ),
        line(
            "allowed_domains",
            "Registration only from these e-mail domains",
            "One per line (their subdomains too); empty: any address.",
            "textarea",
            form.allowed_domains.clone(),
            domains(&file.accounts.allowed_domains),
            o.allowed_domains.is_some(),
        ),
        line(
            "session_hours",
            "A login lasts (hours without use)",
            "From 1 to 8760; applies to sessions as they are next used.",
            "number",
            form.session_hours.clone(),
            file.accounts.session_hours.to_string(),
            o.session_hours.is_some(),
        ),
    ]
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

pub async fn page(State(state): State<AppState>, LoggedIn(session): LoggedIn, uri: Uri) -> Result<Response, Problem> {
    let saved = uri.query().is_some_and(|q| q.split('&').any(|p| p == "saved=settings"));
    render(&state, &session, StatusCode::OK, saved, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    saved: bool,
    typed: Typed<'_>,
) -> Result<Response, Problem> {
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
            divisions: u.scope.divisions.join(" "),
            disabled: u.disabled,
            verified: u.verified,
        })
        .collect();
    let tree = state.repo.subjects();
    let subjects = tree
        .all()
        .map(|s| SubjectLine {
            id: s.id.clone(),
            path: tree.path_label(&s.id),
            tree: tree.scheme_of(&s.id).unwrap_or_default().as_str(),
        })
        .collect();
    let outbox = state
        .repo
        .accounts
        .outbox(50)
        .await?
        .into_iter()
        .map(|m| MessageLine {
            to: m.to,
            subject: m.subject,
            body: m.body,
            created: m.created.to_iso8601(),
            sent: m.sent.map(|t| t.to_iso8601()),
        })
        .collect();
    let sushi_clients = admin
        .sushi_clients()
        .await
        .map_err(problem)?
        .into_iter()
        .map(|c| SushiLine {
            name: c.name,
            customer_id: c.customer_id,
            requestor_id: c.requestor_id,
            api_key: c.api_key,
            created: arkiv_model::Timestamp(c.created).day(),
        })
        .collect();
    let ctx = AdminPage {
        sushi_clients,
        sushi_url: format!("{}/sushi", state.repo.base_url().trim_end_matches('/')),
        usage: state.repo.usage.counts(),
        statistics: state.repo.config.statistics.enabled,
        outbox,
        smtp: state.repo.mailer.is_configured(),
        nav: "admin",
        csrf: session.csrf_token.clone(),
        users,
        roles: Role::ALL.iter().map(Role::as_str).collect(),
        subjects,
        settings: setting_lines(state, typed),
        settings_saved: saved,
        settings_error: typed.map(|_| "Some settings could not be taken, so none was changed. They are marked below."),
    };
    state.page(status, "admin.html", ctx)
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
    divisions: String,
    #[serde(default)]
    disabled: Option<String>,
    /// Ticked to confirm an unconfirmed address by hand.
    #[serde(default)]
    confirm: Option<String>,
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
        divisions: words(&form.divisions),
    };
    admin.update_user(id, role, scope, form.disabled.is_some()).await.map_err(problem)?;
    if form.confirm.is_some() {
        admin.confirm_user(id).await.map_err(problem)?;
    }
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
    /// `subjects` (the default) or `divisions`.
    #[serde(default)]
    tree: String,
}

pub async fn put_subject(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(form): CsrfForm<SubjectForm>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    let scheme = match form.tree.as_str() {
        "" => Scheme::Subjects,
        t => Scheme::parse(t).ok_or_else(|| Problem::bad_request("The tree is `subjects` or `divisions`."))?,
    };
    admin.put_subject(scheme, &form.id, &form.name, Some(form.parent.as_str())).await.map_err(problem)?;
    if let Some(index) = &state.search {
        index.set_subjects(state.repo.subjects());
    }
    Ok(see_other("/admin"))
}

/// The settings form as sent: the checkboxes are there only when ticked,
/// and `reset` once per field going back to arkiv.toml.
fn settings_form(pairs: &[(String, String)]) -> SettingsForm {
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    SettingsForm {
        name: value("name"),
        description: value("description"),
        contact_email: value("contact_email"),
        registration: pairs.iter().any(|(k, _)| k == "registration"),
        allowed_domains: value("allowed_domains"),
        session_hours: value("session_hours"),
        reset: pairs.iter().filter(|(k, _)| k == "reset").map(|(_, v)| v.clone()).collect(),
    }
}

pub async fn update_settings(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    let form = settings_form(&pairs);
    match admin.update_settings(&form).await {
        Ok(_) => Ok(see_other("/admin?saved=settings")),
        Err(WorkflowError::Invalid(problems)) => {
            render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, false, Some((&form, problems.as_slice()))).await
        }
        Err(e) => Err(problem(e)),
    }
}

#[derive(Deserialize)]
pub struct SushiClientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    requestor_id: String,
}

/// Adds a client of the COUNTER_SUSHI API (its IDs and key made at random).
pub async fn add_sushi_client(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(form): CsrfForm<SushiClientForm>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    admin.add_sushi_client(&form.name, &form.customer_id).await.map_err(problem)?;
    Ok(see_other("/admin#sushi-h"))
}

pub async fn remove_sushi_client(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(form): CsrfForm<SushiClientForm>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    if !admin.remove_sushi_client(&form.requestor_id).await.map_err(problem)? {
        return Err(Problem::not_found("No SUSHI client has this requestor ID; the admin page lists them."));
    }
    Ok(see_other("/admin#sushi-h"))
}

// --- harvests -----------------------------------------------------------------

#[derive(Serialize)]
struct HarvestsPage {
    nav: &'static str,
    csrf: String,
    sources: Vec<SourceLine>,
    conflicts: Vec<ConflictLine>,
}

#[derive(Serialize)]
struct SourceLine {
    name: String,
    base_url: String,
    set_spec: String,
    prefix: String,
    last_run: String,
    harvested_until: String,
    records: i64,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct ConflictLine {
    source: String,
    identifier: String,
    record_id: i64,
    title: String,
    datestamp: String,
    found: String,
    deleted: bool,
    differences: Vec<arkiv_services::harvest::FieldDifference>,
}

pub async fn harvests(State(state): State<AppState>, LoggedIn(session): LoggedIn) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    let (sources, conflicts) = admin.harvests().await.map_err(problem)?;
    let sources = sources
        .into_iter()
        .map(|s| SourceLine {
            last_run: s.last_run.map(|t| t.to_iso8601()).unwrap_or_default(),
            harvested_until: s.harvested_until.unwrap_or_default(),
            name: s.name,
            base_url: s.base_url,
            set_spec: s.set_spec,
            prefix: s.prefix,
            records: s.records,
            last_error: s.last_error,
        })
        .collect();
    let conflicts = conflicts
        .into_iter()
        .map(|v| ConflictLine {
            title: v.local.map(|r| r.title).unwrap_or_default(),
            deleted: v.conflict.incoming.is_none(),
            source: v.conflict.source,
            identifier: v.conflict.identifier,
            record_id: v.conflict.record_id,
            datestamp: v.conflict.datestamp,
            found: v.conflict.found.to_iso8601(),
            differences: v.differences,
        })
        .collect();
    state.page(
        StatusCode::OK,
        "harvests.html",
        HarvestsPage { nav: "admin", csrf: session.csrf_token.clone(), sources, conflicts },
    )
}

#[derive(Deserialize)]
pub struct ConflictChoice {
    source: String,
    identifier: String,
    choice: String,
}

pub async fn resolve_harvest_conflict(
    State(state): State<AppState>,
    LoggedIn(session): LoggedIn,
    CsrfForm(form): CsrfForm<ConflictChoice>,
) -> Result<Response, Problem> {
    let admin = Admin::new(&state.repo, &session.user).map_err(problem)?;
    let take = match form.choice.as_str() {
        "take" => true,
        "keep" => false,
        _ => return Err(Problem::bad_request("Choose to take the source's version or to keep the one here.")),
    };
    admin.resolve_harvest_conflict(&form.source, &form.identifier, take).await.map_err(problem)?;
    Ok(see_other("/admin/harvests#conflicts-h"))
}
