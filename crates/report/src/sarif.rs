//! SARIF 2.1.0: one rule per control, one result per failing (or waived)
//! control, errors as tool notifications.

use crate::model::Report;
use serde::Serialize;
use std::collections::HashMap;
use tractorsec_facts::Host;
use tractorsec_policy::{Control, Finding, PerfLevel, Profile, SectionSummary, Severity, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    original_uri_base_ids: BaseIds,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    semantic_version: &'a str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Help>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_configuration: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RuleProperties<'a>>,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    tags: [&'a str; 2],
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    #[serde(rename = "perf-impact")]
    perf_impact: PerfLevel,
    #[serde(rename = "perf-note")]
    perf_note: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    partial_fingerprints: Fingerprints<'a>,
    properties: ResultProperties<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
struct BaseIds {
    #[serde(rename = "ROOT")]
    root: ArtifactLocation,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "tractorsecControl/v1")]
    control: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    fix: &'a str,
    reboot_needed: bool,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    start_time_utc: &'a str,
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification<'a> {
    level: &'static str,
    message: Message,
    associated_rule: RuleRef<'a>,
}

#[derive(Serialize)]
struct RuleRef<'a> {
    id: &'a str,
    index: usize,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    profile: &'a crate::model::ReportProfile,
    host: &'a Option<Host>,
    summary: &'a SectionSummary,
}

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

fn help(control: &Control) -> Help {
    let mut text = format!("{}\n\nFix: {}", control.rationale, control.fix.hint);
    let mut markdown = format!("{}\n\n**Fix:** {}", control.rationale, control.fix.hint);
    if control.fix.reboot {
        text.push_str(" (reboot needed)");
        markdown.push_str(" *(reboot needed)*");
    }
    if !control.references.is_empty() {
        text.push_str("\n\nReferences:");
        markdown.push_str("\n\n**References:**");
        for r in &control.references {
            for out in [&mut text, &mut markdown] {
                out.push_str("\n- ");
                out.push_str(r);
            }
        }
    }
    Help { text, markdown }
}

fn rule<'a>(finding: &'a Finding, control: Option<&'a Control>) -> Rule<'a> {
    let Some(control) = control else {
        return Rule {
            id: &finding.id,
            name: &finding.id,
            short_description: Text {
                text: &finding.title,
            },
            full_description: None,
            help: None,
            help_uri: None,
            default_configuration: None,
            properties: None,
        };
    };
    Rule {
        id: &control.id,
        name: &control.id,
        short_description: Text {
            text: &control.title,
        },
        full_description: Some(Text {
            text: &control.rationale,
        }),
        help: Some(help(control)),
        help_uri: control
            .references
            .iter()
            .find(|r| r.starts_with("https://"))
            .map(String::as_str),
        default_configuration: Some(Level {
            level: level(control.severity),
        }),
        properties: Some(RuleProperties {
            tags: ["security", control.section.as_str()],
            precision: "very-high",
            problem_severity: level(control.severity),
            security_severity: security_severity(control.severity),
            perf_impact: control.perf.level,
            perf_note: &control.perf.note,
        }),
    }
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

fn result(finding: &Finding, rule_index: usize) -> SarifResult<'_> {
    SarifResult {
        rule_id: &finding.id,
        rule_index,
        kind: "fail",
        level: level(finding.severity),
        message: Message {
            text: format!(
                "{}: observed {}; expected {}",
                finding.title, finding.observed, finding.expected
            ),
        },
        locations: finding
            .evidence
            .iter()
            .filter_map(|path| path.strip_prefix('/'))
            .map(|rel| Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation {
                        uri: percent_encode_path(rel),
                        uri_base_id: Some("ROOT"),
                    },
                },
            })
            .collect(),
        partial_fingerprints: Fingerprints {
            control: &finding.id,
        },
        properties: ResultProperties {
            fix: &finding.fix,
            reboot_needed: finding.reboot_needed,
        },
        suppressions: finding
            .waiver
            .iter()
            .filter(|w| !w.expired)
            .map(|w| Suppression {
                kind: "external",
                status: "accepted",
                justification: format!("{} (owner {}, until {})", w.reason, w.owner, w.expires),
            })
            .collect(),
    }
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
        rules.push(rule(finding, controls.get(finding.id.as_str()).copied()));
        match finding.status {
            Status::Fail | Status::Waived => results.push(result(finding, index)),
            Status::Error => notifications.push(Notification {
                level: "error",
                message: Message {
                    text: format!(
                        "{} could not be evaluated: {}",
                        finding.id, finding.observed
                    ),
                },
                associated_rule: RuleRef {
                    id: &finding.id,
                    index,
                },
            }),
            Status::Pass | Status::NotApplicable => {}
        }
    }
    let root = report.root.trim_end_matches('/');
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "tractorsec",
                    version: &report.tool_version,
                    semantic_version: &report.tool_version,
                    rules,
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                start_time_utc: &report.collected_at,
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: BaseIds {
                root: ArtifactLocation {
                    uri: format!("file://{}/", percent_encode_path(root)),
                    uri_base_id: None,
                },
            },
            results,
            properties: RunProperties {
                profile: &report.profile,
                host: &report.host,
                summary: &report.summary.total,
            },
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
