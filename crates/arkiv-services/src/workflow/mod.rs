//! The deposit workflow: who may do what to which record, and doing it.
//!
//! - [`permissions`]: the rules as plain functions ([`may`]) that every
//!   handler and every use case asks, so the access-control matrix tests
//!   one table, not each page;
//! - [`items`]: the use cases ([`Workflow`]): create, edit, upload,
//!   submit, review, withdraw, restore;
//! - [`metadata`]: the deposit form per item type, and what an item lacks
//!   before it may be submitted;
//! - [`sniff`]: an upload's real type, from its bytes;
//! - [`history`]: a record's revisions as a readable diff;
//! - [`embargoes`]: embargoes that lift by themselves on their date.

pub mod copies;
pub mod embargoes;
pub mod history;
pub mod items;
pub mod metadata;
pub mod permissions;
pub mod sniff;

pub use embargoes::{lift_embargoes, LiftReport};
pub use items::{DocumentSettings, NewFile, ReviewFilter, ReviewPage, Workflow, WorkflowError};
pub use permissions::{may, may_mediate, may_read_document, Action};
