//! The mount table from `/proc/self/mountinfo`.

use crate::error::{FactError, ParseError};
use crate::model::{Mount, Source};
use crate::root::Root;
use std::collections::BTreeSet;

/// Undo the kernel's octal escapes (`\040` space, `\011` tab, `\012`
/// newline, `\134` backslash); anything else is kept as written.
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\'
            && let Some(code) = bytes.get(i + 1..i + 4).and_then(octal)
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn octal(digits: &[u8]) -> Option<u8> {
    digits.iter().try_fold(0u8, |acc, &d| {
        if (b'0'..=b'7').contains(&d) {
            acc.checked_mul(8)?.checked_add(d - b'0')
        } else {
            None
        }
    })
}

/// Parse mountinfo text into mounts, in file order (later mounts on the same
/// point hide earlier ones, so order carries meaning).
///
/// Each line is `id parent major:minor root mount_point options [optional…]
/// - fs_type source super_options`. Per-mount and super-block options are
/// merged, duplicates dropped keeping the first. A line missing fields or
/// the `-` separator is an error naming the line.
pub fn parse(text: &str, file: &str) -> Result<Vec<Mount>, ParseError> {
    let mut mounts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: &str| ParseError::new(file, i + 1, msg.to_string());
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            return Err(err("no `-` separator"));
        };
        let (before, after) = fields.split_at(sep);
        let [id, parent, devno, root, mount_point, options, ..] = before else {
            return Err(err("expected 6 fields before `-`"));
        };
        let [_, fs_type, source, rest @ ..] = after else {
            return Err(err("expected fs type and source after `-`"));
        };
        if !is_number(id) || !is_number(parent) {
            return Err(err("mount ids must be numbers"));
        }
        if !devno
            .split_once(':')
            .is_some_and(|(a, b)| is_number(a) && is_number(b))
        {
            return Err(err("expected major:minor"));
        }
        let mut merged: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        let super_options = rest.first().copied().unwrap_or("");
        for opt in options.split(',').chain(super_options.split(',')) {
            let opt = unescape(opt);
            if !opt.is_empty() && seen.insert(opt.clone()) {
                merged.push(opt);
            }
        }
        mounts.push(Mount {
            mount_point: unescape(mount_point),
            root: unescape(root),
            fs_type: unescape(fs_type),
            source: unescape(source),
            options: merged,
        });
    }
    Ok(mounts)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Read the mount table (runtime roots only).
pub fn collect(root: &Root) -> Source<Vec<Mount>> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Vec<Mount>, FactError> {
    let path = "/proc/self/mountinfo";
    root.parse_runtime_file(path, parse)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::fs;

    /// Lines from this machine's mountinfo, plus a systemd host's shared
    /// mount with optional fields and an escaped space.
    const SAMPLE: &str = "22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334824k,nr_inodes=3083706,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683784k
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755
31 24 0:27 / /tmp rw,nosuid,nodev,noexec shared:5 master:1 - tmpfs tmpfs rw,size=8g,inode64
40 27 8:1 /data\\040dir /mnt/my\\040disk ro,nosuid - ext4 /dev/sda1 ro
";

    #[test]
    fn fields_and_merged_options() {
        let m = parse(SAMPLE, "/proc/self/mountinfo").unwrap();
        assert_eq!(m.len(), 7);
        assert_eq!(m[3].mount_point, "/");
        assert_eq!(m[3].fs_type, "ext4");
        assert_eq!(m[3].source, "/dev/vda");
        assert_eq!(
            m[3].options,
            [
                "rw",
                "relatime",
                "discard",
                "resv_strict",
                "resuid=65534",
                "resgid=65534"
            ]
        );
        assert_eq!(
            m[4].options,
            ["ro", "nosuid", "nodev", "relatime", "size=4k", "mode=755"]
        );
    }

    #[test]
    fn optional_fields_before_separator_are_skipped() {
        let m = parse(SAMPLE, "m").unwrap();
        assert_eq!(m[5].mount_point, "/tmp");
        assert_eq!(m[5].source, "tmpfs");
        assert_eq!(
            m[5].options,
            ["rw", "nosuid", "nodev", "noexec", "size=8g", "inode64"]
        );
    }

    #[test]
    fn octal_escapes_are_decoded() {
        let m = parse(SAMPLE, "m").unwrap();
        assert_eq!(m[6].mount_point, "/mnt/my disk");
        assert_eq!(m[6].root, "/data dir");
        assert_eq!(unescape(r"a\011b\134c\12"), "a\tb\\c\\12");
        assert_eq!(unescape(r"\777"), r"\777");
    }

    #[test]
    fn line_without_separator_names_file_and_line() {
        let err = parse(
            "22 27 0:21 / /proc rw - proc proc rw\n23 27 0:22 / /sys rw sysfs sysfs rw\n",
            "/proc/self/mountinfo",
        )
        .unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/proc/self/mountinfo", 2));
    }

    #[test]
    fn short_or_non_numeric_lines_are_errors() {
        assert_eq!(
            parse("22 27 0:21 / - proc proc rw\n", "m")
                .unwrap_err()
                .line,
            1
        );
        assert_eq!(
            parse("22 27 0:21 / /p rw - proc\n", "m").unwrap_err().line,
            1
        );
        assert!(parse("x 27 0:21 / /p rw - proc proc rw\n", "m").is_err());
        assert!(parse("1 27 021 / /p rw - proc proc rw\n", "m").is_err());
    }

    #[test]
    fn collect_is_runtime_only() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            collect(&root).get().unwrap_err().kind,
            FactErrorKind::Offline
        );
        fs::create_dir_all(tmp.path().join("proc/self")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(tmp.path().join("proc/self/mountinfo"), SAMPLE).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(collect(&root).ok().unwrap().len(), 7);
    }

    #[test]
    fn live_mountinfo_parses() {
        if let Ok(text) = fs::read_to_string("/proc/self/mountinfo") {
            let m = parse(&text, "/proc/self/mountinfo").unwrap();
            assert!(m.iter().any(|x| x.mount_point == "/"));
        }
    }
}
