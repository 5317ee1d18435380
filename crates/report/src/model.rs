use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tractorsec_facts::{FactError, Facts, Host};
use tractorsec_policy::{Finding, Findings, Summary};

/// Version of the JSON report format.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The profile a report was judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportProfile {
    /// Profile name.
    pub name: String,
    /// SHA-256 content hash of the profile texts.
    pub hash: String,
    /// Params overridden on the command line (name → TOML value).
    pub overrides: BTreeMap<String, String>,
}

/// A fact source that could not be collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FactGap {
    /// The source (field name of the snapshot).
    pub source: String,
    /// Why.
    pub error: FactError,
}

/// An audit report: who, what, when, against which profile, and the findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// tractorsec version that judged.
    pub tool_version: String,
    /// Host identity (absent when it could not be read).
    pub host: Option<Host>,
    /// Root directory collected.
    pub root: String,
    /// When the facts were collected (RFC 3339 UTC).
    pub collected_at: String,
    /// Whether the collector ran as root.
    pub privileged: bool,
    /// Whether runtime state was available.
    pub runtime: bool,
    /// Profile.
    pub profile: ReportProfile,
    /// Date waivers were judged against.
    pub evaluated_on: String,
    /// Counts overall and per section.
    pub summary: Summary,
    /// Sources that could not be read, other than those absent by nature.
    pub fact_gaps: Vec<FactGap>,
    /// One finding per control.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Assemble a report from a snapshot, the profile's overrides and the
    /// findings.
    pub fn new(facts: &Facts, overrides: BTreeMap<String, String>, findings: Findings) -> Report {
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            host: facts.host.ok().cloned(),
            root: facts.root.clone(),
            collected_at: facts.collected_at.clone(),
            privileged: facts.privileged,
            runtime: facts.runtime,
            profile: ReportProfile {
                name: findings.profile,
                hash: findings.profile_hash,
                overrides,
            },
            evaluated_on: findings.evaluated_on,
            summary: findings.summary,
            fact_gaps: fact_gaps(facts),
            findings: findings.findings,
        }
    }
}

/// Sources that could not be read for a reason other than being absent or
/// offline: what a non-root run misses.
pub fn fact_gaps(facts: &Facts) -> Vec<FactGap> {
    use tractorsec_facts::FactErrorKind::{Malformed, PermissionDenied, Unreadable};
    facts
        .errors()
        .into_iter()
        .filter(|(_, e)| matches!(e.kind, PermissionDenied | Unreadable | Malformed))
        .map(|(source, e)| FactGap {
            source: source.to_string(),
            error: e.clone(),
        })
        .collect()
}
