//! Device nodes under `/dev`: type, numbers, owner, mode and class.

use crate::error::{FactError, FactErrorKind};
use crate::model::{DevClass, DevKind, DevNode, Source};
use crate::root::Root;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// Directories below `/dev` that are not walked: per-session or per-process
/// noise (`/dev/fd` is a link on most systems, `/dev/pts` holds terminals).
const SKIPPED: &[&str] = &["/dev/fd", "/dev/pts"];

/// Deepest directory level walked below `/dev` (a guard, not a real limit).
const MAX_DEPTH: usize = 16;

/// Major number of a `st_rdev`, as glibc's `gnu_dev_major` decodes it.
pub fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// Minor number of a `st_rdev`, as glibc's `gnu_dev_minor` decodes it.
pub fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

/// Classify a device node by its inside-root path and kind.
pub fn classify(path: &str, kind: DevKind) -> DevClass {
    let Some(rel) = path.strip_prefix("/dev/") else {
        return match kind {
            DevKind::Block => DevClass::Block,
            DevKind::Char => DevClass::Other,
        };
    };
    let (first, nested) = match rel.split_once('/') {
        Some((dir, _)) => (dir, true),
        None => (rel, false),
    };
    if first.starts_with("nvidia") || (nested && first == "dri") {
        return DevClass::Gpu;
    }
    if nested {
        match first {
            "infiniband" => return DevClass::Rdma,
            "vfio" => return DevClass::Vfio,
            _ => {}
        }
    } else {
        if first.starts_with("nvme") || starts_with_then_digit(first, "ng") {
            return DevClass::Nvme;
        }
        if matches!(first, "mem" | "kmem" | "port") {
            return DevClass::Mem;
        }
        if starts_with_then_digit(first, "sg") {
            return DevClass::Block;
        }
    }
    match kind {
        DevKind::Block => DevClass::Block,
        DevKind::Char => DevClass::Other,
    }
}

