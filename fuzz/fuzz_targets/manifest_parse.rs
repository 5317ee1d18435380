#![no_main]
//! Fuzz target: parsing any text as a tree manifest never panics, and
//! whatever parses is canonical: rendering it gives back the exact input.
//! The first line is also tried as an exclude glob against every line.
use libfuzzer_sys::fuzz_target;
use tractorsec_seal::manifest::{Glob, Manifest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(manifest) = Manifest::parse(text, "fuzz") {
        assert_eq!(manifest.to_text(), text, "parsed manifest is not canonical");
    }
    let mut lines = text.lines();
    if let Some(Ok(glob)) = lines.next().map(Glob::new) {
        for line in lines.take(16) {
            let _ = glob.matches(line.as_bytes());
        }
    }
});
