//! The built-in `tractoros` profile: it loads, covers the whole TractorOS
//! control catalogue, and every control carries what an operator needs
//! (rationale, references, perf impact, a fix).

use std::collections::BTreeSet;
use tractorsec_policy::{BUILTIN_PROFILES, Check, PerfLevel, Profile, Section};

fn tractoros() -> Profile {
    Profile::load("tractoros").expect("the built-in profile loads")
}

/// Every id the catalogue names (controls.md, sections 1 to 4). A catalogue
/// id is covered by a control with the same id or one below it
/// (`baseline.modules.protocols` by `baseline.modules.protocols.dccp`).
const CATALOGUE_IDS: &[&str] = &[
    "baseline.services.allowed",
    "baseline.services.denied",
    "baseline.network.listeners",
    "baseline.packages.denied",
    "baseline.packages.toolchains",
    "baseline.modules.filesystems",
    "baseline.modules.protocols",
    "baseline.modules.bluetooth",
    "baseline.modules.usb_storage",
    "baseline.modules.firewire",
    "baseline.modules.thunderbolt",
    "baseline.users.interactive",
    "baseline.users.uid0",
    "baseline.users.empty_password",
    "baseline.users.root_locked",
    "baseline.ssh.root_login",
    "baseline.ssh.password_auth",
    "baseline.ssh.central_keys",
    "baseline.ssh.local_keys",
    "kernel.modules.signing",
    "kernel.modules.unsigned_loaded",
    "kernel.modules.loading_locked",
    "kernel.lockdown",
    "kernel.sysctl.persisted",
    "kernel.memory.aslr",
    "kernel.memory.nx",
    "kernel.memory.kpti",
    "kernel.cpu.vulnerabilities",
    "kernel.cmdline.no_weakening",
    "kernel.cmdline.recommended",
    "kernel.lsm",
    "kernel.sysctl.fs.suid_dumpable",
    "devices.iommu.enabled",
    "devices.iommu.strict",
    "devices.gpu.node_mode",
    "devices.gpu.profiling_restricted",
    "devices.gpu.tenant_binding",
    "devices.rdma.node_mode",
    "devices.block.node_mode",
    "devices.block.group_members",
    "devices.storage.sed",
    "platform.image.root_readonly",
    "platform.image.verity",
    "platform.image.drift",
    "platform.provisioning.profile",
    "platform.trust.service_sandbox",
    "platform.mounts.tmp",
    "platform.mounts.proc_hidepid",
    "platform.observe.audit",
    "platform.observe.journald",
    "platform.observe.time_sync",
    "platform.observe.agent",
];

/// The KSPP options of "Conservative kernel configuration", one control each.
const KSPP_OPTIONS: &[&str] = &[
    "STRICT_KERNEL_RWX",
    "STRICT_MODULE_RWX",
    "RANDOMIZE_BASE",
    "RANDOMIZE_MEMORY",
    "STACKPROTECTOR_STRONG",
    "VMAP_STACK",
    "HARDENED_USERCOPY",
    "FORTIFY_SOURCE",
    "SLAB_FREELIST_HARDENED",
    "SLAB_FREELIST_RANDOM",
    "SHUFFLE_PAGE_ALLOCATOR",
    "INIT_ON_ALLOC_DEFAULT_ON",
    "BUG_ON_DATA_CORRUPTION",
    "SCHED_STACK_END_CHECK",
    "DEBUG_WX",
    "SECURITY_YAMA",
    "SECURITY_LOCKDOWN_LSM",
    "SECURITY_DMESG_RESTRICT",
    "STRICT_DEVMEM",
    "IO_STRICT_DEVMEM",
    "LEGACY_VSYSCALL_NONE",
    "PAGE_TABLE_ISOLATION",
    "RETPOLINE",
    "DEVMEM",
    "PROC_KCORE",
    "COMPAT_BRK",
    "HIBERNATION",
    "LDISC_AUTOLOAD",
    "USERFAULTFD",
    "KEXEC",
];

