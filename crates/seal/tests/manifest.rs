//! Sealing real trees and reporting drift from them: every attribute
//! change reported as exactly that change, determinism, quick mode, and
//! strict parsing of damaged manifests. These build trees with chown,
//! mknod and xattrs, so they expect to run as root (skipping, with a note,
//! otherwise; failing under `CI`).

// Fixture helpers outside #[test] fns unwrap too: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use tractorsec_seal::manifest::{
    Drift, EntryKind, HashAlgorithm, Manifest, SealOptions, VerifyOptions, drift, seal,
};

/// Whether we run as root (`/proc/self` belongs to the effective uid).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Whether the tests can do root things here; under `CI` they must.
fn privileged() -> bool {
    let root = is_root();
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run these tests as root"
        );
        eprintln!("note: not root; skipping a test that needs chown/mknod");
    }
    root
}

/// Whether `setfattr` (Debian `attr`) is installed; under `CI` it must be.
fn have_setfattr() -> bool {
    let found = Command::new("setfattr").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have setfattr (apt install attr)"
        );
        eprintln!("note: setfattr missing (apt install attr); skipping an xattr test");
    }
    found
}

fn run(cmd: &str, args: &[&str]) {
    let status = Command::new(cmd).args(args).status().unwrap();
    assert!(status.success(), "{cmd} {args:?} failed");
}

fn mknod(path: &Path, kind: rustix::fs::FileType, mode: u32, major: u32, minor: u32) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        kind,
        rustix::fs::Mode::from_raw_mode(mode),
        rustix::fs::makedev(major, minor),
    )
    .unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A small OS-like tree with every entry type, setuid, sticky, a device,
