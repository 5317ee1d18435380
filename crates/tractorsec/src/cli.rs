//! The command-line definition.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "Exit codes: 0 nothing failed; 1 a control failed at or above --fail-on; \
2 the command could not do its job (bad input, I/O).";

/// Security control plane for GPU/AI infrastructure nodes.
#[derive(Debug, Parser)]
#[command(name = "tractorsec", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect a deterministic JSON snapshot of what the system is.
    Facts(FactsArgs),
    /// Evaluate a profile of controls against a system or a snapshot.
    #[command(after_help = EXIT_CODES)]
    Audit(AuditArgs),
    /// Browse the controls of a profile.
    Controls(ControlsArgs),
    /// Print the JSON Schema of a JSON output.
    Schema {
        /// Which document.
        #[arg(value_enum)]
        document: SchemaDoc,
    },
}

/// Which JSON Schema to print.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaDoc {
    /// `audit --format json`.
    Report,
    /// `facts`.
    Facts,
}

/// Where facts come from.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Read a directory tree (an image or captured host) instead of `/`.
    #[arg(long, value_name = "DIR", conflicts_with = "facts")]
    pub root: Option<PathBuf>,
    /// Judge a stored snapshot (from `tractorsec facts`) instead of collecting.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
}

/// `tractorsec facts`.
#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Read a directory tree (an image or captured host) instead of `/`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write the snapshot to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human text grouped by section.
    Text,
    /// JSON (schema: `tractorsec schema report`).
    Json,
}

/// Severity threshold for the exit code.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Any failure.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
    /// Never exit 1.
    Never,
}

/// `tractorsec audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Where facts come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Built-in profile name or profile file.
    #[arg(long, default_value = "tractoros", value_name = "NAME|FILE")]
    pub profile: String,
    /// Override a profile param for this node (TOML value, or a bare
    /// string): `--param expected_profile=sha256:…`. Not part of the
    /// profile hash; listed in the report.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Waivers file (`[[waiver]]` control, reason, owner, expires).
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when a control fails at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: FailOn,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// List passing and not-applicable controls too (text).
    #[arg(long, short)]
    pub verbose: bool,
    /// Print the time of each phase (collect, evaluate, render) to stderr.
    #[arg(long)]
    pub timings: bool,
}

/// `tractorsec controls`.
#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Built-in profile name or profile file.
    #[arg(
        long,
        default_value = "tractoros",
        value_name = "NAME|FILE",
        global = true
    )]
    pub profile: String,
    /// What to show.
    #[command(subcommand)]
    pub action: Option<ControlsAction>,
}

/// `tractorsec controls list|show`.
#[derive(Debug, Subcommand)]
pub enum ControlsAction {
    /// One line per control.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Everything about one control.
    Show {
        /// Control id.
        id: String,
    },
}
