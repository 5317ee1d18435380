//! The snapshot: what a system is, as plain serialisable data.
//!
//! Every map is a `BTreeMap` and every list is sorted by its collector, so the
//! same system gives byte-identical JSON (only `collected_at` changes).

use crate::error::FactError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the snapshot format; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// One fact source: its value, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source<T> {
    /// Read successfully.
    Ok(T),
    /// Could not be read; the reason is kept as evidence.
    Error(FactError),
}

impl<T> Source<T> {
    /// The value, or the reason it is missing.
    pub fn get(&self) -> Result<&T, &FactError> {
        match self {
            Source::Ok(v) => Ok(v),
            Source::Error(e) => Err(e),
        }
    }

    /// The value when it was read.
    pub fn ok(&self) -> Option<&T> {
        self.get().ok()
    }
}

impl<T> From<Result<T, FactError>> for Source<T> {
    fn from(r: Result<T, FactError>) -> Self {
        match r {
            Ok(v) => Source::Ok(v),
            Err(e) => Source::Error(e),
        }
    }
}

/// Everything tractorsec knows about one system at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Facts {
    /// [`SCHEMA_VERSION`] of this snapshot.
    pub schema_version: u32,
    /// Version of the tractorsec that collected it.
    pub tool_version: String,
    /// RFC 3339 UTC time of collection (the only wall-clock field).
    pub collected_at: String,
    /// The root directory that was read (`/` for the live system).
    pub root: String,
    /// Whether runtime state (`/proc`, `/sys`, `/dev`) was available.
    pub runtime: bool,
    /// Whether the collector ran with root privileges.
    pub privileged: bool,
    /// Host identity.
    pub host: Source<Host>,
    /// Kernel release and command line.
    pub kernel: Source<Kernel>,
    /// Kernel build configuration.
    pub kconfig: Source<KConfig>,
    /// Live values under `/proc/sys`.
    pub sysctl: Source<Sysctl>,
    /// Values persisted in sysctl.d files, after systemd-sysctl precedence.
    pub sysctl_persisted: Source<PersistedSysctl>,
    /// Selected kernel lockdown mode (`none`, `integrity`, `confidentiality`).
    pub lockdown: Source<String>,
    /// Active Linux security modules, in load order.
    pub lsm: Source<Vec<String>>,
    /// `/sys/module/module/parameters/sig_enforce`.
    pub module_sig_enforce: Source<bool>,
    /// Names of loaded kernel modules (sorted, `-` folded to `_`).
    pub modules_loaded: Source<Vec<String>>,
    /// modprobe.d directives in effect.
    pub modprobe: Source<Modprobe>,
    /// CPU vendor, flags and vulnerability status.
    pub cpu: Source<Cpu>,
    /// The mount table.
    pub mounts: Source<Vec<Mount>>,
    /// Device nodes under `/dev`.
    pub dev_nodes: Source<Vec<DevNode>>,
    /// IOMMU units and groups.
    pub iommu: Source<Iommu>,
    /// PCI devices.
    pub pci: Source<Vec<PciDevice>>,
    /// `/proc/driver/nvidia/params` (names without the `NVreg_` prefix).
    pub nvidia_params: Source<BTreeMap<String, String>>,
    /// Device-mapper devices.
    pub device_mapper: Source<Vec<DmDevice>>,
    /// Accounts from `/etc/passwd` and `/etc/login.defs`.
    pub accounts: Source<Accounts>,
    /// Password lock state per account from `/etc/shadow` (never a hash).
    pub shadow: Source<BTreeMap<String, PasswordState>>,
    /// Groups from `/etc/group`.
    pub groups: Source<Vec<Group>>,
    /// `authorized_keys` files found in account homes.
    pub authorized_keys: Source<Vec<AuthorizedKeys>>,
    /// sshd's effective configuration.
    pub sshd: Source<Sshd>,
    /// systemd units and their enablement.
    pub systemd: Source<Systemd>,
    /// Installed packages.
    pub packages: Source<Packages>,
    /// Listening TCP/UDP sockets.
    pub listeners: Source<Vec<Listener>>,
    /// auditd rules.
    pub audit: Source<Audit>,
    /// journald's effective configuration.
    pub journald: Source<Journald>,
    /// The tree checked against a sealed manifest: only `tractorsec audit`
    /// fills it, when the profile names a manifest (params `manifest`,
    /// `pubkey`); snapshots taken without one say so.
    #[serde(default = "image_not_checked")]
    pub image: Source<ImageCheck>,
    /// Identify Controller and TCG Level 0 facts of each NVMe controller:
    /// only `tractorsec facts` and `tractorsec audit` on the live root, as
    /// root, fill it; other snapshots say it was not collected.
    #[serde(default = "nvme_security_not_collected")]
    pub nvme_security: Source<Vec<NvmeSecurity>>,
}

