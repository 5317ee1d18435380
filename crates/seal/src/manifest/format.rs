//! The manifest text format (documented in `docs/manifest.md`): a header
//! line, one line per entry in byte-wise path order, and a trailer with
//! the entry count and a digest of every line before it.
//!
//! ```text
//! tractorsec-manifest<TAB>1<TAB>algorithm=blake3[<TAB>exclude=GLOB]…
//! PATH<TAB>TYPE<TAB>MODE<TAB>UID<TAB>GID[<TAB>KEY=VALUE]…
//! end<TAB>entries=N<TAB>blake3=HEX
//! ```
//!
//! Parsing is strict: anything but the canonical form is an error naming
//! the file and line, so that same tree ⇔ same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::entry::{DeviceNumber, Entry, EntryKind, SECURITY_XATTRS};
use super::glob::Glob;
use super::hash::HashAlgorithm;
use super::path::{ManifestPath, escape, escape_into, unescape};

/// The first field of the header line.
pub const MAGIC: &str = "tractorsec-manifest";
/// The format version this library writes and reads.
pub const VERSION: &str = "1";

/// A sealed tree: how it was sealed and every entry, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The content hash algorithm.
    pub algorithm: HashAlgorithm,
    /// The exclude patterns the tree was sealed with (verify walks with
    /// the same ones).
    pub excludes: Vec<String>,
    /// The entries, strictly increasing by path (byte-wise).
    pub entries: Vec<Entry>,
}

/// A manifest that does not parse: which file, which line (1-based), and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ManifestError {
    /// The file name given to [`Manifest::parse`].
    pub file: String,
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Manifest {
    /// The manifest as text: the same manifest always gives the same bytes.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(64 + self.entries.len() * 120);
        let _ = write!(out, "{MAGIC}\t{VERSION}\talgorithm={}", self.algorithm);
        for exclude in &self.excludes {
            out.push_str("\texclude=");
            escape_into(exclude.as_bytes(), &mut out);
        }
        out.push('\n');
        for entry in &self.entries {
            write_entry(&mut out, entry, self.algorithm);
        }
        let digest = self.algorithm.hash_bytes(out.as_bytes());
        let _ = writeln!(
            out,
            "end\tentries={}\t{}={digest}",
            self.entries.len(),
            self.algorithm
        );
        out
    }

    /// Parses manifest text; `file` names it in errors. Every deviation
    /// from the canonical form is an error with the line: a missing or
    /// wrong trailer (truncation), lines out of order, a digest that does
    /// not match (an edited line), paths that are absolute, contain `..`,
    /// or contain control characters or NUL.
    pub fn parse(text: &str, file: &str) -> Result<Manifest, ManifestError> {
        let err = |line: usize, message: String| ManifestError {
            file: file.to_string(),
            line,
            message,
        };
        if text.is_empty() {
            return Err(err(1, "empty file: not a manifest".into()));
        }
        let mut lines = Vec::new();
        let mut offset = 0;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let Some(line) = raw.strip_suffix('\n') else {
                return Err(err(
                    i + 1,
                    "truncated: the last line has no newline (and no `end` trailer follows)".into(),
                ));
            };
            lines.push((offset, line));
            offset += raw.len();
        }
        let Some(&(_, header)) = lines.first() else {
            return Err(err(1, "empty file: not a manifest".into()));
        };
        let (algorithm, excludes) = parse_header(header).map_err(|m| err(1, m))?;

        let mut entries: Vec<Entry> = Vec::new();
        for (index, &(start, line)) in lines.iter().enumerate().skip(1) {
            let number = index + 1;
            // A path named `end` is an entry: its next field is a type.
            if line == "end" || line.starts_with("end\tentries") {
                let (count, digest) = parse_trailer(line, algorithm).map_err(|m| err(number, m))?;
                if count != entries.len() {
                    return Err(err(
                        number,
                        format!(
                            "trailer says {count} entries but {} precede it (lines lost or added)",
                            entries.len()
                        ),
                    ));
                }
                let covered = text.get(..start).unwrap_or_default();
                let actual = algorithm.hash_bytes(covered.as_bytes());
                if actual != digest {
                    return Err(err(
                        number,
                        format!(
                            "digest mismatch: lines 1-{} hash to {algorithm}={actual}, the trailer says {digest}; the manifest was edited after sealing",
                            number - 1
                        ),
                    ));
                }
                if number != lines.len() {
                    return Err(err(number + 1, "text after the `end` trailer".into()));
                }
                return Ok(Manifest {
                    algorithm,
                    excludes,
                    entries,
                });
            }
            let entry = parse_entry(line, algorithm).map_err(|m| err(number, m))?;
            if let Some(previous) = entries.last()
                && entry.path <= previous.path
            {
                let what = if entry.path == previous.path {
                    "duplicate entry"
                } else {
                    "entry out of order"
                };
                return Err(err(
                    number,
                    format!(
                        "{what}: `{}` must sort (byte-wise) after `{}` on line {}",
                        entry.path,
                        previous.path,
                        number - 1
                    ),
                ));
            }
            entries.push(entry);
        }
        Err(err(
            lines.len() + 1,
            format!(
                "truncated: no `end` trailer after {} entries",
                entries.len()
            ),
        ))
    }
}

