//! What changed between two audits: controls that newly fail, controls
//! fixed, other status and observation changes, and (between snapshots)
//! the facts that changed.

use crate::model::Report;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use tractorsec_policy::{Finding, Severity, Status};

/// One side of a diff: which audit it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiffSide {
    /// Hostname, when known.
    pub hostname: Option<String>,
    /// When the facts were collected.
    pub collected_at: String,
    /// Profile name and content hash.
    pub profile: String,
}

/// A control whose verdict or observation changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlChange {
    /// Control id.
    pub id: String,
    /// Control title.
    pub title: String,
    /// Severity (of the newer side when both exist).
    pub severity: Severity,
    /// Verdict before (absent: the control is new).
    pub old_status: Option<Status>,
    /// Verdict after (absent: the control was removed).
    pub new_status: Option<Status>,
    /// Observation before.
    pub old_observed: Option<String>,
    /// Observation after.
    pub new_observed: Option<String>,
    /// What the control expects (newer side when both exist).
    pub expected: String,
}

/// A fact that changed between two snapshots (`old`/`new` absent when it
/// was added/removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FactChange {
    /// Dotted path into the snapshot; list members in `[…]`.
    pub path: String,
    /// Value before.
    pub old: Option<Value>,
    /// Value after.
    pub new: Option<Value>,
}

/// Everything that changed between two audits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditDiff {
    /// The older audit.
    pub old: DiffSide,
    /// The newer audit.
    pub new: DiffSide,
    /// Controls failing now that did not fail before.
    pub newly_failing: Vec<ControlChange>,
    /// Controls passing now that failed or errored before.
    pub fixed: Vec<ControlChange>,
    /// Every other change of verdict (errors, waivers, n/a, added or
    /// removed controls).
    pub status_changed: Vec<ControlChange>,
    /// Same verdict, different observation.
    pub observation_changed: Vec<ControlChange>,
    /// Facts that changed (only when both sides are snapshots).
    pub facts_changed: Vec<FactChange>,
}

impl AuditDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.newly_failing.is_empty()
            && self.fixed.is_empty()
            && self.status_changed.is_empty()
            && self.observation_changed.is_empty()
            && self.facts_changed.is_empty()
    }
}

fn side(report: &Report) -> DiffSide {
    DiffSide {
        hostname: report.host.as_ref().and_then(|h| h.hostname.clone()),
        collected_at: report.collected_at.clone(),
        profile: format!("{} {}", report.profile.name, report.profile.hash),
    }
}

fn change(old: Option<&Finding>, new: Option<&Finding>) -> Option<ControlChange> {
    let any = new.or(old)?;
    Some(ControlChange {
        id: any.id.clone(),
        title: any.title.clone(),
        severity: any.severity,
        old_status: old.map(|f| f.status),
        new_status: new.map(|f| f.status),
        old_observed: old.map(|f| f.observed.clone()),
        new_observed: new.map(|f| f.observed.clone()),
        expected: any.expected.clone(),
    })
}

/// Compare two reports; `facts` (old, new) adds the fact changes when both
/// sides are snapshots.
pub fn diff_reports(old: &Report, new: &Report, facts: Option<(&Value, &Value)>) -> AuditDiff {
    let before: HashMap<&str, &Finding> = old.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let after: HashMap<&str, &Finding> = new.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut diff = AuditDiff {
        old: side(old),
        new: side(new),
        newly_failing: Vec::new(),
        fixed: Vec::new(),
        status_changed: Vec::new(),
        observation_changed: Vec::new(),
        facts_changed: facts.map(|(a, b)| diff_facts(a, b)).unwrap_or_default(),
    };
    let removed = old
        .findings
        .iter()
        .filter(|f| !after.contains_key(f.id.as_str()))
        .map(|f| (None, Some(f)));
    let current = new
        .findings
        .iter()
        .map(|f| (Some(f), before.get(f.id.as_str()).copied()));
    for (now, was) in current.chain(removed) {
        let Some(c) = change(was, now) else { continue };
        let (was, now) = (c.old_status, c.new_status);
        let list = if was == now {
            if c.old_observed == c.new_observed {
                continue;
            }
            &mut diff.observation_changed
        } else {
            match (was, now) {
                (_, Some(Status::Fail)) => &mut diff.newly_failing,
                (Some(Status::Fail | Status::Error), Some(Status::Pass)) => &mut diff.fixed,
                _ => &mut diff.status_changed,
            }
        };
        list.push(c);
    }
    diff
}

