//! Signed evidence end to end: `key generate`, `audit --sign`,
//! `signature verify`, cross-checked with Debian's minisign both ways, and
//! every tampering rejected with exit 2.

mod common;

use common::{fixtures, have_tool, run};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One control, so the signed report is small enough to flip every byte.
const TINY_PROFILE: &str = "name = \"tiny\"\n\n[[control]]\nid = \"kernel.sysctl.kptr_restrict\"\ntitle = \"Kernel pointers hidden\"\nsection = \"kernel\"\nseverity = \"high\"\nrationale = \"r\"\nreferences = []\ncheck.sysctl = { key = \"kernel.kptr_restrict\", expect = { at_least = 1 } }\nfix = { hint = \"h\" }\n";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

struct Signed {
    dir: tempfile::TempDir,
    public: PathBuf,
    report: PathBuf,
}

impl Signed {
    fn sig(&self) -> PathBuf {
        self.dir.path().join("report.json.minisig")
    }

    fn verify(&self, pubkey: &Path) -> (i32, String, String) {
        run(&[
            "signature",
            "verify",
            s(&self.report),
            "--pubkey",
            s(pubkey),
        ])
    }
}

/// A key pair and a signed JSON report of the gpu-hardened fixture, judged
/// by `profile` (the built-in one, or a file).
fn signed(profile: Option<&str>) -> Signed {
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, public) = (dir.path().join("k.key"), dir.path().join("k.pub"));
    let (code, _, err) = run(&[
        "key",
        "generate",
        "--secret",
        s(&secret),
        "--public",
        s(&public),
    ]);
    assert_eq!(code, 0, "{err}");
    let report = dir.path().join("report.json");
    let root = fixtures().join("hosts/gpu-hardened/root");
    let mut args = vec![
        "audit",
        "--root",
        s(&root),
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    let profile_file = dir.path().join("tiny.toml");
    if let Some(text) = profile {
        std::fs::write(&profile_file, text).expect("profile");
        args.extend(["--profile", s(&profile_file)]);
    }
    args.extend(["--output", s(&report), "--sign", s(&secret)]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    Signed {
        dir,
        public,
        report,
    }
}

#[test]
fn key_generate_writes_a_private_secret_key_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, public) = (dir.path().join("a.key"), dir.path().join("a.pub"));
    let args = [
        "key",
        "generate",
        "--secret",
        s(&secret),
        "--public",
        s(&public),
    ];
    assert_eq!(run(&args).0, 0);
    let mode = std::fs::metadata(&secret)
        .expect("secret")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "secret key mode {mode:o}");
    let before = (
        std::fs::read(&secret).expect("r"),
        std::fs::read(&public).expect("r"),
    );
    let (code, _, err) = run(&args);
    assert_eq!(code, 2);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(
        before,
        (
            std::fs::read(&secret).expect("r"),
            std::fs::read(&public).expect("r")
        )
    );
    // Only the public file existing still refuses, and writes no secret.
    std::fs::remove_file(&secret).expect("rm");
    assert_eq!(run(&args).0, 2);
    assert!(!secret.exists());
}

#[test]
fn signed_report_verifies_and_carries_its_provenance() {
    let signed = signed(None);
    let (code, out, err) = signed.verify(&signed.public);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&signed.report).expect("r")).expect("json");
    let hash = report["profile"]["hash"].as_str().expect("hash");
    assert!(hash.starts_with("sha256:") || hash.len() >= 64, "{hash}");
    assert!(report["tool_version"].is_string() && report["collected_at"].is_string());
    assert!(report["host"]["hostname"].is_string());
    for needle in [
        hash,
        report["collected_at"].as_str().expect("t"),
        report["host"]["hostname"].as_str().expect("h"),
    ] {
        assert!(
            out.contains(needle),
            "trusted comment carries {needle}: {out}"
        );
    }
    // --sign without --output is refused before anything runs.
    let (code, _, _) = run(&["audit", "--sign", s(&signed.public)]);
    assert_eq!(code, 2);
}

#[test]
fn every_flipped_byte_of_a_small_signed_report_is_rejected() {
    let signed = signed(Some(TINY_PROFILE));
    let original = std::fs::read(&signed.report).expect("report");
    assert!(
        original.len() < 4096,
        "small report: {} bytes",
        original.len()
    );
    for i in 0..original.len() {
        let mut bytes = original.clone();
        bytes[i] ^= 0x01;
        std::fs::write(&signed.report, &bytes).expect("write");
        let (code, _, err) = signed.verify(&signed.public);
        assert_eq!(code, 2, "flip at byte {i} accepted");
        assert!(err.contains("signature"), "byte {i}: {err}");
    }
    std::fs::write(&signed.report, &original).expect("restore");
    assert_eq!(signed.verify(&signed.public).0, 0);
}

#[test]
fn wrong_key_and_truncated_signature_are_clear_errors() {
    let signed = signed(Some(TINY_PROFILE));
    let (other_secret, other_public) = (
        signed.dir.path().join("o.key"),
        signed.dir.path().join("o.pub"),
    );
    assert_eq!(
        run(&[
            "key",
            "generate",
            "--secret",
            s(&other_secret),
            "--public",
            s(&other_public)
        ])
        .0,
        0
    );
    let (code, _, err) = signed.verify(&other_public);
    assert_eq!(code, 2);
    assert!(err.to_lowercase().contains("key"), "{err}");

    let sig = std::fs::read(signed.sig()).expect("sig");
    for cut in [0, 20, sig.len() / 2, sig.len() - 10] {
        std::fs::write(signed.sig(), &sig[..cut]).expect("write");
        let (code, _, err) = signed.verify(&signed.public);
        assert_eq!(code, 2, "truncated at {cut} accepted");
        assert!(
            err.contains(s(&signed.sig())),
            "names the signature file: {err}"
        );
    }
}

/// Run Debian's minisign (no terminal, so no password prompt); its stdout,
/// or a panic with its output.
fn minisign(args: &[&str]) -> String {
    let out = Command::new("minisign")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run minisign");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "minisign {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn minisign_verifies_ours_and_we_verify_minisigns() {
    if !have_tool("minisign", "minisign") {
        return;
    }
    let signed = signed(None);
    let stdout = minisign(&["-V", "-p", s(&signed.public), "-m", s(&signed.report)]);
    assert!(stdout.contains("Trusted comment: tractorsec"), "{stdout}");

    // minisign's own key and signature, checked by us.
    let dir = signed.dir.path();
    let (msec, mpub) = (dir.join("m.key"), dir.join("m.pub"));
    minisign(&["-G", "-W", "-p", s(&mpub), "-s", s(&msec)]);
    let file = dir.join("evidence.txt");
    std::fs::write(&file, b"erase certificate for nvme0n1\n").expect("write");
    minisign(&[
        "-S",
        "-s",
        s(&msec),
        "-m",
        s(&file),
        "-t",
        "signed by minisign",
    ]);
    let (code, out, err) = run(&["signature", "verify", s(&file), "--pubkey", s(&mpub)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("signed by minisign"), "{out}");
    std::fs::write(&file, b"erase certificate for nvme1n1\n").expect("tamper");
    assert_eq!(
        run(&["signature", "verify", s(&file), "--pubkey", s(&mpub)]).0,
        2
    );
}
