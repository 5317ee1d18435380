//! Building a hash device: `veritysetup format`.

use std::path::Path;

use super::geometry::Geometry;
use super::hasher::SaltedHasher;
use super::io::{HashOutput, device_size, for_each_chunk, open_read, read_exact_at, same_file};
use super::superblock::Superblock;
use super::{HashAlgorithm, MAX_SALT_SIZE, VerityError, block_size_ok};

/// Data read per chunk; the reader fills the next chunk while this one is
/// hashed.
pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// Salt length `veritysetup` picks when none is given.
pub const DEFAULT_SALT_SIZE: usize = 32;

/// How to build a hash device; [`FormatOptions::default`] matches plain
/// `veritysetup format` (sha256, 4 KiB blocks, random salt and UUID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    /// Hash algorithm (`--hash`).
    pub algorithm: HashAlgorithm,
    /// Data block size in bytes (`--data-block-size`, default 4096).
    pub data_block_size: u32,
    /// Hash block size in bytes (`--hash-block-size`, default 4096).
    pub hash_block_size: u32,
    /// `None`: 32 random bytes, as `veritysetup` does; `Some(empty)`: no
    /// salt (`--salt -`); `Some(bytes)`: that salt (at most 256 bytes).
    pub salt: Option<Vec<u8>>,
    /// `None`: a random version-4 UUID; `Some`: that UUID (`--uuid`).
    pub uuid: Option<[u8; 16]>,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            algorithm: HashAlgorithm::Sha256,
            data_block_size: 4096,
            hash_block_size: 4096,
            salt: None,
            uuid: None,
        }
    }
}

/// What [`format`] built: the values `veritysetup format` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    /// The root hash ("Root hash").
    pub root_hash: Vec<u8>,
    /// The salt used ("Salt"; empty for none).
    pub salt: Vec<u8>,
    /// The hash device's UUID ("UUID").
    pub uuid: [u8; 16],
    /// Number of data blocks ("Data blocks").
    pub data_blocks: u64,
    /// Size of the hash device in hash blocks, superblock block included
    /// ("Hash device size" divided by the hash block size; "Hash blocks"
    /// is this minus one).
    pub hash_blocks: u64,
}

/// Hashes the data device `data` and writes superblock and hash tree to
/// `hash`, byte-identical to `veritysetup format` with the same salt and
/// UUID. A regular-file `hash` is replaced atomically (temporary file in
/// the same directory, fsync, rename, fsync of the directory); a block
/// device is written in place and must be large enough.
///
/// Unlike `veritysetup`, which silently leaves a trailing partial block
/// unprotected, a data size that is not a whole number of data blocks is
/// an error. An empty data device is an error, as in `veritysetup`.
pub fn format(data: &Path, hash: &Path, opts: &FormatOptions) -> Result<Formatted, VerityError> {
    for (what, size) in [
        ("data", opts.data_block_size),
        ("hash", opts.hash_block_size),
    ] {
        if !block_size_ok(size) {
            return Err(VerityError::Options(format!(
                "{what} block size {size} is not a power of two from 512 to 524288"
            )));
        }
    }
    let salt_len = opts.salt.as_ref().map_or(0, Vec::len);
    if salt_len > MAX_SALT_SIZE {
        return Err(VerityError::Options(format!(
            "salt is {salt_len} bytes, more than the {MAX_SALT_SIZE} the superblock holds"
        )));
    }
    if same_file(data, hash) {
        return Err(VerityError::Hash {
            path: hash.to_path_buf(),
            reason: format!("is the data device {} itself", data.display()),
        });
    }

    let file = open_read(data, "open the data device")?;
    let size = device_size(&file, data)?;
    let dbs = u64::from(opts.data_block_size);
    if size == 0 {
        return Err(VerityError::Data {
            path: data.to_path_buf(),
            reason: "data device is empty".to_string(),
        });
    }
    if size % dbs != 0 {
        return Err(VerityError::Data {
            path: data.to_path_buf(),
            reason: format!(
                "size {size} bytes is not a multiple of the {dbs}-byte data block size; \
                 the last {} bytes would not be protected",
                size % dbs
            ),
        });
    }
    let geometry = Geometry::new(
        opts.algorithm,
        opts.data_block_size,
        opts.hash_block_size,
        size / dbs,
    )
    .map_err(|reason| VerityError::Data {
        path: data.to_path_buf(),
        reason,
    })?;

    let salt = match &opts.salt {
        Some(s) => s.clone(),
        None => {
            let mut s = vec![0u8; DEFAULT_SALT_SIZE];
            random(&mut s, hash)?;
            s
        }
    };
    let uuid = match opts.uuid {
        Some(u) => u,
        None => {
            let mut u = [0u8; 16];
            random(&mut u, hash)?;
            u[6] = (u[6] & 0x0f) | 0x40;
            u[8] = (u[8] & 0x3f) | 0x80;
            u
        }
    };

    let hasher = SaltedHasher::new(opts.algorithm, &salt);
    let out = HashOutput::create(hash, geometry.hash_bytes())?;
    let root_hash = write_tree(&geometry, &hasher, &file, data, &out)?;

    let superblock = Superblock {
        uuid,
        algorithm: opts.algorithm,
        data_block_size: opts.data_block_size,
        hash_block_size: opts.hash_block_size,
        data_blocks: geometry.data_blocks,
        salt: salt.clone(),
    };
    // The superblock, then zeros up to the hash area (written explicitly:
    // a block device may hold old bytes there).
    let mut head =
        vec![0u8; usize::try_from(geometry.hash_offset(geometry.hash_start_block)).unwrap_or(0)];
    let sb = superblock.to_bytes();
    head[..sb.len()].copy_from_slice(&sb);
    out.write_at(&head, 0)?;
    out.commit()?;

    Ok(Formatted {
        root_hash,
        salt,
        uuid,
        data_blocks: geometry.data_blocks,
        hash_blocks: geometry.total_hash_blocks,
    })
}

