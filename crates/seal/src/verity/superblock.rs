//! The 512-byte dm-verity superblock at the start of the hash device
//! (cryptsetup `struct verity_sb`, little-endian).

use std::path::Path;

use super::{HashAlgorithm, MAX_SALT_SIZE, VerityError, block_size_ok};

/// Size of the on-disk superblock in bytes.
pub const SUPERBLOCK_SIZE: usize = 512;

const MAGIC: &[u8; 8] = b"verity\0\0";
const OFF_VERSION: usize = 8;
const OFF_HASH_TYPE: usize = 12;
const OFF_UUID: usize = 16;
const OFF_ALGORITHM: usize = 32;
const ALGORITHM_LEN: usize = 32;
const OFF_DATA_BLOCK_SIZE: usize = 64;
const OFF_HASH_BLOCK_SIZE: usize = 68;
const OFF_DATA_BLOCKS: usize = 72;
const OFF_SALT_SIZE: usize = 80;
const OFF_SALT: usize = 88;

/// A parsed dm-verity superblock (version 1, hash type 1 "normal").
///
/// Fields that the format fixes (magic, version, hash type) are checked by
/// [`Superblock::parse`] and written by [`Superblock::to_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// UUID of the hash device, raw bytes as `veritysetup --uuid` parses them.
    pub uuid: [u8; 16],
    /// The tree's hash algorithm.
    pub algorithm: HashAlgorithm,
    /// Data block size in bytes.
    pub data_block_size: u32,
    /// Hash block size in bytes.
    pub hash_block_size: u32,
    /// Number of data blocks covered by the tree.
    pub data_blocks: u64,
    /// The salt (at most 256 bytes; empty for `--salt -`).
    pub salt: Vec<u8>,
}

impl Superblock {
    /// Parses the superblock from the first 512 bytes of `bytes`; `file`
    /// names the hash device in errors. Accepts what `veritysetup` accepts
    /// (bytes after the algorithm's NUL, after the salt and in the padding
    /// are ignored) except hash type 0 (Chrome OS) and unknown algorithms,
    /// which this implementation does not support, and zero data blocks.
    pub fn parse(bytes: &[u8], file: &Path) -> Result<Superblock, VerityError> {
        let bad = |reason: String| VerityError::Superblock {
            path: file.to_path_buf(),
            reason,
        };
        let Some(sb) = bytes.get(..SUPERBLOCK_SIZE) else {
            return Err(bad(format!(
                "{} bytes, shorter than the {SUPERBLOCK_SIZE}-byte superblock",
                bytes.len()
            )));
        };
        if &sb[..MAGIC.len()] != MAGIC {
            return Err(bad("no \"verity\" signature at offset 0".to_string()));
        }
        let version = le_u32(sb, OFF_VERSION);
        if version != 1 {
            return Err(bad(format!(
                "unsupported superblock version {version} (expected 1)"
            )));
        }
        match le_u32(sb, OFF_HASH_TYPE) {
            1 => {}
            0 => return Err(bad("hash type 0 (Chrome OS) is not supported".to_string())),
            other => return Err(bad(format!("unsupported hash type {other}"))),
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&sb[OFF_UUID..OFF_UUID + 16]);

        let alg_field = &sb[OFF_ALGORITHM..OFF_ALGORITHM + ALGORITHM_LEN];
        let alg_len = alg_field
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(ALGORITHM_LEN);
        let alg_bytes = &alg_field[..alg_len];
        let algorithm = std::str::from_utf8(alg_bytes)
            .ok()
            .and_then(HashAlgorithm::from_name)
            .ok_or_else(|| {
                bad(format!(
                    "unsupported hash algorithm {:?} (expected sha256, sha1 or sha512)",
                    String::from_utf8_lossy(alg_bytes)
                ))
            })?;

        let data_block_size = le_u32(sb, OFF_DATA_BLOCK_SIZE);
        let hash_block_size = le_u32(sb, OFF_HASH_BLOCK_SIZE);
        for (what, size) in [("data", data_block_size), ("hash", hash_block_size)] {
            if !block_size_ok(size) {
                return Err(bad(format!(
                    "unsupported {what} block size {size} (must be a power of two from 512 to 524288)"
                )));
            }
        }
        let data_blocks = le_u64(sb, OFF_DATA_BLOCKS);
        if data_blocks == 0 {
            return Err(bad("data_blocks is 0".to_string()));
        }
        let salt_size = usize::from(u16::from_le_bytes([
            sb[OFF_SALT_SIZE],
            sb[OFF_SALT_SIZE + 1],
        ]));
        if salt_size > MAX_SALT_SIZE {
            return Err(bad(format!(
                "salt size {salt_size} exceeds {MAX_SALT_SIZE} bytes"
            )));
        }
        let salt = sb[OFF_SALT..OFF_SALT + salt_size].to_vec();
        Ok(Superblock {
            uuid,
            algorithm,
            data_block_size,
            hash_block_size,
            data_blocks,
            salt,
        })
    }