fn write_entry(out: &mut String, entry: &Entry, algorithm: HashAlgorithm) {
    escape_into(entry.path.as_bytes(), out);
    let _ = write!(
        out,
        "\t{}\t{:04o}\t{}\t{}",
        entry.kind, entry.mode, entry.uid, entry.gid
    );
    if let Some(size) = entry.size {
        let _ = write!(out, "\tsize={size}");
    }
    if let Some(content) = &entry.content {
        let _ = write!(out, "\t{algorithm}={content}");
    }
    if let Some(target) = &entry.target {
        out.push_str("\ttarget=");
        escape_into(target, out);
    }
    if let Some(device) = entry.device {
        let _ = write!(out, "\tdevice={device}");
    }
    if let Some(link) = &entry.link {
        out.push_str("\tlink=");
        escape_into(link.as_bytes(), out);
    }
    for name in SECURITY_XATTRS {
        if let Some(value) = entry.xattrs.get(name) {
            let _ = write!(out, "\txattr.{name}={value}");
        }
    }
    out.push('\n');
}

fn parse_header(line: &str) -> Result<(HashAlgorithm, Vec<String>), String> {
    let mut fields = line.split('\t');
    if fields.next() != Some(MAGIC) {
        return Err(format!(
            "not a tractorsec manifest: the first line must start with `{MAGIC}<TAB>{VERSION}`"
        ));
    }
    match fields.next() {
        Some(VERSION) => {}
        Some(other) => {
            return Err(format!(
                "unsupported manifest version `{}` (this tool reads version {VERSION})",
                escape(other.as_bytes())
            ));
        }
        None => return Err("header has no version".into()),
    }
    let algorithm = match fields.next().and_then(|f| f.strip_prefix("algorithm=")) {
        Some(name) => name.parse::<HashAlgorithm>()?,
        None => return Err("header has no `algorithm=` field".into()),
    };
    let mut excludes = Vec::new();
    for field in fields {
        let Some(value) = field.strip_prefix("exclude=") else {
            return Err(format!(
                "unknown header field `{}`",
                escape(field.as_bytes())
            ));
        };
        let bytes = unescape(value).map_err(|m| format!("exclude pattern: {m}"))?;
        let pattern =
            String::from_utf8(bytes).map_err(|_| "exclude pattern is not UTF-8".to_string())?;
        Glob::new(&pattern).map_err(|m| format!("exclude pattern: {m}"))?;
        excludes.push(pattern);
    }
    Ok((algorithm, excludes))
}

/// The entry count and digest of a well-formed trailer.
fn parse_trailer(line: &str, algorithm: HashAlgorithm) -> Result<(usize, String), String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [_, count, digest] = fields.as_slice() else {
        return Err("malformed trailer: expected `end<TAB>entries=N<TAB>ALGORITHM=HEX`".into());
    };
    let count = count
        .strip_prefix("entries=")
        .ok_or_else(|| "malformed trailer: no `entries=` count".to_string())
        .and_then(|n| decimal(n, "entry count"))?;
    let count = usize::try_from(count).map_err(|_| "entry count too large".to_string())?;
    let digest = digest
        .strip_prefix(algorithm.as_str())
        .and_then(|d| d.strip_prefix('='))
        .ok_or_else(|| format!("malformed trailer: no `{algorithm}=` digest"))?;
    check_hex(digest, algorithm.hex_len(), "trailer digest")?;
    Ok((count, digest.to_string()))
}

