//! The transaction engine on a temp tree: apply, rollback byte for byte,
//! idempotence, and refusals before any change.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use tractorsec_remedy::{
    Change, Desired, Plan, RootDir, Status, Which, apply, rollback, transactions,
};

fn file(content: &str) -> Desired {
    Desired::File {
        content: content.to_string(),
        mode: 0o644,
        uid: 0,
        gid: 0,
    }
}

fn put(path: &str, desired: Desired) -> Change {
    Change::Put {
        path: path.to_string(),
        desired,
    }
}

fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        changes,
        fixes: vec!["a.control".to_string()],
        ..Plan::default()
    }
}

/// A small tree: an existing config file (mode 0600) and a tunable.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::create_dir_all(p.join("etc/ssh")).expect("mkdir");
    std::fs::write(p.join("etc/ssh/sshd_config"), "PermitRootLogin yes\n").expect("write");
    std::fs::set_permissions(
        p.join("etc/ssh/sshd_config"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    std::fs::create_dir_all(p.join("proc/sys/kernel")).expect("mkdir");
    std::fs::write(p.join("proc/sys/kernel/kptr_restrict"), "0\n").expect("write");
    dir
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn mode(root: &Path, rel: &str) -> u32 {
    std::fs::metadata(root.join(rel)).expect("metadata").mode() & 0o7777
}

#[test]
fn apply_then_rollback_restores_bytes_modes_and_absence() {
    let dir = tree();
    let root = RootDir::open(dir.path()).expect("root");
    let p = plan(vec![
        put("/etc/ssh/sshd_config", file("PermitRootLogin no\n")),
        put(
            "/etc/sysctl.d/60-tractorsec.conf",
            file("kernel.kptr_restrict = 2\n"),
        ),
        put(
            "/etc/systemd/system/cups.service",
            Desired::Symlink {
                target: "/dev/null".to_string(),
            },
        ),
        Change::Sysctl {
            key: "kernel.kptr_restrict".to_string(),
            value: "2".to_string(),
        },
    ]);
    let id = apply(&root, &p).expect("apply").expect("a transaction");
    assert_eq!(
        read(dir.path(), "etc/ssh/sshd_config"),
        "PermitRootLogin no\n"
    );
    assert_eq!(mode(dir.path(), "etc/ssh/sshd_config"), 0o644);
    assert_eq!(read(dir.path(), "proc/sys/kernel/kptr_restrict"), "2\n");
    assert_eq!(
        std::fs::read_link(dir.path().join("etc/systemd/system/cups.service")).expect("link"),
        Path::new("/dev/null")
    );
    // Applying the same plan again changes nothing.
    assert_eq!(apply(&root, &p).expect("apply"), None);

    assert_eq!(rollback(&root, Which::Last).expect("rollback"), id);
    assert_eq!(
        read(dir.path(), "etc/ssh/sshd_config"),
        "PermitRootLogin yes\n"
    );
    assert_eq!(
        mode(dir.path(), "etc/ssh/sshd_config"),
        0o600,
        "mode restored"
    );
    assert_eq!(read(dir.path(), "proc/sys/kernel/kptr_restrict"), "0\n");
    assert!(
        !dir.path().join("etc/sysctl.d").exists(),
        "created directory removed"
    );
    assert!(
        !dir.path().join("etc/systemd").exists(),
        "created directories removed"
    );
    let list = transactions(&root).expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, Status::RolledBack);
    assert!(
        rollback(&root, Which::Last).is_err(),
        "nothing left to roll back"
    );
}

#[test]
fn only_the_newest_transaction_in_effect_can_be_rolled_back() {
    let dir = tree();
    let root = RootDir::open(dir.path()).expect("root");
    let first = apply(&root, &plan(vec![put("/etc/a", file("1\n"))]))
        .expect("apply")
        .expect("id");
    let second = apply(&root, &plan(vec![put("/etc/a", file("2\n"))]))
        .expect("apply")
        .expect("id");
    let err = rollback(&root, Which::Id(&first))
        .expect_err("refused")
        .to_string();
    assert!(err.contains("newer"), "{err}");
    assert_eq!(
        rollback(&root, Which::Id(&second)).expect("rollback"),
        second
    );
    assert_eq!(read(dir.path(), "etc/a"), "1\n");
    assert_eq!(rollback(&root, Which::Last).expect("rollback"), first);
    assert!(!dir.path().join("etc/a").exists());
}

#[test]
fn a_planted_symlink_or_escaping_path_is_refused_before_any_change() {
    let dir = tree();
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("etc/sysctl.d")).expect("mkdir");
    std::os::unix::fs::symlink(
        outside.path().join("x"),
        dir.path().join("etc/sysctl.d/60-tractorsec.conf"),
    )
    .expect("plant");
    let root = RootDir::open(dir.path()).expect("root");
    let p = plan(vec![
        put("/etc/ssh/sshd_config", file("PermitRootLogin no\n")),
        put("/etc/sysctl.d/60-tractorsec.conf", file("x = 1\n")),
    ]);
    let err = apply(&root, &p).expect_err("refused").to_string();
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(
        read(dir.path(), "etc/ssh/sshd_config"),
        "PermitRootLogin yes\n"
    );
    assert!(!outside.path().join("x").exists());
    assert!(!dir.path().join("var").exists(), "no journal left behind");

    let err = apply(&root, &plan(vec![put("/etc/../../x", file("x"))]))
        .expect_err("refused")
        .to_string();
    assert!(err.contains("`..`"), "{err}");
}
