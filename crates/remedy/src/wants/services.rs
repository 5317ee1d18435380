//! Service settings: sshd and journald keywords, systemd units, audit rules.

use super::values::{Shape, value_for};
use super::{Derived, Fix};
use crate::Want;
use tractorsec_facts::text::Glob;
use tractorsec_facts::{Facts, Systemd, UnitState};
use tractorsec_policy::Matcher;

/// `Key value` in the sshd drop-in. Keywords that need a site value (a CA
/// key, a key command) have no value in the matcher and are manual.
pub(super) fn sshd(facts: &Facts, key: &str, expect: &Matcher) -> Derived {
    let current = facts
        .sshd
        .ok()
        .and_then(|s| s.settings.get(&key.to_ascii_lowercase()))
        .map(|v| v.value.to_ascii_lowercase());
    let value = value_for(expect, current.as_deref(), Shape::WORD)
        .ok()
        .flatten()
        .ok_or_else(|| format!("set `{key}` in sshd_config to a site-specific value ({expect})"))?;
    Ok(Fix::now(vec![Want::Sshd {
        key: key.to_string(),
        value,
    }]))
}

/// `Key=value` under `[Journal]` in the journald drop-in.
pub(super) fn journald(facts: &Facts, key: &str, expect: &Matcher) -> Derived {
    let current = facts
        .journald
        .ok()
        .and_then(|j| j.settings.get(key))
        .map(|v| v.to_ascii_lowercase());
    let value = value_for(expect, current.as_deref(), Shape::WORD)
        .map_err(|e| format!("journald {key}: {e}"))?
        .ok_or_else(|| format!("journald {key}: no value to set"))?;
    Ok(Fix::now(vec![Want::Journald {
        key: key.to_string(),
        value,
    }]))
}

fn systemd(facts: &Facts) -> Result<&Systemd, String> {
    facts
        .systemd
        .get()
        .map_err(|e| format!("systemd units unreadable: {e}"))
}

fn is_service_like(name: &str) -> bool {
    name.ends_with(".service") || name.ends_with(".socket") || name.ends_with(".timer")
}

/// `MaskUnit` for every enabled service, socket or timer not allowed.
pub(super) fn allowed(facts: &Facts, allowed: &[String]) -> Derived {
    let sd = systemd(facts)?;
    let globs: Vec<Glob> = allowed.iter().map(|a| Glob::new(a)).collect();
    let wants = sd
        .units
        .iter()
        .filter(|(n, u)| u.state == UnitState::Enabled && is_service_like(n))
        .filter(|(n, _)| !globs.iter().any(|g| g.matches(n)))
        .map(|(n, _)| Want::MaskUnit { unit: n.clone() })
        .collect();
    Ok(Fix::now(wants))
}

/// `MaskUnit` for every listed unit enabled or running; a running one keeps
/// running until the next boot (masking does not stop it).
pub(super) fn denied(facts: &Facts, units: &[String]) -> Derived {
    let sd = systemd(facts)?;
    let mut fix = Fix::now(Vec::new());
    for (name, unit) in units.iter().filter_map(|n| sd.units.get(n).map(|u| (n, u))) {
        let running = unit.active == Some(true);
        if unit.state == UnitState::Enabled || running {
            fix.wants.push(Want::MaskUnit { unit: name.clone() });
            fix.reboot |= running;
        }
    }
    Ok(fix)
}

/// The target that pulls in a unit of this kind when nothing else says.
fn default_target(unit: &str) -> &'static str {
    if unit.ends_with(".socket") {
        "sockets.target"
    } else if unit.ends_with(".timer") {
        "timers.target"
    } else {
        "multi-user.target"
    }
}

