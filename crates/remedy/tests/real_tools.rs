//! The files `render` writes, accepted (and read the way tractorsec means
//! them) by the real tools: sshd, modprobe and sysctl. Nothing on the host
//! changes: sshd and modprobe read a temporary directory, and sysctl writes
//! network keys only, inside a throwaway network namespace.
//!
//! A missing tool (or no privilege for a namespace) skips a test with a note,
//! and fails it when the environment variable `CI` is set.

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tractorsec_remedy::{Change, Desired, ReadRoot, Want, render};

/// The program `name` from PATH or the sbin directories, or None after a
/// skip note (a panic under CI).
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        skip(&format!(
            "{name} is not installed (Debian package {package})"
        ));
    }
    found
}

/// Notes a skipped check; under CI a skip is a failure.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run this test: {why}"
    );
    eprintln!("skipped: {why}");
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// path → content of the files among `changes`.
fn files(changes: &[Change]) -> BTreeMap<String, String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Put {
                path,
                desired: Desired::File { content, .. },
            } => Some((path.clone(), content.clone())),
            _ => None,
        })
        .collect()
}

fn root(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect()
}

fn sshd_want(key: &str, value: &str) -> Want {
    Want::Sshd {
        key: key.into(),
        value: value.into(),
    }
}

/// Runs sshd with `args`; where the privilege separation directory is
/// missing (sshd refuses to start, even to test a configuration), inside a
/// private mount namespace with a tmpfs on /run that holds it.
fn sshd(sshd: &Path, args: &[&str]) -> Option<Output> {
    if Path::new("/run/sshd").is_dir() {
        return Some(run(Command::new(sshd).args(args)));
    }
    let unshare = tool("unshare", "util-linux")?;
    let probe = Command::new(&unshare)
        .args(["-m", "true"])
        .output()
        .unwrap();
    if !probe.status.success() {
        skip("/run/sshd is missing and no mount namespace can be made for it (needs root)");
        return None;
    }
    let script = r#"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec "$0" "$@""#;
    Some(run(Command::new(unshare)
        .args(["-m", "sh", "-c", script])
        .arg(sshd)
        .args(args)))
}

/// The effective `keyword value` lines for a root login from 127.0.0.1.
fn effective(sshd_path: &Path, config: &Path) -> Option<String> {
    let config = config.to_str().unwrap();
    sshd(sshd_path, &["-t", "-f", config])?;
    let output = sshd(
        sshd_path,
        &["-T", "-f", config, "-C", "user=root,host=x,addr=127.0.0.1"],
    )?;
    Some(String::from_utf8(output.stdout).unwrap())
}

/// Writes the `root` files beneath /etc/ssh into `dir` (their paths
/// rewritten to it), with a HostKey line first so sshd can start.
fn materialise_ssh(root: &BTreeMap<String, String>, dir: &Path, hostkey: &Path) -> PathBuf {
    let drop_ins = dir.join("sshd_config.d");
    std::fs::create_dir_all(&drop_ins).unwrap();
    let base = dir.to_str().unwrap();
    for (path, content) in root {
        let Some(rel) = path.strip_prefix("/etc/ssh/") else {
            continue;
        };
        let content = content.replace("/etc/ssh/", &format!("{base}/"));
        std::fs::write(dir.join(rel), content).unwrap();
    }
    let config = dir.join("sshd_config");
    let main = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("HostKey {}\n{main}", hostkey.display())).unwrap();
    config
}

