//! `/etc/sysctl.d/60-tractorsec.conf`: `key = value` lines sorted by key,
//! merged with the keys the file already holds; and, with runtime state, the
//! values written live. `sysctl --system` reads files in name order and the
//! last value wins, so a managed key set again in a file read after ours
//! (`/etc/sysctl.d/99-*.conf`, `/etc/sysctl.conf`) is commented out there
//! (`# tractorsec: overridden by sysctl.d/60-tractorsec.conf: <line>`).

use std::collections::BTreeMap;

use super::{ReadRoot, RenderError, check_line, host_file, insert_once, owned_file};
use crate::{Change, Want};

/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/sysctl.d/60-tractorsec.conf";

/// The drop-in (and live values when `runtime`) for the sysctl wants.
pub(super) fn render(
    wants: &[Want],
    root: &dyn ReadRoot,
    runtime: bool,
) -> Result<Vec<Change>, RenderError> {
    let mut wanted = BTreeMap::new();
    for want in wants {
        if let Want::Sysctl { key, value } = want {
            check_key(key)?;
            check_line(PATH, &format!("value of {key}"), value, false)?;
            insert_once(&mut wanted, key.clone(), value.trim().to_owned(), PATH)?;
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut all = match root.read(PATH) {
        Some(text) => super::parse_settings(PATH, &text, None, "not a `key = value` line")?,
        None => BTreeMap::new(),
    };
    all.extend(wanted.clone());
    let body: String = all.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    let mut changes = vec![owned_file(PATH, &body)];
    for (read, write) in read_after_ours(root) {
        if let Some(text) = root.read(&read) {
            let edited = comment_out(&text, &all);
            if edited != text {
                changes.push(host_file(root, &write, edited));
            }
        }
    }
    if runtime {
        changes.extend(
            wanted
                .into_iter()
                .map(|(key, value)| Change::Sysctl { key, value }),
        );
    }
    Ok(changes)
}

/// The files `sysctl --system` reads after ours, as (where it reads it,
/// where an edited copy goes): later names in `/etc/sysctl.d` are edited in
/// place; a later vendor file (`/usr/lib/sysctl.d/99-protect-links.conf`)
/// is shadowed by an edited copy of the same name in `/etc/sysctl.d`, as
/// systemd-sysctl lets `/etc` override `/usr/lib`; `/etc/sysctl.conf` last.
/// Files in `/run` are transient and left alone.
fn read_after_ours(root: &dyn ReadRoot) -> Vec<(String, String)> {
    let ours = PATH.rsplit('/').next().unwrap_or_default();
    let mut effective: BTreeMap<String, &str> = BTreeMap::new();
    for dir in tractorsec_facts::collect::sysctl_d::DIRS {
        for name in root.list(dir) {
            if name.ends_with(".conf") && name.as_str() > ours {
                effective.entry(name).or_insert(dir);
            }
        }
    }
    let mut files: Vec<(String, String)> = effective
        .into_iter()
        .filter(|(_, dir)| *dir != "/run/sysctl.d")
        .map(|(name, dir)| (format!("{dir}/{name}"), format!("/etc/sysctl.d/{name}")))
        .collect();
    files.push((
        "/etc/sysctl.conf".to_string(),
        "/etc/sysctl.conf".to_string(),
    ));
    files
}

/// `text` with every line that sets a `managed` key commented out; every
/// other byte kept.
fn comment_out(text: &str, managed: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let setting = line.trim_start().trim_start_matches('-');
        let key = setting.split_once('=').map(|(k, _)| k.trim());
        if key.is_some_and(|k| managed.contains_key(k))
            && !line.trim_start().starts_with(['#', ';'])
        {
            out.push_str("# tractorsec: overridden by sysctl.d/60-tractorsec.conf: ");
        }
        out.push_str(line);
    }
    out
}

/// A key sysctl.d reads back as the same key.
fn check_key(key: &str) -> Result<(), RenderError> {
    if super::is_word(key, "._-/*:@") && !key.starts_with(['-', '.', '/']) {
        Ok(())
    } else {
        Err(super::bad(
            PATH,
            "sysctl key",
            key,
            "a key is letters, digits and . _ - / only",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, root};

    fn want(key: &str, value: &str) -> Want {
        Want::Sysctl {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn later_files_setting_a_managed_key_are_commented_out() {
        let r = root(&[
            ("/etc/sysctl.d/10-early.conf", "kernel.kptr_restrict = 0\n"),
            (
                "/etc/sysctl.d/99-perf.conf",
                "# perf\nkernel.kptr_restrict = 0\n-vm.swappiness=10\n",
            ),
            (
                "/etc/sysctl.conf",
                "#kernel.kptr_restrict = 1\nkernel.kptr_restrict=1\n",
            ),
        ]);
        let changes = render(&[want("kernel.kptr_restrict", "2")], &r, false).unwrap();
        assert_eq!(
            content(&changes, "/etc/sysctl.d/99-perf.conf").unwrap(),
            "# perf\n# tractorsec: overridden by sysctl.d/60-tractorsec.conf: kernel.kptr_restrict = 0\n-vm.swappiness=10\n"
        );
        assert_eq!(
            content(&changes, "/etc/sysctl.conf").unwrap(),
            "#kernel.kptr_restrict = 1\n# tractorsec: overridden by sysctl.d/60-tractorsec.conf: kernel.kptr_restrict=1\n"
        );
        assert!(
            content(&changes, "/etc/sysctl.d/10-early.conf").is_none(),
            "read before ours"
        );
    }

    #[test]
    fn header_then_sorted_keys() {
        let wants = [
            want("net.ipv4.conf.all.rp_filter", "1"),
            want("kernel.kptr_restrict", "2"),
            want("fs.protected_fifos", "2"),
        ];
        let changes = render(&wants, &root(&[]), false).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}fs.protected_fifos = 2\nkernel.kptr_restrict = 2\nnet.ipv4.conf.all.rp_filter = 1\n"
            )
        );
    }

    #[test]
    fn merges_existing_keys_and_overrides_their_values() {
        let r = root(&[(
            PATH,
            "# old header\nkernel.kptr_restrict=1\nvm.mmap_min_addr = 65536\n\n",
        )]);
        let changes = render(&[want("kernel.kptr_restrict", "2")], &r, false).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!("{HEADER}kernel.kptr_restrict = 2\nvm.mmap_min_addr = 65536\n")
        );
    }

    #[test]
    fn second_render_is_identical() {
        let wants = [want("kernel.kptr_restrict", "2"), want("a.b", "x\ty")];
        let first = render(&wants, &root(&[]), true).unwrap();
        let again = render(&wants, &applied(root(&[]), &first), true).unwrap();
        assert_eq!(first, again);
        // Also with only some of the wants left (some controls pass now).
        let partial = render(&wants[..1], &applied(root(&[]), &first), false).unwrap();
        assert_eq!(content(&partial, PATH), content(&first, PATH));
    }

    #[test]
    fn runtime_adds_live_values_of_wants_only() {
        let r = root(&[(PATH, "vm.swappiness = 1\n")]);
        let changes = render(&[want("kernel.kptr_restrict", "2")], &r, true).unwrap();
        assert_eq!(
            changes[1..],
            [Change::Sysctl {
                key: "kernel.kptr_restrict".into(),
                value: "2".into()
            }]
        );
        assert_eq!(render(&[want("a.b", "1")], &r, false).unwrap().len(), 1);
    }

    #[test]
    fn refuses_injection_and_bad_lines() {
        let err = render(&[want("a.b", "1\nkernel.x = 0")], &root(&[]), false).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
        let err = render(&[want("a b", "1")], &root(&[]), false).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
        let r = root(&[(PATH, "a = 1\ngarbage\n")]);
        let err = render(&[want("a.b", "1")], &r, false).unwrap_err();
        assert_eq!(
            err,
            RenderError::Line {
                path: PATH.into(),
                line: 2,
                reason: "not a `key = value` line".into()
            }
        );
    }
}
