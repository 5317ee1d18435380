//! What would fix a failing control: the [`Want`]s derived from its check,
//! or the instruction for a human when no safe automatic change exists.
//!
//! The check tree is walked; sub-checks are evaluated to find the failing
//! leaves, and each failing leaf is turned into settings by the rules of its
//! family (one module each). `All` fixes every failing child; `Any` picks the
//! first alternative fixable without a reboot, else the first fixable with
//! one; `Not` is never fixed automatically.

mod devices;
mod kernel;
mod platform;
mod services;
mod values;

use crate::Want;
use tractorsec_policy::check::{Check, Context};
use tractorsec_policy::{Control, Status};

/// How one failing control gets fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Settings that make it pass; `reboot` when they take effect only after
    /// a reboot or remount (kernel command line, fstab, driver options, a
    /// module or unit that stays loaded or running until then).
    Auto {
        /// The settings, in the order derived.
        wants: Vec<Want>,
        /// Whether the control passes only after a reboot (or remount).
        reboot: bool,
    },
    /// No safe automatic fix: the precise instruction for a human.
    Manual(String),
}

/// Settings derived from one (sub-)check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fix {
    wants: Vec<Want>,
    reboot: bool,
}

impl Fix {
    /// Settings that take effect at once.
    fn now(wants: Vec<Want>) -> Fix {
        Fix {
            wants,
            reboot: false,
        }
    }

    /// Settings that take effect after a reboot.
    fn after_reboot(wants: Vec<Want>) -> Fix {
        Fix {
            wants,
            reboot: true,
        }
    }
}

/// A fix, or why none can be derived (an instruction fragment).
pub(crate) type Derived = Result<Fix, String>;

/// The remedy for `control`, which failed when evaluated in `ctx`.
///
/// `Auto` only when every failing part of the check maps to settings that,
/// once applied, make the check pass; otherwise `Manual` with the reason and
/// the control's fix hint.
pub fn remedy_for(control: &Control, ctx: &Context<'_>) -> Remedy {
    let hint = control.fix.hint.trim();
    match derive(&control.check, ctx) {
        Ok(fix) if !fix.wants.is_empty() => {
            let mut wants = Vec::new();
            for w in fix.wants {
                if !wants.contains(&w) {
                    wants.push(w);
                }
            }
            Remedy::Auto {
                wants,
                reboot: fix.reboot,
            }
        }
        Ok(_) => Remedy::Manual(hint.to_string()),
        Err(reason) if reason.is_empty() || reason == hint => Remedy::Manual(hint.to_string()),
        Err(reason) if hint.is_empty() => Remedy::Manual(reason),
        Err(reason) => Remedy::Manual(format!("{reason}. {hint}")),
    }
}

/// Whether a sub-check needs fixing: it fails, or could not be evaluated.
fn needs_fix(check: &Check, ctx: &Context<'_>) -> bool {
    matches!(check.evaluate(ctx).status, Status::Fail | Status::Error)
}

fn derive(check: &Check, ctx: &Context<'_>) -> Derived {
    match check {
        Check::All(children) => all(children, ctx),
        Check::Any(children) => any(children, ctx),
        Check::Not(_) => Err("a negated check has no automatic fix".into()),
        Check::Sysctl {
            key,
            expect,
            persist,
            ..
        } => kernel::sysctl(ctx.facts, key, expect, *persist),
        Check::SysctlPersisted {} => kernel::sysctl_persisted(ctx),
        Check::Cmdline { param, expect } => kernel::cmdline(ctx.facts, param, expect),
        Check::ModulesDisabled { modules } => kernel::modules_disabled(ctx.facts, modules),
        Check::Lockdown { expect } => kernel::lockdown(ctx.facts, expect),
        Check::Lsm { expect } => kernel::lsm(ctx.facts, expect),
        Check::CpuVulnerability {
            name: Some(name),
            expect,
        } => kernel::cpu_vulnerability(ctx.facts, name, expect),
        Check::Mount { path, expect } => platform::mount(ctx.facts, path, expect),
        Check::DeviceNodes {
            paths,
            kind,
            expect,
        } => devices::device_nodes(ctx.facts, paths, *kind, expect),
        Check::NvidiaParam { name, expect } => devices::nvidia_param(ctx.facts, name, expect),
        Check::IommuEnabled {} => devices::iommu_enabled(ctx.facts),
        Check::Sshd { key, expect, .. } => services::sshd(ctx.facts, key, expect),
        Check::ServicesAllowed { allowed } => services::allowed(ctx.facts, allowed),
        Check::ServicesDenied { units } => services::denied(ctx.facts, units),
        Check::ServiceEnabled { any_of } => services::enabled_any(ctx.facts, any_of),
        Check::Journald { key, expect, .. } => services::journald(ctx.facts, key, expect),
        Check::AuditRules { require } => {
            let patterns: Vec<&str> = require.iter().map(|p| p.as_str()).collect();
            services::audit_rules(ctx.facts, &patterns)
        }
        Check::Kconfig { option, .. } => Err(format!(
            "CONFIG_{} needs a kernel rebuild",
            option.first().map_or("?", String::as_str)
        )),
        // Accounts, packages, keys, listeners, SED, dm-verity, image drift,
        // the profile hash, group members, sandboxing, GPU binding,
        // sig_enforce, CPU flags, every-vulnerability: the hint says it.
        _ => Err(String::new()),
    }
}

