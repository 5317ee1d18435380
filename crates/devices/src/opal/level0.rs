//! TCG Level 0 Discovery: the response to Security Receive with SECP 1 and
//! ComID 1 (or `IOC_OPAL_DISCOVERY`). Everything is big-endian.
//!
//! Header, descriptor layout, feature codes and the decision rules of
//! [`Level0::summary`]: reference *devices-and-images.md*, PART A, §A2,
//! "Level 0 Discovery response" and "Decision rules".

use serde::{Deserialize, Serialize};

use crate::wire::{ParseError, Reader};

/// The summary types live in the facts model, so snapshots carry them.
pub use tractorsec_facts::{Level0Summary, Ssc};

/// Length of the Level 0 Discovery header; descriptors start here.
pub const HEADER_LEN: usize = 48;

/// Locking feature flags (Locking descriptor byte 4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct LockingFlags(pub u8);

impl LockingFlags {
    /// Bit 0: LockingSupported.
    #[must_use]
    pub fn supported(self) -> bool {
        self.0 & 1 != 0
    }
    /// Bit 1: LockingEnabled.
    #[must_use]
    pub fn enabled(self) -> bool {
        self.0 & (1 << 1) != 0
    }
    /// Bit 2: Locked.
    #[must_use]
    pub fn locked(self) -> bool {
        self.0 & (1 << 2) != 0
    }
    /// Bit 3: MediaEncryption.
    #[must_use]
    pub fn media_encryption(self) -> bool {
        self.0 & (1 << 3) != 0
    }
    /// Bit 4: MBREnabled.
    #[must_use]
    pub fn mbr_enabled(self) -> bool {
        self.0 & (1 << 4) != 0
    }
    /// Bit 5: MBRDone.
    #[must_use]
    pub fn mbr_done(self) -> bool {
        self.0 & (1 << 5) != 0
    }
    /// Shadow MBR active: MBREnabled set and MBRDone clear.
    #[must_use]
    pub fn shadow_mbr_active(self) -> bool {
        self.mbr_enabled() && !self.mbr_done()
    }
}

/// The data of a feature descriptor that this parser decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// 0x0001 TPer; byte 4 flags (b0 Sync, b1 Async, b2 ACK/NAK, b3 BufMgmt,
    /// b4 Streaming, b6 ComID mgmt).
    Tper {
        /// Byte 4 as read.
        flags: u8,
    },
    /// 0x0002 Locking.
    Locking(LockingFlags),
    /// 0x0003 Geometry.
    Geometry {
        /// Byte 4 bit 0: alignment required.
        align: bool,
        /// Bytes 12..16: logical block size.
        logical_block_size: u32,
        /// Bytes 16..24: alignment granularity.
        alignment_granularity: u64,
        /// Bytes 24..32: lowest aligned LBA.
        lowest_aligned_lba: u64,
    },
    /// 0x0100 Enterprise SSC.
    Enterprise(SscComIds),
    /// 0x0200 Opal SSC 1.0.
    Opal1(SscComIds),
    /// 0x0201 Single User Mode.
    SingleUserMode,
    /// 0x0202 DataStore.
    DataStore,
    /// 0x0203 Opal SSC 2.0.
    Opal2 {
        /// Bytes 4..8: base ComID and number of ComIDs.
        com_ids: SscComIds,
        /// Byte 8 bit 0: range crossing.
        range_crossing: bool,
        /// Bytes 9..11: number of Locking SP Admin authorities.
        locking_admins: u16,
        /// Bytes 11..13: number of Locking SP User authorities.
        locking_users: u16,
        /// Byte 13: initial C_PIN_SID indicator.
        initial_pin_indicator: u8,
        /// Byte 14: C_PIN_SID behaviour on revert.
        revert_pin_indicator: u8,
    },
    /// 0x0301 Opalite SSC.
    Opalite,
    /// 0x0302 Pyrite SSC 1.0.
    Pyrite1,
    /// 0x0303 Pyrite SSC 2.0.
    Pyrite2,
    /// 0x0304 Ruby SSC.
    Ruby,
    /// 0x0402 Block SID Authentication.
    BlockSid,
    /// 0x0403 Namespace Locking.
    NamespaceLocking,
    /// 0x0404 Data Removal Mechanism.
    DataRemoval,
    /// 0xC000 and above: vendor specific.
    Vendor,
    /// Any other code, kept undecoded.
    Unknown,
}

