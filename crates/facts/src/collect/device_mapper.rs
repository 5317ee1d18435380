//! Device-mapper devices from `/sys/block/dm-*/dm/{name,uuid}` and their
//! `slaves/` (the devices beneath them).

use crate::error::FactError;
use crate::model::{DmDevice, Source};
use crate::root::{Root, join};

/// Block devices in sysfs.
pub const SYS_BLOCK: &str = "/sys/block";

/// List device-mapper devices of a runtime root, sorted by kernel name.
pub fn collect(root: &Root) -> Source<Vec<DmDevice>> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Vec<DmDevice>, FactError> {
    root.require_runtime(SYS_BLOCK)?;
    let mut devices = Vec::new();
    for kernel_name in root.read_dir(SYS_BLOCK)? {
        if !kernel_name.starts_with("dm-") {
            continue;
        }
        let dir = join(SYS_BLOCK, &kernel_name);
        let dm = join(&dir, "dm");
        let name = root.read_to_string(&join(&dm, "name"))?;
        // Devices without a uuid (plain `dmsetup create`) have an empty file.
        let uuid = root.read_optional(&join(&dm, "uuid"))?.unwrap_or_default();
        let slaves = root.read_dir_optional(&join(&dir, "slaves"))?;
        devices.push(DmDevice {
            kernel_name,
            slaves,
            name: name.trim().to_string(),
            uuid: uuid.trim().to_string(),
        });
    }
    devices.sort_by(|a, b| a.kernel_name.cmp(&b.kernel_name));
    Ok(devices)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn dm_devices_read_name_and_uuid() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "ro\n").unwrap();
        for (k, name, uuid) in [
            ("dm-1", "root", "CRYPT-LUKS2-0a1b-root"),
            ("dm-0", "usr-verity", "CRYPT-VERITY-9f8e-usr"),
        ] {
            let d = tmp.path().join("sys/block").join(k).join("dm");
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("name"), format!("{name}\n")).unwrap();
            fs::write(d.join("uuid"), format!("{uuid}\n")).unwrap();
        }
        fs::create_dir_all(tmp.path().join("sys/block/nvme0n1")).unwrap();
        fs::create_dir_all(tmp.path().join("sys/block/dm-1/slaves/nvme0n1p3")).unwrap();
        fs::create_dir_all(tmp.path().join("sys/block/dm-1/slaves/nvme1n1p3")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let dm = collect(&root).ok().unwrap().clone();
        assert_eq!(dm.len(), 2);
        assert_eq!(dm[0].kernel_name, "dm-0");
        assert_eq!(dm[0].name, "usr-verity");
        assert_eq!(dm[0].uuid, "CRYPT-VERITY-9f8e-usr");
        assert_eq!(dm[1].uuid, "CRYPT-LUKS2-0a1b-root");
        assert!(dm[0].slaves.is_empty());
        assert_eq!(dm[1].slaves, vec!["nvme0n1p3", "nvme1n1p3"]);
    }
}
