//! The live host, read for real: `tractorsec audit` as root and as an
//! unprivileged user, its sysctl findings checked against `sysctl -n` run
//! beside it. Nothing on the host is changed.

use assert_cmd::Command;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command as Std;

fn is_root() -> bool {
    Std::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn audit_json(cmd: &mut Std) -> Value {
    let out = cmd.output().expect("run tractorsec");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "audit exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// Every `KEY = VALUE` observation of a `kernel.sysctl.*` finding must show
/// what `sysctl -n KEY` shows.
fn assert_sysctl_findings_agree(report: &Value, runner: &dyn Fn(&str) -> Option<String>) -> usize {
    let mut compared = 0;
    for f in report["findings"].as_array().expect("findings") {
        let id = f["id"].as_str().unwrap_or_default();
        if !id.starts_with("kernel.sysctl.") {
            continue;
        }
        for part in f["observed"].as_str().unwrap_or_default().split("; ") {
            let Some((key, value)) = part.split_once(" = ") else {
                continue;
            };
            if key == "kernel.tainted" {
                continue; // may change between the two reads
            }
            let Some(live) = runner(key) else { continue };
            assert_eq!(
                value, live,
                "{id}: tractorsec saw {key} = {value:?}, sysctl -n saw {live:?}"
            );
            compared += 1;
        }
    }
    compared
}

fn sysctl_n(key: &str, as_nobody: bool) -> Option<String> {
    let mut cmd = if as_nobody {
        let mut c = Std::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sysctl",
            "-n",
            key,
        ]);
        c
    } else {
        let mut c = Std::new("sysctl");
        c.args(["-n", key]);
        c
    };
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn live_audit_sysctl_findings_agree_with_sysctl() {
    let bin = assert_cmd::cargo::cargo_bin("tractorsec");
    let report =
        audit_json(Std::new(&bin).args(["audit", "--format", "json", "--fail-on", "never"]));
    assert_eq!(report["root"], "/");
    let compared = assert_sysctl_findings_agree(&report, &|k| sysctl_n(k, false));
    assert!(compared >= 20, "only {compared} sysctl findings compared");
    assert!(report["findings"].as_array().expect("findings").len() >= 150);
}

/// A copy of the binary that an unprivileged user can execute.
fn world_executable_copy(dir: &Path) -> std::path::PathBuf {
    let bin = assert_cmd::cargo::cargo_bin("tractorsec");
    let copy = dir.join("tractorsec");
    std::fs::copy(&bin, &copy).expect("copy binary");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod bin");
    copy
}

#[test]
fn unprivileged_audit_is_partial_and_says_what_is_missing() {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test as root"
        );
        eprintln!("skipping: needs root to switch to an unprivileged user");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = world_executable_copy(dir.path());
    let report = audit_json(
        Std::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(["audit", "--format", "json", "--fail-on", "never"]),
    );
    assert_eq!(report["privileged"], false);
    let gaps: Vec<&str> = report["fact_gaps"]
        .as_array()
        .expect("fact_gaps")
        .iter()
        .filter_map(|g| g["source"].as_str())
        .collect();
    assert!(
        gaps.contains(&"shadow"),
        "an unprivileged run cannot read /etc/shadow: {gaps:?}"
    );
    let empty_pw = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "baseline.users.empty_password")
        .expect("empty_password finding");
    assert_eq!(
        empty_pw["status"], "error",
        "unreadable shadow must be an error, never a pass"
    );
    let compared = assert_sysctl_findings_agree(&report, &|k| sysctl_n(k, true));
    assert!(compared >= 20, "only {compared} sysctl findings compared");

    let out = Std::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["audit", "--fail-on", "never"])
        .output()
        .expect("text audit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Partial snapshot: not collected"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "no colour when stdout is not a TTY"
    );
}

#[test]
fn stored_snapshot_audits_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let facts = dir.path().join("facts.json");
    Command::cargo_bin("tractorsec")
        .expect("bin")
        .args(["facts", "--out"])
        .arg(&facts)
        .assert()
        .success();
    Command::cargo_bin("tractorsec")
        .expect("bin")
        .args(["audit", "--fail-on", "never", "--facts"])
        .arg(&facts)
        .assert()
        .code(0);
    // Bad input is exit 2 with the file named.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1,\n oops").expect("write");
    let out = Command::cargo_bin("tractorsec")
        .expect("bin")
        .args(["audit", "--facts"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json:2:"), "{err}");
    let out = Command::cargo_bin("tractorsec")
        .expect("bin")
        .args(["audit", "--profile", "/nonexistent.toml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
