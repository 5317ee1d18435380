//! dm-verity hash devices (format version 1), byte-compatible with `veritysetup`.
//!
//! A hash device made by [`format`] is byte-identical to what
//! `veritysetup format --salt S --uuid U DATA HASH` writes (cryptsetup 2.6,
//! hash type 1, hash offset 0), and [`verify`] reports the same first failure
//! as `veritysetup verify`:
//!
//! * block 0 of the hash device holds the 512-byte [`Superblock`], the rest of
//!   that block is zero;
//! * the tree levels follow, the top level first and level 0 (the digests of
//!   the data blocks) last ([`Geometry`]);
//! * each block is hashed as `H(salt ‖ block)`; each digest sits in a
//!   power-of-two slot, zero-padded; the unused rest of a hash block is zero;
//! * the root hash is `H(salt ‖ top-level block)`, or `H(salt ‖ data block 0)`
//!   when there is a single data block and so no tree at all.
//!
//! Data is read in large chunks by a reader thread while the previous chunk
//! is hashed on the rayon pool.

mod format;
mod geometry;
mod hasher;
mod io;
mod superblock;
mod verify;

use std::fmt;
use std::path::PathBuf;

pub use format::{FormatOptions, Formatted, format};
pub use geometry::{Geometry, Level};
pub use superblock::{SUPERBLOCK_SIZE, Superblock};
pub use verify::{Verdict, verify};

/// A UUID as `veritysetup` prints it (`8-4-4-4-12` lower-case hex).
pub fn uuid_string(uuid: &[u8; 16]) -> String {
    let h = tractorsec_facts::text::hex(uuid);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Smallest data or hash block size `veritysetup` accepts, in bytes.
pub const MIN_BLOCK_SIZE: u32 = 512;
/// Largest data or hash block size `veritysetup` accepts, in bytes.
pub const MAX_BLOCK_SIZE: u32 = 512 * 1024;
/// Largest salt the superblock can hold, in bytes.
pub const MAX_SALT_SIZE: usize = 256;

/// A hash algorithm for the tree, named as `veritysetup` prints it
/// (`Hash algorithm: sha256`) and as the superblock stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256, `veritysetup`'s default (32-byte digests).
    Sha256,
    /// SHA-1 (20-byte digests stored in 32-byte slots).
    Sha1,
    /// SHA-512 (64-byte digests).
    Sha512,
}

