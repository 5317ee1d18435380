//! Key and signature files: key pairs created without overwriting anything,
//! signatures replaced atomically, everything synced to disk.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{EvidenceError, PublicKey, SecretKey, Signature, Verified};

/// Generates a key pair into two new files: `secret` (mode 0600) and
/// `public`. Refuses, before writing anything, if either exists.
pub fn generate_key_files(secret: &Path, public: &Path) -> Result<PublicKey, EvidenceError> {
    for path in [secret, public] {
        match fs::symlink_metadata(path) {
            Ok(_) => return Err(key_file_exists(path)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(EvidenceError::io(path, "inspect", err)),
        }
    }
    let key = SecretKey::generate()?;
    let public_key = key.public();
    create_key_file(secret, 0o600, &key.to_text())?;
    if let Err(err) = create_key_file(public, 0o644, &public_key.to_text()) {
        // Leave no half pair behind; the secret key file is the one just made.
        let _ = fs::remove_file(secret);
        return Err(err);
    }
    sync_dir(parent_dir(secret))?;
    sync_dir(parent_dir(public))?;
    Ok(public_key)
}

/// Signs `file` with the secret key in `secret_key`, writing the signature
/// to `<file>.minisig` (replaced atomically); returns that path.
pub fn sign_file(
    secret_key: &Path,
    file: &Path,
    trusted_comment: &str,
) -> Result<PathBuf, EvidenceError> {
    let key = read_parsed(secret_key, SecretKey::parse)?;
    let data = fs::read(file).map_err(|err| EvidenceError::io(file, "read", err))?;
    let signature = key.sign(&data, trusted_comment)?;
    let path = signature_path(file);
    write_atomically(&path, &signature.to_text())?;
    Ok(path)
}

/// Where a file's detached signature goes: `<file>.minisig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut path = OsString::from(file);
    path.push(".minisig");
    PathBuf::from(path)
}

/// Verifies that `signature` (a `.minisig` file) was made over `file` by the
/// key in `public_key`.
pub fn verify_file(
    file: &Path,
    signature: &Path,
    public_key: &Path,
) -> Result<Verified, EvidenceError> {
    let (public_key, signature) = key_and_signature(signature, public_key)?;
    let data = fs::read(file).map_err(|err| EvidenceError::io(file, "read", err))?;
    public_key.verify(&data, &signature)
}

/// Verifies `data` (already read, so what is checked is what the caller
/// goes on to use) against the `.minisig` file `signature` and the key in
/// `public_key`.
pub fn verify_bytes(
    data: &[u8],
    signature: &Path,
    public_key: &Path,
) -> Result<Verified, EvidenceError> {
    let (public_key, signature) = key_and_signature(signature, public_key)?;
    public_key.verify(data, &signature)
}

/// The public key and the signature files, parsed.
fn key_and_signature(
    signature: &Path,
    public_key: &Path,
) -> Result<(PublicKey, Signature), EvidenceError> {
    Ok((
        read_parsed(public_key, PublicKey::parse)?,
        read_parsed(signature, Signature::parse)?,
    ))
}

/// Reads a text file and parses it, errors naming it as the user named it.
fn read_parsed<T>(
    path: &Path,
    parse: fn(&str, &str) -> Result<T, EvidenceError>,
) -> Result<T, EvidenceError> {
    let bytes = fs::read(path).map_err(|err| EvidenceError::io(path, "read", err))?;
    let file = path.display().to_string();
    match std::str::from_utf8(&bytes) {
        Ok(text) => parse(text, &file),
        Err(err) => {
            let valid = bytes.get(..err.valid_up_to()).unwrap_or_default();
            let line = 1 + valid.iter().filter(|&&byte| byte == b'\n').count();
            let problem = "not UTF-8 text (is this a minisign file?)".to_owned();
            Err(EvidenceError::Malformed {
                file,
                line,
                problem,
            })
        }
    }
}

fn key_file_exists(path: &Path) -> EvidenceError {
    EvidenceError::KeyFileExists {
        path: path.to_owned(),
    }
}

/// Creates a new key file, never replacing one.
fn create_key_file(path: &Path, mode: u32, text: &str) -> Result<(), EvidenceError> {
    write_new_file(path, mode, text).map_err(|err| match err {
        EvidenceError::Io { source, .. } if source.kind() == io::ErrorKind::AlreadyExists => {
            key_file_exists(path)
        }
        other => other,
    })
}

/// Writes `text` to a file created at `path` (which must not exist) and
/// syncs it; removes it again if writing fails.
fn write_new_file(path: &Path, mode: u32, text: &str) -> Result<(), EvidenceError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|err| EvidenceError::io(path, "create", err))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    written.map_err(|err| {
        let _ = fs::remove_file(path);
        EvidenceError::io(path, "write", err)
    })
}

