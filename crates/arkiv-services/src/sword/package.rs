//! The bytes of a SWORD deposit on their way in. A body is spooled to a
//! temporary file as it arrives (bounded, its MD5 taken on the way for
//! `Content-MD5`), because a zip can only be read with its central
//! directory at hand, at the end; and a SimpleZip package is unpacked from
//! there, one file at a time, never trusting what its headers claim.
//!
//! A package is hostile until read: every entry's name must stay inside
//! the package (no `../`, no absolute path), every entry is bounded as it
//! is inflated (by the largest file the repository takes, by what the
//! whole package may unpack to, and by a ratio to the bytes sent: a zip
//! bomb stops at the first byte past it, not after filling the disk), and
//! the number of entries is bounded before any is read.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Why a body or a package was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("the deposit is larger than this repository accepts ({} MB)", .limit / (1024 * 1024))]
    TooLarge { limit: u64 },
    #[error("the deposit did not arrive whole ({0})")]
    Interrupted(io::Error),
    #[error("the package is not a zip file that can be read: {0}")]
    Unreadable(String),
    #[error("the package names a file outside itself ({0:?}): nothing was taken from it")]
    PathEscape(String),
    #[error("the package holds {found} files; at most {limit} are taken in one deposit")]
    TooManyFiles { found: usize, limit: usize },
    #[error("the package unpacks to more than {limit_mb} MB, or more than {ratio} times its own size: refused as a zip bomb")]
    Bomb { limit_mb: u64, ratio: u64 },
    #[error("the package holds no file")]
    Empty,
    #[error(transparent)]
    Io(io::Error),
}

/// A body as spooled: the file holding it, its length and its MD5.
pub struct Spooled {
    pub file: tempfile::TempPath,
    pub size: u64,
    /// Lower-case hex, as `Content-MD5` is compared (clients send hex,
    /// though RFC 1864 says base64; both are accepted by the caller).
    pub md5_hex: String,
}

/// Writes `bytes` to a new temporary file in `dir`, refusing past `limit`
/// bytes: at the first chunk beyond it, so no more is ever written.
pub async fn spool<S>(mut bytes: S, limit: u64, dir: &Path) -> Result<Spooled, PackageError>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    std::fs::create_dir_all(dir).map_err(PackageError::Io)?;
    let path = tempfile::Builder::new().prefix("sword-").tempfile_in(dir).map_err(PackageError::Io)?.into_temp_path();
    let mut out = tokio::fs::File::create(&path).await.map_err(PackageError::Io)?;
    let mut md5 = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = bytes.next().await {
        let chunk = chunk.map_err(PackageError::Interrupted)?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(PackageError::TooLarge { limit });
        }
        md5.update(&chunk);
        out.write_all(&chunk).await.map_err(PackageError::Io)?;
    }
    out.flush().await.map_err(PackageError::Io)?;
    Ok(Spooled { file: path, size, md5_hex: hex::encode(md5.finalize()) })
}

/// A file's bytes as a stream of 64 KiB chunks, for the file store.
pub fn read_stream(path: PathBuf) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::try_unfold((path, None::<tokio::fs::File>), |(path, file)| async move {
        use tokio::io::AsyncReadExt;
        let mut file = match file {
            Some(f) => f,
            None => tokio::fs::File::open(&path).await?,
        };
        let mut buf = vec![0u8; 64 * 1024];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), (path, Some(file)))))
    })
}

/// How much a package may hold.
#[derive(Debug, Clone, Copy)]
pub struct PackageLimits {
    pub max_files: usize,
    /// Largest single file, unpacked.
    pub max_file_bytes: u64,
    /// All files together, unpacked.
    pub max_total_bytes: u64,
    /// Unpacked bytes per packed byte.
    pub max_expansion: u64,
}

/// The files of an unpacked package, in the package's order, in a
/// temporary directory that goes when this does.
pub struct Unpacked {
    pub files: Vec<UnpackedFile>,
    _dir: Option<tempfile::TempDir>,
    _file: Option<tempfile::TempPath>,
}

