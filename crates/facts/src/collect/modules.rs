//! Loaded kernel modules from `/proc/modules`.

use crate::error::{FactError, ParseError};
use crate::model::Source;
use crate::root::Root;

/// Fold a module name as the kernel and kmod do: `-` becomes `_`.
pub fn fold_name(name: &str) -> String {
    name.replace('-', "_")
}

/// Parse `/proc/modules` into module names, sorted and deduplicated, `-`
/// folded to `_`.
///
/// Each non-blank line is `name size refcount deps state address…`; a line
/// whose size is not a number is an error naming the line.
pub fn parse(text: &str, file: &str) -> Result<Vec<String>, ParseError> {
    let mut names = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(name) = fields.next() else { continue };
        let size_ok = fields
            .next()
            .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        if !size_ok {
            return Err(ParseError::new(
                file,
                i + 1,
                "expected `name size refcount deps state address`",
            ));
        }
        names.push(fold_name(name));
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Read the loaded modules (runtime roots only).
pub fn collect(root: &Root) -> Source<Vec<String>> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Vec<String>, FactError> {
    let path = "/proc/modules";
    root.parse_runtime_file(path, parse)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    const SAMPLE: &str = "\
nvidia_uvm 1916928 0 - Live 0x0000000000000000 (POE)
nvidia_drm 122880 2 - Live 0x0000000000000000 (POE)
nvidia 62967808 60 nvidia_uvm,nvidia_modeset, Live 0x0000000000000000 (POE)
intel_rapl_msr 20480 0 - Live 0x0000000000000000
usb_storage 81920 0 - Live 0x0000000000000000
dm_crypt 65536 1 - Loading 0x0000000000000000
";

    #[test]
    fn module_names_sorted_and_folded() {
        let m = parse(SAMPLE, "/proc/modules").unwrap();
        assert_eq!(
            m,
            [
                "dm_crypt",
                "intel_rapl_msr",
                "nvidia",
                "nvidia_drm",
                "nvidia_uvm",
                "usb_storage"
            ]
        );
        assert_eq!(
            parse("snd-hda-intel 61440 0 - Live 0x0\n", "m").unwrap(),
            ["snd_hda_intel"]
        );
    }

    #[test]
    fn line_without_size_names_file_and_line() {
        let err = parse("a 1 0 - Live 0x0\n\nbroken\n", "/proc/modules").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/proc/modules", 3));
        assert!(parse("a twelve 0 - Live 0x0\n", "m").is_err());
    }

    #[test]
    fn runtime_root_reads_proc_modules() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(tmp.path().join("proc/modules"), SAMPLE).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(collect(&root).ok().unwrap().len(), 6);
    }
}
