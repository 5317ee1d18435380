//! `/etc/ssh/sshd_config.d/60-tractorsec.conf`: `Key value` lines, sorted
//! (case-insensitively, as sshd reads keywords) and merged with the file's
//! earlier settings.
//!
//! sshd keeps the **first** value it reads for a keyword, so a drop-in wins
//! only when nothing read before it sets the keyword. Before it come: the
//! main `/etc/ssh/sshd_config` up to its `Include` of the drop-in directory,
//! and the drop-ins that sort before `60-tractorsec.conf`. The choice here:
//! the drop-in keeps its name, and what would be read first is edited so it
//! no longer sets a managed keyword:
//!
//! - no `Include` covering the drop-in in the global part of the main file
//!   (before any `Match`): `Include /etc/ssh/sshd_config.d/*.conf` is
//!   inserted at the top of the main file (nothing then comes before it);
//! - an `Include` after lines setting a managed keyword: those lines are
//!   commented out (`# tractorsec: overridden by …: <the line>`);
//! - a drop-in sorting before ours that sets a managed keyword (cloud-init's
//!   `50-cloud-init.conf` with `PasswordAuthentication yes`): that line is
//!   commented out the same way, in that file.
//!
//! Lines inside `Match` blocks are left alone: they override the global
//! value only for the connections they match, by the administrator's design.
//! Only the drop-in directory is looked at for earlier includes; an
//! `Include` of some other file before ours is not followed.

use std::collections::{BTreeMap, BTreeSet};

use super::{ReadRoot, RenderError, bad, check_line, host_file, insert_once, is_word, numbered};
use crate::{Change, Want};

/// The main configuration file.
pub(super) const MAIN: &str = "/etc/ssh/sshd_config";
/// The drop-in directory.
pub(super) const DIR: &str = "/etc/ssh/sshd_config.d";
/// tractorsec's drop-in's name.
const NAME: &str = "60-tractorsec.conf";
/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/ssh/sshd_config.d/60-tractorsec.conf";
/// What is inserted at the top of a main file that includes no drop-ins.
const INCLUDE: &str = "# Added by `tractorsec apply`: sshd keeps the first value it reads, so drop-ins come first.\n\
Include /etc/ssh/sshd_config.d/*.conf\n";
/// The pattern [`INCLUDE`] includes.
const INCLUDE_PATTERN: &str = "/etc/ssh/sshd_config.d/*.conf";
/// What a line setting a managed keyword before the drop-in becomes: this,
/// then the line.
pub(super) const OVERRIDDEN: &str =
    "# tractorsec: overridden by sshd_config.d/60-tractorsec.conf: ";

