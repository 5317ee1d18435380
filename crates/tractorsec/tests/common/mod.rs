//! Shared helpers for the end-to-end tests: captured-host fixtures made real
//! (device nodes and ownership included) in a temp dir, and the binary.

#![allow(dead_code)] // each test file uses a different subset

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// `tests/fixtures` at the workspace root.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The fixture host names, in report order.
pub const HOSTS: &[&str] = &["gpu-hardened", "debian-stock", "weakened"];

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|r| r.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// True when device nodes can be made; otherwise prints why the test is
/// skipped, and panics under CI (CI must never skip silently).
pub fn can_make_device_nodes() -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "fixture hosts need root to create device nodes, and CI is set: run the tests as root"
    );
    eprintln!("skipping: needs root (device nodes and ownership in fixture hosts)");
    false
}

/// Run `cmd`, which must succeed; its stdout.
pub fn must_succeed(cmd: &mut std::process::Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A copy of `tests/fixtures/hosts/<name>/root` in a temp dir (symlinks kept)
/// with the device nodes of its `devnodes.txt` created (`mknod`, `chown`,
/// `chmod`). `None` (after saying so) when not root outside CI.
pub fn host(name: &str) -> Option<TempDir> {
    tree(&fixtures().join("hosts").join(name), name)
}

/// [`host`] for any fixture directory `src` holding `root/` and
/// `devnodes.txt` (such as `tests/fixtures/devices/gpu-node`).
pub fn tree(src: &Path, name: &str) -> Option<TempDir> {
    if !can_make_device_nodes() {
        return None;
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!("tractorsec-{name}-"))
        .tempdir()
        .expect("temp dir");
    must_succeed(
        std::process::Command::new("cp")
            .arg("-a")
            .arg(src.join("root/."))
            .arg(tmp.path()),
    );
    let list = std::fs::read_to_string(src.join("devnodes.txt")).expect("devnodes.txt");
    for (i, line) in list.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [path, kind, major, minor, mode, uid, gid] = f[..] else {
            panic!("devnodes.txt:{}: expected 7 fields: {line:?}", i + 1);
        };
        assert!(
            matches!(kind, "c" | "b"),
            "devnodes.txt:{}: kind {kind}",
            i + 1
        );
        let rel = path.strip_prefix('/').expect("absolute device path");
        let dest = tmp.path().join(rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        must_succeed(
            std::process::Command::new("mknod")
                .arg(&dest)
                .args([kind, major, minor]),
        );
        must_succeed(
            std::process::Command::new("chown")
                .arg(format!("{uid}:{gid}"))
                .arg(&dest),
        );
        must_succeed(std::process::Command::new("chmod").arg(mode).arg(&dest));
    }
    Some(tmp)
}

/// The built binary.
pub fn tractorsec() -> Command {
    let mut cmd = Command::cargo_bin("tractorsec").expect("binary built");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// `tractorsec audit --root ROOT --format json --fail-on never [extra]`:
/// the report and the exit code.
pub fn audit_json(root: &Path, extra: &[&str]) -> (serde_json::Value, i32) {
    let out = tractorsec()
        .args(["audit", "--format", "json", "--fail-on", "never", "--root"])
        .arg(root)
        .args(extra)
        .output()
        .expect("run audit");
    let code = out.status.code().expect("exit code");
    assert!(
        code == 0 || code == 1,
        "audit failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "audit output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (report, code)
}

/// The findings of a report.
pub fn findings(report: &serde_json::Value) -> &Vec<serde_json::Value> {
    report["findings"].as_array().expect("findings array")
}

/// `id → status` of a report.
pub fn statuses(report: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    findings(report)
        .iter()
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_string(),
                f["status"].as_str().expect("status").to_string(),
            )
        })
        .collect()
}

/// Validate a JSON file against a JSON Schema file with python3's
/// `jsonschema` (an independent validator); `Err` with its message.
pub fn validate(schema: &Path, doc: &Path) -> Result<(), String> {
    let script = "import json,sys,jsonschema\n\
        s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))\n\
        jsonschema.validators.validator_for(s).check_schema(s)\n\
        jsonschema.validate(d, s, cls=jsonschema.validators.validator_for(s))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(schema)
        .arg(doc)
        .output()
        .expect("python3 runs (scripts/test.sh installs it with jsonschema)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// True when `tool` is on PATH; otherwise prints why the test is skipped,
/// and panics under CI (`scripts/test.sh` installs `package`).
pub fn have_tool(tool: &str, package: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} (Debian {package}) is missing and CI is set: run scripts/test.sh"
        );
        eprintln!("skipping: {tool} not installed (Debian {package}; scripts/test.sh installs it)");
    }
    found
}

/// `tests/consumers`: the independent consumers of the report formats.
pub fn consumers() -> PathBuf {
    fixtures().join("../consumers")
}

/// Run a python consumer script on a file; its stdout, or a panic with its
/// stderr.
pub fn python_consumer(script: &str, file: &Path) -> String {
    let out = std::process::Command::new("python3")
        .arg(consumers().join(script))
        .arg(file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{script} rejected {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `tractorsec audit --root ROOT --format FORMAT --fail-on never [extra]`'s
/// stdout.
pub fn audit_as(root: &Path, format: &str, extra: &[&str]) -> String {
    let out = tractorsec()
        .args(["audit", "--fail-on", "never", "--format", format, "--root"])
        .arg(root)
        .args(extra)
        .output()
        .expect("run audit");
    assert!(
        out.status.success(),
        "audit --format {format} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Run `tractorsec ARGS`: (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = tractorsec().args(args).output().expect("run tractorsec");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Compare `actual` with `tests/fixtures/golden/<file>` (rewrite it instead
/// when `UPDATE_GOLDEN=1`); on a difference, panic with the lines added
/// (`+`) and missing (`-`).
pub fn check_golden(file: &str, actual: &str) {
    let path = fixtures().join("golden").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("golden dir")).expect("mkdir golden");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let want: Vec<&str> = expected.lines().collect();
        let got: Vec<&str> = actual.lines().collect();
        let diff: Vec<String> = got
            .iter()
            .filter(|l| !want.contains(l))
            .map(|l| format!("+ {l}"))
            .chain(
                want.iter()
                    .filter(|l| !got.contains(l))
                    .map(|l| format!("- {l}")),
            )
            .collect();
        panic!(
            "{} differs (UPDATE_GOLDEN=1 to accept):\n{}",
            path.display(),
            diff.join("\n")
        );
    }
}
