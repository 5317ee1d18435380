//! Sending admin commands: the [`NvmeAdmin`] trait, its ioctl
//! implementation on a controller device (`/dev/nvmeX`), and the reads
//! built on it (Identify Controller, Sanitize Status log, Level 0 Discovery).
//! Tests drive the same code through a fake controller.

use std::fmt;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use super::command::{self, AdminCommand};
use super::identify::IdentifyController;
use super::sanitize_log::SanitizeStatus;
use crate::opal::level0::Level0;

/// Why an admin command did not complete successfully.
#[derive(Debug)]
pub enum AdminError {
    /// The ioctl itself failed (no permission, not an NVMe device, …).
    Io(std::io::Error),
    /// The controller completed the command with a non-zero status
    /// (status code type and status code, as the kernel returns them).
    Status(u32),
    /// The controller answered with bytes that do not parse.
    Parse(crate::ParseError),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "ioctl failed: {e}"),
            Self::Status(s) => write!(
                f,
                "the controller returned status 0x{s:04x} (type 0x{:x}, code 0x{:02x}{})",
                (s >> 8) & 0x7,
                s & 0xFF,
                status_name(*s)
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
            Self::Parse(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

impl std::error::Error for AdminError {}

/// Names of the generic status codes an erase meets most (NVMe base
/// specification, Figure "Generic Command Status Values").
fn status_name(status: u32) -> Option<&'static str> {
    Some(match status & 0x7FF {
        0x01 => "Invalid Command Opcode",
        0x02 => "Invalid Field in Command",
        0x06 => "Internal Error",
        0x0B => "Invalid Namespace or Format",
        0x1D => "Sanitize Failed",
        0x1E => "Sanitize In Progress",
        0x20 => "Namespace is Write Protected",
        _ => return None,
    })
}

/// Something that executes NVMe admin commands: the ioctl on a real
/// controller, or a fake one in tests.
pub trait NvmeAdmin {
    /// Execute `cmd` with `data` as its data buffer (`cmd.data_len` bytes,
    /// read or written by the controller).
    fn execute(&mut self, cmd: &AdminCommand, data: &mut [u8]) -> Result<(), AdminError>;
}

/// An NVMe controller character device, driven by `NVME_IOCTL_ADMIN_CMD`.
#[derive(Debug)]
pub struct IoctlController {
    file: File,
}

impl IoctlController {
    /// Open a controller (`/dev/nvme0`) for admin commands. Needs
    /// `CAP_SYS_ADMIN` for anything beyond some Identify commands.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: File::open(path)?,
        })
    }
}

impl NvmeAdmin for IoctlController {
    fn execute(&mut self, cmd: &AdminCommand, data: &mut [u8]) -> Result<(), AdminError> {
        let mut raw = tractorsec_sys::nvme::PassthruCmd {
            opcode: cmd.opcode,
            nsid: cmd.nsid,
            cdw10: cmd.cdw10,
            cdw11: cmd.cdw11,
            cdw12: cmd.cdw12,
            cdw13: cmd.cdw13,
            cdw14: cmd.cdw14,
            cdw15: cmd.cdw15,
            timeout_ms: cmd.timeout_ms,
            ..Default::default()
        };
        let len = usize::try_from(cmd.data_len)
            .unwrap_or(usize::MAX)
            .min(data.len());
        match tractorsec_sys::nvme::admin_command(self.file.as_fd(), &mut raw, &mut data[..len]) {
            Ok(0) => Ok(()),
            Ok(status) => Err(AdminError::Status(status)),
            Err(e) => Err(AdminError::Io(e)),
        }
    }
}

/// Send `cmd`, which reads `cmd.data_len` bytes back, and parse them.
fn read<T>(
    ctrl: &mut dyn NvmeAdmin,
    cmd: &AdminCommand,
    parse: impl FnOnce(&[u8]) -> Result<T, crate::ParseError>,
) -> Result<T, AdminError> {
    let mut buf = vec![0u8; cmd.data_len as usize];
    ctrl.execute(cmd, &mut buf)?;
    parse(&buf).map_err(AdminError::Parse)
}

/// Identify Controller (CNS 1).
pub fn identify(ctrl: &mut dyn NvmeAdmin, source: &str) -> Result<IdentifyController, AdminError> {
    read(ctrl, &command::identify_controller(), |b| {
        IdentifyController::parse(b, source)
    })
}

/// The Sanitize Status log (LID 0x81).
pub fn sanitize_status(
    ctrl: &mut dyn NvmeAdmin,
    source: &str,
) -> Result<SanitizeStatus, AdminError> {
    read(ctrl, &command::sanitize_status_log(), |b| {
        SanitizeStatus::parse(b, source)
    })
}

/// TCG Level 0 Discovery through Security Receive (SECP 1, ComID 1).
pub fn level0_discovery(ctrl: &mut dyn NvmeAdmin, source: &str) -> Result<Level0, AdminError> {
    read(ctrl, &command::level0_discovery(), |b| {
        Level0::parse(b, source)
    })
}
