//! A user's own account beyond logging in: `/profile` (name, ORCID iD,
//! password change, personal API tokens made, shown once and revoked) and the forgotten-password pages (`/password/forgot`,
//! `/password/reset`). Thin handlers over `arkiv_services::accounts`;
//! every form carries a CSRF token, and the reset pages send no Referer
//! (the token is in their address).

use crate::auth::{self, set_cookie, CsrfForm, CSRF_COOKIE};
use crate::client_address::ClientAddress;
use crate::http::Problem;
use crate::pages::account::{logged_in, see_other};
use crate::AppState;
use arkiv_services::accounts::api_tokens::{self, Scope};
use arkiv_services::accounts::{self, AccountError};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/reset", get(reset_page).post(reset))
        .route("/profile", get(profile_page).post(save_profile))
        .route("/profile/password", post(change_password))
        .route("/profile/tokens", post(create_token))
        .route("/profile/tokens/revoke", post(revoke_token))
}

#[derive(Serialize)]
struct PasswordCtx {
    nav: &'static str,
    csrf: String,
    token: String,
    sent: bool,
    error: Option<String>,
}

fn password_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    token: String,
    sent: bool,
    error: Option<String>,
) -> Result<Response, Problem> {
    let (csrf, new_cookie) = auth::form_token(headers);
    let mut res = state.page(status, template, PasswordCtx { nav: "account", csrf, token, sent, error })?;
    if let Some(t) = new_cookie {
        res.headers_mut().append(header::SET_COOKIE, set_cookie(state, CSRF_COOKIE, &t, 24 * 3600));
    }
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    // The reset link's token must not leak to other sites through Referer.
    res.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    Ok(res)
}