impl Unpacked {
    /// Holds one spooled file (a Binary deposit) until its bytes are
    /// stored; it names no files of its own.
    pub fn holding(file: tempfile::TempPath) -> Self {
        Unpacked { files: Vec::new(), _dir: None, _file: Some(file) }
    }
}

pub struct UnpackedFile {
    /// The entry's file name (its last path segment: documents have no
    /// folders).
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
}

/// Unpacks the SimpleZip package at `zip` (`packed` bytes long) into a new
/// directory under `dir`. Blocking: call it from `spawn_blocking`.
/// Folders, and the litter of archivers (`__MACOSX/`, `.DS_Store`), are
/// skipped.
pub fn unpack_simple_zip(zip: &Path, packed: u64, limits: PackageLimits, dir: &Path) -> Result<Unpacked, PackageError> {
    let unreadable = |e: zip::result::ZipError| PackageError::Unreadable(e.to_string());
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).map_err(PackageError::Io)?).map_err(unreadable)?;
    if archive.len() > limits.max_files {
        return Err(PackageError::TooManyFiles { found: archive.len(), limit: limits.max_files });
    }
    // Names first, all of them: one that escapes refuses the whole package
    // before a byte is inflated.
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(unreadable)?;
        if entry.enclosed_name().is_none() || escapes(&raw_name(entry.name())) {
            return Err(PackageError::PathEscape(raw_name(entry.name())));
        }
    }
    let out_dir = tempfile::Builder::new().prefix("sword-zip-").tempdir_in(dir).map_err(PackageError::Io)?;
    let total_limit = limits.max_total_bytes.min(packed.max(1).saturating_mul(limits.max_expansion));
    let bomb = || PackageError::Bomb { limit_mb: limits.max_total_bytes / (1024 * 1024), ratio: limits.max_expansion };
    let mut total = 0u64;
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(unreadable)?;
        let Some(inside) = entry.enclosed_name() else {
            return Err(PackageError::PathEscape(raw_name(entry.name())));
        };
        let name = inside.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let litter = inside.components().any(|c| c.as_os_str() == "__MACOSX") || name == ".DS_Store";
        if entry.is_dir() || name.is_empty() || litter {
            continue;
        }
        let path = out_dir.path().join(format!("{i}"));
        let mut out = std::fs::File::create(&path).map_err(PackageError::Io)?;
        // Bounded by what is left of both limits, plus one byte to see
        // that a limit was passed: the headers' sizes are not believed.
        let room = (total_limit - total).min(limits.max_file_bytes);
        let copied = copy_at_most(&mut entry, &mut out, room + 1).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => PackageError::Unreadable(e.to_string()),
            _ => PackageError::Io(e),
        })?;
        if copied > room {
            return Err(if copied > limits.max_file_bytes {
                PackageError::TooLarge { limit: limits.max_file_bytes }
            } else {
                bomb()
            });
        }
        total += copied;
        files.push(UnpackedFile { name, path, size: copied });
    }
    if files.is_empty() {
        return Err(PackageError::Empty);
    }
    Ok(Unpacked { files, _dir: Some(out_dir), _file: None })
}

/// Whether a name as written points outside the package: absolute (the
/// zip crate would quietly make `/etc/passwd` relative; such a package was
/// made to attack, and is refused), a drive, or any `..`.
fn escapes(name: &str) -> bool {
    name.starts_with(['/', '\\'])
        || name.as_bytes().get(1) == Some(&b':')
        || name.split(['/', '\\']).any(|part| part == "..")
}

/// An entry's name as written, for a message.
fn raw_name(name: Result<std::borrow::Cow<'_, str>, zip::result::ZipError>) -> String {
    name.map(|n| n.into_owned()).unwrap_or_else(|_| "(a name that is not UTF-8)".into())
}

