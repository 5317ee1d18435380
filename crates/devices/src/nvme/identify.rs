//! The Identify Controller data structure (CNS=1, 4096 bytes, little-endian):
//! the fields that decide which erase methods a controller offers.
//!
//! Offsets and bits: reference *devices-and-images.md*, PART A, §A1,
//! "Identify Controller".

use serde::{Deserialize, Serialize};

use crate::wire::{ParseError, Reader};

/// Length of the Identify Controller data structure.
pub const IDENTIFY_CONTROLLER_LEN: usize = 4096;

/// Optional Admin Command Support (OACS, offset 256).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Oacs(pub u16);

impl Oacs {
    /// Bit 0: Security Send and Security Receive (needed for TCG).
    #[must_use]
    pub fn security_send_receive(self) -> bool {
        self.0 & 1 != 0
    }
    /// Bit 1: Format NVM.
    #[must_use]
    pub fn format_nvm(self) -> bool {
        self.0 & (1 << 1) != 0
    }
    /// Bit 2: Firmware Commit and Firmware Image Download.
    #[must_use]
    pub fn firmware_download(self) -> bool {
        self.0 & (1 << 2) != 0
    }
    /// Bit 3: Namespace Management.
    #[must_use]
    pub fn namespace_management(self) -> bool {
        self.0 & (1 << 3) != 0
    }
}

/// Sanitize Capabilities (SANICAP, offset 328).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Sanicap(pub u32);

impl Sanicap {
    /// Bit 0, CES: Sanitize Crypto Erase supported.
    #[must_use]
    pub fn crypto_erase(self) -> bool {
        self.0 & 1 != 0
    }
    /// Bit 1, BES: Sanitize Block Erase supported.
    #[must_use]
    pub fn block_erase(self) -> bool {
        self.0 & (1 << 1) != 0
    }
    /// Bit 2, OWS: Sanitize Overwrite supported.
    #[must_use]
    pub fn overwrite(self) -> bool {
        self.0 & (1 << 2) != 0
    }
    /// Bit 3, VERS: media verification supported.
    #[must_use]
    pub fn media_verification(self) -> bool {
        self.0 & (1 << 3) != 0
    }
    /// Bit 29, NDI: No-Deallocate Inhibited.
    #[must_use]
    pub fn no_deallocate_inhibited(self) -> bool {
        self.0 & (1 << 29) != 0
    }
    /// Bits 31:30, NODMMAS: No-Deallocate Modifies Media After Sanitize
    /// (0 not reported, 1 media not additionally modified, 2 additionally
    /// modified, 3 reserved).
    #[must_use]
    pub fn nodmmas(self) -> u8 {
        // Two bits, so the cast cannot truncate.
        (self.0 >> 30) as u8
    }
    /// Whether any Sanitize action is supported.
    #[must_use]
    pub fn any(self) -> bool {
        self.crypto_erase() || self.block_erase() || self.overwrite()
    }
}

/// Format NVM Attributes (FNA, offset 524).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Fna(pub u8);

impl Fna {
    /// Bit 0: a format applies to all namespaces.
    #[must_use]
    pub fn format_applies_to_all(self) -> bool {
        self.0 & 1 != 0
    }
    /// Bit 1: a secure erase applies to all namespaces.
    #[must_use]
    pub fn secure_erase_applies_to_all(self) -> bool {
        self.0 & (1 << 1) != 0
    }
    /// Bit 2: cryptographic erase supported (Format SES=2).
    #[must_use]
    pub fn crypto_erase_supported(self) -> bool {
        self.0 & (1 << 2) != 0
    }
    /// Bit 3: Format with NSID FFFFFFFFh not supported.
    #[must_use]
    pub fn broadcast_nsid_unsupported(self) -> bool {
        self.0 & (1 << 3) != 0
    }
}

/// The fields of Identify Controller that device lifecycle uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IdentifyController {
    /// PCI vendor id (VID, offset 0).
    pub vendor_id: u16,
    /// Serial number (SN, offset 4, 20 ASCII bytes), trailing padding removed.
    pub serial: String,
    /// Model number (MN, offset 24, 40 ASCII bytes), trailing padding removed.
    pub model: String,
    /// Firmware revision (FR, offset 64, 8 ASCII bytes), trailing padding removed.
    pub firmware: String,
    /// Optional Admin Command Support.
    pub oacs: Oacs,
    /// Sanitize Capabilities.
    pub sanicap: Sanicap,
    /// Number of namespaces (NN, offset 516).
    pub namespaces: u32,
    /// Format NVM Attributes.
    pub fna: Fna,
}

impl IdentifyController {
    /// The fields the facts snapshot and the audit use, raw and decoded.
    #[must_use]
    pub fn facts(&self) -> tractorsec_facts::NvmeIdentify {
        tractorsec_facts::NvmeIdentify {
            oacs: self.oacs.0,
            sanicap: self.sanicap.0,
            fna: self.fna.0,
            security_send_receive: self.oacs.security_send_receive(),
            format_nvm: self.oacs.format_nvm(),
            sanitize_crypto_erase: self.sanicap.crypto_erase(),
            sanitize_block_erase: self.sanicap.block_erase(),
            sanitize_overwrite: self.sanicap.overwrite(),
            format_crypto_erase: self.fna.crypto_erase_supported(),
        }
    }