fn starts_with_then_digit(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

/// Walk `/dev` of a runtime root (symlinks not followed) and list its
/// character and block devices, sorted by path.
pub fn collect(root: &Root) -> Source<Vec<DevNode>> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Vec<DevNode>, FactError> {
    root.require_runtime("/dev")?;
    let host = root.resolve("/dev")?;
    let meta = fs::metadata(&host).map_err(|e| FactError::io("/dev", &e))?;
    if !meta.is_dir() {
        return Err(FactError::new(
            FactErrorKind::Unreadable,
            "/dev",
            "not a directory",
        ));
    }
    let mut nodes = Vec::new();
    walk(&host, "/dev", 0, &mut nodes, true)?;
    nodes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(nodes)
}

/// Walk one directory. Errors reading `/dev` itself are returned; errors in
/// subdirectories or single entries skip them (device nodes come and go).
fn walk(
    host: &Path,
    inside: &str,
    depth: usize,
    out: &mut Vec<DevNode>,
    top: bool,
) -> Result<(), FactError> {
    let entries = match fs::read_dir(host) {
        Ok(e) => e,
        Err(e) if top => return Err(FactError::io(inside, &e)),
        Err(_) => return Ok(()),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{inside}/{name}");
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if depth < MAX_DEPTH && !SKIPPED.contains(&path.as_str()) {
                walk(&entry.path(), &path, depth + 1, out, false)?;
            }
            continue;
        }
        let kind = if file_type.is_char_device() {
            DevKind::Char
        } else if file_type.is_block_device() {
            DevKind::Block
        } else {
            continue;
        };
        // DirEntry::metadata does not follow symlinks (and this is no link).
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let rdev = meta.rdev();
        out.push(DevNode {
            class: classify(&path, kind),
            path,
            kind,
            major: dev_major(rdev),
            minor: dev_minor(rdev),
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::process::Command;

    #[test]
    fn rdev_decodes_like_glibc() {
        // makedev(195, 255) and makedev(259, 1).
        assert_eq!((dev_major(0xc3ff), dev_minor(0xc3ff)), (195, 255));
        assert_eq!((dev_major(0x10301), dev_minor(0x10301)), (259, 1));
        // A large major and minor use the high bits.
        let dev: u64 = (0x12345u64 & 0xfff) << 8
            | (0x12345u64 & !0xfff) << 32
            | (0xabcdeu64 & 0xff)
            | (0xabcdeu64 & !0xff) << 12;
        assert_eq!((dev_major(dev), dev_minor(dev)), (0x12345, 0xabcde));
    }

    #[test]
    fn gpu_nodes_are_gpu() {
        for p in [
            "/dev/nvidia0",
            "/dev/nvidiactl",
            "/dev/nvidia-uvm",
            "/dev/nvidia-uvm-tools",
            "/dev/nvidia-modeset",
            "/dev/nvidia-caps/nvidia-cap1",
            "/dev/dri/card0",
            "/dev/dri/renderD128",
        ] {
            assert_eq!(classify(p, DevKind::Char), DevClass::Gpu, "{p}");
        }
    }

    #[test]
    fn nvme_nodes_are_nvme_even_when_block() {
        assert_eq!(classify("/dev/nvme0", DevKind::Char), DevClass::Nvme);
        assert_eq!(classify("/dev/nvme0n1", DevKind::Block), DevClass::Nvme);
        assert_eq!(classify("/dev/nvme0n1p1", DevKind::Block), DevClass::Nvme);
        assert_eq!(classify("/dev/ng0n1", DevKind::Char), DevClass::Nvme);
        assert_eq!(classify("/dev/ngx", DevKind::Char), DevClass::Other);
    }

    #[test]
    fn other_block_devices_and_scsi_generic_are_block() {
        assert_eq!(classify("/dev/sda", DevKind::Block), DevClass::Block);
        assert_eq!(classify("/dev/loop0", DevKind::Block), DevClass::Block);
        assert_eq!(classify("/dev/mapper/x", DevKind::Block), DevClass::Block);
        assert_eq!(classify("/dev/sg0", DevKind::Char), DevClass::Block);
        assert_eq!(classify("/dev/sgx", DevKind::Char), DevClass::Other);
    }

    #[test]
    fn rdma_vfio_mem_and_other() {
        assert_eq!(
            classify("/dev/infiniband/uverbs0", DevKind::Char),
            DevClass::Rdma
        );
        assert_eq!(
            classify("/dev/infiniband/rdma_cm", DevKind::Char),
            DevClass::Rdma
        );
        assert_eq!(classify("/dev/vfio/vfio", DevKind::Char), DevClass::Vfio);
        assert_eq!(classify("/dev/vfio/12", DevKind::Char), DevClass::Vfio);
        assert_eq!(classify("/dev/mem", DevKind::Char), DevClass::Mem);
        assert_eq!(classify("/dev/kmem", DevKind::Char), DevClass::Mem);
        assert_eq!(classify("/dev/port", DevKind::Char), DevClass::Mem);
        assert_eq!(classify("/dev/memory", DevKind::Char), DevClass::Other);
        assert_eq!(classify("/dev/null", DevKind::Char), DevClass::Other);
        assert_eq!(classify("/dev/dri", DevKind::Char), DevClass::Other);
        assert_eq!(classify("/dev/net/tun", DevKind::Char), DevClass::Other);
    }

    fn mknod(path: &Path, kind: &str, major: u32, minor: u32) -> bool {
        Command::new("mknod")
            .arg(path)
            .arg(kind)
            .arg(major.to_string())
            .arg(minor.to_string())
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn devnodes_walk_keeps_devices_skips_links_pts_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dev = tmp.path().join("dev");
        for d in ["proc", "dev/nvidia-caps", "dev/pts", "dev/disk/by-id"] {
            fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        fs::write(tmp.path().join("proc/cmdline"), "ro\n").unwrap();
        fs::write(dev.join("regular"), "x").unwrap();
        symlink("../../nvme0n1", dev.join("disk/by-id/nvme-x")).unwrap();
        symlink("/proc/self/fd", dev.join("fd")).unwrap();
        if !mknod(&dev.join("nvidia0"), "c", 195, 0) {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs as root: mknod must work"
            );
            eprintln!("skipping: mknod needs CAP_MKNOD");
            return;
        }
        assert!(mknod(&dev.join("nvidia-caps/nvidia-cap1"), "c", 508, 1));
        assert!(mknod(&dev.join("nvme0n1"), "b", 259, 0));
        assert!(mknod(&dev.join("pts/0"), "c", 136, 0));
        fs::set_permissions(
            dev.join("nvidia0"),
            std::os::unix::fs::PermissionsExt::from_mode(0o666),
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let nodes = collect(&root).ok().unwrap().clone();
        let paths: Vec<&str> = nodes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/dev/nvidia-caps/nvidia-cap1",
                "/dev/nvidia0",
                "/dev/nvme0n1"
            ]
        );
        let gpu = &nodes[1];
        assert_eq!((gpu.major, gpu.minor, gpu.mode), (195, 0, 0o666));
        assert_eq!((gpu.kind, gpu.class), (DevKind::Char, DevClass::Gpu));
        assert_eq!(
            (nodes[2].kind, nodes[2].class),
            (DevKind::Block, DevClass::Nvme)
        );
        assert_eq!(nodes[0].class, DevClass::Gpu);
    }

    #[test]
    fn devnodes_live_dev_null_is_char_1_3() {
        let nodes = collect(&Root::live());
        let nodes = nodes.ok().unwrap();
        let null = nodes.iter().find(|n| n.path == "/dev/null").unwrap();
        assert_eq!((null.kind, null.major, null.minor), (DevKind::Char, 1, 3));
        assert!(nodes.windows(2).all(|w| w[0].path < w[1].path));
        assert!(!nodes.iter().any(|n| n.path.starts_with("/dev/pts/")));
    }
}
