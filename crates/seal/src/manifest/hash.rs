//! Content hashes of regular files, read safely from a tree that may be
//! changing underneath.

use std::cell::RefCell;
use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use sha2::Digest;

use super::entry::hex;

/// The content hash algorithm of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// BLAKE3 (256-bit output), the default: fastest, parallel within a file.
    #[default]
    Blake3,
    /// SHA-256.
    Sha256,
}

impl HashAlgorithm {
    /// The name written in manifests: `blake3` or `sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Blake3 => "blake3",
            HashAlgorithm::Sha256 => "sha256",
        }
    }

    /// The hash of `data`, lowercase hex.
    pub fn hash_bytes(self, data: &[u8]) -> String {
        match self {
            HashAlgorithm::Blake3 => blake3::hash(data).to_hex().to_string(),
            HashAlgorithm::Sha256 => hex(&sha2::Sha256::digest(data)),
        }
    }

    /// Length of a hash in hex digits (both are 256-bit).
    pub fn hex_len(self) -> usize {
        64
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "blake3" => Ok(HashAlgorithm::Blake3),
            "sha256" => Ok(HashAlgorithm::Sha256),
            _ => Err(format!("unknown hash algorithm `{s}` (blake3 or sha256)")),
        }
    }
}

/// The stat fields that identify one version of a file: what was seen by
/// the walk, and what the quick-verify cache trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl FileStamp {
    pub(crate) fn of(meta: &Metadata) -> FileStamp {
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
        }
    }
}

/// Why a file's content could not be hashed.
#[derive(Debug)]
pub(crate) enum HashError {
    /// Opening or reading failed.
    Io(io::Error),
    /// The path no longer names the file the walk saw.
    Replaced,
    /// The file changed while it was read.
    ChangedWhileReading,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::Io(err) => write!(f, "content unreadable: {}", errno_text(err)),
            HashError::Replaced => f.write_str("content unreadable: file replaced since the walk"),
            HashError::ChangedWhileReading => {
                f.write_str("content unreadable: file changed while being read")
            }
        }
    }
}

/// An I/O error as `ENAME (description)` where the errno is a common one.
pub(crate) fn errno_text(err: &io::Error) -> String {
    let name = match err.raw_os_error() {
        Some(1) => "EPERM",
        Some(2) => "ENOENT",
        Some(5) => "EIO",
        Some(6) => "ENXIO",
        Some(11) => "EAGAIN",
        Some(12) => "ENOMEM",
        Some(13) => "EACCES",
        Some(20) => "ENOTDIR",
        Some(21) => "EISDIR",
        Some(24) => "EMFILE",
        Some(36) => "ENAMETOOLONG",
        Some(40) => "ELOOP",
        Some(61) => "ENODATA",
        Some(95) => "EOPNOTSUPP",
        Some(116) => "ESTALE",
        _ => return err.to_string(),
    };
    let text = err.to_string();
    let text = text.split(" (os error").next().unwrap_or("").to_string();
    format!("{name} ({text})")
}

const BUFFER: usize = 1 << 20;
/// Chunks at least this large are hashed with all cores (BLAKE3 only).
const PARALLEL_CHUNK: usize = 128 << 10;

