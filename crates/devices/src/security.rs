//! Security facts of the NVMe controllers of the live system: Identify
//! Controller (OACS, SANICAP, FNA) and TCG Level 0 Discovery, through NVMe
//! Security Receive or, when that is not available, Linux
//! `IOC_OPAL_GET_STATUS` on a namespace (reference *devices-and-images.md*,
//! PART A, §A1 and §A2).
//!
//! [`probe`] sends commands to devices and needs root; [`assess`] holds the
//! decisions and is tested through a fake controller.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use tractorsec_facts::{
    FactError, FactErrorKind, Level0Summary, NvmeSecurity, Root, Ssc, TcgSource,
};

use crate::block::{CLASS_NVME, namespaces_of};
use crate::nvme::admin::{self, AdminError, IoctlController, NvmeAdmin};

/// `nvmeX`: a controller name (not `nvme-subsys0` or `nvme-fabrics`).
fn is_controller(name: &str) -> bool {
    name.strip_prefix("nvme")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Probe every NVMe controller of the live root. Fails only when the root
/// is not the live system or `/sys/class/nvme` cannot be listed; a
/// controller that cannot be read gets its reason in
/// [`NvmeSecurity::error`].
pub fn probe(root: &Root) -> Result<Vec<NvmeSecurity>, FactError> {
    if !root.is_live() {
        return Err(FactError::new(
            FactErrorKind::Offline,
            "/dev/nvme*",
            "NVMe Identify and TCG Level 0 need the live system",
        ));
    }
    let mut out = Vec::new();
    for name in root.read_dir_optional(CLASS_NVME)? {
        if !is_controller(&name) {
            continue;
        }
        let namespaces = namespaces_of(root, &name)?;
        let device = format!("/dev/{name}");
        let mut ctrl = IoctlController::open(Path::new(&device));
        let admin: Result<&mut dyn NvmeAdmin, String> = match &mut ctrl {
            Ok(c) => Ok(c as &mut dyn NvmeAdmin),
            Err(e) => Err(format!("cannot open {device}: {e}")),
        };
        let first = namespaces.first().cloned();
        let mut opal_status = || -> Result<u32, String> {
            let Some(ns) = &first else {
                return Err("no namespace to ask IOC_OPAL_GET_STATUS".into());
            };
            let path = format!("/dev/{ns}");
            let file = File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
            tractorsec_sys::opal::status(file.as_fd())
                .map_err(|e| format!("IOC_OPAL_GET_STATUS on {path}: {e}"))
        };
        out.push(assess(&name, namespaces, admin, &mut opal_status));
    }
    Ok(out)
}

/// One line for humans: the TCG verdict, the erase capabilities and any
/// error (`Opal 2 SED, locking enabled, unlocked (security_receive); …`).
#[must_use]
pub fn describe(s: &NvmeSecurity) -> String {
    let mut parts = Vec::new();
    match (&s.tcg, s.tcg_source) {
        (Some(t), source) => {
            let kind = match (t.ssc, t.sed_present) {
                (Ssc::None, _) => "no TCG security subsystem".to_string(),
                (ssc, true) => format!("{} SED", ssc.label()),
                (ssc, false) if !ssc.encrypting() => {
                    format!("{} (locking without media encryption)", ssc.label())
                }
                (ssc, false) => format!("{} without media encryption or locking", ssc.label()),
            };
            let mut tcg = kind;
            if t.locking_supported {
                tcg.push_str(if t.locking_enabled {
                    ", locking enabled"
                } else {
                    ", locking not enabled"
                });
                tcg.push_str(if t.locked { ", locked" } else { ", unlocked" });
            }
            if t.shadow_mbr_active {
                tcg.push_str(", shadow MBR active");
            }
            if let Some(source) = source {
                tcg.push_str(&format!(" ({})", crate::text::serde_name(&source)));
            }
            parts.push(tcg);
        }
        (None, _) => parts.push("TCG unknown".to_string()),
    }
    if let Some(id) = &s.identify {
        let mut erase: Vec<&str> = Vec::new();
        for (on, name) in [
            (id.sanitize_crypto_erase, "sanitize crypto"),
            (id.sanitize_block_erase, "sanitize block"),
            (id.sanitize_overwrite, "sanitize overwrite"),
            (id.format_crypto_erase, "format crypto"),
            (id.format_nvm, "format"),
        ] {
            if on {
                erase.push(name);
            }
        }
        parts.push(format!(
            "OACS 0x{:04x} SANICAP 0x{:08x} FNA 0x{:02x}, erase: {}",
            id.oacs,
            id.sanicap,
            id.fna,
            if erase.is_empty() {
                "none".to_string()
            } else {
                erase.join(", ")
            }
        ));
    }
    if let Some(e) = &s.error {
        parts.push(format!("error: {e}"));
    }
    parts.join("; ")
}

/// The Level 0 summary that `IOC_OPAL_GET_STATUS` flags give.
///
/// The kernel reports no SSC name and no MediaEncryption bit. It sets
/// `OPAL_FL_SUPPORTED` only for a drive whose discovery showed an Opal SSC
/// (1.0 or 2.0), so the SSC is [`Ssc::OpalUnspecified`], and a drive is
/// taken as an SED (media encryption inferred) when it is supported and
/// supports locking. A Pyrite drive is not `SUPPORTED`.
#[must_use]
pub fn summary_from_opal_flags(flags: u32) -> Level0Summary {
    use tractorsec_sys::opal::{
        FL_LOCKED, FL_LOCKING_ENABLED, FL_LOCKING_SUPPORTED, FL_MBR_DONE, FL_MBR_ENABLED,
        FL_SUPPORTED,
    };
    let has = |bit: u32| flags & bit != 0;
    let supported = has(FL_SUPPORTED);
    let sed = supported && has(FL_LOCKING_SUPPORTED);
    Level0Summary {
        sed_present: sed,
        ssc: if supported {
            Ssc::OpalUnspecified
        } else {
            Ssc::None
        },
        locking_supported: has(FL_LOCKING_SUPPORTED),
        locking_enabled: has(FL_LOCKING_ENABLED),
        locked: has(FL_LOCKED),
        media_encryption: sed,
        shadow_mbr_active: has(FL_MBR_ENABLED) && !has(FL_MBR_DONE),
    }
}

/// A drive that has no TCG security subsystem.
fn no_tcg() -> Level0Summary {
    Level0Summary {
        sed_present: false,
        ssc: Ssc::None,
        locking_supported: false,
        locking_enabled: false,
        locked: false,
        media_encryption: false,
        shadow_mbr_active: false,
    }
}

/// Decide the security facts of one controller.
///
/// `opened` is the opened controller or why it could not be opened;
/// `opal_status` asks `IOC_OPAL_GET_STATUS` on a namespace, and is called
/// only when Security Receive gave no answer. The rules:
/// - Identify Controller's OACS bit 0 clear: no Security Send/Receive, so no
///   TCG (`tcg_source` `identify`).
/// - Otherwise Level 0 Discovery through Security Receive.
/// - When that fails (or Identify could not be read), the kernel's
///   `IOC_OPAL_GET_STATUS`.
/// - When both fail and the controller itself rejected Security Receive
///   (a status, as QEMU answers), no TCG (§A2); after an I/O error, nothing
///   is known and `tcg` stays `None`.
pub fn assess(
    controller: &str,
    namespaces: Vec<String>,
    opened: Result<&mut dyn NvmeAdmin, String>,
    opal_status: &mut dyn FnMut() -> Result<u32, String>,
) -> NvmeSecurity {
    let device = format!("/dev/{controller}");
    let mut errors = Vec::new();
    let mut identify = None;
    let mut tcg = None;
    let mut tcg_source = None;
    let mut level0_error = None;
    match opened {
        Err(e) => errors.push(e),
        Ok(ctrl) => match admin::identify(ctrl, &device) {
            Err(e) => errors.push(format!("Identify Controller on {device}: {e}")),
            Ok(id) => {
                let id = id.facts();
                identify = Some(id);
                if !id.security_send_receive {
                    tcg = Some(no_tcg());
                    tcg_source = Some(TcgSource::Identify);
                } else {
                    match admin::level0_discovery(ctrl, &device) {
                        Ok(l0) => {
                            tcg = Some(l0.summary());
                            tcg_source = Some(TcgSource::SecurityReceive);
                        }
                        Err(e) => level0_error = Some(e),
                    }
                }
            }
        },
    }
    if tcg.is_none() {
        match opal_status() {
            Ok(flags) => {
                tcg = Some(summary_from_opal_flags(flags));
                tcg_source = Some(TcgSource::IocOpalGetStatus);
            }
            Err(e) => {
                if let Some(l0) = &level0_error {
                    errors.push(format!("Level 0 Discovery on {device}: {l0}"));
                }
                if matches!(level0_error, Some(AdminError::Status(_))) {
                    // §A2: a drive that rejects Security Receive has no TCG.
                    tcg = Some(no_tcg());
                    tcg_source = Some(TcgSource::SecurityReceive);
                }
                errors.push(e);
            }
        }
    }
    NvmeSecurity {
        controller: controller.to_string(),
        namespaces,
        identify,
        tcg,
        tcg_source,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nvme::command::{AdminCommand, OPCODE_IDENTIFY, OPCODE_SECURITY_RECEIVE};
    use crate::nvme::identify::tests::build;
    use crate::opal::level0::tests::{
        Builder, ENABLED, LOCKED, MBR_DONE, MBR_ENABLED, MEDIA_ENC, SUPPORTED,
    };
    use tractorsec_sys::opal as fl;

    /// A controller answering Identify and Security Receive from canned
    /// buffers, or with a status.
    struct Fake {
        identify: Result<Vec<u8>, u32>,
        level0: Result<Vec<u8>, u32>,
        sent: Vec<u8>,
    }

    impl NvmeAdmin for Fake {
        fn execute(&mut self, cmd: &AdminCommand, data: &mut [u8]) -> Result<(), AdminError> {
            self.sent.push(cmd.opcode);
            let answer = match cmd.opcode {
                OPCODE_IDENTIFY => &self.identify,
                OPCODE_SECURITY_RECEIVE => &self.level0,
                _ => return Err(AdminError::Status(0x01)),
            };
            let bytes = answer.as_ref().map_err(|&s| AdminError::Status(s))?;
            let n = bytes.len().min(data.len());
            data[..n].copy_from_slice(&bytes[..n]);
            Ok(())
        }
    }

    fn fake(oacs: u16, level0: Result<Vec<u8>, u32>) -> Fake {
        Fake {
            identify: Ok(build("SN", "MODEL", "FW", oacs, 0b111, 0b100)),
            level0,
            sent: Vec::new(),
        }
    }

    fn opal2(flags: u8) -> Vec<u8> {
        Builder::new().tper().locking(flags).opal2().finish()
    }

    fn pyrite2() -> Vec<u8> {
        Builder::new()
            .tper()
            .locking(SUPPORTED | ENABLED)
            .feature(0x0303, &[0x07, 0xFE, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
            .finish()
    }

    fn run(ctrl: &mut Fake, status: Result<u32, String>) -> (NvmeSecurity, bool) {
        let mut asked = false;
        let mut opal = || {
            asked = true;
            status.clone()
        };
        let s = assess("nvme0", vec!["nvme0n1".into()], Ok(ctrl), &mut opal);
        (s, asked)
    }

    #[test]
    fn opal2_sed_with_locking_enabled_through_security_receive() {
        let mut ctrl = fake(0b11, Ok(opal2(SUPPORTED | ENABLED | MEDIA_ENC)));
        let (s, asked) = run(&mut ctrl, Err("unused".into()));
        assert!(!asked, "GET_STATUS is not needed after Security Receive");
        assert_eq!(ctrl.sent, [OPCODE_IDENTIFY, OPCODE_SECURITY_RECEIVE]);
        assert_eq!(s.controller, "nvme0");
        assert_eq!(s.namespaces, ["nvme0n1"]);
        assert_eq!(s.tcg_source, Some(TcgSource::SecurityReceive));
        assert_eq!(s.error, None);
        let tcg = s.tcg.expect("tcg");
        assert_eq!(tcg.ssc, Ssc::Opal2);
        assert!(tcg.sed_present && tcg.locking_enabled && !tcg.locked);
        let id = s.identify.expect("identify");
        assert_eq!((id.oacs, id.sanicap, id.fna), (0b11, 0b111, 0b100));
        assert!(id.security_send_receive && id.format_nvm && id.format_crypto_erase);
        assert!(id.sanitize_crypto_erase && id.sanitize_block_erase && id.sanitize_overwrite);
    }

    #[test]
    fn pyrite_drive_is_reported_without_sed() {
        let mut ctrl = fake(0b01, Ok(pyrite2()));
        let (s, _) = run(&mut ctrl, Err("unused".into()));
        let tcg = s.tcg.expect("tcg");
        assert_eq!(tcg.ssc, Ssc::Pyrite2);
        assert!(!tcg.sed_present && tcg.locking_enabled);
        assert!(!s.identify.expect("identify").format_nvm);
    }

    #[test]
    fn locked_drive_with_shadow_mbr() {
        let flags = SUPPORTED | ENABLED | LOCKED | MEDIA_ENC | MBR_ENABLED;
        let (s, _) = run(&mut fake(0b11, Ok(opal2(flags))), Err("unused".into()));
        let tcg = s.tcg.expect("tcg");
        assert!(tcg.locked && tcg.shadow_mbr_active);
        let done = opal2(flags | MBR_DONE);
        let (s, _) = run(&mut fake(0b11, Ok(done)), Err("unused".into()));
        assert!(!s.tcg.expect("tcg").shadow_mbr_active);
    }

    #[test]
    fn oacs_without_security_means_no_tcg_and_no_security_receive() {
        let mut ctrl = fake(0b10, Ok(opal2(SUPPORTED | MEDIA_ENC)));
        let (s, asked) = run(&mut ctrl, Err("unused".into()));
        assert!(!asked);
        assert_eq!(ctrl.sent, [OPCODE_IDENTIFY]);
        assert_eq!(s.tcg_source, Some(TcgSource::Identify));
        assert_eq!(s.tcg, Some(no_tcg()));
        assert_eq!(s.error, None);
    }

    #[test]
    fn rejected_security_receive_falls_back_to_get_status() {
        let flags = fl::FL_SUPPORTED | fl::FL_LOCKING_SUPPORTED | fl::FL_LOCKING_ENABLED;
        let (s, asked) = run(&mut fake(0b11, Err(0x4002)), Ok(flags));
        assert!(asked);
        assert_eq!(s.tcg_source, Some(TcgSource::IocOpalGetStatus));
        assert_eq!(
            s.error, None,
            "the kernel's answer replaces Security Receive"
        );
        let tcg = s.tcg.expect("tcg");
        assert_eq!(tcg.ssc, Ssc::OpalUnspecified);
        assert!(tcg.sed_present && tcg.media_encryption && tcg.locking_enabled);
    }

    #[test]
    fn rejected_security_receive_without_get_status_is_no_tcg() {
        // QEMU answers Invalid Field in Command (§A4); the VM kernel has no
        // CONFIG_BLK_SED_OPAL.
        let (s, _) = run(&mut fake(0b11, Err(0x0002)), Err("ENOTTY".into()));
        assert_eq!(s.tcg, Some(no_tcg()));
        assert_eq!(s.tcg_source, Some(TcgSource::SecurityReceive));
        let error = s.error.expect("error kept as evidence");
        assert!(error.contains("Level 0 Discovery on /dev/nvme0"), "{error}");
        assert!(error.contains("Invalid Field in Command"), "{error}");
        assert!(error.ends_with("ENOTTY"), "{error}");
    }

    #[test]
    fn unopenable_controller_uses_get_status_or_reports_both_errors() {
        let mut opal = || Ok(fl::FL_SUPPORTED | fl::FL_LOCKING_SUPPORTED);
        let s = assess(
            "nvme1",
            vec!["nvme1n1".into()],
            Err("denied".into()),
            &mut opal,
        );
        assert_eq!(s.identify, None);
        assert_eq!(s.tcg_source, Some(TcgSource::IocOpalGetStatus));
        assert_eq!(s.error.as_deref(), Some("denied"));

        let mut none = || Err("no CONFIG_BLK_SED_OPAL".to_string());
        let s = assess("nvme1", vec![], Err("denied".into()), &mut none);
        assert_eq!((s.tcg, s.tcg_source), (None, None));
        assert_eq!(s.error.as_deref(), Some("denied; no CONFIG_BLK_SED_OPAL"));
    }

    #[test]
    fn opal_flags_map_to_a_summary() {
        let s = summary_from_opal_flags(0);
        assert_eq!(s, no_tcg());
        // Locking supported without SUPPORTED (not Opal): not an SED.
        let s = summary_from_opal_flags(fl::FL_LOCKING_SUPPORTED | fl::FL_LOCKING_ENABLED);
        assert_eq!(s.ssc, Ssc::None);
        assert!(!s.sed_present && s.locking_supported && s.locking_enabled);
        let all = fl::FL_SUPPORTED
            | fl::FL_LOCKING_SUPPORTED
            | fl::FL_LOCKING_ENABLED
            | fl::FL_LOCKED
            | fl::FL_MBR_ENABLED;
        let s = summary_from_opal_flags(all);
        assert!(s.sed_present && s.locked && s.shadow_mbr_active);
        assert!(!summary_from_opal_flags(all | fl::FL_MBR_DONE).shadow_mbr_active);
        // Supported but no locking: Opal without locking is not an SED.
        let s = summary_from_opal_flags(fl::FL_SUPPORTED);
        assert_eq!(s.ssc, Ssc::OpalUnspecified);
        assert!(!s.sed_present);
    }

    #[test]
    fn describe_says_what_the_drive_is() {
        let (s, _) = run(
            &mut fake(0b11, Ok(opal2(SUPPORTED | ENABLED | MEDIA_ENC))),
            Err(String::new()),
        );
        assert_eq!(
            describe(&s),
            "Opal 2 SED, locking enabled, unlocked (security_receive); \
             OACS 0x0003 SANICAP 0x00000007 FNA 0x04, erase: sanitize crypto, \
             sanitize block, sanitize overwrite, format crypto, format"
        );
        let (s, _) = run(&mut fake(0b01, Ok(pyrite2())), Err(String::new()));
        assert!(
            describe(&s)
                .starts_with("Pyrite 2 (locking without media encryption), locking enabled"),
            "{}",
            describe(&s)
        );
        let mut none = || Err("ENOTTY".to_string());
        let s = assess("nvme1", vec![], Err("denied".into()), &mut none);
        assert_eq!(describe(&s), "TCG unknown; error: denied; ENOTTY");
    }

    #[test]
    fn offline_root_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = Root::open(tmp.path()).expect("root");
        assert_eq!(probe(&root).unwrap_err().kind, FactErrorKind::Offline);
        assert!(is_controller("nvme12") && !is_controller("nvme-subsys0"));
        assert!(!is_controller("nvme"));
    }
}