fn copy_at_most(from: &mut impl Read, to: &mut impl Write, most: u64) -> io::Result<u64> {
    io::copy(&mut from.take(most), to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    const LIMITS: PackageLimits =
        PackageLimits { max_files: 10, max_file_bytes: 1 << 20, max_total_bytes: 4 << 20, max_expansion: 100 };

    fn zip_of(entries: &[(&str, &[u8])]) -> (tempfile::NamedTempFile, u64) {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut z = zip::ZipWriter::new(file.reopen().unwrap());
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        let len = file.as_file().metadata().unwrap().len();
        (file, len)
    }

    #[test]
    fn a_package_unpacks_to_its_files_by_name() {
        let (zip, len) =
            zip_of(&[("paper.pdf", b"%PDF-1.4 x"), ("data/table.csv", b"a,b\n1,2\n"), ("__MACOSX/._paper.pdf", b"x")]);
        let dir = tempfile::tempdir().unwrap();
        let out = unpack_simple_zip(zip.path(), len, LIMITS, dir.path()).unwrap();
        let names: Vec<_> = out.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["paper.pdf", "table.csv"]);
        assert_eq!(std::fs::read(&out.files[0].path).unwrap(), b"%PDF-1.4 x");
    }

    #[test]
    fn a_name_outside_the_package_refuses_it_whole() {
        for evil in ["../../etc/cron.d/x", "/etc/passwd"] {
            let (zip, len) = zip_of(&[("fine.pdf", b"%PDF"), (evil, b"boom")]);
            let dir = tempfile::tempdir().unwrap();
            match unpack_simple_zip(zip.path(), len, LIMITS, dir.path()) {
                Err(PackageError::PathEscape(name)) => assert_eq!(name, evil),
                other => panic!("{evil}: {:?}", other.map(|u| u.files.len())),
            }
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing unpacked");
        }
    }

    #[test]
    fn a_zip_bomb_stops_at_its_bound() {
        // 4 MiB of zeros deflate to a few KiB: far past 100 times.
        let zeros = vec![0u8; 4 << 20];
        let (zip, len) = zip_of(&[("zeros.bin", &zeros)]);
        assert!(len < 40_000, "{len}");
        let dir = tempfile::tempdir().unwrap();
        let limits = PackageLimits { max_file_bytes: 8 << 20, max_total_bytes: 8 << 20, ..LIMITS };
        assert!(matches!(unpack_simple_zip(zip.path(), len, limits, dir.path()), Err(PackageError::Bomb { .. })));
        // Past one file's bound: said so.
        let limits = PackageLimits { max_expansion: 10_000, ..LIMITS };
        assert!(matches!(
            unpack_simple_zip(zip.path(), len, limits, dir.path()),
            Err(PackageError::TooLarge { limit }) if limit == 1 << 20
        ));
    }

    #[test]
    fn too_many_files_or_none_or_no_zip_are_refused() {
        let many: Vec<(String, &[u8])> = (0..11).map(|i| (format!("f{i}.txt"), &b"x"[..])).collect();
        let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let (zip, len) = zip_of(&refs);
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            unpack_simple_zip(zip.path(), len, LIMITS, dir.path()),
            Err(PackageError::TooManyFiles { found: 11, limit: 10 })
        ));
        let (zip, len) = zip_of(&[]);
        assert!(matches!(unpack_simple_zip(zip.path(), len, LIMITS, dir.path()), Err(PackageError::Empty)));
        let not_zip = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(not_zip.path(), b"%PDF-1.4 not a zip").unwrap();
        assert!(matches!(unpack_simple_zip(not_zip.path(), 18, LIMITS, dir.path()), Err(PackageError::Unreadable(_))));
    }

    #[tokio::test]
    async fn a_body_is_spooled_with_its_md5_and_refused_past_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let chunks =
            || futures::stream::iter(vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))]);
        let s = spool(chunks(), 11, dir.path()).await.unwrap();
        assert_eq!(s.size, 11);
        assert_eq!(s.md5_hex, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let back: Vec<Bytes> = read_stream(s.file.to_path_buf()).map(Result::unwrap).collect().await;
        assert_eq!(back.concat(), b"hello world");
        assert!(matches!(spool(chunks(), 10, dir.path()).await, Err(PackageError::TooLarge { limit: 10 })));
    }
}
