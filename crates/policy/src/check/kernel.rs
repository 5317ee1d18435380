//! Kernel checks: sysctl, kconfig, command line, modules, LSMs, CPU.

use super::ModuleRef;
use super::outcome::{Context, Outcome, list_some};
use crate::finding::Status;
use crate::matcher::{Matcher, Subject};
use tractorsec_facts::{Facts, Modprobe, ModprobeKind};

fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// Whether a kconfig option is off: `is not set`, or absent from the config.
fn kconfig_off(facts: &Facts, option: &str) -> Option<bool> {
    let kc = facts.kconfig.ok()?;
    Some(kc.options.get(option).is_none_or(|v| v == "n"))
}

pub(super) fn sysctl(facts: &Facts, key: &str, expect: &Matcher, kconfig: &[String]) -> Outcome {
    let evidence = vec![sysctl_path(key)];
    let sysctl = match facts.sysctl.get() {
        Ok(s) => s,
        Err(e) => return Outcome::missing_required(e),
    };
    if let Some(v) = sysctl.values.get(key) {
        return Outcome::judge(
            expect,
            Subject::Scalar(Some(v)),
            format!("{key} = {v}"),
            evidence,
        );
    }
    if let Some(why) = sysctl.unreadable.get(key) {
        return Outcome::error(format!("{key} could not be read: {why}"), evidence);
    }
    if let Some(off) = kconfig.iter().find(|o| kconfig_off(facts, o) == Some(true)) {
        return Outcome::not_applicable(
            format!("{key} does not exist: CONFIG_{off} is off, the feature is compiled out"),
            evidence,
        );
    }
    Outcome::judge(
        expect,
        Subject::Scalar(None),
        format!("{key} does not exist on this kernel"),
        evidence,
    )
    .about(key, " = ")
}

pub(super) fn sysctl_persisted(ctx: &Context<'_>) -> Outcome {
    let persisted = match ctx.facts.sysctl_persisted.get() {
        Ok(p) => p,
        Err(e) => return Outcome::missing_required(e),
    };
    let live = ctx.facts.sysctl.ok();
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut seen = std::collections::BTreeSet::new();
    let active = ctx.profile.controls.iter().filter(|c| c.enabled);
    for control in active {
        for (key, expect) in control.check.persisted_sysctls() {
            if !seen.insert(key) {
                continue;
            }
            if let Some(live) = live {
                let Some(value) = live.values.get(key) else {
                    continue;
                };
                if expect.matches(Subject::Scalar(Some(value))) != Ok(true) {
                    continue; // the live control reports it
                }
            }
            checked += 1;
            let entry = persisted.entry(key);
            match entry {
                Some(e) if expect.matches(Subject::Scalar(Some(&e.value))) == Ok(true) => {}
                Some(e) => missing.push(format!("{key} = {} ({}:{})", e.value, e.file, e.line)),
                None => missing.push(format!("{key} not persisted")),
            }
        }
    }
    let mut evidence = persisted.files.clone();
    evidence.truncate(50);
    if checked == 0 {
        return Outcome::not_applicable("no hardened sysctl value to persist", evidence);
    }
    let observed = if missing.is_empty() {
        format!("all {checked} hardened values persisted")
    } else {
        format!(
            "{} of {checked} not persisted as hardened: {}",
            missing.len(),
            list_some(&missing, 8)
        )
    };
    Outcome::verdict(
        missing.is_empty(),
        observed,
        "every hardened sysctl also set in sysctl.d",
        evidence,
    )
}

pub(super) fn kconfig(facts: &Facts, options: &[String], expect: &Matcher) -> Outcome {
    let kc = match facts.kconfig.get() {
        Ok(k) => k,
        Err(e) => return Outcome::missing_required(e),
    };
    let evidence = vec![kc.source.clone()];
    let chosen = options
        .iter()
        .find(|o| kc.options.contains_key(o.as_str()))
        .or(options.first());
    let Some(option) = chosen else {
        return Outcome::error("check names no kconfig option", evidence);
    };
    let value = kc.options.get(option).map(String::as_str);
    let observed = match value {
        Some("n") => format!("CONFIG_{option} is not set"),
        Some(v) => format!("CONFIG_{option}={v}"),
        None => format!("CONFIG_{option} absent"),
    };
    Outcome::judge(expect, Subject::Scalar(value), observed, evidence)
        .about(&format!("CONFIG_{option}"), " = ")
}

