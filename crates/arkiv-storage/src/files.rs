//! File bytes, stored by their SHA-256 through the `object_store` crate: a
//! local directory, or an S3-compatible store (AWS S3, MinIO, SeaweedFS;
//! cargo feature `s3`) under a bucket and prefix. Content addressing makes
//! a file its own checksum: the same bytes are stored once, a fixity check
//! is a re-hash, and nothing is ever overwritten with different content.
//! The layout is the same on both (`sha256/aa/bb/<sha>`, `staging/...`).
//!
//! Bytes go both ways as streams: uploads through `put_stream` (a multipart
//! upload on S3, at most a few parts in flight), reads in ranges
//! (`get_range`, `stream`, `check`), so a file of gigabytes never sits in
//! memory. On S3 moving a staged upload under its hash is a copy and a
//! delete (S3 has no rename), one server-side copy per upload.
//!
//! Objects nothing names are collected (see `arkiv_services::file_gc`)
//! once older than a grace period, judged by their `last_modified`. So that
//! bytes about to be named (an upload whose record is not written yet)
//! are never that old, storing bytes that are already there re-stamps them
//! when their stamp is older than half the grace: the same bytes written
//! again under the same name, which content addressing makes harmless.
//! Only `object_store`'s own calls are used (list, head, delete), so the
//! same holds on an S3-compatible store.
//!
//! A store that cannot be reached (refused, timed out) gives errors that
//! [`crate::StoreError::file_store_unavailable`] recognises, so that the
//! site answers 503 for what needs files and goes on serving the rest.

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

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
    /// The S3 store itself and the prefix `store` adds, kept beside the
    /// prefixed store because only the concrete store can sign URLs.
    s3: Option<(S3Handle, ObjectPath)>,
}

#[cfg(feature = "s3")]
type S3Handle = Arc<object_store::aws::AmazonS3>;
/// Without the `s3` feature no store of this kind can exist.
#[cfg(not(feature = "s3"))]
type S3Handle = std::convert::Infallible;

/// What a store configured on S3 says in a build without it.
pub const NO_S3: &str = "this build has no S3 support (cargo feature s3)";

/// Where an S3-compatible store is and how to reach it: the bucket and
/// prefix of `s3://bucket/prefix`, with the endpoint, region, credentials
/// and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Options {
    pub bucket: String,
    /// Objects go under it (`prefix/sha256/...`); empty: the bucket's root.
    pub prefix: String,
    /// `http(s)://host:port` of an S3-compatible server; `None`: AWS.
    pub endpoint: Option<String>,
    pub region: String,
    /// Whether a plain `http://` endpoint is allowed.
    pub allow_http: bool,
    /// From the configuration; when `None`, the usual `AWS_ACCESS_KEY_ID`
    /// and `AWS_SECRET_ACCESS_KEY` (and the rest of AWS's environment).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Time to connect; a dead store fails in this.
    pub connect_timeout: Duration,
    /// Time one request may take, connecting to last byte. Reads go in
    /// ranges and uploads in parts, so this bounds a part, not a file.
    pub request_timeout: Duration,
    /// Attempts after a first that failed in a way that may pass, all
    /// within `request_timeout` of the first.
    pub retries: usize,
}

