//! The OAI-PMH endpoint: `/oai2`, and `/cgi/oai2` where EPrints serves it,
//! so harvesters of a migrated repository keep their base URL. GET with a
//! query string or POST with a form body, as the protocol allows. The
//! arguments are decoded here, by hand, because a map extractor would
//! silently merge a repeated argument, which the protocol requires to be
//! refused; everything else is `arkiv_services::oai`.

use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new().route("/oai2", get(oai_get).post(oai_post)).route("/cgi/oai2", get(oai_get_cgi).post(oai_post_cgi))
}

/// `a=1&b=%20x+y` as pairs, repeats kept, `+` as a space.
pub fn decode_args(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_encoding::percent_decode_str(&s).decode_utf8_lossy().into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

async fn answer(state: &AppState, path: &str, query: &str) -> Response {
    let endpoint = format!("{}{path}", state.repo.base_url());
    match arkiv_services::oai::respond(&state.repo, &endpoint, &decode_args(query)).await {
        Ok(body) => ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "OAI-PMH request failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A POST: the arguments are the form body, which must say it is one.
async fn answer_form(state: &AppState, path: &str, headers: &HeaderMap, body: &str) -> Response {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "POST OAI-PMH arguments as application/x-www-form-urlencoded")
            .into_response();
    }
    answer(state, path, body).await
}

async fn oai_get(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    answer(&state, "/oai2", q.as_deref().unwrap_or("")).await
}

async fn oai_get_cgi(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    answer(&state, "/cgi/oai2", q.as_deref().unwrap_or("")).await
}

async fn oai_post(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    answer_form(&state, "/oai2", &headers, &body).await
}

async fn oai_post_cgi(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    answer_form(&state, "/cgi/oai2", &headers, &body).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeats_and_encodings_survive_decoding() {
        let args = super::decode_args("verb=ListRecords&set=a%3Ab&set=c+d&&flag");
        assert_eq!(
            args,
            [("verb", "ListRecords"), ("set", "a:b"), ("set", "c d"), ("flag", "")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }
}
