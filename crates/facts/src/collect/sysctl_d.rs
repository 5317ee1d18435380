//! The sysctl configuration a reboot would apply.
//!
//! Files are found with systemd-sysctl's precedence (see
//! [`confdirs`](crate::collect::confdirs)), applied in basename order, later
//! assignments overriding earlier ones; `/etc/sysctl.conf` comes last, as
//! `sysctl --system` reads it, unless a `99-sysctl.conf` (Debian's link to
//! it) was already applied.

use crate::collect::confdirs::conf_files;
use crate::error::{FactError, ParseError};
use crate::model::{PersistedSysctl, PersistedValue, Source};
use crate::root::Root;

/// The sysctl.d directories, highest precedence first.
pub const DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// The legacy file read after the directories.
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// The normalised dotted form of a sysctl.d key, as systemd-sysctl reads it.
///
/// A leading `-` (ignore failures) is dropped. When the first separator is
/// `/` the key is a path: slashes become dots and dots become slashes
/// (`net/ipv4/conf/eth0.100/rp_filter` → `net.ipv4.conf.eth0/100.rp_filter`);
/// otherwise it is already dotted.
pub fn normalize_key(key: &str) -> String {
    let key = key.strip_prefix('-').unwrap_or(key).trim_start_matches('/');
    match key.find(['.', '/']) {
        Some(i) if key.as_bytes().get(i) == Some(&b'/') => key
            .chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                other => other,
            })
            .collect(),
        _ => key.to_string(),
    }
}

/// Parse one sysctl.d file into `(name, value)` pairs in file order.
///
/// Lines are `name = value`; blank lines and lines starting with `#` or `;`
/// are skipped. A line without `=`, or with an empty name, is an error
/// naming the file and line.
pub fn parse(text: &str, file: &str) -> Result<Vec<(String, PersistedValue)>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ParseError::new(file, i + 1, "expected `name = value`"));
        };
        let key = normalize_key(key.trim());
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(ParseError::new(file, i + 1, "bad sysctl name"));
        }
        out.push((
            key,
            PersistedValue {
                value: value.trim().to_string(),
                file: file.to_string(),
                line: i + 1,
            },
        ));
    }
    Ok(out)
}

