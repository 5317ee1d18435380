//! `tractorsec devices`: the device inventory.

use crate::cli::{DevicesArgs, PlainFormat};
use crate::output::Output;
use anyhow::{Context, Result};
use std::process::ExitCode;

/// Read and print the inventory of the root.
pub fn run(args: DevicesArgs, out: &Output) -> Result<ExitCode> {
    let root = super::open_root(args.root.as_deref())?;
    let inventory = tractorsec_devices::collect(&root)
        .with_context(|| format!("cannot read devices under {}", root.dir().display()))?;
    let text = match args.format {
        PlainFormat::Text => tractorsec_devices::render_text(&inventory),
        PlainFormat::Json => {
            let mut json = serde_json::to_string_pretty(&inventory)?;
            json.push('\n');
            json
        }
    };
    out.emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