    /// Parse an Identify Controller buffer (at least 4096 bytes; the rest is
    /// ignored). `source` names the device or file in errors. The text
    /// fields must be printable ASCII, padded with spaces or NULs.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self, ParseError> {
        let r = Reader::new(bytes, source);
        r.require(IDENTIFY_CONTROLLER_LEN, "Identify Controller")?;
        Ok(Self {
            vendor_id: r.le16(0, "VID")?,
            serial: ascii(&r, 4, &r.array::<20>(4, "SN")?, "SN")?,
            model: ascii(&r, 24, &r.array::<40>(24, "MN")?, "MN")?,
            firmware: ascii(&r, 64, &r.array::<8>(64, "FR")?, "FR")?,
            oacs: Oacs(r.le16(256, "OACS")?),
            sanicap: Sanicap(r.le32(328, "SANICAP")?),
            namespaces: r.le32(516, "NN")?,
            fna: Fna(r.u8(524, "FNA")?),
        })
    }
}

/// A space- or NUL-padded ASCII field, padding removed.
fn ascii(
    r: &Reader<'_>,
    offset: usize,
    raw: &[u8],
    field: &'static str,
) -> Result<String, ParseError> {
    let end = raw
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |i| i + 1);
    let text = &raw[..end];
    let leading = text.iter().take_while(|&&b| b == b' ').count();
    if let Some(i) = text.iter().position(|&b| !(0x20..=0x7E).contains(&b)) {
        return Err(r.error(
            offset + i,
            field,
            format!("byte 0x{:02x} is not printable ASCII", text[i]),
        ));
    }
    Ok(String::from_utf8_lossy(&text[leading..]).into_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A canned Identify Controller buffer.
    pub(crate) fn build(sn: &str, mn: &str, fr: &str, oacs: u16, sanicap: u32, fna: u8) -> Vec<u8> {
        let mut b = vec![0u8; IDENTIFY_CONTROLLER_LEN];
        b[0..2].copy_from_slice(&0x144Du16.to_le_bytes());
        for (off, len, s) in [(4, 20, sn), (24, 40, mn), (64, 8, fr)] {
            b[off..off + len].fill(b' ');
            b[off..off + s.len()].copy_from_slice(s.as_bytes());
        }
        b[256..258].copy_from_slice(&oacs.to_le_bytes());
        b[328..332].copy_from_slice(&sanicap.to_le_bytes());
        b[516..520].copy_from_slice(&4u32.to_le_bytes());
        b[524] = fna;
        b
    }

    #[test]
    fn parses_a_datacenter_drive() {
        // OACS: security, format, fw download; SANICAP: CES|BES|OWS, NDI,
        // NODMMAS=1; FNA: all namespaces, crypto erase.
        let buf = build(
            "S6CKNT0W500123",
            "SAMSUNG MZQL27T6HBLA-00A07",
            "GDC5602Q",
            0b0111,
            0b111 | (1 << 29) | (1 << 30),
            0b101,
        );
        let id = IdentifyController::parse(&buf, "nvme0").unwrap();
        assert_eq!(id.vendor_id, 0x144D);
        assert_eq!(id.serial, "S6CKNT0W500123");
        assert_eq!(id.model, "SAMSUNG MZQL27T6HBLA-00A07");
        assert_eq!(id.firmware, "GDC5602Q");
        assert_eq!(id.namespaces, 4);
        assert!(id.oacs.security_send_receive() && id.oacs.format_nvm());
        assert!(id.oacs.firmware_download() && !id.oacs.namespace_management());
        let s = id.sanicap;
        assert!(s.crypto_erase() && s.block_erase() && s.overwrite() && s.any());
        assert!(!s.media_verification());
        assert!(s.no_deallocate_inhibited());
        assert_eq!(s.nodmmas(), 1);
        assert!(id.fna.format_applies_to_all() && id.fna.crypto_erase_supported());
        assert!(!id.fna.secure_erase_applies_to_all() && !id.fna.broadcast_nsid_unsupported());
    }

    #[test]
    fn qemu_like_drive_has_no_sanitize() {
        // §A4: QEMU sets OACS format+security, never SANICAP or FNA.
        let buf = build("deadbeef", "QEMU NVMe Ctrl", "10.0.0", 0b11, 0, 0);
        let id = IdentifyController::parse(&buf, "qemu").unwrap();
        assert!(!id.sanicap.any());
        assert!(!id.fna.crypto_erase_supported());
        assert_eq!(id.sanicap.nodmmas(), 0);
    }

    #[test]
    fn nul_padding_and_leading_spaces() {
        let mut buf = build("", "", "", 0, 0, 0);
        buf[4..24].fill(0);
        buf[4..9].copy_from_slice(b"  abc");
        let id = IdentifyController::parse(&buf, "t").unwrap();
        assert_eq!(id.serial, "abc");
        assert_eq!(id.model, "");
    }

    #[test]
    fn rejects_truncated_and_non_ascii() {
        let buf = build("SN", "MN", "FR", 0, 0, 0);
        let e = IdentifyController::parse(&buf[..4095], "short").unwrap_err();
        assert_eq!(
            (e.source.as_str(), e.field),
            ("short", "Identify Controller")
        );
        assert!(IdentifyController::parse(&[], "empty").is_err());

        let mut bad = buf.clone();
        bad[26] = 0xFF;
        let e = IdentifyController::parse(&bad, "nvme1").unwrap_err();
        assert_eq!((e.field, e.offset), ("MN", 26));
        assert!(e.to_string().starts_with("nvme1: offset 26 (MN)"), "{e}");

        let mut ctl = buf;
        ctl[5] = b'\n';
        assert_eq!(
            IdentifyController::parse(&ctl, "t").unwrap_err().field,
            "SN"
        );
    }
}
