//! Device settings: node modes and ownership, NVIDIA driver options, IOMMU.

use super::values::{Shape, parse_int, value_for};
use super::{Derived, Fix};
use crate::Want;
use tractorsec_facts::text::Glob;
use tractorsec_facts::{DevKind, Facts};
use tractorsec_policy::{Matcher, Subject};

/// Owner, group and permission bits of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileState {
    mode: u32,
    uid: u32,
    gid: u32,
}

/// Account and group names known to the root.
struct Ids<'a> {
    facts: &'a Facts,
}

impl Ids<'_> {
    fn user_name(&self, uid: u32) -> Option<&str> {
        let a = self.facts.accounts.ok()?;
        a.users
            .iter()
            .find(|u| u.uid == uid)
            .map(|u| u.name.as_str())
    }

    fn group_name(&self, gid: u32) -> Option<&str> {
        let g = self.facts.groups.ok()?;
        g.iter().find(|g| g.gid == gid).map(|g| g.name.as_str())
    }

    /// A user named by name or number.
    fn uid(&self, user: &str) -> Result<u32, String> {
        if let Ok(n) = user.parse() {
            return Ok(n);
        }
        let a = self.facts.accounts.ok();
        a.and_then(|a| a.users.iter().find(|u| u.name == user))
            .map(|u| u.uid)
            .ok_or_else(|| format!("user {user} is not in the root's /etc/passwd"))
    }

    /// A group named by name or number.
    fn gid(&self, group: &str) -> Result<u32, String> {
        if let Ok(n) = group.parse() {
            return Ok(n);
        }
        let g = self.facts.groups.ok();
        g.and_then(|g| g.iter().find(|g| g.name == group))
            .map(|g| g.gid)
            .ok_or_else(|| format!("group {group} is not in the root's /etc/group"))
    }

    fn holds(&self, m: &Matcher, s: FileState) -> bool {
        let subject = Subject::File {
            mode: s.mode,
            uid: s.uid,
            gid: s.gid,
            owner: self.user_name(s.uid),
            group: self.group_name(s.gid),
        };
        m.matches(subject) == Ok(true)
    }
}

/// The nearest state that satisfies `m`: forbidden mode bits cleared, owner
/// and group set as named; of `any`, the first alternative that works.
fn fix_file(m: &Matcher, s: FileState, ids: &Ids<'_>) -> Result<FileState, String> {
    if ids.holds(m, s) {
        return Ok(s);
    }
    match m {
        Matcher::ModeAtMost(max) => Ok(FileState {
            mode: s.mode & max.0,
            ..s
        }),
        Matcher::Owner(o) => Ok(FileState {
            uid: ids.uid(o)?,
            ..s
        }),
        Matcher::Group(g) => Ok(FileState {
            gid: ids.gid(g)?,
            ..s
        }),
        Matcher::All(ms) => ms.iter().try_fold(s, |s, m| fix_file(m, s, ids)),
        Matcher::Any(ms) => {
            let mut why = Vec::new();
            for alt in ms {
                match fix_file(alt, s, ids) {
                    Ok(t) if ids.holds(alt, t) => return Ok(t),
                    Ok(_) => {}
                    Err(e) => why.push(e),
                }
            }
            Err(why.join("; "))
        }
        other => Err(format!("no node state follows from `{other}`")),
    }
}

