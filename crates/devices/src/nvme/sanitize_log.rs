//! The Sanitize Status log page (LID 0x81, 512 bytes, little-endian): how a
//! sanitize is progressing and how the last one ended.
//!
//! Offsets and bits: reference *devices-and-images.md*, PART A, §A1,
//! "Sanitize Status log" and the polling notes after it.

use serde::{Deserialize, Serialize};

use crate::wire::{ParseError, Reader};

/// Length of the Sanitize Status log.
pub const SANITIZE_STATUS_LEN: usize = 512;

/// SSTAT bits 2:0: the status of the most recent sanitize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SanitizeResult {
    /// 0: the NVM subsystem has never been sanitized.
    NeverSanitized,
    /// 1: the last sanitize completed successfully.
    Completed,
    /// 2: a sanitize is in progress.
    InProgress,
    /// 3: the last sanitize failed.
    Failed,
    /// 4: completed successfully with deallocation of all user data.
    CompletedWithDeallocation,
    /// 5..=7: reserved values, kept as read.
    Reserved(u8),
}

impl SanitizeResult {
    fn from_bits(v: u8) -> Self {
        match v {
            0 => Self::NeverSanitized,
            1 => Self::Completed,
            2 => Self::InProgress,
            3 => Self::Failed,
            4 => Self::CompletedWithDeallocation,
            other => Self::Reserved(other),
        }
    }

    /// Whether this is a successful completion (1 or 4), the final check
    /// nvme-cli makes after polling.
    #[must_use]
    pub fn succeeded(self) -> bool {
        matches!(self, Self::Completed | Self::CompletedWithDeallocation)
    }
}

/// The Sanitize Status log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SanitizeStatus {
    /// SPROG (offset 0): progress as a fraction of 65536, `None` when it
    /// reads 0xFFFF (no sanitize in progress).
    pub progress: Option<u16>,
    /// SSTAT (offset 2) as read.
    pub sstat: u16,
    /// SSTAT bits 2:0.
    pub result: SanitizeResult,
    /// SSTAT bits 7:3: overwrite passes completed.
    pub overwrite_passes_completed: u8,
    /// SSTAT bit 8: Global Data Erased (no user data written since the last
    /// sanitize or manufacture).
    pub global_data_erased: bool,
    /// SSTAT bit 9: media verification cancelled.
    pub media_verification_cancelled: bool,
    /// SCDW10 (offset 4): the cdw10 of the command that started the last sanitize.
    pub scdw10: u32,
    /// ETO (offset 8): estimated seconds for Overwrite, `None` when not reported.
    pub est_overwrite: Option<u32>,
    /// ETBE (offset 12): estimated seconds for Block Erase.
    pub est_block_erase: Option<u32>,
    /// ETCE (offset 16): estimated seconds for Crypto Erase.
    pub est_crypto_erase: Option<u32>,
    /// ETOND (offset 20): Overwrite with No-Deallocate.
    pub est_overwrite_no_dealloc: Option<u32>,
    /// ETBEND (offset 24): Block Erase with No-Deallocate.
    pub est_block_erase_no_dealloc: Option<u32>,
    /// ETCEND (offset 28): Crypto Erase with No-Deallocate.
    pub est_crypto_erase_no_dealloc: Option<u32>,
    /// ETPVDS (offset 32): estimated seconds for post-verification deallocation.
    pub est_post_verification_dealloc: Option<u32>,
    /// SSI (offset 36): sanitize state information, as read.
    pub ssi: u8,
}

