//! The kernel command line, effective at the next boot.
//!
//! - With `/etc/kernel/cmdline` (kernel-install, systemd-boot, UKIs): that
//!   file, one line, with the parameters set in place (or appended) and
//!   removed; every other parameter kept in its order.
//! - Else GRUB: `/etc/default/grub.d/60-tractorsec.cfg` appends the set
//!   parameters to `GRUB_CMDLINE_LINUX` (merged with those it holds). A
//!   parameter to remove, or set in `/etc/default/grub` (or another
//!   `grub.d/*.cfg`) to a different value that the kernel would read after
//!   ours (`GRUB_CMDLINE_LINUX_DEFAULT` comes last on the line), is deleted
//!   from that file's `GRUB_CMDLINE_LINUX` / `GRUB_CMDLINE_LINUX_DEFAULT`.
//!
//! Parameter names compare as the kernel compares them (`-` equals `_`). A
//! value with spaces is written `p="a b"` (escaped `p=\"a b\"` inside the
//! shell string); values with `"`, `'`, `\`, `$` or a backquote are refused,
//! as neither the kernel nor grub's script can carry them reliably.

use std::collections::BTreeMap;

use super::{
    ReadRoot, RenderError, bad, check_line, format_param, host_file, insert_once, is_word,
    numbered, owned_file, param_spans, split_param,
};
use crate::{Change, Want};

/// The kernel-install command line.
pub(super) const KERNEL_CMDLINE: &str = "/etc/kernel/cmdline";
/// GRUB's settings.
pub(super) const GRUB: &str = "/etc/default/grub";
/// GRUB's drop-ins (Debian, Ubuntu).
const GRUB_DIR: &str = "/etc/default/grub.d";
/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/default/grub.d/60-tractorsec.cfg";
/// The start of its assignment.
const ASSIGN: &str = "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX";

/// What the wants want of one parameter: its name as written, and its
/// value (`Some("")` a bare flag, None removed).
type Wanted = BTreeMap<String, (String, Option<String>)>;

