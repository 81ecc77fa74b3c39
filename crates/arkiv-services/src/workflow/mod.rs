//! The deposit workflow: who may do what to which record. The rules are
//! plain functions ([`permissions::may`]) that every handler asks, so the
//! access-control matrix tests one table, not each page.

pub mod permissions;

pub use permissions::{may, may_read_document, Action};
