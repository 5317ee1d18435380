//! Verification by sampling: at least 1,000 seeded pseudo-random 4 KiB
//! units plus the first and the last, read back with `O_DIRECT` and checked
//! against what the erase must have left (NIST SP 800-88r1 §4.7: "at least
//! 1,000 subsections" chosen pseudo-randomly).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::aligned::AlignedBuf;
use super::pattern::{Fill, UNIT, Xoshiro256};

/// Threads reading samples at once.
pub const READERS: usize = 8;

/// The fewest random samples a verification takes.
pub const MIN_SAMPLES: u32 = 1000;

/// Which units are read: unit 0, the last unit, then `random` units drawn
/// from `seed` (repeats allowed, as drawn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplePlan {
    /// The seed the random units come from.
    pub seed: u64,
    /// How many random units.
    pub random: u32,
    /// Device size in bytes.
    pub size: u64,
    /// Byte offsets of every sample, in reading order.
    pub offsets: Vec<u64>,
}

impl SamplePlan {
    /// The samples of a device of `size` bytes.
    #[must_use]
    pub fn new(seed: u64, random: u32, size: u64) -> Self {
        let units = size.div_ceil(UNIT as u64).max(1);
        let mut rng = Xoshiro256::new(seed);
        let mut offsets = vec![0, (units - 1) * UNIT as u64];
        offsets.extend((0..random).map(|_| rng.below(units) * UNIT as u64));
        Self {
            seed,
            random,
            size,
            offsets,
        }
    }

    /// Length of the sample at `offset` (the last unit may be short).
    fn len_at(&self, offset: u64) -> usize {
        usize::try_from((self.size - offset).min(UNIT as u64)).unwrap_or(UNIT)
    }

    /// Read every sample; `visit` gets each offset and its bytes, in plan
    /// order. The reads run on [`READERS`] threads, so a drive that can
    /// serve many random reads at once is not read one 4 KiB unit at a time.
    pub fn read(&self, dev: &File, mut visit: impl FnMut(u64, &[u8])) -> io::Result<()> {
        let per_reader = self.offsets.len().div_ceil(READERS).max(1);
        let parts = std::thread::scope(|scope| {
            let readers: Vec<_> = self
                .offsets
                .chunks(per_reader)
                .map(|offsets| scope.spawn(move || self.read_part(dev, offsets)))
                .collect();
            readers
                .into_iter()
                .map(|r| {
                    r.join()
                        .unwrap_or_else(|_| Err(io::Error::other("a reader panicked")))
                })
                .collect::<io::Result<Vec<Vec<u8>>>>()
        })?;
        let mut bytes = parts.iter().flat_map(|p| p.chunks(UNIT));
        for &offset in &self.offsets {
            let unit = bytes.next().unwrap_or_default();
            visit(offset, &unit[..self.len_at(offset)]);
        }
        Ok(())
    }

    /// Read the samples at `offsets` into one buffer, one [`UNIT`] each.
    fn read_part(&self, dev: &File, offsets: &[u64]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(offsets.len() * UNIT);
        let mut buf = AlignedBuf::new(UNIT);
        for &offset in offsets {
            let len = self.len_at(offset);
            let bytes = &mut buf.as_mut_slice()[..len];
            dev.read_exact_at(bytes, offset).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("reading back {len} bytes at offset {offset}: {e}"),
                )
            })?;
            out.extend_from_slice(bytes);
            out.resize(out.len() + UNIT - len, 0);
        }
        Ok(out)
    }

    /// SHA-256 of each sample, before an erase whose result cannot be
    /// predicted (crypto or block erase), to show afterwards that each
    /// changed.
    pub fn fingerprints(&self, dev: &File) -> io::Result<Vec<Fingerprint>> {
        let mut out = Vec::with_capacity(self.offsets.len());
        self.read(dev, |_, bytes| {
            out.push(Fingerprint {
                digest: Sha256::digest(bytes).into(),
                uniform: bytes.windows(2).all(|w| w[0] == w[1]),
            });
        })?;
        Ok(out)
    }
}

/// One sample before the erase: its digest, and whether every byte was the
/// same (an unwritten or already-erased unit, which cannot show a change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// SHA-256 of the sample.
    pub digest: [u8; 32],
    /// All bytes equal.
    pub uniform: bool,
}

/// What the samples must show after the erase.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Exactly these bytes (zeros or the overwrite pattern).
    Fill(Fill),
    /// Different from before, unit by unit (cryptographic or block erase,
    /// whose read-back is up to the drive).
    Changed(Vec<Fingerprint>),
}

/// The outcome of a verification, as the certificate records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// `sampling`.
    pub method: String,
    /// What each sample was compared with.
    pub expected: String,
    /// Seed of the random units (hex), so anyone can redraw them.
    pub seed: String,
    /// Random units read.
    pub random_samples: u32,
    /// Whether the first and the last unit were read too (always).
    pub first_and_last: bool,
    /// Bytes per sample.
    pub sample_bytes: u32,
    /// Samples read in all.
    pub samples_read: u32,
    /// Samples that did not hold what they should.
    pub mismatches: u32,
    /// Byte offsets of the first mismatches (at most 16).
    pub mismatch_offsets: Vec<u64>,
    /// Samples that were uniform before and after a crypto or block erase,
    /// so neither prove nor disprove it.
    pub inconclusive: u32,
    /// SHA-256 over every sample read after the erase, in order.
    pub samples_sha256: String,
    /// `passed` or `failed`.
    pub result: String,
}

