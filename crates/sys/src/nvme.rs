//! `NVME_IOCTL_ADMIN_CMD`: one NVMe admin command through the kernel (§A1).

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `struct nvme_passthru_cmd` (alias `nvme_admin_cmd`) from
/// `linux/nvme_ioctl.h`: 72 bytes, native-endian.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassthruCmd {
    /// Admin opcode.
    pub opcode: u8,
    /// Command flags (unused).
    pub flags: u8,
    /// Reserved.
    pub rsvd1: u16,
    /// Namespace id.
    pub nsid: u32,
    /// Command dword 2.
    pub cdw2: u32,
    /// Command dword 3.
    pub cdw3: u32,
    /// Metadata buffer (a user pointer; unused, 0).
    pub metadata: u64,
    /// Data buffer (a user pointer), set by [`admin_command`].
    pub addr: u64,
    /// Metadata length (unused, 0).
    pub metadata_len: u32,
    /// Data length in bytes, set by [`admin_command`].
    pub data_len: u32,
    /// Command dword 10.
    pub cdw10: u32,
    /// Command dword 11.
    pub cdw11: u32,
    /// Command dword 12.
    pub cdw12: u32,
    /// Command dword 13.
    pub cdw13: u32,
    /// Command dword 14.
    pub cdw14: u32,
    /// Command dword 15.
    pub cdw15: u32,
    /// Timeout in milliseconds; 0 is the kernel default.
    pub timeout_ms: u32,
    /// Completion queue entry dword 0, written by the kernel.
    pub result: u32,
}

const _: () = assert!(size_of::<PassthruCmd>() == 72);
const _: () = assert!(offset_of!(PassthruCmd, nsid) == 4);
const _: () = assert!(offset_of!(PassthruCmd, metadata) == 16);
const _: () = assert!(offset_of!(PassthruCmd, addr) == 24);
const _: () = assert!(offset_of!(PassthruCmd, data_len) == 36);
const _: () = assert!(offset_of!(PassthruCmd, cdw10) == 40);
const _: () = assert!(offset_of!(PassthruCmd, cdw15) == 60);
const _: () = assert!(offset_of!(PassthruCmd, timeout_ms) == 64);
const _: () = assert!(offset_of!(PassthruCmd, result) == 68);

/// `_IOWR('N', 0x41, struct nvme_admin_cmd)`.
pub const NVME_IOCTL_ADMIN_CMD: u32 =
    (3 << 30) | ((size_of::<PassthruCmd>() as u32) << 16) | ((b'N' as u32) << 8) | 0x41;
const _: () = assert!(NVME_IOCTL_ADMIN_CMD == 0xC048_4E41);

/// `_IO('N', 0x40)`: the namespace id of a namespace block device.
pub const NVME_IOCTL_ID: u32 = ((b'N' as u32) << 8) | 0x40;
const _: () = assert!(NVME_IOCTL_ID == 0x4E40);

/// Send one admin command on an NVMe controller (`/dev/nvmeX`) or namespace
/// descriptor. `data` is the command's data buffer, in or out; its length
/// becomes `data_len`. Returns the NVMe status field (0 = success; the
/// kernel returns a positive status when the controller rejects the
/// command) and the completion's dword 0 in `cmd.result`.
pub fn admin_command(
    fd: BorrowedFd<'_>,
    cmd: &mut PassthruCmd,
    data: &mut [u8],
) -> io::Result<u32> {
    cmd.data_len = u32::try_from(data.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "data buffer over 4 GiB"))?;
    cmd.addr = if data.is_empty() {
        0
    } else {
        data.as_mut_ptr() as u64
    };
    cmd.metadata = 0;
    cmd.metadata_len = 0;
    // SAFETY: `cmd` is a live, exclusively borrowed `struct
    // nvme_passthru_cmd` (layout asserted above), and its `addr`/`data_len`
    // describe `data`, which is exclusively borrowed for the whole call, so
    // the kernel reads and writes only memory we own. No metadata buffer.
    let status =
        unsafe { super::ioctl(fd, NVME_IOCTL_ADMIN_CMD, (cmd as *mut PassthruCmd).cast()) }?;
    // A non-negative return is the NVMe status, never negative here.
    Ok(status.unsigned_abs())
}

/// The namespace id of an NVMe namespace block device (`NVME_IOCTL_ID`).
pub fn namespace_id(fd: BorrowedFd<'_>) -> io::Result<u32> {
    // SAFETY: NVME_IOCTL_ID takes no argument; the kernel ignores the
    // pointer, so a null pointer is sound.
    let id = unsafe { super::ioctl(fd, NVME_IOCTL_ID, std::ptr::null_mut()) }?;
    Ok(id.unsigned_abs())
}