/// The base ComID and number of ComIDs of an SSC descriptor (bytes 4..8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SscComIds {
    /// Bytes 4..6: base ComID.
    pub base_com_id: u16,
    /// Bytes 6..8: number of ComIDs.
    pub num_com_ids: u16,
}

/// One feature descriptor: code, version and decoded data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Descriptor {
    /// Bytes 0..2: Feature Code.
    pub code: u16,
    /// Byte 2 bits 7:4: descriptor version.
    pub version: u8,
    /// Byte 3: length of the data that follows the 4-byte descriptor header.
    pub length: u8,
    /// The decoded data.
    pub feature: Feature,
}

/// A parsed Level 0 Discovery response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Level0 {
    /// Header bytes 0..4: length of parameter data. Descriptors are read up
    /// to this offset from the start of the buffer, as the kernel, sedutil
    /// and nvme-cli do.
    pub length: u32,
    /// Header bytes 4..8: data structure revision (1).
    pub revision: u32,
    /// The feature descriptors, in order.
    pub descriptors: Vec<Descriptor>,
}

impl Level0 {
    /// Parse a Level 0 Discovery response. `source` names the device or file
    /// in errors. Fails when the header is short, when the length field
    /// points past the buffer, or when a descriptor is cut short or too
    /// short for the fields of its feature.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Self, ParseError> {
        let r = Reader::new(bytes, source);
        r.require(HEADER_LEN, "Level 0 header")?;
        let length = r.be32(0, "length of parameter data")?;
        let revision = r.be32(4, "revision")?;
        let end = usize::try_from(length)
            .ok()
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| {
                r.error(
                    0,
                    "length of parameter data",
                    format!("{length} exceeds the buffer of {} bytes", bytes.len()),
                )
            })?;
        let mut descriptors = Vec::new();
        let mut pos = HEADER_LEN;
        while pos < end {
            if end - pos < 4 {
                return Err(r.error(pos, "feature descriptor header", "cut short by the length"));
            }
            let code = r.be16(pos, "Feature Code")?;
            let version = r.u8(pos + 2, "version")? >> 4;
            let length = r.u8(pos + 3, "feature length")?;
            let next = pos + 4 + usize::from(length);
            if next > end {
                return Err(r.error(
                    pos + 3,
                    "feature length",
                    format!("descriptor 0x{code:04x} of {length} bytes runs past the end at {end}"),
                ));
            }
            // Decode within this descriptor only.
            let d = Reader::new(&bytes[pos..next], source);
            let feature = decode(code, &d).map_err(|mut e| {
                e.offset += pos;
                e
            })?;
            descriptors.push(Descriptor {
                code,
                version,
                length,
                feature,
            });
            pos = next;
        }
        Ok(Self {
            length,
            revision,
            descriptors,
        })
    }

    /// The first Locking descriptor's flags, if any.
    #[must_use]
    pub fn locking(&self) -> Option<LockingFlags> {
        self.descriptors.iter().find_map(|d| match d.feature {
            Feature::Locking(flags) => Some(flags),
            _ => None,
        })
    }

    /// The strongest SSC descriptor present.
    #[must_use]
    pub fn ssc(&self) -> Ssc {
        let rank = |s: Ssc| s as u8;
        self.descriptors
            .iter()
            .filter_map(|d| match d.feature {
                Feature::Opal2 { .. } => Some(Ssc::Opal2),
                Feature::Opal1(_) => Some(Ssc::Opal1),
                Feature::Enterprise(_) => Some(Ssc::Enterprise),
                Feature::Ruby => Some(Ssc::Ruby),
                Feature::Opalite => Some(Ssc::Opalite),
                Feature::Pyrite2 => Some(Ssc::Pyrite2),
                Feature::Pyrite1 => Some(Ssc::Pyrite1),
                _ => None,
            })
            .min_by_key(|&s| rank(s))
            .unwrap_or(Ssc::None)
    }

    /// Apply the decision rules of §A2.
    #[must_use]
    pub fn summary(&self) -> Level0Summary {
        let lock = self.locking().unwrap_or_default();
        let ssc = self.ssc();
        Level0Summary {
            sed_present: lock.media_encryption() && ssc.encrypting(),
            ssc,
            locking_supported: lock.supported(),
            locking_enabled: lock.enabled(),
            locked: lock.locked(),
            media_encryption: lock.media_encryption(),
            shadow_mbr_active: lock.shadow_mbr_active(),
        }
    }
}