/// The command-line changes for the cmdline wants.
pub(super) fn render(wants: &[Want], root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut wanted = Wanted::new();
    for want in wants {
        if let Want::Cmdline { param, value } = want {
            if !is_word(param, "._-") {
                return Err(bad(PATH, "kernel parameter", param, "not a parameter name"));
            }
            if let Some(value) = value {
                check_line(PATH, &format!("value of {param}"), value, false)?;
                if value.contains(['"', '\'', '\\', '$', '`']) {
                    return Err(bad(
                        PATH,
                        "value of",
                        value,
                        "a quote, \\, $ or ` cannot be passed",
                    ));
                }
            }
            insert_once(
                &mut wanted,
                norm(param),
                (param.clone(), value.clone()),
                PATH,
            )?;
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    if root.exists(KERNEL_CMDLINE) {
        return kernel_cmdline(&wanted, root);
    }
    if !root.exists(GRUB) {
        return Err(RenderError::File {
            path: GRUB.into(),
            reason: format!(
                "neither {KERNEL_CMDLINE} nor {GRUB} is there: tractorsec knows no other boot loader; \
                 change the kernel command line by hand (manual step)"
            ),
        });
    }
    grub(&wanted, root)
}

/// A parameter name as the kernel compares it.
fn norm(name: &str) -> String {
    name.replace('-', "_")
}

/// The word for a set parameter.
fn word(name: &str, value: &str) -> String {
    format_param(name, value, true)
}

/// Whether the wants drop `word`: removed, or set to another value.
fn drops(wanted: &Wanted, word: &str) -> bool {
    let (name, value) = split_param(word);
    match wanted.get(&norm(name)) {
        None => false,
        Some((_, None)) => true,
        Some((_, Some(want))) => value.unwrap_or_default() != want,
    }
}

/// `/etc/kernel/cmdline` with the wants applied, when that changes it.
fn kernel_cmdline(wanted: &Wanted, root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let Some(text) = root.read(KERNEL_CMDLINE) else {
        return Err(RenderError::File {
            path: KERNEL_CMDLINE.into(),
            reason: "not a regular text file".into(),
        });
    };
    let old: Vec<&str> = param_spans(&text)
        .iter()
        .map(|&(s, e)| &text[s..e])
        .collect();
    // Parameters after `--` are init's, not the kernel's.
    let split = old.iter().position(|w| *w == "--").unwrap_or(old.len());
    let mut new: Vec<String> = Vec::new();
    let mut placed = std::collections::BTreeSet::new();
    for old_word in &old[..split] {
        let (name, _) = split_param(old_word);
        match wanted.get(&norm(name)) {
            None => new.push((*old_word).to_owned()),
            Some((_, None)) => {}
            Some((name, Some(value))) => {
                if placed.insert(norm(name)) {
                    // A parameter already set to the value stays as written.
                    if split_param(old_word).1.unwrap_or_default() == value {
                        new.push((*old_word).to_owned());
                    } else {
                        new.push(word(name, value));
                    }
                }
            }
        }
    }
    for (key, (name, value)) in wanted {
        if let Some(value) = value
            && !placed.contains(key)
        {
            new.push(word(name, value));
        }
    }
    new.extend(old[split..].iter().map(|w| (*w).to_owned()));
    if new.iter().map(String::as_str).eq(old.iter().copied()) {
        return Ok(Vec::new());
    }
    Ok(vec![host_file(
        root,
        KERNEL_CMDLINE,
        format!("{}\n", new.join(" ")),
    )])
}

/// The grub drop-in, and the host grub files edited so it wins.
fn grub(wanted: &Wanted, root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut changes = Vec::new();
    let existing = root.read(PATH);
    let mut managed = match &existing {
        Some(text) => parse(text)?,
        None => BTreeMap::new(),
    };
    for (key, (name, value)) in wanted {
        match value {
            Some(value) => managed.insert(key.clone(), word(name, value)),
            None => managed.remove(key),
        };
    }
    if existing.is_some() || wanted.values().any(|(_, v)| v.is_some()) {
        let words: Vec<String> = managed
            .values()
            .map(|w| format!(" {}", w.replace('"', "\\\"")))
            .collect();
        changes.push(owned_file(PATH, &format!("{ASSIGN}{}\"\n", words.concat())));
    }
    let mut names = root.list(GRUB_DIR);
    names.sort();
    let others = names
        .iter()
        .filter(|n| n.ends_with(".cfg") && n.as_str() != "60-tractorsec.cfg")
        .map(|n| format!("{GRUB_DIR}/{n}"));
    for path in std::iter::once(GRUB.to_owned()).chain(others) {
        let Some(text) = root.read(&path) else {
            continue;
        };
        let edited = edit_grub(&path, &text, wanted)?;
        if edited != text {
            changes.push(host_file(root, &path, edited));
        }
    }
    Ok(changes)
}

/// The parameters of an earlier version of the grub drop-in: normalised
/// name → word.
fn parse(text: &str) -> Result<BTreeMap<String, String>, RenderError> {
    let mut words = BTreeMap::new();
    for (n, line) in numbered(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(inner) = line
            .strip_prefix(ASSIGN)
            .and_then(|rest| rest.strip_suffix('"'))
        else {
            return Err(RenderError::Line {
                path: PATH.into(),
                line: n,
                reason: "not the GRUB_CMDLINE_LINUX line tractorsec writes".into(),
            });
        };
        let inner = inner.replace("\\\"", "\"");
        for (s, e) in param_spans(&inner) {
            let word = &inner[s..e];
            words.insert(norm(split_param(word).0), word.to_owned());
        }
    }
    Ok(words)
}

/// A shell file setting `GRUB_CMDLINE_LINUX[_DEFAULT]` with the words the
/// wants drop deleted from those values; every other byte kept.
fn edit_grub(path: &str, text: &str, wanted: &Wanted) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let error = |reason: &str| RenderError::Line {
            path: path.to_owned(),
            line: i + 1,
            reason: reason.to_owned(),
        };
        let Some((start, end)) = cmdline_value(line).map_err(error)? else {
            out.push_str(line);
            continue;
        };
        let raw = &line[start..end];
        // Inside a double-quoted shell string the kernel's quotes are `\"`.
        let spans = param_spans(raw);
        if !spans
            .iter()
            .any(|&(s, e)| drops(wanted, &raw[s..e].replace("\\\"", "\"")))
        {
            out.push_str(line);
            continue;
        }
        let mut value = String::new();
        value.push_str(&raw[..spans.first().map_or(raw.len(), |s| s.0)]);
        let mut first = true;
        let mut gap_start = 0;
        for &(s, e) in &spans {
            let gap = &raw[gap_start..s];
            gap_start = e;
            if drops(wanted, &raw[s..e].replace("\\\"", "\"")) {
                continue;
            }
            if !first {
                value.push_str(if gap.is_empty() { " " } else { gap });
            }
            value.push_str(&raw[s..e]);
            first = false;
        }
        value.push_str(&raw[spans.last().map_or(raw.len(), |s| s.1)..]);
        out.push_str(&line[..start]);
        out.push_str(&value);
        out.push_str(&line[end..]);
    }
    Ok(out)
}