impl Verification {
    /// Whether every sample held what it should.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.result == "passed"
    }
}

/// Read the samples of `plan` back and judge them against `expect`.
pub fn verify(dev: &File, plan: &SamplePlan, expect: &Expect) -> io::Result<Verification> {
    let mut hasher = Sha256::new();
    let (mut read, mut mismatches, mut inconclusive) = (0u32, 0u32, 0u32);
    let mut mismatch_offsets = Vec::new();
    plan.read(dev, |offset, bytes| {
        hasher.update(bytes);
        let ok = match expect {
            Expect::Fill(fill) => fill.matches(offset, bytes),
            Expect::Changed(before) => {
                let was = before[read as usize];
                let same = <[u8; 32]>::from(Sha256::digest(bytes)) == was.digest;
                if same && was.uniform {
                    inconclusive += 1;
                }
                !same || was.uniform
            }
        };
        if !ok {
            mismatches += 1;
            if mismatch_offsets.len() < 16 {
                mismatch_offsets.push(offset);
            }
        }
        read += 1;
    })?;
    Ok(Verification {
        method: "sampling".into(),
        expected: match expect {
            Expect::Fill(fill) => fill.name().into(),
            Expect::Changed(_) => "changed from the samples read before the erase".into(),
        },
        seed: format!("{:016x}", plan.seed),
        random_samples: plan.random,
        first_and_last: true,
        sample_bytes: UNIT as u32,
        samples_read: read,
        mismatches,
        mismatch_offsets,
        inconclusive,
        samples_sha256: tractorsec_facts::text::hex(&hasher.finalize()),
        result: if mismatches == 0 { "passed" } else { "failed" }.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erase::pattern::filler;
    use std::io::Write;

    fn device(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(bytes).expect("write");
        let dev = File::open(f.path()).expect("open");
        (f, dev)
    }

    #[test]
    fn plan_reads_first_last_and_seeded_units() {
        let plan = SamplePlan::new(42, 1000, 10 * 4096 + 512);
        assert_eq!(plan.offsets.len(), 1002);
        assert_eq!(plan.offsets[..2], [0, 10 * 4096]);
        assert_eq!(plan.len_at(10 * 4096), 512);
        assert!(
            plan.offsets
                .iter()
                .all(|o| o % 4096 == 0 && *o <= 10 * 4096)
        );
        assert_eq!(plan, SamplePlan::new(42, 1000, 10 * 4096 + 512));
        assert_ne!(
            plan.offsets,
            SamplePlan::new(43, 1000, 10 * 4096 + 512).offsets
        );
    }

    #[test]
    fn zeros_pass_and_one_stray_byte_fails() {
        let mut bytes = vec![0u8; 64 * 4096];
        let (_f, dev) = device(&bytes);
        let plan = SamplePlan::new(1, 1000, bytes.len() as u64);
        let v = verify(&dev, &plan, &Expect::Fill(Fill::Zeros)).expect("verify");
        assert!(v.passed());
        assert_eq!(v.samples_read, 1002);
        // The last unit is always read, so a byte there is always caught.
        *bytes.last_mut().expect("non-empty") = 1;
        let (_f, dev) = device(&bytes);
        let v = verify(&dev, &plan, &Expect::Fill(Fill::Zeros)).expect("verify");
        assert!(!v.passed());
        assert!(v.mismatches >= 1);
        let shown = (v.mismatches as usize).min(16);
        assert_eq!(v.mismatch_offsets, vec![63 * 4096; shown]);
    }

    #[test]
    fn pattern_checked_in_place() {
        let fill = Fill::Pattern(filler(9));
        let mut bytes = vec![0u8; 16 * 4096];
        fill.render(0, &mut bytes);
        let (_f, dev) = device(&bytes);
        let plan = SamplePlan::new(5, 1000, bytes.len() as u64);
        assert!(
            verify(&dev, &plan, &Expect::Fill(fill.clone()))
                .expect("verify")
                .passed()
        );
        // Units swapped: right filler, wrong place.
        bytes.copy_within(0..4096, 4096);
        let (_f, dev) = device(&bytes);
        assert!(
            !verify(&dev, &plan, &Expect::Fill(fill))
                .expect("verify")
                .passed()
        );
    }

    #[test]
    fn changed_samples_pass_unchanged_fail_blank_ones_are_inconclusive() {
        let mut before = vec![0u8; 8 * 4096];
        for (i, b) in before.iter_mut().enumerate().skip(4096) {
            *b = (i % 251) as u8;
        }
        let (_f, dev) = device(&before);
        let plan = SamplePlan::new(3, 1000, before.len() as u64);
        let prints = plan.fingerprints(&dev).expect("fingerprints");
        // Nothing changed: every unit but the blank first one is a mismatch.
        let v = verify(&dev, &plan, &Expect::Changed(prints.clone())).expect("verify");
        assert!(!v.passed());
        assert!(v.inconclusive > 0);
        // Everything changed (crypto erase reads back noise).
        let after: Vec<u8> = before.iter().map(|b| b ^ 0x5A).collect();
        let (_f, dev) = device(&after);
        let v = verify(&dev, &plan, &Expect::Changed(prints)).expect("verify");
        assert!(v.passed(), "{v:?}");
        assert_eq!(v.inconclusive, 0);
    }
}