/// Read the persisted sysctl configuration beneath `root`.
pub fn collect(root: &Root) -> Source<PersistedSysctl> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<PersistedSysctl, FactError> {
    let mut files = conf_files(root, DIRS, ".conf")?;
    let has_99 = files.iter().any(|f| f.ends_with("/99-sysctl.conf"));
    if !has_99 && root.metadata(SYSCTL_CONF).is_ok_and(|m| m.is_file()) {
        files.push(SYSCTL_CONF.to_string());
    }
    let mut out = PersistedSysctl::default();
    for file in files {
        let text = root.read_to_string(&file)?;
        let entries = parse(&text, &file).map_err(|e| FactError::malformed(&file, &e))?;
        out.entries.extend(entries);
        out.files.push(file);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// Debian 12's `/usr/lib/sysctl.d/99-protect-links.conf`.
    const PROTECT_LINKS: &str = "###################################################################\n# Protected links\n#\n# Protects against creating or following links under certain conditions\n# Debian kernels have both set to 1 (restricted)\n# See https://www.kernel.org/doc/Documentation/sysctl/fs.txt\nfs.protected_fifos = 1\nfs.protected_hardlinks = 1\nfs.protected_regular = 2\nfs.protected_symlinks = 1\n";

    #[test]
    fn parses_real_file_with_lines() {
        let e = parse(PROTECT_LINKS, "/usr/lib/sysctl.d/99-protect-links.conf").unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(e[2].0, "fs.protected_regular");
        assert_eq!(e[2].1.value, "2");
        assert_eq!(e[2].1.line, 9);
    }

    #[test]
    fn slash_keys_and_ignore_failure_marker_are_normalised() {
        let e = parse(
            "; comment\n-net.ipv4.conf.all.rp_filter=1\nnet/ipv4/conf/eth0.100/rp_filter = 2\nkernel.yama.ptrace_scope =  3 \nnet.ipv4.conf.*.accept_redirects = 0\n",
            "f",
        )
        .unwrap();
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "net.ipv4.conf.all.rp_filter",
                "net.ipv4.conf.eth0/100.rp_filter",
                "kernel.yama.ptrace_scope",
                "net.ipv4.conf.*.accept_redirects"
            ]
        );
        assert_eq!(e[2].1.value, "3");
    }

    #[test]
    fn line_without_equals_names_file_and_line() {
        let err = parse(
            "a.b = 1\n\nkernel.kptr_restrict 2\n",
            "/etc/sysctl.d/10-x.conf",
        )
        .unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.line),
            ("/etc/sysctl.d/10-x.conf", 3)
        );
        let err = parse(" = 2\n", "f").unwrap_err();
        assert_eq!(err.line, 1);
    }

    fn debian_tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["etc/sysctl.d", "usr/lib/sysctl.d", "run/sysctl.d"] {
            fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        fs::write(
            tmp.path().join("usr/lib/sysctl.d/50-pid-max.conf"),
            "kernel.pid_max = 4194304\n",
        )
        .unwrap();
        fs::write(
            tmp.path().join("usr/lib/sysctl.d/99-protect-links.conf"),
            PROTECT_LINKS,
        )
        .unwrap();
        tmp
    }

    #[test]
    fn later_file_overrides_and_debian_link_reads_sysctl_conf_once() {
        let tmp = debian_tree();
        fs::write(
            tmp.path().join("etc/sysctl.conf"),
            "fs.protected_regular = 1\n",
        )
        .unwrap();
        symlink(
            "../sysctl.conf",
            tmp.path().join("etc/sysctl.d/99-sysctl.conf"),
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let p = collect(&root).ok().cloned().unwrap();
        assert_eq!(
            p.files,
            [
                "/usr/lib/sysctl.d/50-pid-max.conf",
                "/usr/lib/sysctl.d/99-protect-links.conf",
                "/etc/sysctl.d/99-sysctl.conf"
            ]
        );
        let v = &p.entries["fs.protected_regular"];
        assert_eq!(
            (v.value.as_str(), v.file.as_str(), v.line),
            ("1", "/etc/sysctl.d/99-sysctl.conf", 1)
        );
        assert_eq!(p.entries["kernel.pid_max"].value, "4194304");
    }

    #[test]
    fn sysctl_conf_is_applied_last_without_the_link() {
        let tmp = debian_tree();
        fs::write(
            tmp.path().join("etc/sysctl.conf"),
            "kernel.pid_max = 32768\n",
        )
        .unwrap();
        fs::write(
            tmp.path().join("run/sysctl.d/zz.conf"),
            "kernel.pid_max = 65536\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let p = collect(&root).ok().cloned().unwrap();
        assert_eq!(p.files.last().unwrap(), SYSCTL_CONF);
        assert_eq!(p.entries["kernel.pid_max"].value, "32768");
    }

    #[test]
    fn etc_file_masks_vendor_file_of_same_name() {
        let tmp = debian_tree();
        symlink(
            "/dev/null",
            tmp.path().join("etc/sysctl.d/99-protect-links.conf"),
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let p = collect(&root).ok().cloned().unwrap();
        assert_eq!(p.files, ["/usr/lib/sysctl.d/50-pid-max.conf"]);
        assert!(!p.entries.contains_key("fs.protected_regular"));
    }

    #[test]
    fn malformed_file_makes_the_source_an_error_naming_file_and_line() {
        let tmp = debian_tree();
        fs::write(
            tmp.path().join("etc/sysctl.d/60-bad.conf"),
            "# x\nkernel.kptr_restrict\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
        assert_eq!(err.path, "/etc/sysctl.d/60-bad.conf");
        assert!(err.message.contains("/etc/sysctl.d/60-bad.conf:2"), "{err}");
    }
}
