//! Evaluation semantics on hand-built snapshots: unreadable input is never a
//! pass, compiled-out features are not applicable, waivers expire.

use serde_json::json;
use tractorsec_facts::Facts;
use tractorsec_policy::{Profile, Status, Waivers, evaluate_with};

/// A snapshot where every source is missing with `kind`, then `patch` applied.
fn facts(kind: &str, patch: serde_json::Value) -> Facts {
    let missing = json!({"error": {"kind": kind, "path": "/x", "message": "missing"}});
    let mut v = json!({
        "schema_version": 1, "tool_version": "0", "collected_at": "2026-01-01T00:00:00Z",
        "root": "/", "runtime": true, "privileged": true,
    });
    for source in [
        "host",
        "kernel",
        "kconfig",
        "sysctl",
        "sysctl_persisted",
        "lockdown",
        "lsm",
        "module_sig_enforce",
        "modules_loaded",
        "modprobe",
        "cpu",
        "mounts",
        "dev_nodes",
        "iommu",
        "pci",
        "nvidia_params",
        "device_mapper",
        "accounts",
        "shadow",
        "groups",
        "authorized_keys",
        "sshd",
        "systemd",
        "packages",
        "listeners",
        "audit",
        "journald",
    ] {
        v[source] = missing.clone();
    }
    for (k, val) in patch.as_object().expect("object") {
        v[k] = val.clone();
    }
    serde_json::from_value(v).expect("facts")
}

fn profile(controls: &str) -> Profile {
    Profile::parse("test.toml", &format!("name = \"t\"\n{controls}")).expect("profile")
}

const KEXEC: &str = r#"
[[control]]
id = "kernel.sysctl.kexec"
title = "t"
section = "kernel"
severity = "high"
rationale = "r"
references = ["KSPP"]
check.sysctl = { key = "kernel.kexec_load_disabled", expect = { equals = 1 }, kconfig = ["KEXEC_CORE"] }
fix = { hint = "h" }
"#;

fn status(p: &Profile, f: &Facts, id: &str) -> Status {
    let findings = evaluate_with(p, f, &Waivers::default(), "2026-06-01");
    findings
        .findings
        .iter()
        .find(|x| x.id == id)
        .expect("finding")
        .status
}

#[test]
fn unreadable_source_is_error_never_pass() {
    let p = profile(KEXEC);
    let f = facts("permission_denied", json!({}));
    assert_eq!(status(&p, &f, "kernel.sysctl.kexec"), Status::Error);
}

#[test]
fn offline_root_is_not_applicable() {
    let p = profile(KEXEC);
    let f = facts("offline", json!({}));
    assert_eq!(status(&p, &f, "kernel.sysctl.kexec"), Status::NotApplicable);
}

#[test]
fn missing_sysctl_with_feature_compiled_out_is_not_applicable() {
    let p = profile(KEXEC);
    let sysctl = json!({"ok": {"values": {}, "unreadable": {}}});
    let off = facts(
        "not_present",
        json!({"sysctl": sysctl, "kconfig": {"ok": {"source": "/boot/config", "options": {"KEXEC_CORE": "n"}}}}),
    );
    assert_eq!(
        status(&p, &off, "kernel.sysctl.kexec"),
        Status::NotApplicable
    );
    let on = facts(
        "not_present",
        json!({"sysctl": sysctl, "kconfig": {"ok": {"source": "/boot/config", "options": {"KEXEC_CORE": "y"}}}}),
    );
    assert_eq!(status(&p, &on, "kernel.sysctl.kexec"), Status::Fail);
}

#[test]
fn sysctl_value_is_judged() {
    let p = profile(KEXEC);
    let good = facts(
        "not_present",
        json!({"sysctl": {"ok": {"values": {"kernel.kexec_load_disabled": "1"}, "unreadable": {}}}}),
    );
    let bad = facts(
        "not_present",
        json!({"sysctl": {"ok": {"values": {"kernel.kexec_load_disabled": "0"}, "unreadable": {}}}}),
    );
    assert_eq!(status(&p, &good, "kernel.sysctl.kexec"), Status::Pass);
    assert_eq!(status(&p, &bad, "kernel.sysctl.kexec"), Status::Fail);
}

#[test]
fn waiver_applies_until_expiry_then_fails() {
    let p = profile(KEXEC);
    let bad = facts(
        "not_present",
        json!({"sysctl": {"ok": {"values": {"kernel.kexec_load_disabled": "0"}, "unreadable": {}}}}),
    );
    let text = "[[waiver]]\ncontrol = \"kernel.sysctl.kexec\"\nreason = \"kdump needed\"\nowner = \"sre\"\nexpires = \"2026-06-01\"\n";
    let waivers = Waivers::parse("w.toml", text, &p).expect("waivers");
    let on_day = evaluate_with(&p, &bad, &waivers, "2026-06-01");
    assert_eq!(on_day.findings[0].status, Status::Waived);
    let after = evaluate_with(&p, &bad, &waivers, "2026-06-02");
    assert_eq!(after.findings[0].status, Status::Fail);
    assert!(after.findings[0].observed.contains("waiver expired"));
}

