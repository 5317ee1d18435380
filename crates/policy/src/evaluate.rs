//! The pure evaluation of a profile over facts.

use crate::check::{Context, Outcome};
use crate::finding::{AppliedWaiver, Finding, Findings, Status};
use crate::profile::Profile;
use crate::waiver::Waivers;
use tractorsec_facts::Facts;

/// Evaluate every control with no waivers, dated today.
pub fn evaluate(profile: &Profile, facts: &Facts) -> Findings {
    evaluate_with(
        profile,
        facts,
        &Waivers::default(),
        &tractorsec_facts::collect::time::today(),
    )
}

/// Evaluate every control; waivers apply to failures and errors until their
/// expiry date (inclusive) compared with `today` (`YYYY-MM-DD`).
pub fn evaluate_with(profile: &Profile, facts: &Facts, waivers: &Waivers, today: &str) -> Findings {
    let ctx = Context { facts, profile };
    let findings = profile
        .controls
        .iter()
        .map(|control| {
            let outcome = if control.enabled {
                control.check.evaluate(&ctx)
            } else {
                Outcome::not_applicable("disabled by a profile parameter", Vec::new())
            };
            let mut status = outcome.status;
            let mut observed = outcome.observed;
            let waiver = waivers.find(&control.id).map(|w| AppliedWaiver {
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires.clone(),
                expired: w.expires.as_str() < today,
            });
            if let Some(w) = waiver
                .as_ref()
                .filter(|_| matches!(status, Status::Fail | Status::Error))
            {
                if w.expired {
                    status = Status::Fail;
                    observed = format!("{observed} (waiver expired {})", w.expires);
                } else {
                    status = Status::Waived;
                }
            }
            Finding {
                id: control.id.clone(),
                title: control.title.clone(),
                section: control.section,
                severity: control.severity,
                status,
                observed,
                expected: outcome.expected,
                evidence: outcome.evidence,
                perf: control.perf.clone(),
                fix: control.fix.hint.clone(),
                fix_available: control.fix.auto,
                reboot_needed: control.fix.reboot,
                waiver,
            }
        })
        .collect();
    Findings::new(&profile.name, &profile.hash, today, findings)
}
