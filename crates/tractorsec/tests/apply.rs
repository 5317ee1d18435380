//! `tractorsec apply` / `rollback` end to end on copies of the fixture
//! hosts: fixes verified by a fresh audit, rollback compared file by file
//! (bytes, mode, owner, link targets), a crash injected after every step,
//! and attacks on the paths it writes.

mod common;

use common::{audit_json, findings, host, run};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Every entry beneath `root` but tractorsec's own journal: kind, mode,
/// owner, and contents or link target.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path
                .strip_prefix(root)
                .expect("beneath")
                .display()
                .to_string();
            if rel.starts_with("var/lib/tractorsec") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let head = format!("{:o} {}:{}", meta.mode(), meta.uid(), meta.gid());
            let body = if meta.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&path).expect("link").display())
            } else if meta.is_file() {
                String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned()
            } else if meta.is_dir() {
                walk(root, &path, out);
                "dir".to_string()
            } else {
                format!("rdev {}", meta.rdev())
            };
            out.insert(rel, format!("{head} {body}"));
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The paths whose entries differ between two trees.
fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn apply(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let r = root.to_str().expect("utf-8");
    let mut args = vec!["apply", "--root", r];
    args.extend(extra);
    run(&args)
}

#[test]
fn apply_fixes_the_weakened_host_and_rollback_restores_every_byte() {
    let Some(root) = host("weakened") else { return };
    let original = tree(root.path());
    let (code, out, err) = apply(root.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let applied: Value = serde_json::from_str(&out).expect("json");
    assert!(applied["transaction"].is_string(), "{applied}");
    assert!(
        applied["still_failing"].as_array().expect("a").is_empty(),
        "{applied}"
    );
    let fixed = applied["fixed"].as_array().expect("fixed").len();
    assert!(fixed > 40, "{fixed} controls fixed");

    // A fresh audit: every control with an automatic fix that needs no
    // reboot passes now.
    let (report, _) = audit_json(root.path(), &[]);
    let unfixed: Vec<&str> = findings(&report)
        .iter()
        .filter(|f| f["fix_available"] == true && f["reboot_needed"] == false)
        .filter(|f| f["status"] == "fail")
        .map(|f| f["id"].as_str().expect("id"))
        .collect();
    assert!(unfixed.is_empty(), "still failing: {unfixed:?}");

    // Again: nothing to change, nothing changed.
    let after = tree(root.path());
    let (code, out, _) = apply(root.path(), &[]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to change"), "{out}");
    assert!(differences(&after, &tree(root.path())).is_empty());

    let r = root.path().to_str().expect("utf-8");
    let (code, out, err) = run(&["transactions", "--root", r]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "one transaction: {out}");
    assert!(out.contains("committed"), "{out}");

    let (code, _, err) = run(&["rollback", "--root", r]);
    assert_eq!(code, 0, "{err}");
    let diff = differences(&original, &tree(root.path()));
    assert!(diff.is_empty(), "rollback left differences: {diff:?}");
}

#[test]
fn a_stock_debian_host_is_fixed_and_restored_and_a_hardened_one_left_alone() {
    let Some(root) = host("debian-stock") else {
        return;
    };
    let original = tree(root.path());
    let (code, out, err) = apply(root.path(), &["--format", "json"]);
    assert_eq!(code, 0, "every control the plan fixes passes: {out}{err}");
    let applied: Value = serde_json::from_str(&out).expect("json");
    assert!(
        applied["fixed"].as_array().expect("fixed").len() > 30,
        "{applied}"
    );
    let r = root.path().to_str().expect("utf-8");
    assert_eq!(run(&["rollback", "--root", r]).0, 0);
    let diff = differences(&original, &tree(root.path()));
    assert!(diff.is_empty(), "rollback left differences: {diff:?}");

    let Some(hardened) = host("gpu-hardened") else {
        return;
    };
    let before = tree(hardened.path());
    let (code, out, _) = apply(hardened.path(), &[]);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to change"), "{out}");
    assert!(
        !hardened.path().join("var/lib/tractorsec").exists(),
        "no journal"
    );
    assert!(differences(&before, &tree(hardened.path())).is_empty());
}

/// `sh -c SCRIPT` with core dumps off (a crash test aborts on purpose), and
/// extra environment; (exit code or None when killed, stdout, stderr).
fn sh(script: &str, env: &[(&str, String)]) -> (Option<i32>, String, String) {
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", &format!("ulimit -c 0; {script}")]);
    cmd.env("TRACTORSEC", assert_cmd::cargo::cargo_bin("tractorsec"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("sh");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The changes `apply --dry-run` plans on a root.
fn planned(root: &Path) -> Vec<Value> {
    let (code, out, err) = apply(root, &["--dry-run", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).expect("plan json");
    plan["changes"].as_array().expect("changes").clone()
}

#[test]
fn a_crash_after_any_step_is_recovered_to_the_original_or_the_applied_tree() {
    let Some(reference) = host("weakened") else {
        return;
    };
    let original = tree(reference.path());
    let steps = planned(reference.path()).len();
    assert!(steps > 10, "a real plan: {steps} steps");
    assert_eq!(apply(reference.path(), &[]).0, 0);
    let applied = tree(reference.path());
    for n in 1..=steps {
        let root = host("weakened").expect("fixture");
        let r = root.path().display().to_string();
        let (code, _, err) = sh(
            "exec \"$TRACTORSEC\" apply --root \"$R\"",
            &[
                ("R", r.clone()),
                ("TRACTORSEC_CRASH_AFTER_STEP", n.to_string()),
            ],
        );
        assert_eq!(code, None, "step {n}: the test build aborts there ({err})");
        // Half the time the next command is a rollback, half an apply: both
        // first finish the interrupted transaction by rolling it back.
        let (expected, command) = if n % 2 == 1 {
            (&original, "rollback")
        } else {
            (&applied, "apply")
        };
        let (code, _, err) = run(&[command, "--root", &r]);
        assert_eq!(code, 0, "step {n}, {command}: {err}");
        assert!(err.contains("recovered transaction"), "step {n}: {err}");
        let diff = differences(expected, &tree(root.path()));
        assert!(
            diff.is_empty(),
            "crash after step {n}, then {command}: {diff:?}"
        );
    }
    // A crash while rolling back: the next rollback finishes it.
    for k in [1, steps / 2, steps] {
        let root = host("weakened").expect("fixture");
        let r = root.path().display().to_string();
        assert_eq!(apply(root.path(), &[]).0, 0);
        let (code, _, _) = sh(
            "exec \"$TRACTORSEC\" rollback --root \"$R\"",
            &[
                ("R", r.clone()),
                ("TRACTORSEC_CRASH_AFTER_RESTORE", k.to_string()),
            ],
        );
        assert_eq!(code, None, "restore {k}: aborted");
        let (code, _, err) = run(&["rollback", "--root", &r]);
        assert_eq!(code, 0, "{err}");
        let diff = differences(&original, &tree(root.path()));
        assert!(diff.is_empty(), "crash after restore {k}: {diff:?}");
    }
}

/// Apply must refuse, exit 2 naming the reason, and change nothing.
fn assert_refused(root: &Path, reason: &str) {
    let before = tree(root);
    let (code, out, err) = apply(root, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(reason), "expected {reason:?} in: {err}");
    let diff = differences(&before, &tree(root));
    assert!(diff.is_empty(), "changed: {diff:?}");
}

#[test]
fn planted_symlinks_at_every_written_path_are_refused_not_followed() {
    let Some(probe) = host("weakened") else {
        return;
    };
    let files: Vec<String> = planned(probe.path())
        .iter()
        .filter(|c| c["kind"] == "put" && c["desired"]["kind"] == "file")
        .map(|c| c["path"].as_str().expect("path").to_string())
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    let outside = tempfile::tempdir().expect("tempdir");
    let bait = outside.path().join("bait");
    std::fs::write(&bait, "outside the root\n").expect("bait");
    let shadow = std::fs::read("/etc/shadow").ok();
    for (i, path) in files.iter().enumerate() {
        let root = host("weakened").expect("fixture");
        let at = root.path().join(path.trim_start_matches('/'));
        let _ = std::fs::remove_file(&at);
        std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
        // Alternately: the host's /etc/shadow, and a file outside the root.
        let target = if i % 2 == 0 {
            Path::new("/etc/shadow")
        } else {
            bait.as_path()
        };
        std::os::unix::fs::symlink(target, &at).expect("plant");
        if path.contains("60-tractorsec") {
            // Our own drop-in: the whole apply is refused.
            assert_refused(root.path(), "symbolic link");
        } else {
            // A host file we would edit (fstab, sshd_config): never read or
            // written through the link; its controls become manual steps.
            let (code, out, err) = apply(root.path(), &[]);
            assert!(code == 0 || code == 2, "{out}{err}");
            assert_eq!(
                std::fs::read_link(&at).expect("still a link"),
                target,
                "{path}"
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(&bait).expect("bait"),
        "outside the root\n"
    );
    assert_eq!(
        std::fs::read("/etc/shadow").ok(),
        shadow,
        "the host's shadow is untouched"
    );
}

#[test]
fn a_symlinked_drop_in_directory_is_refused() {
    let Some(root) = host("weakened") else { return };
    let outside = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("etc/sysctl.d");
    std::fs::remove_dir_all(&dir).expect("rm");
    std::os::unix::fs::symlink(outside.path(), &dir).expect("plant");
    assert_refused(root.path(), "symbolic link");
    assert_eq!(std::fs::read_dir(outside.path()).expect("dir").count(), 0);
}

/// The listing and contents of a tree, from a shell inside a namespace.
const LISTING: &str = "(cd \"$D\" && find . -printf \"%p %m %U %G %l\\n\" | sort && find . -type f -print0 | sort -z | xargs -0 md5sum)";

#[test]
fn a_read_only_or_full_file_system_is_a_clear_error_and_changes_nothing() {
    let Some(root) = host("weakened") else { return };
    let r = root.path().display().to_string();
    let before = tree(root.path());
    let (code, out, err) = sh(
        "exec unshare -m --propagation private sh -c 'mount --bind \"$R\" \"$R\" && mount -o remount,bind,ro \"$R\" && exec \"$TRACTORSEC\" apply --root \"$R\"'",
        &[("R", r.clone())],
    );
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("read-only"), "{err}");
    assert!(differences(&before, &tree(root.path())).is_empty());

    // A small tmpfs, filled up: the journal cannot be written, so nothing
    // may change. The listings are taken inside the namespace.
    let work = tempfile::tempdir().expect("tempdir");
    let mnt = work.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let script = format!(
        "exec unshare -m --propagation private sh -c 'set -e; mount -t tmpfs -o size=8m tmpfs \"$D\"; cp -a \"$R/.\" \"$D/\"; \
         dd if=/dev/zero of=\"$D/fill\" bs=4k 2>/dev/null || true; {LISTING} > \"$W/before\"; \
         set +e; \"$TRACTORSEC\" apply --root \"$D\"; echo \"rc=$?\"; {LISTING} > \"$W/after\"; \
         cmp \"$W/before\" \"$W/after\" && echo unchanged'"
    );
    let (code, out, err) = sh(
        &script,
        &[
            ("R", r),
            ("D", mnt.display().to_string()),
            ("W", work.path().display().to_string()),
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("rc=2"), "{out}{err}");
    assert!(err.to_lowercase().contains("no space left"), "{err}");
    assert!(out.contains("unchanged"), "{out}");
}