/// Replaces `path` with `text` all at once: a synced temporary file in the
/// same directory (a dot file, so collectors that glob `*.prom` and the like
/// never see it) is renamed over it, then the directory is synced. On error
/// the temporary file is removed and `path` is untouched.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), EvidenceError> {
    static TEMP_FILES: AtomicU64 = AtomicU64::new(0);
    let mut name = OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TEMP_FILES.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = path.with_file_name(name);
    write_new_file(&temp, 0o644, text)?;
    if let Err(err) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(EvidenceError::io(path, "replace", err));
    }
    sync_dir(parent_dir(path))
}

/// The directory a file is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes a directory's entries (a created or renamed file) durable.
fn sync_dir(dir: &Path) -> Result<(), EvidenceError> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| EvidenceError::io(dir, "sync directory", err))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    const REPORT: &str = include_str!("../tests/fixtures/minisign/report.json");

    #[test]
    fn generate_sign_verify_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = (dir.path().join("k.key"), dir.path().join("k.pub"));
        let key = generate_key_files(&secret, &public).unwrap();
        let mode = fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret key mode {mode:o}");
        assert_eq!(fs::read_to_string(&public).unwrap(), key.to_text());

        let report = dir.path().join("report.json");
        fs::write(&report, REPORT).unwrap();
        let sig = sign_file(&secret, &report, "host:node-07").unwrap();
        assert_eq!(sig, dir.path().join("report.json.minisig"));
        let verified = verify_file(&report, &sig, &public).unwrap();
        assert_eq!(verified.trusted_comment(), "host:node-07");
        assert_eq!(verified.key_id(), key.key_id());

        // Signing again replaces the signature and leaves no temporary file.
        sign_file(&secret, &report, "second").unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(
            verify_file(&report, &sig, &public)
                .unwrap()
                .trusted_comment(),
            "second"
        );

        fs::write(&report, REPORT.replace("node-07", "node-08")).unwrap();
        let err = verify_file(&report, &sig, &public).unwrap_err();
        assert!(
            matches!(err, EvidenceError::SignatureMismatch { line: 2, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("{}:2: ", sig.display())),
            "{err}"
        );
    }

    #[test]
    fn key_generation_refuses_to_overwrite_either_file() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = (dir.path().join("k.key"), dir.path().join("k.pub"));
        for existing in [&secret, &public] {
            fs::write(existing, "keep me").unwrap();
            let err = generate_key_files(&secret, &public).unwrap_err();
            assert!(
                matches!(&err, EvidenceError::KeyFileExists { path } if path == existing),
                "{err}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "{}: already exists; refusing to overwrite a key file",
                    existing.display()
                )
            );
            // Nothing written: the existing file kept, the other not created.
            assert_eq!(fs::read_to_string(existing).unwrap(), "keep me");
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
            fs::remove_file(existing).unwrap();
        }
        // Both paths the same: no half pair is left behind.
        let err = generate_key_files(&secret, &secret).unwrap_err();
        assert!(matches!(err, EvidenceError::KeyFileExists { .. }), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn dangling_symlink_counts_as_existing() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("k.key");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &secret).unwrap();
        let err = generate_key_files(&secret, &dir.path().join("k.pub")).unwrap_err();
        assert!(matches!(err, EvidenceError::KeyFileExists { .. }), "{err}");
        assert!(!dir.path().join("elsewhere").exists());
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.minisig");
        let err = verify_file(Path::new("x"), &missing, &missing).unwrap_err();
        assert!(matches!(err, EvidenceError::Io { action: "read", .. }));
        assert!(
            err.to_string()
                .starts_with(&format!("{}: cannot read: ", missing.display())),
            "{err}"
        );
        let err = sign_file(&missing, Path::new("x"), "c").unwrap_err();
        assert!(
            err.to_string().starts_with(&missing.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn non_utf8_key_file_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let public = dir.path().join("k.pub");
        fs::write(&public, b"untrusted comment: x\nRW\xff\n").unwrap();
        let err = verify_file(&public, &public, &public).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:2: not UTF-8 text (is this a minisign file?)",
                public.display()
            )
        );
    }

    #[test]
    fn encrypted_secret_key_file_is_refused_when_signing() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("enc.key");
        fs::write(
            &secret,
            include_str!("../tests/fixtures/minisign/encrypted.key"),
        )
        .unwrap();
        let err = sign_file(&secret, &secret, "c").unwrap_err();
        assert!(
            matches!(err, EvidenceError::EncryptedKey { line: 2, .. }),
            "{err}"
        );
        assert!(!dir.path().join("enc.key.minisig").exists());
    }
}