impl HashAlgorithm {
    /// The lower-case name stored in the superblock, e.g. `"sha256"`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// The algorithm with this superblock name, or `None` if unsupported.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(HashAlgorithm::Sha256),
            "sha1" => Some(HashAlgorithm::Sha1),
            "sha512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// Length of one digest in bytes.
    pub fn digest_size(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// Bytes one digest occupies in a hash block (format version 1): the
    /// digest size rounded up to a power of two, so sha1's 20 bytes take 32.
    pub fn slot_size(self) -> usize {
        self.digest_size().next_power_of_two()
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a dm-verity operation could not do its job. Corruption found by
/// [`verify`] is not an error but a [`Verdict`].
#[derive(Debug, thiserror::Error)]
pub enum VerityError {
    /// Reading or writing a file failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// What was being done, e.g. "read data block".
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The hash device's superblock is missing, malformed or unsupported.
    #[error("{}: invalid dm-verity superblock: {reason}", path.display())]
    Superblock {
        /// The hash device.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data device cannot be hashed as asked (empty, not a whole number
    /// of blocks, shorter than the superblock says, too large).
    #[error("{}: {reason}", path.display())]
    Data {
        /// The data device.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The hash device is too small for the tree it should hold.
    #[error("{}: {reason}", path.display())]
    Hash {
        /// The hash device.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A [`FormatOptions`] value is out of range.
    #[error("invalid dm-verity format options: {0}")]
    Options(String),
    /// The root hash given to [`verify`] has the wrong length for the
    /// superblock's algorithm.
    #[error("{}: root hash is {got} bytes but {algorithm} digests are {expected} bytes", path.display())]
    RootHashLength {
        /// The hash device whose superblock names the algorithm.
        path: PathBuf,
        /// The superblock's algorithm.
        algorithm: HashAlgorithm,
        /// The digest size of that algorithm.
        expected: usize,
        /// The length of the root hash given.
        got: usize,
    },
}

/// Checks a block size the way `veritysetup` does: a power of two from
/// 512 bytes to 512 KiB.
pub(crate) fn block_size_ok(size: u32) -> bool {
    size.is_power_of_two() && (MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip_and_sizes() {
        for alg in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha512,
        ] {
            assert_eq!(HashAlgorithm::from_name(alg.name()), Some(alg));
            assert_eq!(alg.to_string(), alg.name());
        }
        assert_eq!(HashAlgorithm::from_name("SHA256"), None);
        assert_eq!(HashAlgorithm::Sha1.slot_size(), 32);
        assert_eq!(HashAlgorithm::Sha256.slot_size(), 32);
        assert_eq!(HashAlgorithm::Sha512.slot_size(), 64);
    }

    use tractorsec_facts::text::hex;

    fn unsalted() -> FormatOptions {
        FormatOptions {
            salt: Some(Vec::new()),
            uuid: Some([7; 16]),
            ..FormatOptions::default()
        }
    }

    fn flip(path: &std::path::Path, offset: usize) {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[offset] ^= 0x01;
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn one_zero_block_without_salt_has_the_known_root() {
        let dir = tempfile::tempdir().unwrap();
        let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
        std::fs::write(&data, [0u8; 4096]).unwrap();
        let f = format(&data, &hash, &unsalted()).unwrap();
        assert_eq!(
            hex(&f.root_hash),
            "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7"
        );
        assert_eq!((f.data_blocks, f.hash_blocks), (1, 1));
        let written = std::fs::read(&hash).unwrap();
        assert_eq!(written.len(), 4096);
        assert!(written[SUPERBLOCK_SIZE..].iter().all(|&b| b == 0));
        assert_eq!(verify(&data, &hash, &f.root_hash).unwrap(), Verdict::Ok);
        flip(&data, 4095);
        assert_eq!(
            verify(&data, &hash, &f.root_hash).unwrap(),
            Verdict::WrongRoot
        );
    }

    #[test]
    fn two_blocks_layout_computed_by_hand() {
        use sha2::{Digest, Sha256};
        let dir = tempfile::tempdir().unwrap();
        let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
        let mut bytes = vec![0u8; 8192];
        bytes[4096..].fill(0xab);
        std::fs::write(&data, &bytes).unwrap();
        let opts = FormatOptions {
            salt: Some(b"NaCl".to_vec()),
            ..unsalted()
        };
        let f = format(&data, &hash, &opts).unwrap();
        let salted = |block: &[u8]| {
            let mut h = Sha256::new();
            h.update(b"NaCl");
            h.update(block);
            h.finalize().to_vec()
        };
        let mut level0 = vec![0u8; 4096];
        level0[..32].copy_from_slice(&salted(&bytes[..4096]));
        level0[32..64].copy_from_slice(&salted(&bytes[4096..]));
        let written = std::fs::read(&hash).unwrap();
        assert_eq!(written.len(), 8192);
        assert_eq!(&written[4096..], &level0[..]);
        assert_eq!(f.root_hash, salted(&level0));
        assert_eq!(f.hash_blocks, 2);
        let sb = Superblock::parse(&written, &hash).unwrap();
        assert_eq!(
            (sb.salt.as_slice(), sb.data_blocks, sb.uuid),
            (&b"NaCl"[..], 2, [7; 16])
        );
    }

    #[test]
    fn verify_names_the_first_corrupt_block() {
        let dir = tempfile::tempdir().unwrap();
        let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
        let bytes: Vec<u8> = (0..129 * 4096u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&data, &bytes).unwrap();
        let opts = FormatOptions {
            algorithm: HashAlgorithm::Sha1,
            ..FormatOptions::default()
        };
        let f = format(&data, &hash, &opts).unwrap();
        // Layout: block 0 superblock, block 1 top level, blocks 2-3 level 0.
        assert_eq!(f.hash_blocks, 4);
        let root = f.root_hash.clone();
        assert_eq!(verify(&data, &hash, &root).unwrap(), Verdict::Ok);
        let mut wrong = root.clone();
        wrong[0] ^= 1;
        assert_eq!(verify(&data, &hash, &wrong).unwrap(), Verdict::WrongRoot);

        let pristine_data = std::fs::read(&data).unwrap();
        let pristine_hash = std::fs::read(&hash).unwrap();
        let restore = || {
            std::fs::write(&data, &pristine_data).unwrap();
            std::fs::write(&hash, &pristine_hash).unwrap();
        };
        flip(&data, 128 * 4096 + 5);
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptData {
                block: 128,
                offset: 128 * 4096
            }
        );
        flip(&data, 100 * 4096 + 4095); // an earlier block: the first one is named
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptData {
                block: 100,
                offset: 100 * 4096
            }
        );
        restore();
        // Digest of data block 3 in level 0 (block 2, slot 3).
        flip(&hash, 2 * 4096 + 3 * 32);
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptData {
                block: 3,
                offset: 3 * 4096
            }
        );
        restore();
        // sha1 slot padding of entry 5 in level-0 block 2.
        flip(&hash, 2 * 4096 + 5 * 32 + 20);
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptHash {
                block: 2,
                offset: 2 * 4096 + 5 * 32 + 20
            }
        );
        restore();
        // Unused tail of the last level-0 block (one entry used).
        flip(&hash, 3 * 4096 + 100);
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptHash {
                block: 3,
                offset: 3 * 4096 + 32
            }
        );
        restore();
        // Entry 1 of the top level: the digest of level-0 block 3.
        flip(&hash, 4096 + 32);
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptHash {
                block: 3,
                offset: 3 * 4096
            }
        );
        restore();
        // Unused tail of the top level: consistent below, so only the root differs.
        flip(&hash, 4096 + 4000);
        assert_eq!(
            verify(&data, &hash, &root).unwrap(),
            Verdict::CorruptHash {
                block: 1,
                offset: 4096 + 64
            }
        );
        restore();
        // Outside the tree (rest of the superblock block) is not checked.
        flip(&hash, 1000);
        assert_eq!(verify(&data, &hash, &root).unwrap(), Verdict::Ok);
    }

    #[test]
    fn format_rejects_bad_input_with_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
        std::fs::write(&data, vec![1u8; 5000]).unwrap();
        let err = format(&data, &hash, &unsalted()).unwrap_err().to_string();
        assert!(
            err.contains("data") && err.contains("not a multiple") && err.contains("904"),
            "{err}"
        );
        assert!(!hash.exists());

        std::fs::write(&data, b"").unwrap();
        let err = format(&data, &hash, &unsalted()).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");

        std::fs::write(&data, vec![1u8; 4096]).unwrap();
        let err = format(&data, &data, &unsalted()).unwrap_err().to_string();
        assert!(err.contains("data device"), "{err}");
        assert_eq!(std::fs::read(&data).unwrap(), vec![1u8; 4096]);

        let long_salt = FormatOptions {
            salt: Some(vec![0; 257]),
            ..unsalted()
        };
        assert!(matches!(
            format(&data, &hash, &long_salt),
            Err(VerityError::Options(_))
        ));
        let bad_block = FormatOptions {
            data_block_size: 1000,
            ..unsalted()
        };
        assert!(matches!(
            format(&data, &hash, &bad_block),
            Err(VerityError::Options(_))
        ));
        let err = format(&dir.path().join("missing"), &hash, &unsalted()).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("data")]);
    }

    #[test]
    fn format_replaces_an_existing_hash_file_and_randomises_salt_and_uuid() {
        let dir = tempfile::tempdir().unwrap();
        let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
        std::fs::write(&data, vec![9u8; 3 * 4096]).unwrap();
        std::fs::write(&hash, vec![0xffu8; 100_000]).unwrap();
        let a = format(&data, &hash, &FormatOptions::default()).unwrap();
        assert_eq!(std::fs::metadata(&hash).unwrap().len(), 2 * 4096);
        let b = format(&data, &hash, &FormatOptions::default()).unwrap();
        assert_eq!(a.salt.len(), 32);
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.uuid, b.uuid);
        assert_eq!(a.uuid[6] >> 4, 4); // version 4
        assert_eq!(a.uuid[8] & 0xc0, 0x80); // RFC 4122 variant
        assert_eq!(verify(&data, &hash, &b.root_hash).unwrap(), Verdict::Ok);
        assert_eq!(
            verify(&data, &hash, &a.root_hash).unwrap(),
            Verdict::WrongRoot
        );
    }

    #[test]
    fn verify_reports_unusable_inputs_as_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (data, hash) = (dir.path().join("data"), dir.path().join("hash"));
        std::fs::write(&data, vec![3u8; 200 * 4096]).unwrap();
        let f = format(&data, &hash, &unsalted()).unwrap();
        assert!(matches!(
            verify(&data, &hash, &f.root_hash[..20]),
            Err(VerityError::RootHashLength {
                expected: 32,
                got: 20,
                ..
            })
        ));
        // Data longer than the superblock says is fine (veritysetup agrees).
        let mut longer = std::fs::read(&data).unwrap();
        longer.extend_from_slice(&[5u8; 4096]);
        std::fs::write(&data, &longer).unwrap();
        assert_eq!(verify(&data, &hash, &f.root_hash).unwrap(), Verdict::Ok);
        std::fs::write(&data, &longer[..199 * 4096]).unwrap();
        let err = verify(&data, &hash, &f.root_hash).unwrap_err().to_string();
        assert!(err.contains("200 blocks"), "{err}");
        std::fs::write(&data, &longer[..200 * 4096]).unwrap();
        let h = std::fs::read(&hash).unwrap();
        std::fs::write(&hash, &h[..h.len() - 1]).unwrap();
        let err = verify(&data, &hash, &f.root_hash).unwrap_err().to_string();
        assert!(err.contains("hash") && err.contains("needs"), "{err}");
        std::fs::write(&hash, &h[..100]).unwrap();
        assert!(matches!(
            verify(&data, &hash, &f.root_hash),
            Err(VerityError::Superblock { .. })
        ));
        std::fs::write(&hash, vec![0u8; 8192]).unwrap();
        let err = verify(&data, &hash, &f.root_hash).unwrap_err().to_string();
        assert!(err.contains("signature"), "{err}");
    }

    #[test]
    fn block_sizes_match_veritysetup_limits() {
        assert!(block_size_ok(512));
        assert!(block_size_ok(4096));
        assert!(block_size_ok(512 * 1024));
        assert!(!block_size_ok(256));
        assert!(!block_size_ok(1024 * 1024));
        assert!(!block_size_ok(4095));
        assert!(!block_size_ok(0));
    }
}
