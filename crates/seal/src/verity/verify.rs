//! Checking a data device against its hash device: `veritysetup verify`.

use std::path::Path;

use super::VerityError;
use super::format::CHUNK_BYTES;
use super::geometry::Geometry;
use super::hasher::SaltedHasher;
use super::io::{device_size, for_each_chunk, open_read, read_exact_at};
use super::superblock::{SUPERBLOCK_SIZE, Superblock};

/// The outcome of [`verify`]. Like `veritysetup verify`, the tree is
/// checked bottom-up (level 0 against the data, then each level against the
/// one below, then the root), and the first mismatch in that order is
/// reported; `offset` is the position `veritysetup` prints in
/// "Verification failed at position N" or "Spare area is not zeroed at
/// position N".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every block matches and the tree hashes to the given root
    /// (`veritysetup` exit code 0).
    Ok,
    /// The tree is consistent with the data but its root is not the given
    /// root hash: wrong root, or a changed top-level block
    /// (`veritysetup` exit code 1, "Verification of root hash failed").
    WrongRoot,
    /// Data block `block` does not hash to the digest stored for it in
    /// level 0: the data block, or that stored digest, was changed
    /// (`veritysetup` exit code 2).
    CorruptData {
        /// Index of the data block.
        block: u64,
        /// Byte offset of the block in the data device.
        offset: u64,
    },
    /// Hash-device block `block` does not hash to the digest its parent
    /// level stores for it, or a spare area (slot padding or the unused end
    /// of a hash block) in block `block` is not zero (`veritysetup` exit
    /// code 2).
    CorruptHash {
        /// Index of the block on the hash device (superblock in block 0).
        block: u64,
        /// Byte offset in the hash device: the start of the block whose
        /// digest differs, or the start of the non-zero spare area.
        offset: u64,
    },
}

/// Verifies `data` against the hash device `hash` and the trusted
/// `root_hash`, reading every parameter from the hash device's superblock.
/// Data beyond the superblock's block count is ignored, as by
/// `veritysetup`. Errors (unreadable files, a bad superblock, devices too
/// short for the superblock's geometry, a root hash of the wrong length)
/// are returned as [`VerityError`]; corruption is a [`Verdict`].
pub fn verify(data: &Path, hash: &Path, root_hash: &[u8]) -> Result<Verdict, VerityError> {
    let hash_file = open_read(hash, "open the hash device")?;
    let hash_size = device_size(&hash_file, hash)?;
    let mut sb_bytes =
        vec![0u8; usize::try_from(hash_size.min(SUPERBLOCK_SIZE as u64)).unwrap_or(0)];
    read_exact_at(&hash_file, hash, &mut sb_bytes, 0, "read the superblock")?;
    let sb = Superblock::parse(&sb_bytes, hash)?;
    let ds = sb.algorithm.digest_size();
    if root_hash.len() != ds {
        return Err(VerityError::RootHashLength {
            path: hash.to_path_buf(),
            algorithm: sb.algorithm,
            expected: ds,
            got: root_hash.len(),
        });
    }
    let g = Geometry::new(
        sb.algorithm,
        sb.data_block_size,
        sb.hash_block_size,
        sb.data_blocks,
    )
    .map_err(|reason| VerityError::Superblock {
        path: hash.to_path_buf(),
        reason,
    })?;
    if hash_size < g.hash_bytes() {
        return Err(VerityError::Hash {
            path: hash.to_path_buf(),
            reason: format!(
                "hash device has {hash_size} bytes but its superblock's tree needs {}",
                g.hash_bytes()
            ),
        });
    }
    let data_file = open_read(data, "open the data device")?;
    let data_size = device_size(&data_file, data)?;
    if data_size < g.data_bytes() {
        return Err(VerityError::Data {
            path: data.to_path_buf(),
            reason: format!(
                "data device has {data_size} bytes but the superblock covers {} blocks of {} ({} bytes)",
                g.data_blocks,
                g.data_block_size,
                g.data_bytes()
            ),
        });
    }
    let hasher = SaltedHasher::new(sb.algorithm, &sb.salt);
    let dbs = g.data_block_size as usize;
    let hbs = g.hash_block_size as usize;
    let hpb = g.hashes_per_block;

    let Some(level0) = g.levels.first().copied() else {
        let mut block = vec![0u8; dbs];
        read_exact_at(&data_file, data, &mut block, 0, "read data block 0")?;
        return Ok(root_verdict(&hasher.hash(&block), root_hash));
    };

    // Level 0 against the data, streamed; keep the digests of the stored
    // level-0 blocks for the level above.
    let chunk_bytes = (CHUNK_BYTES / dbs).max(1) * dbs;
    let mut digests = vec![0u8; chunk_bytes / dbs * ds];
    let mut parent = Vec::new();
    let mut children = Vec::new();
    let found = for_each_chunk(
        &data_file,
        data,
        g.data_bytes(),
        chunk_bytes,
        |offset, chunk| {
            let first = offset / u64::from(g.data_block_size);
            let n = chunk.len() / dbs;
            let digests = &mut digests[..n * ds];
            hasher.hash_blocks(chunk, dbs, digests);
            let first_block = first / hpb;
            let last_block = (first + n as u64 - 1) / hpb;
            parent.resize((last_block - first_block + 1) as usize * hbs, 0);
            read_exact_at(
                &hash_file,
                hash,
                &mut parent,
                g.hash_offset(level0.start_block + first_block),
                "read level-0 hash blocks",
            )?;
            let stored = Stored {
                bytes: &parent,
                first_block,
                level_start: level0.start_block,
            };
            let verdict = check_entries(&g, digests, first, g.data_blocks, &stored, |i| {
                Verdict::CorruptData {
                    block: i,
                    offset: i * u64::from(g.data_block_size),
                }
            });
            if verdict.is_some() {
                return Ok(verdict);
            }
            for (k, block) in parent.chunks_exact(hbs).enumerate() {
                let hb = first_block + k as u64;
                let last_child = ((hb + 1) * hpb).min(g.data_blocks) - 1;
                if last_child < first + n as u64 {
                    children.extend_from_slice(&hasher.hash(block));
                }
            }
            Ok(None)
        },
    )?;
    if let Some(verdict) = found {
        return Ok(verdict);
    }

    // The upper levels are small (1/hashes_per_block of level 0): read
    // them whole.
    let top = g.levels.last().copied().unwrap_or(level0);
    let upper_len = g.hash_offset(level0.start_block - top.start_block);
    let mut upper = zeroed(upper_len, hash)?;
    read_exact_at(
        &hash_file,
        hash,
        &mut upper,
        g.hash_offset(top.start_block),
        "read the upper tree levels",
    )?;
    for pair in g.levels.windows(2) {
        let (child, parent) = (pair[0], pair[1]);
        let from = g.hash_offset(parent.start_block - top.start_block) as usize;
        let bytes = &upper[from..from + g.hash_offset(parent.blocks) as usize];
        let stored = Stored {
            bytes,
            first_block: 0,
            level_start: parent.start_block,
        };
        let verdict = check_entries(&g, &children, 0, child.blocks, &stored, |j| {
            let block = child.start_block + j;
            Verdict::CorruptHash {
                block,
                offset: g.hash_offset(block),
            }
        });
        if let Some(verdict) = verdict {
            return Ok(verdict);
        }
        children = vec![0u8; parent.blocks as usize * ds];
        hasher.hash_blocks(bytes, hbs, &mut children);
    }
    // The top level has one block; `children` is its digest.
    Ok(root_verdict(&children, root_hash))
}

