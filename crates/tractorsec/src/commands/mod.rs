//! One module per subcommand.

mod audit;
mod controls;
mod facts;

use crate::cli::{Cli, Command, SchemaDoc};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::ExitCode;
use tractorsec_facts::{Facts, Root, SCHEMA_VERSION};

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Facts(args) => facts::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Controls(args) => controls::run(args),
        Command::Schema { document } => {
            let text = match document {
                SchemaDoc::Report => tractorsec_report::report_schema(),
                SchemaDoc::Facts => {
                    let schema = schemars::schema_for!(Facts);
                    format!("{}\n", serde_json::to_string_pretty(&schema)?)
                }
            };
            crate::output::emit(None, &text)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The root to collect from: `--root DIR`, or the live system.
fn open_root(dir: Option<&Path>) -> Result<Root> {
    match dir {
        None => Ok(Root::live()),
        Some(d) => Root::open(d).with_context(|| format!("cannot open root {}", d.display())),
    }
}

/// Load a stored snapshot, checking its format version.
fn load_facts(path: &Path) -> Result<Facts> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let facts: Facts = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not a tractorsec snapshot: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if facts.schema_version != SCHEMA_VERSION {
        bail!(
            "{}: snapshot format {} is not supported (this tractorsec reads {SCHEMA_VERSION})",
            path.display(),
            facts.schema_version
        );
    }
    Ok(facts)
}
