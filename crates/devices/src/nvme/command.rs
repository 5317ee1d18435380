//! Encoders for the NVMe admin commands that device lifecycle needs, and the
//! byte image of the kernel's `struct nvme_passthru_cmd` they are sent in.
//!
//! Layouts and golden values: reference *devices-and-images.md*, PART A,
//! §A1 ("The NVMe ioctl", "Sanitize", "Format NVM") and §A2 ("Transport").
//! Nothing here performs I/O: the caller fills the data pointer and issues
//! `NVME_IOCTL_ADMIN_CMD`.

use std::fmt;

/// Size of `struct nvme_passthru_cmd` (alias `nvme_admin_cmd`), §A1.
pub const PASSTHRU_CMD_LEN: usize = 72;

/// The byte image of one `struct nvme_passthru_cmd`, native-endian (§A1).
pub type PassthruBytes = [u8; PASSTHRU_CMD_LEN];

const _: () = assert!(size_of::<PassthruBytes>() == 72);

/// `NVME_IOCTL_ADMIN_CMD = _IOWR('N', 0x41, struct nvme_admin_cmd)`, §A1.
pub const NVME_IOCTL_ADMIN_CMD: u32 =
    (3 << 30) | ((PASSTHRU_CMD_LEN as u32) << 16) | ((b'N' as u32) << 8) | 0x41;

const _: () = assert!(NVME_IOCTL_ADMIN_CMD == 0xC048_4E41);

/// Admin opcode Get Log Page (§A1, "Admin opcodes").
pub const OPCODE_GET_LOG_PAGE: u8 = 0x02;
/// Admin opcode Identify.
pub const OPCODE_IDENTIFY: u8 = 0x06;
/// Admin opcode Format NVM.
pub const OPCODE_FORMAT_NVM: u8 = 0x80;
/// Admin opcode Security Send.
pub const OPCODE_SECURITY_SEND: u8 = 0x81;
/// Admin opcode Security Receive.
pub const OPCODE_SECURITY_RECEIVE: u8 = 0x82;
/// Admin opcode Sanitize.
pub const OPCODE_SANITIZE: u8 = 0x84;

/// The broadcast namespace id (all namespaces).
pub const NSID_ALL: u32 = 0xFFFF_FFFF;
/// Log identifier of the Sanitize Status log (§A1).
pub const LID_SANITIZE_STATUS: u8 = 0x81;
/// Length of the Sanitize Status log in bytes (§A1).
pub const SANITIZE_LOG_LEN: u32 = 512;
/// Length of the Identify Controller data structure in bytes (§A1).
pub const IDENTIFY_LEN: u32 = 4096;
/// Allocation length sedutil uses for Level 0 Discovery (§A2).
pub const LEVEL0_DISCOVERY_LEN: u32 = 2048;

/// One NVMe admin command: what goes into `struct nvme_passthru_cmd`
/// besides the data pointer, which the I/O layer fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdminCommand {
    /// Admin opcode (offset 0).
    pub opcode: u8,
    /// Namespace id (offset 4).
    pub nsid: u32,
    /// Command dword 10 (offset 40).
    pub cdw10: u32,
    /// Command dword 11 (offset 44).
    pub cdw11: u32,
    /// Command dword 12 (offset 48).
    pub cdw12: u32,
    /// Command dword 13 (offset 52).
    pub cdw13: u32,
    /// Command dword 14 (offset 56).
    pub cdw14: u32,
    /// Command dword 15 (offset 60).
    pub cdw15: u32,
    /// Length of the data buffer in bytes (offset 36).
    pub data_len: u32,
    /// Timeout in milliseconds (offset 64); 0 is the kernel default.
    /// Format with User Data Erase can take minutes (§A1).
    pub timeout_ms: u32,
}

