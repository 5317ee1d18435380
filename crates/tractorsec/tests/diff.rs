//! `tractorsec diff` over snapshots and reports of one host before and
//! after a change.

mod common;

use common::{host, run};
use serde_json::Value;
use std::path::Path;

const CONTROL: &str = "kernel.sysctl.kernel.kptr_restrict";

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Snapshots and JSON reports of the weakened host before and after
/// fixing `kernel.kptr_restrict` (runtime and sysctl.d), in `dir`.
fn before_and_after(root: &Path, dir: &Path) {
    let r = root.to_str().expect("utf-8");
    let d = |name: &str| dir.join(name).to_str().expect("utf-8").to_string();
    for (facts, report) in [
        ("old.facts.json", "old.report.json"),
        ("new.facts.json", "new.report.json"),
    ] {
        if facts.starts_with("new") {
            write(&root.join("proc/sys/kernel/kptr_restrict"), b"2\n");
            let conf = root.join("etc/sysctl.d/99-perf.conf");
            let text = std::fs::read_to_string(&conf).expect("read conf");
            write(
                &conf,
                text.replace("kernel.kptr_restrict = 0", "kernel.kptr_restrict = 2")
                    .as_bytes(),
            );
        }
        assert_eq!(run(&["facts", "--root", r, "--output", &d(facts)]).0, 0);
        let (code, _, err) = run(&[
            "audit",
            "--facts",
            &d(facts),
            "--format",
            "json",
            "--fail-on",
            "never",
            "--output",
            &d(report),
        ]);
        assert_eq!(code, 0, "{err}");
    }
}

fn status_of(report: &Path, id: &str) -> String {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(report).expect("read")).expect("json");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == id)
        .and_then(|f| f["status"].as_str())
        .expect("finding")
        .to_string()
}

fn ids(diff: &Value, list: &str) -> Vec<String> {
    diff[list]
        .as_array()
        .expect(list)
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn diff_names_what_got_fixed_what_newly_fails_and_which_facts_changed() {
    let Some(root) = host("weakened") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    before_and_after(root.path(), dir.path());
    let p = |n: &str| dir.path().join(n).to_str().expect("utf-8").to_string();
    assert_eq!(
        status_of(&dir.path().join("old.report.json"), CONTROL),
        "fail"
    );
    assert_eq!(
        status_of(&dir.path().join("new.report.json"), CONTROL),
        "pass"
    );

    // Snapshots: judged with the profile, plus the facts that changed.
    let (code, out, err) = run(&[
        "diff",
        &p("old.facts.json"),
        &p("new.facts.json"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "nothing newly fails: {err}");
    let diff: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(ids(&diff, "fixed"), [CONTROL]);
    assert!(ids(&diff, "newly_failing").is_empty());
    let facts: Vec<(String, Value, Value)> = diff["facts_changed"]
        .as_array()
        .expect("facts_changed")
        .iter()
        .map(|c| {
            (
                c["path"].as_str().expect("p").to_string(),
                c["old"].clone(),
                c["new"].clone(),
            )
        })
        .collect();
    assert!(
        facts.contains(&(
            "sysctl.values.kernel.kptr_restrict".into(),
            "0".into(),
            "2".into()
        )),
        "{facts:?}"
    );
    assert!(
        facts
            .iter()
            .any(|(p, ..)| p.starts_with("sysctl_persisted")),
        "{facts:?}"
    );

    // Reversed, the control newly fails: exit 1, and the text says so.
    let (code, text, _) = run(&["diff", &p("new.facts.json"), &p("old.facts.json")]);
    assert_eq!(code, 1);
    assert!(text.contains("Newly failing (1):"), "{text}");
    assert!(text.contains(CONTROL), "{text}");
    assert!(
        text.contains("~ sysctl.values.kernel.kptr_restrict: 2 -> 0"),
        "{text}"
    );

    // Reports: the same verdict changes, no fact changes.
    let (code, out, _) = run(&[
        "diff",
        &p("old.report.json"),
        &p("new.report.json"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let diff: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(ids(&diff, "fixed"), [CONTROL]);
    assert!(diff["facts_changed"].as_array().expect("array").is_empty());

    // A report against itself: no changes.
    let (code, text, _) = run(&["diff", &p("new.report.json"), &p("new.report.json")]);
    assert_eq!(code, 0);
    assert!(text.contains("no changes"), "{text}");

    // Mixed kinds are refused with a clear error.
    let (code, _, err) = run(&["diff", &p("old.report.json"), &p("new.facts.json")]);
    assert_eq!(code, 2);
    assert!(err.contains("not of the same kind"), "{err}");
}

#[test]
fn diff_rejects_bad_input_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    write(&bad, b"{\n  \"findings\": [\n}");
    let b = bad.to_str().expect("utf-8");
    let (code, _, err) = run(&["diff", b, b]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{b}:3:")),
        "names file and line: {err}"
    );
}
