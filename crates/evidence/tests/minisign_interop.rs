//! Interoperability with the real `minisign` (0.11+): what we write, it
//! accepts; what it writes, we accept; tampering is caught by both.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tractorsec_evidence::{
    EvidenceError, PublicKey, SecretKey, generate_key_files, sign_file, verify_file,
};

const MINISIGN: &str = "/usr/bin/minisign";
const REPORT: &str = include_str!("fixtures/minisign/report.json");

/// The minisign binary, or `None` (with a note) when it is not installed.
/// Under CI a missing minisign is a failure, not a skip.
fn minisign() -> Option<&'static Path> {
    let path = Path::new(MINISIGN);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{MINISIGN} is not installed; CI must run the minisign interop tests (apt-get install minisign)"
        );
    }
    eprintln!("note: skipping minisign interop test: {MINISIGN} is not installed");
    None
}

/// Runs minisign with `args`, stdin closed (no password prompt can hang).
fn run(minisign: &Path, args: &[&Path]) -> Output {
    Command::new(minisign)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run minisign")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `minisign -V`: exit status and stdout+stderr.
fn minisign_verify(minisign: &Path, public: &Path, file: &Path, sig: &Path) -> (bool, String) {
    let args = [
        Path::new("-V"),
        Path::new("-p"),
        public,
        Path::new("-m"),
        file,
        Path::new("-x"),
        sig,
    ];
    let out = run(minisign, &args);
    (out.status.success(), text(&out.stdout) + &text(&out.stderr))
}

/// A temporary directory holding the fixture report.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report.json");
    fs::write(&report, REPORT).expect("write report");
    (dir, report)
}

/// `minisign -S`: sign `file` with `secret` and trusted `comment`; panics
/// naming `what` when minisign fails. The signature is `file.minisig`.
fn minisign_sign(
    minisign: &Path,
    secret: &Path,
    file: &Path,
    comment: &str,
    what: &str,
) -> PathBuf {
    let args = [
        Path::new("-S"),
        Path::new("-s"),
        secret,
        Path::new("-m"),
        file,
        Path::new("-t"),
        Path::new(comment),
    ];
    let out = run(minisign, &args);
    assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    let mut sig = file.as_os_str().to_owned();
    sig.push(".minisig");
    sig.into()
}

/// `minisign -G -W`: an unencrypted key pair made by minisign.
fn minisign_key_pair(minisign: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (secret, public) = (dir.join("ms.key"), dir.join("ms.pub"));
    let args = [
        Path::new("-G"),
        Path::new("-W"),
        Path::new("-p"),
        &public,
        Path::new("-s"),
        &secret,
    ];
    let out = run(minisign, &args);
    assert!(
        out.status.success(),
        "minisign -G -W failed: {}",
        text(&out.stderr)
    );
    (secret, public)
}

#[test]
fn minisign_verifies_our_key_and_signature() {
    let Some(minisign) = minisign() else { return };
    let (dir, report) = workspace();
    let (secret, public) = (dir.path().join("t.key"), dir.path().join("t.pub"));
    generate_key_files(&secret, &public).unwrap();
    let comment = "tractorsec audit\thost:node-07\tprofile:tractoros-baseline";
    let sig = sign_file(&secret, &report, comment).unwrap();

    let (ok, output) = minisign_verify(minisign, &public, &report, &sig);
    assert!(ok, "minisign rejected our signature:\n{output}");
    assert!(
        output.contains(&format!("Trusted comment: {comment}\n")),
        "{output}"
    );

    fs::write(&report, REPORT.replace("node-07", "node-08")).unwrap();
    let (ok, output) = minisign_verify(minisign, &public, &report, &sig);
    assert!(!ok, "minisign accepted a tampered report:\n{output}");
}

#[test]
fn minisign_reads_the_longest_trusted_comment_we_allow() {
    let Some(minisign) = minisign() else { return };
    let (dir, report) = workspace();
    let (secret, public) = (dir.path().join("t.key"), dir.path().join("t.pub"));
    generate_key_files(&secret, &public).unwrap();
    let longest = "c".repeat(8173);
    let sig = sign_file(&secret, &report, &longest).unwrap();
    let (ok, output) = minisign_verify(minisign, &public, &report, &sig);
    assert!(
        ok,
        "minisign rejected a {}-byte trusted comment:\n{output}",
        longest.len()
    );
    assert!(output.contains(&longest));
}