impl AdminCommand {
    /// This command with `timeout_ms` set.
    #[must_use]
    pub fn with_timeout_ms(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// The 72-byte `struct nvme_passthru_cmd` image (layout in §A1), in
    /// native byte order as the ioctl expects. flags, rsvd1, cdw2, cdw3,
    /// the metadata and data pointers, metadata_len and result are zero.
    #[must_use]
    pub fn to_bytes(&self) -> PassthruBytes {
        let mut b = [0u8; PASSTHRU_CMD_LEN];
        b[0] = self.opcode;
        let mut put = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        put(4, self.nsid);
        put(36, self.data_len);
        put(40, self.cdw10);
        put(44, self.cdw11);
        put(48, self.cdw12);
        put(52, self.cdw13);
        put(56, self.cdw14);
        put(60, self.cdw15);
        put(64, self.timeout_ms);
        b
    }
}

/// Why a command could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// A parameter is outside the range its field can hold.
    OutOfRange {
        /// The parameter, as the specification names it.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The allowed values.
        allowed: &'static str,
    },
    /// Two options that the specification forbids together.
    Conflict(&'static str),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange {
                field,
                value,
                allowed,
            } => write!(f, "{field} = {value} is out of range ({allowed})"),
            Self::Conflict(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for CommandError {}

/// Identify Controller: CNS=1 so cdw10 = 0x1, 4096 bytes back (§A1).
#[must_use]
pub fn identify_controller() -> AdminCommand {
    AdminCommand {
        opcode: OPCODE_IDENTIFY,
        cdw10: 1,
        data_len: IDENTIFY_LEN,
        ..AdminCommand::default()
    }
}

/// Get Log Page for log `lid` of `len` bytes: cdw10 = `LID | NUMDL << 16`,
/// cdw11 bits 15:0 = NUMDU, where NUMD = `len / 4 - 1` (§A1). `len` must be
/// a non-zero multiple of 4.
pub fn get_log_page(lid: u8, nsid: u32, len: u32) -> Result<AdminCommand, CommandError> {
    if len == 0 || !len.is_multiple_of(4) {
        return Err(CommandError::OutOfRange {
            field: "data_len",
            value: len.into(),
            allowed: "a non-zero multiple of 4",
        });
    }
    let numd = len / 4 - 1;
    Ok(AdminCommand {
        opcode: OPCODE_GET_LOG_PAGE,
        nsid,
        cdw10: u32::from(lid) | ((numd & 0xFFFF) << 16),
        cdw11: numd >> 16,
        data_len: len,
        ..AdminCommand::default()
    })
}

/// Get Log Page for the 512-byte Sanitize Status log: nsid 0xFFFFFFFF,
/// cdw10 = 0x007F0081 (§A1, "Sanitize Status log").
#[must_use]
pub fn sanitize_status_log() -> AdminCommand {
    let numd = SANITIZE_LOG_LEN / 4 - 1;
    AdminCommand {
        opcode: OPCODE_GET_LOG_PAGE,
        nsid: NSID_ALL,
        cdw10: u32::from(LID_SANITIZE_STATUS) | (numd << 16),
        data_len: SANITIZE_LOG_LEN,
        ..AdminCommand::default()
    }
}

/// Security Receive: cdw10 = `SECP << 24 | SPSP << 8`, cdw11 = allocation
/// length = `data_len` (§A2, "Transport").
#[must_use]
pub fn security_receive(secp: u8, spsp: u16, len: u32) -> AdminCommand {
    AdminCommand {
        opcode: OPCODE_SECURITY_RECEIVE,
        cdw10: (u32::from(secp) << 24) | (u32::from(spsp) << 8),
        cdw11: len,
        data_len: len,
        ..AdminCommand::default()
    }
}

/// TCG Level 0 Discovery as sedutil sends it: Security Receive with SECP 1,
/// ComID 1, 2048 bytes, so cdw10 = 0x01000100 (§A2).
#[must_use]
pub fn level0_discovery() -> AdminCommand {
    security_receive(0x01, 0x0001, LEVEL0_DISCOVERY_LEN)
}

/// The Sanitize action (SANACT, cdw10 bits 2:0) and its parameters (§A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanitizeAction {
    /// SANACT 1: leave the failure state of an unrestricted sanitize.
    ExitFailureMode,
    /// SANACT 2: Block Erase.
    BlockErase,
    /// SANACT 3: Overwrite.
    Overwrite {
        /// Number of passes, 1..=16 (encoded as OWPASS, where 0 means 16).
        passes: u8,
        /// OIPBP: invert the pattern between passes.
        invert_between_passes: bool,
        /// OVRPAT, the 32-bit pattern (cdw11).
        pattern: u32,
    },
    /// SANACT 4: Crypto Erase.
    CryptoErase,
}

impl SanitizeAction {
    /// The SANACT value (cdw10 bits 2:0).
    #[must_use]
    pub fn sanact(&self) -> u32 {
        match self {
            Self::ExitFailureMode => 1,
            Self::BlockErase => 2,
            Self::Overwrite { .. } => 3,
            Self::CryptoErase => 4,
        }
    }
}

/// A Sanitize command: the action plus the AUSE and NDAS flags (§A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sanitize {
    /// What to do.
    pub action: SanitizeAction,
    /// AUSE (cdw10 bit 3): unrestricted completion, so a failed sanitize can
    /// be left with Exit Failure Mode.
    pub allow_unrestricted_exit: bool,
    /// NDAS (cdw10 bit 9): no deallocate after sanitize.
    pub no_deallocate: bool,
}

