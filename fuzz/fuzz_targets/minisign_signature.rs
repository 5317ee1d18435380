#![no_main]
//! Fuzz target: reading a minisign signature never panics; one that reads
//! writes back to text that reads the same, and verifying it against a
//! fixed key and report never panics (the seed corpus holds a valid one).
use libfuzzer_sys::fuzz_target;
use tractorsec_evidence::{PublicKey, Signature};

const PUBLIC_KEY: &str = include_str!("../../crates/evidence/tests/fixtures/minisign/test.pub");
const REPORT: &[u8] = include_bytes!("../../crates/evidence/tests/fixtures/minisign/report.json");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(signature) = Signature::parse(text, "fuzz.minisig") {
            let written = signature.to_text();
            let again =
                Signature::parse(&written, "again.minisig").expect("written signature reads back");
            assert_eq!(again.to_text(), written);
            let key = PublicKey::parse(PUBLIC_KEY, "test.pub").expect("fixture key");
            let _ = key.verify(REPORT, &signature);
        }
    }
});
