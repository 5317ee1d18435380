//! Device checks: node permissions, IOMMU, GPU binding, NVIDIA driver, SED.

use super::outcome::{Outcome, list_some};
use crate::finding::Status;
use crate::matcher::{Matcher, Subject};
use tractorsec_facts::text::Glob;
use tractorsec_facts::{DevClass, DevKind, Facts};

pub(super) fn device_nodes(
    facts: &Facts,
    globs: &[String],
    kind: Option<DevKind>,
    expect: &Matcher,
) -> Outcome {
    let nodes = match facts.dev_nodes.get() {
        Ok(n) => n,
        Err(e) => return Outcome::missing_required(e),
    };
    let users = facts.accounts.ok();
    let groups = facts.groups.ok();
    let mut bad = Vec::new();
    let mut evidence = Vec::new();
    let mut seen = 0;
    let compiled: Vec<Glob> = globs.iter().map(|g| Glob::new(g)).collect();
    for node in nodes {
        if kind.is_some_and(|k| k != node.kind) || !compiled.iter().any(|g| g.matches(&node.path)) {
            continue;
        }
        seen += 1;
        let owner = users
            .and_then(|a| a.users.iter().find(|u| u.uid == node.uid))
            .map(|u| u.name.as_str());
        let group = groups
            .and_then(|g| g.iter().find(|g| g.gid == node.gid))
            .map(|g| g.name.as_str());
        let subject = Subject::File {
            mode: node.mode,
            uid: node.uid,
            gid: node.gid,
            owner,
            group,
        };
        let describe = format!(
            "{} {:04o} {}:{}",
            node.path,
            node.mode,
            owner.map_or(node.uid.to_string(), str::to_string),
            group.map_or(node.gid.to_string(), str::to_string)
        );
        match expect.matches(subject) {
            Ok(true) => {}
            Ok(false) => {
                evidence.push(node.path.clone());
                bad.push(describe);
            }
            Err(e) => return Outcome::error(e, vec![node.path.clone()]),
        }
    }
    if seen == 0 {
        return Outcome::not_applicable(
            format!("no device node matches {}", globs.join(" ")),
            vec!["/dev".into()],
        );
    }
    if bad.is_empty() {
        evidence.push("/dev".into());
    }
    let observed = if bad.is_empty() {
        format!("{seen} nodes, all within bounds")
    } else {
        format!(
            "{} of {seen} nodes out of bounds: {}",
            bad.len(),
            list_some(&bad, 8)
        )
    };
    evidence.truncate(20);
    Outcome::verdict(bad.is_empty(), observed, expect.to_string(), evidence)
}

pub(super) fn nvidia_param(facts: &Facts, name: &str, expect: &Matcher) -> Outcome {
    let evidence = vec!["/proc/driver/nvidia/params".to_string()];
    match facts.nvidia_params.get() {
        Ok(params) => {
            let value = params.get(name).map(String::as_str);
            let observed = format!("{name}: {}", value.unwrap_or("absent"));
            Outcome::judge(expect, Subject::Scalar(value), observed, evidence).about(name, ": ")
        }
        Err(e) => Outcome::missing(e),
    }
}

