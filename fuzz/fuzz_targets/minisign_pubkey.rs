#![no_main]
//! Fuzz target: reading a minisign public key never panics, and a key that
//! reads writes back to text that reads as the same key.
use libfuzzer_sys::fuzz_target;
use tractorsec_evidence::PublicKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = PublicKey::parse(text, "fuzz.pub") {
            let again =
                PublicKey::parse(&key.to_text(), "again.pub").expect("written key reads back");
            assert_eq!(again, key);
        }
    }
});
