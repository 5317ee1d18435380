#![no_main]
//! Fuzz target: parsing any bytes as a dm-verity superblock never panics;
//! whatever parses re-serialises to bytes that parse to the same value, and
//! laying out its tree never panics.
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tractorsec_seal::verity::{Geometry, Superblock};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz");
    if let Ok(sb) = Superblock::parse(data, path) {
        let bytes = sb.to_bytes();
        let again = Superblock::parse(&bytes, path).expect("re-parse of to_bytes output");
        assert_eq!(again, sb);
        let _ = Geometry::new(
            sb.algorithm,
            sb.data_block_size,
            sb.hash_block_size,
            sb.data_blocks,
        );
    }
});