pub(super) fn iommu_enabled(facts: &Facts) -> Outcome {
    let iommu = match facts.iommu.get() {
        Ok(i) => i,
        Err(e) => return Outcome::missing_required(e),
    };
    let mut evidence = vec![
        "/sys/class/iommu".to_string(),
        "/sys/kernel/iommu_groups".to_string(),
    ];
    let expected = "IOMMU groups present, and intel_iommu=on on Intel CPUs without CONFIG_INTEL_IOMMU_DEFAULT_ON";
    if iommu.groups.is_empty() && iommu.units.is_empty() {
        return Outcome::verdict(
            false,
            "no IOMMU unit and no IOMMU group",
            expected,
            evidence,
        );
    }
    let intel = facts
        .cpu
        .ok()
        .and_then(|c| c.vendor.as_deref())
        .is_some_and(|v| v == "GenuineIntel");
    let default_on = facts
        .kconfig
        .ok()
        .and_then(|k| k.options.get("INTEL_IOMMU_DEFAULT_ON"))
        .is_some_and(|v| v == "y");
    let cmdline = facts.kernel.ok().map(|k| &k.cmdline);
    let on_cmdline = cmdline.is_some_and(|c| {
        c.params
            .iter()
            .any(|p| p.name == "intel_iommu" && p.value.as_deref() == Some("on"))
    });
    if let Some(c) = cmdline {
        evidence.push(c.source.clone());
    }
    let observed = format!(
        "{} IOMMU groups, {} units",
        iommu.groups.len(),
        iommu.units.len()
    );
    if intel && !default_on && !on_cmdline {
        return Outcome::verdict(
            false,
            format!("{observed}; Intel CPU without intel_iommu=on"),
            expected,
            evidence,
        );
    }
    Outcome::verdict(true, observed, expected, evidence)
}

fn is_nvidia_gpu(vendor: &str, class: &str) -> bool {
    vendor == "0x10de" && (class.starts_with("0x0300") || class.starts_with("0x0302"))
}

/// `0000:18:00.1` → `0000:18:00` (the slot: functions of one device).
fn slot(address: &str) -> &str {
    address.rsplit_once('.').map_or(address, |(s, _)| s)
}

pub(super) fn gpu_tenant_binding(facts: &Facts, mode: &str) -> Outcome {
    let pci = match facts.pci.get() {
        Ok(p) => p,
        Err(e) => return Outcome::missing_required(e),
    };
    let evidence = vec!["/sys/bus/pci/devices".to_string()];
    let gpus: Vec<_> = pci
        .iter()
        .filter(|d| is_nvidia_gpu(&d.vendor, &d.class))
        .collect();
    if gpus.is_empty() {
        return Outcome::not_applicable("no NVIDIA GPU on the PCI bus", evidence);
    }
    let groups = facts.iommu.ok().map(|i| &i.groups);
    let mut bad = Vec::new();
    for gpu in &gpus {
        let driver = gpu.driver.as_deref().unwrap_or("none");
        match mode {
            "vfio" => {
                if driver != "vfio-pci" {
                    bad.push(format!("{} bound to {driver}", gpu.address));
                    continue;
                }
                let members = gpu
                    .iommu_group
                    .as_ref()
                    .and_then(|g| groups.and_then(|gs| gs.get(g)));
                match members {
                    None => bad.push(format!("{} has no IOMMU group", gpu.address)),
                    Some(m) => {
                        let others: Vec<String> = m
                            .iter()
                            .filter(|a| slot(a) != slot(&gpu.address))
                            .cloned()
                            .collect();
                        if !others.is_empty() {
                            bad.push(format!(
                                "{} shares its IOMMU group with {}",
                                gpu.address,
                                others.join(",")
                            ));
                        }
                    }
                }
            }
            "container" => {
                if driver != "nvidia" {
                    bad.push(format!("{} bound to {driver}, not nvidia", gpu.address));
                }
            }
            other => {
                return Outcome::error(
                    format!("tenant_gpus must be \"vfio\" or \"container\", not {other:?}"),
                    evidence,
                );
            }
        }
    }
    let expected = match mode {
        "vfio" => "every GPU bound to vfio-pci, alone in its IOMMU group",
        _ => "every GPU bound to the nvidia driver",
    };
    let clean = format!("{} GPUs bound as expected", gpus.len());
    Outcome::problems(&bad, clean, "", expected, evidence)
}

