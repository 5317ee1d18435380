//! `tractorsec erase` on loop devices made from files in the test: every
//! byte erased (read back from the file), certificates that verify with
//! tractorsec and minisign and catch tampering, and refusals that leave the
//! data intact. Needs root (losetup, mount in a private namespace); CI runs
//! as root, and these tests fail there rather than skip.

mod common;

use common::run;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A loop device over a file of random bytes, detached on drop.
struct Loop {
    dir: TempDir,
    file: PathBuf,
    dev: String,
}

impl Loop {
    /// `size` random bytes, attached (`partscan` with `-P`).
    fn new(size: usize, partscan: bool) -> Option<Loop> {
        if !common::can_make_device_nodes() || !common::have_tool("losetup", "mount") {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("disk.img");
        let mut bytes = vec![0u8; size];
        getrandom::fill(&mut bytes).expect("random");
        std::fs::write(&file, &bytes).expect("write image");
        let mut cmd = Command::new("losetup");
        cmd.args(["-f", "--show"]);
        if partscan {
            cmd.arg("-P");
        }
        let dev = common::must_succeed(cmd.arg(&file)).trim().to_string();
        Some(Loop { dir, file, dev })
    }

    fn backing(&self) -> String {
        self.file.display().to_string()
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.file).expect("read image")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A signing key pair in the temp dir: (secret, public).
    fn keys(&self) -> (String, String) {
        let (secret, public) = (self.path("k.key"), self.path("k.pub"));
        let (code, _, err) = run(&["key", "generate", "--secret", &secret, "--public", &public]);
        assert_eq!(code, 0, "{err}");
        (secret, public)
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

fn cert_json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("certificate")).expect("json")
}

/// 9 MiB and three sectors: more than two 4 MiB chunks and a short last
/// 4 KiB unit.
const ODD_SIZE: usize = 9 * (1 << 20) + 3 * 512;

#[test]
fn overwrite_writes_the_recorded_pattern_over_every_byte_and_the_certificate_verifies() {
    let Some(lp) = Loop::new(ODD_SIZE, false) else {
        return;
    };
    let (secret, public) = lp.keys();
    let cert = lp.path("cert.json");
    let (code, _, err) = run(&[
        "erase",
        &lp.dev,
        "--method",
        "overwrite",
        "--confirm",
        &lp.backing(),
        "--key",
        &secret,
        "--out",
        &cert,
        "--operator",
        "Jo Tester",
    ]);
    assert_eq!(code, 0, "{err}");
    let c = cert_json(&cert);
    assert_eq!(c["result"], "erased");
    assert_eq!(c["sanitization"]["method"], "host-overwrite");
    assert_eq!(c["sanitization"]["category"], "Clear");
    assert_eq!(c["operator"]["name"], "Jo Tester");
    assert_eq!(c["device"]["kind"]["backing_file"], lp.backing().as_str());
    assert_eq!(c["device"]["size_bytes"], ODD_SIZE as u64);
    let v = &c["verification"];
    assert_eq!(
        (v["samples_read"].as_u64(), v["mismatches"].as_u64()),
        (Some(1002), Some(0))
    );

    // Every byte, checked independently of the erase code: each 4 KiB unit
    // starts with its own offset and continues with one filler whose
    // SHA-256 the certificate records.
    let bytes = lp.bytes();
    assert_eq!(bytes.len(), ODD_SIZE);
    let filler = &bytes[8..4096];
    let recorded = c["sanitization"]["writes"]["pattern"]["filler_sha256"]
        .as_str()
        .expect("sha");
    assert_eq!(hex(&Sha256::digest(filler)), recorded);
    for (i, unit) in bytes.chunks(4096).enumerate() {
        let offset = (i * 4096) as u64;
        assert_eq!(unit[..8], offset.to_le_bytes(), "stamp of unit {i}");
        assert_eq!(unit[8..], filler[..unit.len() - 8], "filler of unit {i}");
    }

    // The published schema accepts it (python jsonschema, a real consumer).
    let (code, schema, err) = run(&["schema", "erase-certificate"]);
    assert_eq!(code, 0, "{err}");
    let schema_file = lp.path("cert.schema.json");
    std::fs::write(&schema_file, schema).expect("write schema");
    if let Err(e) = common::validate(Path::new(&schema_file), Path::new(&cert)) {
        panic!("the certificate does not match its schema: {e}");
    }

    let (code, out, err) = run(&["erase", "verify-cert", &cert, "--pubkey", &public]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("result: erased") && out.contains("host-overwrite: Clear"),
        "{out}"
    );
    if common::have_tool("minisign", "minisign") {
        let ok = Command::new("minisign")
            .args(["-V", "-q", "-p", &public, "-m", &cert])
            .status();
        assert!(
            ok.expect("minisign").success(),
            "minisign rejects the certificate"
        );
    }

    // Tampering: one recorded figure changed.
    let text = std::fs::read_to_string(&cert).expect("read");
    std::fs::write(
        &cert,
        text.replacen("\"mismatches\": 0", "\"mismatches\": 1", 1),
    )
    .expect("write");
    let (code, _, err) = run(&["erase", "verify-cert", &cert, "--pubkey", &public]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("signature does not match"), "{err}");
    let bad = Command::new("minisign")
        .args(["-V", "-q", "-p", &public, "-m", &cert])
        .status();
    assert!(
        !bad.is_ok_and(|s| s.success()),
        "minisign accepts a tampered certificate"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn zero_writes_zeros_over_every_byte() {
    let Some(lp) = Loop::new(ODD_SIZE, false) else {
        return;
    };
    let cert = lp.path("cert.json");
    let (code, _, err) = run(&[
        "erase",
        &lp.dev,
        "--method",
        "zero",
        "--confirm",
        &lp.backing(),
        "--out",
        &cert,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(lp.bytes().iter().all(|&b| b == 0), "a byte survived");
    let c = cert_json(&cert);
    assert_eq!(c["sanitization"]["writes"]["fill"], "zeros");
    assert_eq!(c["verification"]["expected"], "zeros");
}

#[test]
fn auto_on_a_loop_device_is_a_host_overwrite_and_never_claims_purge() {
    let Some(lp) = Loop::new(1 << 20, false) else {
        return;
    };
    let (code, out, err) = run(&["erase", &lp.dev, "--confirm", &lp.backing()]);
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).expect("certificate on stdout");
    assert_eq!(c["sanitization"]["method"], "host-overwrite");
    assert_eq!(c["sanitization"]["category"], "Clear");
    assert!(c["sanitization"]["command"].is_null());
}

/// Run an erase that must be refused; the image must be byte-identical.
fn assert_refused(lp: &Loop, args: &[&str], why: &str) {
    let before = lp.bytes();
    let (code, _, err) = run(args);
    assert_eq!(code, 2, "not refused: {err}");
    assert!(err.contains(why), "expected {why:?} in: {err}");
    assert!(lp.bytes() == before, "a refused erase changed the data");
}

#[test]
fn a_wrong_serial_crypto_or_block_erase_of_a_loop_device_and_a_key_without_out_are_refused() {
    let Some(lp) = Loop::new(1 << 20, false) else {
        return;
    };
    let backing = lp.backing();
    assert_refused(
        &lp,
        &["erase", &lp.dev, "--confirm", "S3NSN0TME"],
        "does not match the device's backing file",
    );
    assert_refused(
        &lp,
        &[
            "erase",
            &lp.dev,
            "--method",
            "crypto",
            "--confirm",
            &backing,
        ],
        "needs an NVMe drive",
    );
    assert_refused(
        &lp,
        &["erase", &lp.dev, "--method", "block", "--confirm", &backing],
        "needs an NVMe drive",
    );
    let key = lp.path("none.key");
    assert_refused(
        &lp,
        &["erase", &lp.dev, "--confirm", &backing, "--key", &key],
        "--key needs --out",
    );
    assert_refused(
        &lp,
        &["erase", &lp.dev, "--confirm", &backing, "--samples", "10"],
        "10 is not in 1000",
    );
}

/// Run `script` in a private mount namespace (mounts vanish with it), with
/// `$TRACTORSEC`, `$L` and `$M` set; returns (exit code, stderr).
fn in_namespace(lp: &Loop, script: &str) -> (i32, String) {
    let mnt = lp.path("mnt");
    std::fs::create_dir_all(&mnt).expect("mkdir");
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script])
        .env("TRACTORSEC", env!("CARGO_BIN_EXE_tractorsec"))
        .env("L", &lp.dev)
        .env("M", &mnt)
        .env("F", lp.backing())
        .output()
        .expect("unshare");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfs(dev: &str) {
    common::must_succeed(Command::new("mkfs.ext4").args(["-q", "-F", "-E", "nodiscard", dev]));
}

#[test]
fn a_mounted_loop_device_is_refused_and_left_intact() {
    let Some(lp) = Loop::new(8 << 20, false) else {
        return;
    };
    if !common::have_tool("mkfs.ext4", "e2fsprogs") {
        return;
    }
    mkfs(&lp.dev);
    let before = lp.bytes();
    let (code, err) = in_namespace(
        &lp,
        "mount -o ro,noload \"$L\" \"$M\" && exec \"$TRACTORSEC\" erase \"$L\" --confirm \"$F\"",
    );
    assert_eq!(code, 2, "{err}");
    let name = Path::new(&lp.dev)
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(err.contains(&format!("{name} is mounted on")), "{err}");
    assert!(lp.bytes() == before, "the mounted device was changed");
}

#[test]
fn a_device_with_a_mounted_partition_is_refused_and_a_partition_cannot_be_erased() {
    let Some(lp) = Loop::new(8 << 20, true) else {
        return;
    };
    if !common::have_tool("mkfs.ext4", "e2fsprogs") || !common::have_tool("addpart", "util-linux") {
        return;
    }
    // The kernel may have no partition-table parsers (this VM's has none),
    // so the partition is added directly (BLKPG), as partx does.
    common::must_succeed(Command::new("addpart").args([&lp.dev, "1", "2048", "8192"]));
    let part = format!("{}p1", lp.dev);
    for _ in 0..50 {
        if Path::new(&part).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(Path::new(&part).exists(), "{part} did not appear");
    mkfs(&part);
    let before = lp.bytes();
    let (code, err) = in_namespace(
        &lp,
        "mount -o ro,noload \"${L}p1\" \"$M\" && exec \"$TRACTORSEC\" erase \"$L\" --confirm \"$F\"",
    );
    assert_eq!(code, 2, "{err}");
    let name = Path::new(&part)
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(err.contains(&format!("{name} is mounted on")), "{err}");
    assert!(
        lp.bytes() == before,
        "a device with a mounted partition was changed"
    );
    assert_refused(
        &lp,
        &["erase", &part, "--confirm", &lp.backing()],
        "erase the whole device",
    );
}

#[test]
fn verify_cert_wants_an_erase_certificate_signature() {
    let Some(lp) = Loop::new(1 << 20, false) else {
        return;
    };
    if !common::have_tool("minisign", "minisign") {
        return;
    }
    let (secret, public) = lp.keys();
    let cert = lp.path("cert.json");
    let (code, _, err) = run(&["erase", &lp.dev, "--confirm", &lp.backing(), "--out", &cert]);
    assert_eq!(code, 0, "{err}");
    // Signed, but by someone who says it is something else.
    minisign_sign(&secret, &cert, "tractorsec 0.1.0 audit host:x");
    let (code, _, err) = run(&["erase", "verify-cert", &cert, "--pubkey", &public]);
    assert_eq!(code, 2);
    assert!(
        err.contains("does not describe an erase certificate"),
        "{err}"
    );
    // A certificate that records a failed verification is signed but exits 1.
    let text = std::fs::read_to_string(&cert).expect("read");
    let failed = text.replacen(
        "\"result\": \"erased\"",
        "\"result\": \"verification_failed\"",
        1,
    );
    std::fs::write(&cert, failed).expect("write");
    minisign_sign(&secret, &cert, "tractorsec 0.1.0 erase-certificate host:x");
    let (code, out, _) = run(&["erase", "verify-cert", &cert, "--pubkey", &public]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("result: verification_failed"));
}

/// Sign `file` with minisign under `comment`.
fn minisign_sign(secret: &str, file: &str, comment: &str) {
    common::must_succeed(
        Command::new("minisign")
            .args(["-S", "-s", secret, "-m", file, "-t", comment])
            .stdin(std::process::Stdio::null()),
    );
}

#[test]
fn progress_is_drawn_on_a_terminal_only() {
    let Some(lp) = Loop::new(16 << 20, false) else {
        return;
    };
    if !common::have_tool("script", "bsdutils") {
        return;
    }
    let cert = lp.path("cert.json");
    let (code, _, err) = run(&["erase", &lp.dev, "--confirm", &lp.backing(), "--out", &cert]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains('%'), "progress on a pipe: {err}");
    // `script` gives the command a pseudo-terminal.
    let line = format!(
        "{} erase {} --confirm {} --out {cert}",
        env!("CARGO_BIN_EXE_tractorsec"),
        lp.dev,
        lp.backing()
    );
    let tty = common::must_succeed(Command::new("script").args(["-qec", &line, "/dev/null"]));
    assert!(
        tty.contains("writing 100.0%"),
        "no progress on a terminal: {tty:?}"
    );
}