/// Every failing child fixed; all must be fixable.
fn all(children: &[Check], ctx: &Context<'_>) -> Derived {
    let mut fix = Fix::now(Vec::new());
    let mut manual = Vec::new();
    for child in children.iter().filter(|c| needs_fix(c, ctx)) {
        match derive(child, ctx) {
            Ok(f) => {
                fix.wants.extend(f.wants);
                fix.reboot |= f.reboot;
            }
            Err(e) => manual.push(e),
        }
    }
    if manual.is_empty() {
        Ok(fix)
    } else {
        Err(join_reasons(&manual, "; "))
    }
}

/// The first failing alternative fixable without a reboot, else the first
/// fixable with one.
fn any(children: &[Check], ctx: &Context<'_>) -> Derived {
    let mut with_reboot = None;
    let mut manual = Vec::new();
    for child in children.iter().filter(|c| needs_fix(c, ctx)) {
        match derive(child, ctx) {
            Ok(f) if f.wants.is_empty() => {}
            Ok(f) if !f.reboot => return Ok(f),
            Ok(f) => {
                with_reboot.get_or_insert(f);
            }
            Err(e) => manual.push(e),
        }
    }
    with_reboot.ok_or_else(|| join_reasons(&manual, "; or "))
}

fn join_reasons(reasons: &[String], sep: &str) -> String {
    let mut parts: Vec<&str> = reasons
        .iter()
        .map(String::as_str)
        .filter(|r| !r.is_empty())
        .collect();
    parts.dedup();
    parts.join(sep)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Hand-built facts and contexts for the unit tests.

    use tractorsec_facts::{FactError, FactErrorKind, Facts, Source};
    use tractorsec_policy::{Matcher, Profile};

    /// A matcher from its JSON form (`{"equals": 2}`, `"absent"`).
    pub fn m(text: &str) -> Matcher {
        serde_json::from_str(text).expect("matcher")
    }

    /// A snapshot in which every source is missing (not present).
    pub fn facts() -> Facts {
        fn none<T>() -> Source<T> {
            Source::Error(FactError {
                path: "/nonexistent".into(),
                kind: FactErrorKind::NotPresent,
                message: "not in this test".into(),
            })
        }
        Facts {
            schema_version: tractorsec_facts::SCHEMA_VERSION,
            tool_version: "test".into(),
            collected_at: String::new(),
            root: "/".into(),
            runtime: true,
            privileged: true,
            host: none(),
            kernel: none(),
            kconfig: none(),
            sysctl: none(),
            sysctl_persisted: none(),
            lockdown: none(),
            lsm: none(),
            module_sig_enforce: none(),
            modules_loaded: none(),
            modprobe: none(),
            cpu: none(),
            mounts: none(),
            dev_nodes: none(),
            iommu: none(),
            pci: none(),
            nvidia_params: none(),
            device_mapper: none(),
            accounts: none(),
            shadow: none(),
            groups: none(),
            authorized_keys: none(),
            sshd: none(),
            systemd: none(),
            packages: none(),
            listeners: none(),
            audit: none(),
            journald: none(),
            image: none(),
            nvme_security: none(),
        }
    }

    /// A profile parsed from TOML controls.
    pub fn profile(controls: &str) -> Profile {
        Profile::parse(
            "test",
            &format!("name = \"t\"\ndescription = \"t\"\n{controls}"),
        )
        .expect("profile")
    }

    /// One control with `check` (a TOML inline table body).
    pub fn control(id: &str, check: &str) -> String {
        format!(
            "[[control]]\nid = \"{id}\"\ntitle = \"t\"\nsection = \"kernel\"\nseverity = \"high\"\n\
             rationale = \"r\"\nreferences = []\ncheck = {check}\nfix = {{ hint = \"do it\", auto = true }}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{control, facts, profile};
    use super::*;
    use tractorsec_facts::{Cmdline, CmdlineParam, Kernel, Source, Sysctl};

    fn with_sysctl_and_cmdline(
        values: &[(&str, &str)],
        cmdline: &[(&str, Option<&str>)],
    ) -> tractorsec_facts::Facts {
        let mut f = facts();
        f.sysctl = Source::Ok(Sysctl {
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            unreadable: Default::default(),
        });
        f.kernel = Source::Ok(Kernel {
            release: None,
            cmdline: Cmdline {
                source: "/proc/cmdline".into(),
                raw: String::new(),
                params: cmdline
                    .iter()
                    .map(|(n, v)| CmdlineParam {
                        name: n.to_string(),
                        value: v.map(str::to_string),
                    })
                    .collect(),
            },
        });
        f
    }

    fn remedy(check: &str, f: &tractorsec_facts::Facts) -> Remedy {
        let p = profile(&control("kernel.test.c", check));
        let ctx = Context {
            facts: f,
            profile: &p,
        };
        remedy_for(&p.controls[0], &ctx)
    }

    fn sysctl(key: &str, value: &str) -> Want {
        Want::Sysctl {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn any_prefers_an_alternative_without_reboot() {
        let f = with_sysctl_and_cmdline(&[("net.ipv6.conf.all.forwarding", "1")], &[]);
        let check = r#"{ any = [
            { cmdline = { param = "ipv6.disable", expect = { equals = 1 } } },
            { sysctl = { key = "net.ipv6.conf.all.forwarding", expect = { equals = 0 } } },
        ] }"#;
        assert_eq!(
            remedy(check, &f),
            Remedy::Auto {
                wants: vec![sysctl("net.ipv6.conf.all.forwarding", "0")],
                reboot: false
            }
        );
    }

    #[test]
    fn any_falls_back_to_a_reboot_and_skips_unfixable_alternatives() {
        let f = with_sysctl_and_cmdline(&[("kernel.modules_disabled", "0")], &[]);
        let check = r#"{ any = [
            { kconfig = { option = ["MODULES"], expect = "absent" } },
            { sysctl = { key = "kernel.modules_disabled", expect = { equals = 1 }, persist = false } },
            { cmdline = { param = "lockdown", expect = { one_of = ["integrity", "confidentiality"] } } },
        ] }"#;
        // kconfig is unreadable here: an error, so needs fixing, but manual;
        // a sysctl that must not be persisted is manual too.
        assert_eq!(
            remedy(check, &f),
            Remedy::Auto {
                wants: vec![Want::Cmdline {
                    param: "lockdown".into(),
                    value: Some("integrity".into())
                }],
                reboot: true
            }
        );
    }

    #[test]
    fn all_fixes_only_the_failing_children_and_needs_every_one() {
        let f = with_sysctl_and_cmdline(
            &[("kernel.randomize_va_space", "2")],
            &[("nokaslr", None), ("quiet", None)],
        );
        let check = r#"{ all = [
            { sysctl = { key = "kernel.randomize_va_space", expect = { equals = 2 } } },
            { cmdline = { param = "norandmaps", expect = "absent" } },
            { cmdline = { param = "nokaslr", expect = "absent" } },
        ] }"#;
        assert_eq!(
            remedy(check, &f),
            Remedy::Auto {
                wants: vec![Want::Cmdline {
                    param: "nokaslr".into(),
                    value: None
                }],
                reboot: true
            }
        );
        // One manual child makes the whole manual, naming why.
        let check = r#"{ all = [
            { cmdline = { param = "nokaslr", expect = "absent" } },
            { kconfig = { option = ["RANDOMIZE_BASE"], expect = { equals = "y" } } },
        ] }"#;
        match remedy(check, &f) {
            Remedy::Manual(text) => {
                assert!(text.contains("CONFIG_RANDOMIZE_BASE"), "{text}");
                assert!(text.ends_with("do it"), "{text}");
            }
            other => panic!("expected manual, got {other:?}"),
        }
    }

    #[test]
    fn not_and_unknown_families_are_manual_with_the_hint() {
        let f = with_sysctl_and_cmdline(&[], &[("nokaslr", None)]);
        let check = r#"{ not = { cmdline = { param = "nokaslr", expect = "absent" } } }"#;
        assert!(matches!(remedy(check, &f), Remedy::Manual(_)));
        let check = r#"{ users_uid0 = { allowed = ["root"] } }"#;
        assert_eq!(remedy(check, &f), Remedy::Manual("do it".into()));
    }
}
