//! Logging in and out, and registering: `/login`, `/logout` (POST only),
//! `/register`, `/register/confirm` (the link mailed to a new account's
//! address, opened with the account's password). Thin handlers over
//! `arkiv_services::accounts`; every form
//! here carries a CSRF token ([`CsrfForm`]) — the login form too, so that
//! another site cannot log a visitor into an account of its choosing.
//!
//! A successful login or confirmation sets a new session cookie (the
//! service has already ended the session the browser came with) and sends
//! the visitor back to where they were (`target`, a path of this site
//! only, never another site).

use crate::auth::{self, set_cookie, CsrfForm, Viewer, CSRF_COOKIE, SESSION_COOKIE};
use crate::client_address::ClientAddress;
use crate::http::Problem;
use crate::AppState;
use arkiv_services::accounts::{self, AccountError, NewSession};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/register", get(register_page).post(register))
        .route("/register/confirm", get(confirm_page).post(confirm))
}

#[derive(Deserialize, Default)]
pub struct Target {
    #[serde(default)]
    target: String,
}

/// `target` if it is a path of this site, else the home page: a login
/// link must not become a way to send people elsewhere.
fn local_target(target: &str) -> String {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.chars().any(|c| c.is_control())
        && target.len() < 2000;
    if ok {
        target.to_string()
    } else {
        "/".to_string()
    }
}

#[derive(Serialize)]
struct FormCtx<'a> {
    nav: &'static str,
    csrf: String,
    target: String,
    target_query: String,
    email: &'a str,
    name: &'a str,
    orcid: &'a str,
    error: Option<String>,
    registration: bool,
    domains: Vec<String>,
    /// A registration went through: the page says to look for the mail.
    sent: bool,
    /// The confirmation token the form carries.
    token: String,
}

fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    target: &str,
    fields: (&str, &str, &str),
    error: Option<String>,
) -> Result<Response, Problem> {
    let (csrf, new_cookie) = auth::form_token(headers);
    let ctx = FormCtx { csrf, error, ..blank_ctx(state, target, fields) };
    render_form(state, status, template, ctx, new_cookie)
}

fn render_form(
    state: &AppState,
    status: StatusCode,
    template: &str,
    ctx: FormCtx<'_>,
    new_cookie: Option<String>,
) -> Result<Response, Problem> {
    let mut res = state.page(status, template, ctx)?;
    if let Some(token) = new_cookie {
        res.headers_mut().append(header::SET_COOKIE, set_cookie(state, CSRF_COOKIE, &token, 24 * 3600));
    }
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

pub async fn login_page(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
    target: Result<Query<Target>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    // Shown to a logged-in visitor too: logging in as someone else is how
    // one switches accounts (the old session ends).
    let _ = viewer;
    let target = target.map(|Query(t)| t.target).unwrap_or_default();
    form_page(&state, &headers, StatusCode::OK, "login.html", &target, ("", "", ""), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    target: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, Problem> {
    let repo = &state.repo;
    let previous = auth::cookie(&headers, SESSION_COOKIE);
    match accounts::login(repo, &form.email, &form.password, &address.to_string(), previous).await {
        Ok((_, session)) => Ok(logged_in(&state, &form.target, session)),
        Err(e @ AccountError::Unconfirmed { user }) => {
            // The right password: the owner (or whoever they gave it to)
            // gets a new link, at most every few minutes.
            accounts::confirm::resend_confirmation(repo, user, &address.to_string())
                .await
                .map_err(Problem::internal)?;
            let fields = (form.email.as_str(), "", "");
            form_page(&state, &headers, StatusCode::FORBIDDEN, "login.html", &form.target, fields, Some(e.to_string()))
        }
        Err(e @ AccountError::BadCredentials) => {
            let fields = (form.email.as_str(), "", "");
            form_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                "login.html",
                &form.target,
                fields,
                Some(e.to_string()),
            )
        }
        Err(e @ AccountError::Throttled { seconds }) => {
            let fields = (form.email.as_str(), "", "");
            let mut res = form_page(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                "login.html",
                &form.target,
                fields,
                Some(e.to_string()),
            )?;
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds.max(1)));
            Ok(res)
        }
        Err(e) => Err(Problem::internal(e)),
    }
}

/// The answer to a successful login: the new session's cookie and a
/// redirect back.
pub(crate) fn logged_in(state: &AppState, target: &str, session: NewSession) -> Response {
    let max_age = state.repo.settings().accounts.session_seconds();
    let mut res = see_other(&local_target(target));
    res.headers_mut().append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, &session.id, max_age));
    res
}