impl SanitizeStatus {
    /// Parse a Sanitize Status log (at least 512 bytes; the rest is
    /// ignored). `source` names the device or file in errors.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self, ParseError> {
        let r = Reader::new(bytes, source);
        r.require(SANITIZE_STATUS_LEN, "Sanitize Status log")?;
        let sprog = r.le16(0, "SPROG")?;
        let sstat = r.le16(2, "SSTAT")?;
        let est = |off, field| -> Result<Option<u32>, ParseError> {
            let v = r.le32(off, field)?;
            Ok((v != u32::MAX).then_some(v))
        };
        Ok(Self {
            progress: (sprog != u16::MAX).then_some(sprog),
            sstat,
            // Masked to three and five bits, so the casts cannot truncate.
            result: SanitizeResult::from_bits((sstat & 0x7) as u8),
            overwrite_passes_completed: ((sstat >> 3) & 0x1F) as u8,
            global_data_erased: sstat & (1 << 8) != 0,
            media_verification_cancelled: sstat & (1 << 9) != 0,
            scdw10: r.le32(4, "SCDW10")?,
            est_overwrite: est(8, "ETO")?,
            est_block_erase: est(12, "ETBE")?,
            est_crypto_erase: est(16, "ETCE")?,
            est_overwrite_no_dealloc: est(20, "ETOND")?,
            est_block_erase_no_dealloc: est(24, "ETBEND")?,
            est_crypto_erase_no_dealloc: est(28, "ETCEND")?,
            est_post_verification_dealloc: est(32, "ETPVDS")?,
            ssi: r.u8(36, "SSI")?,
        })
    }

    /// Whether a sanitize is in progress (SPROG is not 0xFFFF).
    #[must_use]
    pub fn in_progress(&self) -> bool {
        self.progress.is_some()
    }

    /// The estimated seconds for the operation SCDW10 describes, chosen as
    /// nvme-cli does from SANACT (2 block erase, 3 overwrite, 4 crypto erase)
    /// and NDAS (bit 9); `None` for other actions or when not reported.
    #[must_use]
    pub fn estimate_for_scdw10(&self) -> Option<u32> {
        self.estimate_for(self.scdw10)
    }

    /// The estimated seconds for a Sanitize command with this `cdw10`
    /// (SANACT and NDAS), as [`Self::estimate_for_scdw10`] picks them.
    #[must_use]
    pub fn estimate_for(&self, cdw10: u32) -> Option<u32> {
        let no_dealloc = cdw10 & (1 << 9) != 0;
        match (cdw10 & 0x7, no_dealloc) {
            (2, false) => self.est_block_erase,
            (2, true) => self.est_block_erase_no_dealloc,
            (3, false) => self.est_overwrite,
            (3, true) => self.est_overwrite_no_dealloc,
            (4, false) => self.est_crypto_erase,
            (4, true) => self.est_crypto_erase_no_dealloc,
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A canned log: SPROG, SSTAT, SCDW10 and the seven estimates.
    pub(crate) fn build(sprog: u16, sstat: u16, scdw10: u32, est: [u32; 7], ssi: u8) -> Vec<u8> {
        let mut b = vec![0u8; SANITIZE_STATUS_LEN];
        b[0..2].copy_from_slice(&sprog.to_le_bytes());
        b[2..4].copy_from_slice(&sstat.to_le_bytes());
        b[4..8].copy_from_slice(&scdw10.to_le_bytes());
        for (i, v) in est.iter().enumerate() {
            b[8 + 4 * i..12 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        b[36] = ssi;
        b
    }

    const NONE: u32 = u32::MAX;

    #[test]
    fn completed_crypto_erase() {
        // SSTAT: completed (1), global data erased (b8); SCDW10 = crypto
        // erase with AUSE (0xC).
        let buf = build(
            0xFFFF,
            0x0101,
            0xC,
            [NONE, 120, 10, NONE, NONE, 12, NONE],
            0,
        );
        let s = SanitizeStatus::parse(&buf, "nvme0").unwrap();
        assert_eq!(s.progress, None);
        assert!(!s.in_progress());
        assert_eq!(s.result, SanitizeResult::Completed);
        assert!(s.result.succeeded());
        assert!(s.global_data_erased && !s.media_verification_cancelled);
        assert_eq!(s.overwrite_passes_completed, 0);
        assert_eq!(s.scdw10, 0xC);
        assert_eq!(s.est_overwrite, None);
        assert_eq!(s.est_block_erase, Some(120));
        assert_eq!(s.est_crypto_erase, Some(10));
        assert_eq!(s.est_crypto_erase_no_dealloc, Some(12));
        assert_eq!(s.estimate_for_scdw10(), Some(10));
    }

    #[test]
    fn overwrite_in_progress() {
        // Half done; status in progress (2), 3 passes done (3 << 3);
        // SCDW10 = overwrite, 4 passes, NDAS.
        let buf = build(
            0x8000,
            2 | (3 << 3),
            0x243,
            [3600, 1, 1, 4000, 2, 2, 5],
            0x2,
        );
        let s = SanitizeStatus::parse(&buf, "nvme0").unwrap();
        assert_eq!(s.progress, Some(0x8000));
        assert!(s.in_progress());
        assert_eq!(s.result, SanitizeResult::InProgress);
        assert!(!s.result.succeeded());
        assert_eq!(s.overwrite_passes_completed, 3);
        assert!(!s.global_data_erased);
        assert_eq!(s.estimate_for_scdw10(), Some(4000));
        assert_eq!(s.est_post_verification_dealloc, Some(5));
        assert_eq!(s.ssi, 2);
    }

    #[test]
    fn never_failed_dealloc_and_reserved() {
        let at = |sstat| {
            SanitizeStatus::parse(&build(0xFFFF, sstat, 0, [NONE; 7], 0), "t")
                .unwrap()
                .result
        };
        assert_eq!(at(0), SanitizeResult::NeverSanitized);
        assert_eq!(at(3), SanitizeResult::Failed);
        assert_eq!(at(4), SanitizeResult::CompletedWithDeallocation);
        assert!(at(4).succeeded());
        assert_eq!(at(7 | (1 << 9)), SanitizeResult::Reserved(7));
        let s = SanitizeStatus::parse(&build(0xFFFF, 1 << 9, 0x1, [NONE; 7], 0), "t").unwrap();
        assert!(s.media_verification_cancelled);
        assert_eq!(
            s.estimate_for_scdw10(),
            None,
            "exit failure mode has no estimate"
        );
    }

    #[test]
    fn rejects_truncated() {
        let buf = build(0xFFFF, 1, 0, [NONE; 7], 0);
        let e = SanitizeStatus::parse(&buf[..511], "nvme2").unwrap_err();
        assert_eq!(
            (e.source.as_str(), e.offset, e.field),
            ("nvme2", 511, "Sanitize Status log")
        );
        assert!(SanitizeStatus::parse(&[0xFF; 3], "t").is_err());
    }
}
