//! The human-readable form: one table per kind of device.

use crate::model::{Inventory, Node, PciInfo};
use std::fmt::Write;

/// Render the inventory as text tables.
pub fn render_text(inv: &Inventory) -> String {
    let mut out = String::new();
    table(
        &mut out,
        "NVMe controllers",
        &[
            "NAME",
            "MODEL",
            "SERIAL",
            "FIRMWARE",
            "TRANSPORT",
            "PCI",
            "DRIVER",
            "IOMMU",
            "NODES",
        ],
        inv.nvme.iter().flat_map(|c| {
            let mut rows = vec![
                [
                    vec![
                        c.name.clone(),
                        c.model.clone(),
                        c.serial.clone(),
                        c.firmware_rev.clone(),
                        c.transport.clone(),
                    ],
                    pci_cells(c.pci.as_ref()),
                    vec![node_cell(&c.nodes)],
                ]
                .concat(),
            ];
            rows.extend(c.namespaces.iter().map(|n| {
                let lbs = n
                    .logical_block_size
                    .map_or("-".to_string(), |b| format!("lbs {b}"));
                vec![
                    format!("  {}", n.name),
                    human_bytes(n.size_bytes),
                    lbs,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    node_cell(&n.nodes),
                ]
            }));
            rows
        }),
    );
    let security: Vec<String> = inv
        .nvme
        .iter()
        .filter_map(|c| c.security.as_ref())
        .map(|s| format!("  {}  {}\n", s.controller, crate::security::describe(s)))
        .collect();
    if !security.is_empty() {
        out.push_str("NVMe security:\n");
        out.extend(security);
        out.push('\n');
    }
    table(
        &mut out,
        "Block devices",
        &[
            "NAME",
            "SIZE",
            "RM",
            "ROT",
            "MODEL",
            "HOLDERS",
            "PARTITIONS",
            "NODES",
        ],
        inv.block.iter().map(|b| {
            vec![
                b.name.clone(),
                human_bytes(b.size_bytes),
                yes_no(b.removable),
                yes_no(b.rotational),
                b.model.clone().unwrap_or_else(|| "-".into()),
                list(&b.holders),
                list(&b.partitions),
                node_cell(&b.nodes),
            ]
        }),
    );
    table(
        &mut out,
        "GPUs",
        &[
            "PCI", "DRIVER", "IOMMU", "VENDOR", "DEVICE", "NUMA", "MINOR", "DRM", "NODES",
        ],
        inv.gpus.iter().map(|g| {
            let [address, driver, iommu] = pci_cells(Some(&g.pci))
                .try_into()
                .unwrap_or_else(|_| [String::new(), String::new(), String::new()]);
            vec![
                address,
                driver,
                iommu,
                g.pci.vendor.clone(),
                g.pci.device.clone(),
                opt(g.pci.numa_node),
                opt(g.nvidia_minor),
                list(&g.drm_cards),
                node_cell(&g.nodes),
            ]
        }),
    );
    table(
        &mut out,
        "DRM cards",
        &["NAME", "PCI", "NODES"],
        inv.drm.iter().map(|d| {
            vec![
                d.name.clone(),
                d.pci_address.clone().unwrap_or_else(|| "-".into()),
                node_cell(&d.nodes),
            ]
        }),
    );
    table(
        &mut out,
        "RDMA devices",
        &["NAME", "PCI", "DRIVER", "IOMMU", "PORTS", "NODES"],
        inv.rdma.iter().map(|r| {
            let ports: Vec<String> = r
                .ports
                .iter()
                .map(|p| format!("{}:{}", p.port, p.state.as_deref().unwrap_or("?")))
                .collect();
            [
                vec![r.name.clone()],
                pci_cells(r.pci.as_ref()),
                vec![list(&ports), node_cell(&r.nodes)],
            ]
            .concat()
        }),
    );
    table(
        &mut out,
        "Network interfaces",
        &["NAME", "MAC", "DRIVER", "PCI", "IOMMU"],
        inv.nics.iter().map(|n| {
            let [address, _, iommu] = pci_cells(n.pci.as_ref())
                .try_into()
                .unwrap_or_else(|_| [String::new(), String::new(), String::new()]);
            vec![
                n.name.clone(),
                n.mac.clone().unwrap_or_else(|| "-".into()),
                n.driver.clone().unwrap_or_else(|| "-".into()),
                address,
                iommu,
            ]
        }),
    );
    out
}

/// Address, driver, and `GROUP (+ peers)` of a PCI function, or dashes.
fn pci_cells(pci: Option<&PciInfo>) -> Vec<String> {
    let Some(p) = pci else {
        return vec!["-".into(), "-".into(), "-".into()];
    };
    let iommu = match (&p.iommu_group, p.iommu_peers.is_empty()) {
        (None, _) => "-".to_string(),
        (Some(g), true) => g.clone(),
        (Some(g), false) => format!("{g} (+{})", p.iommu_peers.join(",")),
    };
    vec![
        p.address.clone(),
        p.driver.clone().unwrap_or_else(|| "-".into()),
        iommu,
    ]
}

fn node_cell(nodes: &[Node]) -> String {
    if nodes.is_empty() {
        return "-".into();
    }
    nodes
        .iter()
        .map(|n| format!("{} {:04o} {}:{}", n.path, n.mode, n.uid, n.gid))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

fn opt(v: Option<u32>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// The name a unit enum variant serializes as (`security_receive`).
pub(crate) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Bytes in binary units with one decimal (`3.5T`), plain below 1 KiB.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1}{}", UNITS[unit])
}

/// One titled table with left-aligned columns, or `(none)`.
fn table(out: &mut String, title: &str, header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.collect();
    let _ = writeln!(out, "{title}:");
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)\n");
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(3_840_755_982_336), "3.5T");
        assert_eq!(human_bytes(1024 * 1024), "1.0M");
    }

    #[test]
    fn nvme_security_is_a_section_only_when_read() {
        let mut c = crate::model::NvmeController {
            name: "nvme0".into(),
            model: "M".into(),
            serial: "S".into(),
            firmware_rev: "F".into(),
            transport: "pcie".into(),
            address: String::new(),
            pci: None,
            namespaces: Vec::new(),
            nodes: Vec::new(),
            security: None,
        };
        let mut inv = Inventory {
            nvme: vec![c.clone()],
            ..Inventory::default()
        };
        assert!(!render_text(&inv).contains("NVMe security"));
        c.security = Some(tractorsec_facts::NvmeSecurity {
            controller: "nvme0".into(),
            namespaces: vec!["nvme0n1".into()],
            identify: None,
            tcg: None,
            tcg_source: None,
            error: Some("cannot open /dev/nvme0: busy".into()),
        });
        inv.nvme = vec![c];
        let text = render_text(&inv);
        assert!(
            text.contains("NVMe security:\n  nvme0  TCG unknown; error: cannot open /dev/nvme0: busy\n\nBlock devices:"),
            "{text}"
        );
    }

    #[test]
    fn empty_inventory_says_none() {
        let text = render_text(&Inventory::default());
        assert!(text.contains("Block devices:\n  (none)"), "{text}");
        assert!(text.contains("Network interfaces:\n  (none)"), "{text}");
    }
}