pub(super) fn cmdline(facts: &Facts, param: &str, expect: &Matcher) -> Outcome {
    let kernel = match facts.kernel.get() {
        Ok(k) => k,
        Err(e) => return Outcome::missing_required(e),
    };
    if kernel.cmdline.source.is_empty() {
        return Outcome::not_applicable(
            "no kernel command line: offline image without /etc/kernel/cmdline or /etc/default/grub",
            Vec::new(),
        );
    }
    let evidence = vec![kernel.cmdline.source.clone()];
    let value = kernel
        .cmdline
        .params
        .iter()
        .rev()
        .find(|p| p.name == param)
        .map(|p| p.value.as_deref().unwrap_or(""));
    let observed = match value {
        Some("") => format!("{param} present"),
        Some(v) => format!("{param}={v}"),
        None => format!("{param} absent"),
    };
    Outcome::judge(expect, Subject::Scalar(value), observed, evidence).about(param, ": ")
}

fn install_disables(command: &str) -> bool {
    let program = command.split_whitespace().next().unwrap_or("");
    matches!(
        program,
        "/bin/false" | "/bin/true" | "/usr/bin/false" | "/usr/bin/true" | "false" | "true"
    )
}

/// Whether a module can be loaded on this root, as `modules_disabled`
/// judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleState {
    /// Loaded now.
    Loaded,
    /// Not built at all (the kconfig option is `n` or absent).
    NotBuilt,
    /// Built into the kernel: no modprobe directive can stop it.
    BuiltIn,
    /// An `install` directive makes loading fail or do nothing.
    Disabled,
    /// An `install` directive runs something else (`args`, at `file:line`).
    Redirected {
        /// The install command.
        args: String,
        /// Where it is set.
        at: String,
    },
    /// Loadable; `blacklisted` when only a blacklist (which an explicit
    /// modprobe ignores) stands in the way.
    Loadable {
        /// Whether a `blacklist` line names it.
        blacklisted: bool,
    },
    /// The kernel config is unreadable, so whether it is built is unknown.
    Unknown,
}

/// The state of module `m` (name with `-` as `_`) on the root of `facts`.
pub fn module_state(facts: &Facts, modprobe: &Modprobe, m: &ModuleRef) -> ModuleState {
    let name = m.name.replace('-', "_");
    if facts.modules_loaded.ok().is_some_and(|l| l.contains(&name)) {
        return ModuleState::Loaded;
    }
    let kc = facts.kconfig.ok();
    let built = m
        .kconfig
        .as_ref()
        .and_then(|o| kc.map(|k| k.options.get(o.as_str()).map(String::as_str)));
    match built {
        Some(None) | Some(Some("n")) => return ModuleState::NotBuilt,
        Some(Some("y")) => return ModuleState::BuiltIn,
        _ => {}
    }
    let named = |kind: ModprobeKind| {
        modprobe
            .directives
            .iter()
            .find(|d| d.kind == kind && d.module == name)
    };
    match named(ModprobeKind::Install) {
        Some(d) if install_disables(&d.args) => ModuleState::Disabled,
        Some(d) => ModuleState::Redirected {
            args: d.args.clone(),
            at: format!("{}:{}", d.file, d.line),
        },
        None if kc.is_none() && m.kconfig.is_some() => ModuleState::Unknown,
        None => ModuleState::Loadable {
            blacklisted: named(ModprobeKind::Blacklist).is_some(),
        },
    }
}

pub(super) fn modules_disabled(facts: &Facts, modules: &[ModuleRef]) -> Outcome {
    let modprobe = match facts.modprobe.get() {
        Ok(m) => m,
        Err(e) => return Outcome::missing_required(e),
    };
    let mut evidence = modprobe.files.clone();
    if let Some(kc) = facts.kconfig.ok() {
        evidence.push(kc.source.clone());
        if kc.options.get("MODULES").is_none_or(|v| v == "n") && !kc.options.is_empty() {
            return Outcome::verdict(
                true,
                "CONFIG_MODULES is off: no module can be loaded",
                "modules not loadable",
                evidence,
            );
        }
    }
    let mut bad = Vec::new();
    let mut unknown = Vec::new();
    for m in modules {
        let name = m.name.replace('-', "_");
        match module_state(facts, modprobe, m) {
            ModuleState::NotBuilt | ModuleState::Disabled => {}
            ModuleState::Loaded => bad.push(format!("{name} is loaded")),
            ModuleState::BuiltIn => bad.push(format!("{name} is built into the kernel")),
            ModuleState::Redirected { args, at } => {
                bad.push(format!("{name}: install {args} ({at})"))
            }
            ModuleState::Unknown => unknown.push(name),
            ModuleState::Loadable { blacklisted } => bad.push(if blacklisted {
                format!("{name} only blacklisted (explicit modprobe still loads it)")
            } else {
                format!("{name} loadable")
            }),
        }
    }
    let names: Vec<String> = modules.iter().map(|m| m.name.clone()).collect();
    let expected = format!(
        "{} not loadable (install /bin/false, or not built)",
        names.join(", ")
    );
    if bad.is_empty() && !unknown.is_empty() {
        return Outcome::error(
            format!(
                "kernel config unreadable, cannot tell whether {} is built",
                unknown.join(", ")
            ),
            evidence,
        );
    }
    Outcome::problems(&bad, "all disabled", "", expected, evidence)
}

