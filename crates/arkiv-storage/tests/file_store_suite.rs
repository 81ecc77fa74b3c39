//! The file store's contract, written once and run on both backends
//! (issue 31): a local directory (a fresh one per test) and S3 (a fresh
//! bucket per test on the server `ARKIV_TEST_S3_URL` names; under a prefix,
//! as a shared bucket would be used):
//!
//! ```sh
//! export ARKIV_TEST_S3_URL=$(scripts/seaweedfs.sh | tail -n1)
//! cargo test -p arkiv-storage --features s3 --test file_store_suite
//! ```
//!
//! Without `ARKIV_TEST_S3_URL`, or in a build without the `s3` feature, the
//! S3 variants say they were skipped and pass, unless `CI=true`, where
//! they fail.

use arkiv_storage::files::{sha256_hex, FileStore, Fixity, StoredObject};
use arkiv_testkit::unique_bytes;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(arkiv_storage::FileStore::local(dir.path()).unwrap()).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(store) = super::s3_store().await else { return };
                    super::$name(store).await
                }
            )*
        }
    };
}

suite!(
    bytes_go_in_and_come_back_whole_or_in_ranges,
    a_large_stream_is_stored_without_a_copy_in_memory,
    a_stream_past_its_limit_or_broken_leaves_nothing,
    the_same_bytes_are_stored_once,
    the_listing_names_every_object_and_its_hash,
    old_objects_are_deleted_and_fresh_ones_kept,
    fixity_is_a_rehash,
    bytes_copy_between_stores_checked_on_the_way,
    a_presigned_url_serves_the_bytes_on_s3_only,
);

/// A store on a fresh bucket of the test server, under a prefix.
#[cfg(feature = "s3")]
async fn s3_store() -> Option<FileStore> {
    let server = arkiv_testkit::s3_server()?;
    let store = FileStore::s3(&arkiv_storage::files::S3Options {
        bucket: arkiv_testkit::unique_bucket(),
        prefix: "site/files".into(),
        endpoint: Some(server.endpoint),
        region: "us-east-1".into(),
        allow_http: true,
        access_key_id: Some(server.access_key_id),
        secret_access_key: Some(server.secret_access_key),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(30),
        retries: 2,
    })
    .unwrap();
    // SeaweedFS makes the bucket on its first write (an admin identity's).
    store.object_store().put(&ObjectPath::from("bucket-made"), PutPayload::from_static(b"")).await.unwrap();
    Some(store)
}

#[cfg(not(feature = "s3"))]
async fn s3_store() -> Option<FileStore> {
    arkiv_testkit::skip("S3 support (cargo feature s3)");
    None
}

