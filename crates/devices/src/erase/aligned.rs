//! Buffers aligned for `O_DIRECT` I/O, in safe code: a `Vec` one alignment
//! larger than needed, used from its first aligned byte.

/// Alignment that satisfies `O_DIRECT` on every logical block size up to
/// 4 KiB (and the page size).
pub const ALIGN: usize = 4096;

/// A zeroed byte buffer whose start is [`ALIGN`]-aligned.
pub struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes.
    #[must_use]
    pub fn new(len: usize) -> Self {
        let raw = vec![0u8; len + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN);
        Self { raw, start, len }
    }

    /// The buffer, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_is_aligned_and_length_exact() {
        for len in [1, 512, 4096, 4 << 20] {
            let mut b = AlignedBuf::new(len);
            let slice = b.as_mut_slice();
            assert_eq!(slice.as_ptr() as usize % ALIGN, 0);
            assert_eq!(slice.len(), len);
        }
    }
}
