#![no_main]
//! Fuzz target: reading a minisign secret key never panics, and a key that
//! reads writes back to text that reads as the same key.
use libfuzzer_sys::fuzz_target;
use tractorsec_evidence::SecretKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = SecretKey::parse(text, "fuzz.key") {
            let again =
                SecretKey::parse(&key.to_text(), "again.key").expect("written key reads back");
            assert_eq!(again.to_text(), key.to_text());
            assert_eq!(again.public(), key.public());
        }
    }
});
