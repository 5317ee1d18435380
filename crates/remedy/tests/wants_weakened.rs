//! The built-in profile is honest about what `apply` fixes: on the weakened
//! fixture host, every failing control marked `fix.auto` gets an automatic
//! remedy, every other one a manual instruction, and the reboot flag of the
//! profile is the remedy's.

use std::path::PathBuf;
use tractorsec_facts::{Facts, Root, collect::collect};
use tractorsec_policy::check::Context;
use tractorsec_policy::{Profile, Status, Waivers, evaluate_with};
use tractorsec_remedy::{Remedy, Want, remedy_for};

fn weakened() -> (Profile, Facts) {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/hosts/weakened/root");
    let facts = collect(&Root::open(&root).expect("fixture root"));
    let profile = Profile::load_with("tractoros", &Default::default()).expect("built-in profile");
    (profile, facts)
}

/// (control id, remedy) for every control failing on the weakened host.
fn failing_remedies(profile: &Profile, facts: &Facts) -> Vec<(String, Remedy)> {
    let findings = evaluate_with(profile, facts, &Waivers::default(), "2026-12-04");
    let ctx = Context { facts, profile };
    findings
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| {
            let control = profile.control(&f.id).expect("control of a finding");
            (f.id.clone(), remedy_for(control, &ctx))
        })
        .collect()
}

#[test]
fn auto_and_reboot_flags_match_the_remedies() {
    let (profile, facts) = weakened();
    let remedies = failing_remedies(&profile, &facts);
    assert!(remedies.len() > 100, "only {} failing", remedies.len());
    let mut wrong = Vec::new();
    for (id, remedy) in &remedies {
        let fix = &profile.control(id).unwrap().fix;
        match remedy {
            Remedy::Auto { wants, reboot } => {
                assert!(!wants.is_empty(), "{id}: automatic remedy without wants");
                if !fix.auto {
                    wrong.push(format!(
                        "{id}: fix.auto = false, but remedy is automatic: {wants:?}"
                    ));
                } else if *reboot != fix.reboot {
                    wrong.push(format!(
                        "{id}: fix.reboot = {}, remedy reboot = {reboot}",
                        fix.reboot
                    ));
                }
            }
            Remedy::Manual(text) => {
                assert!(!text.trim().is_empty(), "{id}: empty manual instruction");
                if fix.auto {
                    wrong.push(format!(
                        "{id}: fix.auto = true, but remedy is manual: {text}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn wants_of<'a>(remedies: &'a [(String, Remedy)], id: &str) -> &'a [Want] {
    match remedies.iter().find(|(i, _)| i == id).map(|(_, r)| r) {
        Some(Remedy::Auto { wants, .. }) => wants,
        other => panic!("{id}: expected an automatic remedy, got {other:?}"),
    }
}

fn cmdline(param: &str, value: Option<&str>) -> Want {
    Want::Cmdline {
        param: param.into(),
        value: value.map(str::to_string),
    }
}

#[test]
fn weakened_host_wants_are_the_expected_settings() {
    let (profile, facts) = weakened();
    let r = failing_remedies(&profile, &facts);
    let sysctl = |key: &str, value: &str| Want::Sysctl {
        key: key.into(),
        value: value.into(),
    };
    assert_eq!(
        wants_of(&r, "kernel.sysctl.kernel.kptr_restrict"),
        [sysctl("kernel.kptr_restrict", "2")]
    );
    assert_eq!(
        wants_of(&r, "kernel.sysctl.kernel.perf_event_paranoid"),
        [sysctl("kernel.perf_event_paranoid", "3")]
    );
    assert_eq!(
        wants_of(&r, "kernel.sysctl.kernel.oops_limit"),
        [sysctl("kernel.oops_limit", "100")]
    );
    assert_eq!(
        wants_of(&r, "kernel.sysctl.net.ipv6.conf.all.forwarding"),
        [sysctl("net.ipv6.conf.all.forwarding", "0")]
    );
    assert_eq!(
        wants_of(&r, "kernel.config.USERFAULTFD"),
        [sysctl("vm.unprivileged_userfaultfd", "0")]
    );
    assert_eq!(
        wants_of(&r, "kernel.cmdline.no_weakening.mitigations"),
        [cmdline("mitigations", None)]
    );
    assert_eq!(
        wants_of(&r, "kernel.cmdline.recommended.slab_nomerge"),
        [cmdline("slab_nomerge", Some(""))]
    );
    assert_eq!(
        wants_of(&r, "kernel.cmdline.recommended.randomize_kstack_offset"),
        [cmdline("randomize_kstack_offset", Some("1"))]
    );
    assert_eq!(
        wants_of(&r, "platform.observe.audit.backlog"),
        [cmdline("audit_backlog_limit", Some("8192"))]
    );
    assert_eq!(
        wants_of(&r, "kernel.memory.aslr"),
        [
            sysctl("kernel.randomize_va_space", "2"),
            cmdline("norandmaps", None),
            cmdline("nokaslr", None)
        ]
    );
    assert_eq!(
        wants_of(&r, "kernel.modules.loading_locked"),
        [cmdline("lockdown", Some("integrity"))]
    );
    assert_eq!(
        wants_of(&r, "devices.iommu.enabled"),
        [cmdline("intel_iommu", Some("on"))]
    );
    assert_eq!(
        wants_of(&r, "devices.iommu.strict"),
        [
            cmdline("iommu.passthrough", None),
            cmdline("iommu.strict", Some("1"))
        ]
    );
    assert_eq!(
        wants_of(&r, "devices.gpu.device_file_mode"),
        [Want::NvidiaOption {
            name: "DeviceFileMode".into(),
            value: "0660".into()
        }]
    );
    assert_eq!(
        wants_of(&r, "devices.gpu.profiling_restricted"),
        [Want::NvidiaOption {
            name: "RestrictProfilingToAdminUsers".into(),
            value: "1".into()
        }]
    );
    assert_eq!(
        wants_of(&r, "baseline.ssh.password_auth"),
        [
            Want::Sshd {
                key: "PasswordAuthentication".into(),
                value: "no".into()
            },
            Want::Sshd {
                key: "KbdInteractiveAuthentication".into(),
                value: "no".into()
            }
        ]
    );
    assert_eq!(
        wants_of(&r, "platform.mounts.tmp"),
        [Want::MountOptions {
            mount_point: "/tmp".into(),
            add: vec!["nodev".into(), "nosuid".into(), "noexec".into()]
        }]
    );
    let masks = wants_of(&r, "baseline.services.allowed");
    for unit in ["avahi-daemon.service", "cron.service", "docker.service"] {
        assert!(
            masks.contains(&Want::MaskUnit { unit: unit.into() }),
            "{unit} not masked: {masks:?}"
        );
    }
    assert!(!masks.contains(&Want::MaskUnit {
        unit: "ssh.service".into()
    }));
    match wants_of(&r, "platform.observe.audit.auditd") {
        [
            Want::EnableUnit {
                unit, wanted_by, ..
            },
        ] => {
            assert_eq!(unit, "auditd.service");
            assert_eq!(wanted_by, "multi-user.target");
        }
        other => panic!("{other:?}"),
    }
    let modules = wants_of(&r, "baseline.modules.firewire");
    assert_eq!(modules.len(), 3, "{modules:?}");
}