pub async fn forgot_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    password_page(&state, &headers, StatusCode::OK, "password_forgot.html", String::new(), false, None)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// Always the same answer, whether the address has an account or not.
pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<Response, Problem> {
    // Answered before the address is even looked up: see the function.
    accounts::reset::request_reset_in_background(state.repo.clone(), &form.email, &address.to_string());
    password_page(&state, &headers, StatusCode::OK, "password_forgot.html", String::new(), true, None)
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn reset_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let token = query.map(|Query(q)| q.token).unwrap_or_default();
    let token = if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) { token } else { String::new() };
    password_page(&state, &headers, StatusCode::OK, "password_reset.html", token, false, None)
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, Problem> {
    let again = |status, message: String| {
        password_page(&state, &headers, status, "password_reset.html", form.token.clone(), false, Some(message))
    };
    if form.password != form.password_again {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "The two passwords differ.".into());
    }
    match accounts::reset::reset_password(state.repo.accounts.as_ref(), &form.token, &form.password).await {
        Ok(_) => password_page(&state, &headers, StatusCode::OK, "password_reset.html", String::new(), true, None),
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e) => again(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

#[derive(Serialize)]
struct ProfileCtx {
    nav: &'static str,
    csrf: String,
    name: String,
    email: String,
    orcid: String,
    role: &'static str,
    message: Option<&'static str>,
    error: Option<String>,
    tokens: Vec<TokenView>,
    /// The scopes this user's role allows.
    scopes: Vec<&'static str>,
    /// A token just made: shown this once.
    new_token: Option<String>,
    max_days: i64,
}

/// A personal API token as the profile lists it.
#[derive(Serialize)]
struct TokenView {
    id: i64,
    name: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: Option<String>,
    /// "in use", "expired" or "revoked".
    state: &'static str,
}

fn day(t: arkiv_model::Timestamp) -> String {
    t.date().to_string()
}

async fn profile(
    state: &AppState,
    session: &accounts::Session,
    user: &arkiv_model::User,
    status: StatusCode,
    message: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, Problem> {
    profile_with_token(state, session, user, status, message, error, None).await
}

async fn profile_with_token(
    state: &AppState,
    session: &accounts::Session,
    user: &arkiv_model::User,
    status: StatusCode,
    message: Option<&'static str>,
    error: Option<String>,
    new_token: Option<String>,
) -> Result<Response, Problem> {
    let now = arkiv_model::Timestamp::now();
    let tokens = api_tokens::list_tokens(state.repo.accounts.as_ref(), session.user.id)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name.clone(),
            scopes: t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            created: day(t.created),
            expires: day(t.expires),
            last_used: t.last_used.map(day),
            state: if t.revoked.is_some() {
                "revoked"
            } else if t.is_live(now) {
                "in use"
            } else {
                "expired"
            },
        })
        .collect();
    let ctx = ProfileCtx {
        nav: "profile",
        csrf: session.csrf_token.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        orcid: user.orcid.clone().unwrap_or_default(),
        role: user.role.as_str(),
        message,
        error,
        tokens,
        scopes: Scope::ALL.into_iter().filter(|s| s.allowed_to(session.user.role)).map(Scope::as_str).collect(),
        new_token,
        max_days: api_tokens::MAX_DAYS,
    };
    let mut res = state.page(status, "profile.html", ctx)?;
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `/profile`: the user's name, ORCID iD and password.
pub async fn profile_page(
    State(state): State<AppState>,
    auth::LoggedIn(session): auth::LoggedIn,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let message = match uri.query() {
        Some(q) if q.contains("saved=1") => Some("Saved."),
        Some(q) if q.contains("password=1") => {
            Some("Your password has been changed; every other session of your account has ended.")
        }
        Some(q) if q.contains("revoked=1") => Some("The token was revoked: it works no more."),
        _ => None,
    };
    profile(&state, &session, &session.user, StatusCode::OK, message, None).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    orcid: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    auth::LoggedIn(session): auth::LoggedIn,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<Response, Problem> {
    match accounts::profile::update_profile(state.repo.accounts.as_ref(), &session.user, &form.name, &form.orcid).await
    {
        Ok(_) => Ok(see_other("/profile?saved=1")),
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e) => {
            let mut shown = session.user.clone();
            shown.name = form.name.clone();
            shown.orcid = Some(form.orcid.clone());
            profile(&state, &session, &shown, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    auth::LoggedIn(session): auth::LoggedIn,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, Problem> {
    let refuse = |message: String| {
        let (state, session) = (&state, &session);
        async move { profile(state, session, &session.user, StatusCode::UNPROCESSABLE_ENTITY, None, Some(message)).await }
    };
    if form.password != form.password_again {
        return refuse("The two new passwords differ.".into()).await;
    }
    let repo = &state.repo;
    match accounts::profile::change_password(
        repo.accounts.as_ref(),
        &repo.settings().accounts,
        &session.user,
        &form.current,
        &form.password,
    )
    .await
    {
        Ok(new_session) => Ok(logged_in(&state, "/profile?password=1", new_session)),
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e) => refuse(e.to_string()).await,
    }
}

/// Makes a personal API token and shows it, this once.
pub async fn create_token(
    State(state): State<AppState>,
    auth::LoggedIn(session): auth::LoggedIn,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    // The form: a name, scopes (checkboxes, each `scope=...`), days.
    let user = &session.user;
    let field = |n: &str| form.iter().find(|(k, _)| k == n).map_or("", |(_, v)| v.as_str());
    let scopes: Vec<Scope> = form.iter().filter(|(k, _)| k == "scope").filter_map(|(_, v)| Scope::parse(v)).collect();
    let days = field("days").trim().parse::<i64>().unwrap_or(0);
    match api_tokens::create_token(state.repo.accounts.as_ref(), user, field("name"), &scopes, days).await {
        Ok((token, _)) => {
            let message = Some("Your new token is below. Copy it now: it will not be shown again.");
            profile_with_token(&state, &session, user, StatusCode::CREATED, message, None, Some(token)).await
        }
        Err(api_tokens::NewTokenError::Store(e)) => Err(e.into()),
        Err(e) => profile(&state, &session, user, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string())).await,
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    id: String,
}

/// Revokes one of the user's own tokens.
pub async fn revoke_token(
    State(state): State<AppState>,
    auth::LoggedIn(session): auth::LoggedIn,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, Problem> {
    let id = form.id.trim().parse::<i64>().unwrap_or(0);
    if api_tokens::revoke_token(state.repo.accounts.as_ref(), session.user.id, id).await? {
        Ok(see_other("/profile?revoked=1"))
    } else {
        Err(Problem::not_found("You have no such token in use."))
    }
}
