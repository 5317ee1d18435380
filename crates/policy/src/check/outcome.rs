//! The result of evaluating one check, and how results combine.

use crate::finding::Status;
use crate::matcher::{Matcher, Subject};
use crate::profile::Profile;
use tractorsec_facts::{FactError, FactErrorKind, Facts};

/// What a check sees: the facts and the profile being evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The snapshot.
    pub facts: &'a Facts,
    /// The profile (for checks that look at other controls or its hash).
    pub profile: &'a Profile,
}

/// The verdict of one check with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Pass, fail, not applicable or error (never waived).
    pub status: Status,
    /// What was observed.
    pub observed: String,
    /// What was expected.
    pub expected: String,
    /// Files read to decide.
    pub evidence: Vec<String>,
}

impl Outcome {
    /// A verdict from a boolean.
    pub fn verdict(
        ok: bool,
        observed: impl Into<String>,
        expected: impl Into<String>,
        evidence: Vec<String>,
    ) -> Outcome {
        Outcome {
            status: if ok { Status::Pass } else { Status::Fail },
            observed: observed.into(),
            expected: expected.into(),
            evidence,
        }
    }

    /// Not applicable, with the reason as the observation.
    pub fn not_applicable(reason: impl Into<String>, evidence: Vec<String>) -> Outcome {
        Outcome {
            status: Status::NotApplicable,
            observed: reason.into(),
            expected: String::new(),
            evidence,
        }
    }

    /// Could not be evaluated, with the reason as the observation.
    pub fn error(reason: impl Into<String>, evidence: Vec<String>) -> Outcome {
        Outcome {
            status: Status::Error,
            observed: reason.into(),
            expected: String::new(),
            evidence,
        }
    }

    /// A fact source is missing: not applicable when it does not exist or the
    /// root is offline, an error when it exists but could not be read.
    pub fn missing(err: &FactError) -> Outcome {
        match err.kind {
            FactErrorKind::NotPresent | FactErrorKind::Offline => {
                Outcome::not_applicable(err.to_string(), vec![err.path.clone()])
            }
            _ => Outcome::error(err.to_string(), vec![err.path.clone()]),
        }
    }

    /// A fact source that every system has is missing: an error unless the
    /// root is offline.
    pub fn missing_required(err: &FactError) -> Outcome {
        match err.kind {
            FactErrorKind::Offline => {
                Outcome::not_applicable(err.to_string(), vec![err.path.clone()])
            }
            _ => Outcome::error(err.to_string(), vec![err.path.clone()]),
        }
    }

    /// Judge a subject with a matcher.
    pub fn judge(
        expect: &Matcher,
        subject: Subject<'_>,
        observed: impl Into<String>,
        evidence: Vec<String>,
    ) -> Outcome {
        match expect.matches(subject) {
            Ok(ok) => Outcome::verdict(ok, observed, expect.to_string(), evidence),
            Err(e) => Outcome::error(e, evidence),
        }
    }

    /// Pass when nothing is wrong (observing `clean`), else fail listing the
    /// problems after `label` (a dozen at most, then a count).
    pub fn problems(
        problems: &[String],
        clean: impl Into<String>,
        label: &str,
        expected: impl Into<String>,
        evidence: Vec<String>,
    ) -> Outcome {
        let observed = match (problems.is_empty(), label) {
            (true, _) => clean.into(),
            (false, "") => list_some(problems, 12),
            (false, label) => format!("{label}: {}", list_some(problems, 12)),
        };
        Outcome::verdict(problems.is_empty(), observed, expected, evidence)
    }

    /// Name what the expectation is about (`kernel.kptr_restrict = 2`).
    pub fn about(mut self, subject: &str, sep: &str) -> Outcome {
        if !self.expected.is_empty() {
            self.expected = format!("{subject}{sep}{}", self.expected);
        }
        self
    }

    /// Every outcome holds: fail beats error beats pass; all N/A is N/A.
    pub fn all(parts: Vec<Outcome>) -> Outcome {
        Outcome::combine(parts, "and", &[Status::Fail, Status::Error, Status::Pass])
    }

    /// One outcome holds: pass beats error beats fail; all N/A is N/A.
    pub fn any(parts: Vec<Outcome>) -> Outcome {
        Outcome::combine(parts, "or", &[Status::Pass, Status::Error, Status::Fail])
    }

    fn combine(parts: Vec<Outcome>, word: &str, precedence: &[Status]) -> Outcome {
        let status = precedence
            .iter()
            .copied()
            .find(|s| parts.iter().any(|p| p.status == *s))
            .unwrap_or(Status::NotApplicable);
        let mut evidence: Vec<String> = parts.iter().flat_map(|p| p.evidence.clone()).collect();
        evidence.sort();
        evidence.dedup();
        let observed: Vec<&str> = parts
            .iter()
            .map(|p| p.observed.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        let expected: Vec<&str> = parts
            .iter()
            .map(|p| p.expected.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        Outcome {
            status,
            observed: observed.join("; "),
            expected: expected.join(&format!(" {word} ")),
            evidence,
        }
    }

    /// Swap pass and fail; N/A and error stay.
    pub fn negate(mut self) -> Outcome {
        self.status = match self.status {
            Status::Pass => Status::Fail,
            Status::Fail => Status::Pass,
            other => other,
        };
        self.expected = format!("not ({})", self.expected);
        self
    }
}

/// A list of at most `max` items, then "and N more".
pub fn list_some(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!(
            "{}, and {} more",
            items[..max].join(", "),
            items.len() - max
        )
    }
}