/// What `image` holds when no manifest was checked.
pub fn image_not_checked() -> Source<ImageCheck> {
    Source::Error(FactError::new(
        crate::FactErrorKind::NotPresent,
        "",
        "no sealed manifest was checked (tractorsec audit does, when params manifest and pubkey are set)",
    ))
}

/// What `nvme_security` holds when it was not collected (an offline root, a
/// snapshot from an older tractorsec).
pub fn nvme_security_not_collected() -> Source<Vec<NvmeSecurity>> {
    Source::Error(FactError::new(
        crate::FactErrorKind::NotPresent,
        "/dev/nvme*",
        "NVMe Identify and TCG Level 0 were not collected (only a live root, as root, reads them)",
    ))
}

/// Security and erase facts of one NVMe controller (`/dev/nvmeX`): from
/// Identify Controller and TCG Level 0 Discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NvmeSecurity {
    /// The controller (`nvme0`).
    pub controller: String,
    /// Its namespaces (`nvme0n1`), sorted.
    pub namespaces: Vec<String>,
    /// What Identify Controller says, when it could be read.
    pub identify: Option<NvmeIdentify>,
    /// The Level 0 Discovery summary, when a source answered; `None` when
    /// neither could be read (see `error`). A drive that answered without
    /// any SSC has `ssc` `none`.
    pub tcg: Option<Level0Summary>,
    /// Where `tcg` came from.
    pub tcg_source: Option<TcgSource>,
    /// Why Identify or Level 0 could not be read, when one could not.
    pub error: Option<String>,
}

/// The Identify Controller fields that decide security and erase methods,
/// raw and decoded (reference *devices-and-images.md* §A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NvmeIdentify {
    /// Optional Admin Command Support (offset 256).
    pub oacs: u16,
    /// Sanitize Capabilities (offset 328).
    pub sanicap: u32,
    /// Format NVM Attributes (offset 524).
    pub fna: u8,
    /// OACS bit 0: Security Send and Receive (TCG transport).
    pub security_send_receive: bool,
    /// OACS bit 1: Format NVM.
    pub format_nvm: bool,
    /// SANICAP bit 0: Sanitize Crypto Erase.
    pub sanitize_crypto_erase: bool,
    /// SANICAP bit 1: Sanitize Block Erase.
    pub sanitize_block_erase: bool,
    /// SANICAP bit 2: Sanitize Overwrite.
    pub sanitize_overwrite: bool,
    /// FNA bit 2: Format NVM cryptographic erase (SES=2).
    pub format_crypto_erase: bool,
}

/// Which interface gave the TCG Level 0 facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TcgSource {
    /// Identify Controller: OACS bit 0 is clear, so the controller has no
    /// Security Send/Receive and no TCG security subsystem.
    Identify,
    /// NVMe Security Receive (SECP 1, ComID 1) on the controller: the full
    /// Level 0 response.
    SecurityReceive,
    /// Linux `IOC_OPAL_GET_STATUS` on a namespace: the kernel's own
    /// discovery, reduced to `OPAL_FL_*` flags (no SSC name, no
    /// MediaEncryption bit).
    IocOpalGetStatus,
}

