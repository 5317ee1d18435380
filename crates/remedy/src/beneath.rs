//! File operations beneath a root directory that never leave it: every
//! path is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`
//! from the root's descriptor, so a symbolic link anywhere on the way (a
//! planted drop-in, a symlinked directory) is refused, never followed.
//! Files are replaced atomically: temp file in the same directory, fsync,
//! rename, fsync the directory.

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// A file operation that failed, with the path beneath the root.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot {action}: {reason}")]
pub struct FsError {
    /// Path beneath the root.
    pub path: String,
    /// What was being done.
    pub action: &'static str,
    /// Why, in words (symbolic links and escapes named plainly).
    pub reason: String,
    /// Whether the cause is that something does not exist.
    pub missing: bool,
}

fn fs_error(path: &str, action: &'static str, errno: Errno) -> FsError {
    let reason = match errno {
        Errno::LOOP => "a symbolic link is in the way; refusing to follow it".to_string(),
        Errno::XDEV => "the path leads outside the root; refusing".to_string(),
        Errno::NOSPC => "no space left on the file system".to_string(),
        Errno::ROFS => "the file system is read-only".to_string(),
        other => std::io::Error::from(other).to_string(),
    };
    FsError {
        path: path.to_string(),
        action,
        reason,
        missing: errno == Errno::NOENT,
    }
}

fn io_error(path: &str, action: &'static str, err: std::io::Error) -> FsError {
    FsError {
        path: path.to_string(),
        action,
        missing: err.kind() == std::io::ErrorKind::NotFound,
        reason: err.to_string(),
    }
}

/// What is at a path beneath the root (links not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Nothing.
    Absent,
    /// A regular file.
    File {
        /// Contents.
        bytes: Vec<u8>,
        /// Permission bits.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// A symbolic link.
    Symlink {
        /// Its target, unresolved.
        target: String,
    },
    /// Anything else (directory, device node, …): its mode and owner.
    Other {
        /// Permission bits.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
}

/// A root directory, opened once; all paths are resolved beneath it.
#[derive(Debug)]
pub struct RootDir {
    path: PathBuf,
    fd: OwnedFd,
}

const BENEATH: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_SYMLINKS);

/// `/a/b/c` → (`a/b`, `c`); rejects empty, `.` and `..` components.
fn split(path: &str) -> Result<(String, String), FsError> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let bad = |reason: &str| FsError {
        path: path.to_string(),
        action: "resolve",
        reason: reason.to_string(),
        missing: false,
    };
    if parts
        .iter()
        .any(|p| *p == "." || *p == ".." || p.contains('\0'))
    {
        return Err(bad("`.`, `..` and NUL are not allowed in managed paths"));
    }
    let Some((name, dirs)) = parts.split_last() else {
        return Err(bad("empty path"));
    };
    Ok((dirs.join("/"), name.to_string()))
}

