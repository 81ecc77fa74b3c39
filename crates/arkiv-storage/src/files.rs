//! File bytes, stored by their SHA-256 through the `object_store` crate: a
//! local directory today; `object_store` is the seam where an S3-compatible
//! store will plug in (not built yet). Content addressing makes a file its own
//! checksum: the same bytes are stored once, a fixity check is a re-hash,
//! and nothing is ever overwritten with different content.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;

use crate::Result;

/// The outcome of a fixity check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fixity {
    Ok,
    Missing,
    /// The stored bytes hash to something else: they were damaged.
    Mismatch {
        actual: String,
    },
}

#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
}

/// True for a lower-case hex SHA-256, the only names the store accepts (so a
/// name can never climb out of the store's directory).
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn object_path(sha: &str) -> ObjectPath {
    ObjectPath::from(format!("sha256/{}/{}/{}", &sha[..2], &sha[2..4], sha))
}

fn checked(sha: &str) -> std::io::Result<ObjectPath> {
    if is_sha256(sha) {
        Ok(object_path(sha))
    } else {
        Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("not a SHA-256: {sha:?}")))
    }
}

impl FileStore {
    /// A store in a local directory, created if missing.
    pub fn local(dir: &std::path::Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(FileStore { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?) })
    }

    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Self {
        FileStore { store }
    }

    /// Stores bytes and returns their SHA-256. Storing bytes that are already
    /// there is a cheap no-op.
    pub async fn put(&self, bytes: Bytes) -> Result<String> {
        let sha = sha256_hex(&bytes);
        let path = object_path(&sha);
        if self.store.head(&path).await.is_err() {
            self.store.put(&path, PutPayload::from_bytes(bytes)).await?;
        }
        Ok(sha)
    }

    /// Stores a stream of chunks without holding it in memory: the bytes go to
    /// a staging object while they are hashed, then move under their hash.
    /// Fails with `limit` exceeded before storing anything past it.
    pub async fn put_stream<S>(&self, mut chunks: S, limit: u64) -> Result<(String, u64)>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Unpin,
    {
        let staging = ObjectPath::from(format!("staging/{}", unique_name()));
        let upload = self.store.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    writer.abort().await?;
                    return Err(e.into());
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                writer.abort().await?;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    format!("file is larger than the limit of {limit} bytes"),
                )
                .into());
            }
            hasher.update(&chunk);
            writer.write(&chunk);
        }
        writer.finish().await?;
        let sha = hex::encode(hasher.finalize());
        let path = object_path(&sha);
        if self.store.head(&path).await.is_ok() {
            self.store.delete(&staging).await?;
        } else {
            self.store.rename(&staging, &path).await?;
        }
        Ok((sha, size))
    }

    pub async fn get(&self, sha: &str) -> Result<Option<Bytes>> {
        match self.store.get(&checked(sha)?).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_range(&self, sha: &str, range: Range<u64>) -> Result<Bytes> {
        Ok(self.store.get_range(&checked(sha)?, range).await?)
    }

    /// The stored size, or `None` if the bytes are not there.
    pub async fn size(&self, sha: &str) -> Result<Option<u64>> {
        match self.store.head(&checked(sha)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-reads the bytes and compares their hash with their name.
    pub async fn check(&self, sha: &str) -> Result<Fixity> {
        let path = checked(sha)?;
        let mut stream = match self.store.get(&path).await {
            Ok(r) => r.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(Fixity::Missing),
            Err(e) => return Err(e.into()),
        };
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        let actual = hex::encode(hasher.finalize());
        Ok(if actual == sha { Fixity::Ok } else { Fixity::Mismatch { actual } })
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{}-{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}
