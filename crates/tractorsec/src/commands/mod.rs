//! One module per subcommand.

mod apply;
mod audit;
mod controls;
mod devices;
mod diff;
mod docs;
mod erase;
mod facts;
mod seal;
mod signing;

use crate::cli::{Cli, Command, SchemaDoc};
use crate::output::Output;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use tractorsec_facts::{Facts, Root, SCHEMA_VERSION};

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let out = Output {
        path: cli.global.output,
        quiet: cli.global.quiet,
    };
    match cli.command {
        Command::Facts(args) => facts::run(args, &out),
        Command::Audit(args) => audit::run(args, &out),
        Command::Controls(args) => controls::run(args, &out),
        Command::Devices(args) => devices::run(args, &out),
        Command::Apply(args) => apply::run(args, &out),
        Command::Rollback(args) => apply::rollback(args, &out),
        Command::Transactions { root } => apply::transactions(root.as_deref(), &out),
        Command::Seal(args) => seal::seal(args, &out),
        Command::Verify(args) => seal::verify(args, &out),
        Command::Verity { action } => seal::verity(action, &out),
        Command::Erase(args) => erase::run(args, &out),
        Command::Diff(args) => diff::run(args, &out),
        Command::Key { action } => signing::key(action, &out),
        Command::Signature { action } => signing::signature(action, &out),
        Command::Completions { shell } => docs::completions(shell, &out),
        Command::Man { dir } => docs::man(dir.as_deref(), &out),
        Command::Schema { document } => {
            let text = match document {
                SchemaDoc::Report => tractorsec_report::report_schema(),
                SchemaDoc::Facts => schema_of::<Facts>()?,
                SchemaDoc::Devices => schema_of::<tractorsec_devices::Inventory>()?,
                SchemaDoc::EraseCertificate => {
                    schema_of::<tractorsec_devices::erase::certificate::Certificate>()?
                }
            };
            out.emit(&text)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The JSON Schema of `T`, pretty-printed.
fn schema_of<T: schemars::JsonSchema>() -> Result<String> {
    let schema = schemars::schema_for!(T);
    Ok(format!("{}\n", serde_json::to_string_pretty(&schema)?))
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
    parse_facts(path, &text)
}

/// A snapshot read from `path`, checking its format version.
fn parse_facts(path: &Path, text: &str) -> Result<Facts> {
    let facts: Facts = serde_json::from_str(text).map_err(|e| {
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

/// `NAME=VALUE` pairs; VALUE is read as TOML (`2`, `["a"]`, `true`) and
/// otherwise taken as a string.
fn parse_params(pairs: &[String]) -> Result<BTreeMap<String, toml::Value>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--param {pair:?}: expected NAME=VALUE");
        };
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        out.insert(name.trim().to_string(), parsed);
    }
    Ok(out)
}

/// The profile (with `--param` overrides) and waivers of `--profile`,
/// `--param`, `--waivers`.
fn judge(
    args: &crate::cli::JudgeArgs,
) -> Result<(tractorsec_policy::Profile, tractorsec_policy::Waivers)> {
    let profile =
        tractorsec_policy::Profile::load_with(&args.profile, &parse_params(&args.params)?)?;
    let Some(path) = &args.waivers else {
        return Ok((profile, tractorsec_policy::Waivers::default()));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let waivers = tractorsec_policy::Waivers::parse(&path.display().to_string(), &text, &profile)?;
    Ok((profile, waivers))
}
