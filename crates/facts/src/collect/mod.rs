//! One collector per source. Each has a pure `parse` function and a
//! `collect(&Root)` that reads through the root and never panics.

use crate::model::{Facts, SCHEMA_VERSION};
use crate::root::Root;

pub mod audit;
pub mod cmdline;
pub mod confdirs;
pub mod cpu;
pub mod device_mapper;
pub mod devnodes;
pub mod dpkg;
pub mod host;
pub mod iommu;
pub mod journald;
pub mod kconfig;
pub mod modprobe;
pub mod modules;
pub mod mountinfo;
pub mod nvidia;
pub mod passwd;
pub mod security;
pub mod sockets;
pub mod sshd;
pub mod sysctl;
pub mod sysctl_d;
pub mod systemd;
pub mod time;

/// Collect every fact source beneath `root`.
pub fn collect(root: &Root) -> Facts {
    let kernel = cmdline::collect(root);
    let release = kernel.ok().and_then(|k| k.release.clone());
    let accounts = passwd::collect_accounts(root);
    let authorized_keys = passwd::collect_authorized_keys(root, &accounts);
    Facts {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: time::now_rfc3339(),
        root: root.dir().to_string_lossy().into_owned(),
        runtime: root.has_runtime(),
        privileged: security::is_privileged(),
        host: host::collect(root),
        kconfig: kconfig::collect(root, release.as_deref()),
        kernel,
        sysctl: sysctl::collect(root),
        sysctl_persisted: sysctl_d::collect(root),
        lockdown: security::collect_lockdown(root),
        lsm: security::collect_lsm(root),
        module_sig_enforce: security::collect_sig_enforce(root),
        modules_loaded: modules::collect(root),
        modprobe: modprobe::collect(root),
        cpu: cpu::collect(root),
        mounts: mountinfo::collect(root),
        dev_nodes: devnodes::collect(root),
        iommu: iommu::collect_iommu(root),
        pci: iommu::collect_pci(root),
        nvidia_params: nvidia::collect(root),
        device_mapper: device_mapper::collect(root),
        shadow: passwd::collect_shadow(root),
        groups: passwd::collect_groups(root),
        accounts,
        authorized_keys,
        sshd: sshd::collect(root),
        systemd: systemd::collect(root),
        packages: dpkg::collect(root),
        listeners: sockets::collect(root),
        audit: audit::collect(root),
        journald: journald::collect(root),
        image: crate::model::image_not_checked(),
        nvme_security: crate::model::nvme_security_not_collected(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;

    #[test]
    fn every_runtime_source_is_offline_on_an_image_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let facts = collect(&Root::open(tmp.path()).expect("root"));
        assert!(!facts.runtime);
        let offline: Vec<&str> = facts
            .errors()
            .into_iter()
            .filter(|(_, e)| e.kind == FactErrorKind::Offline)
            .map(|(name, _)| name)
            .collect();
        for source in [
            "sysctl",
            "lockdown",
            "lsm",
            "module_sig_enforce",
            "modules_loaded",
            "dev_nodes",
            "iommu",
            "pci",
            "nvidia_params",
            "device_mapper",
            "listeners",
            "mounts",
        ] {
            assert!(
                offline.contains(&source),
                "{source} is not offline: {offline:?}"
            );
        }
    }
}