/// The Security Subsystem Class a drive reports, strongest first (the order
/// in which a Level 0 summary picks when several are present).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ssc {
    /// Opal SSC 2.0 (0x0203).
    Opal2,
    /// Opal SSC 1.0 (0x0200).
    Opal1,
    /// Enterprise SSC (0x0100).
    Enterprise,
    /// Ruby SSC (0x0304).
    Ruby,
    /// Opalite SSC (0x0301).
    Opalite,
    /// Pyrite SSC 2.0 (0x0303): locking without media encryption.
    Pyrite2,
    /// Pyrite SSC 1.0 (0x0302): locking without media encryption.
    Pyrite1,
    /// No SSC descriptor.
    None,
    /// Opal, version not reported: `IOC_OPAL_GET_STATUS` says only that the
    /// kernel's Opal support accepted the drive (an Opal 1.0 or 2.0 SSC),
    /// not which SSC it found.
    OpalUnspecified,
}

impl Ssc {
    /// Whether this SSC implies media encryption (§A2: Opal 2, Opal 1,
    /// Enterprise, Opalite or Ruby; not Pyrite).
    #[must_use]
    pub fn encrypting(self) -> bool {
        matches!(
            self,
            Self::Opal2
                | Self::Opal1
                | Self::Enterprise
                | Self::Ruby
                | Self::Opalite
                | Self::OpalUnspecified
        )
    }

    /// A short human name (`Opal 2`, `Pyrite 1`, `no SSC`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Opal2 => "Opal 2",
            Self::Opal1 => "Opal 1",
            Self::Enterprise => "Enterprise",
            Self::Ruby => "Ruby",
            Self::Opalite => "Opalite",
            Self::Pyrite2 => "Pyrite 2",
            Self::Pyrite1 => "Pyrite 1",
            Self::None => "no SSC",
            Self::OpalUnspecified => "Opal",
        }
    }
}

/// What Level 0 Discovery says about a drive's self-encryption (reference
/// *devices-and-images.md* §A2, "Decision rules").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Level0Summary {
    /// A self-encrypting drive: Locking with MediaEncryption and an
    /// encrypting SSC descriptor.
    pub sed_present: bool,
    /// The strongest SSC descriptor present.
    pub ssc: Ssc,
    /// Locking byte 4 bit 0 (false without a Locking descriptor).
    pub locking_supported: bool,
    /// Locking byte 4 bit 1.
    pub locking_enabled: bool,
    /// Locking byte 4 bit 2.
    pub locked: bool,
    /// Locking byte 4 bit 3. From `IOC_OPAL_GET_STATUS`, which does not
    /// report it, inferred from an Opal SSC with locking supported (Opal
    /// requires media encryption; Pyrite, which does not, is not Opal).
    pub media_encryption: bool,
    /// Shadow MBR active: Locking bit 4 set and bit 5 clear.
    pub shadow_mbr_active: bool,
}

/// The result of checking the tree against its sealed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageCheck {
    /// The manifest file.
    pub manifest: String,
    /// Whether its signature verified with the configured public key
    /// (when not, nothing else was compared).
    pub signature_valid: bool,
    /// The signing key id, or why the signature was rejected.
    pub signature: String,
    /// Entries in the manifest.
    pub entries: u64,
    /// Entries on disk, not in the manifest.
    pub added: u64,
    /// Entries in the manifest, not on disk.
    pub removed: u64,
    /// Entries whose attributes differ.
    pub changed: u64,
    /// Entries that could not be compared (unreadable, vanished).
    pub errors: u64,
    /// The first drift lines (`changed /usr/bin/x: content, mode`).
    pub first: Vec<String>,
}

