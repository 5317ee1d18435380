//! Kernel settings: sysctl, command line, modules, lockdown, LSMs, PTI.

use super::values::{Shape, value_for};
use super::{Derived, Fix};
use crate::Want;
use std::collections::BTreeSet;
use tractorsec_facts::{Cmdline, Facts};
use tractorsec_policy::check::{Context, ModuleRef, ModuleState, module_state};
use tractorsec_policy::{Matcher, Subject};

/// `key = value` from the matcher. Keys the check must not persist (read-only
/// state, values set late in boot such as `kernel.modules_disabled`) and keys
/// this kernel does not have are manual.
pub(super) fn sysctl(facts: &Facts, key: &str, expect: &Matcher, persist: bool) -> Derived {
    if !persist {
        return Err(format!(
            "{key} cannot be set by a sysctl.d drop-in (read-only, or it must be set late in boot)"
        ));
    }
    let live = facts.sysctl.ok();
    let current = live.and_then(|s| s.values.get(key)).map(String::as_str);
    if let Some(s) = live
        && current.is_none()
        && !s.unreadable.contains_key(key)
    {
        return Err(format!("{key} does not exist on this kernel"));
    }
    let value = value_for(expect, current, Shape::VALUE)
        .map_err(|e| format!("{key}: {e}"))?
        .ok_or_else(|| format!("{key}: no value to set"))?;
    Ok(Fix::now(vec![Want::Sysctl {
        key: key.to_string(),
        value,
    }]))
}

/// A `Sysctl` want for every key the profile's enabled controls manage that
/// is compliant live but not persisted as compliant (the same walk as the
/// check). The live value is persisted as it is; without live state, the
/// value follows from the matcher.
pub(super) fn sysctl_persisted(ctx: &Context<'_>) -> Derived {
    let persisted = ctx
        .facts
        .sysctl_persisted
        .get()
        .map_err(|e| format!("persisted sysctl configuration unreadable: {e}"))?;
    let live = ctx.facts.sysctl.ok();
    let mut seen = BTreeSet::new();
    let mut wants = Vec::new();
    for control in ctx.profile.controls.iter().filter(|c| c.enabled) {
        for (key, expect) in control.check.persisted_sysctls() {
            if !seen.insert(key) {
                continue;
            }
            let live_value = match live {
                Some(live) => {
                    let Some(value) = live.values.get(key) else {
                        continue;
                    };
                    if expect.matches(Subject::Scalar(Some(value))) != Ok(true) {
                        continue; // the live control fixes it, persisted too
                    }
                    Some(value.clone())
                }
                None => None,
            };
            let entry = persisted.entry(key);
            if entry.is_some_and(|e| expect.matches(Subject::Scalar(Some(&e.value))) == Ok(true)) {
                continue;
            }
            let value = match live_value {
                Some(v) => v,
                None => value_for(expect, None, Shape::VALUE)
                    .ok()
                    .flatten()
                    .ok_or_else(|| format!("{key}: no value follows from `{expect}`"))?,
            };
            wants.push(Want::Sysctl {
                key: key.to_string(),
                value,
            });
        }
    }
    if wants.is_empty() {
        return Err("no hardened sysctl value left to persist".into());
    }
    Ok(Fix::now(wants))
}

/// The command line the kernel booted with (or will boot with offline).
pub(super) fn cmdline_of(facts: &Facts) -> Result<&Cmdline, String> {
    let c = facts
        .kernel
        .get()
        .map(|k| &k.cmdline)
        .map_err(|e| format!("kernel command line unreadable: {e}"))?;
    if c.source.is_empty() {
        return Err("no kernel command line to edit".into());
    }
    Ok(c)
}

/// The effective value of a parameter: the last occurrence, `""` for a flag.
fn param<'a>(c: &'a Cmdline, name: &str) -> Option<&'a str> {
    c.params
        .iter()
        .rev()
        .find(|p| p.name == name)
        .map(|p| p.value.as_deref().unwrap_or(""))
}

/// Set, flag or remove a parameter so that the matcher holds.
pub(super) fn cmdline(facts: &Facts, name: &str, expect: &Matcher) -> Derived {
    let c = cmdline_of(facts)?;
    let value = value_for(expect, param(c, name), Shape::CMDLINE)
        .map_err(|e| format!("kernel parameter {name}: {e}"))?;
    Ok(Fix::after_reboot(vec![Want::Cmdline {
        param: name.to_string(),
        value,
    }]))
}

