//! Who a request comes from, and whether its form really came from us.
//!
//! [`resolve`] (a middleware) reads the session cookie once per request,
//! asks the accounts service for the session, and makes the result known to
//! handlers (the [`Viewer`] extractor) and to templates (every page's
//! header shows who is logged in). Pages seen by a logged-in user are
//! marked `private`, so no shared cache keeps one user's page for another.
//!
//! [`CsrfForm`] is the extractor of every state-changing form: it reads a
//! bounded url-encoded body and refuses it (403) unless its `csrf` field
//! matches the session's token, or, before login, the `arkiv_csrf` cookie
//! (a double-submit token: another site can make a browser post a form but
//! cannot read or set our cookie). Templates print the token through the
//! `masked` filter (`tokens::mask_token`), so it reads differently in every
//! response and a compressed page gives it away to no one (BREACH).

use crate::http::Problem;
use crate::AppState;
use arkiv_services::accounts::{self, tokens, Session};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const SESSION_COOKIE: &str = "arkiv_session";
pub const CSRF_COOKIE: &str = "arkiv_csrf";

/// Largest form body accepted (login, registration, small edits).
const MAX_FORM_BYTES: usize = 64 * 1024;

tokio::task_local! {
    static CURRENT: Option<Session>;
}

/// The session of the request being answered, for code that has no
/// extractor at hand: templates (every page's header) and the helpers that
/// build page contexts. Handlers take [`Viewer`] or [`LoggedIn`] instead.
pub fn current() -> Option<Session> {
    CURRENT.try_with(|s| s.clone()).ok().flatten()
}

/// What the page header shows of the visitor.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderViewer {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
}

pub fn header_viewer() -> Option<HeaderViewer> {
    current().map(|s| HeaderViewer { name: s.user.name.clone(), role: s.user.role.as_str(), csrf: s.csrf_token })
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// Resolves the session cookie; see the module docs.
pub async fn resolve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let session = match cookie(req.headers(), SESSION_COOKIE) {
        Some(id) => {
            let repo = &state.repo;
            match accounts::session(repo.accounts.as_ref(), &repo.settings().accounts, id).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "session lookup failed");
                    None
                }
            }
        }
        None => None,
    };
    let logged_in = session.is_some();
    let mut req = req;
    req.extensions_mut().insert(Resolved(session.clone()));
    let mut res = CURRENT.scope(session, next.run(req)).await;
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Cookie"));
    let no_store = h.get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes().windows(8).any(|w| w == b"no-store"));
    if logged_in && !no_store {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    }
    res
}

/// The session [`resolve`] found for a request, kept in its extensions for
/// the extractors below.
#[derive(Clone)]
struct Resolved(Option<Session>);

/// The session of a request, from its extensions (`None` if [`resolve`] did
/// not run, as for a router built without it: then nobody is logged in).
pub(crate) fn session_of(extensions: &axum::http::Extensions) -> Option<Session> {
    extensions.get::<Resolved>().and_then(|r| r.0.clone())
}

/// The visitor: their session, or `None` when anonymous.
pub struct Viewer(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Viewer(session_of(&parts.extensions)))
    }
}

/// The logged-in visitor, for pages that need one: an anonymous visitor
/// asking for a page is sent to the login page, which brings them back
/// afterwards; one sending a form (a session that ended meanwhile) is
/// refused with a 403 that says to log in, and nothing changes.
pub struct LoggedIn(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        session_of(&parts.extensions).map(LoggedIn).ok_or_else(|| {
            if !matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD) {
                return Problem::forbidden(
                    "You are not logged in, or your session has ended. Log in and send the form again.",
                )
                .into_response();
            }
            let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let to = format!("/login?target={}", crate::present::query_value(back));
            let location = HeaderValue::from_str(&to).unwrap_or(HeaderValue::from_static("/login"));
            (axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        })
    }
}

/// A url-encoded form whose CSRF token was checked; see the module docs.
pub struct CsrfForm<T>(pub T);

fn forged() -> Problem {
    Problem::forbidden(
        "This form has expired or did not come from this site. Please go back, reload the page and send it again.",
    )
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, Problem> {
        let expected = match session_of(req.extensions()) {
            Some(s) => Some(s.csrf_token),
            None => cookie(req.headers(), CSRF_COOKIE).filter(|c| c.len() == 64).map(str::to_string),
        };
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES).await.map_err(|_| {
            Problem::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "Too large", "This form is too large.")
        })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| forged())?;
        let sent = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        match expected {
            Some(token) if tokens::token_matches(sent, &token) => {}
            _ => return Err(forged()),
        }
        let form = serde_urlencoded::from_bytes(&body)
            .map_err(|e| Problem::bad_request(format!("The form could not be read: {e}.")))?;
        Ok(CsrfForm(form))
    }
}

/// Whether `sent` is the logged-in visitor's CSRF token: for forms that
/// [`CsrfForm`] cannot read (multipart uploads), checked before any of the
/// upload is stored.
pub fn csrf_matches(sent: &str) -> bool {
    current().is_some_and(|s| tokens::token_matches(sent, &s.csrf_token))
}

/// The token a form shown to this visitor must carry, and the cookie to set
/// if the visitor is anonymous and has none yet.
pub fn form_token(headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(s) = current() {
        return (s.csrf_token, None);
    }
    match cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit())) {
        Some(c) => (c.to_string(), None),
        None => {
            let t = tokens::random_token();
            (t.clone(), Some(t))
        }
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when the site is
/// served over HTTPS. `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let c = cookie::Cookie::build((name, value))
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(state.repo.base_url().starts_with("https:"));
    HeaderValue::from_str(&c.to_string()).expect("tokens are valid header text")
}
