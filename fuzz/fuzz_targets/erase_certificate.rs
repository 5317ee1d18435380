#![no_main]
//! Fuzz target: parsing any bytes as an erase certificate never panics, and
//! an accepted certificate serialises and parses back to the same value.
use libfuzzer_sys::fuzz_target;
use tractorsec_devices::erase::certificate::Certificate;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = Certificate::parse(data, "fuzz") {
        let again = Certificate::parse(cert.to_json().as_bytes(), "again").expect("round trip");
        assert_eq!(again, cert);
        let _ = cert.erased();
    }
});
