//! Rendering: the exact files (and live changes) that realise a list of
//! [`Want`]s beneath a root.
//!
//! Pure functions: the only input besides the wants is what a [`ReadRoot`]
//! returns for the root's current files, and the output is a sorted list of
//! [`Change`]s. The same wants over the same files always give the same
//! bytes, and rendering again over a root that already holds the output gives
//! the same content again (the managed files merge what they already hold).
//!
//! Each kind of file has its module; they share the conventions here:
//!
//! - files tractorsec owns (`60-tractorsec.*`) start with [`HEADER`], are
//!   rewritten whole, sorted, merged with the settings they already hold, and
//!   are always part of the output when a want targets them;
//! - files that belong to the host (`/etc/fstab`, `/etc/ssh/sshd_config`,
//!   `/etc/default/grub`, `/etc/kernel/cmdline`, another package's drop-in)
//!   are edited line by line, every other byte kept, and are part of the
//!   output only when their content changes; they keep their mode and
//!   owner when the reader knows them ([`ReadRoot::mode_owner`]).

mod audit;
mod cmdline;
mod fstab;
mod journald;
mod modprobe;
mod sshd;
mod sysctl;
mod udev;
mod units;

use std::collections::BTreeMap;

use crate::{Change, Desired, Want};

/// Reads a file beneath the root as text (None when absent or not a regular
/// file).
pub trait ReadRoot {
    /// The text of the regular file at `path` (absolute beneath the root), or
    /// None when it is absent, not a regular file, or not text.
    fn read(&self, path: &str) -> Option<String>;
    /// Whether anything (file, directory, link) is at `path`.
    fn exists(&self, path: &str) -> bool;
    /// The names (not paths) of the entries of directory `dir`, in any
    /// order; empty when it is absent. It finds what is read before or after
    /// tractorsec's drop-ins (cloud-init's sshd `50-cloud-init.conf`, other
    /// `grub.d/*.cfg`, later `sysctl.d` files), whose values could win.
    fn list(&self, dir: &str) -> Vec<String>;
    /// Permission bits, uid and gid of the file at `path`, when known: an
    /// edited host file keeps them (else it is written 0644 root:root).
    fn mode_owner(&self, path: &str) -> Option<(u32, u32, u32)>;
}

/// An in-memory root: absolute path → file text. Directories exist where a
/// file lies beneath them. For tests and for previews.
impl ReadRoot for BTreeMap<String, String> {
    fn read(&self, path: &str) -> Option<String> {
        self.get(path).cloned()
    }

    fn exists(&self, path: &str) -> bool {
        let dir = format!("{}/", path.trim_end_matches('/'));
        self.contains_key(path) || self.keys().any(|k| k.starts_with(&dir))
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let dir = format!("{}/", dir.trim_end_matches('/'));
        let mut names: Vec<String> = self
            .keys()
            .filter_map(|k| k.strip_prefix(&dir))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect();
        names.dedup();
        names
    }

    /// Every in-memory file is 0644 root:root.
    fn mode_owner(&self, path: &str) -> Option<(u32, u32, u32)> {
        self.contains_key(path).then_some((0o644, 0, 0))
    }
}

/// Why a set of wants could not be rendered. Every variant names the file;
/// the engine turns these into manual steps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A line of an existing file that cannot be read or safely edited.
    #[error("{path}:{line}: {reason}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A file the change has to edit is missing or unusable as a whole.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// `/etc/fstab` has no entry for a mount point that tractorsec cannot
    /// create one for (it knows only the tmpfs ones): a manual step.
    #[error(
        "{path}: no entry for mount point {mount_point}; tractorsec cannot choose its device: \
         add the entry by hand with options {options} (manual step)"
    )]
    NoMountEntry {
        /// `/etc/fstab`.
        path: String,
        /// The mount point.
        mount_point: String,
        /// The options it should carry (`nodev,nosuid`).
        options: String,
    },
    /// A want whose name or value cannot be written into its file safely
    /// (a newline, a quote, a glob, a path outside `/dev`).
    #[error("{path}: cannot write {what}: {reason}")]
    BadValue {
        /// The file it was meant for.
        path: String,
        /// The setting (`sysctl key "a b"`).
        what: String,
        /// Why.
        reason: String,
    },
    /// Two wants set one setting to different values.
    #[error("{path}: {setting} is wanted both as {first:?} and as {second:?}")]
    Conflict {
        /// The file.
        path: String,
        /// The setting.
        setting: String,
        /// One value.
        first: String,
        /// The other.
        second: String,
    },
}

/// The files tractorsec owns beneath a root: a symbolic link planted at
/// any of them (or at a directory above one) makes the whole plan refused.
pub const OWNED: [&str; 7] = [
    audit::PATH,
    cmdline::PATH,
    journald::PATH,
    modprobe::PATH,
    sshd::PATH,
    sysctl::PATH,
    udev::PATH,
];

/// The first lines of every file tractorsec owns.
pub const HEADER: &str = "# Generated by `tractorsec apply`: do not edit, the next apply rewrites this file.\n\
# `tractorsec rollback` restores what was here before.\n";