/// A canonical decimal number: digits only, no leading zero.
fn decimal(text: &str, what: &str) -> Result<u64, String> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(format!(
            "bad {what} `{}`: expected a decimal number",
            escape(text.as_bytes())
        ));
    }
    text.parse::<u64>()
        .map_err(|_| format!("{what} `{text}` out of range"))
}

fn decimal_u32(text: &str, what: &str) -> Result<u32, String> {
    u32::try_from(decimal(text, what)?).map_err(|_| format!("{what} `{text}` out of range"))
}

fn check_hex(text: &str, len: usize, what: &str) -> Result<(), String> {
    if text.len() != len || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "bad {what} `{}`: expected {len} lowercase hex digits",
            escape(text.as_bytes())
        ));
    }
    Ok(())
}

fn parse_path(text: &str, what: &str) -> Result<ManifestPath, String> {
    let bytes = unescape(text).map_err(|m| format!("{what}: {m}"))?;
    ManifestPath::new(bytes).map_err(|m| format!("{what}: {m}"))
}

fn parse_entry(line: &str, algorithm: HashAlgorithm) -> Result<Entry, String> {
    let mut fields = line.split('\t');
    let mut next = |what: &str| {
        fields
            .next()
            .ok_or_else(|| format!("entry has no {what} field (expected PATH TYPE MODE UID GID …)"))
    };
    let path = parse_path(next("path")?, "path")?;
    let kind_name = next("type")?;
    let kind = EntryKind::from_name(kind_name)
        .ok_or_else(|| format!("unknown type `{}`", escape(kind_name.as_bytes())))?;
    let mode_text = next("mode")?;
    if mode_text.len() != 4 || !mode_text.bytes().all(|b| matches!(b, b'0'..=b'7')) {
        return Err(format!(
            "bad mode `{}`: expected four octal digits",
            escape(mode_text.as_bytes())
        ));
    }
    let mode = u32::from_str_radix(mode_text, 8).map_err(|e| format!("bad mode: {e}"))?;
    let uid = decimal_u32(next("uid")?, "uid")?;
    let gid = decimal_u32(next("gid")?, "gid")?;
    if path.is_root() && kind != EntryKind::Dir {
        return Err("the root `.` must be a directory".into());
    }
    let mut entry = Entry {
        path,
        kind,
        mode,
        uid,
        gid,
        size: None,
        content: None,
        target: None,
        device: None,
        link: None,
        xattrs: BTreeMap::new(),
    };
    // Optional fields, each at most once, in this order.
    let order: [&str; 8] = [
        "size",
        algorithm.as_str(),
        "target",
        "device",
        "link",
        "xattr.security.capability",
        "xattr.security.ima",
        "xattr.security.selinux",
    ];
    let mut position = 0;
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("field `{}` is not KEY=VALUE", escape(field.as_bytes())))?;
        let Some(slot) = order.iter().position(|k| *k == key) else {
            return Err(format!("unknown field `{}`", escape(key.as_bytes())));
        };
        if slot < position {
            return Err(format!(
                "field `{key}` out of order or repeated (order: size, {algorithm}, target, device, link, xattr.*)"
            ));
        }
        position = slot + 1;
        match slot {
            0 => entry.size = Some(decimal(value, "size")?),
            1 => {
                check_hex(value, algorithm.hex_len(), "content hash")?;
                entry.content = Some(value.to_string());
            }
            2 => {
                let target = unescape(value).map_err(|m| format!("target: {m}"))?;
                if target.is_empty() || target.contains(&0) {
                    return Err("target: empty or contains NUL".into());
                }
                entry.target = Some(target);
            }
            3 => {
                let (major, minor) = value.split_once(',').ok_or_else(|| {
                    format!(
                        "bad device `{}`: expected MAJOR,MINOR",
                        escape(value.as_bytes())
                    )
                })?;
                entry.device = Some(DeviceNumber {
                    major: decimal_u32(major, "device major")?,
                    minor: decimal_u32(minor, "device minor")?,
                });
            }
            4 => entry.link = Some(parse_path(value, "link")?),
            _ => {
                let name = key.strip_prefix("xattr.").unwrap_or(key);
                if value.is_empty()
                    || value.len() % 2 != 0
                    || !value
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(format!("bad {key} value: expected lowercase hex bytes"));
                }
                entry.xattrs.insert(name.to_string(), value.to_string());
            }
        }
    }
    check_fields(&entry, algorithm)?;
    Ok(entry)
}

