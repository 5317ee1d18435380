//! sshd's effective configuration, resolved like sshd reads it: the main
//! file, `Include`s expanded in place (nested, sorted glob matches), the
//! first value of a keyword wins, and `Match` blocks are left out.

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{Source, Sshd, SshdValue};
use crate::root::{Root, join};

/// The main configuration file.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";
/// Where relative `Include` patterns are anchored.
const SSH_DIR: &str = "/etc/ssh";
/// Deepest `Include` nesting followed (a guard against loops).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// One `Keyword value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The keyword, lower-cased.
    pub keyword: String,
    /// The value as written (trailing comment and whitespace removed).
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

/// Parse sshd_config text into its directives in order (`key value` or
/// `key=value`; `#` comments and blank lines skipped). A keyword without a
/// value is an error naming `file:line`.
pub fn parse(text: &str, file: &str) -> Result<Vec<Directive>, ParseError> {
    let mut directives = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key_end = line
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(line.len());
        let (keyword, rest) = line.split_at(key_end);
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
        let value = strip_comment(rest).trim_end();
        if keyword.is_empty() {
            return Err(ParseError::new(file, index + 1, "missing keyword"));
        }
        if value.is_empty() {
            return Err(ParseError::new(
                file,
                index + 1,
                format!("missing value for {keyword}"),
            ));
        }
        directives.push(Directive {
            keyword: keyword.to_ascii_lowercase(),
            value: value.to_string(),
            line: index + 1,
        });
    }
    Ok(directives)
}

/// Cut a trailing `# comment` that starts a word outside double quotes.
fn strip_comment(value: &str) -> &str {
    let mut quoted = false;
    let mut word_start = true;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if word_start && !quoted => return value.get(..i).unwrap_or(value),
            _ => {}
        }
        word_start = c.is_whitespace();
    }
    value
}

/// Shell-style match of an Include glob component: a leading `.` in `name`
/// is only matched literally, as glob(3) does.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    (!name.starts_with('.') || pattern.starts_with('.')) && crate::text::glob_match(pattern, name)
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Expand an `Include` pattern to existing paths inside the root, sorted.
fn expand(root: &Root, pattern: &str) -> Result<Vec<String>, FactError> {
    let absolute = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        join(SSH_DIR, pattern)
    };
    let mut candidates = vec![String::new()];
    for part in absolute.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for dir in &candidates {
            if has_wildcard(part) {
                let listing = if dir.is_empty() { "/" } else { dir.as_str() };
                let names = match root.read_dir(listing) {
                    Ok(names) => names,
                    Err(e) if e.kind == FactErrorKind::PermissionDenied => return Err(e),
                    Err(_) => continue,
                };
                next.extend(
                    names
                        .iter()
                        .filter(|n| glob_match(part, n))
                        .map(|n| format!("{dir}/{n}")),
                );
            } else {
                next.push(format!("{dir}/{part}"));
            }
        }
        candidates = next;
    }
    let mut found: Vec<String> = candidates
        .into_iter()
        .filter(|p| !p.is_empty() && root.metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    found.sort();
    Ok(found)
}

fn read_config(root: &Root, path: &str, depth: usize, sshd: &mut Sshd) -> Result<(), FactError> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(FactError::new(
            FactErrorKind::Malformed,
            path,
            format!("Include nested deeper than {MAX_INCLUDE_DEPTH} files (a loop?)"),
        ));
    }
    let text = root.read_to_string(path)?;
    let directives = parse(&text, path).map_err(|e| FactError::malformed(path, &e))?;
    sshd.files.push(path.to_string());
    let mut in_match = false;
    for d in directives {
        match d.keyword.as_str() {
            // `Match all` applies to every connection: back to global scope.
            "match" => in_match = !d.value.eq_ignore_ascii_case("all"),
            "include" if in_match => {}
            "include" => {
                for pattern in d.value.split_whitespace() {
                    for file in expand(root, pattern)? {
                        read_config(root, &file, depth + 1, sshd)?;
                    }
                }
            }
            _ if in_match => {}
            _ => {
                sshd.settings.entry(d.keyword).or_insert(SshdValue {
                    value: d.value,
                    file: path.to_string(),
                    line: d.line,
                });
            }
        }
    }
    Ok(())
}

