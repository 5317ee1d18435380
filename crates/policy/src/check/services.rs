//! Service checks: sshd, systemd units, packages, listeners, sandboxing,
//! audit rules and journald.

use super::glob_match;
use super::outcome::{Outcome, list_some};
use crate::matcher::{Matcher, Pattern, Subject};
use tractorsec_facts::text::Glob;
use tractorsec_facts::{Facts, Systemd, UnitState};

pub(super) fn sshd(facts: &Facts, key: &str, default: Option<&str>, expect: &Matcher) -> Outcome {
    let sshd = match facts.sshd.get() {
        Ok(s) => s,
        Err(e) => return Outcome::missing(e),
    };
    let evidence = sshd.files.clone();
    let set = sshd.settings.get(&key.to_ascii_lowercase());
    let (value, origin) = match (set, default) {
        (Some(v), _) => (
            Some(v.value.to_ascii_lowercase()),
            format!("{}:{}", v.file, v.line),
        ),
        (None, Some(d)) => (Some(d.to_string()), "sshd default".to_string()),
        (None, None) => (None, "not set".to_string()),
    };
    let observed = format!("{key} {} ({origin})", value.as_deref().unwrap_or("unset"));
    Outcome::judge(
        expect,
        Subject::Scalar(value.as_deref()),
        observed,
        evidence,
    )
    .about(key, " ")
}

fn systemd(facts: &Facts) -> Result<&Systemd, Outcome> {
    facts.systemd.get().map_err(Outcome::missing_required)
}

const UNIT_DIRS: &str = "/etc/systemd/system";

fn is_service_like(name: &str) -> bool {
    name.ends_with(".service") || name.ends_with(".socket") || name.ends_with(".timer")
}

