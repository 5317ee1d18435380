//! RDMA devices with their ports, and network interfaces backed by a device.

use crate::model::{Nic, RdmaDevice, RdmaPort};
use crate::nodes::nodes;
use crate::pci::{PciIndex, pci_address_of};
use tractorsec_facts::collect::iommu::{attribute, link_basename};
use tractorsec_facts::{FactError, Root};

/// RDMA devices.
pub const CLASS_INFINIBAND: &str = "/sys/class/infiniband";
/// Network interfaces.
pub const CLASS_NET: &str = "/sys/class/net";

/// A port `state` (`4: ACTIVE`) without its number.
pub fn parse_port_state(text: &str) -> Option<String> {
    let text = text.trim();
    let state = text.split_once(':').map_or(text, |(_, s)| s).trim();
    Some(state.to_string()).filter(|s| !s.is_empty())
}

/// Every RDMA device, with its ports and `uverbs` nodes.
pub fn rdma(root: &Root, pci: &PciIndex) -> Result<Vec<RdmaDevice>, FactError> {
    let mut out = Vec::new();
    for name in root.read_dir_optional(CLASS_INFINIBAND)? {
        let dir = format!("{CLASS_INFINIBAND}/{name}");
        let mut ports = Vec::new();
        for port in root.read_dir_optional(&format!("{dir}/ports"))? {
            let Ok(number) = port.parse() else { continue };
            let pdir = format!("{dir}/ports/{port}");
            ports.push(RdmaPort {
                port: number,
                state: parse_port_state(&attribute(root, &format!("{pdir}/state"))),
                link_layer: Some(attribute(root, &format!("{pdir}/link_layer")))
                    .filter(|s| !s.is_empty()),
            });
        }
        ports.sort_by_key(|p| p.port);
        let verbs: Vec<String> = root
            .read_dir_optional(&format!("{dir}/device/infiniband_verbs"))?
            .into_iter()
            .filter(|v| v.starts_with("uverbs"))
            .map(|v| format!("/dev/infiniband/{v}"))
            .collect();
        out.push(RdmaDevice {
            pci: pci_address_of(root, &dir).and_then(|a| pci.info(&a)),
            ports,
            nodes: nodes(root, &verbs),
            name,
        });
    }
    Ok(out)
}

/// Every network interface with a `device` link (virtual ones have none).
pub fn nics(root: &Root, pci: &PciIndex) -> Result<Vec<Nic>, FactError> {
    let mut out = Vec::new();
    for name in root.read_dir_optional(CLASS_NET)? {
        let dir = format!("{CLASS_NET}/{name}");
        if !root.exists(&format!("{dir}/device")) {
            continue;
        }
        out.push(Nic {
            mac: Some(attribute(root, &format!("{dir}/address"))).filter(|s| !s.is_empty()),
            driver: link_basename(root, &format!("{dir}/device/driver")),
            pci: pci_address_of(root, &dir).and_then(|a| pci.info(&a)),
            name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_state_drops_the_number() {
        assert_eq!(parse_port_state("4: ACTIVE\n").as_deref(), Some("ACTIVE"));
        assert_eq!(parse_port_state("1: DOWN").as_deref(), Some("DOWN"));
        assert_eq!(parse_port_state("ACTIVE").as_deref(), Some("ACTIVE"));
        assert_eq!(parse_port_state(""), None);
    }
}