    /// The 512 on-disk bytes, exactly as `veritysetup format` writes them.
    /// A salt longer than 256 bytes is cut to 256 (the [`super::format`]
    /// options reject such salts before this is reached).
    pub fn to_bytes(&self) -> [u8; SUPERBLOCK_SIZE] {
        let mut b = [0u8; SUPERBLOCK_SIZE];
        b[..MAGIC.len()].copy_from_slice(MAGIC);
        b[OFF_VERSION..OFF_VERSION + 4].copy_from_slice(&1u32.to_le_bytes());
        b[OFF_HASH_TYPE..OFF_HASH_TYPE + 4].copy_from_slice(&1u32.to_le_bytes());
        b[OFF_UUID..OFF_UUID + 16].copy_from_slice(&self.uuid);
        let name = self.algorithm.name().as_bytes();
        b[OFF_ALGORITHM..OFF_ALGORITHM + name.len()].copy_from_slice(name);
        b[OFF_DATA_BLOCK_SIZE..OFF_DATA_BLOCK_SIZE + 4]
            .copy_from_slice(&self.data_block_size.to_le_bytes());
        b[OFF_HASH_BLOCK_SIZE..OFF_HASH_BLOCK_SIZE + 4]
            .copy_from_slice(&self.hash_block_size.to_le_bytes());
        b[OFF_DATA_BLOCKS..OFF_DATA_BLOCKS + 8].copy_from_slice(&self.data_blocks.to_le_bytes());
        let salt = &self.salt[..self.salt.len().min(MAX_SALT_SIZE)];
        // `salt.len()` is at most 256, so it fits in a u16.
        let salt_size = u16::try_from(salt.len()).unwrap_or(0);
        b[OFF_SALT_SIZE..OFF_SALT_SIZE + 2].copy_from_slice(&salt_size.to_le_bytes());
        b[OFF_SALT..OFF_SALT + salt.len()].copy_from_slice(salt);
        b
    }
}

fn le_u32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Superblock {
        Superblock {
            uuid: [
                0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x56, 0x78,
                0x9a, 0xbc,
            ],
            algorithm: HashAlgorithm::Sha1,
            data_block_size: 4096,
            hash_block_size: 1024,
            data_blocks: 0x0102_0304_0506_0708,
            salt: (1..=16).collect(),
        }
    }

    fn path() -> &'static Path {
        Path::new("hash.img")
    }

    #[test]
    fn round_trips() {
        let sb = sample();
        let bytes = sb.to_bytes();
        assert_eq!(Superblock::parse(&bytes, path()).unwrap(), sb);
        let empty_salt = Superblock {
            salt: Vec::new(),
            algorithm: HashAlgorithm::Sha512,
            ..sample()
        };
        assert_eq!(
            Superblock::parse(&empty_salt.to_bytes(), path()).unwrap(),
            empty_salt
        );
        let max_salt = Superblock {
            salt: vec![0xa5; 256],
            ..sample()
        };
        assert_eq!(
            Superblock::parse(&max_salt.to_bytes(), path()).unwrap(),
            max_salt
        );
    }

    #[test]
    fn fields_sit_at_the_documented_offsets() {
        let b = sample().to_bytes();
        assert_eq!(&b[0..8], b"verity\0\0");
        assert_eq!(&b[8..12], &[1, 0, 0, 0]); // version
        assert_eq!(&b[12..16], &[1, 0, 0, 0]); // hash type
        assert_eq!(&b[16..32], &sample().uuid);
        assert_eq!(&b[32..36], b"sha1");
        assert!(b[36..64].iter().all(|&x| x == 0));
        assert_eq!(&b[64..68], &4096u32.to_le_bytes());
        assert_eq!(&b[68..72], &1024u32.to_le_bytes());
        assert_eq!(&b[72..80], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&b[80..82], &[16, 0]);
        assert!(b[82..88].iter().all(|&x| x == 0));
        assert_eq!(&b[88..104], &(1..=16).collect::<Vec<u8>>()[..]);
        assert!(b[104..512].iter().all(|&x| x == 0));
    }

    #[test]
    fn rejects_bad_superblocks_with_reasons() {
        let good = sample().to_bytes();
        type Mutation = fn(&mut [u8; SUPERBLOCK_SIZE]);
        let cases: [(Mutation, &str); 9] = [
            (|b| b[0] = b'V', "signature"),
            (|b| b[8] = 2, "version 2"),
            (|b| b[12] = 0, "Chrome OS"),
            (|b| b[12] = 7, "hash type 7"),
            (|b| b[32..36].copy_from_slice(b"md55"), "\"md55\""),
            (
                |b| b[64..68].copy_from_slice(&4095u32.to_le_bytes()),
                "data block size 4095",
            ),
            (
                |b| b[68..72].copy_from_slice(&256u32.to_le_bytes()),
                "hash block size 256",
            ),
            (|b| b[72..80].fill(0), "data_blocks is 0"),
            (
                |b| b[80..82].copy_from_slice(&257u16.to_le_bytes()),
                "salt size 257",
            ),
        ];
        for (mutate, needle) in cases {
            let mut b = good;
            mutate(&mut b);
            let err = Superblock::parse(&b, path()).unwrap_err().to_string();
            assert!(err.contains("hash.img") && err.contains(needle), "{err}");
        }
        let err = Superblock::parse(&good[..511], path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("511 bytes"), "{err}");
    }

    #[test]
    fn ignores_bytes_veritysetup_ignores() {
        let mut b = sample().to_bytes();
        b[40] = b'x'; // after the algorithm's NUL
        b[300] = 0xff; // salt area beyond salt_size
        b[500] = 0xff; // trailing pad
        assert_eq!(Superblock::parse(&b, path()).unwrap(), sample());
    }
}
