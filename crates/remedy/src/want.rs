//! What a control needs changed, before it is turned into files: one
//! [`Want`] per setting, gathered from every failing control and then
//! rendered into drop-in files and live changes.

use serde::{Deserialize, Serialize};

/// One setting a failing control needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Want {
    /// `key = value` in `/etc/sysctl.d/60-tractorsec.conf`, and written to
    /// `/proc/sys` when the root has runtime state.
    Sysctl {
        /// Dotted key (`kernel.kptr_restrict`).
        key: String,
        /// Value as sysctl prints it.
        value: String,
    },
    /// `blacklist M` and `install M /bin/false` in
    /// `/etc/modprobe.d/60-tractorsec.conf`.
    ModuleOff {
        /// Module name.
        module: String,
    },
    /// `options nvidia NVreg_<name>=<value>` in the modprobe drop-in.
    NvidiaOption {
        /// Parameter name without the `NVreg_` prefix (`DeviceFileMode`).
        name: String,
        /// Value.
        value: String,
    },
    /// A device node's mode and ownership: a udev rule in
    /// `/etc/udev/rules.d/60-tractorsec.rules`, and chmod/chown of the
    /// existing node when the root has runtime state.
    DevNode {
        /// Absolute path beneath the root (`/dev/nvidia0`).
        path: String,
        /// Permission bits (`0o660`).
        mode: u32,
        /// Owner uid.
        uid: u32,
        /// Group gid.
        gid: u32,
    },
    /// `Key value` in `/etc/ssh/sshd_config.d/60-tractorsec.conf`.
    Sshd {
        /// sshd keyword as written in the profile (`PermitRootLogin`).
        key: String,
        /// Value (`no`).
        value: String,
    },
    /// A kernel command-line parameter (reboot needed): set to `value`
    /// (`Some("")` for a bare flag), or removed (`None`).
    Cmdline {
        /// Parameter name (`slab_nomerge`, `iommu.strict`).
        param: String,
        /// New value, `Some("")` for a bare flag, `None` to remove it.
        value: Option<String>,
    },
    /// Mask a systemd unit: `/etc/systemd/system/<unit>` → `/dev/null`.
    MaskUnit {
        /// Unit name (`avahi-daemon.service`).
        unit: String,
    },
    /// Enable an installed unit: `/etc/systemd/system/<target>.wants/<unit>`
    /// → the unit file.
    EnableUnit {
        /// Unit name.
        unit: String,
        /// Where its file is, beneath the root (`/lib/systemd/system/auditd.service`).
        unit_path: String,
        /// The target that wants it (`multi-user.target`).
        wanted_by: String,
    },
    /// Mount options added to the mount point's `/etc/fstab` entry
    /// (remount or reboot needed).
    MountOptions {
        /// Mount point (`/tmp`).
        mount_point: String,
        /// Options to add (`nodev`).
        add: Vec<String>,
    },
    /// `Key=value` under `[Journal]` in
    /// `/etc/systemd/journald.conf.d/60-tractorsec.conf`.
    Journald {
        /// Key (`Storage`).
        key: String,
        /// Value (`persistent`).
        value: String,
    },
    /// A line in `/etc/audit/rules.d/60-tractorsec.rules`.
    AuditRule {
        /// The rule (`-w /etc/passwd -p wa -k identity`).
        line: String,
    },
}