/// The hardened sysctl table, `{all,default}` and ipv4/ipv6 expanded.
const SYSCTLS: &[&str] = &[
    "kernel.kptr_restrict",
    "kernel.dmesg_restrict",
    "kernel.perf_event_paranoid",
    "kernel.kexec_load_disabled",
    "kernel.unprivileged_bpf_disabled",
    "net.core.bpf_jit_harden",
    "kernel.yama.ptrace_scope",
    "kernel.sysrq",
    "kernel.io_uring_disabled",
    "kernel.oops_limit",
    "kernel.warn_limit",
    "kernel.randomize_va_space",
    "user.max_user_namespaces",
    "vm.unprivileged_userfaultfd",
    "vm.mmap_min_addr",
    "vm.mmap_rnd_bits",
    "vm.mmap_rnd_compat_bits",
    "dev.tty.ldisc_autoload",
    "dev.tty.legacy_tiocsti",
    "fs.protected_symlinks",
    "fs.protected_hardlinks",
    "fs.protected_fifos",
    "fs.protected_regular",
    "fs.suid_dumpable",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.conf.all.accept_redirects",
    "net.ipv4.conf.default.accept_redirects",
    "net.ipv6.conf.all.accept_redirects",
    "net.ipv6.conf.default.accept_redirects",
    "net.ipv4.conf.all.secure_redirects",
    "net.ipv4.conf.default.secure_redirects",
    "net.ipv4.conf.all.send_redirects",
    "net.ipv4.conf.default.send_redirects",
    "net.ipv4.conf.all.accept_source_route",
    "net.ipv4.conf.default.accept_source_route",
    "net.ipv6.conf.all.accept_source_route",
    "net.ipv6.conf.default.accept_source_route",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.all.log_martians",
    "net.ipv4.conf.default.log_martians",
    "net.ipv4.icmp_echo_ignore_broadcasts",
    "net.ipv4.icmp_ignore_bogus_error_responses",
    "net.ipv6.conf.all.accept_ra",
    "net.ipv6.conf.default.accept_ra",
    "net.ipv4.ip_forward",
];

/// Catalogue lists that became one control per item, below the catalogue id.
const PER_ITEM: &[(&str, &[&str])] = &[
    (
        "baseline.modules.filesystems",
        &["cramfs", "freevxfs", "jffs2", "hfs", "hfsplus", "udf"],
    ),
    (
        "baseline.modules.protocols",
        &[
            "dccp",
            "sctp",
            "rds",
            "tipc",
            "n_hdlc",
            "ax25",
            "netrom",
            "x25",
            "rose",
            "decnet",
            "econet",
            "af_802154",
            "ipx",
            "appletalk",
            "psnap",
            "p8022",
            "p8023",
            "can",
            "atm",
        ],
    ),
    (
        "kernel.cmdline.no_weakening",
        &[
            "mitigations",
            "nopti",
            "pti",
            "nokaslr",
            "nosmep",
            "nosmap",
            "nospectre_v1",
            "nospectre_v2",
            "spectre_v2",
            "init_on_alloc",
            "slub_debug",
            "vsyscall",
        ],
    ),
    (
        "kernel.cmdline.recommended",
        &[
            "init_on_free",
            "page_alloc_shuffle",
            "slab_nomerge",
            "randomize_kstack_offset",
            "vsyscall",
            "debugfs",
            "lockdown",
            "audit",
        ],
    ),
];

fn ids(profile: &Profile) -> BTreeSet<&str> {
    profile.controls.iter().map(|c| c.id.as_str()).collect()
}

#[test]
fn builtin_profile_loads_with_at_least_150_controls() {
    let p = tractoros();
    assert_eq!(p.name, "tractoros");
    assert!(!p.description.is_empty());
    assert!(
        p.controls.len() >= 150,
        "only {} controls",
        p.controls.len()
    );
    assert!(p.hash.starts_with("sha256:"));
}

#[test]
fn control_ids_are_unique() {
    let p = tractoros();
    assert_eq!(ids(&p).len(), p.controls.len());
}

