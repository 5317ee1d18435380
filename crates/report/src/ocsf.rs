//! OCSF 1.5.0 Compliance Finding (class 2003) events, one JSON line per
//! control, for SIEMs.

use crate::model::Report;
use serde::Serialize;
use tractorsec_facts::collect::time::parse_rfc3339;
use tractorsec_policy::{AppliedWaiver, Finding, PerfImpact, Severity, Status};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";

#[derive(Serialize)]
struct Event<'a> {
    activity_id: u8,
    activity_name: &'static str,
    category_uid: u8,
    category_name: &'static str,
    class_uid: u16,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    time: i64,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    message: String,
    metadata: Metadata<'a>,
    finding_info: FindingInfo<'a>,
    compliance: Compliance<'a>,
    remediation: Remediation<'a>,
    resources: [&'a Resource<'a>; 1],
    unmapped: Unmapped<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    product: Product<'a>,
    profiles: [&'static str; 1],
    log_name: &'static str,
    log_provider: &'static str,
}

#[derive(Serialize)]
struct Product<'a> {
    name: &'static str,
    vendor_name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: String,
    title: &'a str,
    desc: String,
    types: [&'static str; 1],
    created_time: i64,
}

#[derive(Serialize)]
struct Compliance<'a> {
    standards: [&'a str; 1],
    control: &'a str,
    requirements: [&'a str; 1],
    status_id: u8,
    status: &'static str,
    status_detail: &'a str,
}

#[derive(Serialize)]
struct Remediation<'a> {
    desc: &'a str,
}

/// The audited host as an OCSF resource.
#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    uid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    data: ResourceData<'a>,
}

#[derive(Serialize)]
struct ResourceData<'a> {
    root: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<&'a str>,
}

#[derive(Serialize)]
struct Unmapped<'a> {
    evidence: &'a [String],
    reboot_needed: bool,
    fix_available: bool,
    perf_impact: &'a PerfImpact,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a AppliedWaiver>,
}

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

fn event<'a>(
    report: &'a Report,
    finding: &'a Finding,
    time: i64,
    standard: &'a str,
    host: &'a Resource<'a>,
) -> Event<'a> {
    let (severity_id, severity_name) = severity(finding.severity);
    let ((compliance_id, compliance_name), (status_id, status_name)) = statuses(finding.status);
    Event {
        activity_id: 1,
        activity_name: "Create",
        category_uid: 2,
        category_name: "Findings",
        class_uid: 2003,
        class_name: "Compliance Finding",
        type_uid: 200_301,
        type_name: "Compliance Finding: Create",
        time,
        severity_id,
        severity: severity_name,
        status_id,
        status: status_name,
        message: format!(
            "{} {}: {}",
            finding.id,
            finding.status.as_str(),
            finding.observed
        ),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "tractorsec",
                vendor_name: "tractorsec",
                version: &report.tool_version,
            },
            profiles: ["host"],
            log_name: "audit",
            log_provider: "tractorsec",
        },
        finding_info: FindingInfo {
            uid: format!("{}/{}", host.uid, finding.id),
            title: &finding.title,
            desc: format!(
                "observed {}; expected {}",
                finding.observed, finding.expected
            ),
            types: [finding.section.as_str()],
            created_time: time,
        },
        compliance: Compliance {
            standards: [standard],
            control: &finding.id,
            requirements: [&finding.expected],
            status_id: compliance_id,
            status: compliance_name,
            status_detail: &finding.observed,
        },
        remediation: Remediation { desc: &finding.fix },
        resources: [host],
        unmapped: Unmapped {
            evidence: &finding.evidence,
            reboot_needed: finding.reboot_needed,
            fix_available: finding.fix_available,
            perf_impact: &finding.perf,
            waiver: finding.waiver.as_ref(),
        },
    }
}

/// The report as OCSF JSON lines: one Compliance Finding per control.
pub fn render_ocsf(report: &Report) -> String {
    let time = parse_rfc3339(&report.collected_at).unwrap_or(0) * 1000;
    let host = report.host.as_ref();
    let hostname = host.and_then(|h| h.hostname.as_deref());
    let resource = Resource {
        kind: "host",
        uid: host
            .and_then(|h| h.machine_id.as_deref())
            .or(hostname)
            .unwrap_or("unknown"),
        name: hostname,
        data: ResourceData {
            root: &report.root,
            os: host.and_then(|h| h.os_pretty_name.as_deref()),
        },
    };
    let standard = format!("{} profile {}", report.profile.name, report.profile.hash);
    let mut out = String::with_capacity(1700 * report.findings.len());
    for finding in &report.findings {
        let line = event(report, finding, time, &standard, &resource);
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    out
}