impl Facts {
    /// Every source that could not be read, by field name.
    pub fn errors(&self) -> Vec<(&'static str, &FactError)> {
        fn e<'a, T>(name: &'static str, s: &'a Source<T>) -> Option<(&'static str, &'a FactError)> {
            s.get().err().map(|err| (name, err))
        }
        [
            e("host", &self.host),
            e("kernel", &self.kernel),
            e("kconfig", &self.kconfig),
            e("sysctl", &self.sysctl),
            e("sysctl_persisted", &self.sysctl_persisted),
            e("lockdown", &self.lockdown),
            e("lsm", &self.lsm),
            e("module_sig_enforce", &self.module_sig_enforce),
            e("modules_loaded", &self.modules_loaded),
            e("modprobe", &self.modprobe),
            e("cpu", &self.cpu),
            e("mounts", &self.mounts),
            e("dev_nodes", &self.dev_nodes),
            e("iommu", &self.iommu),
            e("pci", &self.pci),
            e("nvidia_params", &self.nvidia_params),
            e("device_mapper", &self.device_mapper),
            e("accounts", &self.accounts),
            e("shadow", &self.shadow),
            e("groups", &self.groups),
            e("authorized_keys", &self.authorized_keys),
            e("sshd", &self.sshd),
            e("systemd", &self.systemd),
            e("packages", &self.packages),
            e("listeners", &self.listeners),
            e("audit", &self.audit),
            e("journald", &self.journald),
            e("image", &self.image),
            e("nvme_security", &self.nvme_security),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Host identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Host {
    /// `/etc/hostname` or `/proc/sys/kernel/hostname`.
    pub hostname: Option<String>,
    /// `/etc/machine-id`.
    pub machine_id: Option<String>,
    /// `ID` from os-release.
    pub os_id: Option<String>,
    /// `VERSION_ID` from os-release.
    pub os_version_id: Option<String>,
    /// `PRETTY_NAME` from os-release.
    pub os_pretty_name: Option<String>,
}

/// Kernel release and command line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Kernel {
    /// `uname -r` (from `/proc/sys/kernel/osrelease`, or the newest
    /// `/boot/config-*` / `/lib/modules/*` on an offline image).
    pub release: Option<String>,
    /// The kernel command line.
    pub cmdline: Cmdline,
}

/// A parsed kernel command line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cmdline {
    /// Where it was read: `/proc/cmdline`, `/etc/kernel/cmdline` or
    /// `/etc/default/grub`.
    pub source: String,
    /// The raw line.
    pub raw: String,
    /// Parameters in order; a bare flag has no value.
    pub params: Vec<CmdlineParam>,
}

/// One kernel command-line parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CmdlineParam {
    /// Name before `=`.
    pub name: String,
    /// Value after `=`, `None` for a bare flag.
    pub value: Option<String>,
}

/// Kernel build configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KConfig {
    /// `/proc/config.gz` or `/boot/config-<release>`.
    pub source: String,
    /// Option name without `CONFIG_` → value as written (`y`, `m`, a number
    /// or string without quotes); `n` for `# CONFIG_X is not set`. An option
    /// absent from the file is absent from the map.
    pub options: BTreeMap<String, String>,
}

/// Live sysctl values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sysctl {
    /// Dotted name → value (whitespace runs folded to one space).
    pub values: BTreeMap<String, String>,
    /// Dotted name → why it could not be read (e.g. needs root).
    pub unreadable: BTreeMap<String, String>,
}

/// The sysctl configuration a reboot would apply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PersistedSysctl {
    /// Files read, in the order systemd-sysctl applies them.
    pub files: Vec<String>,
    /// Dotted name (may hold a `*` glob) → the value that wins.
    pub entries: BTreeMap<String, PersistedValue>,
}

