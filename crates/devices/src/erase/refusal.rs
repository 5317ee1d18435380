//! The reasons not to erase a device: anything that still uses it, or an
//! operator who named another drive. Every reason is reported, not only
//! the first.

use std::fmt;

use super::target::Target;
use super::topology::{Topology, Usage, below};

/// One reason to refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A device the erase reaches is mounted.
    Mounted {
        /// The device.
        device: String,
        /// Where.
        mount_point: String,
    },
    /// A device the erase reaches has devices stacked on it.
    Held {
        /// The device.
        device: String,
        /// dm, md, bcache … devices on it.
        holders: Vec<String>,
    },
    /// The device is itself a dm or md device (erase what is below it, once
    /// the stack is torn down).
    Stacked {
        /// The device.
        device: String,
    },
    /// A device the erase reaches is active swap.
    Swap {
        /// The device.
        device: String,
    },
    /// The running root filesystem lives on a device the erase reaches.
    RunningRoot {
        /// The device.
        device: String,
        /// The root filesystem's device.
        root: String,
    },
    /// `--confirm` does not match.
    Mismatch {
        /// What it is checked against (`serial`, `wwid`, `backing file`).
        what: &'static str,
        /// The device's.
        actual: String,
        /// Given.
        given: String,
    },
    /// The device has no serial, WWID or backing file to confirm.
    NoIdentity,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mounted {
                device,
                mount_point,
            } => write!(f, "{device} is mounted on {mount_point}"),
            Self::Held { device, holders } => write!(
                f,
                "{device} is part of a RAID/LVM/dm stack (held by {})",
                holders.join(", ")
            ),
            Self::Stacked { device } => write!(
                f,
                "{device} is a device-mapper or RAID device; erase the devices below it"
            ),
            Self::Swap { device } => write!(f, "{device} is an active swap area"),
            Self::RunningRoot { device, root } => {
                write!(f, "{device} holds the running root filesystem (on {root})")
            }
            Self::Mismatch {
                what,
                actual,
                given,
            } => write!(
                f,
                "--confirm {given:?} does not match the device's {what} {actual:?}"
            ),
            Self::NoIdentity => {
                f.write_str("the device has no serial number, WWID or backing file to confirm")
            }
        }
    }
}