pub(crate) fn see_other(path: &str) -> Response {
    match header::HeaderValue::from_str(path) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => (StatusCode::SEE_OTHER, [(header::LOCATION, header::HeaderValue::from_static("/"))]).into_response(),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, Problem> {
    if let Some(id) = auth::cookie(&headers, SESSION_COOKIE) {
        accounts::logout(state.repo.accounts.as_ref(), id).await?;
    }
    let mut res = see_other("/");
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    Ok(res)
}

pub async fn register_page(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
    target: Result<Query<Target>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let target = target.map(|Query(t)| t.target).unwrap_or_default();
    if viewer.is_some() {
        return Ok(see_other(&local_target(&target)));
    }
    let status = if state.repo.settings().accounts.registration { StatusCode::OK } else { StatusCode::FORBIDDEN };
    form_page(&state, &headers, status, "register.html", &target, ("", "", ""), None)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
    #[serde(default)]
    orcid: String,
    #[serde(default)]
    target: String,
}

pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, Problem> {
    let repo = &state.repo;
    let fields = (form.email.as_str(), form.name.as_str(), form.orcid.as_str());
    let again = |status, message: String| {
        form_page(&state, &headers, status, "register.html", &form.target, fields, Some(message))
    };
    if form.password != form.password_again {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "The two passwords differ.".into());
    }
    let orcid = Some(form.orcid.clone()).filter(|o| !o.trim().is_empty());
    match accounts::register(repo, &form.email, &form.name, &form.password, orcid, &address.to_string()).await {
        // The same page whether the address was new or had an account.
        Ok(()) => {
            let (csrf, new_cookie) = auth::form_token(&headers);
            let ctx = FormCtx { sent: true, csrf, ..blank_ctx(&state, &form.target, fields) };
            render_form(&state, StatusCode::OK, "register.html", ctx, new_cookie)
        }
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e @ (AccountError::RegistrationClosed | AccountError::DomainNotAllowed(_))) => {
            again(StatusCode::FORBIDDEN, e.to_string())
        }
        Err(e) => again(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

fn blank_ctx<'a>(state: &AppState, target: &str, fields: (&'a str, &'a str, &'a str)) -> FormCtx<'a> {
    let live = state.repo.settings();
    FormCtx {
        nav: "account",
        csrf: String::new(),
        target: local_target(target),
        target_query: crate::present::query_value(&local_target(target)),
        email: fields.0,
        name: fields.1,
        orcid: fields.2,
        error: None,
        registration: live.accounts.registration,
        domains: live.accounts.allowed_domains.clone(),
        sent: false,
        token: String::new(),
    }
}

#[derive(Deserialize, Default)]
pub struct ConfirmQuery {
    #[serde(default)]
    token: String,
}

/// The page a confirmation link opens: the account's password, to finish.
pub async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ConfirmQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let token = query.map(|Query(q)| q.token).unwrap_or_default();
    let (csrf, new_cookie) = auth::form_token(&headers);
    let ctx = FormCtx { csrf, token, ..blank_ctx(&state, "/", ("", "", "")) };
    render_form(&state, StatusCode::OK, "register_confirm.html", ctx, new_cookie)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// Confirms the address (the token and the password both right) and logs
/// the new user in.
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, Problem> {
    let repo = &state.repo;
    match accounts::confirm::confirm_address(repo, &form.token, &form.password).await {
        Ok(user) => {
            if let Some(old) = auth::cookie(&headers, SESSION_COOKIE) {
                accounts::logout(repo.accounts.as_ref(), old).await?;
            }
            let session = accounts::open_session(repo.accounts.as_ref(), &repo.settings().accounts, &user).await?;
            Ok(logged_in(&state, "/", session))
        }
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e) => {
            let (csrf, new_cookie) = auth::form_token(&headers);
            let ctx = FormCtx {
                csrf,
                token: form.token.clone(),
                error: Some(e.to_string()),
                ..blank_ctx(&state, "/", ("", "", ""))
            };
            render_form(&state, StatusCode::UNPROCESSABLE_ENTITY, "register_confirm.html", ctx, new_cookie)
        }
    }
}

/// The Actions box of an abstract page (and of a tombstone): what this
/// visitor may do with the record, as the permission rules say. Each
/// allowed step is a link or a small form carrying the CSRF token and the
/// revision shown.
#[derive(Serialize)]
pub struct RecordActions {
    logged_in: bool,
    name: String,
    id: i64,
    revision: i64,
    csrf: String,
    /// The deposit page, for those who may edit (or review) the item.
    edit_url: Option<String>,
    can_withdraw: bool,
    can_restore: bool,
    can_deposit: bool,
    can_new_version: bool,
}

impl RecordActions {
    pub fn any(&self) -> bool {
        self.edit_url.is_some() || self.can_withdraw || self.can_restore || self.can_new_version
    }
}

pub fn record_actions(record: &arkiv_model::Record, revision: i64) -> RecordActions {
    use arkiv_services::workflow::{may, Action};
    let id = record.id.unwrap_or(0);
    let Some(session) = auth::current() else {
        return RecordActions {
            logged_in: false,
            name: String::new(),
            id,
            revision,
            csrf: String::new(),
            edit_url: None,
            can_withdraw: false,
            can_restore: false,
            can_deposit: false,
            can_new_version: false,
        };
    };
    let user = Some(&session.user);
    RecordActions {
        logged_in: true,
        name: session.user.name.clone(),
        id,
        revision,
        csrf: session.csrf_token.clone(),
        edit_url: may(user, Action::Edit, Some(record)).then(|| format!("/deposit/{id}")),
        can_withdraw: may(user, Action::Withdraw, Some(record)),
        can_restore: may(user, Action::Restore, Some(record)),
        can_deposit: may(user, Action::Deposit, None),
        can_new_version: may(user, Action::NewVersion, Some(record)),
    }
}