impl PersistedSysctl {
    /// The value a reboot would give `key`: its own entry, else the first
    /// glob entry (`net.ipv4.conf.*.rp_filter`) matching it.
    pub fn entry(&self, key: &str) -> Option<&PersistedValue> {
        self.entries.get(key).or_else(|| {
            self.entries
                .iter()
                .find(|(k, _)| k.contains('*') && crate::text::glob_match(k, key))
                .map(|(_, v)| v)
        })
    }
}

/// One persisted sysctl value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PersistedValue {
    /// The value.
    pub value: String,
    /// The file that set it.
    pub file: String,
    /// 1-based line in that file.
    pub line: usize,
}

/// modprobe.d configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Modprobe {
    /// Files read, in the order modprobe reads them.
    pub files: Vec<String>,
    /// Directives in read order.
    pub directives: Vec<ModprobeDirective>,
}

/// The kind of a modprobe.d directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModprobeKind {
    /// `blacklist MODULE`.
    Blacklist,
    /// `install MODULE COMMAND…`.
    Install,
    /// `remove MODULE COMMAND…`.
    Remove,
    /// `options MODULE OPTION…`.
    Options,
    /// `alias WILDCARD MODULE`.
    Alias,
    /// `softdep MODULE pre: … post: …`.
    Softdep,
}

/// One modprobe.d directive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModprobeDirective {
    /// The directive.
    pub kind: ModprobeKind,
    /// The module (for `alias`, the wildcard), `-` folded to `_`.
    pub module: String,
    /// The rest of the line.
    pub args: String,
    /// The file it came from.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// CPU identity and vulnerability state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cpu {
    /// `vendor_id` of the first processor (`GenuineIntel`, `AuthenticAMD`).
    pub vendor: Option<String>,
    /// Flags of the first processor, sorted.
    pub flags: Vec<String>,
    /// File name under `/sys/devices/system/cpu/vulnerabilities` → its text.
    pub vulnerabilities: BTreeMap<String, String>,
}

/// One mount from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mount {
    /// Mount point.
    pub mount_point: String,
    /// Root of the mount within its filesystem.
    pub root: String,
    /// Filesystem type.
    pub fs_type: String,
    /// Mount source (device).
    pub source: String,
    /// Per-mount and super-block options, merged.
    pub options: Vec<String>,
}

impl Mount {
    /// The mount whose mount point is the longest prefix of `path` (the
    /// last one mounted when several stack on it).
    pub fn covering<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
        let within = |m: &&Mount| {
            let mp = m.mount_point.trim_end_matches('/');
            path == m.mount_point || path.starts_with(&format!("{mp}/")) || mp.is_empty()
        };
        mounts
            .iter()
            .filter(within)
            .fold(None, |best: Option<&Mount>, m| match best {
                Some(b) if b.mount_point.len() > m.mount_point.len() => Some(b),
                _ => Some(m),
            })
    }
}

/// What kind of device a node is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DevClass {
    /// NVIDIA or DRM GPU nodes.
    Gpu,
    /// NVMe controllers, namespaces and generic nodes.
    Nvme,
    /// Other block devices and SCSI generic nodes.
    Block,
    /// InfiniBand / RDMA nodes.
    Rdma,
    /// VFIO nodes.
    Vfio,
    /// `/dev/mem`, `/dev/kmem`, `/dev/port`.
    Mem,
    /// Anything else.
    Other,
}

/// Character or block device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DevKind {
    /// Character device.
    Char,
    /// Block device.
    Block,
}

/// One device node under `/dev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DevNode {
    /// Path inside the root.
    pub path: String,
    /// Char or block.
    pub kind: DevKind,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Classification.
    pub class: DevClass,
}

/// IOMMU state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Iommu {
    /// Entries of `/sys/class/iommu`.
    pub units: Vec<String>,
    /// Group number → PCI addresses in it.
    pub groups: BTreeMap<String, Vec<String>>,
}

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PciDevice {
    /// `0000:18:00.0`.
    pub address: String,
    /// Vendor id (`0x10de`).
    pub vendor: String,
    /// Device id.
    pub device: String,
    /// Class code (`0x030200`).
    pub class: String,
    /// Bound driver name.
    pub driver: Option<String>,
    /// IOMMU group number.
    pub iommu_group: Option<String>,
}

