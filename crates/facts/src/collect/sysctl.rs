//! Live kernel parameters under `/proc/sys`.
//!
//! Every readable regular file is read once (no processes spawned). Names
//! follow `sysctl -a`: path separators become dots and a dot inside a path
//! component (a VLAN interface `eth0.100`) becomes a slash.

use crate::error::{FactError, ParseError};
use crate::model::{Source, Sysctl};
use crate::root::Root;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// The dotted sysctl name of a path relative to `/proc/sys`
/// (`net/ipv4/conf/eth0.100/rp_filter` → `net.ipv4.conf.eth0/100.rp_filter`).
pub fn key_for_path(rel: &str) -> String {
    rel.split('/')
        .filter(|c| !c.is_empty())
        .map(|c| c.replace('.', "/"))
        .collect::<Vec<_>>()
        .join(".")
}

/// A value as stored in the snapshot: trimmed, with every run of whitespace
/// (spaces, tabs, newlines) folded to one space.
pub fn normalize_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Parse `sysctl -a` output (`name = value` lines) into name → normalised
/// value; a multi-line value printed as repeated names is joined with spaces.
/// A non-blank line without `=` or with an empty name is an error.
pub fn parse(text: &str, file: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(ParseError::new(file, i + 1, "expected `name = value`"));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ParseError::new(file, i + 1, "bad sysctl name"));
        }
        let value = normalize_value(value);
        match values.get_mut(name) {
            Some(prev) if !value.is_empty() => {
                if !prev.is_empty() {
                    prev.push(' ');
                }
                prev.push_str(&value);
            }
            Some(_) => {}
            None => {
                values.insert(name.to_string(), value);
            }
        }
    }
    Ok(values)
}

/// Read every readable file under `/proc/sys` (runtime roots only).
pub fn collect(root: &Root) -> Source<Sysctl> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Sysctl, FactError> {
    let top = "/proc/sys";
    root.require_runtime(top)?;
    let base = root.resolve(top)?;
    let entries = fs::read_dir(&base).map_err(|e| FactError::io(top, &e))?;
    let mut out = Sysctl::default();
    let mut buf = Vec::with_capacity(8192);
    walk_entries(entries, "", &mut buf, &mut out);
    Ok(out)
}

fn walk_entries(entries: fs::ReadDir, prefix: &str, buf: &mut Vec<u8>, out: &mut Sysctl) {
    for entry in entries.flatten() {
        let name = entry.file_name();
        let component = name.to_string_lossy().replace('.', "/");
        let key = if prefix.is_empty() {
            component
        } else {
            format!("{prefix}.{component}")
        };
        let Ok(ft) = entry.file_type() else { continue };
        let path = entry.path();
        if ft.is_dir() {
            match fs::read_dir(&path) {
                Ok(sub) => walk_entries(sub, &key, buf, out),
                Err(e) => {
                    out.unreadable.insert(key, reason(&path, &e));
                }
            }
        } else if ft.is_file() {
            buf.clear();
            match fs::File::open(&path).and_then(|mut f| f.read_to_end(buf)) {
                Ok(_) => {
                    let value = match std::str::from_utf8(buf) {
                        Ok(s) => normalize_value(s),
                        Err(_) => normalize_value(&String::from_utf8_lossy(buf)),
                    };
                    out.values.insert(key, value);
                }
                Err(e) => {
                    out.unreadable.insert(key, reason(&path, &e));
                }
            }
        }
    }
}

/// Why a file could not be read; a permission error on a file without any
/// read bit is reported as write-only.
fn reason(path: &Path, err: &io::Error) -> String {
    use std::os::unix::fs::PermissionsExt;
    if err.kind() == io::ErrorKind::PermissionDenied
        && fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o444 == 0)
    {
        return "write-only".to_string();
    }
    let text = err.to_string();
    match text.split_once(" (os error") {
        Some((plain, _)) => plain.to_lowercase(),
        None => text,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn dot_inside_component_becomes_slash() {
        assert_eq!(
            key_for_path("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter"
        );
        assert_eq!(key_for_path("kernel/kptr_restrict"), "kernel.kptr_restrict");
    }

    #[test]
    fn whitespace_runs_and_tabs_fold_to_one_space() {
        // fs.file-nr and a multi-line value.
        assert_eq!(normalize_value("441\t0\t2466252\n"), "441 0 2466252");
        assert_eq!(normalize_value("  a \n  b\t\tc \n"), "a b c");
        assert_eq!(normalize_value("\n"), "");
    }

    #[test]
    fn sysctl_a_output_joins_repeated_names() {
        let text = "fs.file-nr = 441\t0\t2466252\nfs.pipe-keep = read 0\nfs.pipe-keep = copy 0\nkernel.domainname = (none)\nvm.empty = \n";
        let v = parse(text, "sysctl-a.txt").unwrap();
        assert_eq!(v["fs.file-nr"], "441 0 2466252");
        assert_eq!(v["fs.pipe-keep"], "read 0 copy 0");
        assert_eq!(v["kernel.domainname"], "(none)");
        assert_eq!(v["vm.empty"], "");
    }

    #[test]
    fn sysctl_a_line_without_equals_names_file_and_line() {
        let err = parse("a.b = 1\nsysctl: permission denied on key 'x'\n", "out").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("out", 2));
    }

    #[test]
    fn offline_root_has_no_live_sysctl() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            collect(&root).get().unwrap_err().kind,
            FactErrorKind::Offline
        );
    }

    #[test]
    fn captured_tree_is_walked_and_write_only_files_are_unreadable() {
        let tmp = tempfile::tempdir().unwrap();
        let sys = tmp.path().join("proc/sys");
        fs::create_dir_all(sys.join("net/ipv4/conf/eth0.100")).unwrap();
        fs::create_dir_all(sys.join("vm")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(sys.join("net/ipv4/conf/eth0.100/rp_filter"), "1\n").unwrap();
        fs::write(sys.join("fs_file_nr"), "441\t0\t2466252\n").unwrap();
        fs::write(sys.join("vm/drop_caches"), "").unwrap();
        fs::set_permissions(
            sys.join("vm/drop_caches"),
            fs::Permissions::from_mode(0o200),
        )
        .unwrap();
        std::os::unix::fs::symlink("fs_file_nr", sys.join("link")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let s = collect(&root).ok().cloned().unwrap();
        assert_eq!(s.values["net.ipv4.conf.eth0/100.rp_filter"], "1");
        assert_eq!(s.values["fs_file_nr"], "441 0 2466252");
        assert!(!s.values.contains_key("link"));
        // root can open a 0200 file on an ordinary filesystem; elsewhere it
        // must be reported as write-only.
        if let Some(why) = s.unreadable.get("vm.drop_caches") {
            assert_eq!(why, "write-only");
        } else {
            assert_eq!(s.values["vm.drop_caches"], "");
        }
    }
}
