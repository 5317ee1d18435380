//! systemd units: where each is defined, its enablement, whether it runs,
//! and the sandboxing settings of services (unit file plus drop-ins).

use crate::collect::confdirs::conf_files;
use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{Source, Systemd, Unit, UnitState};
use crate::root::{Root, join};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::FileTypeExt;

/// Unit directories, highest precedence first.
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Directories where `systemctl enable` writes links.
const ADMIN_DIRS: &[&str] = &["/etc/systemd/system", "/run/systemd/system"];

/// Runtime state of the service manager: `invocation:<unit>` per running unit.
pub const RUN_UNITS: &str = "/run/systemd/units";

/// Unit types (file suffixes) systemd knows.
const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".target",
    ".timer",
    ".mount",
    ".automount",
    ".swap",
    ".path",
    ".slice",
    ".scope",
    ".device",
];

/// `[Install]` keys that make a unit installable (not static).
const INSTALL_KEYS: &[&str] = &["WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also"];

/// `[Service]` keys kept in the snapshot: the inputs of a sandboxing score.
pub const SERVICE_KEYS: &[&str] = &[
    "User",
    "DynamicUser",
    "NoNewPrivileges",
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "PrivateNetwork",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "RestrictNamespaces",
    "RestrictSUIDSGID",
    "RestrictRealtime",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "CapabilityBoundingSet",
    "SystemCallFilter",
    "SystemCallArchitectures",
    "RestrictAddressFamilies",
    "ExecStart",
];

/// The parts of a unit file (or drop-in) the snapshot needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFile {
    /// `[Install]` assignments in order.
    pub install: Vec<(String, String)>,
    /// `[Service]` assignments in order.
    pub service: Vec<(String, String)>,
}

