//! PostgreSQL store (being written).
use crate::*;

pub struct PostgresStore;

impl PostgresStore {
    pub async fn open(url: &str) -> Result<SqliteStoreStandIn> {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}
pub type SqliteStoreStandIn = sqlite::SqliteStore;
