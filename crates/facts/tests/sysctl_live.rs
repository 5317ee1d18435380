//! Compliance test: the live sysctl collector agrees with `sysctl -a`.
//!
//! Runs against this machine's `/proc/sys`; skipped (passes with a note)
//! where `/proc/sys` or the `sysctl` tool is missing. Compares only names
//! both sides could read, and leaves out values that change by themselves
//! between the two reads.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;
use tractorsec_facts::Root;
use tractorsec_facts::collect::sysctl;

/// Values the kernel changes on its own between two reads.
const VOLATILE_PREFIXES: &[&str] = &[
    "kernel.random.",                    // entropy_avail, uuid (new on every read), …
    "fs.quota.",                         // counters
    "fs.pipe-keep",                      // counters (vendor kernel)
    "fs.dentry-state",                   // dcache counters
    "fs.inode-nr",                       // inode counters
    "fs.inode-state",                    // inode counters
    "fs.file-nr",                        // open file counters
    "fs.aio-nr",                         // in-flight aio requests
    "kernel.ns_last_pid",                // moves with every process spawned (sysctl itself)
    "kernel.pty.nr",                     // open ptys
    "kernel.perf_event_max_sample_rate", // lowered by the kernel under load
    "kernel.tainted",                    // a warning may taint the kernel at any time
    "net.netfilter.nf_conntrack_count",  // connection count
    "vm.stat_refresh",                   // side effect on read
];

fn volatile(name: &str) -> bool {
    VOLATILE_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn sysctl_a() -> Option<BTreeMap<String, String>> {
    let out = Command::new("sysctl").arg("-a").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(sysctl::parse(&text, "sysctl -a").unwrap())
}

#[test]
fn live_values_agree_with_sysctl_a() {
    if !std::path::Path::new("/proc/sys/kernel").is_dir() {
        eprintln!("no /proc/sys: skipped");
        return;
    }
    let root = Root::live();
    // Best of a few runs: the machine may be busy with other work.
    let mut elapsed = std::time::Duration::MAX;
    let mut ours = sysctl::collect(&root);
    for _ in 0..5 {
        let start = Instant::now();
        ours = sysctl::collect(&root);
        elapsed = elapsed.min(start.elapsed());
    }
    let ours = ours.ok().cloned().unwrap();
    let Some(theirs) = sysctl_a() else {
        eprintln!("no sysctl tool: skipped");
        return;
    };
    eprintln!(
        "collected {} values ({} unreadable) in {:?}; sysctl -a gave {}",
        ours.values.len(),
        ours.unreadable.len(),
        elapsed,
        theirs.len()
    );
    assert!(ours.values.len() > 100, "suspiciously few values");

    let mut compared = 0;
    let mut differ = Vec::new();
    for (name, theirs_value) in &theirs {
        if volatile(name) {
            continue;
        }
        let Some(ours_value) = ours.values.get(name) else {
            // sysctl -a printed a name we found unreadable: impossible, as
            // both read the same files with the same privileges.
            assert!(
                !ours.unreadable.contains_key(name),
                "{name}: sysctl -a read it, we could not"
            );
            panic!("{name}: printed by sysctl -a, missing from the snapshot");
        };
        compared += 1;
        if ours_value != theirs_value {
            differ.push(format!(
                "{name}: ours {ours_value:?}, sysctl -a {theirs_value:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "values differ:\n{}", differ.join("\n"));
    assert!(compared > 100, "compared only {compared} names");
}

#[test]
fn write_only_files_are_unreadable_not_values() {
    let Ok(meta) = std::fs::metadata("/proc/sys/vm/drop_caches") else {
        eprintln!("no /proc/sys/vm/drop_caches: skipped");
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o444,
        0,
        "drop_caches should be write-only"
    );
    let s = sysctl::collect(&Root::live()).ok().cloned().unwrap();
    assert_eq!(
        s.unreadable.get("vm.drop_caches").map(String::as_str),
        Some("write-only")
    );
    assert!(!s.values.contains_key("vm.drop_caches"));
}
