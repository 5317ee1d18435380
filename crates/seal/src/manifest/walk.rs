//! The walk: `lstat` only, never following a symlink, never crossing into
//! another file system, never descending an excluded path. Directories of
//! one depth are listed in parallel; the result is sorted, so it does not
//! depend on the order of listing.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use super::entry::{DeviceNumber, EntryKind, SECURITY_XATTRS, hex};
use super::glob::ExcludeSet;
use super::hash::{FileStamp, errno_text};
use super::path::ManifestPath;

/// A directory still to list: its absolute path, its manifest path, and
/// the (dev, ino) of it and its ancestors.
type Pending = (PathBuf, ManifestPath, Vec<(u64, u64)>);

/// One path as the walk saw it: everything a manifest entry needs but the
/// content hash and link group, plus the stat fields that identify it.
#[derive(Debug, Clone)]
pub(crate) struct Walked {
    pub path: ManifestPath,
    pub abs: PathBuf,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub stamp: FileStamp,
    pub target: Option<Vec<u8>>,
    pub device: Option<DeviceNumber>,
    pub xattrs: BTreeMap<String, String>,
}

/// A path the walk could not fully read.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub path: ManifestPath,
    pub message: String,
}

/// What the walk found, sorted by path.
#[derive(Debug, Default)]
pub(crate) struct WalkOutput {
    pub items: Vec<Walked>,
    pub problems: Vec<Problem>,
    /// Directories whose entries could not be listed: what lies beneath
    /// them is unknown, not removed.
    pub unlisted: Vec<ManifestPath>,
    /// The wall-clock time the walk started, in ns since the epoch.
    pub started_ns: i64,
}

/// What listing one directory found.
#[derive(Default)]
struct Listed {
    items: Vec<Walked>,
    problems: Vec<Problem>,
    unlisted: Option<ManifestPath>,
    subdirs: Vec<Pending>,
}

/// Lists one directory: an `lstat` of each entry not excluded; the
/// subdirectories on the same file system to descend into next.
fn list_dir(
    (dir_abs, dir_path, ancestors): Pending,
    excludes: &ExcludeSet,
    root_dev: u64,
) -> Listed {
    let mut out = Listed::default();
    let listing = match fs::read_dir(&dir_abs) {
        Ok(listing) => listing,
        Err(err) => {
            out.problems.push(Problem {
                path: dir_path.clone(),
                message: format!("cannot list directory: {}", errno_text(&err)),
            });
            out.unlisted = Some(dir_path);
            return out;
        }
    };
    for dirent in listing {
        let dirent = match dirent {
            Ok(dirent) => dirent,
            Err(err) => {
                out.problems.push(Problem {
                    path: dir_path.clone(),
                    message: format!("cannot list directory: {}", errno_text(&err)),
                });
                out.unlisted = Some(dir_path.clone());
                break;
            }
        };
        let name = dirent.file_name();
        let path = dir_path.child(name.as_bytes());
        if excludes.excludes(path.as_bytes()) {
            continue;
        }
        // `DirEntry::metadata` is an lstat (fstatat with
        // AT_SYMLINK_NOFOLLOW): symlinks are not followed.
        let meta = match dirent.metadata() {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                out.problems.push(Problem {
                    path,
                    message: "vanished during the walk".into(),
                });
                continue;
            }
            Err(err) => {
                out.problems.push(Problem {
                    path,
                    message: format!("cannot stat: {}", errno_text(&err)),
                });
                continue;
            }
        };
        let item = describe(path, dirent.path(), &meta);
        if item.kind == EntryKind::Dir {
            let id = (meta.dev(), meta.ino());
            if meta.dev() != root_dev {
                // A mount point: recorded as seen, not descended.
            } else if ancestors.contains(&id) {
                out.problems.push(Problem {
                    path: item.path.clone(),
                    message: "directory loop: this directory is its own ancestor (bind mount?)"
                        .into(),
                });
            } else {
                let mut chain = ancestors.clone();
                chain.push(id);
                out.subdirs
                    .push((item.abs.clone(), item.path.clone(), chain));
            }
        }
        out.items.push(item);
    }
    out
}