fn root_verdict(computed: &[u8], root_hash: &[u8]) -> Verdict {
    if computed == root_hash {
        Verdict::Ok
    } else {
        Verdict::WrongRoot
    }
}

fn zeroed(len: u64, path: &Path) -> Result<Vec<u8>, VerityError> {
    let too_big = |e: String| VerityError::Hash {
        path: path.to_path_buf(),
        reason: format!("cannot hold {len} bytes of hash tree in memory: {e}"),
    };
    let len = usize::try_from(len).map_err(|e| too_big(e.to_string()))?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|e| too_big(e.to_string()))?;
    v.resize(len, 0);
    Ok(v)
}

/// Stored hash blocks of one level, as read from the hash device.
struct Stored<'a> {
    /// Whole hash blocks.
    bytes: &'a [u8],
    /// Index within the level of the first block in `bytes`.
    first_block: u64,
    /// Hash-device block where the level starts.
    level_start: u64,
}

/// Compares computed child digests (children `first..first + n`, of `total`
/// in the level) with the digests stored in the parent level, checking slot
/// padding and block tails for zeros, in `veritysetup`'s order. `mismatch`
/// turns a child index into the verdict for a differing digest.
fn check_entries(
    g: &Geometry,
    computed: &[u8],
    first: u64,
    total: u64,
    stored: &Stored<'_>,
    mismatch: impl Fn(u64) -> Verdict,
) -> Option<Verdict> {
    let ds = g.algorithm.digest_size();
    let slot = g.algorithm.slot_size();
    let hbs = g.hash_block_size as usize;
    let hpb = g.hashes_per_block;
    let spare = |hb: u64, within: usize| {
        let offset = g.hash_offset(stored.level_start + hb) + within as u64;
        Verdict::CorruptHash {
            block: offset / u64::from(g.hash_block_size),
            offset,
        }
    };
    for (i, digest) in computed.chunks_exact(ds).enumerate() {
        let child = first + i as u64;
        let hb = child / hpb;
        let entry = (child % hpb) as usize;
        let base = (hb - stored.first_block) as usize * hbs;
        let at = base + entry * slot;
        if stored.bytes[at..at + ds] != *digest {
            return Some(mismatch(child));
        }
        if stored.bytes[at + ds..at + slot].iter().any(|&b| b != 0) {
            return Some(spare(hb, entry * slot + ds));
        }
        let last_in_block = entry as u64 == hpb - 1 || child == total - 1;
        if last_in_block && stored.bytes[at + slot..base + hbs].iter().any(|&b| b != 0) {
            return Some(spare(hb, (entry + 1) * slot));
        }
    }
    None
}
