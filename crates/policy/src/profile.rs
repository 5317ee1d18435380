//! Profiles: TOML documents of controls, parameters and `extends`.

use crate::check::Check;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Profiles embedded in the binary: (name, TOML text).
pub const BUILTIN_PROFILES: &[(&str, &str)] =
    &[("tractoros", include_str!("../profiles/tractoros.toml"))];

/// How deep `extends` chains may go.
const MAX_EXTENDS_DEPTH: usize = 8;

/// The four seed sections of the TractorOS security model.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Minimal baseline, small attack surface.
    Baseline,
    /// Kernel and runtime hardening.
    Kernel,
    /// Storage and device security.
    Devices,
    /// Platform techniques: images, provisioning, trust, observability.
    Platform,
}

impl Section {
    /// All sections in report order.
    pub const ALL: [Section; 4] = [
        Section::Baseline,
        Section::Kernel,
        Section::Devices,
        Section::Platform,
    ];

    /// The short name used in ids and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Baseline => "baseline",
            Section::Kernel => "kernel",
            Section::Devices => "devices",
            Section::Platform => "platform",
        }
    }

    /// The heading used in human reports.
    pub fn title(self) -> &'static str {
        match self {
            Section::Baseline => "1. Secure OS baseline & attack-surface reduction",
            Section::Kernel => "2. Kernel & runtime hardening",
            Section::Devices => "3. Storage & device security",
            Section::Platform => "4. TractorOS platform techniques",
        }
    }
}

/// How bad a failure of the control is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a control costs GPU or storage throughput.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PerfLevel {
    /// No measurable cost.
    #[default]
    None,
    /// Small cost on some workloads.
    Low,
    /// Noticeable cost.
    Medium,
    /// Large cost; weigh it.
    High,
}

/// The performance impact of a control, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerfImpact {
    /// How much.
    #[serde(default)]
    pub level: PerfLevel,
    /// Where and why.
    #[serde(default)]
    pub note: String,
}

/// How a failing control is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    /// What to do, for a human.
    pub hint: String,
    /// Whether `tractorsec apply` can fix it automatically.
    #[serde(default)]
    pub auto: bool,
    /// Whether the fix takes effect only after a reboot.
    #[serde(default)]
    pub reboot: bool,
}

/// One control of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Stable dotted id (`kernel.sysctl.kptr_restrict`).
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Seed section.
    pub section: Section,
    /// Severity of a failure.
    pub severity: Severity,
    /// Why it matters.
    pub rationale: String,
    /// Where the recommendation comes from (KSPP, CIS, …).
    pub references: Vec<String>,
    /// Performance impact.
    #[serde(default)]
    pub perf: PerfImpact,
    /// What is checked.
    pub check: Check,
    /// How to fix it.
    pub fix: Fix,
    /// Whether the control is evaluated; `false` (usually through a param,
    /// `enabled = "$journald_seal"`) makes it not applicable.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

fn enabled_default() -> bool {
    true
}

/// A resolved profile: parameters substituted, `extends` applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Effective parameters.
    pub params: BTreeMap<String, toml::Value>,
    /// Controls in profile order.
    pub controls: Vec<Control>,
    /// SHA-256 over the profile texts of the `extends` chain.
    pub hash: String,
    /// Params set from outside the profile texts (`--param`), not hashed:
    /// node-specific values such as the expected profile hash.
    pub overrides: BTreeMap<String, toml::Value>,
}

/// A profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read profile {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid profile.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file (or built-in profile name).
        path: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: String,
    extends: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    control: Vec<toml::Spanned<toml::Table>>,
}

struct Layer {
    origin: String,
    text: String,
    raw: RawProfile,
}

impl Profile {
    /// Load a built-in profile by name, or a profile file by path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        Profile::load_with(name_or_path, &BTreeMap::new())
    }

    /// Like [`Profile::load`], then override params that the profile
    /// declares; the overrides are kept apart from the content hash.
    pub fn load_with(
        name_or_path: &str,
        overrides: &BTreeMap<String, toml::Value>,
    ) -> Result<Profile, ProfileError> {
        let (origin, text, dir) = read_profile(name_or_path, None)?;
        resolve(chain(origin, text, dir)?, overrides)
    }

    /// Parse a profile from text; `extends` names a built-in profile or a
    /// path relative to the working directory.
    pub fn parse(origin: &str, text: &str) -> Result<Profile, ProfileError> {
        resolve(
            chain(origin.to_string(), text.to_string(), None)?,
            &BTreeMap::new(),
        )
    }

    /// The control with this id.
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

