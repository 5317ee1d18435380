//! Typed checks: which fact a control reads and what it expects of it.
//!
//! In a profile a check is a one-key table naming its kind:
//! `check.sysctl = { key = "kernel.kptr_restrict", expect = { equals = 2 } }`.

mod accounts;
mod devices;
mod kernel;
mod outcome;
mod platform;
mod services;

use crate::matcher::{Matcher, Pattern};
pub use kernel::{ModuleState, module_state};
pub use outcome::{Context, Outcome};
use serde::{Deserialize, Serialize};
pub use tractorsec_facts::text::glob_match;
use tractorsec_facts::{DevKind, Facts};

/// A module that must not be loadable, and the kconfig option that builds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleRef {
    /// Module name (`cramfs`).
    pub name: String,
    /// kconfig option without `CONFIG_` (`CRAMFS`); when it is not set, the
    /// module does not exist on this kernel.
    pub kconfig: Option<String>,
}

/// What a control checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// A live `/proc/sys` value. When the key does not exist and one of the
    /// `kconfig` options is off, the feature is compiled out: not applicable.
    Sysctl {
        /// Dotted sysctl name.
        key: String,
        /// Expected value.
        expect: Matcher,
        /// kconfig options that provide the key.
        #[serde(default)]
        kconfig: Vec<String>,
        /// Whether `kernel.sysctl.persisted` requires it in sysctl.d (false
        /// for read-only state and for values that must be set late in boot).
        #[serde(default = "yes")]
        persist: bool,
    },
    /// Every live sysctl control of the profile that passes is also set,
    /// to a passing value, in the persisted configuration.
    SysctlPersisted {},
    /// A kernel build option (name without `CONFIG_`). With several names,
    /// the first present in the config is judged (renamed options).
    Kconfig {
        /// Option names, in order of preference.
        option: Vec<String>,
        /// Expected value: `y`, `m`, `n` (is not set) or `absent`.
        expect: Matcher,
    },
    /// A kernel command-line parameter (the last occurrence wins; a bare
    /// flag has the empty value).
    Cmdline {
        /// Parameter name.
        param: String,
        /// Expected value.
        expect: Matcher,
    },
    /// Modules that must not be loadable: an `install M /bin/false` (or
    /// `/bin/true`) directive, or not built, and not loaded now.
    ModulesDisabled {
        /// The modules.
        modules: Vec<ModuleRef>,
    },
    /// The kernel lockdown mode.
    Lockdown {
        /// Expected mode.
        expect: Matcher,
    },
    /// The active LSM list.
    Lsm {
        /// Expected list.
        expect: Matcher,
    },
    /// `sig_enforce` of the module loader (`Y`/`N`).
    ModuleSigEnforce {
        /// Expected value.
        expect: Matcher,
    },
    /// The CPU flag list.
    CpuFlags {
        /// Expected list.
        expect: Matcher,
    },
    /// One CPU vulnerability file, or every file when `name` is absent.
    CpuVulnerability {
        /// File name under `/sys/devices/system/cpu/vulnerabilities`.
        name: Option<String>,
        /// Expected text.
        expect: Matcher,
    },
    /// Options of the mount covering `path`.
    Mount {
        /// A path; the longest mount point containing it is judged.
        path: String,
        /// Expected option list.
        expect: Matcher,
    },
    /// Ownership and mode of device nodes matching glob patterns.
    DeviceNodes {
        /// Globs (`*`, `?`, `[0-9]`) over paths under `/dev`.
        paths: Vec<String>,
        /// Only nodes of this kind.
        kind: Option<DevKind>,
        /// Expected of each node.
        expect: Matcher,
    },
    /// A value from `/proc/driver/nvidia/params` (name without `NVreg_`).
    NvidiaParam {
        /// Parameter name.
        name: String,
        /// Expected value.
        expect: Matcher,
    },
    /// An IOMMU is active, enabled on the command line where the CPU vendor
    /// needs it.
    IommuEnabled {},
    /// NVIDIA GPUs are bound as the tenancy model says: `vfio` (vfio-pci,
    /// alone in their IOMMU group) or `container` (nvidia driver).
    GpuTenantBinding {
        /// `vfio` or `container`.
        mode: String,
    },
    /// The device behind each mount point is dm-verity (or a
    /// `roothash=`/`usrhash=` is on the command line).
    DmVerity {
        /// Mount points.
        paths: Vec<String>,
    },
    /// Data on NVMe is encrypted at rest: SED locking or dm-crypt.
    SedEncryption {},
    /// No account with uid ≥ `UID_MIN` has a login shell, unless allowed.
    UsersInteractive {
        /// Accounts allowed to log in.
        #[serde(default)]
        allowed: Vec<String>,
    },
    /// Only the allowed accounts have uid 0.
    UsersUid0 {
        /// Accounts allowed uid 0.
        allowed: Vec<String>,
    },
    /// No account has an empty password field.
    UsersEmptyPassword {},
    /// The account's password is locked.
    UserLocked {
        /// Account name.
        user: String,
    },
    /// The groups have no members but the allowed ones.
    GroupMembers {
        /// Group names.
        groups: Vec<String>,
        /// Allowed members.
        #[serde(default)]
        allowed: Vec<String>,
    },
    /// No `authorized_keys` file in a human account (uid ≥ `UID_MIN`).
    AuthorizedKeys {
        /// Accounts allowed to have one.
        #[serde(default)]
        allowed: Vec<String>,
    },
    /// An sshd keyword's effective value (`default` when unset).
    Sshd {
        /// Keyword (case-insensitive).
        key: String,
        /// sshd's built-in default.
        default: Option<String>,
        /// Expected value.
        expect: Matcher,
    },
    /// Every enabled service is in the allowed list (globs allowed).
    ServicesAllowed {
        /// Allowed unit names.
        allowed: Vec<String>,
    },
    /// None of the units is enabled or running.
    ServicesDenied {
        /// Denied unit names.
        units: Vec<String>,
    },
    /// At least one of the units is enabled.
    ServiceEnabled {
        /// Candidate unit names.
        any_of: Vec<String>,
    },
    /// None of the packages is installed.
    PackagesAbsent {
        /// Package names (globs allowed).
        names: Vec<String>,
    },
    /// Every socket listening on a non-loopback address is allowed
    /// (`PORT/PROCESS`, `PORT/*`, or `*/PROCESS`).
    Listeners {
        /// Allowed listeners.
        allowed: Vec<String>,
    },
    /// Management services run sandboxed (offline `systemd-analyze security`).
    ServiceSandbox {
        /// Units to score; missing ones are skipped.
        units: Vec<String>,
        /// Minimum score out of 10.
        min_score: u32,
    },
    /// Each pattern matches at least one loaded audit rule.
    AuditRules {
        /// Regular expressions over rule lines.
        require: Vec<Pattern>,
    },
    /// A journald keyword's effective value (`default` when unset).
    Journald {
        /// Keyword.
        key: String,
        /// journald's built-in default.
        default: Option<String>,
        /// Expected value.
        expect: Matcher,
    },
    /// The tree matches its sealed manifest.
    ImageDrift {
        /// Path of the manifest; empty when none is configured.
        manifest: String,
        /// Path of the public key.
        pubkey: String,
    },
    /// The content hash of the evaluated profile equals `expected`.
    ProfileHash {
        /// Expected hash; empty when none is configured.
        expected: String,
    },
    /// Every check holds.
    All(Vec<Check>),
    /// At least one check holds.
    Any(Vec<Check>),
    /// The check does not hold.
    Not(Box<Check>),
}

