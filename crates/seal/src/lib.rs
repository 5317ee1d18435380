//! Immutable images: seal a known-good tree into a signed manifest and
//! report every drift from it; build and check dm-verity hash trees that
//! `veritysetup` accepts.

pub mod manifest;
pub mod verity;
