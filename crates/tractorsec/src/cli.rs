//! The command-line definition.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "Exit codes: 0 nothing failed; 1 a control failed at or above --fail-on; \
2 the command could not do its job (bad input, I/O).";

/// Security control plane for GPU/AI infrastructure nodes.
#[derive(Debug, Parser)]
#[command(name = "tractorsec", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Write the output to FILE (atomically: temp file, fsync, rename)
    /// instead of stdout.
    #[arg(long, short, visible_alias = "out", value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,
    /// Print nothing but errors; the exit code tells the result.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect a deterministic JSON snapshot of what the system is.
    Facts(FactsArgs),
    /// Evaluate a profile of controls against a system or a snapshot.
    #[command(after_help = EXIT_CODES)]
    Audit(AuditArgs),
    /// Inventory NVMe, block, GPU, RDMA and network devices from sysfs, with
    /// IOMMU groups and device nodes.
    Devices(DevicesArgs),
    /// Browse the controls of a profile.
    Controls(ControlsArgs),
    /// Fix failing controls as one journaled, reversible transaction.
    #[command(after_help = APPLY_EXIT_CODES)]
    Apply(ApplyArgs),
    /// Undo the newest applied transaction, byte for byte.
    Rollback(RollbackArgs),
    /// List the transactions recorded under a root.
    Transactions {
        /// The root (default `/`).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Seal a tree into a signed manifest (`--out MANIFEST`, signature
    /// beside it).
    Seal(SealArgs),
    /// Check a tree against its sealed manifest: the signature first, then
    /// every added, removed and changed entry.
    #[command(after_help = VERIFY_EXIT_CODES)]
    Verify(VerifyArgs),
    /// dm-verity hash devices, byte-compatible with `veritysetup`.
    Verity {
        /// What to do.
        #[command(subcommand)]
        action: VerityAction,
    },
    /// Erase a whole drive with proof: refuse anything in use, run the
    /// strongest supported method, verify by sampling, write a certificate.
    #[command(
        after_help = ERASE_EXIT_CODES,
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true
    )]
    Erase(EraseArgs),
    /// What changed between two reports or two snapshots.
    #[command(after_help = DIFF_EXIT_CODES)]
    Diff(DiffArgs),
    /// Ed25519 signing keys (minisign-compatible).
    Key {
        /// What to do.
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Detached signatures (minisign-compatible).
    Signature {
        /// What to do.
        #[command(subcommand)]
        action: SignatureAction,
    },
    /// Print the JSON Schema of a JSON output.
    Schema {
        /// Which document.
        #[arg(value_enum)]
        document: SchemaDoc,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into DIR.
    Man {
        /// Write `tractorsec.1`, `tractorsec-audit.1`, … into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

const APPLY_EXIT_CODES: &str = "Exit codes: 0 applied (or nothing to change); 1 a control the \
plan should have fixed still fails; 2 nothing was applied (bad input, an unsafe target, I/O), \
or a failed step was rolled back.";

/// `tractorsec apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Fix a directory tree (an image being built) instead of `/`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The profile that judges (waived controls are left alone).
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// Only these controls (repeat, or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print the plan (a unified diff per file, then the live changes) and
    /// change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlainFormat,
}

/// `tractorsec devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Read a captured host tree instead of `/`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlainFormat,
}

/// `tractorsec rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Transaction id (must be the newest one in effect).
    #[arg(conflicts_with = "last")]
    pub id: Option<String>,
    /// The newest transaction in effect (the default).
    #[arg(long)]
    pub last: bool,
    /// The root (default `/`).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

const VERIFY_EXIT_CODES: &str = "Exit codes: 0 the tree matches; 1 drift; 2 the manifest, its \
signature or the tree could not be checked.";

/// Content hash of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContentHash {
    /// BLAKE3 (default; fastest).
    Blake3,
    /// SHA-256.
    Sha256,
}

const ERASE_EXIT_CODES: &str = "The certificate goes to --out CERT (stdout without it); --key KEY \
signs it as CERT.minisig. Exit codes: 0 erased and verified (verify-cert: the certificate is signed \
and records a verified erase); 1 the erase ran but verification failed (verify-cert: signed, but \
records a failed erase); 2 refused, or the erase could not run or finish (verify-cert: bad signature \
or not a certificate).";

/// `tractorsec erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// `verify-cert`.
    #[command(subcommand)]
    pub action: Option<EraseAction>,
    /// The whole block device (`/dev/nvme0n1`, `/dev/sdb`, `/dev/loop3`,
    /// or a `/dev/disk/by-id` link).
    #[arg(required = true)]
    pub device: Option<PathBuf>,
    /// How: `auto` picks NVMe Sanitize crypto erase › block erase › Format
    /// with crypto erase › Sanitize overwrite; other devices are
    /// overwritten from the host (NIST Clear).
    #[arg(long, value_enum, default_value_t = EraseMethod::Auto)]
    pub method: EraseMethod,
    /// The device's serial number, typed again (a device without one: its
    /// WWID, or a loop device's backing file).
    #[arg(long, value_name = "SERIAL", required = true)]
    pub confirm: Option<String>,
    /// Sign the certificate with this secret key (needs --out CERT).
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Who performs the erase, for the certificate (default: the sudo
    /// user, else the user).
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Random locations to read back, besides the first and last block.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1000..))]
    pub samples: u32,
}

/// `--method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EraseMethod {
    /// The strongest the device supports.
    Auto,
    /// Cryptographic erase (NVMe Sanitize, else Format NVM SES=2).
    Crypto,
    /// NVMe Sanitize Block Erase.
    Block,
    /// NVMe Sanitize Overwrite, else a pattern written from the host.
    Overwrite,
    /// Zeros written from the host.
    Zero,
}

