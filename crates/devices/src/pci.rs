//! PCI functions (read by `tractorsec_facts`' collectors) indexed by address,
//! with NUMA node and IOMMU group peers, and the PCI function behind a sysfs
//! class device.

use crate::model::PciInfo;
use std::collections::BTreeMap;
use std::path::{Component, Path};
use tractorsec_facts::collect::iommu::{PCI_DEVICES, attribute, collect_iommu, collect_pci};
use tractorsec_facts::{FactError, PciDevice, Root};

/// PCI functions by address, and IOMMU group members by group.
#[derive(Debug, Default)]
pub struct PciIndex {
    devices: BTreeMap<String, (PciDevice, Option<u32>)>,
    groups: BTreeMap<String, Vec<String>>,
}

impl PciIndex {
    /// Read every PCI function and IOMMU group beneath a runtime root.
    pub fn read(root: &Root) -> Result<PciIndex, FactError> {
        let devices = collect_pci(root).get().map_err(Clone::clone)?.clone();
        let groups = collect_iommu(root)
            .get()
            .map_err(Clone::clone)?
            .groups
            .clone();
        let devices = devices
            .into_iter()
            .map(|d| {
                let numa = parse_numa_node(&attribute(
                    root,
                    &format!("{PCI_DEVICES}/{}/numa_node", d.address),
                ));
                (d.address.clone(), (d, numa))
            })
            .collect();
        Ok(PciIndex { devices, groups })
    }

    /// The function at `address`, with its group peers.
    pub fn info(&self, address: &str) -> Option<PciInfo> {
        let (d, numa_node) = self.devices.get(address)?;
        let iommu_peers = d
            .iommu_group
            .as_ref()
            .and_then(|g| self.groups.get(g))
            .map(|members| members.iter().filter(|m| *m != address).cloned().collect())
            .unwrap_or_default();
        Some(PciInfo {
            address: d.address.clone(),
            vendor: d.vendor.clone(),
            device: d.device.clone(),
            class: d.class.clone(),
            driver: d.driver.clone(),
            numa_node: *numa_node,
            iommu_group: d.iommu_group.clone(),
            iommu_peers,
        })
    }

    /// Every GPU function, by address.
    pub fn gpus(&self) -> Vec<PciInfo> {
        self.devices
            .values()
            .filter(|(d, _)| is_gpu_class(&d.class))
            .filter_map(|(d, _)| self.info(&d.address))
            .collect()
    }
}

/// PCI class `0x0300xx` (VGA) or `0x0302xx` (3D controller).
pub fn is_gpu_class(class: &str) -> bool {
    let class = class.trim().to_ascii_lowercase();
    let hex = class.strip_prefix("0x").unwrap_or(&class);
    hex.len() == 6 && (hex.starts_with("0300") || hex.starts_with("0302"))
}

/// A sysfs `numa_node`: `-1` (or garbage) means unknown.
pub fn parse_numa_node(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

/// `DDDD:BB:DD.F` in hex.
pub fn is_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_hexdigit);
    b.len() == 12
        && b[4] == b':'
        && b[7] == b':'
        && b[10] == b'.'
        && hex(0..4)
        && hex(5..7)
        && hex(8..10)
        && hex(11..12)
}

/// The PCI address nearest above `dir/device` once resolved beneath the root
/// (the device itself for NVMe and NICs, its parent for virtio).
pub fn pci_address_of(root: &Root, dir: &str) -> Option<String> {
    let resolved = root.resolve(&format!("{dir}/device")).ok()?;
    let resolved = std::fs::canonicalize(resolved).ok()?;
    let inside = resolved.strip_prefix(root.dir()).ok()?;
    nearest_pci_address(inside)
}

/// The last component of a path that is a PCI address.
pub fn nearest_pci_address(path: &Path) -> Option<String> {
    path.components().rev().find_map(|c| match c {
        Component::Normal(s) => s.to_str().filter(|s| is_pci_address(s)).map(str::to_string),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_classes() {
        assert!(is_gpu_class("0x030200\n"));
        assert!(is_gpu_class("0x030000"));
        assert!(!is_gpu_class("0x020000"));
        assert!(!is_gpu_class("0x0302"));
    }

    #[test]
    fn numa_node_minus_one_is_unknown() {
        assert_eq!(parse_numa_node("1\n"), Some(1));
        assert_eq!(parse_numa_node("-1\n"), None);
        assert_eq!(parse_numa_node(""), None);
    }

    #[test]
    fn pci_addresses() {
        assert!(is_pci_address("0000:18:00.0"));
        assert!(!is_pci_address("pci0000:00"));
        assert!(!is_pci_address("virtio0"));
        assert!(!is_pci_address("0000:18:00:0"));
    }

    #[test]
    fn nearest_pci_address_skips_virtio_child() {
        let p = Path::new("sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/virtio3");
        assert_eq!(nearest_pci_address(p).as_deref(), Some("0000:01:00.0"));
        let fabrics = Path::new("sys/devices/virtual/nvme-fabrics/ctl/nvme1");
        assert_eq!(nearest_pci_address(fabrics), None);
    }
}