/// `EnableUnit` for the first candidate whose unit file is installed (and
/// not masked); none installed is manual.
pub(super) fn enabled_any(facts: &Facts, any_of: &[String]) -> Derived {
    let sd = systemd(facts)?;
    let installed = any_of.iter().find_map(|n| {
        let u = sd.units.get(n)?;
        let path = u.path.as_ref().filter(|_| u.state != UnitState::Masked)?;
        Some((n, u, path))
    });
    let Some((name, unit, path)) = installed else {
        return Err(format!(
            "install one of {} (none is installed, or it is masked)",
            any_of.join(", ")
        ));
    };
    let wanted_by = unit
        .wanted_by
        .first()
        .cloned()
        .unwrap_or_else(|| default_target(name).to_string());
    Ok(Fix::now(vec![Want::EnableUnit {
        unit: name.clone(),
        unit_path: path.clone(),
        wanted_by,
    }]))
}

/// Standard audit rules, each offered for the requirement patterns it meets.
pub(crate) const AUDIT_CATALOGUE: &[&str] = &[
    "-w /etc/passwd -p wa -k identity",
    "-w /etc/shadow -p wa -k identity",
    "-w /etc/group -p wa -k identity",
    "-w /etc/gshadow -p wa -k identity",
    "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules",
    "-w /usr/bin/kmod -p x -k modules",
    "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change",
    "-w /etc/localtime -p wa -k time-change",
];

/// For each required pattern no loaded rule meets, the catalogue rules that
/// meet it; a pattern no catalogue rule meets is manual.
pub(super) fn audit_rules(facts: &Facts, require: &[&str]) -> Derived {
    let loaded: &[String] = facts.audit.ok().map_or(&[], |a| a.rules.as_slice());
    let mut wants = Vec::new();
    let mut unmet = Vec::new();
    for pattern in require {
        let re = compile(pattern)?;
        if loaded.iter().any(|r| re.is_match(r)) {
            continue;
        }
        let lines: Vec<&&str> = AUDIT_CATALOGUE.iter().filter(|l| re.is_match(l)).collect();
        if lines.is_empty() {
            unmet.push(format!("/{pattern}/"));
        }
        for l in lines {
            let want = Want::AuditRule {
                line: l.to_string(),
            };
            if !wants.contains(&want) {
                wants.push(want);
            }
        }
    }
    if !unmet.is_empty() {
        return Err(format!(
            "write audit rules matching {} (no standard rule does)",
            unmet.join(", ")
        ));
    }
    Ok(Fix::now(wants))
}

