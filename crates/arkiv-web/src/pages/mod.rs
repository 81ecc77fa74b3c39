//! The handlers, one module per kind of page. Each is a thin async function
//! over typed extractors: read what the request names, ask the store, shape
//! the answer for a template. Access rules live in `arkiv_services::access`, URL
//! shapes in [`crate::present`], headers and error pages in [`crate::http`].

pub mod account;
pub mod admin;
pub mod assets;
pub mod browse;
pub mod copies;
pub mod deposit;
pub mod eprints_urls;
pub mod exports;
pub mod feeds;
pub mod files;
pub mod home;
pub mod landing;
pub mod oai;
pub mod profile;
pub mod record;
pub mod review;
pub mod search;
pub mod sitemap;
pub mod stats;
pub mod sushi;

use crate::http::Problem;
use arkiv_model::RecordId;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

/// A record id from a path segment: ASCII digits only (no sign, no
/// spaces), at most 18 of them so that it always fits, and above zero.
/// Anything else names no record.
pub fn parse_id(s: &str) -> Option<RecordId> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<RecordId>().ok().filter(|&id| id > 0)
}

/// The record a one-segment path names (`/{id}/...`, `/deposit/{id}`):
/// anything that is not a record id ([`parse_id`]) is the "no such item"
/// page, before the handler runs.
pub struct RecordPath(pub RecordId);

impl<S: Send + Sync> FromRequestParts<S> for RecordPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| no_such_record())?;
        parse_id(&raw).map(RecordPath).ok_or_else(no_such_record)
    }
}

/// The answer for a record that does not exist, or that a visitor may not
/// know exists.
pub fn no_such_record() -> Problem {
    Problem::not_found(
        "There is no item at this address. It may never have existed, or the link may be mistyped. \
         The latest additions are on the home page, and everything can be browsed by year, subject or author.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_positive_numbers() {
        assert_eq!(parse_id("42"), Some(42));
        assert_eq!(parse_id("007"), Some(7));
        for bad in ["", "0", "-1", "+1", "abc", "1.0", " 1", "99999999999999999999999", "１"] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }
}