impl Check {
    /// Evaluate against facts; pure.
    pub fn evaluate(&self, ctx: &Context<'_>) -> Outcome {
        let facts: &Facts = ctx.facts;
        match self {
            Check::Sysctl {
                key,
                expect,
                kconfig,
                ..
            } => kernel::sysctl(facts, key, expect, kconfig),
            Check::SysctlPersisted {} => kernel::sysctl_persisted(ctx),
            Check::Kconfig { option, expect } => kernel::kconfig(facts, option, expect),
            Check::Cmdline { param, expect } => kernel::cmdline(facts, param, expect),
            Check::ModulesDisabled { modules } => kernel::modules_disabled(facts, modules),
            Check::Lockdown { expect } => kernel::lockdown(facts, expect),
            Check::Lsm { expect } => kernel::lsm(facts, expect),
            Check::ModuleSigEnforce { expect } => kernel::sig_enforce(facts, expect),
            Check::CpuFlags { expect } => kernel::cpu_flags(facts, expect),
            Check::CpuVulnerability { name, expect } => {
                kernel::cpu_vulnerability(facts, name.as_deref(), expect)
            }
            Check::Mount { path, expect } => platform::mount(facts, path, expect),
            Check::DeviceNodes {
                paths,
                kind,
                expect,
            } => devices::device_nodes(facts, paths, *kind, expect),
            Check::NvidiaParam { name, expect } => devices::nvidia_param(facts, name, expect),
            Check::IommuEnabled {} => devices::iommu_enabled(facts),
            Check::GpuTenantBinding { mode } => devices::gpu_tenant_binding(facts, mode),
            Check::DmVerity { paths } => platform::dm_verity(facts, paths),
            Check::SedEncryption {} => devices::sed_encryption(facts),
            Check::UsersInteractive { allowed } => accounts::interactive(facts, allowed),
            Check::UsersUid0 { allowed } => accounts::uid0(facts, allowed),
            Check::UsersEmptyPassword {} => accounts::empty_password(facts),
            Check::UserLocked { user } => accounts::locked(facts, user),
            Check::GroupMembers { groups, allowed } => {
                accounts::group_members(facts, groups, allowed)
            }
            Check::AuthorizedKeys { allowed } => accounts::authorized_keys(facts, allowed),
            Check::Sshd {
                key,
                default,
                expect,
            } => services::sshd(facts, key, default.as_deref(), expect),
            Check::ServicesAllowed { allowed } => services::allowed(facts, allowed),
            Check::ServicesDenied { units } => services::denied(facts, units),
            Check::ServiceEnabled { any_of } => services::enabled_any(facts, any_of),
            Check::PackagesAbsent { names } => services::packages_absent(facts, names),
            Check::Listeners { allowed } => services::listeners(facts, allowed),
            Check::ServiceSandbox { units, min_score } => {
                services::sandbox(facts, units, *min_score)
            }
            Check::AuditRules { require } => services::audit_rules(facts, require),
            Check::Journald {
                key,
                default,
                expect,
            } => services::journald(facts, key, default.as_deref(), expect),
            Check::ImageDrift { manifest, pubkey } => {
                platform::image_drift(facts, manifest, pubkey)
            }
            Check::ProfileHash { expected } => platform::profile_hash(ctx, expected),
            Check::All(checks) => Outcome::all(checks.iter().map(|c| c.evaluate(ctx)).collect()),
            Check::Any(checks) => Outcome::any(checks.iter().map(|c| c.evaluate(ctx)).collect()),
            Check::Not(check) => check.evaluate(ctx).negate(),
        }
    }

    /// Every sysctl key this check reads live that must also be persisted.
    pub fn persisted_sysctls(&self) -> Vec<(&str, &Matcher)> {
        match self {
            Check::Sysctl {
                key,
                expect,
                persist: true,
                ..
            } => vec![(key.as_str(), expect)],
            Check::All(cs) | Check::Any(cs) => {
                cs.iter().flat_map(|c| c.persisted_sysctls()).collect()
            }
            _ => Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}