#[test]
fn waiver_for_unknown_control_is_rejected_with_line() {
    let p = profile(KEXEC);
    let text = "\n[[waiver]]\ncontrol = \"kernel.nope\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2026-06-01\"\n";
    let err = Waivers::parse("w.toml", text, &p).expect_err("unknown control");
    assert_eq!(err.line, 3, "{err}");
    assert!(err.to_string().starts_with("w.toml:3:"), "{err}");
}

#[test]
fn profile_errors_name_file_and_line() {
    let text = "name = \"t\"\n\n[[control]]\nid = \"a.b\"\ntitle = \"t\"\nsection = \"kernel\"\nseverity = \"high\"\nrationale = \"r\"\nreferences = []\ncheck.sysctl = { key = \"x\", expect = { bogus = 1 } }\nfix = { hint = \"h\" }\n";
    let err = Profile::parse("bad.toml", text).expect_err("bad matcher");
    assert!(err.to_string().starts_with("bad.toml:3:"), "{err}");
    assert!(err.to_string().contains("a.b"), "{err}");
}

#[test]
fn unknown_param_is_rejected() {
    let text = KEXEC.replace("equals = 1", "equals = \"$nope\"");
    let err =
        Profile::parse("p.toml", &format!("name = \"t\"\n{text}")).expect_err("unknown param");
    assert!(err.to_string().contains("unknown param $nope"), "{err}");
}

#[test]
fn disabled_control_is_not_applicable() {
    let text = KEXEC.replace(
        "fix = { hint = \"h\" }",
        "fix = { hint = \"h\" }\nenabled = \"$on\"",
    );
    let p = Profile::parse(
        "p.toml",
        &format!("name = \"t\"\n[params]\non = false\n{text}"),
    )
    .expect("profile");
    let bad = facts(
        "not_present",
        json!({"sysctl": {"ok": {"values": {"kernel.kexec_load_disabled": "0"}, "unreadable": {}}}}),
    );
    assert_eq!(
        status(&p, &bad, "kernel.sysctl.kexec"),
        Status::NotApplicable
    );
}

