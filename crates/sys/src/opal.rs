//! `IOC_OPAL_GET_STATUS` (Linux 6.1+, `CONFIG_BLK_SED_OPAL`): the kernel's
//! own TCG Level 0 discovery of a block device (§A2).

use std::io;
use std::os::fd::BorrowedFd;

/// `struct opal_status` from `linux/sed-opal.h`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct OpalStatus {
    flags: u32,
    reserved: u32,
}

const _: () = assert!(size_of::<OpalStatus>() == 8);

/// `_IOR('p', 236, struct opal_status)`.
pub const IOC_OPAL_GET_STATUS: u32 =
    (2 << 30) | ((size_of::<OpalStatus>() as u32) << 16) | ((b'p' as u32) << 8) | 236;
const _: () = assert!(IOC_OPAL_GET_STATUS == 0x8008_70EC);

/// `OPAL_FL_SUPPORTED`: the drive speaks TCG Opal.
pub const FL_SUPPORTED: u32 = 0x1;
/// `OPAL_FL_LOCKING_SUPPORTED`.
pub const FL_LOCKING_SUPPORTED: u32 = 0x2;
/// `OPAL_FL_LOCKING_ENABLED`.
pub const FL_LOCKING_ENABLED: u32 = 0x4;
/// `OPAL_FL_LOCKED`.
pub const FL_LOCKED: u32 = 0x8;
/// `OPAL_FL_MBR_ENABLED`.
pub const FL_MBR_ENABLED: u32 = 0x10;
/// `OPAL_FL_MBR_DONE`.
pub const FL_MBR_DONE: u32 = 0x20;

/// The `OPAL_FL_*` flags of a block device. Fails with `ENOTTY` when the
/// kernel lacks `CONFIG_BLK_SED_OPAL` or the device has no Opal support.
pub fn status(fd: BorrowedFd<'_>) -> io::Result<u32> {
    let mut status = OpalStatus::default();
    // SAFETY: IOC_OPAL_GET_STATUS writes one `struct opal_status` (8 bytes,
    // layout asserted above) through the pointer, which points at a live
    // local of exactly that type.
    unsafe { super::ioctl(fd, IOC_OPAL_GET_STATUS, (&raw mut status).cast()) }?;
    Ok(status.flags)
}