pub(super) fn sed_encryption(facts: &Facts) -> Outcome {
    let nodes = match facts.dev_nodes.get() {
        Ok(n) => n,
        Err(e) => return Outcome::missing_required(e),
    };
    let namespaces: Vec<String> = nodes
        .iter()
        .filter(|n| n.class == DevClass::Nvme && n.kind == DevKind::Block)
        .filter_map(|n| n.path.strip_prefix("/dev/").map(str::to_string))
        .filter(|n| !n.contains('p'))
        .collect();
    let evidence = vec!["/sys/block".to_string()];
    if namespaces.is_empty() {
        return Outcome::not_applicable("no NVMe namespace", evidence);
    }
    let dm = match facts.device_mapper.get() {
        Ok(d) => d,
        Err(e) => return Outcome::missing_required(e),
    };
    let encrypted = |ns: &str| {
        dm.iter().any(|d| {
            d.uuid.starts_with("CRYPT-")
                && !d.uuid.starts_with("CRYPT-VERITY-")
                && d.slaves
                    .iter()
                    .any(|s| s == ns || s.strip_prefix(ns).is_some_and(|r| r.starts_with('p')))
        })
    };
    let plain: Vec<String> = namespaces
        .iter()
        .filter(|n| !encrypted(n))
        .cloned()
        .collect();
    if plain.is_empty() {
        return Outcome::verdict(
            true,
            "every NVMe namespace is under dm-crypt",
            "SED locking or dm-crypt",
            evidence,
        );
    }
    let expected = "SED locking or dm-crypt";
    let probed = match facts.nvme_security.get() {
        Ok(p) => p,
        Err(e) => {
            return Outcome {
                status: Status::Error,
                observed: format!(
                    "not under dm-crypt: {}; their SED state is unknown: {}",
                    plain.join(", "),
                    e.message
                ),
                expected: expected.into(),
                evidence,
            };
        }
    };
    let evidence = vec!["/sys/block".to_string(), "/dev/nvme*".to_string()];
    let (mut locked, mut failed, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for ns in &plain {
        let entry = probed
            .iter()
            .find(|s| s.namespaces.iter().any(|n| n == ns))
            .or_else(|| probed.iter().find(|s| s.controller == controller_of(ns)));
        let Some(entry) = entry else {
            unknown.push(format!("{ns}: its controller was not probed"));
            continue;
        };
        let Some(tcg) = &entry.tcg else {
            let why = entry.error.as_deref().unwrap_or("TCG state not read");
            unknown.push(format!("{ns}: {why}"));
            continue;
        };
        match sed_state(tcg) {
            Ok(state) => locked.push(format!("{ns} ({state})")),
            Err(why) => failed.push(format!("{ns}: {why}")),
        }
    }
    if !failed.is_empty() {
        failed.extend(unknown.iter().map(|u| format!("{u} (unknown)")));
        return Outcome::verdict(
            false,
            format!("not encrypted at rest: {}", failed.join("; ")),
            expected,
            evidence,
        );
    }
    if !unknown.is_empty() {
        return Outcome {
            status: Status::Error,
            observed: format!(
                "not under dm-crypt, SED state unknown: {}",
                unknown.join("; ")
            ),
            expected: expected.into(),
            evidence,
        };
    }
    Outcome::verdict(
        true,
        format!(
            "not under dm-crypt but on an SED with locking enabled: {}",
            locked.join(", ")
        ),
        expected,
        evidence,
    )
}

/// The controller a namespace name belongs to: `nvme0n1` → `nvme0`.
fn controller_of(ns: &str) -> &str {
    ns.rfind('n')
        .filter(|&i| i >= "nvme".len())
        .map_or(ns, |i| &ns[..i])
}

/// Whether a Level 0 summary is an SED with locking enabled (`Ok` with a
/// short description), or why not.
fn sed_state(t: &tractorsec_facts::Level0Summary) -> Result<String, String> {
    let ssc = t.ssc.label();
    match (t.ssc, t.sed_present, t.locking_enabled) {
        (tractorsec_facts::Ssc::None, _, _) => Err("no TCG security subsystem".into()),
        (_, true, true) => Ok(format!("{ssc} SED, locking enabled")),
        (_, true, false) => Err(format!("{ssc} SED, locking not enabled")),
        (s, false, _) if !s.encrypting() => {
            Err(format!("{ssc} (locking without media encryption)"))
        }
        (_, false, _) => Err(format!(
            "{ssc} without media encryption in its Locking feature"
        )),
    }
}
