//! SARIF 2.1.0: one rule per control, one result per failing (or waived)
//! control, errors as tool notifications.

use crate::model::Report;
use serde_json::{Value, json};
use std::collections::HashMap;
use tractorsec_policy::{Control, Finding, Profile, Severity, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF level for a failure of this severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The `security-severity` score GitHub code scanning sorts by.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule(control: &Control) -> Value {
    let mut help = format!("{}\n\nFix: {}", control.rationale, control.fix.hint);
    let mut markdown = format!("{}\n\n**Fix:** {}", control.rationale, control.fix.hint);
    if control.fix.reboot {
        help.push_str(" (reboot needed)");
        markdown.push_str(" *(reboot needed)*");
    }
    if !control.references.is_empty() {
        help.push_str("\n\nReferences:");
        markdown.push_str("\n\n**References:**");
        for r in &control.references {
            help.push_str(&format!("\n- {r}"));
            markdown.push_str(&format!("\n- {r}"));
        }
    }
    let mut rule = json!({
        "id": control.id,
        "name": control.id,
        "shortDescription": {"text": control.title},
        "fullDescription": {"text": control.rationale},
        "help": {"text": help, "markdown": markdown},
        "defaultConfiguration": {"level": level(control.severity)},
        "properties": {
            "tags": ["security", control.section.as_str()],
            "precision": "very-high",
            "problem.severity": level(control.severity),
            "security-severity": security_severity(control.severity),
            "perf-impact": control.perf.level,
            "perf-note": control.perf.note,
        }
    });
    if let Some(uri) = control
        .references
        .iter()
        .find(|r| r.starts_with("https://"))
    {
        rule["helpUri"] = json!(uri);
    }
    rule
}

fn locations(finding: &Finding) -> Vec<Value> {
    finding
        .evidence
        .iter()
        .filter_map(|path| path.strip_prefix('/'))
        .map(|rel| {
            json!({"physicalLocation": {"artifactLocation": {
                "uri": percent_encode_path(rel),
                "uriBaseId": "ROOT",
            }}})
        })
        .collect()
}

/// Percent-encode what a URI path may not hold verbatim.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn result(finding: &Finding, rule_index: usize) -> Value {
    let mut result = json!({
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level(finding.severity),
        "message": {"text": format!(
            "{}: observed {}; expected {}",
            finding.title, finding.observed, finding.expected
        )},
        "locations": locations(finding),
        "partialFingerprints": {"tractorsecControl/v1": finding.id},
        "properties": {"fix": finding.fix, "rebootNeeded": finding.reboot_needed},
    });
    if let Some(w) = finding.waiver.as_ref().filter(|w| !w.expired) {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (owner {}, until {})", w.reason, w.owner, w.expires),
        }]);
    }
    result
}

fn notification(finding: &Finding, rule_index: usize) -> Value {
    json!({
        "level": "error",
        "message": {"text": format!("{} could not be evaluated: {}", finding.id, finding.observed)},
        "associatedRule": {"id": finding.id, "index": rule_index},
    })
}

/// The report as a SARIF 2.1.0 log. Rules come from `profile` (help text,
/// references); findings whose control the profile lacks get a bare rule.
pub fn render_sarif(report: &Report, profile: &Profile) -> String {
    let controls: HashMap<&str, &Control> = profile
        .controls
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    let mut rules = Vec::with_capacity(report.findings.len());
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for (index, finding) in report.findings.iter().enumerate() {
        rules.push(match controls.get(finding.id.as_str()) {
            Some(control) => rule(control),
            None => json!({"id": finding.id, "shortDescription": {"text": finding.title}}),
        });
        match finding.status {
            Status::Fail | Status::Waived => results.push(result(finding, index)),
            Status::Error => notifications.push(notification(finding, index)),
            Status::Pass | Status::NotApplicable => {}
        }
    }
    let root = if report.root.ends_with('/') {
        report.root.clone()
    } else {
        format!("{}/", report.root)
    };
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tractorsec",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "startTimeUtc": report.collected_at,
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": {"ROOT": {"uri": format!("file://{}", percent_encode_path(&root))}},
            "results": results,
            "properties": {
                "profile": report.profile,
                "host": report.host,
                "summary": report.summary.total,
            },
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
