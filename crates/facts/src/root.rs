use crate::error::{FactError, FactErrorKind, ParseError};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Maximum symlinks followed while resolving one path beneath a root.
const MAX_SYMLINK_HOPS: usize = 40;

/// Where facts are read from: the live `/`, a captured host tree, or an
/// offline image tree.
///
/// Every probe asks the `Root`; none opens a system path directly. Paths are
/// given as absolute paths *inside* the root (`/etc/passwd`). Beneath a
/// directory root, symlinks are resolved inside that directory: an absolute
/// target restarts at the root and `..` never climbs above it.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    live: bool,
    runtime: bool,
}

impl Root {
    /// The running system's `/`.
    pub fn live() -> Root {
        Root {
            dir: PathBuf::from("/"),
            live: true,
            runtime: true,
        }
    }

    /// A directory root. It has runtime state (`/proc`, `/sys`, `/dev`) when
    /// it holds a captured `proc/cmdline`; otherwise it is an offline image.
    pub fn open(dir: impl AsRef<Path>) -> io::Result<Root> {
        let dir = fs::canonicalize(dir.as_ref())?;
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        if dir == Path::new("/") {
            return Ok(Root::live());
        }
        let runtime = dir.join("proc/cmdline").is_file();
        Ok(Root {
            dir,
            live: false,
            runtime,
        })
    }

    /// The root directory on this machine.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True for the running system's `/`.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// True when `/proc`, `/sys` and `/dev` describe a running system.
    pub fn has_runtime(&self) -> bool {
        self.runtime
    }

    /// Refuse runtime sources on an offline root.
    pub fn require_runtime(&self, path: &str) -> Result<(), FactError> {
        if self.runtime {
            Ok(())
        } else {
            Err(FactError::offline(path))
        }
    }

    /// The host path of `path` inside the root, symlinks resolved beneath it.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, FactError> {
        if self.live {
            return Ok(PathBuf::from(path));
        }
        self.resolve_beneath(path, true)
    }

    /// Like [`Root::resolve`] but the last component is not followed
    /// (for `lstat` and `readlink`).
    pub fn resolve_nofollow(&self, path: &str) -> Result<PathBuf, FactError> {
        if self.live {
            return Ok(PathBuf::from(path));
        }
        self.resolve_beneath(path, false)
    }

    fn resolve_beneath(&self, path: &str, follow_last: bool) -> Result<PathBuf, FactError> {
        let mut pending: Vec<String> = components(path);
        pending.reverse();
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = self
                .dir
                .join(resolved.iter().collect::<PathBuf>())
                .join(&part);
            let is_last = pending.is_empty();
            let meta = fs::symlink_metadata(&candidate);
            match meta {
                Ok(m) if m.file_type().is_symlink() && (follow_last || !is_last) => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(FactError::new(
                            FactErrorKind::Unreadable,
                            path,
                            "too many levels of symbolic links",
                        ));
                    }
                    let target = fs::read_link(&candidate).map_err(|e| FactError::io(path, &e))?;
                    let target = target.to_string_lossy().into_owned();
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    let mut more = components(&target);
                    more.reverse();
                    pending.extend(more);
                }
                _ => resolved.push(part),
            }
        }
        Ok(self.dir.join(resolved.iter().collect::<PathBuf>()))
    }

    /// Read a whole file as UTF-8 (lossily).
    pub fn read_to_string(&self, path: &str) -> Result<String, FactError> {
        let bytes = self.read(path)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Read a whole file.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, FactError> {
        let host = self.resolve(path)?;
        fs::read(&host).map_err(|e| FactError::io(path, &e))
    }

    /// Read a file, `None` when it does not exist.
    pub fn read_optional(&self, path: &str) -> Result<Option<String>, FactError> {
        match self.read_to_string(path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind == FactErrorKind::NotPresent => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The sorted entry names of a directory.
    pub fn read_dir(&self, path: &str) -> Result<Vec<String>, FactError> {
        let host = self.resolve(path)?;
        let entries = fs::read_dir(&host).map_err(|e| FactError::io(path, &e))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The sorted entry names of a directory; empty when it does not exist.
    pub fn read_dir_optional(&self, path: &str) -> Result<Vec<String>, FactError> {
        match self.read_dir(path) {
            Err(e) if e.kind == FactErrorKind::NotPresent => Ok(Vec::new()),
            other => other,
        }
    }

    /// `lstat` of a path inside the root.
    pub fn symlink_metadata(&self, path: &str) -> Result<fs::Metadata, FactError> {
        let host = self.resolve_nofollow(path)?;
        fs::symlink_metadata(&host).map_err(|e| FactError::io(path, &e))
    }

    /// `stat` of a path inside the root (symlinks followed beneath it).
    pub fn metadata(&self, path: &str) -> Result<fs::Metadata, FactError> {
        let host = self.resolve(path)?;
        fs::metadata(&host).map_err(|e| FactError::io(path, &e))
    }

    /// The target of a symlink, as written in the link.
    pub fn read_link(&self, path: &str) -> Result<String, FactError> {
        let host = self.resolve_nofollow(path)?;
        fs::read_link(&host)
            .map(|t| t.to_string_lossy().into_owned())
            .map_err(|e| FactError::io(path, &e))
    }

    /// Read a text file and parse it; a parse failure is a malformed fact
    /// naming the file and line.
    pub fn parse_file<T>(
        &self,
        path: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, ParseError>,
    ) -> Result<T, FactError> {
        let text = self.read_to_string(path)?;
        parse(&text, path).map_err(|e| FactError::malformed(path, &e))
    }

    /// [`Root::parse_file`] of a runtime source (`/proc`, `/sys`): an
    /// offline root has none.
    pub fn parse_runtime_file<T>(
        &self,
        path: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, ParseError>,
    ) -> Result<T, FactError> {
        self.require_runtime(path)?;
        self.parse_file(path, parse)
    }

    /// True when the path exists (symlinks not followed).
    pub fn exists(&self, path: &str) -> bool {
        self.symlink_metadata(path).is_ok()
    }
}

/// Join an inside-root directory and a name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_symlink_stays_beneath_root() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::write(tmp.path().join("etc/real"), "inside").unwrap();
        symlink("/etc/real", tmp.path().join("etc/link")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(root.read_to_string("/etc/link").unwrap(), "inside");
    }

    #[test]
    fn dotdot_never_climbs_above_root() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::write(tmp.path().join("passwd"), "top").unwrap();
        symlink("../../../../passwd", tmp.path().join("etc/up")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(root.read_to_string("/etc/up").unwrap(), "top");
    }

    #[test]
    fn symlink_loop_is_an_error_not_a_hang() {
        let tmp = tempfile::tempdir().unwrap();
        symlink("/b", tmp.path().join("a")).unwrap();
        symlink("/a", tmp.path().join("b")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = root.read_to_string("/a").unwrap_err();
        assert!(err.message.contains("symbolic links"), "{err}");
    }

    #[test]
    fn directory_without_proc_is_offline() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert!(!root.has_runtime());
        assert_eq!(
            root.require_runtime("/proc/cmdline").unwrap_err().kind,
            FactErrorKind::Offline
        );
    }
}
