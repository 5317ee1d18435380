//! `tractorsec seal`, `verify` and `verity`: signed tree manifests, drift,
//! and dm-verity hash devices; and the image check `audit` runs for
//! `platform.image.drift`.

use crate::cli::{ContentHash, PlainFormat, SealArgs, VerifyArgs, VerityAction};
use crate::output::Output;
use anyhow::{Context, Result, anyhow};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tractorsec_facts::text::{hex, unhex};
use tractorsec_facts::{FactError, FactErrorKind, ImageCheck, Source};
use tractorsec_seal::manifest::{self, Drift, HashAlgorithm, Manifest, SealOptions, VerifyOptions};
use tractorsec_seal::verity;

/// `tractorsec seal DIR --key KEY --out MANIFEST`.
pub fn seal(args: SealArgs, out: &Output) -> Result<ExitCode> {
    let path = out
        .path
        .clone()
        .context("seal needs --out MANIFEST: the signature is written beside it")?;
    let opts = SealOptions {
        excludes: args.exclude,
        algorithm: match args.hash {
            ContentHash::Blake3 => HashAlgorithm::Blake3,
            ContentHash::Sha256 => HashAlgorithm::Sha256,
        },
    };
    let sealed = {
        let _progress = out.progress("sealing");
        manifest::seal(&args.dir, &opts)?
    };
    out.emit(&sealed.to_text())?;
    let comment = format!(
        "tractorsec {} seal dir:{} entries:{}",
        env!("CARGO_PKG_VERSION"),
        args.dir.display(),
        sealed.entries.len()
    )
    .replace(['\n', '\r'], " ");
    let signature = tractorsec_evidence::sign_file(&args.key, &path, &comment)?;
    out.note(&format!(
        "sealed {} entries into {} (signature {})",
        sealed.entries.len(),
        path.display(),
        signature.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Why a manifest cannot be used.
enum Untrusted {
    /// Its signature is missing or does not verify (fail closed).
    Signature(tractorsec_evidence::EvidenceError),
    /// It cannot be read, or is signed but malformed.
    Unreadable(anyhow::Error),
}

impl From<Untrusted> for anyhow::Error {
    fn from(u: Untrusted) -> Self {
        match u {
            Untrusted::Signature(e) => anyhow!("signature check failed: {e}"),
            Untrusted::Unreadable(e) => e,
        }
    }
}

/// The manifest's bytes, read once and checked against its detached
/// signature before anything is parsed, then parsed; with the bytes and
/// the signing key id.
fn trusted_manifest(
    manifest: &Path,
    pubkey: &Path,
) -> Result<(Manifest, Vec<u8>, String), Untrusted> {
    let bytes = std::fs::read(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))
        .map_err(Untrusted::Unreadable)?;
    let verified = tractorsec_evidence::verify_bytes(
        &bytes,
        &tractorsec_evidence::signature_path(manifest),
        pubkey,
    )
    .map_err(Untrusted::Signature)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Untrusted::Unreadable(anyhow!("{}: not UTF-8", manifest.display())))?;
    let parsed = Manifest::parse(text, &manifest.display().to_string())
        .map_err(|e| Untrusted::Unreadable(e.into()))?;
    Ok((parsed, bytes, verified.key_id().to_string()))
}

/// `/var/lib/tractorsec/verify-cache/<manifest digest>.json`.
fn default_cache(manifest_bytes: &[u8]) -> Result<PathBuf> {
    let digest = Sha256::digest(manifest_bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let dir = Path::new("/var/lib/tractorsec/verify-cache");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.join(format!("{hex}.json")))
}

/// `tractorsec verify DIR --manifest M --pubkey P [--quick]`.
pub fn verify(args: VerifyArgs, out: &Output) -> Result<ExitCode> {
    let (manifest, bytes, _) = trusted_manifest(&args.manifest, &args.pubkey)?;
    let quick_cache = match (args.quick, args.cache) {
        (false, _) => None,
        (true, Some(cache)) => Some(cache),
        (true, None) => Some(default_cache(&bytes)?),
    };
    let drift = {
        let _progress = out.progress("verifying");
        manifest::drift(&args.dir, &manifest, &VerifyOptions { quick_cache })?
    };
    out.emit(&match args.format {
        PlainFormat::Text => drift.to_text(),
        PlainFormat::Json => format!("{}\n", serde_json::to_string_pretty(&drift)?),
    })?;
    Ok(if drift.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One line per drifted entry, for the audit finding.
fn drift_lines(drift: &Drift, most: usize) -> Vec<String> {
    drift
        .to_text()
        .lines()
        .skip(1)
        .take(most)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The tree at `root` checked against `manifest` signed for `pubkey`, as
/// the `image` fact the `platform.image.drift` control judges.
pub fn image_check(root: &Path, manifest: &str, pubkey: &str) -> Source<ImageCheck> {
    let mut check = ImageCheck {
        manifest: manifest.to_string(),
        ..ImageCheck::default()
    };
    let trusted = trusted_manifest(Path::new(manifest), Path::new(pubkey));
    let parsed = match trusted {
        Ok((parsed, _, key_id)) => {
            check.signature_valid = true;
            check.signature = format!("signed by key {key_id}");
            parsed
        }
        Err(Untrusted::Signature(e)) => {
            check.signature = e.to_string();
            return Source::Ok(check);
        }
        Err(Untrusted::Unreadable(e)) => {
            return Source::Error(FactError::new(
                FactErrorKind::Unreadable,
                manifest,
                format!("{e:#}"),
            ));
        }
    };
    check.entries = parsed.entries.len() as u64;
    match manifest::drift(root, &parsed, &VerifyOptions::default()) {
        Ok(drift) => {
            check.added = drift.added.len() as u64;
            check.removed = drift.removed.len() as u64;
            check.changed = drift.changed.len() as u64;
            check.errors = drift.errors.len() as u64;
            check.first = drift_lines(&drift, 10);
            Source::Ok(check)
        }
        Err(e) => Source::Error(FactError::new(
            FactErrorKind::Unreadable,
            &root.display().to_string(),
            e.to_string(),
        )),
    }
}

/// `tractorsec verity format|verify`.
pub fn verity(action: VerityAction, out: &Output) -> Result<ExitCode> {
    match action {
        VerityAction::Format {
            data,
            hash,
            salt,
            data_block_size,
            hash_block_size,
            algorithm,
        } => {
            let opts = verity::FormatOptions {
                algorithm: verity::HashAlgorithm::from_name(&algorithm).with_context(|| {
                    format!("unknown hash {algorithm:?} (sha256, sha1, sha512)")
                })?,
                data_block_size,
                hash_block_size,
                salt: match salt.as_deref() {
                    None => None,
                    Some("-") => Some(Vec::new()),
                    Some(h) => Some(unhex(h).with_context(|| format!("salt {h:?} is not hex"))?),
                },
                uuid: None,
            };
            let done = {
                let _progress = out.progress("hashing");
                verity::format(&data, &hash, &opts)?
            };
            let mut text = format!("VERITY header information for {}\n", hash.display());
            let _ = writeln!(
                text,
                "UUID:            \t{}",
                verity::uuid_string(&done.uuid)
            );
            let _ = writeln!(text, "Hash type:       \t1");
            let _ = writeln!(text, "Data blocks:     \t{}", done.data_blocks);
            let _ = writeln!(text, "Data block size: \t{data_block_size}");
            let _ = writeln!(
                text,
                "Hash blocks:     \t{}",
                done.hash_blocks.saturating_sub(1)
            );
            let _ = writeln!(text, "Hash block size: \t{hash_block_size}");
            let _ = writeln!(text, "Hash algorithm:  \t{}", opts.algorithm.name());
            let salt = if done.salt.is_empty() {
                "-".to_string()
            } else {
                hex(&done.salt)
            };
            let _ = writeln!(text, "Salt:            \t{salt}");
            let _ = writeln!(text, "Root hash:      \t{}", hex(&done.root_hash));
            out.emit(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        VerityAction::Verify { data, hash, root } => {
            let root = unhex(&root).with_context(|| format!("root hash {root:?} is not hex"))?;
            let (code, text) = match verity::verify(&data, &hash, &root)? {
                verity::Verdict::Ok => {
                    (0, "verified: every block matches the root hash".to_string())
                }
                verity::Verdict::WrongRoot => (
                    1,
                    "verification failed: the root hash does not match".to_string(),
                ),
                verity::Verdict::CorruptData { block, offset } => (
                    1,
                    format!("verification failed: data block {block} (offset {offset}) is corrupt"),
                ),
                verity::Verdict::CorruptHash { block, offset } => (
                    1,
                    format!(
                        "verification failed: hash device block {block} (offset {offset}) is corrupt"
                    ),
                ),
            };
            out.emit(&format!("{text}\n"))?;
            Ok(ExitCode::from(code))
        }
    }
}
