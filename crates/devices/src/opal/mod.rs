//! Pure TCG storage byte-level code: Level 0 Discovery parsing and the SED
//! summary derived from it (reference *devices-and-images.md*, PART A, §A2).

pub mod level0;