/// The drop-in for the sshd wants, and the edits that make it win.
pub(super) fn render(wants: &[Want], root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut wanted = BTreeMap::new();
    for want in wants {
        if let Want::Sshd { key, value } = want {
            if !is_word(key, "") {
                return Err(bad(PATH, "sshd keyword", key, "not a keyword"));
            }
            check_line(PATH, &format!("value of {key}"), value, true)?;
            if value.contains('#') {
                return Err(bad(PATH, "value of", value, "sshd reads # as a comment"));
            }
            if canonical(key) == "match" || canonical(key) == "include" {
                return Err(bad(PATH, "sshd keyword", key, "not a setting"));
            }
            let entry = (key.clone(), value.trim().to_owned());
            insert_once(&mut wanted, canonical(key), Setting(entry), PATH)?;
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut settings = match root.read(PATH) {
        Some(text) => parse(&text)?,
        None => BTreeMap::new(),
    };
    settings.extend(wanted);
    let body: String = settings
        .values()
        .map(|Setting((key, value))| format!("{key} {value}\n"))
        .collect();
    let mut changes = vec![super::owned_file(PATH, &body)];

    let managed: BTreeSet<String> = settings.into_keys().collect();
    let Some(main) = root.read(MAIN) else {
        return Err(RenderError::File {
            path: MAIN.into(),
            reason: format!(
                "missing, so sshd would not read {PATH}: create it with `Include {INCLUDE_PATTERN}` (manual step)"
            ),
        });
    };
    let patterns = match find_include(&main) {
        Some((line, patterns)) => {
            let edited = comment_out(&main, &managed, line);
            if edited != main {
                changes.push(host_file(root, MAIN, edited));
            }
            patterns
        }
        None => {
            changes.push(host_file(root, MAIN, format!("{INCLUDE}{main}")));
            vec![INCLUDE_PATTERN.to_owned()]
        }
    };
    let mut names = root.list(DIR);
    names.sort();
    for name in names.iter().filter(|name| name.as_str() < NAME) {
        let path = format!("{DIR}/{name}");
        if !patterns.iter().any(|p| glob_match(p, &path)) {
            continue;
        }
        let Some(text) = root.read(&path) else {
            continue;
        };
        let edited = comment_out(&text, &managed, usize::MAX);
        if edited != text {
            changes.push(host_file(root, &path, edited));
        }
    }
    Ok(changes)
}

/// A keyword as written, and its value; compared by value.
#[derive(Debug, Clone, PartialEq)]
struct Setting((String, String));

/// The keyword sshd files `key` under: lower case, compatibility aliases
/// resolved (sshd keeps the first of the two as well).
fn canonical(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    match lower.as_str() {
        "challengeresponseauthentication" | "skeyauthentication" => {
            "kbdinteractiveauthentication".into()
        }
        "dsaauthentication" => "pubkeyauthentication".into(),
        "pubkeyacceptedkeytypes" => "pubkeyacceptedalgorithms".into(),
        "hostbasedacceptedkeytypes" => "hostbasedacceptedalgorithms".into(),
        _ => lower,
    }
}

/// The keyword of a configuration line and the rest of it (None for a
/// comment or blank line). sshd splits the keyword off at whitespace or one
/// `=`.
fn keyword(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((&line[..end], rest))
}

/// The settings of an earlier version of the drop-in: canonical keyword →
/// (keyword as written, value).
fn parse(text: &str) -> Result<BTreeMap<String, Setting>, RenderError> {
    let mut settings = BTreeMap::new();
    for (n, line) in numbered(text) {
        let Some((key, value)) = keyword(line) else {
            continue;
        };
        let key_canonical = canonical(key);
        if value.is_empty() || key_canonical == "match" || key_canonical == "include" {
            return Err(RenderError::Line {
                path: PATH.into(),
                line: n,
                reason: "not a `Key value` line tractorsec writes".into(),
            });
        }
        settings.insert(key_canonical, Setting((key.to_owned(), value.to_owned())));
    }
    Ok(settings)
}

/// The 0-based line of the first `Include` in the global part of the main
/// file (before any `Match`) that covers tractorsec's drop-in, and its
/// patterns as absolute paths.
fn find_include(main: &str) -> Option<(usize, Vec<String>)> {
    for (i, line) in main.lines().enumerate() {
        let Some((key, rest)) = keyword(line) else {
            continue;
        };
        match canonical(key).as_str() {
            "match" => return None,
            "include" => {
                let patterns: Vec<String> = rest
                    .split_whitespace()
                    .map(|p| p.trim_matches('"'))
                    .map(|p| {
                        if p.starts_with('/') {
                            p.to_owned()
                        } else {
                            format!("/etc/ssh/{p}")
                        }
                    })
                    .collect();
                if patterns.iter().any(|p| glob_match(p, PATH)) {
                    return Some((i, patterns));
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with the lines before line `stop` (0-based) that set a `managed`
/// keyword in the global part (before any `Match`) commented out; every
/// other byte kept.
fn comment_out(text: &str, managed: &BTreeSet<String>, stop: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut global = true;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if let Some((key, _)) = keyword(line) {
            let key = canonical(key);
            if key == "match" {
                global = false;
            }
            if global && i < stop && managed.contains(&key) {
                out.push_str(OVERRIDDEN);
            }
        }
        out.push_str(line);
    }
    out
}

/// Whether glob `pattern` (`*`, `?`; neither matches `/`) matches `path`.
fn glob_match(pattern: &str, path: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), path.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == s[si] || (p[pi] == '?' && s[si] != '/')) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star.filter(|&(_, ss)| s[ss] != '/') {
            star = Some((sp, ss + 1));
            pi = sp + 1;
            si = ss + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Desired;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, paths, root};

    fn sshd(key: &str, value: &str) -> Want {
        Want::Sshd {
            key: key.into(),
            value: value.into(),
        }
    }

    /// Debian's main file: the Include at the top.
    const DEBIAN: &str = "# comment\n\nInclude /etc/ssh/sshd_config.d/*.conf\n\n\
        KbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\n\
        Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n";

    #[test]
    fn sorted_drop_in_and_no_edit_when_include_comes_first() {
        let wants = [
            sshd("PermitRootLogin", "no"),
            sshd("PasswordAuthentication", "no"),
            sshd("MaxAuthTries", "4"),
        ];
        let changes = render(&wants, &root(&[(MAIN, DEBIAN)])).unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!("{HEADER}MaxAuthTries 4\nPasswordAuthentication no\nPermitRootLogin no\n")
        );
    }

    #[test]
    fn inserts_include_at_top_when_missing() {
        let main = "Port 22\r\nPermitRootLogin yes\n#PasswordAuthentication yes\nMatch User x\n  Include /etc/ssh/sshd_config.d/*.conf\n";
        let changes = render(&[sshd("PermitRootLogin", "no")], &root(&[(MAIN, main)])).unwrap();
        assert_eq!(content(&changes, MAIN).unwrap(), format!("{INCLUDE}{main}"));
        let again = render(
            &[sshd("PermitRootLogin", "no")],
            &applied(root(&[(MAIN, main)]), &changes),
        )
        .unwrap();
        assert_eq!(
            paths(&again),
            [PATH],
            "second render leaves the main file alone"
        );
        assert_eq!(content(&again, PATH), content(&changes, PATH));
    }

    #[test]
    fn relative_include_counts() {
        let main = "include \"sshd_config.d/*.conf\"\nPermitRootLogin yes\n";
        let changes = render(&[sshd("PermitRootLogin", "no")], &root(&[(MAIN, main)])).unwrap();
        assert_eq!(paths(&changes), [PATH]);
    }

    #[test]
    fn comments_out_managed_keys_set_before_a_late_include() {
        let main = "Port 22\n  permitrootlogin=yes\nChallengeResponseAuthentication yes\nUsePAM yes\n\
                    Include sshd_config.d/*.conf\nPermitRootLogin prohibit-password\n";
        let wants = [
            sshd("PermitRootLogin", "no"),
            sshd("KbdInteractiveAuthentication", "no"),
        ];
        let changes = render(&wants, &root(&[(MAIN, main)])).unwrap();
        assert_eq!(
            content(&changes, MAIN).unwrap(),
            format!(
                "Port 22\n{OVERRIDDEN}  permitrootlogin=yes\n{OVERRIDDEN}ChallengeResponseAuthentication yes\n\
                 UsePAM yes\nInclude sshd_config.d/*.conf\nPermitRootLogin prohibit-password\n"
            )
        );
        let again = render(&wants, &applied(root(&[(MAIN, main)]), &changes)).unwrap();
        assert_eq!(paths(&again), [PATH]);
    }

    #[test]
    fn comments_out_managed_keys_in_earlier_drop_ins_only() {
        let cloud = "PasswordAuthentication yes\nMatch User ci\n  PasswordAuthentication yes\n";
        let r = root(&[
            (MAIN, DEBIAN),
            ("/etc/ssh/sshd_config.d/50-cloud-init.conf", cloud),
            (
                "/etc/ssh/sshd_config.d/50-other.txt",
                "PasswordAuthentication yes\n",
            ),
            (
                "/etc/ssh/sshd_config.d/99-late.conf",
                "PasswordAuthentication yes\n",
            ),
        ]);
        let mut changes = render(&[sshd("PasswordAuthentication", "no")], &r).unwrap();
        changes.sort_by_key(|c| paths(std::slice::from_ref(c)));
        assert_eq!(
            paths(&changes),
            ["/etc/ssh/sshd_config.d/50-cloud-init.conf", PATH]
        );
        assert_eq!(
            content(&changes, "/etc/ssh/sshd_config.d/50-cloud-init.conf").unwrap(),
            format!("{OVERRIDDEN}{cloud}")
        );
    }

    #[test]
    fn edited_host_files_keep_their_mode() {
        struct Modes(BTreeMap<String, String>);
        impl ReadRoot for Modes {
            fn read(&self, path: &str) -> Option<String> {
                self.0.read(path)
            }
            fn exists(&self, path: &str) -> bool {
                self.0.exists(path)
            }
            fn list(&self, dir: &str) -> Vec<String> {
                self.0.list(dir)
            }
            fn mode_owner(&self, _: &str) -> Option<(u32, u32, u32)> {
                Some((0o100600, 0, 0))
            }
        }
        let r = Modes(root(&[(MAIN, "PermitRootLogin yes\n")]));
        let changes = super::super::render(&[sshd("PermitRootLogin", "no")], &r, false).unwrap();
        let Change::Put {
            desired: Desired::File { mode, .. },
            ..
        } = &changes[0]
        else {
            panic!("{changes:?}")
        };
        assert_eq!(*mode, 0o600);
    }

    #[test]
    fn merges_earlier_drop_in() {
        let r = root(&[
            (MAIN, DEBIAN),
            (PATH, "# x\nMaxAuthTries 4\npermitrootlogin no\n"),
        ]);
        let changes = render(
            &[sshd("PermitRootLogin", "no"), sshd("X11Forwarding", "no")],
            &r,
        )
        .unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!("{HEADER}MaxAuthTries 4\nPermitRootLogin no\nX11Forwarding no\n")
        );
    }

    #[test]
    fn errors() {
        let err = render(&[sshd("PermitRootLogin", "no")], &root(&[])).unwrap_err();
        assert!(
            matches!(&err, RenderError::File { path, .. } if path == MAIN),
            "{err}"
        );
        let r = root(&[(MAIN, DEBIAN)]);
        for want in [
            sshd("PermitRootLogin", "no\nPermitRootLogin yes"),
            sshd("Permit Root", "no"),
            sshd("Match", "all"),
            sshd("Banner", ""),
        ] {
            let err = render(&[want], &r).unwrap_err();
            assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
        }
        let err = render(
            &[
                sshd("KbdInteractiveAuthentication", "no"),
                sshd("ChallengeResponseAuthentication", "yes"),
            ],
            &r,
        )
        .unwrap_err();
        assert!(matches!(err, RenderError::Conflict { .. }), "{err}");
    }

    #[test]
    fn globs() {
        assert!(glob_match("/etc/ssh/sshd_config.d/*.conf", PATH));
        assert!(glob_match("/etc/ssh/sshd_config.d/*", PATH));
        assert!(glob_match("/etc/ssh/sshd_config.d/6?-*.conf", PATH));
        assert!(!glob_match("/etc/ssh/*.conf", PATH));
        assert!(!glob_match("/etc/ssh/sshd_config.d/*.cfg", PATH));
        assert!(glob_match("/etc/ssh/*/60-tractorsec.conf", PATH));
    }
}
