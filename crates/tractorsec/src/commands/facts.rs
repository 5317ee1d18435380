//! `tractorsec facts`: collect a snapshot.

use crate::cli::FactsArgs;
use crate::output::Output;
use anyhow::Result;
use std::process::ExitCode;
use tractorsec_facts::{FactError, FactErrorKind, NvmeSecurity, Root, Source};

/// Collect and print (or write, and optionally sign) the snapshot.
pub fn run(args: FactsArgs, out: &Output) -> Result<ExitCode> {
    let root = super::open_root(args.root.as_deref())?;
    let facts = {
        let _progress = out.progress("collecting facts");
        collect(&root)
    };
    let mut text = serde_json::to_string_pretty(&facts)?;
    text.push('\n');
    out.emit(&text)?;
    if let Some(key) = &args.sign {
        let host = facts.host.ok().and_then(|h| h.hostname.clone());
        let comment =
            super::signing::trusted_comment("facts", host.as_deref(), None, &facts.collected_at);
        super::signing::sign_output(key, out, &comment)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every fact of `root`, with the NVMe security facts that only the
/// binary (through the device ioctls) can read.
pub(super) fn collect(root: &Root) -> tractorsec_facts::Facts {
    let mut facts = tractorsec_facts::collect::collect(root);
    if let Some(security) = nvme_security(root) {
        facts.nvme_security = security;
    }
    facts
}

/// NVMe Identify and TCG Level 0 facts of the live root: the probe as
/// root, an error saying root is needed otherwise; `None` (not collected)
/// for any other root.
pub(super) fn nvme_security(root: &Root) -> Option<Source<Vec<NvmeSecurity>>> {
    if !root.is_live() {
        return None;
    }
    if !tractorsec_facts::collect::security::is_privileged() {
        return Some(Source::Error(FactError::new(
            FactErrorKind::PermissionDenied,
            "/dev/nvme*",
            "NVMe Identify Controller and TCG Level 0 discovery need root (run as root for this fact)",
        )));
    }
    Some(tractorsec_devices::security::probe(root).into())
}
