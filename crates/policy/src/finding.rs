//! Findings: the verdict on each control, and their summary.

use crate::profile::{PerfImpact, Section, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The verdict on one control.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The control holds.
    Pass,
    /// The control does not hold.
    Fail,
    /// The control does not apply here (the reason is the observation).
    NotApplicable,
    /// The control could not be evaluated (its input could not be read).
    Error,
    /// The control failed but a valid waiver accepts it.
    Waived,
}

impl Status {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotApplicable => "not_applicable",
            Status::Error => "error",
            Status::Waived => "waived",
        }
    }
}

/// The waiver that was applied to (or expired on) a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedWaiver {
    /// Why the risk is accepted.
    pub reason: String,
    /// Who owns the risk.
    pub owner: String,
    /// Last day it is valid (`YYYY-MM-DD`).
    pub expires: String,
    /// Whether it had expired at evaluation time.
    pub expired: bool,
}

/// The verdict on one control with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// Control id.
    pub id: String,
    /// Control title.
    pub title: String,
    /// Seed section.
    pub section: Section,
    /// Severity.
    pub severity: Severity,
    /// Verdict.
    pub status: Status,
    /// What was observed (or why N/A / error).
    pub observed: String,
    /// What was expected.
    pub expected: String,
    /// Files read to decide.
    pub evidence: Vec<String>,
    /// Performance impact of the control.
    pub perf: PerfImpact,
    /// How to fix it.
    pub fix: String,
    /// Whether `tractorsec apply` can fix it.
    pub fix_available: bool,
    /// Whether the fix needs a reboot.
    pub reboot_needed: bool,
    /// The waiver considered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
}

/// Counts per status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SectionSummary {
    /// Passing controls.
    pub pass: usize,
    /// Failing controls.
    pub fail: usize,
    /// Not applicable.
    pub not_applicable: usize,
    /// Could not be evaluated.
    pub error: usize,
    /// Waived.
    pub waived: usize,
    /// pass / (pass + fail + error), in percent; 100 when nothing applied.
    pub score: f64,
}

impl SectionSummary {
    fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::Error => self.error += 1,
            Status::Waived => self.waived += 1,
        }
    }

    fn finish(&mut self) {
        let judged = self.pass + self.fail + self.error;
        self.score = if judged == 0 {
            100.0
        } else {
            (1000.0 * self.pass as f64 / judged as f64).round() / 10.0
        };
    }
}

/// Counts overall and per section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// All controls.
    pub total: SectionSummary,
    /// Per seed section.
    pub sections: BTreeMap<Section, SectionSummary>,
}

/// Every finding of one evaluation, in profile order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Findings {
    /// Profile name.
    pub profile: String,
    /// Profile content hash.
    pub profile_hash: String,
    /// The date waivers were judged against (`YYYY-MM-DD`).
    pub evaluated_on: String,
    /// Summary counts.
    pub summary: Summary,
    /// One finding per control.
    pub findings: Vec<Finding>,
}

impl Findings {
    /// Build from findings, computing the summary.
    pub fn new(
        profile: &str,
        profile_hash: &str,
        evaluated_on: &str,
        findings: Vec<Finding>,
    ) -> Findings {
        let mut summary = Summary::default();
        for section in Section::ALL {
            summary.sections.insert(section, SectionSummary::default());
        }
        for f in &findings {
            summary.total.add(f.status);
            summary.sections.entry(f.section).or_default().add(f.status);
        }
        summary.total.finish();
        summary
            .sections
            .values_mut()
            .for_each(SectionSummary::finish);
        Findings {
            profile: profile.to_string(),
            profile_hash: profile_hash.to_string(),
            evaluated_on: evaluated_on.to_string(),
            summary,
            findings,
        }
    }

    /// True when a control failed at or above `severity`.
    pub fn fails_at(&self, severity: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == Status::Fail && f.severity >= severity)
    }
}
