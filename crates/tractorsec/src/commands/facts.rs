//! `tractorsec facts`: collect a snapshot.

use crate::cli::FactsArgs;
use anyhow::Result;
use std::process::ExitCode;

/// Collect and print (or write) the snapshot.
pub fn run(args: FactsArgs) -> Result<ExitCode> {
    let root = super::open_root(args.root.as_deref())?;
    let facts = tractorsec_facts::collect::collect(&root);
    let mut text = serde_json::to_string_pretty(&facts)?;
    text.push('\n');
    crate::output::emit(args.out.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
