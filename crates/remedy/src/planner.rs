//! From findings to a plan: the remedy of each failing control, rendered
//! into files and live changes, minus what is already in place.

use crate::beneath::{Node, RootDir};
use crate::plan::{Change, ManualStep, Plan};
use crate::render::{ReadRoot, render};
use crate::transaction::is_done;
use crate::want::Want;
use crate::wants::{Remedy, remedy_for};
use tractorsec_facts::Facts;
use tractorsec_policy::check::Context;
use tractorsec_policy::{Findings, Profile, Status};

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--only` named a control the profile does not have.
    #[error("profile {profile} has no control {id:?} (see `tractorsec controls list`)")]
    UnknownControl {
        /// Profile name.
        profile: String,
        /// The id given.
        id: String,
    },
    /// A symbolic link sits where tractorsec's own drop-in goes.
    #[error(
        "{path}: is a symbolic link (to {target}) where tractorsec's drop-in goes; refusing to follow or replace it (nothing was changed)"
    )]
    Planted {
        /// The drop-in path.
        path: String,
        /// Where the link points.
        target: String,
    },
    /// A target could not be inspected.
    #[error("{0}")]
    Fs(#[from] crate::beneath::FsError),
}

impl ReadRoot for RootDir {
    fn read(&self, path: &str) -> Option<String> {
        match self.node(path) {
            Ok(Node::File { bytes, .. }) => String::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    fn exists(&self, path: &str) -> bool {
        !matches!(self.node(path), Ok(Node::Absent) | Err(_))
    }

    fn list(&self, dir: &str) -> Vec<String> {
        RootDir::list(self, dir).unwrap_or_default()
    }

    fn mode_owner(&self, path: &str) -> Option<(u32, u32, u32)> {
        match self.node(path) {
            Ok(Node::File { mode, uid, gid, .. }) => Some((mode, uid, gid)),
            _ => None,
        }
    }
}

/// Plan the fixes of the failing controls of `findings` (all of them, or
/// those in `only`): changes not yet in place, the controls they fix now
/// or after a reboot, and manual steps for the rest.
pub fn plan(
    root: &RootDir,
    profile: &Profile,
    facts: &Facts,
    findings: &Findings,
    only: &[String],
) -> Result<Plan, PlanError> {
    if let Some(id) = only.iter().find(|id| profile.control(id).is_none()) {
        return Err(PlanError::UnknownControl {
            profile: profile.name.clone(),
            id: id.clone(),
        });
    }
    for path in crate::render::OWNED {
        if let Node::Symlink { target } = root.node(path)? {
            return Err(PlanError::Planted {
                path: path.to_string(),
                target,
            });
        }
    }
    let ctx = Context { facts, profile };
    let mut plan = Plan::default();
    let mut auto: Vec<(String, Vec<Want>, bool)> = Vec::new();
    for finding in &findings.findings {
        if finding.status != Status::Fail || !(only.is_empty() || only.contains(&finding.id)) {
            continue;
        }
        let Some(control) = profile.control(&finding.id) else {
            continue;
        };
        match remedy_for(control, &ctx) {
            Remedy::Auto { wants, reboot } => auto.push((finding.id.clone(), wants, reboot)),
            Remedy::Manual(instruction) => plan.manual.push(ManualStep {
                control: finding.id.clone(),
                instruction,
            }),
        }
    }
    // A control whose settings cannot be rendered (say, a mount point with
    // no fstab entry) becomes a manual step; the rest render together.
    auto.retain(|(id, wants, _)| match render(wants, root, facts.runtime) {
        Ok(_) => true,
        Err(e) => {
            plan.manual.push(ManualStep {
                control: id.clone(),
                instruction: e.to_string(),
            });
            false
        }
    });
    let mut wants: Vec<Want> = auto.iter().flat_map(|(_, w, _)| w.clone()).collect();
    wants.sort();
    wants.dedup();
    // One control may want a command-line parameter gone and another want
    // it set (`vsyscall`): setting it satisfies both.
    let set: Vec<String> = wants
        .iter()
        .filter_map(|w| match w {
            Want::Cmdline {
                param,
                value: Some(_),
            } => Some(param.clone()),
            _ => None,
        })
        .collect();
    wants.retain(|w| !matches!(w, Want::Cmdline { param, value: None } if set.contains(param)));
    let changes: Vec<Change> =
        render(&wants, root, facts.runtime).map_err(|e| crate::beneath::FsError {
            path: String::new(),
            action: "render the plan",
            reason: e.to_string(),
            missing: false,
        })?;
    for change in changes {
        if !is_done(root, &change)? {
            plan.changes.push(change);
        }
    }
    for (id, _, reboot) in auto {
        if reboot {
            plan.fixes_after_reboot.push(id);
        } else {
            plan.fixes.push(id);
        }
    }
    Ok(plan)
}
