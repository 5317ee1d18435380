//! IOMMU units and groups, and PCI functions with their drivers and groups.

use crate::error::FactError;
use crate::model::{Iommu, PciDevice, Source};
use crate::root::{Root, join};
use std::collections::BTreeMap;

/// IOMMU hardware units.
pub const CLASS_IOMMU: &str = "/sys/class/iommu";
/// IOMMU groups, each with a `devices/` directory.
pub const IOMMU_GROUPS: &str = "/sys/kernel/iommu_groups";
/// PCI functions.
pub const PCI_DEVICES: &str = "/sys/bus/pci/devices";

/// Read IOMMU units and groups of a runtime root. Missing directories mean
/// no IOMMU (empty lists), not an error.
pub fn collect_iommu(root: &Root) -> Source<Iommu> {
    collect_iommu_inner(root).into()
}

fn collect_iommu_inner(root: &Root) -> Result<Iommu, FactError> {
    root.require_runtime(IOMMU_GROUPS)?;
    let units = root.read_dir_optional(CLASS_IOMMU)?;
    let mut groups = BTreeMap::new();
    for group in root.read_dir_optional(IOMMU_GROUPS)? {
        let devices_dir = join(&join(IOMMU_GROUPS, &group), "devices");
        let mut devices = root.read_dir_optional(&devices_dir)?;
        devices.sort();
        groups.insert(group, devices);
    }
    Ok(Iommu { units, groups })
}

/// Read the PCI functions of a runtime root, sorted by address.
pub fn collect_pci(root: &Root) -> Source<Vec<PciDevice>> {
    collect_pci_inner(root).into()
}

fn collect_pci_inner(root: &Root) -> Result<Vec<PciDevice>, FactError> {
    root.require_runtime(PCI_DEVICES)?;
    let mut devices = Vec::new();
    for address in root.read_dir(PCI_DEVICES)? {
        let dir = join(PCI_DEVICES, &address);
        devices.push(PciDevice {
            vendor: attribute(root, &join(&dir, "vendor")),
            device: attribute(root, &join(&dir, "device")),
            class: attribute(root, &join(&dir, "class")),
            driver: link_basename(root, &join(&dir, "driver")),
            iommu_group: link_basename(root, &join(&dir, "iommu_group")),
            address,
        });
    }
    devices.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(devices)
}

/// A sysfs attribute, trimmed; empty when it cannot be read.
pub fn attribute(root: &Root, path: &str) -> String {
    root.read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The last component of a symlink's target, as written (not resolved).
pub fn link_basename(root: &Root, path: &str) -> Option<String> {
    root.read_link(path)
        .ok()
        .and_then(|target| basename(&target))
}

/// The last non-empty `/`-separated component of a path.
pub fn basename(path: &str) -> Option<String> {
    path.rsplit('/')
        .find(|c| !c.is_empty() && *c != "." && *c != "..")
        .map(str::to_string)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    fn runtime_tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "intel_iommu=on\n").unwrap();
        tmp
    }

    fn pci_function(top: &Path, address: &str, class: &str, driver: Option<&str>, group: &str) {
        let real = top.join("sys/devices/pci0000:17").join(address);
        fs::create_dir_all(&real).unwrap();
        fs::write(real.join("vendor"), "0x10de\n").unwrap();
        fs::write(real.join("device"), "0x2330\n").unwrap();
        fs::write(real.join("class"), format!("{class}\n")).unwrap();
        if let Some(d) = driver {
            fs::create_dir_all(top.join("sys/bus/pci/drivers").join(d)).unwrap();
            symlink(
                format!("../../../../bus/pci/drivers/{d}"),
                real.join("driver"),
            )
            .unwrap();
        }
        let gdir = top
            .join("sys/kernel/iommu_groups")
            .join(group)
            .join("devices");
        fs::create_dir_all(&gdir).unwrap();
        symlink(
            format!("../../../../kernel/iommu_groups/{group}"),
            real.join("iommu_group"),
        )
        .unwrap();
        symlink(
            format!("../../../../devices/pci0000:17/{address}"),
            gdir.join(address),
        )
        .unwrap();
        fs::create_dir_all(top.join("sys/bus/pci/devices")).unwrap();
        symlink(
            format!("../../../devices/pci0000:17/{address}"),
            top.join("sys/bus/pci/devices").join(address),
        )
        .unwrap();
    }

    #[test]
    fn pci_reads_ids_driver_and_group_from_relative_links() {
        let tmp = runtime_tree();
        pci_function(tmp.path(), "0000:19:00.0", "0x030200", None, "40");
        pci_function(tmp.path(), "0000:18:00.0", "0x030200", Some("nvidia"), "39");
        pci_function(
            tmp.path(),
            "0000:18:00.1",
            "0x040300",
            Some("vfio-pci"),
            "39",
        );
        let root = Root::open(tmp.path()).unwrap();
        let pci = collect_pci(&root).ok().unwrap().clone();
        assert_eq!(pci.len(), 3);
        assert_eq!(pci[0].address, "0000:18:00.0");
        assert_eq!(pci[0].vendor, "0x10de");
        assert_eq!(pci[0].class, "0x030200");
        assert_eq!(pci[0].driver.as_deref(), Some("nvidia"));
        assert_eq!(pci[0].iommu_group.as_deref(), Some("39"));
        assert_eq!(pci[1].driver.as_deref(), Some("vfio-pci"));
        assert_eq!(pci[2].driver, None);

        let iommu = collect_iommu(&root).ok().unwrap().clone();
        assert_eq!(iommu.groups["39"], vec!["0000:18:00.0", "0000:18:00.1"]);
        assert_eq!(iommu.groups["40"], vec!["0000:19:00.0"]);
        assert!(iommu.units.is_empty());
    }

    #[test]
    fn iommu_absent_is_empty_not_error() {
        let tmp = runtime_tree();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(collect_iommu(&root).ok().unwrap(), &Iommu::default());
    }

    #[test]
    fn iommu_units_are_listed() {
        let tmp = runtime_tree();
        fs::create_dir_all(tmp.path().join("sys/class/iommu/dmar1")).unwrap();
        fs::create_dir_all(tmp.path().join("sys/class/iommu/dmar0")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            collect_iommu(&root).ok().unwrap().units,
            vec!["dmar0", "dmar1"]
        );
    }

    #[test]
    fn basename_takes_last_component() {
        assert_eq!(
            basename("../../../bus/pci/drivers/nvidia").as_deref(),
            Some("nvidia")
        );
        assert_eq!(
            basename("/sys/kernel/iommu_groups/7/").as_deref(),
            Some("7")
        );
        assert_eq!(basename(""), None);
    }
}