/// Where the value of a `GRUB_CMDLINE_LINUX[_DEFAULT]=` assignment on
/// `line` lies (between its quotes), or None for another line.
fn cmdline_value(line: &str) -> Result<Option<(usize, usize)>, &'static str> {
    let body = line.trim_start();
    let offset = line.len() - body.len();
    let (skip, body) = match body.strip_prefix("export ") {
        Some(rest) => (
            offset + 7 + (rest.len() - rest.trim_start().len()),
            rest.trim_start(),
        ),
        None => (offset, body),
    };
    let Some(eq) = body.find('=') else {
        return Ok(None);
    };
    if !matches!(
        &body[..eq],
        "GRUB_CMDLINE_LINUX" | "GRUB_CMDLINE_LINUX_DEFAULT"
    ) {
        return Ok(None);
    }
    let start = skip + eq + 1;
    let value = &line[start..];
    let (open, close) = match value.chars().next() {
        Some('"') => (1, find_close(&value[1..], '"')),
        Some('\'') => (1, value[1..].find('\'')),
        _ => (
            0,
            Some(value.find(char::is_whitespace).unwrap_or(value.len())),
        ),
    };
    let Some(close) = close else {
        return Err("a value that goes on past its line is not supported");
    };
    let (s, e) = (start + open, start + open + close);
    let after = line[e + open..].trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err("text after the value is not supported");
    }
    Ok(Some((s, e)))
}

