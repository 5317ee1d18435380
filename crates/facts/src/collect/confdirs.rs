//! Configuration directories with systemd/kmod precedence.
//!
//! `sysctl.d`, `modprobe.d`, `tmpfiles.d` and friends share one rule: the
//! files ending in a suffix are gathered from an ordered list of
//! directories; a basename found in an earlier directory hides the same
//! basename in later ones; a file that is a symlink to `/dev/null` or is
//! empty *masks* the name (it is not read, and hides later ones); the files
//! left are applied in basename order.

use crate::error::{FactError, FactErrorKind};
use crate::root::{Root, join};
use std::collections::BTreeMap;

/// The files ending in `suffix` found in `dirs` (inside-root directories,
/// highest precedence first), as inside-root paths in application order
/// (sorted by basename), masked names removed.
///
/// A missing directory is skipped; an unreadable one is an error. Entries
/// that are not regular files (after following symlinks beneath the root),
/// and hidden files, are ignored.
pub fn conf_files(root: &Root, dirs: &[&str], suffix: &str) -> Result<Vec<String>, FactError> {
    // basename -> Some(path) when it will be read, None when masked.
    let mut chosen: BTreeMap<String, Option<String>> = BTreeMap::new();
    for dir in dirs {
        for name in root.read_dir_optional(dir)? {
            if !name.ends_with(suffix) || name.starts_with('.') || chosen.contains_key(&name) {
                continue;
            }
            let path = join(dir, &name);
            match entry_state(root, &path) {
                Entry::File => {
                    chosen.insert(name, Some(path));
                }
                Entry::Masked => {
                    chosen.insert(name, None);
                }
                Entry::Ignored => {}
            }
        }
    }
    Ok(chosen.into_values().flatten().collect())
}

/// How one directory entry takes part.
enum Entry {
    /// A regular file to read.
    File,
    /// A symlink to `/dev/null` or an empty file: hides the name.
    Masked,
    /// Not a regular file (a directory, a dangling link): skipped.
    Ignored,
}

fn entry_state(root: &Root, path: &str) -> Entry {
    if let Ok(target) = root.read_link(path)
        && target == "/dev/null"
    {
        return Entry::Masked;
    }
    match root.metadata(path) {
        Ok(m) if m.is_file() && m.len() == 0 => Entry::Masked,
        Ok(m) if m.is_file() => Entry::File,
        // The live /dev/null reached through a relative link.
        Ok(m) if is_char_device(&m) => Entry::Masked,
        Ok(_) => Entry::Ignored,
        // An unreadable file still takes part: reading it reports the error.
        Err(e) if e.kind == FactErrorKind::PermissionDenied => Entry::File,
        Err(_) => Entry::Ignored,
    }
}

fn is_char_device(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_char_device()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["etc/sysctl.d", "run/sysctl.d", "usr/lib/sysctl.d"] {
            fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        tmp
    }

    const DIRS: &[&str] = &["/etc/sysctl.d", "/run/sysctl.d", "/usr/lib/sysctl.d"];

    #[test]
    fn earlier_directory_overrides_same_basename() {
        let tmp = tree();
        fs::write(tmp.path().join("etc/sysctl.d/10-a.conf"), "x=1\n").unwrap();
        fs::write(tmp.path().join("usr/lib/sysctl.d/10-a.conf"), "x=2\n").unwrap();
        fs::write(tmp.path().join("usr/lib/sysctl.d/05-b.conf"), "y=1\n").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            conf_files(&root, DIRS, ".conf").unwrap(),
            vec!["/usr/lib/sysctl.d/05-b.conf", "/etc/sysctl.d/10-a.conf"]
        );
    }

    #[test]
    fn dev_null_symlink_and_empty_file_mask_later_files() {
        let tmp = tree();
        symlink("/dev/null", tmp.path().join("etc/sysctl.d/10-a.conf")).unwrap();
        fs::write(tmp.path().join("run/sysctl.d/20-b.conf"), "").unwrap();
        fs::write(tmp.path().join("usr/lib/sysctl.d/10-a.conf"), "x=2\n").unwrap();
        fs::write(tmp.path().join("usr/lib/sysctl.d/20-b.conf"), "y=2\n").unwrap();
        fs::write(tmp.path().join("usr/lib/sysctl.d/30-c.conf"), "z=2\n").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            conf_files(&root, DIRS, ".conf").unwrap(),
            vec!["/usr/lib/sysctl.d/30-c.conf"]
        );
    }

    #[test]
    fn other_suffixes_directories_and_missing_dirs_are_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc/sysctl.d/sub.conf")).unwrap();
        fs::write(tmp.path().join("etc/sysctl.d/README"), "text").unwrap();
        fs::write(tmp.path().join("etc/sysctl.d/a.conf.dpkg-old"), "x=1").unwrap();
        fs::write(tmp.path().join("etc/sysctl.d/a.conf"), "x=1").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            conf_files(&root, DIRS, ".conf").unwrap(),
            vec!["/etc/sysctl.d/a.conf"]
        );
    }

    #[test]
    fn relative_symlink_is_followed_beneath_root() {
        let tmp = tree();
        fs::write(tmp.path().join("etc/sysctl.conf"), "x=1\n").unwrap();
        symlink(
            "../sysctl.conf",
            tmp.path().join("etc/sysctl.d/99-sysctl.conf"),
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            conf_files(&root, DIRS, ".conf").unwrap(),
            vec!["/etc/sysctl.d/99-sysctl.conf"]
        );
    }
}