impl RootDir {
    /// Open `path` as the root.
    pub fn open(path: &Path) -> Result<RootDir, FsError> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| fs_error(&path.display().to_string(), "open the root", e))?;
        Ok(RootDir {
            path: path.to_path_buf(),
            fd,
        })
    }

    /// The root's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_dir(&self, rel: &str, shown: &str) -> Result<OwnedFd, FsError> {
        let rel = if rel.is_empty() { "." } else { rel };
        rustix::fs::openat2(
            &self.fd,
            rel,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
            BENEATH,
        )
        .map_err(|e| fs_error(shown, "open the directory", e))
    }

    /// The parent directory of `path`, and the final name.
    fn parent(&self, path: &str) -> Result<(OwnedFd, String), FsError> {
        let (dir, name) = split(path)?;
        Ok((self.open_dir(&dir, path)?, name))
    }

    /// The directories above `path` that do not exist yet, outermost first.
    /// Fails if one of them exists but is not a directory or is a link.
    pub fn missing_dirs(&self, path: &str) -> Result<Vec<String>, FsError> {
        let (dir, _) = split(path)?;
        let mut missing = Vec::new();
        let mut prefix = String::new();
        for part in dir.split('/').filter(|p| !p.is_empty()) {
            prefix = if prefix.is_empty() {
                part.to_string()
            } else {
                format!("{prefix}/{part}")
            };
            if !missing.is_empty() {
                missing.push(format!("/{prefix}"));
                continue;
            }
            match self.open_dir(&prefix, &format!("/{prefix}")) {
                Ok(_) => {}
                Err(e) if e.missing => {
                    missing.push(format!("/{prefix}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(missing)
    }

    /// Create `dir` (its parent must exist), mode 0755.
    pub fn create_dir(&self, dir: &str) -> Result<(), FsError> {
        let (parent, name) = self.parent(dir)?;
        match rustix::fs::mkdirat(&parent, name.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(fs_error(dir, "create the directory", e)),
        }
        rustix::fs::fsync(&parent).map_err(|e| fs_error(dir, "sync the directory", e))
    }

    /// Remove the empty directory `dir`; a missing or non-empty one is left.
    pub fn remove_dir(&self, dir: &str) -> Result<(), FsError> {
        let (parent, name) = self.parent(dir)?;
        match rustix::fs::unlinkat(&parent, name.as_str(), AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) | Err(Errno::NOTEMPTY) => Ok(()),
            Err(e) => Err(fs_error(dir, "remove the directory", e)),
        }
    }

    /// What is at `path` now.
    pub fn node(&self, path: &str) -> Result<Node, FsError> {
        let (parent, name) = match self.parent(path) {
            Ok(p) => p,
            Err(e) if e.missing => {
                return Ok(Node::Absent);
            }
            Err(e) => return Err(e),
        };
        let stat = match rustix::fs::statat(&parent, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(s) => s,
            Err(Errno::NOENT) => return Ok(Node::Absent),
            Err(e) => return Err(fs_error(path, "inspect", e)),
        };
        let (mode, uid, gid) = (stat.st_mode & 0o7777, stat.st_uid, stat.st_gid);
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(&parent, name.as_str(), Vec::new())
                    .map_err(|e| fs_error(path, "read the link", e))?;
                Ok(Node::Symlink {
                    target: target.to_string_lossy().into_owned(),
                })
            }
            FileType::RegularFile => {
                let fd = rustix::fs::openat2(
                    &parent,
                    name.as_str(),
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                    BENEATH,
                )
                .map_err(|e| fs_error(path, "open", e))?;
                let mut bytes = Vec::new();
                File::from(fd)
                    .read_to_end(&mut bytes)
                    .map_err(|e| io_error(path, "read", e))?;
                Ok(Node::File {
                    bytes,
                    mode,
                    uid,
                    gid,
                })
            }
            _ => Ok(Node::Other { mode, uid, gid }),
        }
    }

    /// A temp name beside `name` in its directory.
    fn temp_name(name: &str) -> String {
        format!(".{name}.tractorsec-{}", std::process::id())
    }

    /// Replace `path` with a regular file atomically (temp file, fsync,
    /// rename, fsync the directory). The temp file is removed on failure.
    pub fn put_file(
        &self,
        path: &str,
        bytes: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(), FsError> {
        let (parent, name) = self.parent(path)?;
        let temp = Self::temp_name(&name);
        let _ = rustix::fs::unlinkat(&parent, temp.as_str(), AtFlags::empty());
        let result = (|| {
            let fd = rustix::fs::openat2(
                &parent,
                temp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
                BENEATH,
            )
            .map_err(|e| fs_error(path, "create a temporary file", e))?;
            rustix::fs::fchown(
                &fd,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )
            .map_err(|e| fs_error(path, "set the owner", e))?;
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))
                .map_err(|e| fs_error(path, "set the mode", e))?;
            let mut file = File::from(fd);
            file.write_all(bytes)
                .and_then(|_| file.sync_all())
                .map_err(|e| io_error(path, "write", e))?;
            rustix::fs::renameat(&parent, temp.as_str(), &parent, name.as_str())
                .map_err(|e| fs_error(path, "rename into place", e))
        })();
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&parent, temp.as_str(), AtFlags::empty());
            return result;
        }
        rustix::fs::fsync(&parent).map_err(|e| fs_error(path, "sync the directory", e))
    }

    /// Replace `path` with a symbolic link to `target` atomically.
    pub fn put_symlink(&self, path: &str, target: &str) -> Result<(), FsError> {
        let (parent, name) = self.parent(path)?;
        let temp = Self::temp_name(&name);
        let _ = rustix::fs::unlinkat(&parent, temp.as_str(), AtFlags::empty());
        rustix::fs::symlinkat(target, &parent, temp.as_str())
            .map_err(|e| fs_error(path, "create the link", e))?;
        if let Err(e) = rustix::fs::renameat(&parent, temp.as_str(), &parent, name.as_str()) {
            let _ = rustix::fs::unlinkat(&parent, temp.as_str(), AtFlags::empty());
            return Err(fs_error(path, "rename the link into place", e));
        }
        rustix::fs::fsync(&parent).map_err(|e| fs_error(path, "sync the directory", e))
    }

    /// Remove the file or link at `path` (nothing if absent, or if its
    /// directory is).
    pub fn remove(&self, path: &str) -> Result<(), FsError> {
        let (parent, name) = match self.parent(path) {
            Ok(p) => p,
            Err(e) if e.missing => return Ok(()),
            Err(e) => return Err(e),
        };
        match rustix::fs::unlinkat(&parent, name.as_str(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(fs_error(path, "remove", e)),
        }
        rustix::fs::fsync(&parent).map_err(|e| fs_error(path, "sync the directory", e))
    }

    /// Write `bytes` into the existing file at `path` in place (kernel
    /// tunables under `/proc/sys` cannot be renamed over).
    pub fn write_in_place(&self, path: &str, bytes: &[u8]) -> Result<(), FsError> {
        let (dir, name) = split(path)?;
        let rel = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        let fd = rustix::fs::openat2(
            &self.fd,
            rel.as_str(),
            OFlags::WRONLY | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            BENEATH,
        )
        .map_err(|e| fs_error(path, "open for writing", e))?;
        let mut file = File::from(fd);
        file.write_all(bytes)
            .map_err(|e| io_error(path, "write", e))
    }

    /// chmod and chown the existing node at `path` (not a link).
    pub fn set_mode_owner(&self, path: &str, mode: u32, uid: u32, gid: u32) -> Result<(), FsError> {
        let (parent, name) = self.parent(path)?;
        if let Node::Symlink { .. } = self.node(path)? {
            return Err(fs_error(path, "change mode and owner", Errno::LOOP));
        }
        rustix::fs::chownat(
            &parent,
            name.as_str(),
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| fs_error(path, "change the owner", e))?;
        rustix::fs::chmodat(
            &parent,
            name.as_str(),
            Mode::from_raw_mode(mode),
            AtFlags::empty(),
        )
        .map_err(|e| fs_error(path, "change the mode", e))
    }

    /// Append `line` to the file at `path` (created 0600) and fsync it.
    pub fn append_synced(&self, path: &str, line: &str) -> Result<(), FsError> {
        let (parent, name) = self.parent(path)?;
        let fd = rustix::fs::openat2(
            &parent,
            name.as_str(),
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
            BENEATH,
        )
        .map_err(|e| fs_error(path, "open the journal", e))?;
        let mut file = File::from(fd);
        file.write_all(format!("{line}\n").as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| io_error(path, "write the journal", e))
    }

    /// Names in the directory `dir` (empty when it does not exist).
    pub fn list(&self, dir: &str) -> Result<Vec<String>, FsError> {
        let rel = dir.trim_start_matches('/');
        let fd = match self.open_dir(rel, dir) {
            Ok(fd) => fd,
            Err(e) if e.missing => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let mut names = Vec::new();
        let dir_handle = rustix::fs::Dir::read_from(&fd).map_err(|e| fs_error(dir, "list", e))?;
        for entry in dir_handle {
            let entry = entry.map_err(|e| fs_error(dir, "list", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != "." && name != ".." {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}
