#![no_main]
//! Fuzz target: parsing any text as `/proc/swaps` never panics, and an
//! error names a line of the input.
use libfuzzer_sys::fuzz_target;
use tractorsec_devices::erase::topology::parse_swaps;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_swaps(text, "/proc/swaps") {
        Ok(areas) => assert!(areas.len() <= text.lines().count()),
        Err(e) => assert!(e.line >= 1 && e.line <= text.lines().count()),
    }
});