/// One device-mapper device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DmDevice {
    /// Kernel name (`dm-0`).
    pub kernel_name: String,
    /// `dm/name`.
    pub name: String,
    /// `dm/uuid` (`CRYPT-VERITY-…`, `CRYPT-LUKS2-…`).
    pub uuid: String,
    /// Kernel names of the devices beneath it (`slaves/`: `nvme0n1p2`).
    pub slaves: Vec<String>,
}

/// Accounts and login policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Accounts {
    /// `UID_MIN` from `/etc/login.defs` (1000 when unset).
    pub uid_min: u32,
    /// `/etc/passwd` entries in file order.
    pub users: Vec<Account>,
}

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// Password lock state from `/etc/shadow`; the hash itself is never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    /// Empty password field: login without a password.
    Empty,
    /// Locked (`!…` or `*`).
    Locked,
    /// A usable password hash is set.
    Set,
}

/// One `/etc/group` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u32,
    /// Supplementary members.
    pub members: Vec<String>,
}

/// An `authorized_keys` file in an account's home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthorizedKeys {
    /// Account name.
    pub user: String,
    /// Account uid.
    pub uid: u32,
    /// Path of the file.
    pub path: String,
    /// Number of key lines in it.
    pub keys: usize,
}

/// sshd's effective configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sshd {
    /// Files read, main file first, then `Include`d files in order.
    pub files: Vec<String>,
    /// Lower-cased keyword → first value seen (as sshd does), outside `Match`.
    pub settings: BTreeMap<String, SshdValue>,
}

/// One effective sshd setting and where it was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SshdValue {
    /// The value as written.
    pub value: String,
    /// The file that set it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// systemd units.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Systemd {
    /// Unit name → unit.
    pub units: BTreeMap<String, Unit>,
}

/// Enablement of a unit, from unit files and `.wants`/`.requires` links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// Linked from a `.wants`/`.requires` directory.
    Enabled,
    /// Has an `[Install]` section but is not linked.
    Disabled,
    /// Symlinked to `/dev/null`.
    Masked,
    /// No `[Install]` section and not linked.
    Static,
}

/// One systemd unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Unit {
    /// The unit file that defines it (absent when masked or only linked).
    pub path: Option<String>,
    /// Enablement.
    pub state: UnitState,
    /// Targets/units whose `.wants`/`.requires` link to it.
    pub wanted_by: Vec<String>,
    /// Whether it is running (live roots with `/run/systemd/units`), else unknown.
    pub active: Option<bool>,
    /// Effective `[Service]` settings (drop-ins applied, last value wins).
    pub service: BTreeMap<String, String>,
}

/// Installed packages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Packages {
    /// The database read (`/var/lib/dpkg/status`).
    pub source: String,
    /// Installed package name → version.
    pub installed: BTreeMap<String, String>,
}

/// A listening socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Listener {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    pub protocol: String,
    /// Local address (`0.0.0.0`, `::`, `127.0.0.1`…).
    pub address: String,
    /// Local port.
    pub port: u16,
    /// Socket inode.
    pub inode: u64,
    /// Owning process, when visible.
    pub process: Option<Process>,
}

/// A process owning a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// `comm`.
    pub name: String,
}

/// auditd configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Audit {
    /// Rule files read.
    pub files: Vec<String>,
    /// Rules (comments and blanks removed), in load order.
    pub rules: Vec<String>,
}

/// journald's effective configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Journald {
    /// Files read, main file first, then drop-ins.
    pub files: Vec<String>,
    /// `[Journal]` keyword → value (last wins).
    pub settings: BTreeMap<String, String>,
    /// Whether `/var/log/journal` exists (`Storage=auto` persists then).
    pub var_log_journal: bool,
}
