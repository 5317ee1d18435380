//! GPUs (PCI class 0x0300/0x0302) with their NVIDIA minor, and DRM cards.

use crate::model::{DrmCard, Gpu};
use crate::nodes::nodes;
use crate::pci::{PciIndex, pci_address_of};
use tractorsec_facts::{FactError, Root};

/// DRM cards and connectors.
pub const CLASS_DRM: &str = "/sys/class/drm";
/// Per-GPU information files of the NVIDIA driver.
pub const NVIDIA_GPUS: &str = "/proc/driver/nvidia/gpus";

/// The `Device Minor:` of `/proc/driver/nvidia/gpus/ADDR/information`.
pub fn parse_device_minor(text: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "Device Minor")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// `cardN` (a card, not a connector such as `card0-DP-1`).
pub fn is_card(name: &str) -> bool {
    name.strip_prefix("card")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Every DRM card, with its `/dev/dri` nodes.
pub fn drm(root: &Root) -> Result<Vec<DrmCard>, FactError> {
    let mut out = Vec::new();
    for name in root.read_dir_optional(CLASS_DRM)? {
        if !is_card(&name) {
            continue;
        }
        let dir = format!("{CLASS_DRM}/{name}");
        let mut paths = vec![format!("/dev/dri/{name}")];
        for sibling in root.read_dir_optional(&format!("{dir}/device/drm"))? {
            if sibling.starts_with("renderD") {
                paths.push(format!("/dev/dri/{sibling}"));
            }
        }
        out.push(DrmCard {
            pci_address: pci_address_of(root, &dir),
            nodes: nodes(root, &paths),
            name,
        });
    }
    Ok(out)
}

/// Every GPU function, with its NVIDIA minor, DRM cards and nodes.
pub fn gpus(root: &Root, pci: &PciIndex, drm: &[DrmCard]) -> Vec<Gpu> {
    pci.gpus()
        .into_iter()
        .map(|info| {
            let information = format!("{NVIDIA_GPUS}/{}/information", info.address);
            let nvidia_minor = root
                .read_to_string(&information)
                .ok()
                .and_then(|t| parse_device_minor(&t));
            let drm_cards = drm
                .iter()
                .filter(|c| c.pci_address.as_deref() == Some(info.address.as_str()))
                .map(|c| c.name.clone())
                .collect();
            let paths: Vec<String> = nvidia_minor
                .map(|m| format!("/dev/nvidia{m}"))
                .into_iter()
                .collect();
            Gpu {
                nodes: nodes(root, &paths),
                pci: info,
                nvidia_minor,
                drm_cards,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Excerpt of a real R550 `information` file.
    const INFORMATION: &str = "Model: \t\t NVIDIA H100 80GB HBM3
IRQ:   \t\t 0
GPU UUID: \t GPU-3b2b7c1e-0000-0000-0000-000000000000
Video BIOS: \t 96.00.99.00.01
Bus Type: \t PCIe
DMA Size: \t 52 bits
DMA Mask: \t 0xfffffffffffff
Bus Location: \t 0000:18:00.0
Device Minor: \t 3
GPU Excluded:\t No
";

    #[test]
    fn device_minor_from_information() {
        assert_eq!(parse_device_minor(INFORMATION), Some(3));
        assert_eq!(parse_device_minor("Model: x\n"), None);
        assert_eq!(parse_device_minor("Device Minor: ?\n"), None);
    }

    #[test]
    fn cards_not_connectors() {
        assert!(is_card("card0"));
        assert!(is_card("card12"));
        assert!(!is_card("card0-DP-1"));
        assert!(!is_card("renderD128"));
        assert!(!is_card("card"));
    }
}
