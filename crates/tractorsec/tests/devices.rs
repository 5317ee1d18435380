//! `tractorsec devices`: the inventory of the fixture GPU node
//! (tests/fixtures/devices, written by make_gpu_node.py) against a golden
//! file, and a run on the live machine.
//!
//! `UPDATE_GOLDEN=1 cargo test -p tractorsec --test devices` rewrites
//! tests/fixtures/golden/devices-gpu-node.json.

mod common;

use common::{fixtures, run, tractorsec, tree, validate};

#[test]
fn gpu_node_inventory_matches_golden() {
    let Some(root) = tree(&fixtures().join("devices/gpu-node"), "gpu-node") else {
        return;
    };
    let out = tractorsec()
        .args(["devices", "--format", "json", "--root"])
        .arg(root.path())
        .output()
        .expect("run devices");
    assert!(
        out.status.success(),
        "devices failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual = String::from_utf8(out.stdout).expect("utf-8");
    common::check_golden("devices-gpu-node.json", &actual);

    let inv: serde_json::Value = serde_json::from_str(&actual).expect("JSON");
    assert_eq!(inv["nvme"].as_array().map(Vec::len), Some(2));
    let gpus = inv["gpus"].as_array().expect("gpus");
    let nvidia: Vec<_> = gpus
        .iter()
        .filter(|g| g["pci"]["vendor"] == "0x10de")
        .collect();
    assert_eq!(nvidia.len(), 8);
    assert_eq!(nvidia[0]["pci"]["iommu_peers"][0], "0000:17:00.0");
    assert_eq!(nvidia[0]["nodes"][0]["path"], "/dev/nvidia0");
    assert_eq!(nvidia[7]["pci"]["driver"], "vfio-pci");
    assert_eq!(nvidia[7]["nodes"].as_array().map(Vec::len), Some(0));
    let rdma: Vec<_> = inv["rdma"]
        .as_array()
        .expect("rdma")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(rdma, ["mlx5_0", "mlx5_1"]);
}

#[test]
fn golden_inventory_matches_its_schema() {
    let (code, schema, stderr) = run(&["schema", "devices"]);
    assert_eq!(code, 0, "{stderr}");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("devices.schema.json");
    std::fs::write(&path, schema).expect("write schema");
    let golden = fixtures().join("golden/devices-gpu-node.json");
    if let Err(e) = validate(&path, &golden) {
        panic!("golden inventory does not match the schema: {e}");
    }
}

#[test]
fn gpu_node_text_has_a_table_per_kind() {
    let Some(root) = tree(&fixtures().join("devices/gpu-node"), "gpu-node") else {
        return;
    };
    let root = root.path().to_str().expect("utf-8 path");
    let (code, stdout, stderr) = run(&["devices", "--root", root]);
    assert_eq!(code, 0, "{stderr}");
    for title in [
        "NVMe controllers:",
        "Block devices:",
        "GPUs:",
        "DRM cards:",
        "RDMA devices:",
        "Network interfaces:",
    ] {
        assert!(stdout.contains(title), "{title} missing:\n{stdout}");
    }
    assert!(stdout.contains("30 (+0000:17:00.0)"), "{stdout}");
    assert!(!stdout.contains("docker0"), "{stdout}");
}

#[test]
fn live_machine_lists_block_devices_and_nics() {
    let (code, stdout, stderr) = run(&["devices"]);
    assert_eq!(code, 0, "{stderr}");
    let section = |title: &str| {
        let start = stdout
            .find(title)
            .unwrap_or_else(|| panic!("{title} missing:\n{stdout}"));
        let rest = &stdout[start + title.len()..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_string()
    };
    for title in ["Block devices:", "Network interfaces:"] {
        let body = section(title);
        assert!(
            body.contains("(none)") || body.lines().count() >= 3,
            "{title} neither lists a device nor says none:\n{body}"
        );
    }
    // The JSON names exactly what sysfs holds, read here independently:
    // whole block devices (no `partition`, not hidden, NVMe namespaces
    // listed under their controller) and NICs backed by a device.
    let (code, json, stderr) = run(&["devices", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let inv: serde_json::Value = serde_json::from_str(&json).expect("json");
    let names = |list: &str| -> std::collections::BTreeSet<String> {
        inv[list]
            .as_array()
            .expect(list)
            .iter()
            .map(|d| d["name"].as_str().expect("name").to_string())
            .collect()
    };
    let sysfs = |dir: &str, keep: &dyn Fn(&std::path::Path, &str) -> bool| {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| keep(&e.path(), &e.file_name().to_string_lossy()))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect::<std::collections::BTreeSet<_>>()
            })
            .unwrap_or_default()
    };
    let whole_disks = sysfs("/sys/class/block", &|p, name| {
        let hidden = std::fs::read_to_string(p.join("hidden")).is_ok_and(|h| h.trim() == "1");
        let nvme_namespace = name.starts_with("nvme") && name[4..].contains('n');
        !p.join("partition").exists() && !hidden && !nvme_namespace
    });
    assert_eq!(names("block"), whole_disks, "block devices");
    let nics = sysfs("/sys/class/net", &|p, _| p.join("device").exists());
    assert_eq!(names("nics"), nics, "NICs");
}