fn chunks(data: &[u8]) -> impl Stream<Item = std::io::Result<Bytes>> + Unpin {
    let v: Vec<std::io::Result<Bytes>> = data.chunks(64 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures::stream::iter(v)
}

async fn listing(store: &FileStore) -> Vec<StoredObject> {
    let mut all: Vec<StoredObject> = store.objects().try_collect().await.unwrap();
    all.sort_by(|a, b| a.path.cmp(&b.path));
    all
}

async fn bytes_go_in_and_come_back_whole_or_in_ranges(store: FileStore) {
    let data = unique_bytes(300 * 1024);
    let sha = store.put(Bytes::from(data.clone())).await.unwrap();
    assert_eq!(sha, sha256_hex(&data));
    assert_eq!(store.get(&sha).await.unwrap().unwrap(), data);
    assert_eq!(store.size(&sha).await.unwrap(), Some(data.len() as u64));
    assert_eq!(store.get_range(&sha, 1000..1010).await.unwrap(), &data[1000..1010]);
    let streamed: Vec<Bytes> = store.stream_range(&sha, 10, 200_000, 64 * 1024).try_collect().await.unwrap();
    if !store.is_s3() {
        // Locally in reads of the chunk asked for; from S3 as the one
        // ranged GET's body arrives.
        assert_eq!(streamed.len(), 4, "ranges of 64 KiB");
    }
    assert_eq!(streamed.concat(), &data[10..200_000]);
    let absent = sha256_hex(b"never stored");
    assert_eq!(store.get(&absent).await.unwrap(), None);
    assert_eq!(store.size(&absent).await.unwrap(), None);
    assert!(store.stream(&absent).await.unwrap().is_none());
    for bad in ["../../etc/passwd", "ABC", &sha.to_uppercase()] {
        assert!(store.get(bad).await.is_err(), "get {bad:?}");
        assert!(store.size(bad).await.is_err(), "size {bad:?}");
    }
}

async fn a_large_stream_is_stored_without_a_copy_in_memory(store: FileStore) {
    // 64 MiB made on the fly, 1 MiB at a time: more than a dozen parts of a
    // multipart upload on S3, never all in memory on this side.
    const TOTAL: usize = 64 * MIB;
    let mut expected = Sha256::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut made = Vec::with_capacity(TOTAL / MIB);
    for _ in 0..TOTAL / MIB {
        let chunk: Vec<u8> = (0..MIB / 8)
            .flat_map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        expected.update(&chunk);
        made.push(state);
    }
    let expected = hex::encode(expected.finalize());
    // The same chunks again, generated lazily as the store pulls them.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let stream = futures::stream::iter(0..TOTAL / MIB).map(move |_| {
        let chunk: Vec<u8> = (0..MIB / 8)
            .flat_map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        Ok(Bytes::from(chunk))
    });
    let (sha, size) = store.put_stream(stream, TOTAL as u64).await.unwrap();
    assert_eq!((sha.as_str(), size), (expected.as_str(), TOTAL as u64));
    assert_eq!(store.size(&sha).await.unwrap(), Some(TOTAL as u64));
    assert_eq!(store.check(&sha).await.unwrap(), Fixity::Ok);
    let tail = store.get_range(&sha, (TOTAL - 8) as u64..TOTAL as u64).await.unwrap();
    assert_eq!(tail.as_ref(), made.last().unwrap().to_le_bytes());
    // Nothing left in staging.
    let all = listing(&store).await;
    assert_eq!(all.iter().map(|o| o.sha256.as_deref()).collect::<Vec<_>>(), [Some(sha.as_str())]);
}

async fn a_stream_past_its_limit_or_broken_leaves_nothing(store: FileStore) {
    let data = unique_bytes(12 * MIB);
    let err = store.put_stream(chunks(&data), 10 * MIB as u64).await.unwrap_err();
    assert!(err.to_string().contains("larger than the limit"), "{err}");
    let broken =
        chunks(&data[..7 * MIB]).chain(futures::stream::iter([Err(std::io::Error::other("client went away"))]));
    let err = store.put_stream(broken, u64::MAX).await.unwrap_err();
    assert!(err.to_string().contains("client went away"), "{err}");
    assert_eq!(listing(&store).await, [], "no object under sha256/ or staging/");
    assert_eq!(store.size(&sha256_hex(&data)).await.unwrap(), None);
}

async fn the_same_bytes_are_stored_once(store: FileStore) {
    let data = unique_bytes(6 * MIB);
    let a = store.put(Bytes::from(data.clone())).await.unwrap();
    let (b, size) = store.put_stream(chunks(&data), u64::MAX).await.unwrap();
    let c = store.put(Bytes::from(data.clone())).await.unwrap();
    assert_eq!((a.as_str(), size), (b.as_str(), data.len() as u64));
    assert_eq!(a, c);
    let all = listing(&store).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(store.get(&a).await.unwrap().unwrap(), data);
}