/// Encode a Sanitize command (opcode 0x84, nsid unused: it covers the whole
/// NVM subsystem). cdw10 bits: 2:0 SANACT, 3 AUSE, 7:4 OWPASS, 8 OIPBP,
/// 9 NDAS; cdw11 = OVRPAT (§A1, "Sanitize"). Like nvme-cli, refuses AUSE or
/// NDAS with Exit Failure Mode and pass counts outside 1..=16.
pub fn sanitize(cmd: &Sanitize) -> Result<AdminCommand, CommandError> {
    if cmd.action == SanitizeAction::ExitFailureMode
        && (cmd.allow_unrestricted_exit || cmd.no_deallocate)
    {
        return Err(CommandError::Conflict(
            "AUSE and NDAS are not allowed with Exit Failure Mode",
        ));
    }
    let mut cdw10 = cmd.action.sanact();
    let mut cdw11 = 0;
    if cmd.allow_unrestricted_exit {
        cdw10 |= 1 << 3;
    }
    if cmd.no_deallocate {
        cdw10 |= 1 << 9;
    }
    if let SanitizeAction::Overwrite {
        passes,
        invert_between_passes,
        pattern,
    } = cmd.action
    {
        if !(1..=16).contains(&passes) {
            return Err(CommandError::OutOfRange {
                field: "OWPASS",
                value: passes.into(),
                allowed: "1..=16",
            });
        }
        cdw10 |= (u32::from(passes) & 0xF) << 4;
        if invert_between_passes {
            cdw10 |= 1 << 8;
        }
        cdw11 = pattern;
    }
    Ok(AdminCommand {
        opcode: OPCODE_SANITIZE,
        cdw10,
        cdw11,
        ..AdminCommand::default()
    })
}

/// Secure Erase Settings of Format NVM (SES, cdw10 bits 11:9), §A1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureErase {
    /// SES 0: no secure erase.
    None,
    /// SES 1: User Data Erase.
    UserData,
    /// SES 2: Cryptographic Erase. Check Identify FNA bit 2 first.
    Cryptographic,
}

/// A Format NVM command (§A1, "Format NVM (0x80), cdw10").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatNvm {
    /// Namespace to format, or [`NSID_ALL`] unless FNA bit 3 forbids it.
    pub nsid: u32,
    /// LBA format index 0..=63 (bits 3:0 LBAF, upper two bits in LBAFU 13:12).
    pub lba_format: u8,
    /// MSET (bit 4): metadata transferred as part of an extended LBA.
    pub metadata_extended: bool,
    /// PI (bits 7:5): protection information type, 0..=7.
    pub protection_info: u8,
    /// PIL (bit 8): protection information in the first bytes of metadata.
    pub pi_first: bool,
    /// SES (bits 11:9).
    pub secure_erase: SecureErase,
}