/// Offset of the first `quote` not escaped by a backslash.
fn find_close(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, paths, root};

    fn set(param: &str, value: &str) -> Want {
        Want::Cmdline {
            param: param.into(),
            value: Some(value.into()),
        }
    }

    fn unset(param: &str) -> Want {
        Want::Cmdline {
            param: param.into(),
            value: None,
        }
    }

    #[test]
    fn kernel_cmdline_set_in_place_append_and_remove() {
        let r = root(&[(
            KERNEL_CMDLINE,
            "root=UUID=1 ro  quiet lockdown=none nokaslr  mitigations=off\n",
        )]);
        let wants = [
            set("lockdown", "integrity"),
            set("slab_nomerge", ""),
            unset("nokaslr"),
            unset("mitigations"),
            set("page-alloc.shuffle", "1"),
        ];
        let changes = render(&wants, &r).unwrap();
        assert_eq!(paths(&changes), [KERNEL_CMDLINE]);
        assert_eq!(
            content(&changes, KERNEL_CMDLINE).unwrap(),
            "root=UUID=1 ro quiet lockdown=integrity page-alloc.shuffle=1 slab_nomerge\n"
        );
        assert_eq!(render(&wants, &applied(r, &changes)).unwrap(), vec![]);
    }

    #[test]
    fn kernel_cmdline_quotes_spaces_and_keeps_init_args() {
        let r = root(&[(KERNEL_CMDLINE, "ro dyndbg=\"file a.c +p\" -- single")]);
        let changes = render(&[set("foo_bar", "x y"), set("dyndbg", "file b.c +p")], &r).unwrap();
        assert_eq!(
            content(&changes, KERNEL_CMDLINE).unwrap(),
            "ro dyndbg=\"file b.c +p\" foo_bar=\"x y\" -- single\n"
        );
        let again = render(&[set("foo-bar", "x y")], &applied(r, &changes)).unwrap();
        assert_eq!(again, vec![]);
    }

    const DEBIAN_GRUB: &str = "# If you change this file, run 'update-grub'\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n\
        GRUB_CMDLINE_LINUX_DEFAULT=\"quiet  mitigations=off splash\"   # tuned\n\
        export GRUB_CMDLINE_LINUX='console=ttyS0 lockdown=none'\n#GRUB_CMDLINE_LINUX=\"nokaslr\"\n";

    #[test]
    fn grub_drop_in_and_host_edits() {
        let r = root(&[(GRUB, DEBIAN_GRUB)]);
        let wants = [
            set("lockdown", "integrity"),
            set("slab_nomerge", ""),
            unset("mitigations"),
            set("x", "a b"),
        ];
        let changes = render(&wants, &r).unwrap();
        assert_eq!(paths(&changes), [PATH, GRUB]);
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX lockdown=integrity slab_nomerge x=\\\"a b\\\"\"\n"
            )
        );
        assert_eq!(
            content(&changes, GRUB).unwrap(),
            "# If you change this file, run 'update-grub'\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n\
             GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"   # tuned\n\
             export GRUB_CMDLINE_LINUX='console=ttyS0'\n#GRUB_CMDLINE_LINUX=\"nokaslr\"\n"
        );
        let again = render(&wants, &applied(r, &changes)).unwrap();
        assert_eq!(paths(&again), [PATH]);
        assert_eq!(content(&again, PATH), content(&changes, PATH));
    }

    #[test]
    fn grub_merges_and_removes_from_drop_in_and_other_cfgs() {
        let r = root(&[
            (GRUB, "GRUB_CMDLINE_LINUX=\"\"\n"),
            (
                PATH,
                "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX debugfs=off nopti\"\n",
            ),
            (
                "/etc/default/grub.d/50-cloudimg-settings.cfg",
                "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 nopti\"\n",
            ),
            (
                "/etc/default/grub.d/init-select.cfg.dpkg-old",
                "GRUB_CMDLINE_LINUX_DEFAULT=\"nopti\"\n",
            ),
        ]);
        let changes = render(&[unset("nopti"), set("vsyscall", "none")], &r).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX debugfs=off vsyscall=none\"\n"
            )
        );
        assert_eq!(
            content(&changes, "/etc/default/grub.d/50-cloudimg-settings.cfg").unwrap(),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1\"\n"
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
    }

    #[test]
    fn grub_only_removals_without_drop_in_touch_host_files_only() {
        let r = root(&[(GRUB, "GRUB_CMDLINE_LINUX=nokaslr\n")]);
        let changes = render(&[unset("nokaslr")], &r).unwrap();
        assert_eq!(paths(&changes), [GRUB]);
        assert_eq!(content(&changes, GRUB).unwrap(), "GRUB_CMDLINE_LINUX=\n");
    }

    #[test]
    fn errors() {
        let err = render(&[set("a", "1")], &root(&[])).unwrap_err();
        assert!(matches!(err, RenderError::File { .. }), "{err}");
        let r = root(&[(
            GRUB,
            "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"quiet\n nokaslr\"\n",
        )]);
        let err = render(&[unset("nokaslr")], &r).unwrap_err();
        assert_eq!(
            err,
            RenderError::Line {
                path: GRUB.into(),
                line: 2,
                reason: "a value that goes on past its line is not supported".into()
            }
        );
        let r = root(&[(GRUB, "")]);
        for want in [set("a", "$(reboot)"), set("a b", "1"), set("a", "x\"y")] {
            let err = render(&[want], &r).unwrap_err();
            assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
        }
    }
}
