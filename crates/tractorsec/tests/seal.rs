//! `tractorsec seal` / `verify` / `verity` end to end: a signed manifest
//! checked by Debian's minisign, every flipped byte of a small manifest
//! rejected, drift reported with exit 1 and in `audit`, and a hash device
//! accepted by `veritysetup`.

mod common;

use common::{audit_json, findings, have_tool, run};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A small tree, a key pair, and the tree sealed into `manifest`.
struct Sealed {
    dir: tempfile::TempDir,
    tree: PathBuf,
    manifest: PathBuf,
    public: PathBuf,
}

fn sealed() -> Sealed {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("usr/bin")).expect("mkdir");
    std::fs::write(tree.join("usr/bin/tool"), "#!/bin/sh\necho tool\n").expect("write");
    std::fs::write(tree.join("etc-motd"), "hello\n").expect("write");
    std::os::unix::fs::symlink("usr/bin/tool", tree.join("tool")).expect("link");
    let (secret, public) = (dir.path().join("k.key"), dir.path().join("k.pub"));
    assert_eq!(
        run(&[
            "key",
            "generate",
            "--secret",
            s(&secret),
            "--public",
            s(&public)
        ])
        .0,
        0
    );
    let manifest = dir.path().join("tree.manifest");
    let (code, _, err) = run(&["seal", s(&tree), "--key", s(&secret), "--out", s(&manifest)]);
    assert_eq!(code, 0, "{err}");
    Sealed {
        dir,
        tree,
        manifest,
        public,
    }
}

impl Sealed {
    fn verify(&self, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec![
            "verify",
            s(&self.tree),
            "--manifest",
            s(&self.manifest),
            "--pubkey",
            s(&self.public),
        ];
        args.extend(extra);
        run(&args)
    }
}

#[test]
fn a_sealed_tree_verifies_and_minisign_accepts_the_signature() {
    let sealed = sealed();
    let (code, out, err) = sealed.verify(&[]);
    assert_eq!(code, 0, "{out}{err}");
    if have_tool("minisign", "minisign") {
        let out = std::process::Command::new("minisign")
            .args(["-V", "-p", s(&sealed.public), "-m", s(&sealed.manifest)])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("minisign");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn drift_is_reported_by_verify_with_exit_1() {
    let sealed = sealed();
    std::fs::write(sealed.tree.join("usr/bin/tool"), "#!/bin/sh\necho evil\n").expect("w");
    std::fs::write(sealed.tree.join("added"), "x").expect("w");
    let (code, out, err) = sealed.verify(&["--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let drift: Value = serde_json::from_str(&out).expect("json");
    let text = drift.to_string();
    assert!(
        text.contains("usr/bin/tool") && text.contains("content"),
        "{text}"
    );
    assert!(text.contains("added"), "{text}");
}

#[test]
fn every_flipped_byte_of_a_small_manifest_is_rejected_before_any_comparison() {
    let sealed = sealed();
    let original = std::fs::read(&sealed.manifest).expect("manifest");
    assert!(original.len() < 4096, "small: {} bytes", original.len());
    for i in 0..original.len() {
        let mut bytes = original.clone();
        bytes[i] ^= 0x01;
        std::fs::write(&sealed.manifest, &bytes).expect("write");
        let (code, _, err) = sealed.verify(&[]);
        assert_eq!(code, 2, "flip at byte {i} accepted");
        assert!(err.contains("signature"), "byte {i}: {err}");
    }
}

#[test]
fn drift_shows_up_in_the_audit_report() {
    let sealed = sealed();
    let params = [
        "--param",
        &format!("manifest={}", s(&sealed.manifest)),
        "--param",
        &format!("pubkey={}", s(&sealed.public)),
    ];
    let status = |report: &Value| {
        findings(report)
            .iter()
            .find(|f| f["id"] == "platform.image.drift")
            .map(|f| (f["status"].clone(), f["observed"].clone()))
            .expect("finding")
    };
    let (report, _) = audit_json(&sealed.tree, &params);
    assert_eq!(status(&report).0, "pass", "{:?}", status(&report));
    std::fs::write(sealed.tree.join("etc-motd"), "changed\n").expect("w");
    let (report, _) = audit_json(&sealed.tree, &params);
    let (st, observed) = status(&report);
    assert_eq!(st, "fail");
    assert!(
        observed.as_str().expect("s").contains("etc-motd"),
        "{observed}"
    );
    // A manifest that does not verify fails the control, closed.
    let mut bytes = std::fs::read(&sealed.manifest).expect("m");
    bytes[10] ^= 1;
    std::fs::write(&sealed.manifest, bytes).expect("w");
    let (report, _) = audit_json(&sealed.tree, &params);
    let (st, observed) = status(&report);
    assert_eq!(st, "fail");
    assert!(
        observed.as_str().expect("s").contains("signature"),
        "{observed}"
    );
    let _ = &sealed.dir;
}

#[test]
fn verity_format_is_accepted_by_veritysetup() {
    if !have_tool("veritysetup", "cryptsetup-bin") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, hash) = (dir.path().join("data.img"), dir.path().join("hash.img"));
    let bytes: Vec<u8> = (0..129 * 4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&data, bytes).expect("data");
    let (code, out, err) = run(&["verity", "format", s(&data), s(&hash)]);
    assert_eq!(code, 0, "{err}");
    let root = out
        .lines()
        .find_map(|l| l.strip_prefix("Root hash:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("root hash in {out}"))
        .to_string();
    let check = std::process::Command::new("veritysetup")
        .args(["verify", s(&data), s(&hash), &root])
        .output()
        .expect("veritysetup");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(run(&["verity", "verify", s(&data), s(&hash), &root]).0, 0);
    // One byte of data changed: named, exit 1.
    let mut bytes = std::fs::read(&data).expect("r");
    bytes[5 * 4096 + 17] ^= 0xff;
    std::fs::write(&data, bytes).expect("w");
    let (code, out, err) = run(&["verity", "verify", s(&data), s(&hash), &root]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(format!("{out}{err}").contains("block 5"), "{out}{err}");
}
