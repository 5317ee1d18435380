//! Tree manifests: seal, and drift against a seal.
//!
//! [`seal`] walks a tree (`lstat` only: symlinks are recorded,
//! never followed; other file systems are not entered; excluded paths are
//! not descended), then hashes every regular file in parallel, and returns
//! a [`Manifest`]: per path its type, mode, owner, size, content hash,
//! symlink target, device number, hard-link group and security xattrs.
//! [`Manifest::to_text`] and [`Manifest::parse`] are the deterministic,
//! strict text format of `docs/manifest.md`.
//!
//! [`drift`] walks the tree again and reports, as a [`Drift`], what was
//! added, removed, or changed, naming each changed attribute. By default
//! every file is re-hashed; with [`VerifyOptions::quick_cache`] only files
//! whose size, mtime, ctime, inode or device moved since the last verify
//! are.

mod cache;
mod drift;
mod entry;
mod format;
mod glob;
mod hash;
mod path;
mod walk;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use drift::{Attribute, Change, Drift, DriftError};
pub use entry::{DeviceNumber, Entry, EntryKind, SECURITY_XATTRS};
pub use format::{MAGIC, Manifest, ManifestError, VERSION};
pub use glob::{ExcludeSet, Glob};
pub use hash::HashAlgorithm;
pub use path::{ManifestPath, escape, unescape};

use hash::{FileStamp, HashError, hash_file};
use walk::{WalkOutput, Walked};

/// Files changed less than this long before a quick verify's walk began
/// are not cached: file-system timestamps are coarse (a clock tick, or a
/// second on some file systems), so a second change in the same tick
/// would leave ctime unchanged.
pub const RACY_MARGIN_NS: i64 = 2_000_000_000;

/// How to seal a tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealOptions {
    /// Glob patterns (see [`Glob`]) matched against each relative path; a
    /// match is left out, and an excluded directory is not descended.
    /// They are recorded in the manifest, and verify uses them too.
    pub excludes: Vec<String>,
    /// The content hash algorithm.
    pub algorithm: HashAlgorithm,
}

/// How to verify a tree against a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Quick mode: the node-local cache file of the previous verify. Files
    /// whose size, mtime, ctime, inode and device all match their cache
    /// record are not re-hashed; the cache is then rewritten atomically.
    /// With no cache file yet, everything is hashed. Files whose ctime is
    /// within [`RACY_MARGIN_NS`] of the walk are never cached.
    pub quick_cache: Option<PathBuf>,
}

/// Why a tree could not be sealed or verified at all.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// An I/O operation on `path` failed (the root, or the quick cache).
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// An exclude pattern does not compile.
    #[error("bad exclude pattern: {0}")]
    Exclude(String),
    /// Sealing met a path it could not record faithfully (unlistable,
    /// vanished, changed while hashed, a directory loop…): a seal must be
    /// complete, so it fails rather than record a partial tree.
    #[error("{}: cannot seal `{path}`: {message}{}", root.display(), others_text(*others))]
    Tree {
        /// The root being sealed.
        root: PathBuf,
        /// The first path in error.
        path: ManifestPath,
        /// What went wrong with it.
        message: String,
        /// How many more paths were in error.
        others: usize,
    },
}

fn others_text(others: usize) -> String {
    match others {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    }
}

/// Seals the tree at `root` (a directory; a symlink to one is refused).
pub fn seal(root: &Path, opts: &SealOptions) -> Result<Manifest, SealError> {
    let excludes = ExcludeSet::new(&opts.excludes).map_err(SealError::Exclude)?;
    let walked = walk::walk(root, &excludes).map_err(root_error)?;
    let need: Vec<bool> = walked
        .items
        .iter()
        .map(|i| i.kind == EntryKind::File)
        .collect();
    let hashes = hash_needed(&walked.items, &need, opts.algorithm);
    let mut problems: Vec<(ManifestPath, String)> = walked
        .problems
        .iter()
        .map(|p| (p.path.clone(), p.message.clone()))
        .collect();
    let mut contents = Vec::with_capacity(hashes.len());
    for (item, hash) in walked.items.iter().zip(hashes) {
        contents.push(match hash {
            Some(Ok(hash)) => Some(hash),
            Some(Err(err)) => {
                problems.push((item.path.clone(), err.to_string()));
                None
            }
            None => None,
        });
    }
    if let Some((path, message)) = problems.first().cloned() {
        problems.sort();
        return Err(SealError::Tree {
            root: root.to_path_buf(),
            path,
            message,
            others: problems.len() - 1,
        });
    }
    Ok(Manifest {
        algorithm: opts.algorithm,
        excludes: opts.excludes.clone(),
        entries: entries(&walked.items, contents),
    })
}

