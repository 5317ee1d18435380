//! Block device size and buffer cache (`linux/fs.h`).

use std::io;
use std::os::fd::BorrowedFd;

/// `_IOR(0x12, 114, size_t)`: size in bytes.
pub const BLKGETSIZE64: u32 = 0x8008_1272;
/// `_IO(0x12, 97)`: write back and drop the device's buffer cache.
pub const BLKFLSBUF: u32 = 0x1261;

/// The size of a block device in bytes.
pub fn size_bytes(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut size: u64 = 0;
    // SAFETY: BLKGETSIZE64 writes one u64 through the pointer, which points
    // at a live local u64.
    unsafe { super::ioctl(fd, BLKGETSIZE64, (&raw mut size).cast()) }?;
    Ok(size)
}

/// Write back and drop the page cache of a block device, so later buffered
/// reads come from the device.
pub fn flush_buffers(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: BLKFLSBUF takes no argument; the pointer is ignored.
    unsafe { super::ioctl(fd, BLKFLSBUF, std::ptr::null_mut()) }?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_regular_file_is_not_a_block_device() {
        let file = std::fs::File::open("/proc/self/exe").expect("open");
        let err = size_bytes(file.as_fd()).expect_err("not a block device");
        assert_eq!(err.raw_os_error(), Some(libc::ENOTTY));
    }
}
