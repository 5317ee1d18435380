//! `/etc/fstab`: the options field of a mount point's entries extended
//! (`defaults` → `defaults,nodev,nosuid`; an opposite option such as `dev`
//! or `exec` dropped), every other byte of the file kept. A missing entry is
//! added for the tmpfs mount points (`/tmp`, `/var/tmp`, `/dev/shm`); for
//! any other mount point it is a [`RenderError::NoMountEntry`], a manual
//! step, because tractorsec cannot choose the device.

use std::collections::{BTreeMap, BTreeSet};

use super::{ReadRoot, RenderError, bad, host_file};
use crate::{Change, Want};

/// The file edited.
pub(super) const PATH: &str = "/etc/fstab";
/// Mount points that get a tmpfs entry when they have none.
const TMPFS: [&str; 3] = ["/dev/shm", "/tmp", "/var/tmp"];

/// The edited fstab for the mount option wants, when that changes it.
pub(super) fn render(wants: &[Want], root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for want in wants {
        if let Want::MountOptions { mount_point, add } = want {
            if !mount_point.starts_with('/') || mount_point.contains(char::is_control) {
                return Err(bad(
                    PATH,
                    "mount point",
                    mount_point,
                    "not an absolute path",
                ));
            }
            let options = wanted.entry(normal(mount_point)).or_default();
            for option in add {
                if !super::is_word(option, "=_-.:/+") {
                    return Err(bad(PATH, "mount option", option, "not a single option"));
                }
                options.insert(option.clone());
            }
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let text = root.read(PATH).unwrap_or_default();
    let mut out = String::with_capacity(text.len() + 100);
    let mut found = BTreeSet::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let fields = fields(line);
        if fields.is_empty() || line[fields[0].0..].starts_with('#') {
            out.push_str(line);
            continue;
        }
        if fields.len() < 4 {
            return Err(RenderError::Line {
                path: PATH.into(),
                line: i + 1,
                reason: "an entry needs at least four fields (device, mount point, type, options)"
                    .into(),
            });
        }
        let mount_point = normal(&decode(&line[fields[1].0..fields[1].1]));
        let Some(add) = wanted.get(&mount_point) else {
            out.push_str(line);
            continue;
        };
        found.insert(mount_point);
        let (start, end) = fields[3];
        out.push_str(&line[..start]);
        out.push_str(&extend(&line[start..end], add));
        out.push_str(&line[end..]);
    }
    for (mount_point, add) in &wanted {
        if found.contains(mount_point) {
            continue;
        }
        let options: Vec<&str> = add.iter().map(String::as_str).collect();
        if !TMPFS.contains(&mount_point.as_str()) {
            return Err(RenderError::NoMountEntry {
                path: PATH.into(),
                mount_point: mount_point.clone(),
                options: options.join(","),
            });
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "tmpfs {mount_point} tmpfs {} 0 0\n",
            extend("defaults", add)
        ));
    }
    if out == text {
        return Ok(Vec::new());
    }
    Ok(vec![host_file(root, PATH, out)])
}

/// A mount point without a trailing slash (`/` stays).
fn normal(mount_point: &str) -> String {
    let trimmed = mount_point.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    }
}

/// An fstab field with its octal escapes (`\040`) decoded.
fn decode(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .map(|d| d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0')));
        match octal.and_then(|n| u8::try_from(n).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Byte spans of the whitespace-separated fields of a line.
fn fields(line: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
    spans
}

/// `options` with each of `add` appended unless present; the opposite of an
/// added option (`dev` for `nodev`, `noexec` for `exec`) removed.
fn extend(options: &str, add: &BTreeSet<String>) -> String {
    let mut list: Vec<String> = options
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    for option in add {
        let opposite = match option.strip_prefix("no") {
            Some(positive) => positive.to_owned(),
            None => format!("no{option}"),
        };
        list.retain(|o| *o != opposite);
        if !list.contains(option) {
            list.push(option.clone());
        }
    }
    list.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::{applied, content, root};

    fn opts(mount_point: &str, add: &[&str]) -> Want {
        Want::MountOptions {
            mount_point: mount_point.into(),
            add: add.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    const FSTAB: &str = "# /etc/fstab: static file system information.\n\
        UUID=1234\t/\text4\terrors=remount-ro 0       1\n\
        UUID=abcd  /home   ext4  defaults,dev   0  2\n\
        # /tmp was on /dev/sda5 during installation\n\
        /dev/sdb1 /srv/my\\040data xfs defaults 0 2\r\n\
        tmpfs /dev/shm/ tmpfs rw,noexec 0 0";

    #[test]
    fn extends_options_keeping_every_other_byte() {
        let wants = [
            opts("/home", &["nosuid", "nodev"]),
            opts("/dev/shm", &["nodev"]),
            opts("/srv/my data", &["noexec"]),
        ];
        let changes = render(&wants, &root(&[(PATH, FSTAB)])).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            "# /etc/fstab: static file system information.\n\
             UUID=1234\t/\text4\terrors=remount-ro 0       1\n\
             UUID=abcd  /home   ext4  defaults,nodev,nosuid   0  2\n\
             # /tmp was on /dev/sda5 during installation\n\
             /dev/sdb1 /srv/my\\040data xfs defaults,noexec 0 2\r\n\
             tmpfs /dev/shm/ tmpfs rw,noexec,nodev 0 0"
        );
        let again = render(&wants, &applied(root(&[(PATH, FSTAB)]), &changes)).unwrap();
        assert_eq!(again, vec![], "nothing left to change");
    }

    #[test]
    fn adds_tmpfs_entries_for_tmp_only() {
        let wants = [
            opts("/tmp", &["nosuid", "nodev", "noexec"]),
            opts("/var/tmp/", &["nodev"]),
        ];
        let r = root(&[(PATH, "UUID=1 / ext4 defaults 0 1")]);
        let changes = render(&wants, &r).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            "UUID=1 / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults,nodev,noexec,nosuid 0 0\n\
             tmpfs /var/tmp tmpfs defaults,nodev 0 0\n"
        );
        let err = render(&[opts("/home", &["nodev"])], &r).unwrap_err();
        assert_eq!(
            err,
            RenderError::NoMountEntry {
                path: PATH.into(),
                mount_point: "/home".into(),
                options: "nodev".into()
            }
        );
        assert!(err.to_string().contains("manual step"), "{err}");
    }

    #[test]
    fn refuses_short_entries_and_bad_options() {
        let r = root(&[(PATH, "# c\nUUID=1 / ext4\n")]);
        let err = render(&[opts("/tmp", &["nodev"])], &r).unwrap_err();
        assert!(matches!(err, RenderError::Line { line: 2, .. }), "{err}");
        let err = render(&[opts("/tmp", &["nodev,exec"])], &root(&[])).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
    }
}