pub(super) fn lockdown(facts: &Facts, expect: &Matcher) -> Outcome {
    let evidence = vec!["/sys/kernel/security/lockdown".to_string()];
    match facts.lockdown.get() {
        Ok(mode) => Outcome::judge(
            expect,
            Subject::Scalar(Some(mode)),
            format!("lockdown [{mode}]"),
            evidence,
        ),
        Err(e) => Outcome::missing_required(e),
    }
}

pub(super) fn lsm(facts: &Facts, expect: &Matcher) -> Outcome {
    let evidence = vec!["/sys/kernel/security/lsm".to_string()];
    match facts.lsm.get() {
        Ok(list) => Outcome::judge(
            expect,
            Subject::List(list),
            format!("LSMs: {}", list.join(",")),
            evidence,
        ),
        Err(e) => Outcome::missing_required(e),
    }
}

pub(super) fn sig_enforce(facts: &Facts, expect: &Matcher) -> Outcome {
    let evidence = vec!["/sys/module/module/parameters/sig_enforce".to_string()];
    match facts.module_sig_enforce.get() {
        Ok(on) => {
            let v = if *on { "Y" } else { "N" };
            Outcome::judge(
                expect,
                Subject::Scalar(Some(v)),
                format!("sig_enforce={v}"),
                evidence,
            )
        }
        Err(e) => Outcome::missing(e),
    }
}

pub(super) fn cpu_flags(facts: &Facts, expect: &Matcher) -> Outcome {
    let evidence = vec!["/proc/cpuinfo".to_string()];
    match facts.cpu.get() {
        Ok(cpu) => Outcome::judge(
            expect,
            Subject::List(&cpu.flags),
            format!("{} CPU flags", cpu.flags.len()),
            evidence,
        ),
        Err(e) => Outcome::missing_required(e),
    }
}

const VULN_DIR: &str = "/sys/devices/system/cpu/vulnerabilities";

pub(super) fn cpu_vulnerability(facts: &Facts, name: Option<&str>, expect: &Matcher) -> Outcome {
    let cpu = match facts.cpu.get() {
        Ok(c) => c,
        Err(e) => return Outcome::missing_required(e),
    };
    if let Some(name) = name {
        let evidence = vec![format!("{VULN_DIR}/{name}")];
        let value = cpu.vulnerabilities.get(name).map(String::as_str);
        let observed = format!("{name}: {}", value.unwrap_or("absent"));
        return Outcome::judge(expect, Subject::Scalar(value), observed, evidence);
    }
    if cpu.vulnerabilities.is_empty() {
        return Outcome::error(
            format!("{VULN_DIR} is empty or unreadable"),
            vec![VULN_DIR.to_string()],
        );
    }
    let parts: Vec<Outcome> = cpu
        .vulnerabilities
        .iter()
        .map(|(n, v)| {
            Outcome::judge(
                expect,
                Subject::Scalar(Some(v)),
                format!("{n}: {v}"),
                vec![],
            )
        })
        .collect();
    let failing: Vec<String> = parts
        .iter()
        .filter(|p| p.status != Status::Pass)
        .map(|p| p.observed.clone())
        .collect();
    let mut combined = Outcome::all(parts);
    combined.evidence = vec![VULN_DIR.to_string()];
    combined.expected = format!("every file: {expect}");
    combined.observed = if failing.is_empty() {
        format!("{} files, none vulnerable", cpu.vulnerabilities.len())
    } else {
        list_some(&failing, 10)
    };
    combined
}
