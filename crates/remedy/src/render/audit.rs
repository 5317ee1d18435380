//! `/etc/audit/rules.d/60-tractorsec.rules`: the rules, merged with those
//! the file holds, deduplicated (whitespace-insensitively) and in a stable
//! order: control options (`-D`, `-b`, `-f`, `--…`) first, then `never`
//! rules (the kernel stops at the first matching rule, so exclusions must
//! come before the rules they exclude from), then the other rules, then
//! `-e`; sorted within each group. (augenrules moves the last `-D`, `-b`,
//! `-f` and `-e` of all files to their places anyway.)

use std::collections::BTreeSet;

use super::{ReadRoot, RenderError, bad, check_line, numbered, owned_file};
use crate::{Change, Want};

/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/audit/rules.d/60-tractorsec.rules";

/// The rules file for the audit rule wants.
pub(super) fn render(wants: &[Want], root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut rules = BTreeSet::new();
    for want in wants {
        if let Want::AuditRule { line } = want {
            check_line(PATH, "audit rule", line, true)?;
            let rule = normalise(line);
            if !rule.starts_with('-') {
                return Err(bad(
                    PATH,
                    "audit rule",
                    line,
                    "a rule starts with an option",
                ));
            }
            rules.insert((group(&rule), rule));
        }
    }
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    for (n, line) in numbered(&root.read(PATH).unwrap_or_default()) {
        let rule = normalise(line);
        if rule.is_empty() || rule.starts_with('#') {
            continue;
        }
        if !rule.starts_with('-') {
            return Err(RenderError::Line {
                path: PATH.into(),
                line: n,
                reason: "not an audit rule".into(),
            });
        }
        rules.insert((group(&rule), rule));
    }
    let body: String = rules.iter().map(|(_, rule)| format!("{rule}\n")).collect();
    Ok(vec![owned_file(PATH, &body)])
}

/// A rule with its words separated by single spaces.
fn normalise(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The group a rule sorts in.
fn group(rule: &str) -> u8 {
    let mut words = rule.split_whitespace();
    let option = words.next().unwrap_or_default();
    match option {
        "-e" => 3,
        "-a" | "-A"
            if words
                .next()
                .is_some_and(|list| list.split(',').any(|w| w == "never")) =>
        {
            1
        }
        "-a" | "-A" | "-w" | "-W" => 2,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, root};

    fn rule(line: &str) -> Want {
        Want::AuditRule { line: line.into() }
    }

    #[test]
    fn grouped_sorted_deduplicated_merged() {
        let r = root(&[(PATH, "# old\n-w /etc/shadow -p wa -k identity\n-e 2\n")]);
        let wants = [
            rule("-w /etc/passwd  -p wa -k identity"),
            rule("-a always,exit -F arch=b64 -S init_module -k modules"),
            rule("-w /etc/passwd -p wa -k identity"),
            rule("-a never,exit -F exe=/usr/bin/containerd"),
            rule("-b 8192"),
        ];
        let changes = render(&wants, &r).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}-b 8192\n-a never,exit -F exe=/usr/bin/containerd\n\
                 -a always,exit -F arch=b64 -S init_module -k modules\n\
                 -w /etc/passwd -p wa -k identity\n-w /etc/shadow -p wa -k identity\n-e 2\n"
            )
        );
        assert_eq!(render(&wants, &applied(r, &changes)).unwrap(), changes);
    }

    #[test]
    fn refuses_non_rules() {
        let err = render(&[rule("rm -rf /")], &root(&[])).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
        let err = render(&[rule("-w /a\n-e 0")], &root(&[])).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
    }
}
