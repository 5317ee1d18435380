#![no_main]
//! Fuzz target: the parser must never panic, whatever the input.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tractorsec_facts::collect::audit::parse(text, "fuzz");
    }
});