#[test]
fn sshd_accepts_the_drop_in_and_its_values_win() {
    let (Some(sshd_path), Some(keygen)) = (
        tool("sshd", "openssh-server"),
        tool("ssh-keygen", "openssh-client"),
    ) else {
        return;
    };
    // Values set before the drop-in would be read: in the main file before
    // its Include, and in a drop-in that sorts first. Also a main file with
    // no Include at all.
    let late_include = "PermitRootLogin yes\nChallengeResponseAuthentication yes\n\
        Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\nX11Forwarding yes\n\
        Subsystem sftp /usr/lib/openssh/sftp-server\n";
    let no_include = "PermitRootLogin yes\nPasswordAuthentication yes\nX11Forwarding yes\n\
        Match User ci\n  PasswordAuthentication yes\n";
    let cloud = "PasswordAuthentication yes\n";
    let wants = [
        sshd_want("PermitRootLogin", "no"),
        sshd_want("PasswordAuthentication", "no"),
        sshd_want("KbdInteractiveAuthentication", "no"),
        sshd_want("X11Forwarding", "no"),
        sshd_want("MaxAuthTries", "3"),
    ];
    let expected = [
        "permitrootlogin no",
        "passwordauthentication no",
        "kbdinteractiveauthentication no",
        "x11forwarding no",
        "maxauthtries 3",
    ];
    for main in [late_include, no_include] {
        let before = root(&[
            ("/etc/ssh/sshd_config", main),
            ("/etc/ssh/sshd_config.d/50-cloud-init.conf", cloud),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let hostkey = dir.path().join("hostkey");
        run(Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&hostkey));

        // As the host is: the earlier values win, so the check below means something.
        let config = materialise_ssh(&before, &dir.path().join("before"), &hostkey);
        let Some(old) = effective(&sshd_path, &config) else {
            return;
        };
        let old: Vec<&str> = old.lines().collect();
        assert!(old.contains(&"permitrootlogin yes"), "{old:?}");
        assert!(old.contains(&"passwordauthentication yes"), "{old:?}");

        let changes = render(&wants, &before, false).unwrap();
        let mut after = before.clone();
        after.extend(files(&changes));
        assert!(
            after
                .read("/etc/ssh/sshd_config.d/60-tractorsec.conf")
                .is_some()
        );
        let config = materialise_ssh(&after, &dir.path().join("after"), &hostkey);
        let new = effective(&sshd_path, &config).unwrap();
        let new: Vec<&str> = new.lines().collect();
        for line in expected {
            assert!(
                new.contains(&line),
                "{line} not effective in {new:?}\nconfig: {after:#?}"
            );
        }
    }
}

#[test]
fn modprobe_reads_the_drop_in() {
    let Some(modprobe) = tool("modprobe", "kmod") else {
        return;
    };
    let wants = [
        Want::ModuleOff {
            module: "cramfs".into(),
        },
        Want::ModuleOff {
            module: "usb-storage".into(),
        },
        Want::NvidiaOption {
            name: "DeviceFileMode".into(),
            value: "0660".into(),
        },
        Want::NvidiaOption {
            name: "DeviceFileGID".into(),
            value: "44".into(),
        },
    ];
    let changes = render(&wants, &BTreeMap::<String, String>::new(), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files(&changes) {
        let name = path.strip_prefix("/etc/modprobe.d/").unwrap();
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let output = run(Command::new(modprobe)
        .arg("-C")
        .arg(dir.path())
        .arg("--showconfig"));
    let config = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = config.lines().collect();
    for line in [
        "blacklist cramfs",
        "install cramfs /bin/false",
        "blacklist usb_storage",
        "install usb_storage /bin/false",
        "options nvidia NVreg_DeviceFileGID=44 NVreg_DeviceFileMode=0660",
    ] {
        assert!(lines.contains(&line), "{line} missing from\n{config}");
    }
}

/// Runs `script` (with `$1` … set to `args`) in a new network namespace.
fn in_netns(unshare: &Path, script: &str, args: &[&str]) -> String {
    let output = run(Command::new(unshare)
        .args(["-n", "sh", "-c", script, "sh"])
        .args(args));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn sysctl_applies_network_keys_in_a_namespace() {
    let (Some(unshare), Some(_)) = (tool("unshare", "util-linux"), tool("sysctl", "procps")) else {
        return;
    };
    let probe = Command::new(&unshare)
        .args(["-n", "true"])
        .output()
        .unwrap();
    if !probe.status.success() {
        skip("no network namespace can be made (needs root)");
        return;
    }
    let keys = [
        "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.default.rp_filter",
        "net.ipv4.conf.all.accept_redirects",
        "net.ipv4.icmp_echo_ignore_broadcasts",
        "net.ipv4.tcp_syncookies",
    ];
    // A fresh namespace's values, and for each a different one to set, so
    // the check fails unless sysctl really applied the file.
    let fresh = in_netns(&unshare, r#"for k; do sysctl -n "$k"; done"#, &keys);
    let fresh: Vec<&str> = fresh.lines().collect();
    assert_eq!(fresh.len(), keys.len(), "{fresh:?}");
    let wants: Vec<Want> = keys
        .iter()
        .zip(&fresh)
        .map(|(key, old)| Want::Sysctl {
            key: (*key).to_owned(),
            value: if *old == "1" { "0" } else { "1" }.to_owned(),
        })
        .collect();
    let changes = render(&wants, &BTreeMap::<String, String>::new(), true).unwrap();
    let file = files(&changes)
        .remove("/etc/sysctl.d/60-tractorsec.conf")
        .unwrap();
    // Never anything but network keys on this machine.
    for line in file.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.starts_with("net."), "refusing to apply {line:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("60-tractorsec.conf");
    std::fs::write(&path, &file).unwrap();
    let mut args = vec![path.to_str().unwrap()];
    args.extend(keys);
    let applied = in_netns(
        &unshare,
        r#"f=$1; shift; sysctl -p "$f" >/dev/null && for k; do sysctl -n "$k"; done"#,
        &args,
    );
    let applied: Vec<&str> = applied.lines().collect();
    for (want, got) in wants.iter().zip(&applied) {
        let Want::Sysctl { key, value } = want else {
            unreachable!()
        };
        assert_eq!(value, got, "{key}");
    }
    assert_eq!(applied.len(), keys.len());
}