/// `ModuleOff` for every module the check finds loaded or loadable; built-in
/// modules are manual. A loaded module stays loaded until the next boot.
pub(super) fn modules_disabled(facts: &Facts, modules: &[ModuleRef]) -> Derived {
    let modprobe = facts
        .modprobe
        .get()
        .map_err(|e| format!("modprobe configuration unreadable: {e}"))?;
    let mut wants = Vec::new();
    let mut reboot = false;
    let mut builtin = Vec::new();
    for m in modules {
        let module = m.name.replace('-', "_");
        match module_state(facts, modprobe, m) {
            ModuleState::NotBuilt | ModuleState::Disabled => {}
            ModuleState::BuiltIn => builtin.push(module),
            ModuleState::Loaded => {
                reboot = true;
                wants.push(Want::ModuleOff { module });
            }
            ModuleState::Redirected { .. }
            | ModuleState::Loadable { .. }
            | ModuleState::Unknown => wants.push(Want::ModuleOff { module }),
        }
    }
    if !builtin.is_empty() {
        return Err(format!(
            "{} built into the kernel: rebuild it with the module off",
            builtin.join(", ")
        ));
    }
    Ok(Fix { wants, reboot })
}

/// `lockdown=<mode>` on the command line; needs the lockdown LSM, which is
/// active when its mode can be read.
pub(super) fn lockdown(facts: &Facts, expect: &Matcher) -> Derived {
    facts.lockdown.get().map_err(|e| {
        format!("the lockdown LSM is not active ({e}): rebuild with CONFIG_SECURITY_LOCKDOWN_LSM=y")
    })?;
    cmdline_of(facts)?;
    let mode = value_for(expect, None, Shape::VALUE)
        .map_err(|e| format!("lockdown: {e}"))?
        .ok_or("lockdown: no mode to set")?;
    Ok(Fix::after_reboot(vec![Want::Cmdline {
        param: "lockdown".into(),
        value: Some(mode),
    }]))
}

/// LSMs in the order they are usually stacked, with their kconfig option.
const LSM_ORDER: &[(&str, &str)] = &[
    ("landlock", "SECURITY_LANDLOCK"),
    ("lockdown", "SECURITY_LOCKDOWN_LSM"),
    ("yama", "SECURITY_YAMA"),
    ("integrity", "INTEGRITY"),
    ("selinux", "SECURITY_SELINUX"),
    ("smack", "SECURITY_SMACK"),
    ("tomoyo", "SECURITY_TOMOYO"),
    ("apparmor", "SECURITY_APPARMOR"),
    ("safesetid", "SECURITY_SAFESETID"),
    ("loadpin", "SECURITY_LOADPIN"),
    ("ipe", "SECURITY_IPE"),
    ("bpf", "BPF_LSM"),
];

/// Whether the kernel has the LSM built (unknown config or LSM: assume so).
fn lsm_built(facts: &Facts, lsm: &str) -> bool {
    let Some(kc) = facts.kconfig.ok().filter(|k| !k.options.is_empty()) else {
        return true;
    };
    match LSM_ORDER.iter().find(|(n, _)| *n == lsm) {
        Some((_, option)) => kc.options.get(*option).is_some_and(|v| v == "y"),
        None => true,
    }
}

/// The LSMs to add so that a list matcher holds (`contains`, `all`, `any`).
fn lsms_needed(facts: &Facts, m: &Matcher, active: &[String]) -> Result<Vec<String>, String> {
    if m.matches(Subject::List(active)) == Ok(true) {
        return Ok(Vec::new());
    }
    match m {
        Matcher::Contains(w) if lsm_built(facts, w) => Ok(vec![w.clone()]),
        Matcher::Contains(w) => Err(format!("the {w} LSM is not built into this kernel")),
        Matcher::All(ms) => {
            let mut need = Vec::new();
            for m in ms {
                need.extend(lsms_needed(facts, m, active)?);
            }
            Ok(need)
        }
        Matcher::Any(ms) => {
            let mut why = Vec::new();
            for m in ms {
                match lsms_needed(facts, m, active) {
                    Ok(n) => return Ok(n),
                    Err(e) => why.push(e),
                }
            }
            Err(why.join(", and "))
        }
        other => Err(format!("no LSM list follows from `{other}`")),
    }
}