/// `tractorsec erase …` subcommands.
#[derive(Debug, Subcommand)]
pub enum EraseAction {
    /// Check a certificate: its signature (CERT.minisig), its format, and
    /// that it records a verified erase.
    VerifyCert {
        /// The certificate.
        cert: PathBuf,
        /// Public key file.
        #[arg(long, value_name = "FILE")]
        pubkey: PathBuf,
    },
}

/// `tractorsec seal`.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// The tree (an image directory, or `/`; other mounts are not crossed).
    pub dir: PathBuf,
    /// Secret key that signs the manifest (`tractorsec key generate`).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Leave out paths matching GLOB (relative to DIR; repeat).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Content hash.
    #[arg(long = "hash", value_enum, default_value = "blake3")]
    pub hash: ContentHash,
}

/// `tractorsec verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The tree to check.
    pub dir: PathBuf,
    /// The sealed manifest (its signature is `MANIFEST.minisig`).
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// Public key the manifest must be signed with.
    #[arg(long, value_name = "FILE")]
    pub pubkey: PathBuf,
    /// Re-hash only files whose size, mtime, ctime or inode changed since
    /// the last verify (node-local cache, see --cache).
    #[arg(long)]
    pub quick: bool,
    /// The quick-mode cache (default:
    /// /var/lib/tractorsec/verify-cache/<manifest digest>.json).
    #[arg(long, value_name = "FILE", requires = "quick")]
    pub cache: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlainFormat,
}

/// `tractorsec verity`.
#[derive(Debug, Subcommand)]
pub enum VerityAction {
    /// Write a hash device for DATA (superblock, version 1) and print the
    /// root hash, as `veritysetup format` does.
    Format {
        /// Data device or image file.
        data: PathBuf,
        /// Hash device or file to write.
        hash: PathBuf,
        /// Salt in hex, or `-` for none (default: 32 random bytes).
        #[arg(long, value_name = "HEX|-")]
        salt: Option<String>,
        /// Data block size in bytes.
        #[arg(long, default_value_t = 4096)]
        data_block_size: u32,
        /// Hash block size in bytes.
        #[arg(long, default_value_t = 4096)]
        hash_block_size: u32,
        /// Hash algorithm: sha256, sha1 or sha512.
        #[arg(long = "hash", default_value = "sha256")]
        algorithm: String,
    },
    /// Check DATA against HASH and the trusted ROOT hash; names the first
    /// corrupt block.
    #[command(after_help = "Exit codes: 0 verified; 1 corrupt or wrong root; 2 cannot check.")]
    Verify {
        /// Data device or image file.
        data: PathBuf,
        /// Hash device or file.
        hash: PathBuf,
        /// The trusted root hash (hex).
        root: String,
    },
}

const DIFF_EXIT_CODES: &str = "Exit codes: 0 nothing newly fails; 1 a control newly fails; \
2 the command could not do its job.";

/// `tractorsec key`.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Generate a key pair; refuses to overwrite existing files. The secret
    /// key file is created with mode 0600 and is not encrypted (like
    /// `minisign -G -W`): keep it in a secret store.
    Generate {
        /// Secret key file.
        #[arg(long, default_value = "tractorsec.key", value_name = "FILE")]
        secret: PathBuf,
        /// Public key file.
        #[arg(long, default_value = "tractorsec.pub", value_name = "FILE")]
        public: PathBuf,
    },
}

/// `tractorsec signature`.
#[derive(Debug, Subcommand)]
pub enum SignatureAction {
    /// Verify FILE against its detached signature (default FILE.minisig).
    #[command(
        after_help = "Exit codes: 0 the signature is valid; 2 it is not, or cannot be checked."
    )]
    Verify {
        /// The signed file.
        file: PathBuf,
        /// Public key file (`tractorsec key generate` or minisign).
        #[arg(long, value_name = "FILE")]
        pubkey: PathBuf,
        /// Signature file.
        #[arg(long, value_name = "FILE")]
        signature: Option<PathBuf>,
    },
}

/// `tractorsec diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Older JSON report (`audit --format json`) or snapshot (`facts`).
    pub old: PathBuf,
    /// Newer report or snapshot, of the same kind as OLD.
    pub new: PathBuf,
    /// The profile that judges snapshots.
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlainFormat,
}

/// Which JSON Schema to print.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaDoc {
    /// `audit --format json`.
    Report,
    /// `facts`.
    Facts,
    /// `devices --format json`.
    Devices,
    /// `erase` certificates.
    EraseCertificate,
}

/// The profile that judges, its per-node params, and waivers.
#[derive(Debug, Args)]
pub struct JudgeArgs {
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
    /// Sign the snapshot with this secret key; the signature goes to
    /// `<output>.minisig` (needs --output).
    #[arg(long, value_name = "KEY", requires = "output")]
    pub sign: Option<PathBuf>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human text grouped by section.
    Text,
    /// JSON (schema: `tractorsec schema report`).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Prometheus text exposition (node_exporter textfile collector).
    Prometheus,
    /// One self-contained HTML page.
    Html,
    /// OCSF Compliance Finding events (class 2003), one JSON per line.
    Ocsf,
}

/// Text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlainFormat {
    /// Human text.
    Text,
    /// JSON.
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
    /// The profile that judges.
    #[command(flatten)]
    pub judge: JudgeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when a control fails at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    pub fail_on: FailOn,
    /// Sign the report with this secret key; the signature goes to
    /// `<output>.minisig` (needs --output).
    #[arg(long, value_name = "KEY", requires = "output")]
    pub sign: Option<PathBuf>,
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
        format: PlainFormat,
    },
    /// Everything about one control.
    Show {
        /// Control id.
        id: String,
    },
}
