//! Where each tree level lives on the hash device (cryptsetup `hash_levels`).

use super::superblock::SUPERBLOCK_SIZE;
use super::{HashAlgorithm, block_size_ok};

/// `veritysetup`'s limit on tree depth.
pub const MAX_LEVELS: usize = 63;

/// One level of the hash tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Index of the level's first block on the hash device, counted in hash
    /// blocks from the start of the device (the superblock is in block 0).
    pub start_block: u64,
    /// Number of hash blocks in the level.
    pub blocks: u64,
}

/// The shape of a hash tree: levels, their places on the hash device, and
/// the device's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    /// The hash algorithm.
    pub algorithm: HashAlgorithm,
    /// Data block size in bytes.
    pub data_block_size: u32,
    /// Hash block size in bytes.
    pub hash_block_size: u32,
    /// Number of data blocks.
    pub data_blocks: u64,
    /// Digests per hash block: `2^floor(log2(hash_block_size / digest_size))`.
    pub hashes_per_block: u64,
    /// The levels, `levels[0]` holding the digests of the data blocks; the
    /// top level is `levels.last()` and always has one block. Empty when
    /// there is a single data block (the root is then the hash of that block).
    pub levels: Vec<Level>,
    /// First block of the hash area (just after the superblock): where the
    /// top level starts and what the kernel table calls `hash_start_block`.
    pub hash_start_block: u64,
    /// Size of the hash device in hash blocks, superblock block included
    /// (`veritysetup`'s "Hash device size" divided by the hash block size).
    pub total_hash_blocks: u64,
}

impl Geometry {
    /// Lays out the tree for `data_blocks` blocks, or says why it cannot be
    /// laid out (bad block size, zero blocks, sizes overflowing 63 bits,
    /// more than 63 levels).
    pub fn new(
        algorithm: HashAlgorithm,
        data_block_size: u32,
        hash_block_size: u32,
        data_blocks: u64,
    ) -> Result<Geometry, String> {
        for (what, size) in [("data", data_block_size), ("hash", hash_block_size)] {
            if !block_size_ok(size) {
                return Err(format!(
                    "unsupported {what} block size {size} (must be a power of two from 512 to 524288)"
                ));
            }
        }
        if data_blocks == 0 {
            return Err("no data blocks".to_string());
        }
        // Device sizes are signed 64-bit offsets in veritysetup.
        let data_bytes = data_blocks.checked_mul(u64::from(data_block_size));
        if data_bytes.is_none_or(|b| b > i64::MAX as u64) {
            return Err(format!(
                "{data_blocks} blocks of {data_block_size} bytes overflow a 64-bit offset"
            ));
        }
        let per_block = u64::from(hash_block_size) / algorithm.digest_size() as u64;
        // hash_block_size >= 512 > 64 >= digest size, so per_block >= 8.
        let bits = per_block.max(2).ilog2();
        let hashes_per_block = 1u64 << bits;

        let mut depth = 0u32;
        while bits * depth < 64 && ((data_blocks - 1) >> (bits * depth)) != 0 {
            depth += 1;
        }
        if depth as usize > MAX_LEVELS {
            return Err(format!(
                "{depth} tree levels exceed the limit of {MAX_LEVELS}"
            ));
        }
        let hash_start_block = (SUPERBLOCK_SIZE as u64).div_ceil(u64::from(hash_block_size));
        let mut levels = vec![
            Level {
                start_block: 0,
                blocks: 0
            };
            depth as usize
        ];
        let mut position = hash_start_block;
        for i in (0..depth).rev() {
            let shift = bits * (i + 1);
            let blocks = if shift >= 64 {
                1
            } else {
                ((data_blocks - 1) >> shift) + 1
            };
            levels[i as usize] = Level {
                start_block: position,
                blocks,
            };
            position = position
                .checked_add(blocks)
                .ok_or_else(|| "hash area overflow".to_string())?;
        }
        if position
            .checked_mul(u64::from(hash_block_size))
            .is_none_or(|b| b > i64::MAX as u64)
        {
            return Err("hash area overflows a 64-bit offset".to_string());
        }
        Ok(Geometry {
            algorithm,
            data_block_size,
            hash_block_size,
            data_blocks,
            hashes_per_block,
            levels,
            hash_start_block,
            total_hash_blocks: position,
        })
    }

    /// Bytes of data covered by the tree.
    pub fn data_bytes(&self) -> u64 {
        // Checked in `new`.
        self.data_blocks * u64::from(self.data_block_size)
    }

