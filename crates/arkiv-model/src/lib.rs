//! The model: Arkiv's pure types and the rules they obey.
//!
//! Everything else in Arkiv is a way of moving a [`Record`] somewhere: into a
//! database, out as XML, onto a page. This crate holds the record itself, the
//! people and documents in it, the checks a record must pass before it is
//! stored ([`validate`]), and the citation line a reader sees ([`citation`]).
//! It does no I/O, so every rule here can be tested as a plain function.

pub mod account;
pub mod browse;
pub mod citation;
pub mod date;
pub mod document;
pub mod item_type;
pub mod oai_sets;
pub mod person;
pub mod record;
pub mod revision;
pub mod subject;
pub mod usage;
pub mod validate;

pub use account::{EditorScope, Role, User, UserId};
pub use browse::{BrowseEntry, BrowseView};
pub use date::{DatePrecision, PartialDate, Timestamp};
pub use document::{Derivation, Document, DocumentSecurity, StoredFile};
pub use item_type::{
    is_masters_subtype, subtype_field, subtype_keys, subtype_label, ItemType, ItemTypes, SUBTYPE_FIELDS,
};
pub use person::{Contributor, CorporateCreator, Creator, PersonName};
pub use record::{ExtraField, Record, RecordId, RelatedLink, Status};
pub use revision::{changed_fields, Revision};
pub use subject::{Scheme, Subject, SubjectTree};
pub use validate::{may_hold_control_chars, validate, ValidationError};