/// Field names that identify a member of a list of objects.
const LIST_KEYS: [&str; 5] = ["name", "mount_point", "path", "user", "address"];

/// Flatten a JSON document into path → leaf. `ok` wrappers of fact sources
/// are elided; lists become sets, keyed by a natural id where their members
/// have a unique one, else by the member itself.
fn flatten(value: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("ok") => {
            flatten(&map["ok"], path, out);
        }
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten(v, &join(k), out)),
        Value::Array(items) => {
            let key = LIST_KEYS.into_iter().find(|k| {
                let ids: Option<BTreeSet<String>> = items.iter().map(|i| member_id(i, k)).collect();
                ids.is_some_and(|ids| ids.len() == items.len())
            });
            for item in items {
                match key.and_then(|k| member_id(item, k)) {
                    Some(id) => flatten(item, &format!("{path}[{id}]"), out),
                    None => {
                        out.insert(format!("{path}[{}]", compact(item)), Value::Bool(true));
                    }
                }
            }
        }
        leaf => {
            out.insert(path.to_string(), leaf.clone());
        }
    }
}

fn member_id(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The facts that differ between two snapshots (collection time excluded).
pub fn diff_facts(old: &Value, new: &Value) -> Vec<FactChange> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten(old, "", &mut a);
    flatten(new, "", &mut b);
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    paths
        .into_iter()
        .filter(|p| p.as_str() != "collected_at")
        .filter_map(|p| {
            let (was, now) = (a.get(p), b.get(p));
            (was != now).then(|| FactChange {
                path: p.clone(),
                old: was.cloned(),
                new: now.cloned(),
            })
        })
        .collect()
}

fn status_word(status: Option<Status>) -> &'static str {
    status.map_or("absent", Status::as_str)
}

fn control_lines(out: &mut String, heading: &str, changes: &[ControlChange]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{heading} ({}):", changes.len());
    for c in changes {
        let _ = writeln!(
            out,
            "  {:<8} {:<58} {} -> {}",
            c.severity.as_str(),
            c.id,
            status_word(c.old_status),
            status_word(c.new_status)
        );
        match (&c.old_observed, &c.new_observed) {
            (Some(was), Some(now)) if was != now => {
                let _ = writeln!(
                    out,
                    "           observed {now} (was {was}); expected {}",
                    c.expected
                );
            }
            (_, Some(now)) => {
                let _ = writeln!(out, "           observed {now}; expected {}", c.expected);
            }
            _ => {}
        }
    }
}

/// The diff as text for people.
pub fn render_diff_text(diff: &AuditDiff) -> String {
    let name = |s: &DiffSide| {
        format!(
            "{} at {} ({})",
            s.hostname.as_deref().unwrap_or("unknown host"),
            s.collected_at,
            s.profile
        )
    };
    let mut out = format!("old: {}\nnew: {}\n", name(&diff.old), name(&diff.new));
    if diff.is_empty() {
        out.push_str("\nno changes\n");
        return out;
    }
    control_lines(&mut out, "Newly failing", &diff.newly_failing);
    control_lines(&mut out, "Fixed", &diff.fixed);
    control_lines(&mut out, "Status changed", &diff.status_changed);
    control_lines(&mut out, "Observation changed", &diff.observation_changed);
    if !diff.facts_changed.is_empty() {
        let _ = writeln!(out, "\nFacts changed ({}):", diff.facts_changed.len());
        for f in &diff.facts_changed {
            let _ = match (&f.old, &f.new) {
                (None, Some(now)) => writeln!(out, "  + {} = {}", f.path, compact(now)),
                (Some(was), None) => writeln!(out, "  - {} = {}", f.path, compact(was)),
                (Some(was), Some(now)) => {
                    writeln!(out, "  ~ {}: {} -> {}", f.path, compact(was), compact(now))
                }
                (None, None) => Ok(()),
            };
        }
    }
    out
}