/// The profile's patterns are compiled at load; they compile here again.
fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("bad audit rule pattern /{pattern}/: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{facts, m};
    use super::*;
    use tractorsec_facts::{Audit, Source, Unit};

    fn unit(path: Option<&str>, state: UnitState, active: Option<bool>) -> Unit {
        Unit {
            path: path.map(str::to_string),
            state,
            wanted_by: vec![],
            active,
            service: Default::default(),
        }
    }

    fn host(units: Vec<(&str, Unit)>) -> Facts {
        let mut f = facts();
        f.systemd = Source::Ok(Systemd {
            units: units.into_iter().map(|(n, u)| (n.to_string(), u)).collect(),
        });
        f
    }

    fn mask(u: &str) -> Want {
        Want::MaskUnit { unit: u.into() }
    }

    #[test]
    fn denied_units_enabled_or_running_are_masked() {
        let f = host(vec![
            (
                "avahi-daemon.service",
                unit(Some("/lib/a"), UnitState::Enabled, None),
            ),
            (
                "cups.service",
                unit(Some("/lib/c"), UnitState::Disabled, None),
            ),
            (
                "ModemManager.service",
                unit(Some("/lib/m"), UnitState::Disabled, Some(true)),
            ),
        ]);
        let denied_units = [
            "avahi-daemon.service".to_string(),
            "cups.service".into(),
            "squid.service".into(),
        ];
        let fix = denied(&f, &denied_units).unwrap();
        assert_eq!(fix.wants, vec![mask("avahi-daemon.service")]);
        assert!(!fix.reboot);
        let fix = denied(&f, &["ModemManager.service".to_string()]).unwrap();
        assert_eq!(fix.wants, vec![mask("ModemManager.service")]);
        assert!(fix.reboot, "masking does not stop a running unit");
    }

    #[test]
    fn enabled_units_outside_the_allow_list_are_masked() {
        let f = host(vec![
            (
                "ssh.service",
                unit(Some("/lib/s"), UnitState::Enabled, None),
            ),
            (
                "getty@tty1.service",
                unit(Some("/lib/g"), UnitState::Enabled, None),
            ),
            (
                "cron.service",
                unit(Some("/lib/c"), UnitState::Enabled, None),
            ),
            (
                "apt-daily.timer",
                unit(Some("/lib/t"), UnitState::Enabled, None),
            ),
            (
                "graphical.target",
                unit(Some("/lib/g"), UnitState::Enabled, None),
            ),
            (
                "docker.service",
                unit(Some("/lib/d"), UnitState::Disabled, None),
            ),
        ]);
        let fix = allowed(&f, &["ssh.service".to_string(), "getty@*".into()]).unwrap();
        assert_eq!(
            fix.wants,
            vec![mask("apt-daily.timer"), mask("cron.service")]
        );
    }

    #[test]
    fn the_first_installed_candidate_is_enabled() {
        let f = host(vec![
            ("chrony.service", unit(None, UnitState::Masked, None)),
            (
                "systemd-timesyncd.service",
                unit(
                    Some("/lib/systemd/system/systemd-timesyncd.service"),
                    UnitState::Disabled,
                    None,
                ),
            ),
        ]);
        let cands = [
            "chrony.service".to_string(),
            "ntp.service".into(),
            "systemd-timesyncd.service".into(),
        ];
        assert_eq!(
            enabled_any(&f, &cands).unwrap().wants,
            vec![Want::EnableUnit {
                unit: "systemd-timesyncd.service".into(),
                unit_path: "/lib/systemd/system/systemd-timesyncd.service".into(),
                wanted_by: "multi-user.target".into()
            }]
        );
        assert!(enabled_any(&f, &cands[..2]).is_err());
    }

    #[test]
    fn audit_rules_come_from_the_catalogue_for_unmet_patterns() {
        let mut f = facts();
        f.audit = Source::Ok(Audit {
            files: vec![],
            rules: vec!["-w /etc/passwd -p wa -k identity".into()],
        });
        let identity = [
            "(^|[ =])/etc/passwd( |$)",
            "(^|[ =])/etc/shadow( |$)",
            "(^|[ =])/etc/group( |$)",
            "(^|[ =])/etc/gshadow( |$)",
        ];
        let rule = |l: &str| Want::AuditRule { line: l.into() };
        assert_eq!(
            audit_rules(&f, &identity).unwrap().wants,
            vec![
                rule("-w /etc/shadow -p wa -k identity"),
                rule("-w /etc/group -p wa -k identity"),
                rule("-w /etc/gshadow -p wa -k identity"),
            ]
        );
        let modules =
            ["(init_module|finit_module|delete_module|/s?bin/(insmod|modprobe|rmmod)|/bin/kmod)"];
        assert_eq!(
            audit_rules(&f, &modules).unwrap().wants,
            vec![
                rule(
                    "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules"
                ),
                rule("-w /usr/bin/kmod -p x -k modules"),
            ]
        );
        let time = ["(adjtimex|settimeofday|clock_settime)", "/etc/localtime"];
        assert_eq!(audit_rules(&f, &time).unwrap().wants.len(), 2);
        assert!(audit_rules(&f, &["-S mount"]).is_err());
    }

    #[test]
    fn sshd_and_journald_words() {
        let f = facts();
        let no = sshd(&f, "PasswordAuthentication", &m(r#"{"equals": false}"#)).unwrap();
        assert_eq!(
            no.wants,
            vec![Want::Sshd {
                key: "PasswordAuthentication".into(),
                value: "no".into()
            }]
        );
        let site = m(r#"{"all": ["present", {"not": {"equals": "none"}}]}"#);
        let err = sshd(&f, "TrustedUserCAKeys", &site).unwrap_err();
        assert!(err.contains("TrustedUserCAKeys"), "{err}");
        let seal = journald(&f, "Seal", &m(r#"{"equals": true}"#)).unwrap();
        assert_eq!(
            seal.wants,
            vec![Want::Journald {
                key: "Seal".into(),
                value: "yes".into()
            }]
        );
    }
}