pub(super) fn allowed(facts: &Facts, allowed: &[String]) -> Outcome {
    let sd = match systemd(facts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let globs: Vec<Glob> = allowed.iter().map(|a| Glob::new(a)).collect();
    let bad: Vec<String> = sd
        .units
        .iter()
        .filter(|(n, u)| u.state == UnitState::Enabled && is_service_like(n))
        .filter(|(n, _)| !globs.iter().any(|g| g.matches(n)))
        .map(|(n, _)| n.clone())
        .collect();
    Outcome::problems(
        &bad,
        "every enabled unit is allowed",
        "not allowed",
        "enabled units within allowed_services",
        vec![UNIT_DIRS.into()],
    )
}

pub(super) fn denied(facts: &Facts, units: &[String]) -> Outcome {
    let sd = match systemd(facts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let bad: Vec<String> = units
        .iter()
        .filter_map(|n| sd.units.get(n).map(|u| (n, u)))
        .filter_map(|(n, u)| match (u.state, u.active) {
            (UnitState::Enabled, _) => Some(format!("{n} enabled")),
            (_, Some(true)) => Some(format!("{n} running")),
            _ => None,
        })
        .collect();
    Outcome::problems(
        &bad,
        "none enabled or running",
        "",
        "none enabled or running",
        vec![UNIT_DIRS.into()],
    )
}

pub(super) fn enabled_any(facts: &Facts, any_of: &[String]) -> Outcome {
    let sd = match systemd(facts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let on: Vec<&String> = any_of
        .iter()
        .filter(|n| {
            sd.units
                .get(*n)
                .is_some_and(|u| u.state == UnitState::Enabled)
        })
        .collect();
    let observed = match on.first() {
        Some(n) => format!("{n} enabled"),
        None => "none enabled".to_string(),
    };
    Outcome::verdict(
        !on.is_empty(),
        observed,
        format!("one of {} enabled", any_of.join(", ")),
        vec![UNIT_DIRS.into()],
    )
}

pub(super) fn packages_absent(facts: &Facts, names: &[String]) -> Outcome {
    let pkgs = match facts.packages.get() {
        Ok(p) => p,
        Err(e) => return Outcome::missing(e),
    };
    let globs: Vec<Glob> = names.iter().map(|n| Glob::new(n)).collect();
    let bad: Vec<String> = pkgs
        .installed
        .iter()
        .filter(|(n, _)| globs.iter().any(|g| g.matches(n)))
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    Outcome::problems(
        &bad,
        "none installed",
        "installed",
        format!("none of {}", names.join(", ")),
        vec![pkgs.source.clone()],
    )
}

fn is_loopback(address: &str) -> bool {
    address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.")
}

pub(super) fn listeners(facts: &Facts, allowed: &[String]) -> Outcome {
    let socks = match facts.listeners.get() {
        Ok(s) => s,
        Err(e) => return Outcome::missing_required(e),
    };
    let evidence = vec![
        "/proc/net/tcp".into(),
        "/proc/net/tcp6".into(),
        "/proc/net/udp".into(),
        "/proc/net/udp6".into(),
    ];
    let mut bad = Vec::new();
    let mut hidden = Vec::new();
    for l in socks.iter().filter(|l| !is_loopback(&l.address)) {
        let name = l.process.as_ref().map(|p| p.name.as_str());
        let ok = allowed.iter().any(|a| {
            let (port, proc_) = a.split_once('/').unwrap_or((a, "*"));
            (port == "*" || port == l.port.to_string())
                && (proc_ == "*" || name.is_some_and(|n| glob_match(proc_, n)))
        });
        if ok {
            continue;
        }
        let what = format!(
            "{} {}:{} ({})",
            l.protocol,
            l.address,
            l.port,
            name.unwrap_or("?")
        );
        if name.is_none() {
            hidden.push(what);
        } else {
            bad.push(what);
        }
    }
    let expected = "non-loopback listeners within allowed_listeners";
    if !bad.is_empty() {
        return Outcome::verdict(
            false,
            format!("not allowed: {}", list_some(&bad, 10)),
            expected,
            evidence,
        );
    }
    if !hidden.is_empty() {
        return Outcome::error(
            format!(
                "owning process not visible (run as root): {}",
                list_some(&hidden, 10)
            ),
            evidence,
        );
    }
    Outcome::verdict(
        true,
        "every non-loopback listener is allowed",
        expected,
        evidence,
    )
}

/// A test of a directive's (lower-cased) value.
type ValueTest = fn(&str) -> bool;

/// The sandboxing directives scored, each with a test of its value.
const SANDBOX: &[(&str, ValueTest)] = &[
    ("NoNewPrivileges", yes),
    ("ProtectSystem", |v| v == "strict"),
    ("ProtectHome", |v| {
        matches!(v, "yes" | "true" | "read-only" | "tmpfs")
    }),
    ("PrivateTmp", yes),
    ("PrivateDevices", yes),
    ("ProtectKernelTunables", yes),
    ("ProtectKernelModules", yes),
    ("ProtectKernelLogs", yes),
    ("ProtectControlGroups", yes),
    ("RestrictNamespaces", |v| {
        !v.is_empty() && v != "no" && v != "false"
    }),
    ("RestrictSUIDSGID", yes),
    ("CapabilityBoundingSet", |v| !v.is_empty()),
    ("SystemCallFilter", |v| !v.is_empty()),
];

fn yes(v: &str) -> bool {
    matches!(v, "yes" | "true" | "on" | "1")
}

pub(super) fn sandbox(facts: &Facts, units: &[String], min_score: u32) -> Outcome {
    let sd = match systemd(facts) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut evidence = Vec::new();
    let mut low = Vec::new();
    let mut scored = Vec::new();
    for name in units {
        let Some(unit) = sd.units.get(name) else {
            continue;
        };
        if let Some(p) = &unit.path {
            evidence.push(p.clone());
        }
        let get = |k: &str| {
            unit.service
                .get(k)
                .map(|v| v.to_ascii_lowercase())
                .unwrap_or_default()
        };
        let mut missing: Vec<&str> = SANDBOX
            .iter()
            .filter(|(k, test)| !test(&get(k)))
            .map(|(k, _)| *k)
            .collect();
        let user = get("User");
        if !(yes(&get("DynamicUser")) || (!user.is_empty() && user != "root" && user != "0")) {
            missing.push("User");
        }
        let total = SANDBOX.len() + 1;
        let score = (10 * (total - missing.len()) + total / 2) / total;
        scored.push(format!("{name} {score}/10"));
        if (score as u32) < min_score {
            low.push(format!(
                "{name} {score}/10 (missing {})",
                missing.join(", ")
            ));
        }
    }
    if scored.is_empty() {
        return Outcome::not_applicable(
            format!("none of {} is installed", units.join(", ")),
            vec![UNIT_DIRS.into()],
        );
    }
    let observed = if low.is_empty() {
        scored.join(", ")
    } else {
        list_some(&low, 6)
    };
    Outcome::verdict(
        low.is_empty(),
        observed,
        format!("sandbox score >= {min_score}/10"),
        evidence,
    )
}

pub(super) fn audit_rules(facts: &Facts, require: &[Pattern]) -> Outcome {
    let expected = format!(
        "audit rules matching {}",
        require
            .iter()
            .map(|p| format!("/{}/", p.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let audit = match facts.audit.get() {
        Ok(a) => a,
        Err(e) if e.kind == tractorsec_facts::FactErrorKind::NotPresent => {
            return Outcome::verdict(false, e.to_string(), expected, vec![e.path.clone()]);
        }
        Err(e) => return Outcome::missing_required(e),
    };
    let missing: Vec<String> = require
        .iter()
        .filter(|p| !audit.rules.iter().any(|r| p.is_match(r)))
        .map(|p| format!("/{}/", p.as_str()))
        .collect();
    let observed = if missing.is_empty() {
        format!("{} rules cover every requirement", audit.rules.len())
    } else {
        format!("no rule matches {}", missing.join(", "))
    };
    Outcome::verdict(missing.is_empty(), observed, expected, audit.files.clone())
}

pub(super) fn journald(
    facts: &Facts,
    key: &str,
    default: Option<&str>,
    expect: &Matcher,
) -> Outcome {
    let j = match facts.journald.get() {
        Ok(j) => j,
        Err(e) => return Outcome::missing(e),
    };
    let mut evidence = j.files.clone();
    let (mut value, origin) = match (j.settings.get(key), default) {
        (Some(v), _) => (Some(v.to_ascii_lowercase()), "configured"),
        (None, Some(d)) => (Some(d.to_string()), "journald default"),
        (None, None) => (None, "not set"),
    };
    let mut note = String::new();
    if key == "Storage" && value.as_deref() == Some("auto") {
        evidence.push("/var/log/journal".into());
        let effective = if j.var_log_journal {
            "persistent"
        } else {
            "volatile"
        };
        note = format!(", effectively {effective}");
        value = Some(effective.to_string());
    }
    let observed = format!(
        "{key}={} ({origin}{note})",
        value.as_deref().unwrap_or("unset")
    );
    Outcome::judge(
        expect,
        Subject::Scalar(value.as_deref()),
        observed,
        evidence,
    )
    .about(key, "=")
}