/// `lsm=` listing the active LSMs plus the missing required ones, in the
/// usual stacking order (capability is always first and implicit).
pub(super) fn lsm(facts: &Facts, expect: &Matcher) -> Derived {
    let active = facts
        .lsm
        .get()
        .map_err(|e| format!("active LSMs unreadable: {e}"))?;
    cmdline_of(facts)?;
    let need = lsms_needed(facts, expect, active)?;
    let mut list: Vec<String> = active
        .iter()
        .filter(|l| *l != "capability")
        .cloned()
        .collect();
    for n in need {
        if !list.contains(&n) {
            list.push(n);
        }
    }
    let rank = |l: &String| {
        LSM_ORDER
            .iter()
            .position(|(n, _)| n == l)
            .unwrap_or(LSM_ORDER.len())
    };
    list.sort_by_key(rank); // stable: unknown LSMs keep their order, last
    let mut with_cap = vec!["capability".to_string()];
    with_cap.extend(list.iter().cloned());
    if expect.matches(Subject::List(&with_cap)) != Ok(true) {
        return Err(format!("no LSM list satisfies `{expect}`"));
    }
    Ok(Fix::after_reboot(vec![Want::Cmdline {
        param: "lsm".into(),
        value: Some(list.join(",")),
    }]))
}