/// One `DevNode` per matching node out of bounds, with its mode masked and
/// owner/group set as the matcher names them. Takes effect at once (chmod,
/// chown) and at every boot (udev rule).
pub(super) fn device_nodes(
    facts: &Facts,
    globs: &[String],
    kind: Option<DevKind>,
    expect: &Matcher,
) -> Derived {
    let nodes = facts
        .dev_nodes
        .get()
        .map_err(|e| format!("device nodes unreadable: {e}"))?;
    let ids = Ids { facts };
    let compiled: Vec<Glob> = globs.iter().map(|g| Glob::new(g)).collect();
    let mut wants = Vec::new();
    for node in nodes {
        if kind.is_some_and(|k| k != node.kind) || !compiled.iter().any(|g| g.matches(&node.path)) {
            continue;
        }
        let now = FileState {
            mode: node.mode,
            uid: node.uid,
            gid: node.gid,
        };
        if ids.holds(expect, now) {
            continue;
        }
        let fixed = fix_file(expect, now, &ids).map_err(|e| format!("{}: {e}", node.path))?;
        if !ids.holds(expect, fixed) {
            return Err(format!(
                "{}: no owner, group and mode satisfy `{expect}`",
                node.path
            ));
        }
        wants.push(Want::DevNode {
            path: node.path.clone(),
            mode: fixed.mode,
            uid: fixed.uid,
            gid: fixed.gid,
        });
    }
    Ok(Fix::now(wants))
}

/// The `NVreg_` option that sets a value the driver reports under another
/// name in `/proc/driver/nvidia/params`.
fn option_name(param: &str) -> &str {
    match param {
        "RmProfilingAdminOnly" => "RestrictProfilingToAdminUsers",
        other => other,
    }
}

/// `options nvidia NVreg_<name>=<value>`; effective when the driver is next
/// loaded. Mode parameters are written in octal (`0660`), which the kernel's
/// parameter parser reads as such.
pub(super) fn nvidia_param(facts: &Facts, name: &str, expect: &Matcher) -> Derived {
    let params = facts
        .nvidia_params
        .get()
        .map_err(|e| format!("NVIDIA driver parameters unreadable: {e}"))?;
    let current = params.get(name).map(String::as_str);
    let value = value_for(expect, current, Shape::VALUE)
        .map_err(|e| format!("NVreg_{name}: {e}"))?
        .ok_or_else(|| format!("NVreg_{name}: no value to set"))?;
    let value = match parse_int(&value) {
        Some(n) if name.ends_with("Mode") && n >= 0 => format!("0{n:o}"),
        _ => value,
    };
    Ok(Fix::after_reboot(vec![Want::NvidiaOption {
        name: option_name(name).to_string(),
        value,
    }]))
}

