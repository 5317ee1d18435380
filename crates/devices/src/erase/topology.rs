//! Who uses which block device: the sysfs block topology (partitions,
//! holders, slaves) and the mounts, swap areas and root filesystem that sit
//! on it. Read once before an erase; judged by [`super::refusal`].

use std::collections::{BTreeMap, BTreeSet};

use tractorsec_facts::collect::devnodes::{dev_major, dev_minor};
use tractorsec_facts::collect::iommu::attribute;
use tractorsec_facts::collect::mountinfo;
use tractorsec_facts::{FactError, ParseError, Root};

use crate::block::CLASS_BLOCK;

/// One block device or partition in sysfs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockNode {
    /// `major:minor`.
    pub dev: String,
    /// The whole device, when this is a partition.
    pub parent: Option<String>,
    /// Its partitions.
    pub partitions: Vec<String>,
    /// Devices stacked on it (`holders/`: dm, md, bcache …).
    pub holders: Vec<String>,
    /// Devices it is stacked on (`slaves/`).
    pub slaves: Vec<String>,
}

/// Every block device by kernel name.
pub type Topology = BTreeMap<String, BlockNode>;

/// Block devices in use, by kernel name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Mounted devices and where (device name, mount point).
    pub mounts: Vec<(String, String)>,
    /// Devices that are active swap areas.
    pub swaps: Vec<String>,
    /// The device holding the running root filesystem.
    pub root: Option<String>,
}

/// Read the block topology from `/sys/class/block`.
pub fn topology(root: &Root) -> Result<Topology, FactError> {
    let mut out = Topology::new();
    for name in root.read_dir_optional(CLASS_BLOCK)? {
        let dir = format!("{CLASS_BLOCK}/{name}");
        let list = |sub: &str| root.read_dir_optional(&format!("{dir}/{sub}"));
        out.insert(
            name.clone(),
            BlockNode {
                dev: attribute(root, &format!("{dir}/dev")),
                parent: None,
                partitions: Vec::new(),
                holders: list("holders")?,
                slaves: list("slaves")?,
            },
        );
    }
    // A partition is a directory with a `partition` file inside its disk's.
    let names: Vec<String> = out.keys().cloned().collect();
    for disk in &names {
        for entry in root.read_dir_optional(&format!("{CLASS_BLOCK}/{disk}"))? {
            if out.contains_key(&entry)
                && root.exists(&format!("{CLASS_BLOCK}/{disk}/{entry}/partition"))
            {
                if let Some(node) = out.get_mut(disk) {
                    node.partitions.push(entry.clone());
                }
                if let Some(part) = out.get_mut(&entry) {
                    part.parent = Some(disk.clone());
                }
            }
        }
    }
    Ok(out)
}

/// One line of `/proc/swaps`: the path and the type (`partition`, `file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapArea {
    /// The swap device or file (octal escapes undone).
    pub path: String,
    /// `partition` or `file`.
    pub kind: String,
}

/// Parse `/proc/swaps` (a header line, then `Filename Type Size Used
/// Priority`). A line with fewer fields is an error naming it.
pub fn parse_swaps(text: &str, file: &str) -> Result<Vec<SwapArea>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line.starts_with("Filename") || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let [path, kind, _size, _used, _priority, ..] = fields[..] else {
            return Err(ParseError::new(
                file,
                i + 1,
                format!(
                    "expected 5 fields (Filename Type Size Used Priority), found {}",
                    fields.len()
                ),
            ));
        };
        out.push(SwapArea {
            path: mountinfo::unescape(path),
            kind: kind.to_string(),
        });
    }
    Ok(out)
}

/// `major:minor` of a device number, as sysfs writes it.
#[must_use]
pub fn dev_string(dev: u64) -> String {
    format!("{}:{}", dev_major(dev), dev_minor(dev))
}

