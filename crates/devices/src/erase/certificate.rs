//! The certificate of sanitization: a JSON record with the fields NIST SP
//! 800-88r1 §4.8 and its Appendix G ask for (device identity, method and
//! category, tool, verification, operator, times), plus what only a machine
//! record can hold: the exact NVMe command, the final Sanitize Status log,
//! the sample seed and digests. Signed beside it (`CERT.minisig`).

use serde::{Deserialize, Serialize};

use super::method::{Category, Method};
use super::sampling::Verification;
use super::target::Target;
use crate::nvme::command::AdminCommand;
use crate::nvme::identify::IdentifyController;
use crate::nvme::sanitize_log::SanitizeStatus;

/// The `format` of this version of the certificate.
pub const FORMAT: &str = "tractorsec-erase-certificate/1";
/// The standards the category refers to.
pub const STANDARD: &str = "NIST SP 800-88r2 with IEEE 2883-2022 (categories as in SP 800-88r1)";

/// A certificate of sanitization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// [`FORMAT`].
    pub format: String,
    /// `erased` when the erase ran and verification passed, else
    /// `verification_failed`.
    pub result: String,
    /// The tool that erased.
    pub tool: Tool,
    /// The host it ran on.
    pub host: HostIdentity,
    /// Who ran it.
    pub operator: Operator,
    /// When the erase began (RFC 3339, UTC).
    pub started_at: String,
    /// When verification ended.
    pub finished_at: String,
    /// The device, as identified before the erase.
    pub device: Target,
    /// Identify Controller data, for NVMe.
    pub nvme_identify: Option<IdentifyController>,
    /// What was done.
    pub sanitization: Sanitization,
    /// The Sanitize Status log after completion (NVMe Sanitize only).
    pub sanitize_log: Option<SanitizeStatus>,
    /// How the result was checked.
    pub verification: Verification,
}

/// Tool name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `tractorsec`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostIdentity {
    /// Host name.
    pub hostname: Option<String>,
    /// `/etc/machine-id`.
    pub machine_id: Option<String>,
    /// Kernel boot id.
    pub boot_id: Option<String>,
}

/// The person performing the sanitization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// `--operator`, else the login behind sudo, else the user.
    pub name: String,
    /// Effective uid.
    pub uid: u32,
}

/// The sanitization performed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sanitization {
    /// Method.
    pub method: Method,
    /// What it does, in a sentence.
    pub description: String,
    /// Clear or Purge.
    pub category: Category,
    /// [`STANDARD`].
    pub standard: String,
    /// The NVMe admin command sent (NVMe methods).
    pub command: Option<CommandRecord>,
    /// The host writes (host methods).
    pub writes: Option<WriteRecord>,
    /// Seconds the erase itself took.
    pub seconds: f64,
}

/// An NVMe admin command, every dword in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRecord {
    /// Admin opcode (`0x84`).
    pub opcode: String,
    /// Namespace id.
    pub nsid: String,
    /// CDW10–CDW15.
    pub cdw10: String,
    /// CDW11.
    pub cdw11: String,
    /// CDW12.
    pub cdw12: String,
    /// CDW13.
    pub cdw13: String,
    /// CDW14.
    pub cdw14: String,
    /// CDW15.
    pub cdw15: String,
    /// Timeout given to the kernel, ms (0 = default).
    pub timeout_ms: u32,
}

impl From<&AdminCommand> for CommandRecord {
    fn from(c: &AdminCommand) -> Self {
        let h = |v: u32| format!("0x{v:08x}");
        Self {
            opcode: format!("0x{:02x}", c.opcode),
            nsid: h(c.nsid),
            cdw10: h(c.cdw10),
            cdw11: h(c.cdw11),
            cdw12: h(c.cdw12),
            cdw13: h(c.cdw13),
            cdw14: h(c.cdw14),
            cdw15: h(c.cdw15),
            timeout_ms: c.timeout_ms,
        }
    }
}

/// Host writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteRecord {
    /// `zeros` or `pattern`.
    pub fill: String,
    /// The pattern, when one was written.
    pub pattern: Option<PatternRecord>,
    /// Passes over the device.
    pub passes: u32,
    /// Bytes written.
    pub bytes: u64,
    /// Bytes per write.
    pub chunk_bytes: u32,
    /// Writes in flight at once.
    pub queue_depth: u32,
    /// Whether `O_DIRECT` was used.
    pub direct_io: bool,
}

/// The overwrite pattern, enough to check every byte independently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternRecord {
    /// Bytes per unit (4096).
    pub unit_bytes: u32,
    /// What the first 8 bytes of each unit hold.
    pub stamp: String,
    /// Seed of the filler (hex).
    pub filler_seed: String,
    /// SHA-256 of the filler bytes (the rest of every unit).
    pub filler_sha256: String,
}

/// Why a certificate file is not one.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// Not JSON of the right shape.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Another format or version.
    #[error("{file}: format {found:?} is not {FORMAT:?}")]
    Format {
        /// The file.
        file: String,
        /// What it says.
        found: String,
    },
}

impl Certificate {
    /// Whether the erase ran and verification passed.
    #[must_use]
    pub fn erased(&self) -> bool {
        self.result == "erased" && self.verification.passed()
    }

    /// Parse a certificate, naming `file` and the line of any error.
    pub fn parse(bytes: &[u8], file: &str) -> Result<Self, CertificateError> {
        let cert: Self = serde_json::from_slice(bytes).map_err(|e| CertificateError::Parse {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if cert.format != FORMAT {
            return Err(CertificateError::Format {
                file: file.to_string(),
                found: cert.format,
            });
        }
        Ok(cert)
    }

    /// The certificate as pretty JSON with a final newline (deterministic:
    /// fields in declaration order).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