/// Compares the tree at `root` with `manifest` (walking with the
/// manifest's excludes and hashing with its algorithm).
pub fn drift(root: &Path, manifest: &Manifest, opts: &VerifyOptions) -> Result<Drift, SealError> {
    let excludes = ExcludeSet::new(&manifest.excludes).map_err(SealError::Exclude)?;
    // The cache (if any) is read while the tree is walked.
    let (walked, cache) = rayon::join(
        || walk::walk(root, &excludes),
        || load_cache(opts, manifest.algorithm),
    );
    drift_walked(manifest, opts, walked.map_err(root_error)?, cache)
}

/// The quick-verify cache and, if it was unusable, a note saying why.
fn load_cache(opts: &VerifyOptions, algorithm: HashAlgorithm) -> (cache::Cache, Option<String>) {
    match &opts.quick_cache {
        Some(path) => match cache::load(path, algorithm) {
            Ok(cache) => (cache.unwrap_or_default(), None),
            Err(note) => (Vec::new(), Some(note)),
        },
        None => (Vec::new(), None),
    }
}

fn root_error((path, source): (PathBuf, io::Error)) -> SealError {
    SealError::Io {
        path,
        op: "walk",
        source,
    }
}

/// [`drift`] after the walk (split out so tests can change the tree
/// between the walk and the hashing).
fn drift_walked(
    manifest: &Manifest,
    opts: &VerifyOptions,
    walked: WalkOutput,
    (cache, note): (cache::Cache, Option<String>),
) -> Result<Drift, SealError> {
    let algorithm = manifest.algorithm;
    let notes: Vec<String> = note.into_iter().collect();
    let keys: Vec<(&[u8], FileStamp)> = walked
        .items
        .iter()
        .map(|i| (i.path.as_bytes(), i.stamp))
        .collect();
    let cached = cache::lookup(&cache, &keys);
    let need: Vec<bool> = walked
        .items
        .iter()
        .zip(&cached)
        .map(|(i, c)| i.kind == EntryKind::File && c.is_none())
        .collect();
    let hashed = need.iter().filter(|n| **n).count();
    let hashes = hash_needed(&walked.items, &need, algorithm);
    let mut contents = Vec::with_capacity(hashes.len());
    let mut content_errors: HashMap<ManifestPath, String> = HashMap::new();
    for ((item, hash), cached) in walked.items.iter().zip(hashes).zip(&cached) {
        contents.push(match hash {
            Some(Ok(hash)) => Some(hash),
            Some(Err(err)) => {
                content_errors.insert(item.path.clone(), err.to_string());
                None
            }
            None if item.kind == EntryKind::File => cached.map(str::to_string),
            None => None,
        });
    }
    if let Some(path) = &opts.quick_cache {
        // The racy-git rule: a file whose ctime is within RACY_MARGIN_NS of
        // the walk could change again within the same timestamp tick
        // without moving its ctime, so it is not cached (it is re-hashed
        // next time, until it has aged).
        let trusted_before = walked.started_ns.saturating_sub(RACY_MARGIN_NS);
        let records: Vec<(&ManifestPath, FileStamp, &str)> = walked
            .items
            .iter()
            .zip(&contents)
            .filter(|(item, _)| item.stamp.ctime_ns < trusted_before)
            .filter_map(|(item, hash)| Some((&item.path, item.stamp, hash.as_deref()?)))
            .collect();
        // Served wholly from the cache, which holds nothing else: it is
        // already what would be written.
        let unchanged = hashed == 0 && records.len() == cache.len();
        if !unchanged {
            cache::write_atomically(path, &cache::render(&records, algorithm)).map_err(
                |source| SealError::Io {
                    path: path.clone(),
                    op: "write the quick-verify cache",
                    source,
                },
            )?;
        }
    }
    let found = entries(&walked.items, contents);
    let mut drift = Drift {
        checked: found.len(),
        hashed,
        notes,
        errors: walked
            .problems
            .into_iter()
            .map(|p| DriftError {
                path: p.path,
                message: p.message,
            })
            .collect(),
        ..Drift::default()
    };
    // Merge the two sorted lists.
    let unknown = |path: &ManifestPath| walked.unlisted.iter().any(|dir| path.is_beneath(dir));
    let mut expected = manifest.entries.iter().peekable();
    let mut found = found.into_iter().peekable();
    loop {
        let order = match (expected.peek(), found.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(e), Some(f)) => e.path.cmp(&f.path),
        };
        match order {
            Ordering::Less => {
                if let Some(e) = expected.next()
                    && !unknown(&e.path)
                {
                    drift.removed.push(e.clone());
                }
            }
            Ordering::Greater => {
                if let Some(f) = found.next() {
                    drift.added.push(f);
                }
            }
            Ordering::Equal => {
                if let (Some(e), Some(f)) = (expected.next(), found.next()) {
                    let error = content_errors.get(&f.path).map(String::as_str);
                    let attributes = drift::compare(e, &f, error);
                    if !attributes.is_empty() {
                        drift.changed.push(Change {
                            path: f.path,
                            attributes,
                        });
                    }
                }
            }
        }
    }
    Ok(drift)
}