/// What uses the devices of `topology` on the live system: mounts from
/// `/proc/self/mountinfo` (by the device number of each `/dev` source),
/// swap partitions from `/proc/swaps`, and the device of `/`.
pub fn usage(root: &Root, topology: &Topology) -> Result<Usage, FactError> {
    use std::os::unix::fs::MetadataExt;
    let by_dev: BTreeMap<&str, &str> = topology
        .iter()
        .map(|(name, node)| (node.dev.as_str(), name.as_str()))
        .collect();
    let name_of_node = |path: &str| -> Option<String> {
        let meta = root.metadata(path).ok()?;
        by_dev
            .get(dev_string(meta.rdev()).as_str())
            .map(|n| (*n).to_string())
    };
    let mounts = root.parse_runtime_file("/proc/self/mountinfo", mountinfo::parse)?;
    let mut usage = Usage::default();
    for m in &mounts {
        if m.source.starts_with("/dev/")
            && let Some(name) = name_of_node(&m.source)
        {
            usage.mounts.push((name, m.mount_point.clone()));
        }
    }
    let root_dev = root.metadata("/")?.dev();
    usage.root = by_dev
        .get(dev_string(root_dev).as_str())
        .map(|n| (*n).to_string());
    if let Some(name) = &usage.root {
        usage.mounts.push((name.clone(), "/".into()));
    }
    for swap in root.parse_runtime_file("/proc/swaps", parse_swaps)? {
        if swap.kind == "partition"
            && let Some(name) = name_of_node(&swap.path)
        {
            usage.swaps.push(name);
        }
    }
    usage.mounts.sort();
    usage.mounts.dedup();
    Ok(usage)
}

/// `name`, the devices it is stacked on, recursively, and the whole devices
/// of partitions among them.
#[must_use]
pub fn below(topology: &Topology, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(node) = topology.get(&n) {
            todo.extend(node.slaves.iter().cloned());
            todo.extend(node.parent.iter().cloned());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_parsed_and_escapes_undone() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda2                               partition\t8388604\t\t0\t\t-2\n/swap\\040file                               file\t1024\t\t0\t\t-3\n";
        let swaps = parse_swaps(text, "/proc/swaps").expect("parse");
        assert_eq!(swaps.len(), 2);
        assert_eq!(
            (swaps[0].path.as_str(), swaps[0].kind.as_str()),
            ("/dev/sda2", "partition")
        );
        assert_eq!(swaps[1].path, "/swap file");
        let err = parse_swaps("Filename Type\n/dev/sda2 partition\n", "/proc/swaps")
            .expect_err("short line");
        assert_eq!((err.file.as_str(), err.line), ("/proc/swaps", 2));
    }

    #[test]
    fn dev_numbers_like_sysfs() {
        assert_eq!(dev_string(0x0700), "7:0");
        // As glibc's makedev encodes them.
        let makedev = |ma: u64, mi: u64| {
            ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12)
        };
        assert_eq!(dev_string(makedev(259, 1)), "259:1");
        assert_eq!(dev_string(makedev(8, 300)), "8:300");
    }

    #[test]
    fn below_follows_slaves_and_partitions() {
        let mut t = Topology::new();
        t.insert(
            "dm-0".into(),
            BlockNode {
                slaves: vec!["sda2".into(), "sdb".into()],
                ..Default::default()
            },
        );
        t.insert(
            "sda2".into(),
            BlockNode {
                parent: Some("sda".into()),
                holders: vec!["dm-0".into()],
                ..Default::default()
            },
        );
        t.insert(
            "sda".into(),
            BlockNode {
                partitions: vec!["sda2".into()],
                ..Default::default()
            },
        );
        t.insert("sdb".into(), BlockNode::default());
        t.insert("sdc".into(), BlockNode::default());
        let got: Vec<String> = below(&t, "dm-0").into_iter().collect();
        assert_eq!(got, ["dm-0", "sda", "sda2", "sdb"]);
    }
}
