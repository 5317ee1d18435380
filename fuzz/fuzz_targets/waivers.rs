#![no_main]
//! Fuzz target: waiver files never panic the parser.
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tractorsec_policy::{Profile, Waivers};

static PROFILE: OnceLock<Profile> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let profile = PROFILE.get_or_init(|| Profile::load("tractoros").expect("built-in profile"));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Waivers::parse("fuzz.toml", text, profile);
    }
});
