//! Kernel security state: lockdown, active LSMs, module signature
//! enforcement, and whether this process runs as root.

use crate::error::{FactError, ParseError};
use crate::model::Source;
use crate::root::Root;

const LOCKDOWN: &str = "/sys/kernel/security/lockdown";
const LSM: &str = "/sys/kernel/security/lsm";
const SIG_ENFORCE: &str = "/sys/module/module/parameters/sig_enforce";

/// The selected lockdown mode: the bracketed word of
/// `none [integrity] confidentiality`. Text without one is an error.
pub fn parse_lockdown(text: &str, file: &str) -> Result<String, ParseError> {
    let mode = text
        .split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .map(|(m, _)| m.trim())
        .filter(|m| !m.is_empty() && !m.contains(char::is_whitespace));
    match mode {
        Some(m) => Ok(m.to_string()),
        None => Err(ParseError::new(file, 1, "no `[mode]` selected")),
    }
}

/// The active LSMs in load order, from a comma-separated list.
pub fn parse_lsm(text: &str, file: &str) -> Result<Vec<String>, ParseError> {
    let names: Vec<String> = text
        .trim()
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = names.iter().find(|n| n.contains(char::is_whitespace)) {
        return Err(ParseError::new(file, 1, format!("bad LSM name {bad:?}")));
    }
    Ok(names)
}

/// A boolean module parameter: `Y`/`N` (also `1`/`0`).
pub fn parse_sig_enforce(text: &str, file: &str) -> Result<bool, ParseError> {
    match text.trim() {
        "Y" | "y" | "1" => Ok(true),
        "N" | "n" | "0" => Ok(false),
        other => Err(ParseError::new(
            file,
            1,
            format!("expected Y or N, found {other:?}"),
        )),
    }
}

/// The effective uid from a `/proc/<pid>/status` text (second field of the
/// `Uid:` line).
pub fn parse_euid(text: &str, file: &str) -> Result<u32, ParseError> {
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("Uid:") {
            return rest
                .split_ascii_whitespace()
                .nth(1)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| {
                    ParseError::new(file, i + 1, "expected `Uid: real effective saved fs`")
                });
        }
    }
    Err(ParseError::new(file, 0, "no `Uid:` line"))
}

/// True when this process's effective uid is 0 (from `/proc/self/status`;
/// false when that cannot be read).
pub fn is_privileged() -> bool {
    let path = "/proc/self/status";
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| parse_euid(&t, path).ok())
        == Some(0)
}

/// Read the selected kernel lockdown mode (runtime roots only).
pub fn collect_lockdown(root: &Root) -> Source<String> {
    read_runtime(root, LOCKDOWN, parse_lockdown).into()
}

/// Read the active LSMs (runtime roots only).
pub fn collect_lsm(root: &Root) -> Source<Vec<String>> {
    read_runtime(root, LSM, parse_lsm).into()
}

/// Read `module.sig_enforce` (runtime roots only).
pub fn collect_sig_enforce(root: &Root) -> Source<bool> {
    read_runtime(root, SIG_ENFORCE, parse_sig_enforce).into()
}

fn read_runtime<T>(
    root: &Root,
    path: &str,
    parse: fn(&str, &str) -> Result<T, ParseError>,
) -> Result<T, FactError> {
    root.parse_runtime_file(path, parse)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::fs;

    #[test]
    fn lockdown_bracketed_word_is_the_mode() {
        assert_eq!(
            parse_lockdown("none [integrity] confidentiality\n", "l").unwrap(),
            "integrity"
        );
        assert_eq!(
            parse_lockdown("[none] integrity confidentiality\n", "l").unwrap(),
            "none"
        );
    }

    #[test]
    fn lockdown_without_brackets_names_file() {
        let err = parse_lockdown("none integrity\n", LOCKDOWN).unwrap_err();
        assert_eq!((err.file.as_str(), err.line), (LOCKDOWN, 1));
        assert!(parse_lockdown("[]", "l").is_err());
        assert!(parse_lockdown("[integ", "l").is_err());
    }

    #[test]
    fn lsm_list_keeps_load_order() {
        assert_eq!(
            parse_lsm("lockdown,capability,landlock,yama,apparmor,bpf\n", "l").unwrap(),
            [
                "lockdown",
                "capability",
                "landlock",
                "yama",
                "apparmor",
                "bpf"
            ]
        );
        assert!(parse_lsm("", "l").unwrap().is_empty());
        assert_eq!(parse_lsm("a b,c", LSM).unwrap_err().file, LSM);
    }

    #[test]
    fn sig_enforce_is_y_or_n() {
        assert!(parse_sig_enforce("Y\n", "s").unwrap());
        assert!(!parse_sig_enforce("N\n", "s").unwrap());
        assert_eq!(
            parse_sig_enforce("maybe", SIG_ENFORCE).unwrap_err().file,
            SIG_ENFORCE
        );
    }

    #[test]
    fn euid_is_the_second_uid_field() {
        let status = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        assert_eq!(parse_euid(status, "/proc/self/status").unwrap(), 0);
        let err = parse_euid("Name:\tx\nUid:\t1000\n", "/proc/self/status").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse_euid("Name: x\n", "s").is_err());
    }

    #[test]
    fn is_privileged_matches_proc_status() {
        let text = std::fs::read_to_string("/proc/self/status").unwrap();
        assert_eq!(is_privileged(), parse_euid(&text, "s").unwrap() == 0);
    }

    #[test]
    fn runtime_root_reads_securityfs() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::create_dir_all(tmp.path().join("sys/kernel/security")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(
            tmp.path().join("sys/kernel/security/lockdown"),
            "none integrity [confidentiality]\n",
        )
        .unwrap();
        fs::write(
            tmp.path().join("sys/kernel/security/lsm"),
            "capability,yama\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(collect_lockdown(&root).ok().unwrap(), "confidentiality");
        assert_eq!(collect_lsm(&root).ok().unwrap(), &["capability", "yama"]);
        assert_eq!(
            collect_sig_enforce(&root).get().unwrap_err().kind,
            FactErrorKind::NotPresent
        );
    }
}
