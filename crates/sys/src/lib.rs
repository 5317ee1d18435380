//! The system calls tractorsec makes that Rust's standard library and
//! `rustix` do not cover: NVMe admin passthrough, TCG Opal status and block
//! device geometry ioctls. This is the only crate of the workspace with
//! `unsafe`; every block says why it is sound.
//!
//! Numbers and layouts: reference *devices-and-images.md*, PART A, §A1–A2,
//! and the Linux uapi headers `nvme_ioctl.h`, `sed-opal.h` and `fs.h`.

pub mod block;
pub mod nvme;
pub mod opal;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `ioctl(fd, request, arg)`, with a negative return turned into the errno.
///
/// # Safety
/// `arg` must be what `request` expects: a pointer to a live value of the
/// type and size the kernel reads and writes for that request, valid for the
/// whole call.
unsafe fn ioctl(fd: BorrowedFd<'_>, request: u32, arg: *mut libc::c_void) -> io::Result<i32> {
    // SAFETY: `fd` is an open descriptor for the duration of the borrow, and
    // the caller guarantees that `arg` matches `request`.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request as libc::Ioctl, arg) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