/// Walks the tree at `root` (a directory, not followed if a symlink).
/// Fails only if the root itself cannot be read; everything else is a
/// [`Problem`] in the output.
pub(crate) fn walk(root: &Path, excludes: &ExcludeSet) -> Result<WalkOutput, (PathBuf, io::Error)> {
    let started_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let meta = fs::symlink_metadata(root).map_err(|e| (root.to_path_buf(), e))?;
    if !meta.file_type().is_dir() {
        return Err((
            root.to_path_buf(),
            io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory (a symlink to one is not followed)",
            ),
        ));
    }
    let root_dev = meta.dev();
    let mut out = WalkOutput {
        started_ns,
        ..WalkOutput::default()
    };
    out.items
        .push(describe(ManifestPath::root(), root.to_path_buf(), &meta));
    // Level by level: every directory of one depth is listed in parallel,
    // and their subdirectories make the next level. (No recursion, so no
    // stack depth limit; the result is sorted afterwards, so the order in
    // which directories are listed does not matter.)
    let mut level: Vec<Pending> = vec![(
        root.to_path_buf(),
        ManifestPath::root(),
        vec![(meta.dev(), meta.ino())],
    )];
    while !level.is_empty() {
        let listed: Vec<Listed> = level
            .into_par_iter()
            .map(|pending| list_dir(pending, excludes, root_dev))
            .collect();
        level = Vec::new();
        for listed in listed {
            out.items.extend(listed.items);
            out.problems.extend(listed.problems);
            out.unlisted.extend(listed.unlisted);
            level.extend(listed.subdirs);
        }
    }
    out.items.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    // Symlink targets and xattrs: one or more syscalls per entry that
    // need no order, so done on all cores.
    let details: Vec<Problem> = out
        .items
        .par_iter_mut()
        .flat_map_iter(fill_details)
        .collect();
    out.problems.extend(details);
    out.problems.sort_by(|a, b| a.path.cmp(&b.path));
    out.unlisted.sort();
    out.unlisted.dedup();
    Ok(out)
}

/// The walk's record of one path, from its `lstat`.
fn describe(path: ManifestPath, abs: PathBuf, meta: &Metadata) -> Walked {
    let ft = meta.file_type();
    let kind = if ft.is_file() {
        EntryKind::File
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_char_device() {
        EntryKind::Char
    } else if ft.is_block_device() {
        EntryKind::Block
    } else if ft.is_fifo() {
        EntryKind::Fifo
    } else {
        EntryKind::Socket
    };
    let device = matches!(kind, EntryKind::Char | EntryKind::Block).then(|| DeviceNumber {
        major: rustix::fs::major(meta.rdev()),
        minor: rustix::fs::minor(meta.rdev()),
    });
    Walked {
        path,
        abs,
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        nlink: meta.nlink(),
        stamp: FileStamp::of(meta),
        target: None,
        device,
        xattrs: BTreeMap::new(),
    }
}

/// Reads what `lstat` does not give: the symlink target and the security
/// xattrs. Returns the problems met.
fn fill_details(item: &mut Walked) -> Vec<Problem> {
    let mut problems = Vec::new();
    if item.kind == EntryKind::Symlink {
        match fs::read_link(&item.abs) {
            Ok(target) => item.target = Some(target.as_os_str().as_bytes().to_vec()),
            Err(err) => problems.push(Problem {
                path: item.path.clone(),
                message: format!("cannot read symlink: {}", errno_text(&err)),
            }),
        }
    }
    match security_xattrs(&item.abs) {
        Ok(xattrs) => item.xattrs = xattrs,
        Err((name, err)) => problems.push(Problem {
            path: item.path.clone(),
            message: format!("cannot read xattr {name}: {}", errno_text(&err)),
        }),
    }
    problems
}

/// The security xattrs of `path` (not following a symlink), hex-encoded.
/// Absent attributes (ENODATA) and file systems without xattrs (ENOTSUP)
/// give none.
fn security_xattrs(path: &Path) -> Result<BTreeMap<String, String>, (&'static str, io::Error)> {
    let mut found = BTreeMap::new();
    // One listing first: most files have no xattrs, and this is one
    // syscall instead of three.
    let names = match read_xattr(|buf| rustix::fs::llistxattr(path, buf)) {
        Ok(names) => names,
        Err(err) if is_absent(&err) => return Ok(found),
        Err(err) => return Err(("(list)", err)),
    };
    for name in SECURITY_XATTRS {
        if !names.split(|b| *b == 0).any(|n| n == name.as_bytes()) {
            continue;
        }
        match read_xattr(|buf| rustix::fs::lgetxattr(path, OsStr::new(name), buf)) {
            Ok(value) => {
                found.insert(name.to_string(), hex(&value));
            }
            Err(err) if is_absent(&err) => {}
            Err(err) => return Err((name, err)),
        }
    }
    Ok(found)
}

fn is_absent(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(61 | 95))
}

/// Calls an xattr syscall with a buffer that grows while the kernel says
/// it is too small (ERANGE), up to the kernel's limit (64 KiB). (An empty
/// buffer cannot be used to ask for the size: rustix answers 0.)
fn read_xattr(mut call: impl FnMut(&mut [u8]) -> rustix::io::Result<usize>) -> io::Result<Vec<u8>> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0u8; size];
        match call(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(rustix::io::Errno::RANGE) if size < (1 << 17) => size *= 4,
            Err(err) => return Err(err.into()),
        }
    }
}