/// hard links, symlinks and (if setfattr is there) a file capability.
/// Returns the temp dir and the root inside it (`cp -a` targets go next
/// to it).
fn image() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let p = |rel: &str| root.join(rel);
    for d in ["etc", "bin", "usr/lib", "dev", "run", "tmp", "hard"] {
        fs::create_dir_all(p(d)).unwrap();
    }
    chmod(&root, 0o755);
    fs::write(p("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(p("etc/shadow"), "root:*:19000:0:99999:7:::\n").unwrap();
    chmod(&p("etc/shadow"), 0o640);
    fs::write(p("bin/su"), vec![0x7f; 10_000]).unwrap();
    chmod(&p("bin/su"), 0o4755);
    fs::write(p("bin/ping"), b"ping binary").unwrap();
    chmod(&p("bin/ping"), 0o755);
    fs::write(p("usr/lib/libc.so.6"), vec![0xab; 300_000]).unwrap();
    symlink("usr/lib", p("lib")).unwrap();
    symlink("../usr/lib/libc.so.6", p("etc/libc-link")).unwrap();
    chmod(&p("tmp"), 0o1777);
    fs::write(p("hard/a"), b"linked").unwrap();
    fs::hard_link(p("hard/a"), p("hard/b")).unwrap();
    fs::write(p("hard/single"), b"one").unwrap();
    fs::write(p("weird\tname\nwith\\escapes\u{e9}"), b"x").unwrap();
    if privileged() {
        mknod(
            &p("dev/null"),
            rustix::fs::FileType::CharacterDevice,
            0o666,
            1,
            3,
        );
        mknod(
            &p("dev/sda"),
            rustix::fs::FileType::BlockDevice,
            0o660,
            8,
            0,
        );
        mknod(&p("run/initctl"), rustix::fs::FileType::Fifo, 0o600, 0, 0);
        std::os::unix::fs::chown(p("etc/shadow"), Some(0), Some(42)).unwrap();
    }
    if have_setfattr() {
        // A valid VFS_CAP_REVISION_2 value: cap_net_raw permitted + effective.
        run(
            "setfattr",
            &[
                "-n",
                "security.capability",
                "-v",
                "0x0100000200200000000000000000000000000000",
                p("bin/ping").to_str().unwrap(),
            ],
        );
    }
    (dir, root)
}

fn sealed(root: &Path) -> Manifest {
    seal(root, &SealOptions::default()).unwrap()
}

fn check(root: &Path, manifest: &Manifest) -> Drift {
    drift(root, manifest, &VerifyOptions::default()).unwrap()
}

/// `(path, [attribute names])` of every change.
fn changes(drift: &Drift) -> Vec<(String, Vec<String>)> {
    drift
        .changed
        .iter()
        .map(|c| {
            (
                c.path.to_string(),
                c.attributes.iter().map(|a| a.name.clone()).collect(),
            )
        })
        .collect()
}

fn paths(entries: &[tractorsec_seal::manifest::Entry]) -> Vec<String> {
    entries.iter().map(|e| e.path.to_string()).collect()
}

/// Seals `image()`, applies `mutate`, and returns the drift, asserting
/// nothing else was reported as an error.
fn drift_after(mutate: impl FnOnce(&Path)) -> Drift {
    let (_dir, root) = image();
    let manifest = sealed(&root);
    assert!(
        check(&root, &manifest).is_clean(),
        "unchanged tree must be clean"
    );
    mutate(&root);
    let drift = check(&root, &manifest);
    assert!(drift.errors.is_empty(), "{:?}", drift.errors);
    assert!(!drift.is_clean());
    drift
}

/// The expected and found values of the first changed attribute.
fn expected_found(drift: &Drift) -> (Option<&str>, Option<&str>) {
    let attr = &drift.changed[0].attributes[0];
    (attr.expected.as_deref(), attr.found.as_deref())
}

fn only_change(drift: &Drift, path: &str, attributes: &[&str]) {
    assert!(drift.added.is_empty(), "added: {:?}", paths(&drift.added));
    assert!(
        drift.removed.is_empty(),
        "removed: {:?}",
        paths(&drift.removed)
    );
    assert_eq!(
        changes(drift),
        vec![(
            path.to_string(),
            attributes.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        )]
    );
}

#[test]
fn sealing_is_deterministic_and_survives_cp_a() {
    let (dir, root) = image();
    let first = sealed(&root).to_text();
    assert_eq!(sealed(&root).to_text(), first, "seal twice: same bytes");
    let copy = dir.path().join("copy");
    run(
        "cp",
        &["-a", root.to_str().unwrap(), copy.to_str().unwrap()],
    );
    assert_eq!(sealed(&copy).to_text(), first, "a cp -a copy: same bytes");
    // And it parses back to the same manifest.
    let parsed = Manifest::parse(&first, "m").unwrap();
    assert_eq!(parsed.to_text(), first);
    assert!(check(&copy, &parsed).is_clean());
}

#[test]
fn records_every_kind_of_entry() {
    let (_dir, root) = image();
    let m = sealed(&root);
    let get = |p: &str| {
        m.entries
            .iter()
            .find(|e| e.path.to_string() == p)
            .unwrap_or_else(|| panic!("{p} not sealed"))
    };
    assert_eq!(get(".").kind, EntryKind::Dir);
    assert_eq!(get("bin/su").mode, 0o4755);
    assert_eq!(get("tmp").mode, 0o1777);
    assert_eq!(get("bin/su").size, Some(10_000));
    assert_eq!(
        get("usr/lib/libc.so.6").content.as_deref(),
        Some(blake3::hash(&vec![0xab; 300_000]).to_hex().as_str())
    );
    assert_eq!(get("lib").target.as_deref(), Some(&b"usr/lib"[..]));
    assert_eq!(get("lib").kind, EntryKind::Symlink);
    assert_eq!(
        get("hard/a").link.as_ref().map(|l| l.to_string()),
        Some("hard/a".into())
    );
    assert_eq!(
        get("hard/b").link.as_ref().map(|l| l.to_string()),
        Some("hard/a".into())
    );
    assert_eq!(get("hard/single").link, None);
    assert_eq!(
        get("weird\\x09name\\x0awith\\\\escapes\\xc3\\xa9").size,
        Some(1)
    );
    if is_root() {
        assert_eq!(get("dev/null").kind, EntryKind::Char);
        assert_eq!(
            get("dev/null").device.map(|d| (d.major, d.minor)),
            Some((1, 3))
        );
        assert_eq!(get("dev/sda").kind, EntryKind::Block);
        assert_eq!(get("run/initctl").kind, EntryKind::Fifo);
        assert_eq!((get("etc/shadow").uid, get("etc/shadow").gid), (0, 42));
    }
    if Command::new("setfattr").arg("--version").output().is_ok() {
        assert_eq!(
            get("bin/ping")
                .xattrs
                .get("security.capability")
                .map(String::as_str),
            Some("0100000200200000000000000000000000000000")
        );
    }
    let sorted: Vec<_> = m
        .entries
        .iter()
        .map(|e| e.path.as_bytes().to_vec())
        .collect();
    let mut again = sorted.clone();
    again.sort();
    assert_eq!(sorted, again, "entries sorted byte-wise");
}

#[test]
fn sha256_manifests_hash_with_sha256() {
    let (_dir, root) = image();
    let opts = SealOptions {
        algorithm: HashAlgorithm::Sha256,
        ..SealOptions::default()
    };
    let m = seal(&root, &opts).unwrap();
    let text = m.to_text();
    assert!(text.starts_with("tractorsec-manifest\t1\talgorithm=sha256\n"));
    let passwd = m
        .entries
        .iter()
        .find(|e| e.path.to_string() == "etc/passwd")
        .unwrap();
    assert_eq!(
        passwd.content.as_deref(),
        Some(
            HashAlgorithm::Sha256
                .hash_bytes(b"root:x:0:0:root:/root:/bin/sh\n")
                .as_str()
        )
    );
    let parsed = Manifest::parse(&text, "m").unwrap();
    assert!(check(&root, &parsed).is_clean());
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    only_change(&check(&root, &parsed), "etc/passwd", &["size", "content"]);
}

#[test]
fn same_size_content_change_with_mtime_restored_is_content_only() {
    let drift = drift_after(|root| {
        let file = root.join("etc/passwd");
        let reference = root.join("../reference");
        fs::write(&reference, "").unwrap();
        run(
            "touch",
            &["-r", file.to_str().unwrap(), reference.to_str().unwrap()],
        );
        fs::write(&file, "toor:x:0:0:root:/root:/bin/sh\n").unwrap();
        run(
            "touch",
            &["-r", reference.to_str().unwrap(), file.to_str().unwrap()],
        );
    });
    only_change(&drift, "etc/passwd", &["content"]);
    let attr = &drift.changed[0].attributes[0];
    assert_eq!(
        attr.expected.as_deref(),
        Some(
            blake3::hash(b"root:x:0:0:root:/root:/bin/sh\n")
                .to_hex()
                .as_str()
        )
    );
}

#[test]
fn mode_change_is_mode_only() {
    let drift = drift_after(|root| chmod(&root.join("bin/su"), 0o755));
    only_change(&drift, "bin/su", &["mode"]);
    assert_eq!(expected_found(&drift), (Some("4755"), Some("0755")));
}

#[test]
fn owner_change_is_owner_only() {
    if !privileged() {
        return;
    }
    let drift = drift_after(|root| {
        std::os::unix::fs::chown(root.join("etc/passwd"), Some(1000), Some(0)).unwrap();
    });
    only_change(&drift, "etc/passwd", &["owner"]);
    assert_eq!(expected_found(&drift), (Some("0:0"), Some("1000:0")));
}

#[test]
fn xattr_change_is_that_xattr_only() {
    if !have_setfattr() {
        return;
    }
    let drift = drift_after(|root| {
        // Grant a capability to a file that had none.
        run(
            "setfattr",
            &[
                "-n",
                "security.capability",
                "-v",
                "0x0100000200040000000000000000000000000000",
                root.join("etc/passwd").to_str().unwrap(),
            ],
        );
    });
    only_change(&drift, "etc/passwd", &["xattr.security.capability"]);
    let attr = &drift.changed[0].attributes[0];
    assert_eq!(attr.expected, None);
    assert_eq!(
        attr.found.as_deref(),
        Some("0100000200040000000000000000000000000000")
    );

    // Removing one is reported too.
    let drift = drift_after(|root| {
        run(
            "setfattr",
            &[
                "-x",
                "security.capability",
                root.join("bin/ping").to_str().unwrap(),
            ],
        );
    });
    only_change(&drift, "bin/ping", &["xattr.security.capability"]);
}

#[test]
fn symlink_retarget_is_target_only() {
    let drift = drift_after(|root| {
        fs::remove_file(root.join("lib")).unwrap();
        symlink("/tmp/evil", root.join("lib")).unwrap();
    });
    only_change(&drift, "lib", &["target"]);
    assert_eq!(expected_found(&drift), (Some("usr/lib"), Some("/tmp/evil")));
}

#[test]
fn device_number_change_is_device_only() {
    if !privileged() {
        return;
    }
    let drift = drift_after(|root| {
        let null = root.join("dev/null");
        fs::remove_file(&null).unwrap();
        // /dev/null replaced by /dev/mem: same type, mode and owner.
        mknod(&null, rustix::fs::FileType::CharacterDevice, 0o666, 1, 1);
    });
    only_change(&drift, "dev/null", &["device"]);
    assert_eq!(expected_found(&drift), (Some("1,3"), Some("1,1")));
}

#[test]
fn file_replaced_by_directory_is_type_only() {
    let drift = drift_after(|root| {
        let ping = root.join("etc/passwd");
        fs::remove_file(&ping).unwrap();
        fs::create_dir(&ping).unwrap();
        chmod(&ping, 0o644);
    });
    only_change(&drift, "etc/passwd", &["type"]);
    assert_eq!(expected_found(&drift), (Some("file"), Some("dir")));
}

#[test]
fn hard_link_added_is_a_link_change_and_an_added_entry() {
    let drift = drift_after(|root| {
        fs::hard_link(root.join("hard/single"), root.join("hard/z-extra")).unwrap();
    });
    assert_eq!(paths(&drift.added), ["hard/z-extra"]);
    assert_eq!(
        drift.added[0].link.as_ref().map(|l| l.to_string()),
        Some("hard/single".into())
    );
    assert!(drift.removed.is_empty());
    assert_eq!(
        changes(&drift),
        [("hard/single".to_string(), vec!["link".to_string()])]
    );
}

#[test]
fn hard_link_removed_is_a_link_change_and_a_removed_entry() {
    let drift = drift_after(|root| fs::remove_file(root.join("hard/b")).unwrap());
    assert_eq!(paths(&drift.removed), ["hard/b"]);
    assert!(drift.added.is_empty());
    assert_eq!(
        changes(&drift),
        [("hard/a".to_string(), vec!["link".to_string()])]
    );
    assert_eq!(expected_found(&drift), (Some("hard/a"), None));
}

#[test]
fn rename_is_removed_plus_added() {
    let drift = drift_after(|root| {
        fs::rename(root.join("bin/su"), root.join("bin/sudo")).unwrap();
    });
    assert_eq!(paths(&drift.removed), ["bin/su"]);
    assert_eq!(paths(&drift.added), ["bin/sudo"]);
    assert!(drift.changed.is_empty(), "{:?}", changes(&drift));
}

#[test]
fn added_and_removed_files_are_reported() {
    let drift = drift_after(|root| {
        fs::write(root.join("etc/ld.so.preload"), "/tmp/evil.so\n").unwrap();
        fs::remove_file(root.join("etc/shadow")).unwrap();
    });
    assert_eq!(paths(&drift.added), ["etc/ld.so.preload"]);
    assert_eq!(paths(&drift.removed), ["etc/shadow"]);
    assert!(drift.changed.is_empty(), "{:?}", changes(&drift));
    let text = drift.to_text();
    assert!(
        text.starts_with("drift: 1 added, 1 removed, 0 changed, 0 errors"),
        "{text}"
    );
    assert!(
        text.contains("added    file     etc/ld.so.preload\n"),
        "{text}"
    );
    assert!(text.contains("removed  file     etc/shadow\n"), "{text}");
    let json: serde_json::Value = serde_json::to_value(&drift).unwrap();
    assert_eq!(json["added"][0]["path"], "etc/ld.so.preload");
    assert_eq!(json["added"][0]["type"], "file");
    assert_eq!(json["removed"][0]["mode"], "0640");
}

#[test]
fn a_new_directory_tree_is_added_entry_by_entry() {
    let drift = drift_after(|root| {
        fs::create_dir_all(root.join("opt/x")).unwrap();
        fs::write(root.join("opt/x/y"), "y").unwrap();
    });
    assert_eq!(paths(&drift.added), ["opt", "opt/x", "opt/x/y"]);
    assert!(drift.removed.is_empty() && drift.changed.is_empty());
}

#[test]
fn quick_mode_trusts_its_cache_but_not_restored_mtimes() {
    let (dir, root) = image();
    let manifest = sealed(&root);
    let cache = dir.path().join("state/quick.cache");
    fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let opts = VerifyOptions {
        quick_cache: Some(cache.clone()),
    };
    let files = manifest
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .count();
    // Files younger than the racy margin are never cached: let them age.
    std::thread::sleep(std::time::Duration::from_millis(2_100));

    let first = drift(&root, &manifest, &opts).unwrap();
    assert!(first.is_clean(), "{}", first.to_text());
    assert_eq!(first.hashed, files, "no cache yet: everything hashed");
    assert!(cache.exists());
    let second = drift(&root, &manifest, &opts).unwrap();
    assert!(second.is_clean());
    assert_eq!(second.hashed, 0, "unchanged tree: nothing re-hashed");

    // Same size, mtime restored: only ctime moved. Quick mode must see it.
    let file = root.join("etc/passwd");
    let reference = dir.path().join("reference");
    fs::write(&reference, "").unwrap();
    run(
        "touch",
        &["-r", file.to_str().unwrap(), reference.to_str().unwrap()],
    );
    fs::write(&file, "toor:x:0:0:root:/root:/bin/sh\n").unwrap();
    run(
        "touch",
        &["-r", reference.to_str().unwrap(), file.to_str().unwrap()],
    );
    let third = drift(&root, &manifest, &opts).unwrap();
    assert_eq!(third.hashed, 1);
    only_change(&third, "etc/passwd", &["content"]);

    // The cache was replaced atomically: no temporary left, private mode.
    let leftovers: Vec<_> = fs::read_dir(cache.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, [std::ffi::OsString::from("quick.cache")]);
    assert_eq!(
        fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The freshly changed file is too young to cache: hashed again.
    let fourth = drift(&root, &manifest, &opts).unwrap();
    assert_eq!(fourth.hashed, 1);
    only_change(&fourth, "etc/passwd", &["content"]);
}

#[test]
fn quick_mode_survives_a_corrupt_cache() {
    let (dir, root) = image();
    let manifest = sealed(&root);
    let cache = dir.path().join("quick.cache");
    fs::write(&cache, "garbage\n").unwrap();
    let opts = VerifyOptions {
        quick_cache: Some(cache.clone()),
    };
    let files = manifest
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .count();
    let drift = drift(&root, &manifest, &opts).unwrap();
    assert!(drift.is_clean());
    assert_eq!(drift.hashed, files);
    assert_eq!(drift.notes.len(), 1, "{:?}", drift.notes);
    assert!(drift.notes[0].contains("ignored"));
}

#[test]
fn quick_mode_rehashes_a_file_whose_stat_changed() {
    let (dir, root) = image();
    let manifest = sealed(&root);
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    let cache = dir.path().join("quick.cache");
    let opts = VerifyOptions {
        quick_cache: Some(cache.clone()),
    };
    assert!(drift(&root, &manifest, &opts).unwrap().is_clean());
    // The cached stat no longer matches: the file is re-hashed, the only
    // one.
    fs::write(root.join("etc/passwd"), "changed\n").unwrap();
    let d = drift(&root, &manifest, &opts).unwrap();
    assert_eq!(d.hashed, 1);
    only_change(&d, "etc/passwd", &["size", "content"]);
}

#[test]
fn excluded_paths_are_neither_recorded_nor_descended() {
    let (_dir, root) = image();
    fs::create_dir_all(root.join("var/cache/apt")).unwrap();
    fs::write(root.join("var/cache/apt/pkgcache.bin"), "x").unwrap();
    fs::write(root.join("var/app.log"), "x").unwrap();
    fs::write(root.join("var/keep"), "x").unwrap();
    let opts = SealOptions {
        excludes: vec!["var/cache".into(), "**/*.log".into()],
        ..SealOptions::default()
    };
    let m = seal(&root, &opts).unwrap();
    let all = paths(&m.entries);
    assert!(all.contains(&"var/keep".to_string()));
    assert!(
        !all.iter()
            .any(|p| p.starts_with("var/cache") || p.ends_with(".log")),
        "{all:?}"
    );
    let text = m.to_text();
    assert!(text.starts_with(
        "tractorsec-manifest\t1\talgorithm=blake3\texclude=var/cache\texclude=**/*.log\n"
    ));
    // Verify uses the manifest's excludes: churn there is not drift.
    let parsed = Manifest::parse(&text, "m").unwrap();
    fs::write(root.join("var/cache/apt/new"), "x").unwrap();
    fs::write(root.join("etc/new.log"), "x").unwrap();
    assert!(check(&root, &parsed).is_clean());
    assert!(
        seal(
            &root,
            &SealOptions {
                excludes: vec!["/var".into()],
                ..SealOptions::default()
            }
        )
        .is_err()
    );
}

#[test]
fn symlink_loops_are_recorded_not_followed() {
    let (_dir, root) = image();
    symlink("loop-b", root.join("loop-a")).unwrap();
    symlink("loop-a", root.join("loop-b")).unwrap();
    symlink("self", root.join("self")).unwrap();
    symlink("..", root.join("usr/up")).unwrap();
    symlink(".", root.join("usr/here")).unwrap();
    let m = sealed(&root);
    let self_entry = m
        .entries
        .iter()
        .find(|e| e.path.to_string() == "self")
        .unwrap();
    assert_eq!(self_entry.kind, EntryKind::Symlink);
    assert_eq!(self_entry.target.as_deref(), Some(&b"self"[..]));
    assert!(check(&root, &m).is_clean());
    // Nothing beneath the symlinked directories was walked.
    assert!(
        !paths(&m.entries)
            .iter()
            .any(|p| p.starts_with("usr/up/") || p.starts_with("usr/here/"))
    );
}

#[test]
fn root_must_be_a_real_directory() {
    let (dir, root) = image();
    let link = dir.path().join("link");
    symlink(&root, &link).unwrap();
    assert!(seal(&link, &SealOptions::default()).is_err());
    assert!(seal(&root.join("etc/passwd"), &SealOptions::default()).is_err());
    assert!(seal(&dir.path().join("missing"), &SealOptions::default()).is_err());
}

// ---- damaged manifests -------------------------------------------------

fn manifest_text() -> String {
    let (_dir, root) = image();
    sealed(&root).to_text()
}

fn parse_err(text: &str) -> String {
    Manifest::parse(text, "/srv/image.manifest")
        .unwrap_err()
        .to_string()
}

#[test]
fn truncated_manifests_are_errors_naming_the_line() {
    let text = manifest_text();
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    // The trailer dropped.
    let without_trailer = lines[..n - 1].join("\n") + "\n";
    let err = parse_err(&without_trailer);
    assert_eq!(
        err,
        format!(
            "/srv/image.manifest:{n}: truncated: no `end` trailer after {} entries",
            n - 2
        )
    );
    // Cut in the middle of an entry line.
    let cut = &text[..text.len() / 2];
    let err = parse_err(cut);
    let line = cut.lines().count();
    assert!(
        err.starts_with(&format!("/srv/image.manifest:{line}: truncated")),
        "{err}"
    );
    // A whole entry line lost: the count (and digest) betray it.
    let mut dropped = lines.clone();
    dropped.remove(3);
    let err = parse_err(&(dropped.join("\n") + "\n"));
    assert!(
        err.starts_with(&format!("/srv/image.manifest:{}: trailer says", n - 1)),
        "{err}"
    );
    assert!(Manifest::parse("", "f").is_err());
}

#[test]
fn reordered_lines_are_errors_naming_the_line() {
    let text = manifest_text();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(4, 5);
    let err = parse_err(&(lines.join("\n") + "\n"));
    assert!(
        err.starts_with("/srv/image.manifest:6: entry out of order:"),
        "{err}"
    );
    let mut dup: Vec<&str> = text.lines().collect();
    dup[5] = dup[4];
    let err = parse_err(&(dup.join("\n") + "\n"));
    assert!(
        err.starts_with("/srv/image.manifest:6: duplicate entry"),
        "{err}"
    );
}

#[test]
fn edited_lines_are_errors_naming_the_line() {
    let text = manifest_text();
    let n = text.lines().count();
    // A well-formed edit (another mode) is caught by the trailer digest.
    let edited = text.replacen("\t4755\t", "\t0755\t", 1);
    assert_ne!(edited, text);
    let err = parse_err(&edited);
    assert!(
        err.starts_with(&format!("/srv/image.manifest:{n}: digest mismatch")),
        "{err}"
    );
    // A malformed edit names its own line.
    let line = text
        .lines()
        .position(|l| l.starts_with("bin/su\t"))
        .unwrap()
        + 1;
    let err = parse_err(&text.replacen("\t4755\t", "\t47555\t", 1));
    assert!(
        err.starts_with(&format!("/srv/image.manifest:{line}: bad mode")),
        "{err}"
    );
    // Text after the trailer.
    let err = parse_err(&format!("{text}extra\n"));
    assert!(
        err.starts_with(&format!("/srv/image.manifest:{}: text after", n + 1)),
        "{err}"
    );
}

#[test]
fn dangerous_paths_are_rejected() {
    let text = manifest_text();
    let line = text
        .lines()
        .position(|l| l.starts_with("etc/passwd\t"))
        .unwrap()
        + 1;
    for (bad, why) in [
        ("../etc/passwd", "`..` component"),
        ("etc/../../passwd", "`..` component"),
        ("/etc/passwd", "absolute path"),
        ("etc/pass\\x00wd", "NUL"),
        ("etc/pass\u{1}wd", "control character"),
        ("etc//passwd", "empty component"),
        ("./etc/passwd", "`.` component"),
        ("etc/p\u{e9}sswd", "non-ASCII"),
    ] {
        let err = parse_err(&text.replacen("etc/passwd\t", &format!("{bad}\t"), 1));
        assert!(
            err.starts_with(&format!("/srv/image.manifest:{line}: path: ")),
            "{bad}: {err}"
        );
        assert!(err.contains(why), "{bad}: {err}");
    }
    // A link group naming an escaping path, too.
    let err = parse_err(&text.replacen("link=hard/a", "link=../a", 1));
    assert!(err.contains("link: `..` component"), "{err}");
}

#[test]
fn a_path_named_end_is_an_entry_not_a_trailer() {
    let (_dir, root) = image();
    fs::write(root.join("end"), "x").unwrap();
    let m = sealed(&root);
    let back = Manifest::parse(&m.to_text(), "m").unwrap();
    assert_eq!(back, m);
}

// ---- mounts (in a private mount namespace) -----------------------------

/// Runs `inner` (an `#[ignore]`d test of this binary) under `unshare -m`.
fn in_mount_namespace(inner: &str) {
    if !privileged() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private"])
        .arg(exe)
        .args(["--exact", inner, "--ignored", "--nocapture"])
        .env("TRACTORSEC_SEAL_IN_NAMESPACE", "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && text.contains("unshare failed") {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare -m failed under CI: {text}"
        );
        eprintln!("note: cannot unshare a mount namespace here; skipping: {text}");
        return;
    }
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 passed"),
        "the inner test did not run: {text}"
    );
}