#[test]
fn extends_overrides_params_and_disables_controls() {
    let dir = tempfile_dir();
    let child = dir.join("child.toml");
    std::fs::write(&child, "name = \"child\"\nextends = \"tractoros\"\ndisable = [\"kernel.lockdown\"]\n[params]\nperf_event_paranoid = 2\n").unwrap();
    let p = Profile::load(child.to_str().unwrap()).expect("child profile");
    let base = Profile::load("tractoros").expect("base");
    assert_eq!(p.controls.len(), base.controls.len() - 1);
    assert!(p.control("kernel.lockdown").is_none());
    assert_eq!(p.params["perf_event_paranoid"].as_integer(), Some(2));
    assert_ne!(p.hash, base.hash);
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tractorsec-policy-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn extends_loop_is_an_error_not_a_hang() {
    let dir = tempfile_dir().join("loop");
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join("self.toml");
    std::fs::write(&p, "name = \"self\"\nextends = \"self.toml\"\n").expect("write");
    let err = Profile::load(p.to_str().expect("utf-8")).expect_err("loop");
    assert!(err.to_string().contains("too deep"), "{err}");
}

const GROUPS: &str = r#"
[[control]]
id = "devices.block.group_members"
title = "t"
section = "devices"
severity = "high"
rationale = "r"
references = ["CIS"]
check.group_members = { groups = ["disk"], allowed = [] }
fix = { hint = "h" }
"#;

#[test]
fn group_members_without_passwd_is_error_not_pass() {
    let p = profile(GROUPS);
    let groups = json!({"ok": [{"name": "disk", "gid": 6, "members": []}]});
    let f = facts("permission_denied", json!({"groups": groups}));
    assert_eq!(status(&p, &f, "devices.block.group_members"), Status::Error);
    let with_primary = facts(
        "not_present",
        json!({"groups": groups, "accounts": {"ok": {"uid_min": 1000, "users": [
            {"name": "tenant", "uid": 1001, "gid": 6, "home": "/home/tenant", "shell": "/bin/sh"}
        ]}}}),
    );
    assert_eq!(
        status(&p, &with_primary, "devices.block.group_members"),
        Status::Fail
    );
}

const SED: &str = r#"
[[control]]
id = "devices.storage.sed"
title = "t"
section = "devices"
severity = "high"
rationale = "r"
references = ["TCG"]
check.sed_encryption = {}
fix = { hint = "h" }
"#;

/// Block nodes for `names` and a dm-crypt device over `crypted`, plus
/// `nvme_security` when given.
fn sed_facts(names: &[&str], crypted: &[&str], security: Option<serde_json::Value>) -> Facts {
    let nodes: Vec<serde_json::Value> = names
        .iter()
        .map(|n| {
            json!({"path": format!("/dev/{n}"), "kind": "block", "major": 259, "minor": 0,
                   "mode": 0o660, "uid": 0, "gid": 6, "class": "nvme"})
        })
        .collect();
    let dm = json!([{"kernel_name": "dm-0", "name": "data", "uuid": "CRYPT-LUKS2-x-data",
                     "slaves": crypted}]);
    let mut patch = json!({"dev_nodes": {"ok": nodes}, "device_mapper": {"ok": dm}});
    if let Some(s) = security {
        patch["nvme_security"] = s;
    }
    facts("not_present", patch)
}

/// One controller's `nvme_security` entry with a Level 0 summary.
fn controller(name: &str, ssc: &str, sed: bool, enabled: bool) -> serde_json::Value {
    json!({
        "controller": name, "namespaces": [format!("{name}n1")],
        "identify": null, "tcg_source": "security_receive", "error": null,
        "tcg": {"sed_present": sed, "ssc": ssc, "locking_supported": ssc != "none",
                "locking_enabled": enabled, "locked": false, "media_encryption": sed,
                "shadow_mbr_active": false},
    })
}

fn sed_finding(f: &Facts) -> (Status, String) {
    let findings = evaluate_with(&profile(SED), f, &Waivers::default(), "2026-06-01");
    let x = &findings.findings[0];
    (x.status, x.observed.clone())
}

#[test]
fn sed_with_locking_enabled_passes_without_dm_crypt() {
    let sec = json!({"ok": [controller("nvme0", "opal2", true, true)]});
    let (status, observed) = sed_finding(&sed_facts(&["nvme0n1"], &[], Some(sec)));
    assert_eq!(status, Status::Pass, "{observed}");
    assert!(
        observed.contains("nvme0n1 (Opal 2 SED, locking enabled)"),
        "{observed}"
    );
}

#[test]
fn pyrite_unlocked_sed_and_no_tcg_fail_naming_each_namespace() {
    let sec = json!({"ok": [
        controller("nvme0", "opal2", true, false),
        controller("nvme1", "pyrite2", false, true),
        controller("nvme2", "none", false, false),
        controller("nvme3", "opal2", true, true),
    ]});
    let names = ["nvme0n1", "nvme1n1", "nvme2n1", "nvme3n1", "nvme4n1"];
    let (status, observed) = sed_finding(&sed_facts(&names, &["nvme4n1p1"], Some(sec)));
    assert_eq!(status, Status::Fail, "{observed}");
    assert_eq!(
        observed,
        "not encrypted at rest: nvme0n1: Opal 2 SED, locking not enabled; \
         nvme1n1: Pyrite 2 (locking without media encryption); \
         nvme2n1: no TCG security subsystem"
    );
}

#[test]
fn sed_state_not_collected_or_unreadable_is_error_never_pass() {
    let (status, observed) = sed_finding(&sed_facts(&["nvme0n1"], &[], None));
    assert_eq!(status, Status::Error);
    assert!(observed.contains("not collected"), "{observed}");

    let denied = json!({"error": {"kind": "permission_denied", "path": "/dev/nvme*",
                                  "message": "need root"}});
    let (status, observed) = sed_finding(&sed_facts(&["nvme0n1"], &[], Some(denied)));
    assert_eq!(status, Status::Error);
    assert!(observed.ends_with("need root"), "{observed}");

    // A controller whose Level 0 could not be read, and one never probed.
    let mut broken = controller("nvme0", "opal2", true, true);
    broken["tcg"] = serde_json::Value::Null;
    broken["error"] = json!("cannot open /dev/nvme0: busy");
    let sec = json!({"ok": [broken]});
    let (status, observed) = sed_finding(&sed_facts(&["nvme0n1", "nvme7n1"], &[], Some(sec)));
    assert_eq!(status, Status::Error);
    assert!(
        observed.contains("nvme0n1: cannot open /dev/nvme0: busy"),
        "{observed}"
    );
    assert!(
        observed.contains("nvme7n1: its controller was not probed"),
        "{observed}"
    );

    // Everything under dm-crypt needs no SED facts.
    let (status, _) = sed_finding(&sed_facts(&["nvme0n1"], &["nvme0n1p2"], None));
    assert_eq!(status, Status::Pass);
}

#[test]
fn sed_namespace_is_matched_to_its_controller_by_name_when_not_listed() {
    let mut c = controller("nvme10", "opal1", true, true);
    c["namespaces"] = json!([]);
    let (status, observed) = sed_finding(&sed_facts(&["nvme10n2"], &[], Some(json!({"ok": [c]}))));
    assert_eq!(status, Status::Pass, "{observed}");
}