/// Which fields each type must and may have.
fn check_fields(entry: &Entry, algorithm: HashAlgorithm) -> Result<(), String> {
    let kind = entry.kind;
    let is_file = kind == EntryKind::File;
    let needs = |present: bool, required: bool, name: &str| -> Result<(), String> {
        match (present, required) {
            (false, true) => Err(format!("a {kind} entry needs a `{name}=` field")),
            (true, false) => Err(format!("a {kind} entry cannot have a `{name}=` field")),
            _ => Ok(()),
        }
    };
    needs(entry.size.is_some(), is_file, "size")?;
    needs(entry.content.is_some(), is_file, algorithm.as_str())?;
    needs(entry.target.is_some(), kind == EntryKind::Symlink, "target")?;
    needs(
        entry.device.is_some(),
        matches!(kind, EntryKind::Char | EntryKind::Block),
        "device",
    )?;
    if entry.link.is_some() && kind == EntryKind::Dir {
        return Err(
            "a dir entry cannot have a `link=` field (directories have no hard links)".into(),
        );
    }
    if let Some(link) = &entry.link
        && *link > entry.path
    {
        return Err(format!(
            "link group `{link}` sorts after the entry itself; a group is named by its first path"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut xattrs = BTreeMap::new();
        xattrs.insert(
            "security.capability".to_string(),
            "0100000200200000".to_string(),
        );
        let base = Entry {
            path: ManifestPath::root(),
            kind: EntryKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: None,
            content: None,
            target: None,
            device: None,
            link: None,
            xattrs: BTreeMap::new(),
        };
        let p = |s: &[u8]| ManifestPath::new(s.to_vec()).unwrap();
        Manifest {
            algorithm: HashAlgorithm::Blake3,
            excludes: vec!["var/cache/**".into(), "a\tb".into()],
            entries: vec![
                base.clone(),
                Entry {
                    path: p(b"bin\n\xff"),
                    kind: EntryKind::File,
                    mode: 0o4755,
                    size: Some(3),
                    content: Some("ab".repeat(32)),
                    link: Some(p(b"bin\n\xff")),
                    xattrs,
                    ..base.clone()
                },
                Entry {
                    path: p(b"dev/null"),
                    kind: EntryKind::Char,
                    mode: 0o666,
                    device: Some(DeviceNumber { major: 1, minor: 3 }),
                    ..base.clone()
                },
                Entry {
                    path: p(b"lib"),
                    kind: EntryKind::Symlink,
                    mode: 0o777,
                    target: Some(b"usr/lib".to_vec()),
                    ..base.clone()
                },
            ],
        }
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let text = m.to_text();
        assert!(text.is_ascii());
        let back = Manifest::parse(&text, "m").unwrap();
        assert_eq!(back, m);
        assert_eq!(back.to_text(), text);
    }

    #[test]
    fn every_prefix_is_an_error_not_a_panic() {
        let text = sample().to_text();
        for cut in 0..text.len() {
            if let Some(prefix) = text.get(..cut) {
                assert!(
                    Manifest::parse(prefix, "m").is_err(),
                    "prefix of {cut} bytes parsed"
                );
            }
        }
    }

    #[test]
    fn field_rules_are_enforced() {
        let text = sample().to_text();
        let replace = |from: &str, to: &str| text.replacen(from, to, 1);
        for (bad, expect) in [
            (replace("\tsize=3", ""), "needs a `size=`"),
            (replace("\tsize=3", "\tsize=03"), "bad size"),
            (replace("4755", "755"), "bad mode"),
            (replace("\tdevice=1,3", "\tdevice=1"), "bad device"),
            (replace("\ttarget=usr/lib", ""), "needs a `target=`"),
            (replace("dev/null\tchar", "dev/null\tpipe"), "unknown type"),
            (replace("dev/null", "/dev/null"), "absolute path"),
            (replace("dev/null", "dev/../null"), "`..` component"),
            (replace("dev/null", "dev/nu\\x00ll"), "NUL"),
            (replace("dev/null", "dev/nu\x01ll"), "control character"),
            (
                replace("algorithm=blake3", "algorithm=md5"),
                "unknown hash algorithm",
            ),
        ] {
            let err = Manifest::parse(&bad, "m.txt").unwrap_err();
            assert!(err.to_string().starts_with("m.txt:"), "{err}");
            assert!(err.message.contains(expect), "{expect}: {err}");
        }
    }
}
