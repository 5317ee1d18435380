#![no_main]
//! Fuzz target: parsing any bytes as an NVMe Sanitize Status log never
//! panics, and the decoded SSTAT fields agree with the raw word.
use libfuzzer_sys::fuzz_target;
use tractorsec_devices::nvme::sanitize_log::SanitizeStatus;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = SanitizeStatus::parse(data, "fuzz") {
        assert_eq!(s.global_data_erased, s.sstat & 0x100 != 0);
        assert!(s.overwrite_passes_completed < 32);
        assert_eq!(s.in_progress(), s.progress.is_some());
        let _ = (s.estimate_for_scdw10(), s.result.succeeded());
    }
});