async fn the_listing_names_every_object_and_its_hash(store: FileStore) {
    let mut shas = Vec::new();
    for len in [0, 1, 5000] {
        shas.push((store.put(Bytes::from(unique_bytes(len))).await.unwrap(), len as u64));
    }
    // A stray upload in staging, and bytes at a name that is not their own.
    store.object_store().put(&ObjectPath::from("staging/12345-1-0"), PutPayload::from_static(b"half")).await.unwrap();
    let all = listing(&store).await;
    assert_eq!(all.len(), 4, "{all:?}");
    for (sha, len) in &shas {
        let o = all.iter().find(|o| o.sha256.as_deref() == Some(sha.as_str())).unwrap();
        assert_eq!(o.path, format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]));
        assert_eq!(o.size, *len);
        assert!((o.last_modified - arkiv_storage::files::now_secs()).abs() < 300, "stamped now: {o:?}");
    }
    let stray = all.iter().find(|o| o.path == "staging/12345-1-0").unwrap();
    assert_eq!((stray.sha256.as_deref(), stray.size), (None, 4));
}

async fn old_objects_are_deleted_and_fresh_ones_kept(store: FileStore) {
    let data = unique_bytes(1000);
    let sha = store.put(Bytes::from(data.clone())).await.unwrap();
    let path = format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]);
    let now = arkiv_storage::files::now_secs();
    assert_eq!(store.delete_if_older(&path, now - 3600).await.unwrap(), None, "younger than the cutoff");
    assert!(store.size(&sha).await.unwrap().is_some());
    assert_eq!(store.delete_if_older(&path, now + 3600).await.unwrap(), Some(1000));
    assert_eq!(store.size(&sha).await.unwrap(), None);
    assert_eq!(store.delete_if_older(&path, now + 3600).await.unwrap(), None, "already gone");
}

async fn fixity_is_a_rehash(store: FileStore) {
    let good = unique_bytes(10 * MIB);
    let sha = store.put(Bytes::from(good.clone())).await.unwrap();
    assert_eq!(store.check(&sha).await.unwrap(), Fixity::Ok);
    assert_eq!(store.check(&sha256_hex(b"absent")).await.unwrap(), Fixity::Missing);
    // Damage: other bytes at its path, put beneath the content addressing.
    let other = unique_bytes(10 * MIB);
    let path = ObjectPath::from(format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]));
    store.object_store().put(&path, PutPayload::from(other.clone())).await.unwrap();
    assert_eq!(store.check(&sha).await.unwrap(), Fixity::Mismatch { actual: sha256_hex(&other) });
}

async fn bytes_copy_between_stores_checked_on_the_way(store: FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let local = FileStore::local(dir.path()).unwrap();
    let data = unique_bytes(9 * MIB + 17);
    let sha = store.put(Bytes::from(data.clone())).await.unwrap();
    assert_eq!(store.copy_to(&sha, &local).await.unwrap(), Some(data.len() as u64));
    assert_eq!(local.get(&sha).await.unwrap().unwrap(), data);
    assert_eq!(store.copy_to(&sha256_hex(b"absent"), &local).await.unwrap(), None);
    // Back the other way, then damaged bytes are refused, not copied.
    store.object_store().delete(&ObjectPath::from(format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]))).await.unwrap();
    assert_eq!(local.copy_to(&sha, &store).await.unwrap(), Some(data.len() as u64));
    assert_eq!(store.check(&sha).await.unwrap(), Fixity::Ok);
    let path = ObjectPath::from(format!("sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]));
    store.object_store().put(&path, PutPayload::from(unique_bytes(100))).await.unwrap();
    let other = tempfile::tempdir().unwrap();
    let err = store.copy_to(&sha, &FileStore::local(other.path()).unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
}

async fn a_presigned_url_serves_the_bytes_on_s3_only(store: FileStore) {
    let data = unique_bytes(700 * 1024);
    let sha = store.put(Bytes::from(data.clone())).await.unwrap();
    let disposition = "attachment; filename=\"paper.pdf\"; filename*=UTF-8''paper.pdf";
    let url = store.presigned_get(&sha, Duration::from_secs(60), "application/pdf", disposition).await.unwrap();
    let Some(url) = url else {
        assert!(!store.is_s3(), "a local store signs nothing");
        return;
    };
    assert!(store.is_s3());
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["content-disposition"], disposition);
    assert_eq!(res.bytes().await.unwrap(), data);
    // The signature covers the object: another one's name is refused.
    let other = sha256_hex(b"other");
    let forged = url.replace(&sha, &other);
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 403);
}