/// `s3://bucket/prefix` as (bucket, prefix), or why not. The bucket name
/// follows S3's rules (3 to 63 lower-case letters, digits, dots and
/// hyphens); the prefix is a path without empty or dot segments.
pub fn parse_s3_url(url: &str) -> std::result::Result<(String, String), String> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| format!("{url:?} does not start with s3://"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_end_matches('/');
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !bucket_ok {
        return Err(format!(
            "{url:?}: {bucket:?} is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
        ));
    }
    if !prefix.is_empty() && ObjectPath::parse(prefix).map(|p| p.as_ref() != prefix).unwrap_or(true) {
        return Err(format!("{url:?}: {prefix:?} is not a usable prefix (no empty, `.` or `..` segments)"));
    }
    Ok((bucket.to_string(), prefix.to_string()))
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
        Ok(FileStore::from_object_store(Arc::new(LocalFileSystem::new_with_prefix(dir)?)))
    }

    pub fn from_object_store(store: Arc<dyn ObjectStore>) -> Self {
        FileStore { store, grace_secs: DEFAULT_GRACE_SECS, s3: None }
    }

    /// A store on S3 (or an S3-compatible server). Nothing is asked of the
    /// server here: a store that is down fails the requests that need it,
    /// not the opening of the repository. Path-style requests
    /// (`endpoint/bucket/key`), which MinIO and SeaweedFS expect; short
    /// connect and request timeouts and few retries, so that a dead or
    /// hanging store fails a request in seconds.
    #[cfg(feature = "s3")]
    pub fn s3(options: &S3Options) -> Result<Self> {
        use object_store::aws::AmazonS3Builder;
        use object_store::{BackoffConfig, ClientOptions, RetryConfig};
        let client = ClientOptions::new()
            .with_connect_timeout(options.connect_timeout)
            .with_timeout(options.request_timeout)
            .with_allow_http(options.allow_http);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: options.retries,
            retry_timeout: options.request_timeout,
        };
        // The environment first (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
        // AWS_SESSION_TOKEN...), then what the configuration says.
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&options.bucket)
            .with_region(&options.region)
            .with_allow_http(options.allow_http)
            .with_virtual_hosted_style_request(false)
            .with_client_options(client)
            .with_retry(retry);
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key) = &options.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let s3 = Arc::new(builder.build()?);
        let prefix =
            ObjectPath::parse(&options.prefix).map_err(|e| crate::StoreError::Refused(format!("S3 prefix: {e}")))?;
        let store: Arc<dyn ObjectStore> = if options.prefix.is_empty() {
            s3.clone()
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3.clone() as Arc<dyn ObjectStore>, prefix.clone()))
        };
        Ok(FileStore { store, grace_secs: DEFAULT_GRACE_SECS, s3: Some((s3, prefix)) })
    }

    /// Without the `s3` feature: refused, with a message saying so.
    #[cfg(not(feature = "s3"))]
    pub fn s3(options: &S3Options) -> Result<Self> {
        let _ = options;
        Err(crate::StoreError::Refused(NO_S3.into()))
    }

    /// Whether the bytes are on S3 (and so can be handed out by presigned
    /// URL).
    pub fn is_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// The object store underneath, below content addressing: for tools
    /// and tests that must reach objects by path (a test damaging bytes).
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// A URL that lets its holder `GET` the bytes of `sha` straight from S3
    /// for `expires`, answered with the given `Content-Type` and
    /// `Content-Disposition` (S3's `response-content-*` parameters, signed
    /// with the rest). `None` for a store that is not on S3. Signing is
    /// local: nothing is asked of the server.
    pub async fn presigned_get(
        &self,
        sha: &str,
        expires: Duration,
        content_type: &str,
        disposition: &str,
    ) -> Result<Option<String>> {
        let path = checked(sha)?;
        let Some((s3, prefix)) = &self.s3 else { return Ok(None) };
        #[cfg(feature = "s3")]
        {
            use object_store::signer::{Method, SignedUrlOptions, Signer};
            let full: ObjectPath = prefix.parts().chain(path.parts()).collect();
            let options = SignedUrlOptions::new()
                .with_query([("response-content-type", content_type), ("response-content-disposition", disposition)]);
            let url = s3.signed_url_opts(Method::GET, &full, expires, &options).await?;
            Ok(Some(url.to_string()))
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = (path, prefix, expires, content_type, disposition);
            match *s3 {}
        }
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
    /// Fails with `limit` exceeded before storing anything past it. On any
    /// failure (the stream's, the limit, the store's) the upload is aborted,
    /// so nothing is left under `sha256/`; a staging object the store
    /// failed to remove is the garbage collector's.
    pub async fn put_stream<S>(&self, mut chunks: S, limit: u64) -> Result<(String, u64)>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Unpin,
    {
        let staging = ObjectPath::from(format!("staging/{}", unique_name()));
        let upload = self.store.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let failed: Option<crate::StoreError> = loop {
            let chunk = match chunks.next().await {
                None => break None,
                Some(Ok(c)) => c,
                Some(Err(e)) => break Some(e.into()),
            };
            size += chunk.len() as u64;
            if size > limit {
                break Some(
                    std::io::Error::new(
                        std::io::ErrorKind::FileTooLarge,
                        format!("file is larger than the limit of {limit} bytes"),
                    )
                    .into(),
                );
            }
            // Back-pressure: at most PARTS_IN_FLIGHT parts (5 MiB each)
            // wait for the store, so a fast client and a slow store cost
            // a bounded buffer, not the file.
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                break Some(e.into());
            }
            hasher.update(&chunk);
            writer.write(&chunk);
        };
        if let Some(error) = failed {
            // The original error is the one to report; an abort that fails
            // too (the store is down) leaves an unfinished upload, which
            // the store expires, not bytes under a name.
            if let Err(e) = writer.abort().await {
                tracing::warn!(error = %e, "aborting a failed upload failed too");
            }
            return Err(error);
        }
        writer.finish().await?;
        let sha = hex::encode(hasher.finalize());
        let path = object_path(&sha);
        if self.fresh_enough(&path).await {
            self.store.delete(&staging).await?;
        } else {
            // Also over old bytes of the same hash: the same content, newly
            // stamped. On S3 a copy then a delete.
            self.store.rename(&staging, &path).await?;
        }
        Ok((sha, size))
    }

    /// The bytes of `sha` as a stream of ranges of [`READ_CHUNK`] bytes,
    /// each its own request (so a request timeout bounds a range, not the
    /// file); `None` if they are not there.
    pub async fn stream(
        &self,
        sha: &str,
    ) -> Result<Option<futures::stream::BoxStream<'static, std::io::Result<Bytes>>>> {
        let Some(len) = self.size(sha).await? else { return Ok(None) };
        Ok(Some(self.stream_range(sha, 0, len, READ_CHUNK)))
    }

    /// The bytes from `start` up to `end` (exclusive). From a local
    /// directory, in reads of `chunk` bytes at most; from S3, as the body of
    /// one ranged `GET`, streamed as it arrives: a request per chunk cost a
    /// round trip each, and served a 100 MB file at 98 MB/s against 490 by
    /// presigned redirect (BENCHMARKS.md, "Files on S3"). Either way the
    /// client's pace bounds what is held.
    pub fn stream_range(
        &self,
        sha: &str,
        start: u64,
        end: u64,
        chunk: u64,
    ) -> futures::stream::BoxStream<'static, std::io::Result<Bytes>> {
        if start >= end {
            return futures::stream::empty().boxed();
        }
        if self.is_s3() {
            let (store, path) = (self.store.clone(), checked(sha));
            return futures::stream::once(async move {
                let options = object_store::GetOptions::default().with_range(Some(start..end));
                let got = store
                    .get_opts(&path?, options)
                    .await
                    .map_err(|e| std::io::Error::other(crate::StoreError::from(e)))?;
                Ok::<_, std::io::Error>(got.into_stream().map_err(std::io::Error::other))
            })
            .try_flatten()
            .boxed();
        }
        let (files, sha) = (self.clone(), sha.to_string());
        futures::stream::try_unfold(start, move |at| {
            let (files, sha) = (files.clone(), sha.clone());
            async move {
                if at >= end {
                    return Ok(None);
                }
                let next = (at + chunk.max(1)).min(end);
                let bytes = files.get_range(&sha, at..next).await.map_err(std::io::Error::other)?;
                if bytes.is_empty() {
                    return Err(std::io::Error::other("file store returned no bytes"));
                }
                let next = at + bytes.len() as u64;
                Ok(Some((bytes, next)))
            }
        })
        .boxed()
    }

    /// Copies the bytes of `sha` into `other`, streamed, and checks on the
    /// way that they still hash to `sha`. Returns the bytes copied, or
    /// `None` if this store does not hold them.
    pub async fn copy_to(&self, sha: &str, other: &FileStore) -> Result<Option<u64>> {
        let Some(stream) = self.stream(sha).await? else { return Ok(None) };
        let (stored, size) = other.put_stream(stream, u64::MAX).await?;
        if stored != sha {
            return Err(crate::StoreError::Refused(format!(
                "file {sha} is damaged (its bytes hash to {stored}): run `arkiv fsck`"
            )));
        }
        Ok(Some(size))
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

    /// Whether the store answers: one `HEAD` of a name nothing is stored
    /// under (on S3 a request to the bucket; locally a look at the
    /// directory). "Not found" is the answer of a store that works; an
    /// error is one that is down, slow past its timeouts, or refusing
    /// (a bucket gone, credentials wrong).
    pub async fn reachable(&self) -> Result<()> {
        match self.store.head(&ObjectPath::from("sha256/readiness-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-reads the bytes (streamed, range by range) and compares their
    /// hash with their name.
    pub async fn check(&self, sha: &str) -> Result<Fixity> {
        let Some(mut stream) = self.stream(sha).await? else { return Ok(Fixity::Missing) };
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        let actual = hex::encode(hasher.finalize());
        Ok(if actual == sha { Fixity::Ok } else { Fixity::Mismatch { actual } })
    }
}

/// Parts of a multipart upload waiting for the store at once, at most.
const PARTS_IN_FLIGHT: usize = 4;

/// Bytes per request when a file is read whole (`stream`, `check`,
/// `copy_to`).
pub const READ_CHUNK: u64 = 8 * 1024 * 1024;

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
