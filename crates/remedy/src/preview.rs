//! `apply --dry-run`: the plan as a unified diff per file plus the live
//! changes, against what is on disk now.

use crate::beneath::{Node, RootDir};
use crate::plan::{Change, Desired, Plan};
use crate::transaction::{sysctl_path, target};
use std::fmt::Write;

fn current_text(node: &Node) -> String {
    match node {
        Node::Absent | Node::Other { .. } => String::new(),
        Node::File { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
        Node::Symlink { target } => format!("symbolic link to {target}\n"),
    }
}

fn mode_owner(node: &Node) -> String {
    match node {
        Node::File { mode, uid, gid, .. } | Node::Other { mode, uid, gid } => {
            format!("{mode:04o} {uid}:{gid}")
        }
        Node::Symlink { .. } => "link".to_string(),
        Node::Absent => "absent".to_string(),
    }
}

/// The plan as people review it: `--- a/path +++ b/path` hunks for each
/// file, then one line per live change, then the controls it fixes, those
/// needing a reboot, and the manual steps.
pub fn preview(root: &RootDir, plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let path = target(change);
        let node = root.node(&path).unwrap_or(Node::Absent);
        match change {
            Change::Put { desired, .. } => {
                let new = match desired {
                    Desired::File { content, .. } => content.clone(),
                    Desired::Symlink { target } => format!("symbolic link to {target}\n"),
                };
                let old = current_text(&node);
                let diff = similar::TextDiff::from_lines(&old, &new);
                let a = if node == Node::Absent {
                    "/dev/null".to_string()
                } else {
                    format!("a{path}")
                };
                let _ = write!(
                    out,
                    "{}",
                    diff.unified_diff()
                        .context_radius(3)
                        .header(&a, &format!("b{path}"))
                );
                if let Desired::File { mode, uid, gid, .. } = desired {
                    let now = mode_owner(&node);
                    let want = format!("{mode:04o} {uid}:{gid}");
                    if node != Node::Absent && now != want {
                        let _ = writeln!(out, "mode/owner {path}: {now} -> {want}");
                    }
                }
            }
            Change::Sysctl { key, value } => {
                let now = current_text(&root.node(&sysctl_path(key)).unwrap_or(Node::Absent));
                let _ = writeln!(out, "live: sysctl {key}: {} -> {value}", now.trim());
            }
            Change::DevNode {
                path,
                mode,
                uid,
                gid,
            } => {
                let _ = writeln!(
                    out,
                    "live: {path}: {} -> {mode:04o} {uid}:{gid}",
                    mode_owner(&node)
                );
            }
        }
    }
    if plan.changes.is_empty() {
        out.push_str("nothing to change\n");
    }
    let list = |out: &mut String, heading: &str, ids: &[String]| {
        if !ids.is_empty() {
            let _ = writeln!(out, "\n{heading} ({}):", ids.len());
            for id in ids {
                let _ = writeln!(out, "  {id}");
            }
        }
    };
    list(&mut out, "Fixes now", &plan.fixes);
    list(
        &mut out,
        "Fixes after a reboot or remount",
        &plan.fixes_after_reboot,
    );
    if !plan.manual.is_empty() {
        let _ = writeln!(out, "\nNeeds a human ({}):", plan.manual.len());
        for step in &plan.manual {
            let _ = writeln!(out, "  {}: {}", step.control, step.instruction);
        }
    }
    out
}