    /// Size of the hash device in bytes, superblock block included.
    pub fn hash_bytes(&self) -> u64 {
        // Checked in `new`.
        self.total_hash_blocks * u64::from(self.hash_block_size)
    }

    /// Byte offset of a hash-device block.
    pub(crate) fn hash_offset(&self, block: u64) -> u64 {
        block * u64::from(self.hash_block_size)
    }

    /// Hash blocks in the tree proper, without the superblock block
    /// (`veritysetup`'s "Hash blocks").
    pub fn tree_blocks(&self) -> u64 {
        self.total_hash_blocks - self.hash_start_block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_per_level(g: &Geometry) -> Vec<u64> {
        g.levels.iter().map(|l| l.blocks).collect()
    }

    #[test]
    fn one_block_has_no_tree() {
        let g = Geometry::new(HashAlgorithm::Sha256, 4096, 4096, 1).unwrap();
        assert!(g.levels.is_empty());
        assert_eq!(g.hashes_per_block, 128);
        assert_eq!(g.hash_start_block, 1);
        assert_eq!(g.total_hash_blocks, 1);
        assert_eq!(g.hash_bytes(), 4096);
        assert_eq!(g.tree_blocks(), 0);
    }

    #[test]
    fn up_to_128_blocks_is_one_level() {
        for n in [2, 127, 128] {
            let g = Geometry::new(HashAlgorithm::Sha256, 4096, 4096, n).unwrap();
            assert_eq!(blocks_per_level(&g), [1], "{n} blocks");
            assert_eq!(g.levels[0].start_block, 1);
            assert_eq!(g.total_hash_blocks, 2);
        }
    }

    #[test]
    fn block_129_adds_a_level_stored_top_first() {
        let g = Geometry::new(HashAlgorithm::Sha256, 4096, 4096, 129).unwrap();
        assert_eq!(blocks_per_level(&g), [2, 1]);
        assert_eq!(g.levels[1].start_block, 1); // top level right after the superblock
        assert_eq!(g.levels[0].start_block, 2); // level 0 last
        assert_eq!(g.total_hash_blocks, 4);
    }

    #[test]
    fn reference_64_mib_sha256() {
        // devices-and-images.md B1/B3: levels [128, 1], 129 hash blocks, 532480 bytes.
        let g = Geometry::new(HashAlgorithm::Sha256, 4096, 4096, 16384).unwrap();
        assert_eq!(blocks_per_level(&g), [128, 1]);
        assert_eq!(g.tree_blocks(), 129);
        assert_eq!(g.hash_bytes(), 532_480);
        assert_eq!(g.levels[0].start_block, 2);
    }

    #[test]
    fn reference_16513_blocks_sha1() {
        // devices-and-images.md B1: 16513 blocks / sha1: levels [130, 2, 1], 32-byte slots.
        let g = Geometry::new(HashAlgorithm::Sha1, 4096, 4096, 16513).unwrap();
        assert_eq!(g.hashes_per_block, 128);
        assert_eq!(blocks_per_level(&g), [130, 2, 1]);
        assert_eq!(g.levels[2].start_block, 1);
        assert_eq!(g.levels[1].start_block, 2);
        assert_eq!(g.levels[0].start_block, 4);
        assert_eq!(g.total_hash_blocks, 134);
    }

    #[test]
    fn small_hash_blocks_and_sha512() {
        let g = Geometry::new(HashAlgorithm::Sha512, 4096, 512, 9).unwrap();
        assert_eq!(g.hashes_per_block, 8);
        assert_eq!(blocks_per_level(&g), [2, 1]);
        assert_eq!(g.hash_start_block, 1);
    }

    #[test]
    fn rejects_impossible_shapes_without_panicking() {
        assert!(Geometry::new(HashAlgorithm::Sha256, 4096, 4096, 0).is_err());
        assert!(Geometry::new(HashAlgorithm::Sha256, 4000, 4096, 1).is_err());
        assert!(Geometry::new(HashAlgorithm::Sha256, 4096, 1 << 20, 1).is_err());
        assert!(Geometry::new(HashAlgorithm::Sha256, 4096, 4096, u64::MAX).is_err());
        // Largest data size that fits: still a valid tree.
        let g = Geometry::new(HashAlgorithm::Sha512, 512, 512, (i64::MAX as u64) / 512).unwrap();
        assert_eq!(g.levels.last().map(|l| l.blocks), Some(1));
    }
}
