#![no_main]
//! Fuzz target: diffing any two JSON documents (snapshots or reports, split
//! at the first NUL byte) never panics.
use libfuzzer_sys::fuzz_target;
use tractorsec_report::{Report, diff_facts, diff_reports, render_diff_json, render_diff_text};

fuzz_target!(|data: &[u8]| {
    let mut halves = data.splitn(2, |b| *b == 0);
    let (Some(a), Some(b)) = (halves.next(), halves.next()) else {
        return;
    };
    if let (Ok(x), Ok(y)) = (
        serde_json::from_slice::<serde_json::Value>(a),
        serde_json::from_slice::<serde_json::Value>(b),
    ) {
        let _ = diff_facts(&x, &y);
    }
    if let (Ok(x), Ok(y)) = (
        serde_json::from_slice::<Report>(a),
        serde_json::from_slice::<Report>(b),
    ) {
        let diff = diff_reports(&x, &y, None);
        let _ = render_diff_text(&diff);
        let _ = render_diff_json(&diff);
    }
});
