//! A plan: the exact changes that fix the failing controls, as data.

use serde::{Deserialize, Serialize};

/// The state a path beneath the root should be left in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Desired {
    /// A regular file with these bytes, mode and owner.
    File {
        /// Contents.
        content: String,
        /// Permission bits.
        mode: u32,
        /// Owner uid.
        uid: u32,
        /// Group gid.
        gid: u32,
    },
    /// A symbolic link to `target` (not resolved).
    Symlink {
        /// Link target, as written into the link.
        target: String,
    },
}

/// One change of the plan, to a path beneath the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Change {
    /// Replace (or create) a file or link atomically.
    Put {
        /// Absolute path beneath the root (`/etc/sysctl.d/60-tractorsec.conf`).
        path: String,
        /// What it becomes.
        desired: Desired,
    },
    /// Write a value into an existing kernel tunable (`/proc/sys/...`) in
    /// place: the live system, or a captured runtime tree.
    Sysctl {
        /// Dotted key.
        key: String,
        /// New value.
        value: String,
    },
    /// chmod/chown an existing device node in place.
    DevNode {
        /// Absolute path beneath the root (`/dev/nvidia0`).
        path: String,
        /// Permission bits.
        mode: u32,
        /// Owner uid.
        uid: u32,
        /// Group gid.
        gid: u32,
    },
}

/// A control no automatic change can fix safely: what a human must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualStep {
    /// Control id.
    pub control: String,
    /// The precise instruction.
    pub instruction: String,
}

/// Everything `apply` would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Changes, in the order they are applied.
    pub changes: Vec<Change>,
    /// Controls the changes fix at once.
    pub fixes: Vec<String>,
    /// Controls the changes fix only after a reboot (or remount).
    pub fixes_after_reboot: Vec<String>,
    /// Failing controls left to a human.
    pub manual: Vec<ManualStep>,
}
