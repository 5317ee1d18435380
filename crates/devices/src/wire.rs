//! Bounds-checked reads of fixed-layout binary buffers (NVMe data
//! structures are little-endian, TCG Level 0 Discovery is big-endian), and
//! the error every byte-level parser in this crate returns.

use std::fmt;

/// Why a binary buffer (an NVMe data structure or a TCG Level 0 Discovery
/// response) was rejected: which source, at which byte offset, which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where the bytes came from (a device path, a fixture name, `fuzz`).
    pub source: String,
    /// Byte offset of the rejected field within the buffer.
    pub offset: usize,
    /// Name of the rejected field, as the specification spells it.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: offset {} ({}): {}",
            self.source, self.offset, self.field, self.reason
        )
    }
}

impl std::error::Error for ParseError {}

/// A buffer being parsed, remembering its source for error messages.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) source: &'a str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], source: &'a str) -> Self {
        Self { bytes, source }
    }

    /// An error about `field` at `offset`.
    pub(crate) fn error(
        &self,
        offset: usize,
        field: &'static str,
        reason: impl Into<String>,
    ) -> ParseError {
        ParseError {
            source: self.source.to_owned(),
            offset,
            field,
            reason: reason.into(),
        }
    }

    /// Fail unless the buffer holds at least `len` bytes.
    pub(crate) fn require(&self, len: usize, field: &'static str) -> Result<(), ParseError> {
        if self.bytes.len() < len {
            return Err(self.error(
                self.bytes.len(),
                field,
                format!("truncated: need {len} bytes, have {}", self.bytes.len()),
            ));
        }
        Ok(())
    }

    /// The `N` bytes at `offset`.
    pub(crate) fn array<const N: usize>(
        &self,
        offset: usize,
        field: &'static str,
    ) -> Result<[u8; N], ParseError> {
        offset
            .checked_add(N)
            .and_then(|end| self.bytes.get(offset..end))
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or_else(|| {
                self.error(
                    offset,
                    field,
                    format!(
                        "truncated: field needs {N} bytes, buffer has {}",
                        self.bytes.len()
                    ),
                )
            })
    }

    pub(crate) fn u8(&self, offset: usize, field: &'static str) -> Result<u8, ParseError> {
        Ok(self.array::<1>(offset, field)?[0])
    }

    pub(crate) fn le16(&self, offset: usize, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.array(offset, field)?))
    }

    pub(crate) fn le32(&self, offset: usize, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.array(offset, field)?))
    }

    pub(crate) fn be16(&self, offset: usize, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.array(offset, field)?))
    }

    pub(crate) fn be32(&self, offset: usize, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.array(offset, field)?))
    }

    pub(crate) fn be64(&self, offset: usize, field: &'static str) -> Result<u64, ParseError> {
        Ok(u64::from_be_bytes(self.array(offset, field)?))
    }
}