/// Hashes, in parallel, the items whose `need` is set.
fn hash_needed(
    items: &[Walked],
    need: &[bool],
    algorithm: HashAlgorithm,
) -> Vec<Option<Result<String, HashError>>> {
    items
        .par_iter()
        .zip(need.par_iter())
        .map(|(item, need)| need.then(|| hash_file(&item.abs, &item.stamp, algorithm)))
        .collect()
}

/// Manifest entries for walked items (sorted) and their contents, with
/// hard-link groups: paths sharing an inode (nlink > 1, not directories)
/// all name the first of them.
fn entries(items: &[Walked], contents: Vec<Option<String>>) -> Vec<Entry> {
    let mut groups: HashMap<(u64, u64), (usize, &ManifestPath)> = HashMap::new();
    for item in items {
        if item.kind != EntryKind::Dir && item.nlink > 1 {
            groups
                .entry((item.stamp.dev, item.stamp.ino))
                .or_insert((0, &item.path))
                .0 += 1;
        }
    }
    items
        .iter()
        .zip(contents)
        .map(|(item, content)| {
            let link = groups
                .get(&(item.stamp.dev, item.stamp.ino))
                .filter(|(members, _)| item.kind != EntryKind::Dir && *members > 1)
                .map(|(_, first)| (*first).clone());
            let is_file = item.kind == EntryKind::File;
            Entry {
                path: item.path.clone(),
                kind: item.kind,
                mode: item.mode,
                uid: item.uid,
                gid: item.gid,
                size: is_file.then_some(item.stamp.size),
                content: if is_file { content } else { None },
                target: item.target.clone(),
                device: item.device,
                link,
                xattrs: item.xattrs.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_vanishing_between_walk_and_hash_is_drift_not_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"hello").unwrap();
        let manifest = seal(dir.path(), &SealOptions::default()).unwrap();
        let walked = walk::walk(dir.path(), &ExcludeSet::default()).unwrap();
        std::fs::remove_file(dir.path().join("a")).unwrap();
        let drift = drift_walked(
            &manifest,
            &VerifyOptions::default(),
            walked,
            Default::default(),
        )
        .unwrap();
        assert!(!drift.is_clean());
        assert_eq!(drift.changed.len(), 1);
        let attr = &drift.changed[0].attributes;
        assert_eq!(attr.len(), 1);
        assert_eq!(attr[0].name, "content");
        assert_eq!(
            attr[0].found.as_deref(),
            Some("content unreadable: ENOENT (No such file or directory)")
        );
    }

    #[test]
    fn a_file_changing_between_walk_and_hash_fails_the_seal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"hello").unwrap();
        let walked = walk::walk(dir.path(), &ExcludeSet::default()).unwrap();
        std::fs::write(dir.path().join("a"), b"hello, world").unwrap();
        let need = vec![false, true];
        let hashes = hash_needed(&walked.items, &need, HashAlgorithm::Blake3);
        assert!(matches!(
            hashes[1],
            Some(Err(HashError::ChangedWhileReading))
        ));
    }
}