/// Every reason not to erase `target`, given what uses which device and
/// the identity the operator confirmed.
#[must_use]
pub fn refusals(
    target: &Target,
    topology: &Topology,
    usage: &Usage,
    confirm: &str,
) -> Vec<Refusal> {
    let mut out = Vec::new();
    match target.identity() {
        None => out.push(Refusal::NoIdentity),
        Some((what, actual)) if actual != confirm => out.push(Refusal::Mismatch {
            what,
            actual: actual.to_string(),
            given: confirm.to_string(),
        }),
        Some(_) => {}
    }
    if target.name.starts_with("dm-") || target.name.starts_with("md") {
        out.push(Refusal::Stacked {
            device: target.name.clone(),
        });
    }
    let under_root = usage
        .root
        .as_deref()
        .map(|r| below(topology, r))
        .unwrap_or_default();
    for device in &target.reaches {
        for (mounted, mount_point) in &usage.mounts {
            if mounted == device {
                out.push(Refusal::Mounted {
                    device: device.clone(),
                    mount_point: mount_point.clone(),
                });
            }
        }
        if let Some(node) = topology.get(device)
            && !node.holders.is_empty()
        {
            out.push(Refusal::Held {
                device: device.clone(),
                holders: node.holders.clone(),
            });
        }
        if usage.swaps.contains(device) {
            out.push(Refusal::Swap {
                device: device.clone(),
            });
        }
        if under_root.contains(device)
            && let Some(root) = &usage.root
        {
            out.push(Refusal::RunningRoot {
                device: device.clone(),
                root: root.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erase::target::TargetKind;
    use crate::erase::topology::BlockNode;

    fn target(name: &str, reaches: &[&str], serial: Option<&str>) -> Target {
        Target {
            path: format!("/dev/{name}"),
            name: name.into(),
            dev: "8:0".into(),
            kind: TargetKind::Block,
            size_bytes: 1 << 30,
            logical_block_size: 512,
            model: None,
            serial: serial.map(str::to_string),
            firmware: None,
            wwid: None,
            reaches: reaches.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// sda (root on sda1 via LVM dm-0), sdb (swap on sdb1), sdc (md
    /// member), sdd (partition sdd2 mounted), sde unused.
    fn host() -> (Topology, Usage) {
        let mut t = Topology::new();
        let node = |parent: Option<&str>, holders: &[&str], slaves: &[&str]| BlockNode {
            parent: parent.map(str::to_string),
            holders: holders.iter().map(|s| s.to_string()).collect(),
            slaves: slaves.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        t.insert("sda".into(), node(None, &[], &[]));
        t.insert("sda1".into(), node(Some("sda"), &["dm-0"], &[]));
        t.insert("dm-0".into(), node(None, &[], &["sda1"]));
        t.insert("sdb".into(), node(None, &[], &[]));
        t.insert("sdb1".into(), node(Some("sdb"), &[], &[]));
        t.insert("sdc".into(), node(None, &["md0"], &[]));
        t.insert("md0".into(), node(None, &[], &["sdc"]));
        t.insert("sdd".into(), node(None, &[], &[]));
        t.insert("sdd2".into(), node(Some("sdd"), &[], &[]));
        t.insert("sde".into(), node(None, &[], &[]));
        let usage = Usage {
            mounts: vec![
                ("dm-0".into(), "/".into()),
                ("sdd2".into(), "/srv/data".into()),
            ],
            swaps: vec!["sdb1".into()],
            root: Some("dm-0".into()),
        };
        (t, usage)
    }

    #[test]
    fn an_unused_device_with_the_right_serial_is_accepted() {
        let (t, u) = host();
        assert_eq!(
            refusals(&target("sde", &["sde"], Some("S1")), &t, &u, "S1"),
            vec![]
        );
    }

    #[test]
    fn the_running_root_behind_lvm_is_refused() {
        let (t, u) = host();
        let got = refusals(&target("sda", &["sda", "sda1"], Some("S1")), &t, &u, "S1");
        assert!(got.contains(&Refusal::RunningRoot {
            device: "sda".into(),
            root: "dm-0".into()
        }));
        assert!(got.contains(&Refusal::Held {
            device: "sda1".into(),
            holders: vec!["dm-0".into()]
        }));
    }

    #[test]
    fn swap_raid_member_mounted_partition_and_stacked_devices_are_refused() {
        let (t, u) = host();
        let swap = refusals(&target("sdb", &["sdb", "sdb1"], Some("S")), &t, &u, "S");
        assert_eq!(
            swap,
            vec![Refusal::Swap {
                device: "sdb1".into()
            }]
        );
        let md = refusals(&target("sdc", &["sdc"], Some("S")), &t, &u, "S");
        assert_eq!(
            md,
            vec![Refusal::Held {
                device: "sdc".into(),
                holders: vec!["md0".into()]
            }]
        );
        let part = refusals(&target("sdd", &["sdd", "sdd2"], Some("S")), &t, &u, "S");
        assert_eq!(
            part,
            vec![Refusal::Mounted {
                device: "sdd2".into(),
                mount_point: "/srv/data".into()
            }]
        );
        let dm = refusals(&target("md0", &["md0"], Some("S")), &t, &u, "S");
        assert_eq!(
            dm,
            vec![Refusal::Stacked {
                device: "md0".into()
            }]
        );
    }

    #[test]
    fn the_wrong_serial_or_none_is_refused_and_every_reason_is_kept() {
        let (t, u) = host();
        let got = refusals(
            &target("sdd", &["sdd", "sdd2"], Some("REAL")),
            &t,
            &u,
            "OTHER",
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0]
                .to_string()
                .contains("does not match the device's serial \"REAL\"")
        );
        let none = refusals(&target("sde", &["sde"], None), &t, &u, "x");
        assert_eq!(none, vec![Refusal::NoIdentity]);
    }
}
