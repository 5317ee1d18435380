//! An inventory of the devices a GPU/AI node exposes — NVMe, block, GPU, DRM,
//! RDMA and network devices — read from sysfs through a
//! [`tractorsec_facts::Root`], with the IOMMU group of every PCI function and
//! the `/dev` nodes of every device.

mod block;
pub mod erase;
mod gpu;
mod model;
mod net;
mod nodes;
pub mod nvme;
pub mod opal;
mod pci;
pub mod security;
mod text;
mod wire;

pub use model::*;
pub use text::{human_bytes, render_text};
pub use wire::ParseError;

use tractorsec_facts::{FactError, Root};

/// Read the inventory of a runtime root (the live `/` or a captured tree).
pub fn collect(root: &Root) -> Result<Inventory, FactError> {
    root.require_runtime("/sys")?;
    let pci = pci::PciIndex::read(root)?;
    let nvme = block::nvme(root, &pci)?;
    let block = block::block(root, &pci, &nvme)?;
    let drm = gpu::drm(root)?;
    Ok(Inventory {
        gpus: gpu::gpus(root, &pci, &drm),
        rdma: net::rdma(root, &pci)?,
        nics: net::nics(root, &pci)?,
        nvme,
        block,
        drm,
    })
}
