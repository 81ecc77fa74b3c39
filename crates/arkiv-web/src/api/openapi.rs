//! The REST API's OpenAPI 3.1 document, at `/api/openapi.json`, generated
//! by utoipa from the handlers' `#[utoipa::path]` annotations and from the
//! types below, which are what the handlers serialize: the document
//! describes the code, it is not written beside it.

use super::records;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Arkiv REST API",
        description = "Deposit, read and review records of an Arkiv repository. Authenticate with a personal API token \
                       (made on /profile) as `Authorization: Bearer arkiv_...`; a browser's session may read. Every error \
                       is an RFC 9457 problem (application/problem+json)."
    ),
    paths(
        super::me,
        records::list_records,
        records::create_record,
        records::get_record,
        records::update_record,
        records::delete_record,
        records::add_document,
        records::download_document,
        records::update_document,
        records::remove_document,
        records::workflow_step,
        records::new_version,
        super::subjects,
        super::users::list_users,
        super::users::update_user,
        crate::pages::search::api,
    ),
    components(schemas(Problem, Me, SubjectNode, super::users::UserAnswer, super::users::UserChange, super::users::ScopeBody, RecordAnswer, RecordList, Step, FieldValue, records::RecordBody, records::StepBody, records::DocumentBody)),
    modifiers(&BearerToken),
    tags(
        (name = "accounts", description = "Who you are to the API"),
        (name = "records", description = "Records and their documents"),
        (name = "workflow", description = "Review: submit, accept, return, withdraw, restore, new versions"),
        (name = "search", description = "Full-text search with facets"),
        (name = "subjects", description = "The subject tree and the divisions"),
        (name = "users", description = "Accounts and roles (admins)"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme the paths name.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token, made on /profile"))
                    .build(),
            ),
        );
    }
}

/// `GET /api/openapi.json`.
pub(super) async fn document() -> axum::response::Response {
    let body = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    super::json_response(axum::http::StatusCode::OK, &body, None)
}

/// `GET /api/docs`: the same document as a page, rendered here (no
/// script, like every other page): each operation with its parameters,
/// body and answers, then the shapes of the bodies.
pub(super) async fn docs(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let params: Vec<Value> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    serde_json::json!({
                        "name": p["name"], "where": p["in"], "required": p["required"].as_bool().unwrap_or(false),
                        "description": p["description"],
                    })
                })
                .collect();
            let body: Vec<String> = op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(ct, c)| {
                    let schema = c["schema"]["$ref"].as_str().and_then(|r| r.rsplit('/').next()).unwrap_or("");
                    if schema.is_empty() {
                        ct.clone()
                    } else {
                        format!("{ct}: {schema}")
                    }
                })
                .collect();
            let answers: Vec<Value> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| serde_json::json!({ "status": status, "description": r["description"] }))
                .collect();
            let token = op["security"]
                .as_array()
                .is_some_and(|s| !s.iter().any(|x| x.as_object().is_some_and(|o| o.is_empty())));
            operations.push(serde_json::json!({
                "method": method.to_uppercase(), "path": path, "summary": op["summary"], "description": op["description"],
                "params": params, "body": body, "answers": answers, "token_needed": token,
            }));
        }
    }
    let schemas: Vec<Value> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let props: Vec<Value> = s["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(p, v)| serde_json::json!({ "name": p, "description": v["description"] }))
                .collect();
            serde_json::json!({ "name": name, "description": s["description"], "properties": props })
        })
        .collect();
    let ctx = serde_json::json!({
        "nav": "api", "title": doc["info"]["title"], "description": doc["info"]["description"],
        "operations": operations, "schemas": schemas,
    });
    match state.page(axum::http::StatusCode::OK, "api_docs.html", ctx) {
        Ok(res) => res,
        Err(p) => p.into_response(),
    }
}

/// An RFC 9457 problem, as every error of the API is sent.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, and what to do about it.
    pub detail: String,
    /// Values that could not be read (422): each field and its problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Value>>,
    /// What a record still lacks before review (422 from `submit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
    /// The record's revision now (412).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<i64>,
    /// The scope the token lacks (403).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
    /// Why the record was withdrawn (410).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_reason: Option<String>,
    /// The query parameter that could not be read (400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

/// Who the API takes the caller for.
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    pub authenticated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// depositor, editor or admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `token` or `session`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// What the caller may do: read, deposit, edit, admin.
    pub scopes: Vec<String>,
}

/// A record as the API answers it; in a list, a withdrawn record is only
/// its id, status and reason.
#[derive(Serialize, ToSchema)]
pub(crate) struct RecordAnswer {
    pub id: i64,
    /// The revision (also the ETag, `"r7"`); left out in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// inbox (a workarea), buffer (under review), archive (live) or deletion (withdrawn).
    pub status: String,
    /// The record's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The record in Arkiv's JSON (what `/{id}/export/json` gives), with
    /// private fields only for its depositor and staff in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub record: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_reason: Option<String>,
    /// The position of the document just added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<u32>,
}

/// A page of records.
#[derive(Serialize, ToSchema)]
pub(crate) struct RecordList {
    pub records: Vec<RecordAnswer>,
    /// The next page's address, or null at the end.
    pub next: Option<String>,
}

/// A step of the review.
#[derive(Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Step {
    Submit,
    Accept,
    Return,
    Withdraw,
    Restore,
}

/// A field's value: a string, a list of strings (a field the deposit form
/// repeats), or null to empty it.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only described: the handler reads the JSON itself.
pub(crate) enum FieldValue {
    One(String),
    Many(Vec<String>),
}

/// A node of the subject tree or of the divisions.
#[derive(Serialize, ToSchema)]
pub(crate) struct SubjectNode {
    pub id: String,
    pub name: String,
    /// Its parent's id; null at the top.
    pub parent: Option<String>,
    /// `subjects` or `divisions`.
    pub scheme: String,
}