#[test]
fn minisign_signs_with_our_secret_key() {
    let Some(minisign) = minisign() else { return };
    let (dir, report) = workspace();
    let (secret, public) = (dir.path().join("t.key"), dir.path().join("t.pub"));
    generate_key_files(&secret, &public).unwrap();
    let sig = minisign_sign(
        minisign,
        &secret,
        &report,
        "by minisign",
        "minisign cannot sign with our key",
    );
    assert_eq!(
        verify_file(&report, &sig, &public)
            .unwrap()
            .trusted_comment(),
        "by minisign"
    );
}

#[test]
fn we_verify_minisign_signatures_and_catch_tampering() {
    let Some(minisign) = minisign() else { return };
    let (dir, report) = workspace();
    let (secret, public) = minisign_key_pair(minisign, dir.path());
    let comment = "timestamp:1700000000\tfile:report.json\thashed";
    let sig = minisign_sign(minisign, &secret, &report, comment, "minisign -S failed");

    let verified = verify_file(&report, &sig, &public).unwrap();
    assert_eq!(verified.trusted_comment(), comment);
    // Our key id text is minisign's.
    let public_text = fs::read_to_string(&public).unwrap();
    let public_key = PublicKey::parse(&public_text, "ms.pub").unwrap();
    assert_eq!(public_key.to_text(), public_text);
    assert_eq!(verified.key_id(), public_key.key_id());

    // The data changed.
    fs::write(&report, REPORT.replace("\"fail\":2", "\"fail\":0")).unwrap();
    let err = verify_file(&report, &sig, &public).unwrap_err();
    assert!(
        matches!(err, EvidenceError::SignatureMismatch { line: 2, .. }),
        "{err}"
    );
    assert!(!minisign_verify(minisign, &public, &report, &sig).0);

    // The trusted comment changed.
    fs::write(&report, REPORT).unwrap();
    let sig_text = fs::read_to_string(&sig).unwrap();
    fs::write(&sig, sig_text.replace("1700000000", "1900000000")).unwrap();
    let err = verify_file(&report, &sig, &public).unwrap_err();
    assert!(
        matches!(err, EvidenceError::TrustedCommentMismatch { line: 3, .. }),
        "{err}"
    );
    assert!(!minisign_verify(minisign, &public, &report, &sig).0);
}

#[test]
fn we_sign_with_a_minisign_secret_key() {
    let Some(minisign) = minisign() else { return };
    let (dir, report) = workspace();
    let (secret, public) = minisign_key_pair(minisign, dir.path());
    let sig = sign_file(&secret, &report, "signed by tractorsec").unwrap();
    let (ok, output) = minisign_verify(minisign, &public, &report, &sig);
    assert!(ok, "minisign rejected our signature:\n{output}");
    assert!(
        output.contains("Trusted comment: signed by tractorsec\n"),
        "{output}"
    );
    let secret_key = SecretKey::parse(&fs::read_to_string(&secret).unwrap(), "ms.key").unwrap();
    assert_eq!(
        secret_key.public().to_text(),
        fs::read_to_string(&public).unwrap()
    );
}

#[test]
fn wrong_key_ids_read_as_minisign_prints_them() {
    let Some(minisign) = minisign() else { return };
    let (dir, report) = workspace();
    let (secret, _) = minisign_key_pair(minisign, dir.path());
    let (other_secret, other_public) = (dir.path().join("o.key"), dir.path().join("o.pub"));
    let other = generate_key_files(&other_secret, &other_public).unwrap();
    let sig = sign_file(&secret, &report, "c").unwrap();
    let err = verify_file(&report, &sig, &other_public).unwrap_err();
    let EvidenceError::WrongKey {
        signature_key,
        public_key,
        ..
    } = err
    else {
        panic!("expected a wrong-key error, got {err}");
    };
    assert_eq!(public_key, other.key_id());
    let (ok, output) = minisign_verify(minisign, &other_public, &report, &sig);
    assert!(!ok);
    assert!(
        output.contains(&format!("is {signature_key}\n")),
        "{output}"
    );
    assert!(
        output.contains(&format!("public key is {public_key}\n")),
        "{output}"
    );
}