/// The changes that realise `wants` beneath a root whose current files
/// `root` reads; `runtime` adds the live changes (sysctl values, device node
/// modes).
///
/// Changes come sorted by path, then kind (file before live change); a
/// [`Change::Sysctl`] sorts by its `/proc/sys` path. No two changes name
/// the same path.
pub fn render(
    wants: &[Want],
    root: &dyn ReadRoot,
    runtime: bool,
) -> Result<Vec<Change>, RenderError> {
    let mut changes = Vec::new();
    changes.extend(sysctl::render(wants, root, runtime)?);
    changes.extend(modprobe::render(wants, root)?);
    changes.extend(udev::render(wants, root, runtime)?);
    changes.extend(sshd::render(wants, root)?);
    changes.extend(cmdline::render(wants, root)?);
    changes.extend(units::render(wants)?);
    changes.extend(fstab::render(wants, root)?);
    changes.extend(journald::render(wants, root)?);
    changes.extend(audit::render(wants, root)?);
    changes.sort_by_key(sort_key);
    if let Some(pair) = changes
        .windows(2)
        .find(|pair| sort_key(&pair[0]) == sort_key(&pair[1]))
    {
        let (path, _, _) = sort_key(&pair[0]);
        return Err(RenderError::File {
            path,
            reason: "two wants render different changes of this path".into(),
        });
    }
    Ok(changes)
}

/// (path, kind rank, tiebreak) of a change.
fn sort_key(change: &Change) -> (String, u8, String) {
    match change {
        Change::Put { path, .. } => (path.clone(), 0, String::new()),
        Change::Sysctl { key, .. } => (
            format!("/proc/sys/{}", key.replace('.', "/")),
            1,
            key.clone(),
        ),
        Change::DevNode { path, .. } => (path.clone(), 2, String::new()),
    }
}

/// A file tractorsec owns: [`HEADER`] then `body`, 0644 root:root.
fn owned_file(path: &str, body: &str) -> Change {
    Change::Put {
        path: path.to_owned(),
        desired: Desired::File {
            content: format!("{HEADER}{body}"),
            mode: 0o644,
            uid: 0,
            gid: 0,
        },
    }
}

/// An edited host file: `content`, keeping the mode and owner the reader
/// knows (else 0644 root:root).
fn host_file(root: &dyn ReadRoot, path: &str, content: String) -> Change {
    let (mode, uid, gid) = root.mode_owner(path).unwrap_or((0o644, 0, 0));
    Change::Put {
        path: path.to_owned(),
        desired: Desired::File {
            content,
            mode: mode & 0o7777,
            uid,
            gid,
        },
    }
}

/// Inserts `key → value`, refusing a second, different value for one key.
fn insert_once<K: Ord + Clone + std::fmt::Display, V: PartialEq + Clone + std::fmt::Debug>(
    map: &mut BTreeMap<K, V>,
    key: K,
    value: V,
    path: &str,
) -> Result<(), RenderError> {
    match map.get(&key) {
        Some(old) if *old != value => Err(RenderError::Conflict {
            path: path.to_owned(),
            setting: key.to_string(),
            first: format!("{old:?}"),
            second: format!("{value:?}"),
        }),
        Some(_) => Ok(()),
        None => {
            map.insert(key, value);
            Ok(())
        }
    }
}

/// Refuses text that would break out of its line (or is empty when
/// `nonempty`).
fn check_line(path: &str, what: &str, text: &str, nonempty: bool) -> Result<(), RenderError> {
    let reason = if text.contains(['\n', '\r', '\0']) {
        "it contains a line break or NUL"
    } else if nonempty && text.trim().is_empty() {
        "it is empty"
    } else {
        return Ok(());
    };
    Err(bad(path, what, text, reason))
}

/// A [`RenderError::BadValue`].
fn bad(path: &str, what: &str, text: &str, reason: &str) -> RenderError {
    RenderError::BadValue {
        path: path.to_owned(),
        what: format!("{what} {text:?}"),
        reason: reason.to_owned(),
    }
}

/// Whether `name` is made of ASCII letters, digits and `extra` only (and is
/// not empty).
fn is_word(name: &str, extra: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// The `key → value` settings of one of our `key=value` drop-ins at
/// `path` (comments, blank lines and a `section` header skipped), or the
/// first line that is not one, rejected with `reason`.
fn parse_settings(
    path: &str,
    text: &str,
    section: Option<&str>,
    reason: &str,
) -> Result<BTreeMap<String, String>, RenderError> {
    let mut settings = BTreeMap::new();
    for (n, line) in numbered(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) || Some(line) == section {
            continue;
        }
        let Some((key, value)) = line.split_once('=').filter(|_| !line.starts_with('[')) else {
            return Err(RenderError::Line {
                path: path.into(),
                line: n,
                reason: reason.into(),
            });
        };
        settings.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(settings)
}

/// The lines of `text` with their 1-based numbers, line ends removed.
fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l))
}

