//! Salted block hashing, `H(salt ‖ block)` (format version 1), one block at
//! a time or many in parallel.

use rayon::prelude::*;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::HashAlgorithm;

/// Bytes hashed per rayon task at least: enough to amortise scheduling,
/// small enough to spread a 1 MiB chunk over the cores.
const MIN_BYTES_PER_TASK: usize = 64 * 1024;

/// A hash state that has already absorbed the salt; cloned per block.
#[derive(Clone)]
pub(crate) enum SaltedHasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
}

impl SaltedHasher {
    pub(crate) fn new(algorithm: HashAlgorithm, salt: &[u8]) -> Self {
        match algorithm {
            HashAlgorithm::Sha1 => SaltedHasher::Sha1(salted(salt)),
            HashAlgorithm::Sha256 => SaltedHasher::Sha256(salted(salt)),
            HashAlgorithm::Sha512 => SaltedHasher::Sha512(salted(salt)),
        }
    }

    /// `H(salt ‖ block)`.
    pub(crate) fn hash(&self, block: &[u8]) -> Vec<u8> {
        match self {
            SaltedHasher::Sha1(h) => one(h, block),
            SaltedHasher::Sha256(h) => one(h, block),
            SaltedHasher::Sha512(h) => one(h, block),
        }
    }

    /// Hashes each `block_size` block of `data` into consecutive
    /// digest-size pieces of `out`, in parallel. `data.len()` must be
    /// `n * block_size` and `out.len()` `n * digest_size`.
    pub(crate) fn hash_blocks(&self, data: &[u8], block_size: usize, out: &mut [u8]) {
        match self {
            SaltedHasher::Sha1(h) => many(h, data, block_size, out),
            SaltedHasher::Sha256(h) => many(h, data, block_size, out),
            SaltedHasher::Sha512(h) => many(h, data, block_size, out),
        }
    }
}

fn salted<D: Digest>(salt: &[u8]) -> D {
    let mut h = D::new();
    h.update(salt);
    h
}

fn one<D: Digest + Clone>(base: &D, block: &[u8]) -> Vec<u8> {
    let mut h = base.clone();
    h.update(block);
    h.finalize().to_vec()
}

fn many<D: Digest + Clone + Send + Sync>(base: &D, data: &[u8], block_size: usize, out: &mut [u8]) {
    let digest_size = <D as Digest>::output_size();
    out.par_chunks_mut(digest_size)
        .zip(data.par_chunks(block_size))
        .with_min_len((MIN_BYTES_PER_TASK / block_size.max(1)).max(1))
        .for_each(|(digest, block)| {
            let mut h = base.clone();
            h.update(block);
            digest.copy_from_slice(&h.finalize());
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_equals_one_by_one_and_salt_comes_first() {
        let data: Vec<u8> = (0..64 * 512).map(|i| (i * 7 % 251) as u8).collect();
        for alg in [
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha512,
        ] {
            let h = SaltedHasher::new(alg, b"salt");
            let mut out = vec![0u8; 64 * alg.digest_size()];
            h.hash_blocks(&data, 512, &mut out);
            for (i, block) in data.chunks(512).enumerate() {
                let d = &out[i * alg.digest_size()..(i + 1) * alg.digest_size()];
                assert_eq!(d, h.hash(block));
            }
        }
        let mut salted_first = b"salt".to_vec();
        salted_first.extend_from_slice(b"block");
        assert_eq!(
            SaltedHasher::new(HashAlgorithm::Sha256, b"salt").hash(b"block"),
            Sha256::digest(&salted_first).to_vec()
        );
    }
}
