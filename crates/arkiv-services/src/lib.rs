//! Services: Arkiv's use cases, over the model, the formats and the store.
//!
//! A service knows what a user wants done (import an export, check every
//! file, make a demo repository) and nothing of how it was asked: the CLI and
//! the web handlers call the same functions. No HTTP here, no SQL.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod backup;
pub mod citations;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod counter_tsv;
pub mod demo;
pub mod doi_lookup;
pub mod export;
pub mod fetch;
pub mod file_gc;
pub mod fsck;
pub mod generate;
pub mod harvest;
pub mod history_import;
pub mod import;
pub mod jobs;
pub mod leases;
pub mod mail;
pub mod oai;
pub mod pdf;
pub mod populate;
pub mod rate_limits;
pub mod repository;
pub mod settings;
pub mod statistics;
pub mod subjects_import;
pub mod sushi;
pub mod sword;
pub mod usage;
pub mod usage_import;
pub mod users_import;
pub mod workflow;

pub use config::Config;
pub use repository::Repository;
