//! File bytes, stored by their SHA-256 through the `object_store` crate: a
//! local directory today; `object_store` is the seam where an S3-compatible
//! store will plug in (not built yet). Content addressing makes a file its own
//! checksum: the same bytes are stored once, a fixity check is a re-hash,
//! and nothing is ever overwritten with different content.
//!
//! Objects nothing names are collected (see `arkiv_services::file_gc`)
//! once older than a grace period, judged by their `last_modified`. So that
//! bytes about to be named (an upload whose record is not written yet)
//! are never that old, storing bytes that are already there re-stamps them
//! when their stamp is older than half the grace: the same bytes written
//! again under the same name, which content addressing makes harmless.
//! Only `object_store`'s own calls are used (list, head, delete), so the
//! same holds on an S3-compatible store.

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
    /// Seconds after which nothing-named objects may be collected.
    grace_secs: i64,
}

/// The garbage collector's default grace period: a day.
pub const DEFAULT_GRACE_SECS: i64 = 24 * 3600;

/// An object of the store as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its path in the store (`sha256/aa/bb/<sha>`, `staging/...`).
    pub path: String,
    /// The SHA-256 it is filed under; `None` for anything else (an upload
    /// left in staging, a stray file).
    pub sha256: Option<String>,
    pub size: u64,
    /// When it was last written, Unix seconds, by the store's clock.
    pub last_modified: i64,
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
        Ok(FileStore { store: Arc::new(LocalFileSystem::new_with_prefix(dir)?), grace_secs: DEFAULT_GRACE_SECS })
    }

    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Self {
        FileStore { store, grace_secs: DEFAULT_GRACE_SECS }
    }

    /// The same store with another garbage-collection grace period: bytes
    /// stored again are re-stamped once older than half of it.
    pub fn with_grace_secs(mut self, secs: i64) -> Self {
        self.grace_secs = secs.max(0);
        self
    }

    pub fn grace_secs(&self) -> i64 {
        self.grace_secs
    }

    /// Whether an object already at `path` can stand for bytes being
    /// stored now: there, and stamped recently enough that the garbage
    /// collector will not take it before its record is written.
    async fn fresh_enough(&self, path: &ObjectPath) -> bool {
        match self.store.head(path).await {
            Ok(meta) => now_secs() - meta.last_modified.timestamp() < self.grace_secs / 2,
            Err(_) => false,
        }
    }

    /// Stores bytes and returns their SHA-256. Storing bytes that are
    /// already there costs a `head`, or a rewrite when their stamp is old
    /// (see the module's doc).
    pub async fn put(&self, bytes: Bytes) -> Result<String> {
        let sha = sha256_hex(&bytes);
        let path = object_path(&sha);
        if !self.fresh_enough(&path).await {
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
        if self.fresh_enough(&path).await {
            self.store.delete(&staging).await?;
        } else {
            // Also over old bytes of the same hash: the same content, newly
            // stamped.
            self.store.rename(&staging, &path).await?;
        }
        Ok((sha, size))
    }

    /// Every object under `sha256/` and `staging/`, as the store lists them
    /// (no order), streamed.
    pub fn objects(&self) -> futures::stream::BoxStream<'static, Result<StoredObject>> {
        let store = self.store.clone();
        futures::stream::iter(["sha256", "staging"])
            .flat_map(move |prefix| store.list(Some(&ObjectPath::from(prefix))))
            .filter_map(|meta| async move {
                match meta {
                    Ok(meta) => {
                        let path = meta.location.to_string();
                        let sha = path
                            .strip_prefix("sha256/")
                            .and_then(|rest| rest.rsplit('/').next())
                            .filter(|name| is_sha256(name) && object_path(name).as_ref() == path)
                            .map(str::to_string);
                        Some(Ok(StoredObject {
                            path,
                            sha256: sha,
                            size: meta.size,
                            last_modified: meta.last_modified.timestamp(),
                        }))
                    }
                    // A prefix with nothing under it yet.
                    Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => Some(Err(e.into())),
                }
            })
            .boxed()
    }

    /// Deletes the object at `path` if it is still older than `cutoff` (Unix
    /// seconds) when asked: a fresh `head` just before the delete, so bytes
    /// re-stamped by an upload since the listing stay. Returns the bytes
    /// freed, or `None` if it was kept or already gone.
    pub async fn delete_if_older(&self, path: &str, cutoff: i64) -> Result<Option<u64>> {
        let path = ObjectPath::from(path);
        let meta = match self.store.head(&path).await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if meta.last_modified.timestamp() >= cutoff {
            return Ok(None);
        }
        match self.store.delete(&path).await {
            Ok(()) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
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

/// Now by the system clock, as object stores stamp what they hold.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{}-{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}
