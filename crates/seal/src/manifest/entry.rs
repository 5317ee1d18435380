//! One entry of a manifest: what is recorded about a path.

use std::collections::BTreeMap;
use std::fmt;
pub(crate) use tractorsec_facts::text::hex;

use serde::{Serialize, Serializer};

use super::path::{ManifestPath, escape};

/// The security extended attributes recorded when present, in the order
/// they are written.
pub const SECURITY_XATTRS: [&str; 3] = ["security.capability", "security.ima", "security.selinux"];

/// The type of a file-system entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
    /// A character device.
    Char,
    /// A block device.
    Block,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
}

impl EntryKind {
    /// The name written in manifests: `file`, `dir`, `symlink`, `char`,
    /// `block`, `fifo` or `socket`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
            EntryKind::Char => "char",
            EntryKind::Block => "block",
            EntryKind::Fifo => "fifo",
            EntryKind::Socket => "socket",
        }
    }

    /// The kind named `name` (see [`EntryKind::as_str`]).
    pub fn from_name(name: &str) -> Option<EntryKind> {
        Some(match name {
            "file" => EntryKind::File,
            "dir" => EntryKind::Dir,
            "symlink" => EntryKind::Symlink,
            "char" => EntryKind::Char,
            "block" => EntryKind::Block,
            "fifo" => EntryKind::Fifo,
            "socket" => EntryKind::Socket,
            _ => return None,
        })
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device number split into major and minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceNumber {
    /// The major number.
    pub major: u32,
    /// The minor number.
    pub minor: u32,
}

impl fmt::Display for DeviceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.major, self.minor)
    }
}

/// What a manifest records about one path. Times and inode numbers are
/// deliberately absent: a copied image keeps contents, not inodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The path relative to the root (`.` for the root).
    pub path: ManifestPath,
    /// The type.
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// Permission bits, setuid/setgid/sticky included (`mode & 0o7777`).
    #[serde(serialize_with = "octal_mode")]
    pub mode: u32,
    /// The owner's user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
    /// The size in bytes (regular files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The content hash in lowercase hex, with the manifest's algorithm
    /// (regular files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The symlink target, raw bytes (symlinks only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "escaped_bytes"
    )]
    pub target: Option<Vec<u8>>,
    /// The device number (character and block devices only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceNumber>,
    /// The hard-link group: the first path, in sorted order, of the paths
    /// in the tree that share this entry's inode; absent when no other
    /// path does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<ManifestPath>,
    /// Security extended attributes present (name → value in lowercase
    /// hex), only those in [`SECURITY_XATTRS`].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub xattrs: BTreeMap<String, String>,
}

fn octal_mode<S: Serializer>(mode: &u32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{mode:04o}"))
}

fn escaped_bytes<S: Serializer>(bytes: &Option<Vec<u8>>, serializer: S) -> Result<S::Ok, S::Error> {
    match bytes {
        Some(bytes) => serializer.serialize_str(&escape(bytes)),
        None => serializer.serialize_none(),
    }
}
