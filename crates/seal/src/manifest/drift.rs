//! Drift: how a tree differs from its manifest, attribute by attribute.

use std::fmt::Write as _;

use serde::Serialize;

use super::entry::{Entry, EntryKind, SECURITY_XATTRS};
use super::path::{ManifestPath, escape};

/// How a live tree differs from a manifest. Serialises to JSON for
/// `--format json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Entries in the tree but not in the manifest.
    pub added: Vec<Entry>,
    /// Entries in the manifest but not in the tree. A rename is one
    /// removed and one added entry.
    pub removed: Vec<Entry>,
    /// Entries in both whose attributes differ.
    pub changed: Vec<Change>,
    /// What could not be checked (unlistable directories, vanished paths,
    /// unreadable xattrs or symlinks, directory loops). Any error makes
    /// the drift unclean: nothing passes unchecked.
    pub errors: Vec<DriftError>,
    /// Entries found in the tree.
    pub checked: usize,
    /// Regular files whose content was read and hashed (in quick mode,
    /// those the cache could not vouch for).
    pub hashed: usize,
    /// Remarks that do not affect the outcome (for example: the quick
    /// cache was unusable and everything was re-hashed).
    pub notes: Vec<String>,
}

/// One entry whose attributes differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The path (escaped as in the manifest).
    pub path: ManifestPath,
    /// Each differing attribute, in a fixed order.
    pub attributes: Vec<Attribute>,
}

/// One differing attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// `type`, `mode`, `owner`, `size`, `content`, `target`, `device`,
    /// `link`, or `xattr.NAME` (e.g. `xattr.security.capability`).
    pub name: String,
    /// The sealed value; `None` when absent.
    pub expected: Option<String>,
    /// The value found; `None` when absent. For unreadable content it is
    /// the reason, e.g. `content unreadable: EACCES (Permission denied)`.
    pub found: Option<String>,
}

/// Something that could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftError {
    /// The path concerned.
    pub path: ManifestPath,
    /// What went wrong.
    pub message: String,
}

impl Drift {
    /// No entry added, removed or changed, and nothing left unchecked.
    pub fn is_clean(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.errors.is_empty()
    }

    /// An AIDE-like report: a summary line, then one line per added,
    /// removed, changed and unchecked entry.
    ///
    /// ```text
    /// drift: 1 added, 1 removed, 1 changed, 0 errors (12 entries checked, 5 files hashed)
    /// added    file     etc/evil
    /// removed  file     etc/gone
    /// changed  etc/passwd: mode 0644 -> 0666; owner 0:0 -> 1000:0
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let verdict = if self.is_clean() { "clean" } else { "drift" };
        let _ = writeln!(
            out,
            "{verdict}: {} added, {} removed, {} changed, {} errors ({} entries checked, {} files hashed)",
            self.added.len(),
            self.removed.len(),
            self.changed.len(),
            self.errors.len(),
            self.checked,
            self.hashed
        );
        for entry in &self.added {
            let _ = writeln!(out, "added    {:<8} {}", entry.kind.as_str(), entry.path);
        }
        for entry in &self.removed {
            let _ = writeln!(out, "removed  {:<8} {}", entry.kind.as_str(), entry.path);
        }
        for change in &self.changed {
            let attrs: Vec<String> = change
                .attributes
                .iter()
                .map(|a| {
                    format!(
                        "{} {} -> {}",
                        a.name,
                        a.expected.as_deref().unwrap_or("(none)"),
                        a.found.as_deref().unwrap_or("(none)")
                    )
                })
                .collect();
            let _ = writeln!(out, "changed  {}: {}", change.path, attrs.join("; "));
        }
        for error in &self.errors {
            let _ = writeln!(out, "error    {}: {}", error.path, error.message);
        }
        for note in &self.notes {
            let _ = writeln!(out, "note     {note}");
        }
        out
    }
}

/// The attributes of `found` that differ from `expected` (same path).
/// `content_error` is why `found`'s content could not be read, if so.
/// Values are compared raw and formatted only when they differ.
pub(crate) fn compare(
    expected: &Entry,
    found: &Entry,
    content_error: Option<&str>,
) -> Vec<Attribute> {
    let mut attrs = Vec::new();
    fn differ<T: PartialEq>(
        attrs: &mut Vec<Attribute>,
        name: &str,
        e: &T,
        f: &T,
        show: impl Fn(&T) -> Option<String>,
    ) {
        if e != f {
            attrs.push(Attribute {
                name: name.to_string(),
                expected: show(e),
                found: show(f),
            });
        }
    }
    let same_kind = expected.kind == found.kind;
    differ(&mut attrs, "type", &expected.kind, &found.kind, |k| {
        Some(k.to_string())
    });
    differ(&mut attrs, "mode", &expected.mode, &found.mode, |m| {
        Some(format!("{m:04o}"))
    });
    differ(
        &mut attrs,
        "owner",
        &(expected.uid, expected.gid),
        &(found.uid, found.gid),
        |(u, g)| Some(format!("{u}:{g}")),
    );
    if same_kind {
        differ(&mut attrs, "size", &expected.size, &found.size, |s| {
            s.map(|s| s.to_string())
        });
        match content_error {
            Some(error) => attrs.push(Attribute {
                name: "content".into(),
                expected: expected.content.clone(),
                found: Some(error.to_string()),
            }),
            None => differ(
                &mut attrs,
                "content",
                &expected.content,
                &found.content,
                Clone::clone,
            ),
        }
        differ(&mut attrs, "target", &expected.target, &found.target, |t| {
            t.as_deref().map(escape)
        });
        differ(&mut attrs, "device", &expected.device, &found.device, |d| {
            d.map(|d| d.to_string())
        });
        if expected.kind != EntryKind::Dir {
            differ(&mut attrs, "link", &expected.link, &found.link, |l| {
                l.as_ref().map(ManifestPath::escaped)
            });
        }
    }
    if expected.xattrs != found.xattrs {
        for name in SECURITY_XATTRS {
            differ(
                &mut attrs,
                &format!("xattr.{name}"),
                &expected.xattrs.get(name),
                &found.xattrs.get(name),
                |v| v.cloned(),
            );
        }
    }
    attrs
}
