//! What an overwrite writes, and the seeded pseudo-random numbers behind it
//! and behind the choice of verification samples.
//!
//! The overwrite pattern is made of 4 KiB units. A unit starting at byte
//! offset `o` holds `o` as a little-endian u64 in its first 8 bytes, then
//! 4088 filler bytes that are the same in every unit and come from the seed.
//! The offset stamp makes a write that lands in the wrong place fail
//! verification; the filler makes the pattern unlike zeros or old data.

/// Size of one pattern unit in bytes.
pub const UNIT: usize = 4096;
/// Bytes of the offset stamp at the start of each unit.
pub const STAMP: usize = 8;

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64: small,
/// fast and reproducible from one recorded `u64`.
#[derive(Debug, Clone)]
pub struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// A generator whose whole output follows from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A value in `0..n` (`n > 0`), by Lemire's multiply-shift; the bias is
    /// below 2^-40 for any device size, irrelevant for sampling.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// The 4088 filler bytes of every unit, from `seed`.
#[must_use]
pub fn filler(seed: u64) -> Vec<u8> {
    let mut rng = Xoshiro256::new(seed);
    let mut out = Vec::with_capacity(UNIT - STAMP);
    while out.len() < UNIT - STAMP {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(UNIT - STAMP);
    out
}

/// What a region of the device should hold after the erase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fill {
    /// Every byte zero.
    Zeros,
    /// Offset-stamped units with this filler ([`filler`]).
    Pattern(Vec<u8>),
}

impl Fill {
    /// Fill `buf` with what belongs at byte offset `offset` (a multiple of
    /// [`UNIT`]) of the device.
    pub fn render(&self, offset: u64, buf: &mut [u8]) {
        match self {
            Fill::Zeros => buf.fill(0),
            Fill::Pattern(filler) => {
                for unit in buf.chunks_mut(UNIT) {
                    if unit.len() > STAMP {
                        let rest = unit.len() - STAMP;
                        unit[STAMP..].copy_from_slice(&filler[..rest]);
                    }
                }
                self.restamp(offset, buf);
            }
        }
    }

    /// `zeros` or `pattern`, as certificates name it.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Fill::Zeros => "zeros",
            Fill::Pattern(_) => "pattern",
        }
    }

    /// Restamp a buffer already rendered for another unit-aligned offset:
    /// only the 8-byte stamps change, which keeps the writer at memory speed.
    pub fn restamp(&self, offset: u64, buf: &mut [u8]) {
        if let Fill::Pattern(_) = self {
            for (i, unit) in buf.chunks_mut(UNIT).enumerate() {
                let stamp = (offset + (i * UNIT) as u64).to_le_bytes();
                let n = unit.len().min(STAMP);
                unit[..n].copy_from_slice(&stamp[..n]);
            }
        }
    }

    /// Whether `bytes`, read at `offset`, hold exactly what belongs there.
    #[must_use]
    pub fn matches(&self, offset: u64, bytes: &[u8]) -> bool {
        match self {
            Fill::Zeros => bytes.iter().all(|&b| b == 0),
            Fill::Pattern(_) => {
                let mut want = vec![0u8; bytes.len()];
                self.render(offset, &mut want);
                want == bytes
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_sequence() {
        // First outputs of xoshiro256** for state {1, 2, 3, 4} (reference C).
        let mut rng = Xoshiro256 { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(got, [11520, 0, 1509978240, 1215971899390074240]);
    }

    #[test]
    fn same_seed_same_filler_other_seed_other_filler() {
        assert_eq!(filler(7), filler(7));
        assert_ne!(filler(7), filler(8));
        assert_eq!(filler(7).len(), 4088);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Xoshiro256::new(1);
        assert!((0..10_000).all(|_| rng.below(3) < 3));
    }

    #[test]
    fn pattern_units_carry_their_offset() {
        let fill = Fill::Pattern(filler(1));
        let mut buf = vec![0u8; 3 * UNIT];
        fill.render(8192, &mut buf);
        assert_eq!(&buf[..8], &8192u64.to_le_bytes());
        assert_eq!(&buf[UNIT..UNIT + 8], &12288u64.to_le_bytes());
        assert_eq!(&buf[8..UNIT], &buf[UNIT + 8..2 * UNIT]);
        assert!(fill.matches(8192 + UNIT as u64, &buf[UNIT..2 * UNIT]));
        assert!(!fill.matches(8192, &buf[UNIT..2 * UNIT]), "wrong place");
        let mut moved = buf.clone();
        fill.restamp(0, &mut moved);
        assert!(fill.matches(0, &moved));
        assert!(!Fill::Zeros.matches(0, &moved));
        assert!(Fill::Zeros.matches(0, &[0; 512]));
    }

    #[test]
    fn a_sector_smaller_than_a_unit_is_checked_too() {
        let fill = Fill::Pattern(filler(3));
        let mut sector = vec![0u8; 512];
        fill.render(4096, &mut sector);
        assert!(fill.matches(4096, &sector));
        sector[100] ^= 1;
        assert!(!fill.matches(4096, &sector));
    }
}