#[test]
fn every_catalogue_id_is_covered() {
    let p = tractoros();
    let ids = ids(&p);
    let covered = |c: &str| {
        ids.iter()
            .any(|id| *id == c || id.starts_with(&format!("{c}.")))
    };
    let missing: Vec<&str> = CATALOGUE_IDS
        .iter()
        .copied()
        .filter(|c| !covered(c))
        .collect();
    assert!(
        missing.is_empty(),
        "catalogue ids without a control: {missing:?}"
    );
}

#[test]
fn every_kspp_option_and_sysctl_has_its_own_control() {
    let p = tractoros();
    let ids = ids(&p);
    let mut missing = Vec::new();
    for o in KSPP_OPTIONS {
        let id = format!("kernel.config.{o}");
        if !ids.contains(id.as_str()) {
            missing.push(id);
        }
    }
    for s in SYSCTLS {
        let id = format!("kernel.sysctl.{s}");
        if !ids.contains(id.as_str()) {
            missing.push(id);
        }
    }
    for (parent, items) in PER_ITEM {
        for item in *items {
            let id = format!("{parent}.{item}");
            if !ids.contains(id.as_str()) {
                missing.push(id);
            }
        }
    }
    assert!(missing.is_empty(), "missing controls: {missing:?}");
}

#[test]
fn every_control_explains_itself() {
    let p = tractoros();
    for c in &p.controls {
        assert!(!c.title.trim().is_empty(), "{}: empty title", c.id);
        assert!(
            c.rationale.trim().len() >= 40,
            "{}: rationale too short",
            c.id
        );
        assert!(!c.references.is_empty(), "{}: no reference", c.id);
        assert!(
            c.references.iter().all(|r| !r.trim().is_empty()),
            "{}: empty reference",
            c.id
        );
        assert!(!c.fix.hint.trim().is_empty(), "{}: no fix hint", c.id);
        if c.perf.level != PerfLevel::None {
            assert!(
                !c.perf.note.trim().is_empty(),
                "{}: perf {:?} without a note",
                c.id,
                c.perf.level
            );
        }
    }
}

#[test]
fn ids_start_with_their_section() {
    let p = tractoros();
    for c in &p.controls {
        let prefix = format!("{}.", c.section.as_str());
        assert!(
            c.id.starts_with(&prefix),
            "{} is in section {}",
            c.id,
            c.section.as_str()
        );
    }
    for s in Section::ALL {
        assert!(
            p.controls.iter().any(|c| c.section == s),
            "section {} is empty",
            s.as_str()
        );
    }
}

#[test]
fn kernel_rebuilds_are_manual_and_need_a_reboot() {
    let p = tractoros();
    for c in &p.controls {
        if let Check::Kconfig { .. } = c.check {
            assert!(!c.fix.auto, "{}: a kconfig fix cannot be automatic", c.id);
            assert!(c.fix.reboot, "{}: a kconfig fix needs a reboot", c.id);
        }
        if let Check::Cmdline { .. } = c.check {
            assert!(c.fix.reboot, "{}: a command-line fix needs a reboot", c.id);
        }
    }
}

#[test]
fn every_param_is_used_by_some_control() {
    let (_, text) = BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == "tractoros")
        .expect("tractoros is built in");
    let p = tractoros();
    let unused: Vec<&String> = p
        .params
        .keys()
        .filter(|k| !text.contains(&format!("\"${k}\"")))
        .collect();
    assert!(unused.is_empty(), "params no control uses: {unused:?}");
}

#[test]
fn params_have_their_documented_defaults() {
    let p = tractoros();
    let int = |k: &str| p.params.get(k).and_then(|v| v.as_integer());
    assert_eq!(int("perf_event_paranoid"), Some(3));
    assert_eq!(int("io_uring_disabled"), Some(2));
    assert_eq!(int("rp_filter"), Some(1));
    assert_eq!(int("accept_ra"), Some(0));
    assert_eq!(int("ip_forward"), Some(0));
    assert_eq!(int("max_user_namespaces"), Some(0));
    assert_eq!(
        p.params.get("tenant_gpus").and_then(|v| v.as_str()),
        Some("container")
    );
    let services = p.params["allowed_services"].as_array().expect("a list");
    assert!(
        services
            .iter()
            .any(|s| s.as_str() == Some("tractorsec-agent.service"))
    );
}
