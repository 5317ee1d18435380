//! Prometheus text exposition 0.0.4, for the node_exporter textfile
//! collector or any scrape. Labels are bounded (control, section, severity,
//! status); host identity comes from the scrape target, never a label.

use crate::model::Report;
use std::fmt::Write;
use tractorsec_facts::collect::time::parse_rfc3339;
use tractorsec_policy::{SectionSummary, Status};

/// A label value escaped per the exposition format.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn pass_ratio(s: &SectionSummary) -> f64 {
    let judged = s.pass + s.fail + s.error;
    if judged == 0 {
        1.0
    } else {
        s.pass as f64 / judged as f64
    }
}

/// The report as Prometheus metrics. `scan_seconds` is how long the audit
/// took (collect and evaluate).
pub fn render_prometheus(report: &Report, scan_seconds: f64) -> String {
    let mut out = String::with_capacity(120 * report.findings.len() + 2048);
    family(
        &mut out,
        "tractorsec_build_info",
        "tractorsec version and the profile audited against (always 1).",
    );
    let _ = writeln!(
        out,
        "tractorsec_build_info{{version=\"{}\",profile=\"{}\"}} 1",
        label(&report.tool_version),
        label(&report.profile.name)
    );
    family(
        &mut out,
        "tractorsec_control_status",
        "Whether a control holds: 1 pass, 0 fail. Waived, errored and not-applicable controls are counted in tractorsec_controls.",
    );
    for f in &report.findings {
        let value = match f.status {
            Status::Pass => 1,
            Status::Fail => 0,
            Status::Waived | Status::Error | Status::NotApplicable => continue,
        };
        let _ = writeln!(
            out,
            "tractorsec_control_status{{control=\"{}\",section=\"{}\",severity=\"{}\"}} {value}",
            label(&f.id),
            f.section.as_str(),
            f.severity.as_str()
        );
    }
    family(
        &mut out,
        "tractorsec_controls",
        "Controls per section and status.",
    );
    for (section, s) in &report.summary.sections {
        for (status, n) in [
            (Status::Pass, s.pass),
            (Status::Fail, s.fail),
            (Status::Error, s.error),
            (Status::Waived, s.waived),
            (Status::NotApplicable, s.not_applicable),
        ] {
            let _ = writeln!(
                out,
                "tractorsec_controls{{section=\"{}\",status=\"{}\"}} {n}",
                section.as_str(),
                status.as_str()
            );
        }
    }
    family(
        &mut out,
        "tractorsec_section_pass_ratio",
        "Passing controls over judged ones (pass, fail, error) per section; 1 when none applied.",
    );
    for (section, s) in &report.summary.sections {
        let _ = writeln!(
            out,
            "tractorsec_section_pass_ratio{{section=\"{}\"}} {}",
            section.as_str(),
            pass_ratio(s)
        );
    }
    family(
        &mut out,
        "tractorsec_fact_gaps",
        "Fact sources that could not be read (permission denied, unreadable, malformed).",
    );
    let _ = writeln!(out, "tractorsec_fact_gaps {}", report.fact_gaps.len());
    family(
        &mut out,
        "tractorsec_last_scan_timestamp_seconds",
        "When the facts of the last audit were collected (Unix time).",
    );
    let _ = writeln!(
        out,
        "tractorsec_last_scan_timestamp_seconds {}",
        parse_rfc3339(&report.collected_at).unwrap_or(0)
    );
    family(
        &mut out,
        "tractorsec_scan_duration_seconds",
        "How long the last audit took to collect and evaluate.",
    );
    let _ = writeln!(out, "tractorsec_scan_duration_seconds {scan_seconds:.6}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
