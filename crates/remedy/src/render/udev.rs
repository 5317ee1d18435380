//! `/etc/udev/rules.d/60-tractorsec.rules`: one rule per device node, so
//! the mode and owner survive the node being recreated; and, with runtime
//! state, chmod/chown of the existing nodes.
//!
//! A node directly in `/dev` is matched by its kernel name
//! (`KERNEL=="nvidia0"`); a node in a subdirectory (`/dev/dri/card0`) by its
//! full path (`ENV{DEVNAME}=="/dev/dri/card0"`), because its kernel name
//! (`card0`) is not the name relative to `/dev`.

use std::collections::BTreeMap;

use super::{ReadRoot, RenderError, bad, insert_once, numbered, owned_file};
use crate::{Change, Want};

/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/udev/rules.d/60-tractorsec.rules";

/// The rules file (and node changes when `runtime`) for the device node wants.
pub(super) fn render(
    wants: &[Want],
    root: &dyn ReadRoot,
    runtime: bool,
) -> Result<Vec<Change>, RenderError> {
    let mut nodes = BTreeMap::new();
    for want in wants {
        if let Want::DevNode {
            path,
            mode,
            uid,
            gid,
        } = want
        {
            check_node(path)?;
            insert_once(&mut nodes, path.clone(), (*mode & 0o7777, *uid, *gid), PATH)?;
        }
    }
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let users = names(root.read("/etc/passwd"));
    let groups = names(root.read("/etc/group"));
    let mut rules = match root.read(PATH) {
        Some(text) => parse(&text)?,
        None => BTreeMap::new(),
    };
    for (path, (mode, uid, gid)) in &nodes {
        let owner = users.get(uid).cloned().unwrap_or_else(|| uid.to_string());
        let group = groups.get(gid).cloned().unwrap_or_else(|| gid.to_string());
        rules.insert(
            path.clone(),
            format!(
                "{}, MODE=\"{mode:04o}\", OWNER=\"{owner}\", GROUP=\"{group}\"",
                matcher(path)
            ),
        );
    }
    let body: String = rules.values().map(|rule| format!("{rule}\n")).collect();
    let mut changes = vec![owned_file(PATH, &body)];
    if runtime {
        changes.extend(
            nodes
                .into_iter()
                .map(|(path, (mode, uid, gid))| Change::DevNode {
                    path,
                    mode,
                    uid,
                    gid,
                }),
        );
    }
    Ok(changes)
}

/// A node path udev can match literally.
fn check_node(path: &str) -> Result<(), RenderError> {
    let relative = path.strip_prefix("/dev/").unwrap_or_default();
    let reason = if relative.is_empty() {
        "not a path beneath /dev"
    } else if relative
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        "not a plain path"
    } else if !super::is_word(&relative.replace('/', ""), "._-:+") {
        "udev would read a character of it as a pattern or a quote"
    } else {
        return Ok(());
    };
    Err(bad(PATH, "device node", path, reason))
}

/// The match of a rule for node `path`.
fn matcher(path: &str) -> String {
    let relative = path.trim_start_matches("/dev/");
    if relative.contains('/') {
        format!("ENV{{DEVNAME}}==\"{path}\"")
    } else {
        format!("KERNEL==\"{relative}\"")
    }
}

/// id → name from `/etc/passwd` or `/etc/group` (the first name of an id).
fn names(text: Option<String>) -> BTreeMap<u32, String> {
    let mut names = BTreeMap::new();
    for line in text.unwrap_or_default().lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        match id.parse::<u32>() {
            Ok(id) if super::is_word(name, "._-") => {
                names.entry(id).or_insert_with(|| name.to_owned());
            }
            _ => {}
        }
    }
    names
}