/// Encode a Format NVM command (opcode 0x80). Crypto erase with LBA format 0
/// gives cdw10 = 0x400 (§A1).
pub fn format_nvm(cmd: &FormatNvm) -> Result<AdminCommand, CommandError> {
    if cmd.lba_format > 63 {
        return Err(CommandError::OutOfRange {
            field: "LBAF",
            value: cmd.lba_format.into(),
            allowed: "0..=63",
        });
    }
    if cmd.protection_info > 7 {
        return Err(CommandError::OutOfRange {
            field: "PI",
            value: cmd.protection_info.into(),
            allowed: "0..=7",
        });
    }
    let ses: u32 = match cmd.secure_erase {
        SecureErase::None => 0,
        SecureErase::UserData => 1,
        SecureErase::Cryptographic => 2,
    };
    let lbaf = u32::from(cmd.lba_format);
    let cdw10 = (lbaf & 0xF)
        | (u32::from(cmd.metadata_extended) << 4)
        | (u32::from(cmd.protection_info) << 5)
        | (u32::from(cmd.pi_first) << 8)
        | (ses << 9)
        | ((lbaf >> 4) << 12);
    Ok(AdminCommand {
        opcode: OPCODE_FORMAT_NVM,
        nsid: cmd.nsid,
        cdw10,
        ..AdminCommand::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ne32(b: &PassthruBytes, off: usize) -> u32 {
        u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
    }

    fn format(nsid: u32, lba_format: u8, secure_erase: SecureErase) -> FormatNvm {
        FormatNvm {
            nsid,
            lba_format,
            metadata_extended: false,
            protection_info: 0,
            pi_first: false,
            secure_erase,
        }
    }

    #[test]
    fn ioctl_number_matches_uapi() {
        assert_eq!(NVME_IOCTL_ADMIN_CMD, 0xC048_4E41);
    }

    #[test]
    fn passthru_layout() {
        let cmd = AdminCommand {
            opcode: 0x84,
            nsid: 0x1122_3344,
            cdw10: 10,
            cdw11: 11,
            cdw12: 12,
            cdw13: 13,
            cdw14: 14,
            cdw15: 15,
            data_len: 4096,
            timeout_ms: 600_000,
        };
        let b = cmd.to_bytes();
        assert_eq!(b.len(), 72);
        assert_eq!(b[0], 0x84);
        assert_eq!(&b[1..4], &[0, 0, 0]);
        assert_eq!(ne32(&b, 4), 0x1122_3344);
        assert!(
            b[8..36].iter().all(|&x| x == 0),
            "cdw2/3, pointers, metadata_len"
        );
        assert_eq!(ne32(&b, 36), 4096);
        for (i, off) in (40..64).step_by(4).enumerate() {
            assert_eq!(ne32(&b, off), 10 + i as u32);
        }
        assert_eq!(ne32(&b, 64), 600_000);
        assert_eq!(ne32(&b, 68), 0, "result");
    }

    #[test]
    fn identify_controller_golden() {
        let c = identify_controller();
        assert_eq!(
            (c.opcode, c.nsid, c.cdw10, c.data_len),
            (0x06, 0, 0x1, 4096)
        );
    }

    #[test]
    fn sanitize_log_golden() {
        let c = sanitize_status_log();
        assert_eq!(c.opcode, 0x02);
        assert_eq!(c.nsid, 0xFFFF_FFFF);
        assert_eq!(c.cdw10, 0x007F_0081);
        assert_eq!(c.cdw11, 0);
        assert_eq!(c.data_len, 512);
        assert_eq!(get_log_page(0x81, NSID_ALL, 512), Ok(c));
    }

    #[test]
    fn get_log_page_numdu_and_bad_lengths() {
        let c = get_log_page(0x02, NSID_ALL, 0x40000 * 4 + 4).unwrap();
        assert_eq!(c.cdw10, 0x0000_0002, "NUMDL 0");
        assert_eq!(c.cdw11, 0x4);
        assert!(get_log_page(0x81, 0, 0).is_err());
        assert!(get_log_page(0x81, 0, 511).is_err());
    }

    #[test]
    fn level0_discovery_golden() {
        let c = level0_discovery();
        assert_eq!(c.opcode, 0x82);
        assert_eq!(c.cdw10, 0x0100_0100);
        assert_eq!((c.cdw11, c.data_len), (2048, 2048));
    }

    #[test]
    fn sanitize_golden() {
        let crypto = Sanitize {
            action: SanitizeAction::CryptoErase,
            allow_unrestricted_exit: true,
            no_deallocate: false,
        };
        let c = sanitize(&crypto).unwrap();
        assert_eq!(
            (c.opcode, c.nsid, c.cdw10, c.cdw11),
            (0x84, 0, 0x0000_000C, 0)
        );

        let block = Sanitize {
            action: SanitizeAction::BlockErase,
            allow_unrestricted_exit: false,
            no_deallocate: false,
        };
        assert_eq!(sanitize(&block).unwrap().cdw10, 0x2);

        let overwrite = |passes, invert| Sanitize {
            action: SanitizeAction::Overwrite {
                passes,
                invert_between_passes: invert,
                pattern: 0xDEAD_BEEF,
            },
            allow_unrestricted_exit: false,
            no_deallocate: false,
        };
        let one = sanitize(&overwrite(1, false)).unwrap();
        assert_eq!((one.cdw10, one.cdw11), (0x13, 0xDEAD_BEEF));
        assert_eq!(sanitize(&overwrite(16, true)).unwrap().cdw10, 0x103);
        assert!(sanitize(&overwrite(0, false)).is_err());
        assert!(sanitize(&overwrite(17, false)).is_err());

        let ndas = Sanitize {
            no_deallocate: true,
            ..block
        };
        assert_eq!(sanitize(&ndas).unwrap().cdw10, 0x202);
    }

    #[test]
    fn sanitize_exit_failure_mode_rejects_flags() {
        let exit = Sanitize {
            action: SanitizeAction::ExitFailureMode,
            allow_unrestricted_exit: false,
            no_deallocate: false,
        };
        assert_eq!(sanitize(&exit).unwrap().cdw10, 0x1);
        for (ause, ndas) in [(true, false), (false, true)] {
            let bad = Sanitize {
                allow_unrestricted_exit: ause,
                no_deallocate: ndas,
                ..exit
            };
            assert!(matches!(sanitize(&bad), Err(CommandError::Conflict(_))));
        }
    }

    #[test]
    fn format_golden() {
        let crypto = format_nvm(&format(NSID_ALL, 0, SecureErase::Cryptographic)).unwrap();
        assert_eq!(
            (crypto.opcode, crypto.nsid, crypto.cdw10),
            (0x80, NSID_ALL, 0x400)
        );
        assert_eq!(
            format_nvm(&format(1, 0, SecureErase::UserData))
                .unwrap()
                .cdw10,
            0x200
        );
        assert_eq!(
            format_nvm(&format(1, 0, SecureErase::None)).unwrap().cdw10,
            0
        );
        // LBAF 17 = 0b01_0001: LBAF 1, LBAFU 1.
        assert_eq!(
            format_nvm(&format(1, 17, SecureErase::None)).unwrap().cdw10,
            0x1001
        );
        let all = FormatNvm {
            metadata_extended: true,
            protection_info: 7,
            pi_first: true,
            ..format(1, 63, SecureErase::Cryptographic)
        };
        assert_eq!(format_nvm(&all).unwrap().cdw10, 0x35FF);
        assert!(format_nvm(&format(1, 64, SecureErase::None)).is_err());
        let bad_pi = FormatNvm {
            protection_info: 8,
            ..format(1, 0, SecureErase::None)
        };
        assert!(format_nvm(&bad_pi).is_err());
    }
}
