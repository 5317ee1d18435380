//! NVMe controllers with their namespaces, and the other whole block devices.

use crate::model::{BlockDevice, NvmeController, NvmeNamespace};
use crate::nodes::nodes;
use crate::pci::{PciIndex, pci_address_of};
use std::collections::BTreeSet;
use tractorsec_facts::collect::iommu::attribute;
use tractorsec_facts::{FactError, Root};

/// NVMe controllers.
pub const CLASS_NVME: &str = "/sys/class/nvme";
/// Block devices and partitions.
pub const CLASS_BLOCK: &str = "/sys/class/block";

/// A sysfs `size` (512-byte sectors) in bytes; 0 when unreadable.
pub fn sectors_to_bytes(text: &str) -> u64 {
    text.trim()
        .parse::<u64>()
        .map_or(0, |s| s.saturating_mul(512))
}

/// A sysfs `0`/`1` flag.
pub fn parse_flag(text: &str) -> bool {
    text.trim() == "1"
}

/// `nvmeXnY` is a namespace of controller `nvmeX`.
pub fn is_namespace_of(controller: &str, name: &str) -> bool {
    name.strip_prefix(controller)
        .and_then(|rest| rest.strip_prefix('n'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The generic character node of a namespace: `nvme0n1` → `ng0n1`.
pub fn generic_node_name(namespace: &str) -> Option<String> {
    namespace
        .strip_prefix("nvme")
        .map(|rest| format!("ng{rest}"))
}

/// A sysfs attribute, `None` when missing or empty.
pub fn optional_attribute(root: &Root, path: &str) -> Option<String> {
    Some(attribute(root, path)).filter(|s| !s.is_empty())
}

/// The namespaces of NVMe controller `controller` (`nvme0n1` …), sorted.
pub fn namespaces_of(root: &Root, controller: &str) -> Result<Vec<String>, FactError> {
    Ok(root
        .read_dir_optional(&format!("{CLASS_NVME}/{controller}"))?
        .into_iter()
        .filter(|ns| is_namespace_of(controller, ns))
        .collect())
}

/// Every NVMe controller and its namespaces.
pub fn nvme(root: &Root, pci: &PciIndex) -> Result<Vec<NvmeController>, FactError> {
    let mut out = Vec::new();
    for name in root.read_dir_optional(CLASS_NVME)? {
        let dir = format!("{CLASS_NVME}/{name}");
        let mut namespaces = Vec::new();
        for ns in namespaces_of(root, &name)? {
            let bdir = format!("{CLASS_BLOCK}/{ns}");
            let mut paths = vec![format!("/dev/{ns}")];
            paths.extend(generic_node_name(&ns).map(|g| format!("/dev/{g}")));
            namespaces.push(NvmeNamespace {
                size_bytes: sectors_to_bytes(&attribute(root, &format!("{bdir}/size"))),
                logical_block_size: attribute(root, &format!("{bdir}/queue/logical_block_size"))
                    .parse()
                    .ok(),
                nodes: nodes(root, &paths),
                name: ns,
            });
        }
        out.push(NvmeController {
            model: attribute(root, &format!("{dir}/model")),
            serial: attribute(root, &format!("{dir}/serial")),
            firmware_rev: attribute(root, &format!("{dir}/firmware_rev")),
            transport: attribute(root, &format!("{dir}/transport")),
            address: attribute(root, &format!("{dir}/address")),
            pci: pci_address_of(root, &dir).and_then(|a| pci.info(&a)),
            namespaces,
            nodes: nodes(root, &[format!("/dev/{name}")]),
            security: None,
            name,
        });
    }
    Ok(out)
}

/// Whole block devices, leaving out partitions, hidden devices and the
/// namespaces already listed under `nvme`.
pub fn block(
    root: &Root,
    pci: &PciIndex,
    nvme: &[NvmeController],
) -> Result<Vec<BlockDevice>, FactError> {
    let claimed: BTreeSet<&str> = nvme
        .iter()
        .flat_map(|c| c.namespaces.iter().map(|n| n.name.as_str()))
        .collect();
    let mut out = Vec::new();
    for name in root.read_dir_optional(CLASS_BLOCK)? {
        let dir = format!("{CLASS_BLOCK}/{name}");
        if claimed.contains(name.as_str())
            || root.exists(&format!("{dir}/partition"))
            || parse_flag(&attribute(root, &format!("{dir}/hidden")))
        {
            continue;
        }
        let partitions = root
            .read_dir_optional(&dir)?
            .into_iter()
            .filter(|p| {
                p.starts_with(name.as_str()) && root.exists(&format!("{dir}/{p}/partition"))
            })
            .collect();
        out.push(BlockDevice {
            size_bytes: sectors_to_bytes(&attribute(root, &format!("{dir}/size"))),
            removable: parse_flag(&attribute(root, &format!("{dir}/removable"))),
            rotational: parse_flag(&attribute(root, &format!("{dir}/queue/rotational"))),
            model: optional_attribute(root, &format!("{dir}/device/model")),
            serial: optional_attribute(root, &format!("{dir}/device/serial")),
            holders: root.read_dir_optional(&format!("{dir}/holders"))?,
            partitions,
            pci: pci_address_of(root, &dir).and_then(|a| pci.info(&a)),
            nodes: nodes(root, &[format!("/dev/{name}")]),
            name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_sectors_times_512() {
        assert_eq!(sectors_to_bytes("7501476528\n"), 3_840_755_982_336);
        assert_eq!(sectors_to_bytes("garbage"), 0);
    }

    #[test]
    fn flags() {
        assert!(parse_flag("1\n"));
        assert!(!parse_flag("0\n"));
        assert!(!parse_flag(""));
    }

    #[test]
    fn namespaces_belong_to_their_controller() {
        assert!(is_namespace_of("nvme0", "nvme0n1"));
        assert!(is_namespace_of("nvme1", "nvme1n12"));
        assert!(!is_namespace_of("nvme1", "nvme10n1"));
        assert!(!is_namespace_of("nvme0", "nvme0c0n1"));
        assert!(!is_namespace_of("nvme0", "device"));
    }

    #[test]
    fn generic_nodes() {
        assert_eq!(generic_node_name("nvme0n1").as_deref(), Some("ng0n1"));
        assert_eq!(generic_node_name("sda"), None);
    }
}
