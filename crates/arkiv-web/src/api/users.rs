//! Users and roles through the REST API, for admins (a token with the
//! `admin` scope): the same `Admin` service as `/admin`, so the same rules
//! (an admin cannot demote or disable their own account; disabling ends
//! the user's sessions, and their tokens stop at once).

use super::{json_response, ApiJson, ApiProblem, Caller};
use crate::AppState;
use arkiv_model::{EditorScope, Role, User};
use arkiv_services::accounts::api_tokens::Scope;
use arkiv_services::admin::Admin;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account as admins see it.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserAnswer {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// depositor, editor or admin.
    pub role: String,
    /// What an editor may review (empty lists: everything).
    pub scope: ScopeBody,
    pub disabled: bool,
    /// Whether the address is confirmed.
    pub verified: bool,
}

/// An editor's scope: item types, subject and division ids, series names.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeBody {
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub subjects: Vec<String>,
    #[serde(default)]
    pub series: Vec<String>,
    #[serde(default)]
    pub divisions: Vec<String>,
}

fn answer(u: &User) -> UserAnswer {
    UserAnswer {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
        role: u.role.as_str().to_string(),
        scope: ScopeBody {
            types: u.scope.types.clone(),
            subjects: u.scope.subjects.clone(),
            series: u.scope.series.clone(),
            divisions: u.scope.divisions.clone(),
        },
        disabled: u.disabled,
        verified: u.verified,
    }
}

/// What a change of an account sends; what is left out stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserChange {
    /// depositor, editor or admin.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub scope: Option<ScopeBody>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

fn admin<'a>(state: &'a AppState, caller: &'a Caller) -> Result<Admin<'a>, ApiProblem> {
    let user = caller.acting(Scope::Admin)?;
    Ok(Admin::new(&state.repo, user)?)
}

/// `GET /api/users` (scope `admin`): every account.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, description = "Every account", body = Vec<UserAnswer>),
        (status = "default", description = "A problem (RFC 9457)", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn list_users(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiProblem> {
    let users = admin(&state, &caller)?.users().await?;
    let body: Vec<UserAnswer> = users.iter().map(answer).collect();
    Ok(json_response(StatusCode::OK, &serde_json::to_value(body).map_err(ApiProblem::internal)?, None))
}

/// `PUT /api/users/{id}` (scope `admin`): an account's role, editorial
/// scope and whether it is disabled.
#[utoipa::path(put, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path, description = "The user's id")),
    request_body = UserChange,
    responses((status = 200, description = "The account as changed", body = UserAnswer),
        (status = "default", description = "A problem (RFC 9457)", body = super::openapi::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub(super) async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> Result<Response, ApiProblem> {
    let id = raw.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(ApiProblem::not_found)?;
    let admin = admin(&state, &caller)?;
    let current =
        state.repo.accounts.user(id).await.map_err(ApiProblem::internal)?.ok_or_else(ApiProblem::not_found)?;
    let role = match change.role.as_deref() {
        None => current.role,
        Some(r) => Role::parse(r).ok_or_else(|| {
            ApiProblem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Content",
                format!("{r:?} is not a role: depositor, editor or admin."),
            )
        })?,
    };
    let scope = match change.scope {
        None => current.scope.clone(),
        Some(s) => EditorScope { types: s.types, subjects: s.subjects, series: s.series, divisions: s.divisions },
    };
    admin.update_user(id, role, scope, change.disabled.unwrap_or(current.disabled)).await?;
    let now = state.repo.accounts.user(id).await.map_err(ApiProblem::internal)?.ok_or_else(ApiProblem::not_found)?;
    Ok(json_response(StatusCode::OK, &serde_json::to_value(answer(&now)).map_err(ApiProblem::internal)?, None))
}
