//! `tractorsec facts`: collect a snapshot.

use crate::cli::FactsArgs;
use crate::output::Output;
use anyhow::Result;
use std::process::ExitCode;

/// Collect and print (or write, and optionally sign) the snapshot.
pub fn run(args: FactsArgs, out: &Output) -> Result<ExitCode> {
    let root = super::open_root(args.root.as_deref())?;
    let facts = {
        let _progress = out.progress("collecting facts");
        tractorsec_facts::collect::collect(&root)
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