/// Byte spans of the words of a kernel-style parameter list: words split at
/// whitespace outside double quotes (`a="b c"` is one word).
fn param_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && !quoted {
            if let Some(s) = start.take() {
                spans.push((s, i));
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        if c == '"' {
            quoted = !quoted;
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// A parameter word split into name and value (None for a bare flag); the
/// quotes around a value are removed.
fn split_param(word: &str) -> (&str, Option<&str>) {
    let word = word.trim_matches('"');
    match word.split_once('=') {
        Some((name, value)) => (name, Some(value.trim_matches('"'))),
        None => (word, None),
    }
}

/// `name`, `name=value`, or `name="value with spaces"`.
fn format_param(name: &str, value: &str, bare_when_empty: bool) -> String {
    if value.is_empty() && bare_when_empty {
        name.to_owned()
    } else if value.contains(char::is_whitespace) {
        format!("{name}=\"{value}\"")
    } else {
        format!("{name}={value}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An in-memory root from (path, text) pairs.
    pub(crate) fn root(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    }

    /// The root with the files of `changes` written into it.
    pub(crate) fn applied(
        mut root: BTreeMap<String, String>,
        changes: &[Change],
    ) -> BTreeMap<String, String> {
        for change in changes {
            if let Change::Put {
                path,
                desired: Desired::File { content, .. },
            } = change
            {
                root.insert(path.clone(), content.clone());
            }
        }
        root
    }

    /// The content of the file `path` among `changes`.
    pub(crate) fn content<'a>(changes: &'a [Change], path: &str) -> Option<&'a str> {
        changes.iter().find_map(|c| match c {
            Change::Put {
                path: p,
                desired: Desired::File { content, .. },
            } if p == path => Some(content.as_str()),
            _ => None,
        })
    }

    /// The paths of the changes, in order.
    pub(crate) fn paths(changes: &[Change]) -> Vec<String> {
        changes.iter().map(|c| sort_key(c).0).collect()
    }

    #[test]
    fn changes_sorted_by_path_then_kind() {
        let wants = vec![
            Want::Sysctl {
                key: "net.ipv4.conf.all.rp_filter".into(),
                value: "1".into(),
            },
            Want::MaskUnit {
                unit: "avahi-daemon.service".into(),
            },
            Want::DevNode {
                path: "/dev/nvidia0".into(),
                mode: 0o660,
                uid: 0,
                gid: 0,
            },
            Want::Sysctl {
                key: "kernel.kptr_restrict".into(),
                value: "2".into(),
            },
        ];
        let changes = render(&wants, &root(&[]), true).unwrap();
        assert_eq!(
            paths(&changes),
            [
                "/dev/nvidia0",
                "/etc/sysctl.d/60-tractorsec.conf",
                "/etc/systemd/system/avahi-daemon.service",
                "/etc/udev/rules.d/60-tractorsec.rules",
                "/proc/sys/kernel/kptr_restrict",
                "/proc/sys/net/ipv4/conf/all/rp_filter",
            ]
        );
        let mut reversed = wants.clone();
        reversed.reverse();
        assert_eq!(render(&reversed, &root(&[]), true).unwrap(), changes);
    }

    #[test]
    fn no_wants_no_changes() {
        let r = root(&[("/etc/sysctl.d/60-tractorsec.conf", "a = 1\n")]);
        assert_eq!(render(&[], &r, true).unwrap(), vec![]);
    }

    #[test]
    fn conflicting_wants_are_an_error() {
        let wants = [
            Want::Sysctl {
                key: "kernel.kptr_restrict".into(),
                value: "1".into(),
            },
            Want::Sysctl {
                key: "kernel.kptr_restrict".into(),
                value: "2".into(),
            },
        ];
        let err = render(&wants, &root(&[]), false).unwrap_err();
        assert!(matches!(err, RenderError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("kernel.kptr_restrict"), "{err}");
    }

    #[test]
    fn memory_root_lists_and_exists() {
        let r = root(&[
            ("/etc/ssh/sshd_config.d/a.conf", ""),
            ("/etc/ssh/sshd_config", ""),
        ]);
        assert_eq!(r.list("/etc/ssh"), ["sshd_config", "sshd_config.d"]);
        assert!(r.exists("/etc/ssh/sshd_config.d"));
        assert!(!r.exists("/etc/ss"));
    }

    #[test]
    fn param_words_keep_quoted_spaces() {
        let text = r#" a b="c d"  "e=f g" h="#;
        let words: Vec<&str> = param_spans(text)
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect();
        assert_eq!(words, ["a", r#"b="c d""#, r#""e=f g""#, "h="]);
        assert_eq!(split_param(r#"b="c d""#), ("b", Some("c d")));
        assert_eq!(split_param(r#""e=f g""#), ("e", Some("f g")));
        assert_eq!(split_param("a"), ("a", None));
        assert_eq!(format_param("x", "a b", true), r#"x="a b""#);
        assert_eq!(format_param("x", "", true), "x");
    }
}