/// Decode one descriptor; `d` holds exactly the descriptor, header included,
/// so offsets are those of the §A2 feature table.
fn decode(code: u16, d: &Reader<'_>) -> Result<Feature, ParseError> {
    let com_ids = || -> Result<SscComIds, ParseError> {
        Ok(SscComIds {
            base_com_id: d.be16(4, "base ComID")?,
            num_com_ids: d.be16(6, "number of ComIDs")?,
        })
    };
    Ok(match code {
        0x0001 => Feature::Tper {
            flags: d.u8(4, "TPer flags")?,
        },
        0x0002 => Feature::Locking(LockingFlags(d.u8(4, "Locking flags")?)),
        0x0003 => Feature::Geometry {
            align: d.u8(4, "Geometry align")? & 1 != 0,
            logical_block_size: d.be32(12, "LogicalBlockSize")?,
            alignment_granularity: d.be64(16, "AlignmentGranularity")?,
            lowest_aligned_lba: d.be64(24, "LowestAlignedLBA")?,
        },
        0x0100 => Feature::Enterprise(com_ids()?),
        0x0200 => Feature::Opal1(com_ids()?),
        0x0201 => Feature::SingleUserMode,
        0x0202 => Feature::DataStore,
        0x0203 => Feature::Opal2 {
            com_ids: com_ids()?,
            range_crossing: d.u8(8, "range crossing")? & 1 != 0,
            locking_admins: d.be16(9, "number of Locking SP Admins")?,
            locking_users: d.be16(11, "number of Locking SP Users")?,
            initial_pin_indicator: d.u8(13, "initial C_PIN_SID indicator")?,
            revert_pin_indicator: d.u8(14, "C_PIN_SID on revert")?,
        },
        0x0301 => Feature::Opalite,
        0x0302 => Feature::Pyrite1,
        0x0303 => Feature::Pyrite2,
        0x0304 => Feature::Ruby,
        0x0402 => Feature::BlockSid,
        0x0403 => Feature::NamespaceLocking,
        0x0404 => Feature::DataRemoval,
        c if c >= 0xC000 => Feature::Vendor,
        _ => Feature::Unknown,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a Level 0 response descriptor by descriptor.
    pub(crate) struct Builder(Vec<u8>);

    impl Builder {
        pub(crate) fn new() -> Self {
            let mut b = vec![0u8; HEADER_LEN];
            b[7] = 1; // revision 1
            Self(b)
        }
        /// A descriptor with `code`, version 1 and `data` after the header.
        pub(crate) fn feature(mut self, code: u16, data: &[u8]) -> Self {
            self.0.extend_from_slice(&code.to_be_bytes());
            self.0.push(0x10);
            self.0.push(u8::try_from(data.len()).unwrap());
            self.0.extend_from_slice(data);
            self
        }
        pub(crate) fn tper(self) -> Self {
            self.feature(0x0001, &[0b0001_0001, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        }
        pub(crate) fn locking(self, flags: u8) -> Self {
            let mut data = [0u8; 12];
            data[0] = flags;
            self.feature(0x0002, &data)
        }
        pub(crate) fn opal2(self) -> Self {
            let mut data = [0u8; 16];
            data[0..2].copy_from_slice(&0x07FEu16.to_be_bytes());
            data[2..4].copy_from_slice(&1u16.to_be_bytes());
            data[5..7].copy_from_slice(&4u16.to_be_bytes());
            data[7..9].copy_from_slice(&9u16.to_be_bytes());
            self.feature(0x0203, &data)
        }
        /// The buffer with the header length set to its end, padded to 2048
        /// bytes as a drive answers.
        pub(crate) fn finish(mut self) -> Vec<u8> {
            let len = u32::try_from(self.0.len()).unwrap();
            self.0[0..4].copy_from_slice(&len.to_be_bytes());
            self.0.resize(2048, 0);
            self.0
        }
    }

    pub(crate) const SUPPORTED: u8 = 1;
    pub(crate) const ENABLED: u8 = 1 << 1;
    pub(crate) const LOCKED: u8 = 1 << 2;
    pub(crate) const MEDIA_ENC: u8 = 1 << 3;
    pub(crate) const MBR_ENABLED: u8 = 1 << 4;
    pub(crate) const MBR_DONE: u8 = 1 << 5;

    #[test]
    fn opal2_unlocked_with_locking_enabled() {
        let geometry = {
            let mut g = [0u8; 28];
            g[0] = 1;
            g[8..12].copy_from_slice(&512u32.to_be_bytes());
            g[12..20].copy_from_slice(&8u64.to_be_bytes());
            g
        };
        let buf = Builder::new()
            .tper()
            .locking(SUPPORTED | ENABLED | MEDIA_ENC | MBR_ENABLED | MBR_DONE)
            .feature(0x0003, &geometry)
            .opal2()
            .feature(0x0402, &[0; 12])
            .feature(0xC001, &[1, 2, 3])
            .finish();
        let l0 = Level0::parse(&buf, "nvme0n1").unwrap();
        assert_eq!(l0.revision, 1);
        assert_eq!(l0.length, 48 + 16 + 16 + 32 + 20 + 16 + 7);
        let codes: Vec<u16> = l0.descriptors.iter().map(|d| d.code).collect();
        assert_eq!(codes, [0x0001, 0x0002, 0x0003, 0x0203, 0x0402, 0xC001]);
        assert!(l0.descriptors.iter().all(|d| d.version == 1));
        assert_eq!(l0.descriptors[5].feature, Feature::Vendor);
        assert_eq!(
            l0.descriptors[2].feature,
            Feature::Geometry {
                align: true,
                logical_block_size: 512,
                alignment_granularity: 8,
                lowest_aligned_lba: 0,
            }
        );
        assert_eq!(
            l0.descriptors[3].feature,
            Feature::Opal2 {
                com_ids: SscComIds {
                    base_com_id: 0x07FE,
                    num_com_ids: 1,
                },
                range_crossing: false,
                locking_admins: 4,
                locking_users: 9,
                initial_pin_indicator: 0,
                revert_pin_indicator: 0,
            }
        );
        assert_eq!(
            l0.summary(),
            Level0Summary {
                sed_present: true,
                ssc: Ssc::Opal2,
                locking_supported: true,
                locking_enabled: true,
                locked: false,
                media_encryption: true,
                shadow_mbr_active: false,
            }
        );
    }

    #[test]
    fn pyrite_only_is_not_a_sed() {
        let buf = Builder::new()
            .tper()
            .locking(SUPPORTED | ENABLED)
            .feature(0x0303, &[0x07, 0xFE, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
            .finish();
        let s = Level0::parse(&buf, "pyrite").unwrap().summary();
        assert_eq!(s.ssc, Ssc::Pyrite2);
        assert!(!s.sed_present && !s.media_encryption);
        assert!(s.locking_supported && s.locking_enabled && !s.locked);
    }

    #[test]
    fn locked_opal1_drive_with_shadow_mbr() {
        let buf = Builder::new()
            .tper()
            .locking(SUPPORTED | ENABLED | LOCKED | MEDIA_ENC | MBR_ENABLED)
            .feature(0x0200, &[0x10, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
            .finish();
        let l0 = Level0::parse(&buf, "sda").unwrap();
        assert_eq!(
            l0.descriptors[2].feature,
            Feature::Opal1(SscComIds {
                base_com_id: 0x1000,
                num_com_ids: 1
            })
        );
        let s = l0.summary();
        assert_eq!(s.ssc, Ssc::Opal1);
        assert!(s.sed_present && s.locked && s.locking_enabled && s.shadow_mbr_active);
    }

    #[test]
    fn no_locking_feature_means_no_sed() {
        let buf = Builder::new().tper().opal2().finish();
        let s = Level0::parse(&buf, "t").unwrap().summary();
        assert_eq!(s.ssc, Ssc::Opal2);
        assert!(!s.sed_present && !s.locking_supported && !s.media_encryption);

        let bare = Level0::parse(&Builder::new().tper().finish(), "t").unwrap();
        assert_eq!(bare.ssc(), Ssc::None);
        assert!(!bare.summary().sed_present);
    }

    #[test]
    fn encryption_without_encrypting_ssc_is_not_a_sed() {
        // Locking says MediaEncryption but only Pyrite is advertised.
        let buf = Builder::new()
            .locking(SUPPORTED | MEDIA_ENC)
            .feature(0x0302, &[0; 12])
            .finish();
        let s = Level0::parse(&buf, "t").unwrap().summary();
        assert_eq!(s.ssc, Ssc::Pyrite1);
        assert!(s.media_encryption && !s.sed_present);
    }

    #[test]
    fn strongest_ssc_wins_and_other_codes_decode() {
        let buf = Builder::new()
            .feature(0x0301, &[])
            .feature(0x0304, &[])
            .feature(0x0100, &[0, 1, 0, 2, 1])
            .feature(0x0201, &[])
            .feature(0x0202, &[])
            .feature(0x0403, &[])
            .feature(0x0404, &[])
            .feature(0x0999, &[])
            .finish();
        let l0 = Level0::parse(&buf, "t").unwrap();
        assert_eq!(l0.ssc(), Ssc::Enterprise);
        let features: Vec<&Feature> = l0.descriptors.iter().map(|d| &d.feature).collect();
        assert_eq!(features[0], &Feature::Opalite);
        assert_eq!(features[1], &Feature::Ruby);
        assert_eq!(
            features[3..],
            [
                &Feature::SingleUserMode,
                &Feature::DataStore,
                &Feature::NamespaceLocking,
                &Feature::DataRemoval,
                &Feature::Unknown
            ]
        );
        let only = |code| {
            Level0::parse(&Builder::new().feature(code, &[]).finish(), "t")
                .unwrap()
                .ssc()
        };
        assert_eq!(only(0x0301), Ssc::Opalite);
        assert_eq!(only(0x0304), Ssc::Ruby);
    }

    #[test]
    fn header_only_and_stop_at_length() {
        let empty = Builder::new().finish();
        assert!(Level0::parse(&empty, "t").unwrap().descriptors.is_empty());
        // Bytes after `length` are not read, even if they look like descriptors.
        let mut buf = Builder::new().tper().finish();
        buf[64..68].copy_from_slice(&[0x00, 0x02, 0x10, 0x0C]);
        buf[68] = SUPPORTED | MEDIA_ENC;
        assert_eq!(Level0::parse(&buf, "t").unwrap().descriptors.len(), 1);
    }

    #[test]
    fn truncated_and_garbage_are_errors() {
        let good = Builder::new().tper().locking(SUPPORTED).opal2().finish();
        let e = Level0::parse(&good[..47], "short").unwrap_err();
        assert_eq!((e.source.as_str(), e.field), ("short", "Level 0 header"));

        // Length past the buffer.
        let e = Level0::parse(&good[..90], "cut").unwrap_err();
        assert_eq!((e.offset, e.field), (0, "length of parameter data"));

        // A descriptor running past the length.
        let mut long = good.clone();
        long[48 + 3] = 0xFF;
        let e = Level0::parse(&long, "t").unwrap_err();
        assert_eq!((e.offset, e.field), (51, "feature length"));

        // A descriptor header cut by the length.
        let mut cut = good.clone();
        cut[0..4].copy_from_slice(&50u32.to_be_bytes());
        assert_eq!(
            Level0::parse(&cut, "t").unwrap_err().field,
            "feature descriptor header"
        );

        // Known features too short for their fields.
        let e = Level0::parse(&Builder::new().feature(0x0002, &[]).finish(), "t").unwrap_err();
        assert_eq!((e.offset, e.field), (52, "Locking flags"));
        let short_opal = Builder::new().feature(0x0203, &[0; 9]).finish();
        let e = Level0::parse(&short_opal, "t").unwrap_err();
        assert_eq!(
            (e.offset, e.field),
            (48 + 13, "initial C_PIN_SID indicator")
        );
        assert!(Level0::parse(&Builder::new().feature(0x0003, &[0; 20]).finish(), "t").is_err());

        // Garbage: all 0xFF, and a pseudo-random buffer.
        assert!(Level0::parse(&[0xFF; 2048], "t").is_err());
        let mut x: u32 = 0x1234_5678;
        let noise: Vec<u8> = (0..2048)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x.to_le_bytes()[0]
            })
            .collect();
        let _ = Level0::parse(&noise, "noise");
    }
}