/// Read sshd's effective global configuration beneath the root.
pub fn collect(root: &Root) -> Source<Sshd> {
    let mut sshd = Sshd::default();
    match read_config(root, SSHD_CONFIG, 0, &mut sshd) {
        Ok(()) => Source::Ok(sshd),
        Err(e) if e.kind == FactErrorKind::NotPresent && e.path == SSHD_CONFIG => Source::Error(
            FactError::new(FactErrorKind::NotPresent, SSHD_CONFIG, "sshd not installed"),
        ),
        Err(e) => Source::Error(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    /// Debian 13's shipped sshd_config, comments trimmed.
    const DEBIAN: &str = "# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#PermitRootLogin prohibit-password
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
# Example of overriding settings on a per-user basis
#Match User anoncvs
#\tX11Forwarding no
";

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Root) {
        let tmp = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = tmp.path().join(path.trim_start_matches('/'));
            fs::create_dir_all(p.parent().unwrap_or(Path::new("/"))).unwrap();
            fs::write(p, text).unwrap();
        }
        let root = Root::open(tmp.path()).unwrap();
        (tmp, root)
    }

    #[test]
    fn sshd_parses_debian_config() {
        let d = parse(DEBIAN, SSHD_CONFIG).unwrap();
        let keys: Vec<&str> = d.iter().map(|d| d.keyword.as_str()).collect();
        assert_eq!(
            keys,
            [
                "include",
                "kbdinteractiveauthentication",
                "usepam",
                "x11forwarding",
                "printmotd",
                "acceptenv",
                "subsystem"
            ]
        );
        assert_eq!(d[0].line, 4);
        assert_eq!(d[6].value, "sftp\t/usr/lib/openssh/sftp-server");
    }

    #[test]
    fn sshd_accepts_equals_and_strips_trailing_comment() {
        let d = parse(
            "PermitRootLogin=no\nPort = 2222 # admin\nBanner \"/etc/a #b\"\n",
            "f",
        )
        .unwrap();
        assert_eq!(
            (d[0].keyword.as_str(), d[0].value.as_str()),
            ("permitrootlogin", "no")
        );
        assert_eq!(d[1].value, "2222");
        assert_eq!(d[2].value, "\"/etc/a #b\"");
    }

    #[test]
    fn sshd_keyword_without_value_names_file_and_line() {
        let err = parse("Port 22\n\nPermitRootLogin\n", "/etc/ssh/sshd_config").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/etc/ssh/sshd_config", 3));
        let err = parse("=yes\n", "x").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn sshd_first_value_wins_across_includes() {
        let (_t, root) = tree(&[
            (
                SSHD_CONFIG,
                "Include sshd_config.d/*.conf\nPermitRootLogin yes\nPasswordAuthentication yes\n",
            ),
            (
                "/etc/ssh/sshd_config.d/50-cloud.conf",
                "PasswordAuthentication no\n",
            ),
            (
                "/etc/ssh/sshd_config.d/10-hardening.conf",
                "permitrootlogin no\n",
            ),
            ("/etc/ssh/sshd_config.d/.hidden.conf", "X11Forwarding yes\n"),
            ("/etc/ssh/sshd_config.d/README", "X11Forwarding yes\n"),
        ]);
        let sshd = collect(&root).ok().unwrap().clone();
        assert_eq!(
            sshd.files,
            [
                SSHD_CONFIG,
                "/etc/ssh/sshd_config.d/10-hardening.conf",
                "/etc/ssh/sshd_config.d/50-cloud.conf"
            ]
        );
        let root_login = &sshd.settings["permitrootlogin"];
        assert_eq!(root_login.value, "no");
        assert_eq!(root_login.file, "/etc/ssh/sshd_config.d/10-hardening.conf");
        assert_eq!(root_login.line, 1);
        assert_eq!(sshd.settings["passwordauthentication"].value, "no");
        assert!(!sshd.settings.contains_key("x11forwarding"));
    }

    #[test]
    fn sshd_match_block_values_are_not_global() {
        let (_t, root) = tree(&[
            (
                SSHD_CONFIG,
                "Port 22\nMatch User backup\n  PasswordAuthentication yes\n  Include /etc/ssh/m.conf\nMatch all\nX11Forwarding no\n",
            ),
            ("/etc/ssh/m.conf", "PermitRootLogin yes\n"),
        ]);
        let sshd = collect(&root).ok().unwrap().clone();
        assert!(!sshd.settings.contains_key("passwordauthentication"));
        assert!(!sshd.settings.contains_key("permitrootlogin"));
        assert_eq!(sshd.files, [SSHD_CONFIG]);
        assert_eq!(sshd.settings["x11forwarding"].value, "no");
    }

    #[test]
    fn sshd_match_in_included_file_ends_with_that_file() {
        let (_t, root) = tree(&[
            (SSHD_CONFIG, "Include /etc/ssh/a.conf\nPermitRootLogin no\n"),
            (
                "/etc/ssh/a.conf",
                "Match Group admins\nPermitRootLogin yes\n",
            ),
        ]);
        let sshd = collect(&root).ok().unwrap().clone();
        assert_eq!(sshd.settings["permitrootlogin"].value, "no");
    }

    #[test]
    fn sshd_include_loop_is_an_error_not_a_hang() {
        let (_t, root) = tree(&[(SSHD_CONFIG, "Include /etc/ssh/sshd_config\n")]);
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
        assert!(err.message.contains("16"), "{err}");
    }

    #[test]
    fn sshd_absent_means_not_installed() {
        let (_t, root) = tree(&[]);
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::NotPresent);
        assert_eq!(err.message, "sshd not installed");
    }

    #[test]
    fn sshd_include_expands_several_patterns_and_directory_globs() {
        let (_t, root) = tree(&[
            (
                SSHD_CONFIG,
                "Include /etc/ssh/none/*.conf /etc/ssh/d?/x.conf\n",
            ),
            ("/etc/ssh/d1/x.conf", "Port 1\n"),
            ("/etc/ssh/d2/x.conf", "Port 2\n"),
        ]);
        let sshd = collect(&root).ok().unwrap().clone();
        assert_eq!(sshd.settings["port"].value, "1");
        assert_eq!(sshd.files.len(), 3);
    }

    #[test]
    fn sshd_malformed_include_reports_included_file() {
        let (_t, root) = tree(&[
            (SSHD_CONFIG, "Include /etc/ssh/a.conf\n"),
            ("/etc/ssh/a.conf", "\nBanner\n"),
        ]);
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
        assert!(err.message.starts_with("/etc/ssh/a.conf:2:"), "{err}");
    }

    #[test]
    fn glob_matches_star_and_question_mark() {
        assert!(glob_match("*.conf", "50-cloud-init.conf"));
        assert!(glob_match("*", "a"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(glob_match("d?", "d1"));
        assert!(glob_match("**x", "x"));
        assert!(!glob_match("*.conf", "a.conf.bak"));
        assert!(!glob_match("d?", "d"));
        assert!(!glob_match("*.conf", ".hidden.conf"));
        assert!(glob_match(".*", ".hidden"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "a"));
    }
}
