#![no_main]
//! Fuzz target: any report that deserialises renders in every format
//! without panicking.
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tractorsec_policy::Profile;
use tractorsec_report::{
    Report, TextOptions, render_html, render_json, render_junit, render_ocsf, render_prometheus,
    render_sarif, render_text,
};

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| Profile::load("tractoros").expect("built-in profile"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(report) = serde_json::from_slice::<Report>(data) else {
        return;
    };
    let _ = render_json(&report);
    let _ = render_text(
        &report,
        TextOptions {
            color: true,
            verbose: true,
        },
    );
    let _ = render_sarif(&report, profile());
    let _ = render_junit(&report);
    let _ = render_prometheus(&report, 0.5);
    let _ = render_html(&report);
    let _ = render_ocsf(&report);
});