/// Meltdown: `pti=on`, and the parameters that override it (`nopti`,
/// `mitigations=off`) removed. Needs an x86 kernel built with PTI; other
/// vulnerabilities are manual.
pub(super) fn cpu_vulnerability(facts: &Facts, name: &str, _expect: &Matcher) -> Derived {
    if name != "meltdown" {
        return Err(format!("{name}: no command-line fix is known"));
    }
    let c = cmdline_of(facts)?;
    let x86 = facts
        .cpu
        .ok()
        .and_then(|c| c.vendor.as_deref())
        .is_some_and(|v| v == "GenuineIntel" || v == "AuthenticAMD");
    if !x86 {
        return Err("meltdown: page-table isolation by command line is known for x86 only".into());
    }
    if let Some(kc) = facts.kconfig.ok().filter(|k| !k.options.is_empty()) {
        let pti = ["MITIGATION_PAGE_TABLE_ISOLATION", "PAGE_TABLE_ISOLATION"]
            .iter()
            .find_map(|o| kc.options.get(*o));
        if pti.is_none_or(|v| v != "y") {
            return Err("the kernel is built without page-table isolation".into());
        }
    }
    let mut wants = vec![Want::Cmdline {
        param: "pti".into(),
        value: Some("on".into()),
    }];
    if param(c, "nopti").is_some() {
        wants.push(Want::Cmdline {
            param: "nopti".into(),
            value: None,
        });
    }
    if param(c, "mitigations") == Some("off") {
        wants.push(Want::Cmdline {
            param: "mitigations".into(),
            value: None,
        });
    }
    Ok(Fix::after_reboot(wants))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{facts, m};
    use super::*;
    use tractorsec_facts::{KConfig, Modprobe, ModprobeDirective, ModprobeKind, Source};

    fn kconfig(opts: &[(&str, &str)]) -> Source<KConfig> {
        Source::Ok(KConfig {
            source: "/boot/config".into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    fn module(name: &str, kconfig: &str) -> ModuleRef {
        ModuleRef {
            name: name.into(),
            kconfig: Some(kconfig.into()),
        }
    }

    fn off(m: &str) -> Want {
        Want::ModuleOff { module: m.into() }
    }

    #[test]
    fn modules_loaded_or_loadable_are_turned_off_and_loaded_ones_need_a_reboot() {
        let mut f = facts();
        f.kconfig = kconfig(&[
            ("MODULES", "y"),
            ("CRAMFS", "m"),
            ("UDF_FS", "m"),
            ("HFS_FS", "m"),
        ]);
        f.modules_loaded = Source::Ok(vec!["cramfs".into()]);
        f.modprobe = Source::Ok(Modprobe {
            files: vec![],
            directives: vec![
                ModprobeDirective {
                    kind: ModprobeKind::Install,
                    module: "hfs".into(),
                    args: "/bin/false".into(),
                    file: "/etc/modprobe.d/x.conf".into(),
                    line: 1,
                },
                ModprobeDirective {
                    kind: ModprobeKind::Blacklist,
                    module: "udf".into(),
                    args: String::new(),
                    file: "/etc/modprobe.d/x.conf".into(),
                    line: 2,
                },
            ],
        });
        let mods = [
            module("cramfs", "CRAMFS"),
            module("udf", "UDF_FS"),
            module("hfs", "HFS_FS"),
            module("jffs2", "JFFS2_FS"), // not built
        ];
        let fix = modules_disabled(&f, &mods).unwrap();
        assert_eq!(fix.wants, vec![off("cramfs"), off("udf")]);
        assert!(fix.reboot, "cramfs stays loaded until reboot");
        let fix = modules_disabled(&f, &mods[1..]).unwrap();
        assert_eq!(fix.wants, vec![off("udf")]);
        assert!(!fix.reboot);
        // Built in: no modprobe directive can help.
        f.kconfig = kconfig(&[("MODULES", "y"), ("UDF_FS", "y")]);
        assert!(modules_disabled(&f, &mods[1..2]).is_err());
    }

    /// A kernel booted with these command-line parameters.
    fn booted_with(params: &[(&str, Option<&str>)]) -> Source<tractorsec_facts::Kernel> {
        Source::Ok(tractorsec_facts::Kernel {
            release: None,
            cmdline: Cmdline {
                source: "/proc/cmdline".into(),
                raw: String::new(),
                params: params
                    .iter()
                    .map(|(name, value)| tractorsec_facts::CmdlineParam {
                        name: (*name).into(),
                        value: value.map(Into::into),
                    })
                    .collect(),
            },
        })
    }

    #[test]
    fn lsm_list_adds_the_missing_ones_in_stacking_order() {
        let mut f = facts();
        f.kernel = booted_with(&[]);
        f.lsm = Source::Ok(vec!["capability".into(), "lockdown".into(), "yama".into()]);
        let expect = m(
            r#"{"all": [{"any": [{"contains": "apparmor"}, {"contains": "selinux"}]}, {"contains": "yama"}, {"contains": "landlock"}]}"#,
        );
        let fix = lsm(&f, &expect).unwrap();
        assert_eq!(
            fix.wants,
            vec![Want::Cmdline {
                param: "lsm".into(),
                value: Some("landlock,lockdown,yama,apparmor".into())
            }]
        );
        assert!(fix.reboot);
        // AppArmor not built: SELinux is the alternative.
        f.kconfig = kconfig(&[
            ("SECURITY_SELINUX", "y"),
            ("SECURITY_LANDLOCK", "y"),
            ("SECURITY_YAMA", "y"),
        ]);
        let fix = lsm(&f, &expect).unwrap();
        assert_eq!(
            fix.wants,
            vec![Want::Cmdline {
                param: "lsm".into(),
                value: Some("landlock,lockdown,yama,selinux".into())
            }]
        );
        // Neither built: manual.
        f.kconfig = kconfig(&[("SECURITY_LANDLOCK", "y")]);
        assert!(lsm(&f, &expect).is_err());
    }

    #[test]
    fn meltdown_forces_pti_and_drops_what_overrides_it() {
        let mut f = facts();
        f.kernel = booted_with(&[("nopti", None), ("mitigations", Some("off"))]);
        f.cpu = Source::Ok(tractorsec_facts::Cpu {
            vendor: Some("GenuineIntel".into()),
            flags: vec![],
            vulnerabilities: Default::default(),
        });
        let expect = m(r#"{"regex": "^(Not affected|Mitigation)"}"#);
        let fix = cpu_vulnerability(&f, "meltdown", &expect).unwrap();
        assert_eq!(fix.wants.len(), 3);
        assert_eq!(
            fix.wants[0],
            Want::Cmdline {
                param: "pti".into(),
                value: Some("on".into())
            }
        );
        f.kconfig = kconfig(&[("X86", "y")]);
        assert!(cpu_vulnerability(&f, "meltdown", &expect).is_err());
        assert!(cpu_vulnerability(&f, "mds", &expect).is_err());
    }

    #[test]
    fn sysctl_missing_on_this_kernel_or_not_persistable_is_manual() {
        let mut f = facts();
        f.sysctl = Source::Ok(tractorsec_facts::Sysctl {
            values: [("kernel.kptr_restrict".to_string(), "0".to_string())]
                .into_iter()
                .collect(),
            unreadable: Default::default(),
        });
        let two = m(r#"{"equals": 2}"#);
        assert_eq!(
            sysctl(&f, "kernel.kptr_restrict", &two, true)
                .unwrap()
                .wants,
            vec![Want::Sysctl {
                key: "kernel.kptr_restrict".into(),
                value: "2".into()
            }]
        );
        assert!(sysctl(&f, "kernel.unprivileged_userns_clone", &two, true).is_err());
        assert!(sysctl(&f, "kernel.kptr_restrict", &two, false).is_err());
    }
}
