//! Host identity: hostname, machine id and os-release.

use crate::collect::cmdline::{ShellOpts, shell_assignments};
use crate::error::{FactError, ParseError};
use crate::model::{Host, Source};
use crate::root::Root;
use std::collections::BTreeMap;

/// Parse an os-release file into `KEY → value` (quotes and escapes removed).
///
/// Blank lines and `#` comments are skipped; any other line must be a
/// `KEY=value` assignment with a shell-style value.
pub fn parse(text: &str, file: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut vars = BTreeMap::new();
    shell_assignments(
        text,
        file,
        ShellOpts {
            expand: false,
            strict: true,
        },
        &mut vars,
    )?;
    Ok(vars)
}

/// The hostname in an `/etc/hostname`-style text: the first line that is
/// neither blank nor a comment, trimmed.
pub fn parse_hostname(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

/// Read the host identity beneath `root`.
pub fn collect(root: &Root) -> Source<Host> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Host, FactError> {
    let mut hostname = root
        .read_optional("/etc/hostname")?
        .as_deref()
        .and_then(parse_hostname);
    if hostname.is_none() && root.has_runtime() {
        hostname = root
            .read_optional("/proc/sys/kernel/hostname")?
            .as_deref()
            .and_then(parse_hostname);
    }
    let machine_id = root
        .read_optional("/etc/machine-id")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut os = BTreeMap::new();
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(text) = root.read_optional(path)? {
            os = parse(&text, path).map_err(|e| FactError::malformed(path, &e))?;
            break;
        }
    }
    Ok(Host {
        hostname,
        machine_id,
        os_id: os.get("ID").cloned(),
        os_version_id: os.get("VERSION_ID").cloned(),
        os_pretty_name: os.get("PRETTY_NAME").cloned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::fs;

    const DEBIAN: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

    #[test]
    fn os_release_quotes_are_removed() {
        let m = parse(DEBIAN, "/etc/os-release").unwrap();
        assert_eq!(m["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(m["VERSION_ID"], "12");
        assert_eq!(m["ID"], "debian");
        assert_eq!(m.len(), 9);
    }

    #[test]
    fn os_release_single_quotes_escapes_and_comments() {
        let text = "# comment\n\nNAME='Tractor OS'\nVARIANT=\"say \\\"hi\\\" \\$HOME\"\nID=tractor # trailing\n";
        let m = parse(text, "os-release").unwrap();
        assert_eq!(m["NAME"], "Tractor OS");
        assert_eq!(m["VARIANT"], "say \"hi\" $HOME");
        assert_eq!(m["ID"], "tractor");
    }

    #[test]
    fn os_release_line_without_assignment_names_file_and_line() {
        let err = parse("ID=debian\nthis is not an assignment\n", "/etc/os-release").unwrap_err();
        assert_eq!(err.file, "/etc/os-release");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn os_release_unterminated_quote_is_an_error() {
        let err = parse("ID=debian\nNAME=\"Debian\n", "os-release").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("os-release", 2));
        assert!(err.message.contains("unterminated"), "{err}");
    }

    #[test]
    fn hostname_skips_comments_and_blank_lines() {
        assert_eq!(
            parse_hostname("# set by image\n\n  vm \n"),
            Some("vm".into())
        );
        assert_eq!(parse_hostname("\n#only\n"), None);
    }

    #[test]
    fn collect_falls_back_to_usr_lib_os_release_and_proc_hostname() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::create_dir_all(tmp.path().join("usr/lib")).unwrap();
        fs::create_dir_all(tmp.path().join("proc/sys/kernel")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(tmp.path().join("proc/sys/kernel/hostname"), "node7\n").unwrap();
        fs::write(
            tmp.path().join("etc/machine-id"),
            "3d1219c7c4c5404aaa1f6d2a48adfda4\n",
        )
        .unwrap();
        fs::write(tmp.path().join("usr/lib/os-release"), DEBIAN).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let host = collect(&root).ok().cloned().unwrap();
        assert_eq!(host.hostname.as_deref(), Some("node7"));
        assert_eq!(
            host.machine_id.as_deref(),
            Some("3d1219c7c4c5404aaa1f6d2a48adfda4")
        );
        assert_eq!(host.os_id.as_deref(), Some("debian"));
        assert_eq!(host.os_version_id.as_deref(), Some("12"));
    }

    #[test]
    fn collect_reports_malformed_os_release() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::write(tmp.path().join("etc/os-release"), "ID=x\n??\n").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
        assert!(err.message.contains("/etc/os-release:2"), "{err}");
    }
}