/// Parse a profile and the profiles it extends, base first.
fn chain(origin: String, text: String, dir: Option<PathBuf>) -> Result<Vec<Layer>, ProfileError> {
    let mut layers = Vec::new();
    let mut next = Some((origin, text, dir));
    while let Some((origin, text, dir)) = next.take() {
        if layers.len() >= MAX_EXTENDS_DEPTH {
            return Err(invalid(&origin, 0, "extends chain too deep (a loop?)"));
        }
        let raw: RawProfile = toml::from_str(&text).map_err(|e| toml_error(&origin, &text, &e))?;
        if let Some(parent) = &raw.extends {
            next = Some(read_profile(parent, dir.as_deref())?);
        }
        layers.push(Layer { origin, text, raw });
    }
    layers.reverse();
    Ok(layers)
}

fn read_profile(
    reference: &str,
    base: Option<&Path>,
) -> Result<(String, String, Option<PathBuf>), ProfileError> {
    if let Some((name, text)) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == reference) {
        return Ok((
            format!("builtin:{name}"),
            text.to_string(),
            base.map(Path::to_path_buf),
        ));
    }
    let path = match base {
        Some(dir) if Path::new(reference).is_relative() => dir.join(reference),
        _ => PathBuf::from(reference),
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ProfileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let dir = path.parent().map(Path::to_path_buf);
    Ok((path.display().to_string(), text, dir))
}

fn resolve(
    layers: Vec<Layer>,
    overrides: &BTreeMap<String, toml::Value>,
) -> Result<Profile, ProfileError> {
    let mut hasher = Sha256::new();
    hasher.update(b"tractorsec-profile-v1\n");
    let mut params = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut controls: BTreeMap<String, (String, usize, toml::Table)> = BTreeMap::new();
    let (mut name, mut description) = (String::new(), String::new());
    for layer in &layers {
        hasher.update(format!("{}\n", layer.text.len()).as_bytes());
        hasher.update(layer.text.as_bytes());
        name = layer.raw.name.clone();
        description = layer.raw.description.clone();
        params.extend(layer.raw.params.clone());
        for id in &layer.raw.disable {
            if controls.remove(id).is_none() {
                return Err(invalid(
                    &layer.origin,
                    0,
                    format!("disable names unknown control {id:?}"),
                ));
            }
            order.retain(|o| o != id);
        }
        let mut seen = BTreeSet::new();
        for spanned in &layer.raw.control {
            let line = line_of(&layer.text, spanned.span().start);
            let table = spanned.get_ref().clone();
            let id = match table.get("id").and_then(|v| v.as_str()) {
                Some(id) => id.to_string(),
                None => return Err(invalid(&layer.origin, line, "control without an id")),
            };
            if !valid_id(&id) {
                return Err(invalid(
                    &layer.origin,
                    line,
                    format!("bad control id {id:?}"),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(invalid(
                    &layer.origin,
                    line,
                    format!("duplicate control id {id:?}"),
                ));
            }
            if !controls.contains_key(&id) {
                order.push(id.clone());
            }
            controls.insert(id, (layer.origin.clone(), line, table));
        }
    }
    for (name, value) in overrides {
        if !params.contains_key(name) {
            let origin = layers.last().map_or("profile", |l| l.origin.as_str());
            return Err(invalid(
                origin,
                0,
                format!("--param {name}: the profile has no such param"),
            ));
        }
        params.insert(name.clone(), value.clone());
    }
    let mut resolved = Vec::with_capacity(order.len());
    for id in &order {
        let (origin, line, table) = &controls[id];
        let mut value = toml::Value::Table(table.clone());
        substitute(&mut value, &params)
            .map_err(|m| invalid(origin, *line, format!("control {id}: {m}")))?;
        let control: Control = value.try_into().map_err(|e: toml::de::Error| {
            invalid(origin, *line, format!("control {id}: {}", e.message()))
        })?;
        resolved.push(control);
    }
    Ok(Profile {
        name,
        description,
        params,
        controls: resolved,
        hash: format!("sha256:{}", tractorsec_facts::text::hex(&hasher.finalize())),
        overrides: overrides.clone(),
    })
}

/// Replace every string `"$name"` by the value of param `name`.
fn substitute(
    value: &mut toml::Value,
    params: &BTreeMap<String, toml::Value>,
) -> Result<(), String> {
    match value {
        toml::Value::String(s) if s.starts_with('$') && s.len() > 1 => {
            let name = &s[1..];
            let v = params
                .get(name)
                .ok_or_else(|| format!("unknown param ${name}"))?;
            *value = v.clone();
        }
        toml::Value::Array(items) => {
            for item in items {
                substitute(item, params)?;
            }
        }
        toml::Value::Table(t) => {
            for (_, v) in t.iter_mut() {
                substitute(v, params)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.matches('\n').count() + 1)
}

fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> ProfileError {
    let line = e.span().map_or(0, |s| line_of(text, s.start));
    invalid(origin, line, e.message())
}

fn invalid(path: &str, line: usize, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        path: path.to_string(),
        line,
        message: message.into(),
    }
}
