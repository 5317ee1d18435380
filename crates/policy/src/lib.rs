//! Profiles of controls, typed checks, waivers, and the pure evaluation
//! `evaluate(&Profile, &Facts) -> Findings`.

pub mod check;
mod evaluate;
mod finding;
mod matcher;
mod profile;
mod waiver;

pub use check::Check;
pub use evaluate::{evaluate, evaluate_with};
pub use finding::{AppliedWaiver, Finding, Findings, SectionSummary, Status, Summary};
pub use matcher::{Matcher, Scalar, Subject};
pub use profile::{
    BUILTIN_PROFILES, Control, Fix, PerfImpact, PerfLevel, Profile, ProfileError, Section, Severity,
};
pub use waiver::{Waiver, WaiverError, Waivers};