/// node path → rule line of an earlier version of the file.
fn parse(text: &str) -> Result<BTreeMap<String, String>, RenderError> {
    let mut rules = BTreeMap::new();
    for (n, line) in numbered(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let node = if let Some(rest) = line.strip_prefix("KERNEL==\"") {
            rest.split_once('"').map(|(name, _)| format!("/dev/{name}"))
        } else if let Some(rest) = line.strip_prefix("ENV{DEVNAME}==\"") {
            rest.split_once('"').map(|(path, _)| path.to_owned())
        } else {
            None
        };
        let Some(node) = node else {
            return Err(RenderError::Line {
                path: PATH.into(),
                line: n,
                reason: "not a rule tractorsec writes".into(),
            });
        };
        rules.insert(node, line.to_owned());
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, root};

    fn node(path: &str, mode: u32, uid: u32, gid: u32) -> Want {
        Want::DevNode {
            path: path.into(),
            mode,
            uid,
            gid,
        }
    }

    fn accounts() -> BTreeMap<String, String> {
        root(&[
            ("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
            ("/etc/group", "root:x:0:\nvideo:x:44:alice\nrender:x:105:\n"),
        ])
    }

    #[test]
    fn rules_with_names_sorted_by_node() {
        let wants = [
            node("/dev/nvidiactl", 0o660, 0, 44),
            node("/dev/dri/renderD128", 0o660, 0, 105),
            node("/dev/nvidia0", 0o660, 0, 44),
        ];
        let changes = render(&wants, &accounts(), false).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}ENV{{DEVNAME}}==\"/dev/dri/renderD128\", MODE=\"0660\", OWNER=\"root\", GROUP=\"render\"\n\
                 KERNEL==\"nvidia0\", MODE=\"0660\", OWNER=\"root\", GROUP=\"video\"\n\
                 KERNEL==\"nvidiactl\", MODE=\"0660\", OWNER=\"root\", GROUP=\"video\"\n"
            )
        );
    }

    #[test]
    fn unknown_ids_fall_back_to_numbers() {
        let changes = render(&[node("/dev/nvme0", 0o600, 1234, 4321)], &root(&[]), false).unwrap();
        assert!(
            content(&changes, PATH)
                .unwrap()
                .ends_with("KERNEL==\"nvme0\", MODE=\"0600\", OWNER=\"1234\", GROUP=\"4321\"\n")
        );
    }

    #[test]
    fn merges_existing_rules_and_replaces_same_node() {
        let mut r = accounts();
        r.insert(
            PATH.into(),
            "# x\nKERNEL==\"nvidia0\", MODE=\"0666\", OWNER=\"root\", GROUP=\"root\"\n\
             KERNEL==\"kfd\", MODE=\"0660\", OWNER=\"root\", GROUP=\"render\"\n"
                .into(),
        );
        let changes = render(&[node("/dev/nvidia0", 0o660, 0, 44)], &r, false).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}KERNEL==\"kfd\", MODE=\"0660\", OWNER=\"root\", GROUP=\"render\"\n\
                 KERNEL==\"nvidia0\", MODE=\"0660\", OWNER=\"root\", GROUP=\"video\"\n"
            )
        );
        let again = render(
            &[node("/dev/nvidia0", 0o660, 0, 44)],
            &applied(r, &changes),
            false,
        )
        .unwrap();
        assert_eq!(again, changes);
    }

    #[test]
    fn runtime_changes_the_nodes() {
        let changes = render(&[node("/dev/nvidia0", 0o100660, 0, 44)], &accounts(), true).unwrap();
        assert_eq!(
            changes[1],
            Change::DevNode {
                path: "/dev/nvidia0".into(),
                mode: 0o660,
                uid: 0,
                gid: 44
            }
        );
    }

    #[test]
    fn refuses_patterns_and_paths_outside_dev() {
        for path in [
            "/dev/nvidia*",
            "/etc/passwd",
            "/dev/../etc",
            "/dev/a\"b",
            "/dev/",
        ] {
            let err = render(&[node(path, 0o660, 0, 0)], &root(&[]), false).unwrap_err();
            assert!(matches!(err, RenderError::BadValue { .. }), "{path}: {err}");
        }
    }
}