/// The diff as pretty JSON.
pub fn render_diff_json(diff: &AuditDiff) -> String {
    let mut s = serde_json::to_string_pretty(diff).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(findings: &[(&str, &str, &str)]) -> Report {
        let findings: Vec<Value> = findings
            .iter()
            .map(|(id, status, observed)| {
                json!({"id": id, "title": "t", "section": "kernel", "severity": "high",
                       "status": status, "observed": observed, "expected": "e", "evidence": [],
                       "perf": {"level": "none", "note": ""}, "fix": "f",
                       "fix_available": false, "reboot_needed": false})
            })
            .collect();
        let counts = json!({"pass": 0, "fail": 0, "not_applicable": 0, "error": 0, "waived": 0, "score": 0.0});
        serde_json::from_value(json!({
            "schema_version": 1, "tool_version": "0", "host": null, "root": "/",
            "collected_at": "2026-12-04T00:00:00Z", "privileged": true, "runtime": true,
            "profile": {"name": "p", "hash": "h", "overrides": {}}, "evaluated_on": "2026-12-04",
            "summary": {"total": counts, "sections": {}}, "fact_gaps": [], "findings": findings,
        }))
        .expect("report")
    }

    fn ids(changes: &[ControlChange]) -> Vec<&str> {
        changes.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn verdict_changes_are_classified() {
        let old = report(&[
            ("a", "pass", "1"),
            ("b", "fail", "0"),
            ("c", "error", "unreadable"),
            ("d", "fail", "x"),
            ("e", "pass", "1"),
            ("gone", "pass", "1"),
        ]);
        let new = report(&[
            ("a", "fail", "0"),
            ("b", "pass", "1"),
            ("c", "pass", "1"),
            ("d", "waived", "x"),
            ("e", "pass", "2"),
            ("new", "fail", "0"),
        ]);
        let diff = diff_reports(&old, &new, None);
        assert_eq!(ids(&diff.newly_failing), ["a", "new"]);
        assert_eq!(ids(&diff.fixed), ["b", "c"]);
        assert_eq!(ids(&diff.status_changed), ["d", "gone"]);
        assert_eq!(ids(&diff.observation_changed), ["e"]);
        assert_eq!(diff.status_changed[1].new_status, None);
        assert!(diff_reports(&new, &new, None).is_empty());
    }

    #[test]
    fn facts_are_compared_by_path_with_lists_as_keyed_sets() {
        let old = json!({"collected_at": "1", "accounts": {"ok": {"users": [
            {"name": "root", "shell": "/bin/bash"}, {"name": "ops", "shell": "/bin/bash"}]}},
            "modules": {"ok": ["a", "b"]}});
        let new = json!({"collected_at": "2", "accounts": {"ok": {"users": [
            {"name": "ops", "shell": "/usr/sbin/nologin"}, {"name": "root", "shell": "/bin/bash"}]}},
            "modules": {"ok": ["b", "c"]}});
        let changes: Vec<(String, Option<Value>, Option<Value>)> = diff_facts(&old, &new)
            .into_iter()
            .map(|c| (c.path, c.old, c.new))
            .collect();
        assert_eq!(
            changes,
            [
                (
                    "accounts.users[ops].shell".to_string(),
                    Some(json!("/bin/bash")),
                    Some(json!("/usr/sbin/nologin"))
                ),
                ("modules[a]".to_string(), Some(json!(true)), None),
                ("modules[c]".to_string(), None, Some(json!(true))),
            ]
        );
    }
}
