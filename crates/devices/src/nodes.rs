//! Device nodes under `/dev`, `lstat`ed through the root.

use crate::model::Node;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use tractorsec_facts::Root;

/// The nodes among `paths` that exist, in the given order.
pub fn nodes<S: AsRef<str>>(root: &Root, paths: &[S]) -> Vec<Node> {
    paths
        .iter()
        .filter_map(|p| node(root, p.as_ref()))
        .collect()
}

/// One node, `None` when it does not exist.
pub fn node(root: &Root, path: &str) -> Option<Node> {
    let meta = root.symlink_metadata(path).ok()?;
    let t = meta.file_type();
    let kind = if t.is_char_device() {
        "c"
    } else if t.is_block_device() {
        "b"
    } else if t.is_symlink() {
        "l"
    } else {
        "-"
    };
    Some(Node {
        path: path.to_string(),
        kind: kind.to_string(),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_nodes_are_left_out() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("dev")).unwrap();
        std::fs::write(tmp.path().join("dev/plain"), "").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let got = nodes(&root, &["/dev/missing", "/dev/plain"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, "/dev/plain");
        assert_eq!(got[0].kind, "-");
    }
}
