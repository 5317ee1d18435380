//! Paths and byte strings as they appear in a manifest: relative,
//! `/`-separated, and escaped to printable ASCII.
//!
//! Escaping: bytes `0x20..=0x7e` stand for themselves except `\`, which is
//! written `\\`; every other byte (control characters, DEL, and every byte
//! of a non-ASCII name) is written `\xHH` with lowercase hex. The escaped
//! form is canonical: decoding then encoding gives back the same text.

use std::fmt;

use serde::{Serialize, Serializer};

/// Writes `bytes` escaped (see the module docs) onto `out`.
pub(crate) fn escape_into(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                out.push_str("\\x");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
}

/// `bytes` escaped (see the module docs).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(bytes, &mut out);
    out
}

/// Decodes an escaped field. Errors say what is wrong: a literal control
/// character or non-ASCII character, or an escape that is not `\\` or
/// `\xHH` (lowercase hex).
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .all(|b| (0x20..=0x7e).contains(b) && *b != b'\\')
    {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => match bytes.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') => {
                    let hi = bytes.get(i + 2).copied().and_then(hex_digit);
                    let lo = bytes.get(i + 3).copied().and_then(hex_digit);
                    let (Some(hi), Some(lo)) = (hi, lo) else {
                        return Err(format!(
                            "bad escape at byte {i}: `\\x` needs two lowercase hex digits"
                        ));
                    };
                    let value = (hi << 4) | lo;
                    if (0x20..=0x7e).contains(&value) && value != b'\\' {
                        return Err(format!(
                            "non-canonical escape `\\x{value:02x}` at byte {i}: write `{}` itself",
                            char::from(value)
                        ));
                    }
                    out.push(value);
                    i += 4;
                }
                _ => {
                    return Err(format!(
                        "bad escape at byte {i}: only `\\\\` and `\\xHH` are allowed"
                    ));
                }
            },
            0x20..=0x7e => {
                out.push(b);
                i += 1;
            }
            0x00..=0x1f | 0x7f => {
                return Err(format!(
                    "control character 0x{b:02x} at byte {i} (must be escaped as \\x{b:02x})"
                ));
            }
            _ => {
                return Err(format!(
                    "non-ASCII byte 0x{b:02x} at byte {i} (must be escaped as \\xHH)"
                ));
            }
        }
    }
    Ok(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// A path inside a sealed tree: relative to its root, `/`-separated, raw
/// bytes (Linux file names need not be UTF-8). The root itself is `.`.
///
/// Ordering is byte-wise on the raw bytes, the order of manifest lines.
/// Valid paths are never empty, never absolute, never contain NUL, and
/// have no empty, `.` or `..` component (the root `.` aside).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ManifestPath(Vec<u8>);

impl ManifestPath {
    /// The root of the tree, `.`.
    pub fn root() -> Self {
        ManifestPath(b".".to_vec())
    }

    /// Whether this is the root, `.`.
    pub fn is_root(&self) -> bool {
        self.0 == b"."
    }

    /// Checks `bytes` as a manifest path and wraps it; the error says why
    /// it is not one.
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes == b"." {
            return Ok(ManifestPath(bytes));
        }
        if bytes.is_empty() {
            return Err("empty path".into());
        }
        if bytes.contains(&0) {
            return Err("path contains a NUL byte".into());
        }
        if bytes.first() == Some(&b'/') {
            return Err(format!("absolute path `{}`", escape(&bytes)));
        }
        for component in bytes.split(|b| *b == b'/') {
            match component {
                b"" => return Err(format!("empty component in path `{}`", escape(&bytes))),
                b"." => return Err(format!("`.` component in path `{}`", escape(&bytes))),
                b".." => return Err(format!("`..` component in path `{}`", escape(&bytes))),
                _ => {}
            }
        }
        Ok(ManifestPath(bytes))
    }

    /// The child `name` of this directory path (`name` is one component,
    /// checked by the caller's source: a directory entry's name).
    pub(crate) fn child(&self, name: &[u8]) -> ManifestPath {
        if self.is_root() {
            ManifestPath(name.to_vec())
        } else {
            let mut bytes = Vec::with_capacity(self.0.len() + 1 + name.len());
            bytes.extend_from_slice(&self.0);
            bytes.push(b'/');
            bytes.extend_from_slice(name);
            ManifestPath(bytes)
        }
    }

    /// Whether `self` lies strictly beneath the directory `dir`.
    pub fn is_beneath(&self, dir: &ManifestPath) -> bool {
        if dir.is_root() {
            return !self.is_root();
        }
        self.0.len() > dir.0.len()
            && self.0.starts_with(&dir.0)
            && self.0.get(dir.0.len()) == Some(&b'/')
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The escaped form, as written in a manifest.
    pub fn escaped(&self) -> String {
        escape(&self.0)
    }
}

impl fmt::Display for ManifestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.escaped())
    }
}

impl fmt::Debug for ManifestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManifestPath({:?})", self.escaped())
    }
}

impl Serialize for ManifestPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.escaped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let text = escape(&all);
        assert!(text.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        assert_eq!(unescape(&text).unwrap(), all);
    }

    #[test]
    fn unescape_rejects_non_canonical_and_literal_controls() {
        assert!(unescape("a\\x41").is_err());
        assert!(unescape("a\\x0A").is_err());
        assert!(unescape("a\\n").is_err());
        assert!(unescape("a\\").is_err());
        assert!(unescape("a\tb").is_err());
        assert!(unescape("é").is_err());
        assert_eq!(unescape("a\\x0ab\\\\").unwrap(), b"a\nb\\");
    }

    #[test]
    fn paths_are_checked() {
        assert!(ManifestPath::new(b"a/b".to_vec()).is_ok());
        assert!(ManifestPath::new(b".".to_vec()).is_ok());
        for bad in [
            &b""[..],
            b"/a",
            b"a/../b",
            b"..",
            b"a//b",
            b"a/",
            b"./a",
            b"a\0b",
        ] {
            assert!(ManifestPath::new(bad.to_vec()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn beneath_is_by_component() {
        let dir = ManifestPath::new(b"a/b".to_vec()).unwrap();
        assert!(
            ManifestPath::new(b"a/b/c".to_vec())
                .unwrap()
                .is_beneath(&dir)
        );
        assert!(
            !ManifestPath::new(b"a/bc".to_vec())
                .unwrap()
                .is_beneath(&dir)
        );
        assert!(!dir.is_beneath(&dir));
        assert!(dir.is_beneath(&ManifestPath::root()));
    }
}
