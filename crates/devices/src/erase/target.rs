//! The device to erase: resolved from a `/dev` path to its kernel name,
//! geometry, identity (serial, model, firmware) and the set of devices an
//! erase of it touches.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tractorsec_facts::{FactError, Root};

use super::topology::{Topology, dev_string};
use crate::block::{
    CLASS_BLOCK, CLASS_NVME, is_namespace_of, namespaces_of, optional_attribute, sectors_to_bytes,
};

/// What kind of device it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum TargetKind {
    /// An NVMe namespace of `controller` (`nvme0`).
    Nvme {
        /// The controller whose admin commands erase it.
        controller: String,
    },
    /// A loop device backed by a file.
    Loop {
        /// The backing file.
        backing_file: String,
    },
    /// Any other block device.
    Block,
}

/// The device to erase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The path given (`/dev/nvme0n1`, a `/dev/disk/by-id` link …).
    pub path: String,
    /// Kernel name (`nvme0n1`).
    pub name: String,
    /// `major:minor`.
    pub dev: String,
    /// NVMe namespace, loop device or other.
    pub kind: TargetKind,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Logical block size in bytes.
    pub logical_block_size: u32,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware revision.
    pub firmware: Option<String>,
    /// World-wide identifier (`wwid`).
    pub wwid: Option<String>,
    /// Every device the erase reaches, which must all be unused: the device
    /// and its partitions; for NVMe every namespace of the controller
    /// (Sanitize covers the whole NVM subsystem) and their partitions.
    pub reaches: Vec<String>,
}

/// Why a path cannot be erased at all.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The path could not be examined.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a block device.
    #[error("{0} is not a block device")]
    NotBlock(String),
    /// A partition, not a whole device.
    #[error("{path} is partition {name} of {parent}: erase the whole device ({parent})")]
    Partition {
        /// The path.
        path: String,
        /// Partition name.
        name: String,
        /// Its disk.
        parent: String,
    },
    /// Read-only device.
    #[error("{0} is read-only")]
    ReadOnly(String),
    /// Its logical block size does not divide 4 KiB.
    #[error("{path}: logical block size {size} is not supported (must divide 4096)")]
    BlockSize {
        /// The path.
        path: String,
        /// Its logical block size.
        size: u32,
    },
    /// sysfs could not be read.
    #[error(transparent)]
    Fact(#[from] FactError),
}

impl Target {
    /// Resolve `path` (a block device node, symlinks followed) on the live
    /// system described by `root` and `topology`.
    pub fn resolve(root: &Root, topology: &Topology, path: &Path) -> Result<Self, TargetError> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| TargetError::Io {
            path: shown.clone(),
            source,
        })?;
        if !meta.file_type().is_block_device() {
            return Err(TargetError::NotBlock(shown));
        }
        let dev = dev_string(meta.rdev());
        let (name, node) = topology.iter().find(|(_, n)| n.dev == dev).ok_or_else(|| {
            TargetError::NotBlock(format!("{shown} ({dev} is not in {CLASS_BLOCK})"))
        })?;
        if let Some(parent) = &node.parent {
            return Err(TargetError::Partition {
                path: shown,
                name: name.clone(),
                parent: parent.clone(),
            });
        }
        let dir = format!("{CLASS_BLOCK}/{name}");
        let attr = |p: &str| optional_attribute(root, &format!("{dir}/{p}"));
        if attr("ro").as_deref() == Some("1") {
            return Err(TargetError::ReadOnly(shown));
        }
        let logical_block_size = attr("queue/logical_block_size")
            .and_then(|s| s.parse().ok())
            .unwrap_or(512);
        if logical_block_size == 0 || 4096 % logical_block_size != 0 {
            return Err(TargetError::BlockSize {
                path: shown,
                size: logical_block_size,
            });
        }
        let controller = root
            .read_dir_optional(CLASS_NVME)?
            .into_iter()
            .find(|c| is_namespace_of(c, name));
        let mut reaches = vec![name.clone()];
        let (kind, identity_dir) = if let Some(controller) = controller {
            reaches = namespaces_of(root, &controller)?;
            let ctrl_dir = format!("{CLASS_NVME}/{controller}");
            (TargetKind::Nvme { controller }, ctrl_dir)
        } else if let Some(backing_file) = attr("loop/backing_file") {
            (TargetKind::Loop { backing_file }, format!("{dir}/device"))
        } else {
            (TargetKind::Block, format!("{dir}/device"))
        };
        for n in reaches.clone() {
            if let Some(node) = topology.get(&n) {
                reaches.extend(node.partitions.iter().cloned());
            }
        }
        reaches.sort();
        reaches.dedup();
        let id = |p: &str| optional_attribute(root, &format!("{identity_dir}/{p}"));
        Ok(Self {
            path: shown,
            name: name.clone(),
            dev,
            kind,
            size_bytes: sectors_to_bytes(&attr("size").unwrap_or_default()),
            logical_block_size,
            model: id("model"),
            serial: id("serial").or_else(|| attr("serial")),
            firmware: id("firmware_rev").or_else(|| id("rev")),
            wwid: attr("wwid").or_else(|| id("wwid")),
            reaches,
        })
    }

    /// What `--confirm` must repeat, and what it is: the serial number, or
    /// the WWID, or a loop device's backing file; `None` when the device
    /// has no identity to confirm.
    #[must_use]
    pub fn identity(&self) -> Option<(&'static str, &str)> {
        if let Some(s) = &self.serial {
            return Some(("serial", s));
        }
        if let Some(w) = &self.wwid {
            return Some(("wwid", w));
        }
        match &self.kind {
            TargetKind::Loop { backing_file } => Some(("backing file", backing_file)),
            _ => None,
        }
    }
}