fn random(buf: &mut [u8], hash: &Path) -> Result<(), VerityError> {
    getrandom::fill(buf).map_err(|e| VerityError::Io {
        path: hash.to_path_buf(),
        action: "get random bytes for salt or UUID",
        source: std::io::Error::other(e.to_string()),
    })
}

/// Writes every tree level and returns the root hash.
fn write_tree(
    g: &Geometry,
    hasher: &SaltedHasher,
    file: &std::fs::File,
    data: &Path,
    out: &HashOutput,
) -> Result<Vec<u8>, VerityError> {
    let dbs = g.data_block_size as usize;
    let ds = g.algorithm.digest_size();
    let Some(level0) = g.levels.first().copied() else {
        // A single data block: no tree, the root is that block's hash.
        let mut block = vec![0u8; dbs];
        read_exact_at(file, data, &mut block, 0, "read data block 0")?;
        return Ok(hasher.hash(&block));
    };

    let chunk_bytes = (CHUNK_BYTES / dbs).max(1) * dbs;
    let mut digests = vec![0u8; chunk_bytes / dbs * ds];
    let mut builder = LevelBuilder::new(g, level0.blocks);
    let mut written = 0u64;
    for_each_chunk(file, data, g.data_bytes(), chunk_bytes, |_, chunk| {
        let n = chunk.len() / dbs;
        let digests = &mut digests[..n * ds];
        hasher.hash_blocks(chunk, dbs, digests);
        for d in digests.chunks_exact(ds) {
            builder.push(d, hasher);
        }
        written += builder.flush(out, g, level0.start_block + written)?;
        Ok(None::<()>)
    })?;
    builder.finish(hasher);
    builder.flush(out, g, level0.start_block + written)?;

    let mut children = builder.block_digests;
    for level in g.levels.iter().skip(1) {
        let mut b = LevelBuilder::new(g, level.blocks);
        for d in children.chunks_exact(ds) {
            b.push(d, hasher);
        }
        b.finish(hasher);
        b.flush(out, g, level.start_block)?;
        children = b.block_digests;
    }
    // The top level has exactly one block; its digest is the root.
    Ok(children)
}

/// Packs digests into hash blocks (slot-padded, zero tail) and keeps the
/// digest of each finished block for the level above.
pub(crate) struct LevelBuilder {
    hash_block_size: usize,
    slot: usize,
    per_block: usize,
    current: Vec<u8>,
    filled: usize,
    /// Finished blocks not yet written.
    pending: Vec<u8>,
    /// `H(salt ‖ block)` of every finished block, in order.
    pub(crate) block_digests: Vec<u8>,
}

impl LevelBuilder {
    pub(crate) fn new(g: &Geometry, blocks: u64) -> Self {
        let hbs = g.hash_block_size as usize;
        let ds = g.algorithm.digest_size();
        LevelBuilder {
            hash_block_size: hbs,
            slot: g.algorithm.slot_size(),
            per_block: usize::try_from(g.hashes_per_block).unwrap_or(usize::MAX),
            current: vec![0u8; hbs],
            filled: 0,
            pending: Vec::new(),
            block_digests: Vec::with_capacity(
                usize::try_from(blocks)
                    .unwrap_or(0)
                    .saturating_mul(ds)
                    .min(1 << 30),
            ),
        }
    }

    pub(crate) fn push(&mut self, digest: &[u8], hasher: &SaltedHasher) {
        let at = self.filled * self.slot;
        self.current[at..at + digest.len()].copy_from_slice(digest);
        self.filled += 1;
        if self.filled == self.per_block {
            self.finish_block(hasher);
        }
    }

    /// Finishes a partly filled last block.
    pub(crate) fn finish(&mut self, hasher: &SaltedHasher) {
        if self.filled > 0 {
            self.finish_block(hasher);
        }
    }

    fn finish_block(&mut self, hasher: &SaltedHasher) {
        self.block_digests
            .extend_from_slice(&hasher.hash(&self.current));
        self.pending.extend_from_slice(&self.current);
        self.current.fill(0);
        self.filled = 0;
    }

    /// Writes the finished blocks at hash-device block `at`; returns how
    /// many were written.
    fn flush(&mut self, out: &HashOutput, g: &Geometry, at: u64) -> Result<u64, VerityError> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        out.write_at(&self.pending, g.hash_offset(at))?;
        let n = (self.pending.len() / self.hash_block_size) as u64;
        self.pending.clear();
        Ok(n)
    }
}
