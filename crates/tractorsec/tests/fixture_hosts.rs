//! End-to-end tests over the captured-host fixtures (tests/fixtures/hosts,
//! written by tests/fixtures/make_hosts.py): golden findings per host, every
//! control seen both passing and failing, exit codes, JSON Schema validity,
//! determinism and offline roots.
//!
//! `UPDATE_GOLDEN=1 cargo test -p tractorsec --test fixture_hosts` rewrites
//! tests/fixtures/golden/*.json from the current findings.

mod common;

use common::{HOSTS, audit_json, findings, host, statuses, tractorsec, validate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The findings as one compact JSON object a line (`id`, `status`,
/// `observed`), sorted by id.
fn golden_text(report: &serde_json::Value) -> String {
    let mut rows: Vec<(String, String)> = findings(report)
        .iter()
        .map(|f| {
            let id = f["id"].as_str().expect("id").to_string();
            let line = format!(
                "{{\"id\":{},\"status\":{},\"observed\":{}}}",
                f["id"], f["status"], f["observed"]
            );
            (id, line)
        })
        .collect();
    rows.sort();
    let lines: Vec<String> = rows.into_iter().map(|(_, l)| l).collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

fn check_findings_golden(name: &str) {
    let Some(root) = host(name) else { return };
    let (report, _) = audit_json(root.path(), &[]);
    let dir = root.path().to_string_lossy().into_owned();
    for f in findings(&report) {
        let text = format!("{} {}", f["observed"], f["evidence"]);
        assert!(
            !text.contains(&dir),
            "{}: the temp root {dir} leaks into the finding: {text}",
            f["id"]
        );
    }
    common::check_golden(&format!("{name}.json"), &golden_text(&report));
}

#[test]
fn golden_findings_gpu_hardened() {
    check_findings_golden("gpu-hardened");
}

#[test]
fn golden_findings_debian_stock() {
    check_findings_golden("debian-stock");
}

#[test]
fn golden_findings_weakened() {
    check_findings_golden("weakened");
}

/// Controls that cannot reach one of the two verdicts with this build, and
/// why. Kept as short as possible; the test fails when an entry is no longer
/// needed.
const CANNOT_PASS: &[(&str, &str)] = &[];
const CANNOT_FAIL: &[(&str, &str)] = &[];

/// A profile extending the built-in one with the params that make the
/// param-driven controls (not applicable by default) judge something.
const PARAMS_PROFILE: &str = r#"
name = "fixture-params"
extends = "tractoros"
[params]
manifest = "/usr/lib/tractoros/manifest.json"
pubkey = "/usr/lib/tractoros/manifest.pub"
expected_profile = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
"#;

/// One controller's `nvme_security` entry (its namespace `nvmeXn1`) with a
/// TCG Level 0 summary read through Security Receive.
fn nvme_security(controller: &str, ssc: &str, sed: bool) -> serde_json::Value {
    serde_json::json!({
        "controller": controller,
        "namespaces": [format!("{controller}n1")],
        "identify": null,
        "tcg": {
            "sed_present": sed, "ssc": ssc, "locking_supported": true,
            "locking_enabled": true, "locked": false, "media_encryption": sed,
            "shadow_mbr_active": false
        },
        "tcg_source": "security_receive",
        "error": null
    })
}

/// Audit the snapshot of `root` with `nvme_security` set to `security`
/// (collected on a live host; fixture roots are offline, so the snapshot
/// alone says it was not collected).
fn audit_snapshot_with_nvme_security(
    root: &Path,
    security: Vec<serde_json::Value>,
) -> serde_json::Value {
    let facts = tractorsec()
        .args(["facts", "--root"])
        .arg(root)
        .output()
        .expect("facts");
    assert!(facts.status.success());
    let mut snapshot: serde_json::Value = serde_json::from_slice(&facts.stdout).expect("json");
    assert_eq!(
        snapshot["nvme_security"]["error"]["kind"], "not_present",
        "an offline root leaves nvme_security not collected"
    );
    snapshot["nvme_security"] = serde_json::json!({ "ok": security });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("facts.json");
    std::fs::write(&file, snapshot.to_string()).expect("write");
    let out = tractorsec()
        .args(["audit", "--format", "json", "--fail-on", "never", "--facts"])
        .arg(&file)
        .output()
        .expect("audit --facts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json report")
}

#[test]
fn sed_control_judges_collected_tcg_level0() {
    let Some(root) = host("weakened") else { return };
    let sed = |report: &serde_json::Value| {
        findings(report)
            .iter()
            .find(|f| f["id"] == "devices.storage.sed")
            .map(|f| (f["status"].clone(), f["observed"].clone()))
            .expect("sed finding")
    };
    let (status, observed) = sed(&audit_json(root.path(), &[]).0);
    assert_eq!(status, "error", "{observed}");
    let opal = audit_snapshot_with_nvme_security(
        root.path(),
        vec![
            nvme_security("nvme0", "opal2", true),
            nvme_security("nvme1", "opal2", true),
        ],
    );
    let (status, observed) = sed(&opal);
    assert_eq!(status, "pass", "{observed}");
    let pyrite = audit_snapshot_with_nvme_security(
        root.path(),
        vec![
            nvme_security("nvme0", "opal2", true),
            nvme_security("nvme1", "pyrite2", false),
        ],
    );
    let (status, observed) = sed(&pyrite);
    assert_eq!(status, "fail");
    assert_eq!(
        observed,
        "not encrypted at rest: nvme1n1: Pyrite 2 (locking without media encryption)"
    );
}

#[test]
fn every_control_passes_somewhere_and_fails_somewhere() {
    let mut roots = Vec::new();
    for name in HOSTS {
        let Some(root) = host(name) else { return };
        roots.push(root);
    }
    let profile_dir = tempfile::tempdir().expect("temp dir");
    let profile = profile_dir.path().join("params.toml");
    std::fs::write(&profile, PARAMS_PROFILE).expect("write profile");
    let profile_arg = profile.to_str().expect("utf-8 path");

    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut runs = Vec::new();
    for root in &roots {
        runs.push(audit_json(root.path(), &[]).0);
        runs.push(audit_json(root.path(), &["--profile", profile_arg]).0);
    }
    // NVMe outside dm-crypt is judged by TCG Level 0, which only a live
    // root collects: the weakened host's snapshot with an Opal 2 SED with
    // locking enabled, then with a Pyrite-only drive.
    let weakened = roots[HOSTS
        .iter()
        .position(|h| *h == "weakened")
        .expect("weakened")]
    .path();
    runs.push(audit_snapshot_with_nvme_security(
        weakened,
        vec![
            nvme_security("nvme0", "opal2", true),
            nvme_security("nvme1", "opal2", true),
        ],
    ));
    runs.push(audit_snapshot_with_nvme_security(
        weakened,
        vec![
            nvme_security("nvme0", "opal2", true),
            nvme_security("nvme1", "pyrite2", false),
        ],
    ));
    // The node's expected profile hash comes from outside the profile.
    let hash = runs[0]["profile"]["hash"]
        .as_str()
        .expect("profile hash")
        .to_string();
    let param = format!("expected_profile={hash}");
    let provisioned = audit_json(roots[0].path(), &["--param", &param]).0;
    assert_eq!(
        provisioned["profile"]["hash"],
        hash.as_str(),
        "--param must not change the profile hash"
    );
    assert_eq!(
        provisioned["profile"]["overrides"]["expected_profile"],
        format!("\"{hash}\"").as_str()
    );
    runs.push(provisioned);
    // A sealed image: the drift control passes on the tree it sealed, and
    // fails once a file is added.
    let keys = tempfile::tempdir().expect("temp dir");
    let (secret, public, manifest) = (
        keys.path().join("k.key"),
        keys.path().join("k.pub"),
        keys.path().join("root.manifest"),
    );
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_string();
    let generated = tractorsec()
        .args([
            "key",
            "generate",
            "--secret",
            &path(&secret),
            "--public",
            &path(&public),
        ])
        .output()
        .expect("key generate");
    assert!(generated.status.success());
    let sealed = tractorsec()
        .args([
            "seal",
            &path(roots[0].path()),
            "--key",
            &path(&secret),
            "--out",
            &path(&manifest),
        ])
        .output()
        .expect("seal");
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    let manifest_param = format!("manifest={}", path(&manifest));
    let pubkey_param = format!("pubkey={}", path(&public));
    let sealed_params = ["--param", &manifest_param, "--param", &pubkey_param];
    runs.push(audit_json(roots[0].path(), &sealed_params).0);
    std::fs::write(roots[0].path().join("etc/dropped-by-attacker"), "x").expect("write");
    runs.push(audit_json(roots[0].path(), &sealed_params).0);
    for report in &runs {
        for (id, status) in statuses(report) {
            seen.entry(id).or_default().insert(status);
        }
    }
    let builtin = tractorsec()
        .args(["controls", "list", "--format", "json"])
        .output()
        .expect("controls list");
    let listed: serde_json::Value = serde_json::from_slice(&builtin.stdout).expect("json");
    let ids: Vec<String> = listed
        .as_array()
        .expect("control list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    assert!(
        ids.len() >= 150,
        "built-in profile has {} controls",
        ids.len()
    );

    let mut problems = Vec::new();
    for id in &ids {
        let got = seen.get(id).cloned().unwrap_or_default();
        for (verdict, allow) in [("pass", CANNOT_PASS), ("fail", CANNOT_FAIL)] {
            let allowed = allow.iter().any(|(a, _)| a == id);
            match (got.contains(verdict), allowed) {
                (false, false) => problems.push(format!("{id}: never {verdict}s (saw {got:?})")),
                (true, true) => problems.push(format!(
                    "{id}: now {verdict}s somewhere: remove it from the allow-list"
                )),
                _ => {}
            }
        }
    }
    for (id, _) in CANNOT_PASS.iter().chain(CANNOT_FAIL) {
        if !ids.iter().any(|i| i == id) {
            problems.push(format!(
                "{id}: allow-listed but not in the built-in profile"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn audit_exit(root: &Path, fail_on: &str) -> (i32, serde_json::Value) {
    let out = tractorsec()
        .args(["audit", "--format", "json", "--fail-on", fail_on, "--root"])
        .arg(root)
        .output()
        .expect("run audit");
    let report = serde_json::from_slice(&out.stdout).expect("json report");
    (out.status.code().expect("exit code"), report)
}

#[test]
fn hardened_host_fails_nothing_and_exits_0_at_fail_on_low() {
    let Some(root) = host("gpu-hardened") else {
        return;
    };
    let (code, report) = audit_exit(root.path(), "low");
    let bad: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "error")
        .map(|f| format!("{} {}: {}", f["id"], f["status"], f["observed"]))
        .collect();
    assert!(bad.is_empty(), "hardened host:\n{}", bad.join("\n"));
    assert_eq!(code, 0);
    assert!(
        report["fact_gaps"].as_array().is_some_and(Vec::is_empty),
        "every fact source of the hardened host is readable: {}",
        report["fact_gaps"]
    );
}

#[test]
fn weakened_host_exits_1_even_at_fail_on_critical() {
    let Some(root) = host("weakened") else { return };
    let (code, report) = audit_exit(root.path(), "critical");
    assert_eq!(code, 1);
    let failed = findings(&report)
        .iter()
        .filter(|f| f["status"] == "fail")
        .count();
    assert!(
        failed * 10 >= findings(&report).len() * 9,
        "the weakened host fails at least 90% of the controls, not {failed}"
    );
    let (never, _) = audit_exit(root.path(), "never");
    assert_eq!(never, 0, "--fail-on never exits 0");
}

#[test]
fn debian_stock_exits_1_at_fail_on_high() {
    let Some(root) = host("debian-stock") else {
        return;
    };
    assert_eq!(audit_exit(root.path(), "high").0, 1);
}

fn schema(doc: &str) -> String {
    let out = tractorsec()
        .args(["schema", doc])
        .output()
        .expect("run schema");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8 schema")
}

#[test]
fn reports_and_facts_validate_against_their_published_schemas() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report_schema = dir.path().join("report.schema.json");
    let facts_schema = dir.path().join("facts.schema.json");
    std::fs::write(&report_schema, schema("report")).expect("write");
    std::fs::write(&facts_schema, schema("facts")).expect("write");
    for name in HOSTS {
        let Some(root) = host(name) else { return };
        let (report, _) = audit_json(root.path(), &[]);
        let report_file = dir.path().join(format!("{name}.report.json"));
        std::fs::write(&report_file, report.to_string()).expect("write");
        validate(&report_schema, &report_file).unwrap_or_else(|e| panic!("{name} report: {e}"));

        let facts_file = dir.path().join(format!("{name}.facts.json"));
        let facts = tractorsec()
            .args(["facts", "--root"])
            .arg(root.path())
            .output()
            .expect("facts");
        assert!(facts.status.success());
        std::fs::write(&facts_file, &facts.stdout).expect("write");
        validate(&facts_schema, &facts_file).unwrap_or_else(|e| panic!("{name} facts: {e}"));
    }
    // A report missing a required field is rejected: the validator runs.
    let mut broken = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(dir.path().join("weakened.report.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    if let Some(obj) = broken.as_object_mut() {
        obj.remove("findings");
        let file = dir.path().join("broken.json");
        std::fs::write(&file, broken.to_string()).expect("write");
        assert!(validate(&report_schema, &file).is_err());
    }
}

#[test]
fn committed_schemas_equal_the_binarys() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    for (doc, file) in [
        ("report", "report.schema.json"),
        ("facts", "facts.schema.json"),
        ("erase-certificate", "erase-certificate.schema.json"),
    ] {
        let committed = std::fs::read_to_string(docs.join(file))
            .unwrap_or_else(|e| panic!("docs/{file}: {e} (tractorsec schema {doc} > docs/{file})"));
        assert!(
            committed == schema(doc),
            "docs/{file} is stale: regenerate with `tractorsec schema {doc} > docs/{file}`"
        );
    }
}

fn without_collected_at(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("\"collected_at\""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn facts_are_deterministic() {
    for name in HOSTS {
        let Some(root) = host(name) else { return };
        let run = || {
            let out = tractorsec()
                .args(["facts", "--root"])
                .arg(root.path())
                .output()
                .expect("facts");
            assert!(out.status.success());
            String::from_utf8(out.stdout).expect("utf-8")
        };
        let (first, second) = (run(), run());
        assert!(first.contains("\"collected_at\""));
        assert_eq!(
            without_collected_at(&first),
            without_collected_at(&second),
            "{name}: two snapshots of the same tree differ"
        );
    }
}

#[test]
fn shadow_hashes_are_never_collected() {
    let Some(root) = host("weakened") else { return };
    let shadow = std::fs::read_to_string(root.path().join("etc/shadow")).expect("shadow");
    assert!(
        shadow.contains("$6$fixture$notarealhash"),
        "fixture has a hash"
    );
    let facts = tractorsec()
        .args(["facts", "--root"])
        .arg(root.path())
        .output()
        .expect("facts");
    let (report, _) = audit_json(root.path(), &[]);
    for text in [
        String::from_utf8_lossy(&facts.stdout).into_owned(),
        report.to_string(),
    ] {
        assert!(!text.contains("notarealhash"), "a password hash leaked");
        assert!(!text.contains("$6$"), "a password hash leaked");
    }
}

/// Controls that need a running system (`/proc`, `/sys`, `/dev`).
const RUNTIME_ONLY: &[&str] = &[
    "kernel.sysctl.kernel.kptr_restrict",
    "kernel.lockdown",
    "kernel.lsm",
    "kernel.memory.kpti",
    "kernel.cpu.vulnerabilities",
    "devices.gpu.node_mode",
    "devices.block.node_mode",
    "devices.iommu.enabled",
    "devices.gpu.tenant_binding",
    "platform.image.root_readonly",
    "platform.mounts.tmp",
    "baseline.network.listeners",
    "kernel.modules.unsigned_loaded",
];

#[test]
fn offline_image_root_is_not_applicable_for_runtime_controls() {
    let image = tempfile::tempdir().expect("temp dir");
    let etc = image.path().join("etc");
    std::fs::create_dir_all(etc.join("ssh")).expect("mkdir");
    std::fs::write(etc.join("passwd"), "root:x:0:0:root:/root:/bin/bash\n").expect("write");
    std::fs::write(etc.join("ssh/sshd_config"), "PermitRootLogin no\n").expect("write");
    std::fs::write(etc.join("shadow"), "root:*:19700:0:99999:7:::\n").expect("write");
    std::fs::write(etc.join("group"), "root:x:0:\ndisk:x:6:\n").expect("write");
    std::fs::create_dir_all(image.path().join("boot")).expect("mkdir");
    std::fs::write(
        image.path().join("boot/config-6.8.0-tractor"),
        "CONFIG_X86=y\nCONFIG_MODULES=y\nCONFIG_MODULE_SIG=y\n# CONFIG_USERFAULTFD is not set\n",
    )
    .expect("write");
    let (report, _) = audit_json(image.path(), &[]);
    assert_eq!(report["runtime"], false);
    let by_id: BTreeMap<&str, &serde_json::Value> = findings(&report)
        .iter()
        .map(|f| (f["id"].as_str().expect("id"), f))
        .collect();
    for id in RUNTIME_ONLY {
        let f = by_id
            .get(id)
            .unwrap_or_else(|| panic!("{id} not in the report"));
        assert_eq!(f["status"], "not_applicable", "{id}: {f}");
        let observed = f["observed"].as_str().expect("observed");
        assert!(observed.contains("offline"), "{id}: {observed}");
    }
    // Controls over files still judge the image.
    assert_eq!(by_id["baseline.ssh.root_login"]["status"], "pass");
    assert_eq!(by_id["baseline.users.uid0"]["status"], "pass");
    let errors: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["status"] == "error")
        .map(|f| format!("{}: {}", f["id"], f["observed"]))
        .collect();
    assert!(errors.is_empty(), "offline is not an error: {errors:?}");
}
