//! `tractorsec key` and `tractorsec signature`, and signing what a command
//! wrote.

use crate::cli::{KeyAction, SignatureAction};
use crate::output::Output;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// `tractorsec key generate`.
pub fn key(action: KeyAction, out: &Output) -> Result<ExitCode> {
    match action {
        KeyAction::Generate { secret, public } => {
            let key = tractorsec_evidence::generate_key_files(&secret, &public)?;
            out.note(&format!(
                "key {} written: secret {} (mode 0600), public {}",
                key.key_id(),
                secret.display(),
                public.display()
            ));
            out.emit(&key.to_text())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `tractorsec signature verify`: exit 0 when valid; any failure is an
/// error (exit 2).
pub fn signature(action: SignatureAction, out: &Output) -> Result<ExitCode> {
    match action {
        SignatureAction::Verify {
            file,
            pubkey,
            signature,
        } => {
            let signature = signature.unwrap_or_else(|| tractorsec_evidence::signature_path(&file));
            let verified = tractorsec_evidence::verify_file(&file, &signature, &pubkey)?;
            out.emit(&format!(
                "signature valid: {} signed by key {}\ntrusted comment: {}\n",
                file.display(),
                verified.key_id(),
                verified.trusted_comment()
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The signed statement about a report or snapshot: what it is, of which
/// host, against which profile, collected when.
pub fn trusted_comment(
    kind: &str,
    host: Option<&str>,
    profile: Option<&str>,
    collected_at: &str,
) -> String {
    let mut comment = format!(
        "tractorsec {} {kind} host:{} collected:{collected_at}",
        env!("CARGO_PKG_VERSION"),
        host.unwrap_or("unknown")
    );
    if let Some(profile) = profile {
        comment.push_str(&format!(" profile:{profile}"));
    }
    comment.replace(['\n', '\r'], " ")
}

/// Sign the file the command just wrote (`--output`), beside it.
pub fn sign_output(key: &Path, out: &Output, comment: &str) -> Result<()> {
    let file = out
        .path
        .as_deref()
        .context("--sign needs --output FILE: the signature is written beside it")?;
    let signature = tractorsec_evidence::sign_file(key, file, comment)?;
    out.note(&format!("signed: {}", signature.display()));
    Ok(())
}