/// Hashes the regular file at `path`, which the walk saw as `seen`.
///
/// It is opened without following symlinks and without blocking (so a
/// FIFO swapped in cannot hang us), checked to be the same inode the walk
/// saw, read in 1 MiB chunks (never mapped: a file truncated under a
/// mapping would kill the process with SIGBUS), and checked again after
/// reading: size, mtime and ctime unchanged, and exactly `size` bytes read.
pub(crate) fn hash_file(
    path: &Path,
    seen: &FileStamp,
    algorithm: HashAlgorithm,
) -> Result<String, HashError> {
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(HashError::Io)?;
    let before = file.metadata().map_err(HashError::Io)?;
    if !before.file_type().is_file() || before.dev() != seen.dev || before.ino() != seen.ino {
        return Err(HashError::Replaced);
    }
    let (digest, read) = match algorithm {
        HashAlgorithm::Blake3 => {
            let mut hasher = blake3::Hasher::new();
            let read = read_chunks(&mut file, seen.size, |chunk| {
                if chunk.len() >= PARALLEL_CHUNK {
                    hasher.update_rayon(chunk);
                } else {
                    hasher.update(chunk);
                }
            })?;
            (hasher.finalize().to_hex().to_string(), read)
        }
        HashAlgorithm::Sha256 => {
            let mut hasher = sha2::Sha256::new();
            let read = read_chunks(&mut file, seen.size, |chunk| hasher.update(chunk))?;
            (hex(&hasher.finalize()), read)
        }
    };
    let after = FileStamp::of(&file.metadata().map_err(HashError::Io)?);
    if after != *seen || read != seen.size {
        return Err(HashError::ChangedWhileReading);
    }
    Ok(digest)
}

thread_local! {
    /// Read buffers kept per thread, so that hashing 100k files does not
    /// allocate (and page-fault in) 100k buffers. A buffer is taken out
    /// while in use: a nested call on the same thread (rayon may run
    /// another file's hashing while `update_rayon` waits) finds none and
    /// allocates its own.
    static BUFFERS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Reads `file` to its end or until `size` bytes are read (a file grown
/// beyond them is caught by the stat check after reading), handing each
/// chunk to `sink`; returns the number of bytes read.
fn read_chunks(file: &mut File, size: u64, mut sink: impl FnMut(&[u8])) -> Result<u64, HashError> {
    let mut buffer = BUFFERS
        .with(|b| b.borrow_mut().pop())
        .unwrap_or_else(|| vec![0u8; BUFFER]);
    let mut total = 0u64;
    let result = loop {
        if total >= size {
            break Ok(total);
        }
        match file.read(&mut buffer) {
            Ok(0) => break Ok(total),
            Ok(n) => {
                sink(buffer.get(..n).unwrap_or_default());
                total += n as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => break Err(HashError::Io(err)),
        }
    };
    BUFFERS.with(|b| {
        let mut kept = b.borrow_mut();
        if kept.len() < 2 {
            kept.push(buffer);
        }
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_reference_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let seen = FileStamp::of(&std::fs::symlink_metadata(&path).unwrap());
        let b3 = hash_file(&path, &seen, HashAlgorithm::Blake3).unwrap();
        assert_eq!(b3, blake3::hash(&data).to_hex().to_string());
        let sha = hash_file(&path, &seen, HashAlgorithm::Sha256).unwrap();
        assert_eq!(sha, HashAlgorithm::Sha256.hash_bytes(&data));
        assert_eq!(
            HashAlgorithm::Sha256.hash_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn vanished_replaced_and_changed_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"one").unwrap();
        let seen = FileStamp::of(&std::fs::symlink_metadata(&path).unwrap());

        // Changed after the walk (size differs).
        std::fs::write(&path, b"three").unwrap();
        assert!(matches!(
            hash_file(&path, &seen, HashAlgorithm::Blake3),
            Err(HashError::ChangedWhileReading)
        ));

        // Replaced by another inode.
        let other = dir.path().join("other");
        std::fs::write(&other, b"one").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(matches!(
            hash_file(&path, &seen, HashAlgorithm::Blake3),
            Err(HashError::Replaced)
        ));

        // Vanished.
        std::fs::remove_file(&path).unwrap();
        let err = hash_file(&path, &seen, HashAlgorithm::Blake3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "content unreadable: ENOENT (No such file or directory)"
        );
    }

    #[test]
    fn a_fifo_swapped_in_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"one").unwrap();
        let seen = FileStamp::of(&std::fs::symlink_metadata(&path).unwrap());
        std::fs::remove_file(&path).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        assert!(matches!(
            hash_file(&path, &seen, HashAlgorithm::Blake3),
            Err(HashError::Replaced)
        ));
    }
}
