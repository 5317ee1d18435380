#![no_main]
//! Fuzz target: parsing any bytes as an NVMe Identify Controller data
//! structure never panics, and what parses keeps the bits it read.
use libfuzzer_sys::fuzz_target;
use tractorsec_devices::nvme::identify::IdentifyController;

fuzz_target!(|data: &[u8]| {
    if let Ok(id) = IdentifyController::parse(data, "fuzz") {
        assert_eq!(id.oacs.0, u16::from_le_bytes([data[256], data[257]]));
        assert_eq!(id.fna.0, data[524]);
        assert!(id.serial.len() <= 20 && id.model.len() <= 40 && id.firmware.len() <= 8);
        let _ = (
            id.sanicap.any(),
            id.sanicap.nodmmas(),
            id.fna.crypto_erase_supported(),
        );
    }
});
