//! auditd rules as `augenrules` would load them.

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{Audit, Source};
use crate::root::{Root, join};

/// Rule fragments merged by `augenrules`.
pub const RULES_D: &str = "/etc/audit/rules.d";
/// The rules file `auditd` loads.
pub const AUDIT_RULES: &str = "/etc/audit/audit.rules";

/// The rules of one file: comments (`#`) and blank lines removed, lines
/// trimmed. Every other line is a rule, so this never fails; the `Result`
/// keeps the parser signature uniform.
pub fn parse(text: &str, _file: &str) -> Result<Vec<String>, ParseError> {
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Read the audit rules of the root: the `rules.d` fragments when there
/// are any, else `audit.rules`.
pub fn collect(root: &Root) -> Source<Audit> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Audit, FactError> {
    let mut fragments: Vec<String> = root
        .read_dir_optional(RULES_D)?
        .into_iter()
        .filter(|n| n.ends_with(".rules") && !n.starts_with('.'))
        .filter(|n| root.metadata(&join(RULES_D, n)).is_ok_and(|m| m.is_file()))
        .collect();
    fragments.sort_by(|a, b| crate::text::version_cmp(a, b));
    let files: Vec<String> = if fragments.is_empty() {
        if !root.exists(AUDIT_RULES) {
            return Err(FactError::new(
                FactErrorKind::NotPresent,
                AUDIT_RULES,
                "auditd rules not installed",
            ));
        }
        vec![AUDIT_RULES.to_string()]
    } else {
        fragments.iter().map(|n| join(RULES_D, n)).collect()
    };
    let mut rules = Vec::new();
    for file in &files {
        let text = root.read_to_string(file)?;
        rules.extend(parse(&text, file).map_err(|e| FactError::malformed(file, &e))?);
    }
    Ok(Audit { files, rules })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    const BASE: &str = "## First rule - delete all
-D

## Increase the buffers to survive stress events.
-b 8192

## This determine how long to wait in burst of events
--backlog_wait_time 60000

## Set failure mode to syslog
-f 1
";

    #[test]
    fn audit_rules_drop_comments_and_blanks() {
        let r = parse(BASE, "/etc/audit/rules.d/audit.rules").unwrap();
        assert_eq!(r, ["-D", "-b 8192", "--backlog_wait_time 60000", "-f 1"]);
    }

    #[test]
    fn audit_fragments_sort_like_ls_v() {
        let mut names = vec![
            "99-finalize.rules",
            "10-base-config.rules",
            "9-early.rules",
            "30-stig.rules",
        ];
        names.sort_by(|a, b| crate::text::version_cmp(a, b));
        assert_eq!(
            names,
            [
                "9-early.rules",
                "10-base-config.rules",
                "30-stig.rules",
                "99-finalize.rules"
            ]
        );
        assert_eq!(
            crate::text::version_cmp("a01", "a1"),
            std::cmp::Ordering::Equal
        );
        assert_eq!(
            crate::text::version_cmp("a", "a1"),
            std::cmp::Ordering::Less
        );
    }

    #[test]
    fn audit_prefers_rules_d_over_audit_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("etc/audit/rules.d");
        fs::create_dir_all(&d).unwrap();
        fs::write(tmp.path().join("etc/audit/audit.rules"), "-a never,task\n").unwrap();
        fs::write(d.join("10-base-config.rules"), BASE).unwrap();
        fs::write(d.join("99-finalize.rules"), "-e 2\n").unwrap();
        fs::write(d.join("README"), "-a always,exit\n").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let audit = collect(&root).ok().unwrap().clone();
        assert_eq!(
            audit.files,
            [
                "/etc/audit/rules.d/10-base-config.rules",
                "/etc/audit/rules.d/99-finalize.rules"
            ]
        );
        assert_eq!(audit.rules.last().unwrap(), "-e 2");
        assert_eq!(audit.rules.len(), 5);
    }

    #[test]
    fn audit_falls_back_to_audit_rules_then_not_present() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (FactErrorKind::NotPresent, "auditd rules not installed")
        );
        fs::create_dir_all(tmp.path().join("etc/audit/rules.d")).unwrap();
        fs::write(
            tmp.path().join("etc/audit/audit.rules"),
            "# x\n-a never,task\n",
        )
        .unwrap();
        let audit = collect(&root).ok().unwrap().clone();
        assert_eq!(audit.files, [AUDIT_RULES]);
        assert_eq!(audit.rules, ["-a never,task"]);
    }
}
