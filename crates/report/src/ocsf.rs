//! OCSF 1.5.0 Compliance Finding (class 2003) events, one JSON line per
//! control, for SIEMs.

use crate::model::Report;
use serde_json::{Value, json};
use tractorsec_facts::collect::time::parse_rfc3339;
use tractorsec_policy::{Finding, Severity, Status};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";

fn severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// (compliance status_id, status) and (finding status_id, status).
fn statuses(status: Status) -> ((u8, &'static str), (u8, &'static str)) {
    match status {
        Status::Pass => ((1, "Pass"), (4, "Resolved")),
        Status::Fail => ((3, "Fail"), (1, "New")),
        Status::Error => ((2, "Warning"), (1, "New")),
        Status::Waived => ((3, "Fail"), (3, "Suppressed")),
        Status::NotApplicable => ((99, "Not Applicable"), (99, "Not Applicable")),
    }
}

fn event(report: &Report, finding: &Finding, time_ms: i64, host_uid: &str, host: &Value) -> Value {
    let (severity_id, severity_name) = severity(finding.severity);
    let ((compliance_id, compliance_name), (status_id, status_name)) = statuses(finding.status);
    let mut event = json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "time": time_ms,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": status_id,
        "status": status_name,
        "message": format!("{} {}: {}", finding.id, finding.status.as_str(), finding.observed),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "tractorsec",
                "vendor_name": "tractorsec",
                "version": report.tool_version,
            },
            "profiles": ["host"],
            "log_name": "audit",
            "log_provider": "tractorsec",
        },
        "finding_info": {
            "uid": format!("{host_uid}/{}", finding.id),
            "title": finding.title,
            "desc": format!("observed {}; expected {}", finding.observed, finding.expected),
            "types": [finding.section.as_str()],
            "created_time": time_ms,
        },
        "compliance": {
            "standards": [format!("{} profile {}", report.profile.name, report.profile.hash)],
            "control": finding.id,
            "requirements": [finding.expected],
            "status_id": compliance_id,
            "status": compliance_name,
            "status_detail": finding.observed,
        },
        "remediation": {"desc": finding.fix},
        "resources": [host],
        "unmapped": {
            "evidence": finding.evidence,
            "reboot_needed": finding.reboot_needed,
            "fix_available": finding.fix_available,
            "perf_impact": finding.perf,
        },
    });
    if let Some(w) = &finding.waiver {
        event["unmapped"]["waiver"] = json!(w);
    }
    event
}

/// The report as OCSF JSON lines: one Compliance Finding per control.
pub fn render_ocsf(report: &Report) -> String {
    let time_ms = parse_rfc3339(&report.collected_at).unwrap_or(0) * 1000;
    let hostname = report.host.as_ref().and_then(|h| h.hostname.clone());
    let machine_id = report.host.as_ref().and_then(|h| h.machine_id.clone());
    let host_uid = machine_id
        .clone()
        .or_else(|| hostname.clone())
        .unwrap_or_else(|| "unknown".to_string());
    let mut host = json!({"type": "host", "uid": host_uid, "data": {"root": report.root}});
    if let Some(name) = &hostname {
        host["name"] = json!(name);
    }
    if let Some(os) = report.host.as_ref().and_then(|h| h.os_pretty_name.as_ref()) {
        host["data"]["os"] = json!(os);
    }
    let mut out = String::with_capacity(1200 * report.findings.len());
    for finding in &report.findings {
        let line = event(report, finding, time_ms, &host_uid, &host);
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    out
}