impl UnitFile {
    /// True when `[Install]` names a way to enable the unit.
    pub fn installable(&self) -> bool {
        self.install
            .iter()
            .any(|(k, v)| !v.is_empty() && INSTALL_KEYS.contains(&k.as_str()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Install,
    Service,
    Other,
}

/// Parse a unit file or drop-in: `[Section]` headers, `Key=Value` lines,
/// `#`/`;` comments, `\` line continuation. Only `[Install]` and
/// `[Service]` are kept (and checked); other sections are skipped.
pub fn parse_unit(text: &str, file: &str) -> Result<UnitFile, ParseError> {
    let mut unit = UnitFile::default();
    let mut section: Option<Section> = None;
    // A continued assignment: its first line number and the text so far.
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if let Some((start, mut joined)) = pending.take() {
            if line.starts_with('#') || line.starts_with(';') {
                pending = Some((start, joined));
                continue;
            }
            joined.push(' ');
            match line.strip_suffix('\\') {
                Some(body) => {
                    joined.push_str(body.trim_end());
                    pending = Some((start, joined));
                }
                None => {
                    joined.push_str(line);
                    assign(&mut unit, section, &joined, file, start)?;
                }
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(name) = header.strip_suffix(']') else {
                return Err(ParseError::new(file, number, "section header without ']'"));
            };
            section = Some(match name {
                "Install" => Section::Install,
                "Service" => Section::Service,
                _ => Section::Other,
            });
            continue;
        }
        match line.strip_suffix('\\') {
            Some(body) if section != Some(Section::Other) => {
                pending = Some((number, body.trim_end().to_string()));
            }
            Some(_) => pending = Some((number, String::new())),
            None => assign(&mut unit, section, line, file, number)?,
        }
    }
    if let Some((start, joined)) = pending {
        assign(&mut unit, section, &joined, file, start)?;
    }
    Ok(unit)
}

fn assign(
    unit: &mut UnitFile,
    section: Option<Section>,
    line: &str,
    file: &str,
    number: usize,
) -> Result<(), ParseError> {
    let target = match section {
        None => {
            return Err(ParseError::new(
                file,
                number,
                "assignment outside of a section",
            ));
        }
        Some(Section::Other) => return Ok(()),
        Some(Section::Install) => &mut unit.install,
        Some(Section::Service) => &mut unit.service,
    };
    let Some((key, value)) = line.split_once('=') else {
        return Err(ParseError::new(
            file,
            number,
            "expected Key=Value, missing '='",
        ));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(ParseError::new(file, number, "empty key"));
    }
    target.push((key.to_string(), value.trim().to_string()));
    Ok(())
}

fn is_unit_name(name: &str) -> bool {
    !name.starts_with('.')
        && UNIT_SUFFIXES
            .iter()
            .any(|s| name.len() > s.len() && name.ends_with(s))
}

/// `foo@.service` for an instance `foo@bar.service`.
fn template_of(name: &str) -> Option<String> {
    let (prefix, rest) = name.split_once('@')?;
    let dot = rest.rfind('.')?;
    let instance = rest.get(..dot)?;
    let suffix = rest.get(dot..)?;
    (!instance.is_empty()).then(|| format!("{prefix}@{suffix}"))
}

/// A unit file found in a unit directory.
struct Found {
    dir: &'static str,
    symlink: bool,
}

/// What the scan of the unit directories found.
#[derive(Default)]
struct Scan {
    /// Unit directories that exist, highest precedence first, duplicates
    /// (`/lib` → `/usr/lib`) removed.
    dirs: Vec<&'static str>,
    /// Unit name → its winning file.
    files: BTreeMap<String, Found>,
    /// Unit name → units whose `.wants`/`.requires` link it.
    links: BTreeMap<String, BTreeSet<String>>,
    /// Names of `*.d` drop-in directories seen anywhere.
    dropin_dirs: BTreeSet<String>,
}

fn scan(root: &Root) -> Result<Scan, FactError> {
    let mut scan = Scan::default();
    let mut seen_dirs = BTreeSet::new();
    for &dir in UNIT_DIRS {
        let host = root.resolve(dir)?;
        let Ok(canonical) = fs::canonicalize(&host) else {
            continue;
        };
        if !seen_dirs.insert(canonical) {
            continue;
        }
        let entries = match fs::read_dir(&host) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => continue,
            Err(e) => return Err(FactError::io(dir, &e)),
        };
        scan.dirs.push(dir);
        let mut names: Vec<(String, bool)> = entries
            .flatten()
            .map(|e| {
                let symlink = e.file_type().is_ok_and(|t| t.is_symlink());
                (e.file_name().to_string_lossy().into_owned(), symlink)
            })
            .collect();
        names.sort();
        for (name, symlink) in names {
            let by = name
                .strip_suffix(".wants")
                .or_else(|| name.strip_suffix(".requires"));
            if let Some(by) = by {
                for linked in root.read_dir_optional(&join(dir, &name))? {
                    if is_unit_name(&linked) {
                        scan.links.entry(linked).or_default().insert(by.to_string());
                    }
                }
            } else if name.ends_with(".d") {
                scan.dropin_dirs.insert(name);
            } else if is_unit_name(&name) {
                scan.files.entry(name).or_insert(Found { dir, symlink });
            }
        }
    }
    Ok(scan)
}

/// How the winning file of a unit reads.
enum FileState {
    Masked,
    /// A differently named symlink to another unit file.
    Alias(UnitFile),
    Unit(UnitFile),
}

fn read_unit_file(
    root: &Root,
    path: &str,
    name: &str,
    found: &Found,
) -> Result<FileState, FactError> {
    let mut alias = false;
    if found.symlink {
        let target = root.read_link(path)?;
        if target == "/dev/null" || target.ends_with("/dev/null") {
            return Ok(FileState::Masked);
        }
        alias = target.rsplit('/').next().is_some_and(|base| base != name);
    }
    let meta = match root.metadata(path) {
        Ok(m) => m,
        // A dangling link defines nothing.
        Err(e) if e.kind == FactErrorKind::NotPresent => {
            return Ok(FileState::Unit(UnitFile::default()));
        }
        Err(e) => return Err(e),
    };
    if meta.file_type().is_char_device() || (meta.is_file() && meta.len() == 0) {
        return Ok(FileState::Masked);
    }
    if !meta.is_file() {
        // A directory or other odd entry with a unit's name defines nothing.
        return Ok(FileState::Unit(UnitFile::default()));
    }
    let text = root.read_to_string(path)?;
    let unit = parse_unit(&text, path).map_err(|e| FactError::malformed(path, &e))?;
    Ok(if alias {
        FileState::Alias(unit)
    } else {
        FileState::Unit(unit)
    })
}

/// Effective `[Service]` settings: the unit file, then its drop-ins.
fn service_settings(
    root: &Root,
    scan: &Scan,
    name: &str,
    unit: &UnitFile,
) -> Result<BTreeMap<String, String>, FactError> {
    let mut settings = BTreeMap::new();
    apply(&mut settings, &unit.service);
    let mut variants = vec!["service.d".to_string()];
    if let Some(template) = template_of(name) {
        variants.push(format!("{template}.d"));
    }
    variants.push(format!("{name}.d"));
    let dropin_dirs: Vec<String> = scan
        .dirs
        .iter()
        .flat_map(|dir| {
            variants
                .iter()
                .filter(|v| scan.dropin_dirs.contains(*v))
                .map(move |v| join(dir, v))
        })
        .collect();
    if dropin_dirs.is_empty() {
        return Ok(settings);
    }
    let dirs: Vec<&str> = dropin_dirs.iter().map(String::as_str).collect();
    for path in conf_files(root, &dirs, ".conf")? {
        let text = root.read_to_string(&path)?;
        let dropin = parse_unit(&text, &path).map_err(|e| FactError::malformed(&path, &e))?;
        apply(&mut settings, &dropin.service);
    }
    Ok(settings)
}

/// Apply assignments in order: the last wins, an empty value resets.
fn apply(settings: &mut BTreeMap<String, String>, assignments: &[(String, String)]) {
    for (key, value) in assignments {
        if !SERVICE_KEYS.contains(&key.as_str()) {
            continue;
        }
        if value.is_empty() {
            settings.remove(key);
        } else {
            settings.insert(key.clone(), value.clone());
        }
    }
}

/// Read the units of the root: every unit file in [`UNIT_DIRS`] (the
/// first directory wins for a name) and every unit linked from a
/// `.wants`/`.requires` directory.
pub fn collect(root: &Root) -> Source<Systemd> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Systemd, FactError> {
    let scan = scan(root)?;
    let running: Option<BTreeSet<String>> = if root.has_runtime() {
        match root.read_dir(RUN_UNITS) {
            Ok(names) => Some(names.into_iter().collect()),
            Err(e) if e.kind == FactErrorKind::NotPresent => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let names: BTreeSet<&String> = scan.files.keys().chain(scan.links.keys()).collect();
    let mut units = BTreeMap::new();
    for name in names {
        // An instance without its own file is defined by its template.
        let defining = match scan.files.get_key_value(name) {
            Some((n, f)) => Some((n.clone(), f)),
            None => template_of(name)
                .and_then(|t| scan.files.get_key_value(&t).map(|(n, f)| (n.clone(), f))),
        };
        let wanted_by: Vec<String> = scan
            .links
            .get(name)
            .map(|by| by.iter().cloned().collect())
            .unwrap_or_default();
        let linked = !wanted_by.is_empty();
        let (path, state, file) = match defining {
            None => (None, UnitState::Enabled, UnitFile::default()),
            Some((file_name, found)) => {
                let path = join(found.dir, &file_name);
                match read_unit_file(root, &path, &file_name, found)? {
                    FileState::Masked => (None, UnitState::Masked, UnitFile::default()),
                    FileState::Alias(file) => {
                        // `systemctl enable` writes aliases to /etc; shipped
                        // aliases in /usr/lib are static.
                        let state = if linked || ADMIN_DIRS.contains(&found.dir) {
                            UnitState::Enabled
                        } else {
                            UnitState::Static
                        };
                        (Some(path), state, file)
                    }
                    FileState::Unit(file) => {
                        let state = if linked {
                            UnitState::Enabled
                        } else if file.installable() {
                            UnitState::Disabled
                        } else {
                            UnitState::Static
                        };
                        (Some(path), state, file)
                    }
                }
            }
        };
        let service = if name.ends_with(".service") && state != UnitState::Masked {
            service_settings(root, &scan, name, &file)?
        } else {
            BTreeMap::new()
        };
        let active = running
            .as_ref()
            .map(|set| set.contains(&format!("invocation:{name}")));
        units.insert(
            name.clone(),
            Unit {
                path,
                state,
                wanted_by,
                active,
                service,
            },
        );
    }
    Ok(Systemd { units })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    /// Debian's ssh.service.
    const SSH_SERVICE: &str = "[Unit]
Description=OpenBSD Secure Shell server
Documentation=man:sshd(8) man:sshd_config(5)
After=network.target auditd.service
ConditionPathExists=!/etc/ssh/sshd_not_to_be_run

[Service]
EnvironmentFile=-/etc/default/ssh
ExecStartPre=/usr/sbin/sshd -t
ExecStart=/usr/sbin/sshd -D $SSHD_OPTS
ExecReload=/usr/sbin/sshd -t
ExecReload=/bin/kill -HUP $MAINPID
KillMode=process
Restart=on-failure
RestartPreventExitStatus=255
Type=notify
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755

[Install]
WantedBy=multi-user.target
Alias=sshd.service
";

    const STATIC_SERVICE: &str = "[Unit]\nDescription=Journal\n\n[Service]\nExecStart=/lib/systemd/systemd-journald\nProtectSystem=strict\n";

    #[test]
    fn unit_parser_keeps_install_and_service() {
        let u = parse_unit(SSH_SERVICE, "/lib/systemd/system/ssh.service").unwrap();
        assert!(u.installable());
        assert_eq!(u.install[1], ("Alias".into(), "sshd.service".into()));
        assert_eq!(u.service.len(), 11);
        assert_eq!(
            u.service[2],
            ("ExecStart".into(), "/usr/sbin/sshd -D $SSHD_OPTS".into())
        );
    }

    #[test]
    fn unit_parser_joins_continuation_lines() {
        let text = "[Service]\nSystemCallFilter=@system-service \\\n  # a comment inside\n  ~@privileged \\\n  @resources\nUser=x\n";
        let u = parse_unit(text, "f").unwrap();
        assert_eq!(
            u.service[0],
            (
                "SystemCallFilter".into(),
                "@system-service ~@privileged @resources".into()
            )
        );
        assert_eq!(u.service[1], ("User".into(), "x".into()));
    }

    #[test]
    fn unit_without_install_keys_is_not_installable() {
        assert!(!parse_unit(STATIC_SERVICE, "f").unwrap().installable());
        assert!(
            !parse_unit("[Install]\nDefaultInstance=tty1\n", "f")
                .unwrap()
                .installable()
        );
    }

    #[test]
    fn unit_parser_errors_name_file_and_line() {
        let err = parse_unit(
            "[Service]\nUser=a\nbroken\n",
            "/etc/systemd/system/x.service",
        )
        .unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.line),
            ("/etc/systemd/system/x.service", 3)
        );
        let err = parse_unit("# c\nUser=a\n", "f").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse_unit("[Service\n", "f").unwrap_err();
        assert_eq!(err.line, 1);
        let err = parse_unit("[Service]\n=x\n", "f").unwrap_err();
        assert_eq!(err.line, 2);
        // Other sections are skipped unchecked, continuation at EOF is fine.
        assert!(parse_unit("[Unit]\nwhatever\n[Service]\nUser=a \\", "f").is_ok());
    }

    #[test]
    fn template_of_instance() {
        assert_eq!(
            template_of("getty@tty1.service").as_deref(),
            Some("getty@.service")
        );
        assert_eq!(template_of("getty@.service"), None);
        assert_eq!(template_of("ssh.service"), None);
    }

    fn write(top: &Path, path: &str, text: &str) {
        let p = top.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn link(top: &Path, path: &str, target: &str) {
        let p = top.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }

    /// A Debian-like tree: /lib → usr/lib, enabled ssh with a drop-in, a
    /// masked unit, a static one, a disabled one, a template instance.
    fn debian_tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        symlink("usr/lib", t.join("lib")).unwrap();
        write(t, "/usr/lib/systemd/system/ssh.service", SSH_SERVICE);
        write(
            t,
            "/usr/lib/systemd/system/systemd-journald.service",
            STATIC_SERVICE,
        );
        write(
            t,
            "/usr/lib/systemd/system/getty@.service",
            "[Service]\nExecStart=-/sbin/agetty %I\n\n[Install]\nWantedBy=getty.target\n",
        );
        write(
            t,
            "/usr/lib/systemd/system/rsync.service",
            "[Service]\nExecStart=/usr/bin/rsync --daemon\n[Install]\nWantedBy=multi-user.target\n",
        );
        write(
            t,
            "/usr/lib/systemd/system/nvidia-persistenced.service",
            "[Service]\nUser=nvidia\n[Install]\nWantedBy=multi-user.target\n",
        );
        link(
            t,
            "/etc/systemd/system/nvidia-persistenced.service",
            "/dev/null",
        );
        link(
            t,
            "/etc/systemd/system/multi-user.target.wants/ssh.service",
            "/lib/systemd/system/ssh.service",
        );
        link(
            t,
            "/etc/systemd/system/sshd.service",
            "/lib/systemd/system/ssh.service",
        );
        link(
            t,
            "/etc/systemd/system/getty.target.wants/getty@tty1.service",
            "/lib/systemd/system/getty@.service",
        );
        link(
            t,
            "/usr/lib/systemd/system/sysinit.target.wants/systemd-journald.service",
            "../systemd-journald.service",
        );
        write(
            t,
            "/usr/lib/systemd/system/ssh.service.d/10-vendor.conf",
            "[Service]\nProtectSystem=full\nPrivateTmp=yes\nNoNewPrivileges=yes\n",
        );
        write(
            t,
            "/etc/systemd/system/ssh.service.d/20-admin.conf",
            "[Service]\nProtectSystem=strict\nPrivateTmp=\nKillMode=mixed\n",
        );
        tmp
    }

    #[test]
    fn systemd_states_from_links_masks_and_install_sections() {
        let tmp = debian_tree();
        let root = Root::open(tmp.path()).unwrap();
        let units = collect(&root).ok().unwrap().units.clone();
        let ssh = &units["ssh.service"];
        assert_eq!(ssh.state, UnitState::Enabled);
        assert_eq!(ssh.wanted_by, ["multi-user.target"]);
        assert_eq!(
            ssh.path.as_deref(),
            Some("/usr/lib/systemd/system/ssh.service")
        );
        assert_eq!(ssh.active, None);
        let masked = &units["nvidia-persistenced.service"];
        assert_eq!(
            (masked.state, masked.path.as_deref()),
            (UnitState::Masked, None)
        );
        assert!(masked.service.is_empty());
        assert_eq!(units["rsync.service"].state, UnitState::Disabled);
        let journald = &units["systemd-journald.service"];
        assert_eq!(
            journald.state,
            UnitState::Enabled,
            "static wants count as enabled"
        );
        assert_eq!(journald.wanted_by, ["sysinit.target"]);
        assert_eq!(units["getty@.service"].state, UnitState::Disabled);
        let tty1 = &units["getty@tty1.service"];
        assert_eq!(tty1.state, UnitState::Enabled);
        assert_eq!(
            tty1.path.as_deref(),
            Some("/usr/lib/systemd/system/getty@.service")
        );
        assert_eq!(tty1.service["ExecStart"], "-/sbin/agetty %I");
        assert_eq!(units["sshd.service"].state, UnitState::Enabled);
        // /lib and /usr/lib are one directory: nothing is listed twice.
        assert!(
            units
                .values()
                .all(|u| u.path.as_deref().is_none_or(|p| !p.starts_with("/lib/")))
        );
    }

    #[test]
    fn systemd_dropins_apply_in_basename_order_and_empty_resets() {
        let tmp = debian_tree();
        let root = Root::open(tmp.path()).unwrap();
        let units = collect(&root).ok().unwrap().units.clone();
        let service = &units["ssh.service"].service;
        assert_eq!(service["ProtectSystem"], "strict");
        assert_eq!(service["NoNewPrivileges"], "yes");
        assert!(
            !service.contains_key("PrivateTmp"),
            "empty assignment resets"
        );
        assert!(
            !service.contains_key("KillMode"),
            "only sandboxing keys are kept"
        );
        assert_eq!(service["ExecStart"], "/usr/sbin/sshd -D $SSHD_OPTS");
        assert_eq!(
            units["systemd-journald.service"].service["ProtectSystem"],
            "strict"
        );
    }

    #[test]
    fn systemd_earlier_directory_wins_and_dropin_masking() {
        let tmp = debian_tree();
        let t = tmp.path();
        write(
            t,
            "/etc/systemd/system/rsync.service",
            "[Service]\nExecStart=/usr/local/bin/rsync\n",
        );
        link(
            t,
            "/etc/systemd/system/ssh.service.d/10-vendor.conf",
            "/dev/null",
        );
        let root = Root::open(t).unwrap();
        let units = collect(&root).ok().unwrap().units.clone();
        let rsync = &units["rsync.service"];
        assert_eq!(
            rsync.path.as_deref(),
            Some("/etc/systemd/system/rsync.service")
        );
        assert_eq!(rsync.state, UnitState::Static);
        assert_eq!(rsync.service["ExecStart"], "/usr/local/bin/rsync");
        assert!(!units["ssh.service"].service.contains_key("NoNewPrivileges"));
    }

    #[test]
    fn systemd_active_from_run_units_on_runtime_roots() {
        let tmp = debian_tree();
        let t = tmp.path();
        write(t, "/proc/cmdline", "ro\n");
        link(
            t,
            "/run/systemd/units/invocation:ssh.service",
            "8f2e0c6d0e7b4a",
        );
        let root = Root::open(t).unwrap();
        let units = collect(&root).ok().unwrap().units.clone();
        assert_eq!(units["ssh.service"].active, Some(true));
        assert_eq!(units["rsync.service"].active, Some(false));
    }

    #[test]
    fn systemd_malformed_unit_names_file_and_line() {
        let tmp = debian_tree();
        write(
            tmp.path(),
            "/etc/systemd/system/bad.service",
            "[Service]\nUser=a\nnot an assignment\n",
        );
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
        assert!(
            err.message
                .starts_with("/etc/systemd/system/bad.service:3:"),
            "{err}"
        );
    }

    #[test]
    fn systemd_empty_root_has_no_units() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert!(collect(&root).ok().unwrap().units.is_empty());
    }
}
