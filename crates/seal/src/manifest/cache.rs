//! The quick-verify cache: a node-local file remembering, per regular
//! file, the stat fields of the version last hashed and its hash, so a
//! later `verify --quick` re-hashes only files whose stat changed.
//!
//! Trusting it is sound against content edits because ctime cannot be set
//! by user space: restoring mtime with `touch -d` still moves ctime.
//!
//! ```text
//! tractorsec-seal-cache<TAB>1<TAB>algorithm=blake3
//! PATH<TAB>SIZE<TAB>MTIME_NS<TAB>CTIME_NS<TAB>INO<TAB>DEV<TAB>HEX
//! ```
//!
//! A cache that does not parse is ignored as a whole (everything is
//! re-hashed) and a note says so; it is only ever an optimisation.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::hash::{FileStamp, HashAlgorithm};
use super::path::{ManifestPath, escape_into, unescape};

const MAGIC: &str = "tractorsec-seal-cache";

/// One cached file: its path (raw bytes), the stamp of the version
/// hashed, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub path: Vec<u8>,
    pub stamp: FileStamp,
    pub hash: String,
}

/// The records, strictly increasing by path (the order of the walk's
/// sorted output, so lookups are a merge, not a hash per file).
pub(crate) type Cache = Vec<Record>;

/// For each walked path (sorted), the cached hash when the cache has that
/// path with exactly `stamp`.
pub(crate) fn lookup<'c>(cache: &'c Cache, items: &[(&[u8], FileStamp)]) -> Vec<Option<&'c str>> {
    let mut records = cache.iter().peekable();
    items
        .iter()
        .map(|(path, stamp)| {
            while records.next_if(|r| r.path.as_slice() < *path).is_some() {}
            records
                .next_if(|r| r.path.as_slice() == *path)
                .filter(|r| r.stamp == *stamp)
                .map(|r| r.hash.as_str())
        })
        .collect()
}

/// Reads the cache at `path`. `Ok(None)` when there is none yet;
/// `Err(note)` when it exists but cannot be used.
pub(crate) fn load(path: &Path, algorithm: HashAlgorithm) -> Result<Option<Cache>, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cache {} ignored: {err}", path.display())),
    };
    parse(&text, algorithm)
        .map(Some)
        .map_err(|(line, m)| format!("cache {}:{line} ignored: {m}", path.display()))
}

fn parse(text: &str, algorithm: HashAlgorithm) -> Result<Cache, (usize, String)> {
    let mut lines = text.lines();
    let header = format!("{MAGIC}\t1\talgorithm={algorithm}");
    if lines.next() != Some(header.as_str()) {
        return Err((1, format!("header is not `{header}`")));
    }
    let mut cache = Cache::new();
    for (i, line) in lines.enumerate() {
        let number = i + 2;
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, size, mtime, ctime, ino, dev, hash] = fields.as_slice() else {
            return Err((number, "expected 7 fields".into()));
        };
        let bad = |what: &str| (number, format!("bad {what}"));
        let path = unescape(path).map_err(|_| bad("path"))?;
        if cache.last().is_some_and(|r: &Record| r.path >= path) {
            return Err(bad("order"));
        }
        let stamp = FileStamp {
            size: size.parse().map_err(|_| bad("size"))?,
            mtime_ns: mtime.parse().map_err(|_| bad("mtime"))?,
            ctime_ns: ctime.parse().map_err(|_| bad("ctime"))?,
            ino: ino.parse().map_err(|_| bad("inode"))?,
            dev: dev.parse().map_err(|_| bad("device"))?,
        };
        if hash.len() != algorithm.hex_len() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("hash"));
        }
        cache.push(Record {
            path,
            stamp,
            hash: (*hash).to_string(),
        });
    }
    Ok(cache)
}

/// The cache text for `entries` (sorted by path for determinism).
pub(crate) fn render(
    entries: &[(&ManifestPath, FileStamp, &str)],
    algorithm: HashAlgorithm,
) -> String {
    let mut out = format!("{MAGIC}\t1\talgorithm={algorithm}\n");
    for (path, s, hash) in entries {
        escape_into(path.as_bytes(), &mut out);
        let _ = writeln!(
            out,
            "\t{}\t{}\t{}\t{}\t{}\t{hash}",
            s.size, s.mtime_ns, s.ctime_ns, s.ino, s.dev
        );
    }
    out
}

/// Replaces `path` with `text` atomically: a new temporary file (mode
/// 0600: it holds hashes of every file, secrets included) in the same
/// directory, synced, renamed over `path`, then the directory synced. On
/// error the temporary file is removed and `path` is untouched.
pub(crate) fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let mut name = OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    static TEMP_FILES: AtomicU64 = AtomicU64::new(0);
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TEMP_FILES.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = path.with_file_name(name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let p = ManifestPath::new(b"a\tb".to_vec()).unwrap();
        let stamp = FileStamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: -4,
            ctime_ns: 5,
        };
        let hash = "0".repeat(64);
        let text = render(&[(&p, stamp, &hash)], HashAlgorithm::Blake3);
        let cache = parse(&text, HashAlgorithm::Blake3).unwrap();
        let other = FileStamp { size: 9, ..stamp };
        assert_eq!(
            lookup(
                &cache,
                &[(b"a", stamp), (p.as_bytes(), stamp), (b"z", stamp)]
            ),
            [None, Some(hash.as_str()), None]
        );
        assert_eq!(lookup(&cache, &[(p.as_bytes(), other)]), [None]);
        assert!(parse(&text, HashAlgorithm::Sha256).is_err());
        assert!(parse(&text.replace("\t3\t", "\tx\t"), HashAlgorithm::Blake3).is_err());
    }
}
