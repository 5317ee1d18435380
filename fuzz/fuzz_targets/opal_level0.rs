#![no_main]
//! Fuzz target: parsing any bytes as a TCG Level 0 Discovery response never
//! panics, and the summary follows the decision rules.
use libfuzzer_sys::fuzz_target;
use tractorsec_devices::opal::level0::Level0;

fuzz_target!(|data: &[u8]| {
    if let Ok(l0) = Level0::parse(data, "fuzz") {
        let s = l0.summary();
        assert!(!s.sed_present || (s.media_encryption && s.ssc.encrypting()));
        assert!(l0.locking().is_some() || !s.locking_supported);
    }
});