#[test]
fn mounts_are_not_crossed() {
    in_mount_namespace("mounts_are_not_crossed_inner");
}

#[test]
#[ignore = "run by mounts_are_not_crossed inside unshare -m"]
fn mounts_are_not_crossed_inner() {
    assert!(std::env::var_os("TRACTORSEC_SEAL_IN_NAMESPACE").is_some());
    let (_dir, root) = image();
    let mnt = root.join("mnt");
    fs::create_dir(&mnt).unwrap();
    run(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "mode=0755",
            "none",
            mnt.to_str().unwrap(),
        ],
    );
    fs::write(mnt.join("inside"), "on another file system").unwrap();
    let m = sealed(&root);
    let all = paths(&m.entries);
    assert!(
        all.contains(&"mnt".to_string()),
        "the mount point itself is recorded"
    );
    assert!(!all.iter().any(|p| p.starts_with("mnt/")), "{all:?}");
    assert!(check(&root, &m).is_clean());

    // A bind mount of an ancestor (same st_dev) is a loop: reported, not walked forever.
    let again = root.join("usr/again");
    fs::create_dir(&again).unwrap();
    run(
        "mount",
        &["--bind", root.to_str().unwrap(), again.to_str().unwrap()],
    );
    let err = seal(&root, &SealOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("usr/again") && err.contains("directory loop"),
        "{err}"
    );
    let d = check(&root, &m);
    assert_eq!(d.errors.len(), 1, "{}", d.to_text());
    assert!(d.errors[0].message.contains("directory loop"));
    assert!(!d.is_clean());
}