/// `intel_iommu=on` on Intel CPUs (kernels built with the Intel IOMMU
/// driver); on AMD, where the IOMMU is on by default, the parameters that
/// turn it off removed. Anything else (firmware settings) is manual.
pub(super) fn iommu_enabled(facts: &Facts) -> Derived {
    let c = super::kernel::cmdline_of(facts)?;
    let last = |name: &str| {
        c.params
            .iter()
            .rev()
            .find(|p| p.name == name)
            .map(|p| p.value.as_deref().unwrap_or(""))
    };
    let vendor = facts.cpu.ok().and_then(|c| c.vendor.as_deref());
    let (driver_param, kconfig) = match vendor {
        Some("GenuineIntel") => ("intel_iommu", "INTEL_IOMMU"),
        Some("AuthenticAMD") => ("amd_iommu", "AMD_IOMMU"),
        other => {
            return Err(format!(
                "CPU vendor {} has no known IOMMU command line",
                other.unwrap_or("unknown")
            ));
        }
    };
    if let Some(kc) = facts.kconfig.ok().filter(|k| !k.options.is_empty())
        && kc.options.get(kconfig).is_none_or(|v| v != "y")
    {
        return Err(format!("the kernel is built without CONFIG_{kconfig}"));
    }
    let mut wants = Vec::new();
    if last("iommu") == Some("off") {
        wants.push(Want::Cmdline {
            param: "iommu".into(),
            value: None,
        });
    }
    match driver_param {
        "intel_iommu" if last(driver_param) != Some("on") => wants.push(Want::Cmdline {
            param: driver_param.into(),
            value: Some("on".into()),
        }),
        "amd_iommu" if last(driver_param) == Some("off") => wants.push(Want::Cmdline {
            param: driver_param.into(),
            value: None,
        }),
        _ => {}
    }
    if wants.is_empty() {
        return Err(
            "nothing on the kernel command line disables the IOMMU: enable VT-d / AMD-Vi in the firmware setup"
                .into(),
        );
    }
    Ok(Fix::after_reboot(wants))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{facts, m};
    use super::*;
    use tractorsec_facts::{Account, Accounts, DevClass, DevNode, Group, Source};

    fn node(path: &str, kind: DevKind, mode: u32, uid: u32, gid: u32) -> DevNode {
        DevNode {
            path: path.into(),
            kind,
            major: 1,
            minor: 1,
            mode,
            uid,
            gid,
            class: DevClass::Other,
        }
    }

    fn host(nodes: Vec<DevNode>) -> Facts {
        let mut f = facts();
        let user = |name: &str, uid| Account {
            name: name.into(),
            uid,
            gid: uid,
            home: "/".into(),
            shell: "/bin/sh".into(),
        };
        f.accounts = Source::Ok(Accounts {
            uid_min: 1000,
            users: vec![user("root", 0), user("ops", 1000)],
        });
        let group = |name: &str, gid| Group {
            name: name.into(),
            gid,
            members: vec![],
        };
        f.groups = Source::Ok(vec![
            group("root", 0),
            group("disk", 6),
            group("kmem", 15),
            group("ops", 1000),
        ]);
        f.dev_nodes = Source::Ok(nodes);
        f
    }

    fn dev(path: &str, mode: u32, uid: u32, gid: u32) -> Want {
        Want::DevNode {
            path: path.into(),
            mode,
            uid,
            gid,
        }
    }

    #[test]
    fn gpu_nodes_get_the_forbidden_bits_cleared() {
        let f = host(vec![
            node("/dev/nvidia0", DevKind::Char, 0o666, 0, 0),
            node("/dev/nvidiactl", DevKind::Char, 0o660, 0, 0),
            node("/dev/nvidia-caps/nvidia-cap2", DevKind::Char, 0o444, 0, 0),
            node("/dev/nvidia-uvm", DevKind::Char, 0o4666, 0, 0),
            node("/dev/nvidia1", DevKind::Block, 0o666, 0, 0), // other kind
            node("/dev/sda", DevKind::Char, 0o666, 0, 0),      // other path
        ]);
        let globs = [
            "/dev/nvidia[0-9]*".to_string(),
            "/dev/nvidiactl".into(),
            "/dev/nvidia-uvm*".into(),
            "/dev/nvidia-caps/*".into(),
        ];
        let fix = device_nodes(
            &f,
            &globs,
            Some(DevKind::Char),
            &m(r#"{"mode_at_most": "0660"}"#),
        )
        .unwrap();
        assert_eq!(
            fix.wants,
            vec![
                dev("/dev/nvidia0", 0o660, 0, 0),
                dev("/dev/nvidia-caps/nvidia-cap2", 0o440, 0, 0),
                dev("/dev/nvidia-uvm", 0o660, 0, 0),
            ]
        );
        assert!(!fix.reboot);
    }

    #[test]
    fn block_nodes_get_owner_and_group_resolved_to_ids() {
        let f = host(vec![
            node("/dev/sda", DevKind::Block, 0o660, 1000, 6),
            node("/dev/nvme0n1", DevKind::Block, 0o666, 0, 6),
            node("/dev/sdb", DevKind::Block, 0o660, 0, 1000),
            node("/dev/sdc", DevKind::Block, 0o600, 0, 1000), // 0600: any group
            node("/dev/port", DevKind::Block, 0o666, 0, 0),
        ]);
        let expect = m(
            r#"{"all": [{"owner": "root"}, {"mode_at_most": "0660"}, {"any": [{"group": "disk"}, {"mode_at_most": "0600"}]}]}"#,
        );
        let globs = ["/dev/sd*".to_string(), "/dev/nvme[0-9]*n*".into()];
        let fix = device_nodes(&f, &globs, Some(DevKind::Block), &expect).unwrap();
        assert_eq!(
            fix.wants,
            vec![
                dev("/dev/sda", 0o660, 0, 6),
                dev("/dev/nvme0n1", 0o660, 0, 6),
                dev("/dev/sdb", 0o660, 0, 6),
            ]
        );
        let mem = m(r#"{"all": [{"owner": "root"}, {"group": "kmem"}, {"mode_at_most": "0640"}]}"#);
        let fix = device_nodes(&f, &["/dev/port".to_string()], None, &mem).unwrap();
        assert_eq!(fix.wants, vec![dev("/dev/port", 0o640, 0, 15)]);
        // A group the root does not know: manual.
        let video = m(r#"{"group": "video"}"#);
        assert!(device_nodes(&f, &["/dev/port".to_string()], None, &video).is_err());
        // By number it needs no lookup.
        let by_gid = m(r#"{"group": "44"}"#);
        let fix = device_nodes(&f, &["/dev/port".to_string()], None, &by_gid).unwrap();
        assert_eq!(fix.wants, vec![dev("/dev/port", 0o666, 0, 44)]);
    }

    #[test]
    fn nvidia_options_are_written_as_the_driver_takes_them() {
        let mut f = facts();
        f.nvidia_params = Source::Ok(
            [("DeviceFileMode", "438"), ("RmProfilingAdminOnly", "0")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let fix = nvidia_param(&f, "DeviceFileMode", &m(r#"{"bits_clear": [0, 1, 2]}"#)).unwrap();
        assert_eq!(
            fix.wants,
            vec![Want::NvidiaOption {
                name: "DeviceFileMode".into(),
                value: "0660".into()
            }]
        );
        assert!(fix.reboot);
        let fix = nvidia_param(&f, "RmProfilingAdminOnly", &m(r#"{"equals": 1}"#)).unwrap();
        assert_eq!(
            fix.wants,
            vec![Want::NvidiaOption {
                name: "RestrictProfilingToAdminUsers".into(),
                value: "1".into()
            }]
        );
        assert!(nvidia_param(&f, "DeviceFileUID", &m(r#"{"bits_clear": [0]}"#)).is_err());
    }

    #[test]
    fn iommu_on_by_vendor() {
        let mut f = facts();
        let cmdline = |params: &[(&str, Option<&str>)]| {
            Source::Ok(tractorsec_facts::Kernel {
                release: None,
                cmdline: tractorsec_facts::Cmdline {
                    source: "/proc/cmdline".into(),
                    raw: String::new(),
                    params: params
                        .iter()
                        .map(|(n, v)| tractorsec_facts::CmdlineParam {
                            name: n.to_string(),
                            value: v.map(str::to_string),
                        })
                        .collect(),
                },
            })
        };
        let cpu = |vendor: &str| {
            Source::Ok(tractorsec_facts::Cpu {
                vendor: Some(vendor.into()),
                flags: vec![],
                vulnerabilities: Default::default(),
            })
        };
        let on = |p: &str, v: Option<&str>| Want::Cmdline {
            param: p.into(),
            value: v.map(str::to_string),
        };
        f.kernel = cmdline(&[("intel_iommu", Some("off")), ("iommu", Some("off"))]);
        f.cpu = cpu("GenuineIntel");
        assert_eq!(
            iommu_enabled(&f).unwrap().wants,
            vec![on("iommu", None), on("intel_iommu", Some("on"))]
        );
        f.cpu = cpu("AuthenticAMD");
        f.kernel = cmdline(&[("amd_iommu", Some("off"))]);
        assert_eq!(
            iommu_enabled(&f).unwrap().wants,
            vec![on("amd_iommu", None)]
        );
        // Nothing on the command line disables it: the firmware does.
        f.kernel = cmdline(&[]);
        assert!(iommu_enabled(&f).is_err());
        f.cpu = cpu("HygonGenuine");
        assert!(iommu_enabled(&f).is_err());
    }
}
