//! `tractorsec devices`: the device inventory.

use crate::cli::{DevicesArgs, PlainFormat};
use crate::output::Output;
use anyhow::{Context, Result};
use std::process::ExitCode;

/// Read and print the inventory of the root.
pub fn run(args: DevicesArgs, out: &Output) -> Result<ExitCode> {
    let root = super::open_root(args.root.as_deref())?;
    let mut inventory = tractorsec_devices::collect(&root)
        .with_context(|| format!("cannot read devices under {}", root.dir().display()))?;
    attach_security(&mut inventory, &root);
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

/// On the live root, attach each NVMe controller's Identify and TCG Level 0
/// facts (as root; otherwise each says why they are missing).
fn attach_security(inventory: &mut tractorsec_devices::Inventory, root: &tractorsec_facts::Root) {
    let Some(found) = super::facts::nvme_security(root) else {
        return;
    };
    for c in &mut inventory.nvme {
        c.security = Some(match &found {
            tractorsec_facts::Source::Ok(list) => {
                match list.iter().find(|s| s.controller == c.name) {
                    Some(s) => s.clone(),
                    None => missing(c, "not probed".into()),
                }
            }
            tractorsec_facts::Source::Error(e) => missing(c, e.message.clone()),
        });
    }
}

/// A controller's security facts that could not be read, and why.
fn missing(c: &tractorsec_devices::NvmeController, why: String) -> tractorsec_facts::NvmeSecurity {
    tractorsec_facts::NvmeSecurity {
        controller: c.name.clone(),
        namespaces: c.namespaces.iter().map(|n| n.name.clone()).collect(),
        identify: None,
        tcg: None,
        tcg_source: None,
        error: Some(why),
    }
}
