//! JUnit XML: one test suite per section, one test case per control.
//! Failures carry observed vs expected; waived and not-applicable controls
//! are skipped with the reason; controls that could not be evaluated are
//! errors.

use crate::escape::push_escaped;
use crate::model::Report;
use std::fmt::Write;
use tractorsec_policy::{Finding, Section, SectionSummary, Status};

/// `name="value"` with the value escaped.
fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    push_escaped(out, value);
    out.push('"');
}

fn counts(out: &mut String, s: &SectionSummary) {
    let tests = s.pass + s.fail + s.error + s.not_applicable + s.waived;
    let _ = write!(
        out,
        " tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\"",
        s.fail,
        s.error,
        s.not_applicable + s.waived
    );
}

fn skip_reason(finding: &Finding) -> String {
    match (&finding.status, &finding.waiver) {
        (Status::Waived, Some(w)) => format!(
            "waived: {} (owner {}, until {}); observed {}",
            w.reason, w.owner, w.expires, finding.observed
        ),
        _ => format!("not applicable: {}", finding.observed),
    }
}

fn testcase(out: &mut String, finding: &Finding) {
    out.push_str("    <testcase");
    attr(out, "name", &finding.id);
    attr(
        out,
        "classname",
        &format!("tractorsec.{}", finding.section.as_str()),
    );
    out.push_str(" time=\"0\"");
    let (tag, message) = match finding.status {
        Status::Pass => {
            out.push_str("/>\n");
            return;
        }
        Status::Fail => (
            "failure",
            format!(
                "observed {}; expected {}",
                finding.observed, finding.expected
            ),
        ),
        Status::Error => ("error", format!("could not evaluate: {}", finding.observed)),
        Status::Waived | Status::NotApplicable => ("skipped", skip_reason(finding)),
    };
    out.push_str(">\n      <");
    out.push_str(tag);
    attr(out, "message", &message);
    if tag == "skipped" {
        out.push_str("/>\n");
    } else {
        attr(out, "type", finding.severity.as_str());
        out.push('>');
        let mut body = format!(
            "{}\nseverity: {}\nobserved: {}\nexpected: {}\nfix: {}",
            finding.title, finding.severity, finding.observed, finding.expected, finding.fix
        );
        if finding.reboot_needed {
            body.push_str(" (reboot needed)");
        }
        if !finding.evidence.is_empty() {
            let _ = write!(body, "\nevidence: {}", finding.evidence.join(", "));
        }
        push_escaped(out, &body);
        let _ = writeln!(out, "</{tag}>");
    }
    out.push_str("    </testcase>\n");
}

/// The report as JUnit XML (the schema Jenkins, GitLab and pytest share).
pub fn render_junit(report: &Report) -> String {
    let mut out = String::with_capacity(256 * report.findings.len() + 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
    attr(
        &mut out,
        "name",
        &format!("tractorsec {}", report.profile.name),
    );
    counts(&mut out, &report.summary.total);
    out.push_str(">\n");
    let hostname = report
        .host
        .as_ref()
        .and_then(|h| h.hostname.as_deref())
        .unwrap_or("unknown");
    for section in Section::ALL {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.section == section)
            .collect();
        if findings.is_empty() {
            continue;
        }
        out.push_str("  <testsuite");
        attr(
            &mut out,
            "name",
            &format!("tractorsec.{}", section.as_str()),
        );
        if let Some(summary) = report.summary.sections.get(&section) {
            counts(&mut out, summary);
        }
        attr(
            &mut out,
            "timestamp",
            report.collected_at.trim_end_matches('Z'),
        );
        attr(&mut out, "hostname", hostname);
        out.push_str(">\n    <properties>\n");
        for (name, value) in [
            ("profile", report.profile.name.as_str()),
            ("profile_hash", report.profile.hash.as_str()),
            ("tool_version", report.tool_version.as_str()),
            ("root", report.root.as_str()),
        ] {
            out.push_str("      <property");
            attr(&mut out, "name", name);
            attr(&mut out, "value", value);
            out.push_str("/>\n");
        }
        out.push_str("    </properties>\n");
        for finding in findings {
            testcase(&mut out, finding);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
