//! Live kernel parameters under `/proc/sys`.
//!
//! Every readable regular file is read once, by a few threads sharing a
//! queue of directories (no processes spawned); `vm.stat_refresh` is
//! skipped, as reading it flushes per-CPU counters and gives no value.
//! Names follow `sysctl -a`: path separators become dots and a dot inside a
//! path component (a VLAN interface `eth0.100`) becomes a slash.

use crate::error::{FactError, ParseError};
use crate::model::{Source, Sysctl};
use crate::root::Root;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

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
    fs::read_dir(&base).map_err(|e| FactError::io(top, &e))?;
    // Each value costs a few syscalls; walk and read on a few threads that
    // share a queue of directories.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_THREADS);
    let work = Work {
        state: Mutex::new(WorkState {
            dirs: vec![(String::new(), base)],
            busy: 0,
        }),
        ready: Condvar::new(),
    };
    let results: Vec<Found> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(|| worker(&work))).collect();
        let mut all = worker(&work);
        for h in helpers {
            all.extend(h.join().unwrap_or_default());
        }
        all
    });
    let mut out = Sysctl::default();
    for (key, result) in results {
        match result {
            Ok(value) => out.values.insert(key, value),
            Err(why) => out.unreadable.insert(key, why),
        };
    }
    Ok(out)
}

/// At most this many threads walk `/proc/sys`.
const MAX_THREADS: usize = 8;

/// Files skipped: reading them has a side effect and gives no value.
const SKIP: &[&str] = &["vm.stat_refresh"];

/// A name and its value, or why it could not be read.
type Found = (String, Result<String, String>);

/// Directories still to walk, shared by the threads.
struct Work {
    state: Mutex<WorkState>,
    ready: Condvar,
}

struct WorkState {
    /// (name prefix, host path) of directories not yet listed.
    dirs: Vec<(String, PathBuf)>,
    /// Threads listing a directory now (they may queue more).
    busy: usize,
}

fn lock(m: &Mutex<WorkState>) -> MutexGuard<'_, WorkState> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Take directories from the queue until it is empty and no thread can add
/// more; list each, queue its subdirectories and read its files.
fn worker(work: &Work) -> Vec<Found> {
    let mut found = Vec::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut subdirs = Vec::new();
    loop {
        let (prefix, dir) = {
            let mut st = lock(&work.state);
            loop {
                if let Some(next) = st.dirs.pop() {
                    st.busy += 1;
                    break next;
                }
                if st.busy == 0 {
                    work.ready.notify_all();
                    return found;
                }
                st = work.ready.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
        };
        walk_dir(&prefix, &dir, &mut subdirs, &mut buf, &mut found);
        let mut st = lock(&work.state);
        st.busy -= 1;
        let wake = !subdirs.is_empty() || st.busy == 0;
        st.dirs.append(&mut subdirs);
        drop(st);
        if wake {
            work.ready.notify_all();
        }
    }
}

/// List one directory: queue its subdirectories, read its regular files.
fn walk_dir(
    prefix: &str,
    dir: &Path,
    subdirs: &mut Vec<(String, PathBuf)>,
    buf: &mut Vec<u8>,
    found: &mut Vec<Found>,
) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            found.push((prefix.to_string(), Err(reason(dir, &e))));
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let component = name.to_string_lossy().replace('.', "/");
        let key = if prefix.is_empty() {
            component
        } else {
            format!("{prefix}.{component}")
        };
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            subdirs.push((key, entry.path()));
        } else if ft.is_file() && !SKIP.contains(&key.as_str()) {
            let path = entry.path();
            let result = match read_value(&path, buf) {
                Ok(len) => {
                    let bytes = buf.get(..len).unwrap_or_default();
                    Ok(match std::str::from_utf8(bytes) {
                        Ok(s) => normalize_value(s),
                        Err(_) => normalize_value(&String::from_utf8_lossy(bytes)),
                    })
                }
                Err(e) => Err(reason(&path, &e)),
            };
            found.push((key, result));
        }
    }
}

/// First read size; larger values grow the buffer.
const READ_CHUNK: usize = 4096;

/// Read a small file into `buf`, returning its length: open and read only
/// (no `fstat` size probe), and a read shorter than asked is taken as the
/// end, as procfs returns a whole value in one read.
fn read_value(path: &Path, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut file = fs::File::open(path)?;
    let mut len = 0;
    loop {
        if len >= buf.len() {
            let grown = buf.len().max(READ_CHUNK) * 2;
            buf.resize(grown, 0);
        }
        let Some(space) = buf.get_mut(len..) else {
            return Ok(len);
        };
        let n = match file.read(space) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        if n == 0 || len < buf.len() {
            return Ok(len);
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
