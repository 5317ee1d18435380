//! The inventory model: what `tractorsec devices --format json` prints.

use serde::{Deserialize, Serialize};

/// Every device of interest on one system, each list in a fixed order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Inventory {
    /// NVMe controllers, by name.
    pub nvme: Vec<NvmeController>,
    /// Block devices that are neither partitions nor NVMe namespaces, by name.
    pub block: Vec<BlockDevice>,
    /// GPUs (PCI class `0x0300xx` or `0x0302xx`), by PCI address.
    pub gpus: Vec<Gpu>,
    /// DRM cards, by name.
    pub drm: Vec<DrmCard>,
    /// RDMA devices, by name.
    pub rdma: Vec<RdmaDevice>,
    /// Network interfaces backed by a device, by name.
    pub nics: Vec<Nic>,
}

/// A PCI function and who shares its IOMMU group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PciInfo {
    /// `0000:18:00.0`.
    pub address: String,
    /// Vendor id (`0x10de`).
    pub vendor: String,
    /// Device id.
    pub device: String,
    /// Class code (`0x030200`).
    pub class: String,
    /// Bound driver name.
    pub driver: Option<String>,
    /// NUMA node (`None` when unknown or `-1`).
    pub numa_node: Option<u32>,
    /// IOMMU group number.
    pub iommu_group: Option<String>,
    /// The other PCI functions in the same IOMMU group, sorted.
    pub iommu_peers: Vec<String>,
}

/// A device node under `/dev` (not followed when a symlink).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Node {
    /// Path inside the root.
    pub path: String,
    /// `c`, `b`, or `l` for a symlink, `-` for anything else.
    pub kind: String,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
}

/// An NVMe controller (`/sys/class/nvme/nvmeX`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NvmeController {
    /// `nvme0`.
    pub name: String,
    /// Model string.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Firmware revision.
    pub firmware_rev: String,
    /// `pcie`, `tcp`, `rdma`, `fc`, `loop`.
    pub transport: String,
    /// The controller's `address` attribute (a PCI address for `pcie`).
    pub address: String,
    /// The PCI function behind it, when there is one.
    pub pci: Option<PciInfo>,
    /// Its namespaces, by name.
    pub namespaces: Vec<NvmeNamespace>,
    /// `/dev/nvmeX`.
    pub nodes: Vec<Node>,
    /// Identify Controller and TCG Level 0 facts: read only on the live
    /// system (as root), absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub security: Option<tractorsec_facts::NvmeSecurity>,
}

/// An NVMe namespace (`nvmeXnY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NvmeNamespace {
    /// `nvme0n1`.
    pub name: String,
    /// Size in bytes (`size` × 512).
    pub size_bytes: u64,
    /// `queue/logical_block_size`.
    pub logical_block_size: Option<u64>,
    /// `/dev/nvmeXnY` and `/dev/ngXnY`.
    pub nodes: Vec<Node>,
}

/// A whole block device that is not an NVMe namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BlockDevice {
    /// `vda`, `sda`, `dm-0`.
    pub name: String,
    /// Size in bytes (`size` × 512).
    pub size_bytes: u64,
    /// `removable` is 1.
    pub removable: bool,
    /// `queue/rotational` is 1.
    pub rotational: bool,
    /// `device/model`, when present.
    pub model: Option<String>,
    /// `device/serial`, when present.
    pub serial: Option<String>,
    /// Devices stacked on it (dm, md, LVM), from `holders/`.
    pub holders: Vec<String>,
    /// Its partitions.
    pub partitions: Vec<String>,
    /// The PCI function behind it, when there is one.
    pub pci: Option<PciInfo>,
    /// `/dev/NAME`.
    pub nodes: Vec<Node>,
}

/// A GPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gpu {
    /// The PCI function.
    pub pci: PciInfo,
    /// NVIDIA device minor from `/proc/driver/nvidia/gpus/ADDR/information`.
    pub nvidia_minor: Option<u32>,
    /// DRM cards of this GPU (`card0`).
    pub drm_cards: Vec<String>,
    /// `/dev/nvidiaN`.
    pub nodes: Vec<Node>,
}

/// A DRM card (`/sys/class/drm/cardN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DrmCard {
    /// `card0`.
    pub name: String,
    /// PCI address of its device.
    pub pci_address: Option<String>,
    /// `/dev/dri/cardN` and its `renderD*`.
    pub nodes: Vec<Node>,
}

/// An RDMA device (`/sys/class/infiniband/NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RdmaDevice {
    /// `mlx5_0`.
    pub name: String,
    /// The PCI function behind it.
    pub pci: Option<PciInfo>,
    /// Its ports, by number.
    pub ports: Vec<RdmaPort>,
    /// `/dev/infiniband/uverbsN`.
    pub nodes: Vec<Node>,
}

/// One RDMA port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RdmaPort {
    /// Port number.
    pub port: u32,
    /// `ACTIVE`, `DOWN`, … (from `state`, `4: ACTIVE`).
    pub state: Option<String>,
    /// `InfiniBand` or `Ethernet`.
    pub link_layer: Option<String>,
}

/// A network interface with a `device` link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Nic {
    /// `eth0`.
    pub name: String,
    /// MAC address.
    pub mac: Option<String>,
    /// Driver of its device (`mlx5_core`, `virtio_net`).
    pub driver: Option<String>,
    /// The PCI function behind it.
    pub pci: Option<PciInfo>,
}
