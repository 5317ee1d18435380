#![no_main]
//! Fuzz target: rendering every kind of fix over arbitrary existing files
//! (fstab, sshd_config, grub, kernel cmdline, our own drop-ins, passwd,
//! group; split at NUL bytes) returns changes or an error, never panics.
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use tractorsec_remedy::{Want, render};

const FILES: [&str; 14] = [
    "/etc/fstab",
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/10-legacy.conf",
    "/etc/default/grub",
    "/etc/kernel/cmdline",
    "/etc/sysctl.d/60-tractorsec.conf",
    "/etc/sysctl.conf",
    "/etc/modprobe.d/60-tractorsec.conf",
    "/etc/udev/rules.d/60-tractorsec.rules",
    "/etc/systemd/journald.conf.d/60-tractorsec.conf",
    "/etc/audit/rules.d/60-tractorsec.rules",
    "/etc/default/grub.d/60-tractorsec.cfg",
    "/etc/passwd",
    "/etc/group",
];

fn wants() -> Vec<Want> {
    let s = |v: &str| v.to_string();
    vec![
        Want::Sysctl {
            key: s("kernel.kptr_restrict"),
            value: s("2"),
        },
        Want::ModuleOff {
            module: s("cramfs"),
        },
        Want::NvidiaOption {
            name: s("DeviceFileMode"),
            value: s("0660"),
        },
        Want::DevNode {
            path: s("/dev/nvidia0"),
            mode: 0o660,
            uid: 0,
            gid: 44,
        },
        Want::Sshd {
            key: s("PermitRootLogin"),
            value: s("no"),
        },
        Want::Cmdline {
            param: s("slab_nomerge"),
            value: Some(String::new()),
        },
        Want::Cmdline {
            param: s("mitigations"),
            value: None,
        },
        Want::MaskUnit {
            unit: s("cups.service"),
        },
        Want::MountOptions {
            mount_point: s("/tmp"),
            add: vec![s("nodev"), s("noexec")],
        },
        Want::Journald {
            key: s("Storage"),
            value: s("persistent"),
        },
        Want::AuditRule {
            line: s("-w /etc/passwd -p wa -k identity"),
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root: BTreeMap<String, String> = FILES
        .iter()
        .zip(text.split('\0'))
        .map(|(path, content)| (path.to_string(), content.to_string()))
        .collect();
    let _ = render(&wants(), &root, true);
});
