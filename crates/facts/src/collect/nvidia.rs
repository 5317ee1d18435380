//! NVIDIA kernel driver parameters from `/proc/driver/nvidia/params`.

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::Source;
use crate::root::Root;
use std::collections::BTreeMap;

/// Where the loaded driver publishes its parameters.
pub const PARAMS: &str = "/proc/driver/nvidia/params";

/// Parse `Name: value` lines (names carry no `NVreg_` prefix). Blank lines
/// are skipped; a line without `:` is an error naming `file:line`.
pub fn parse(text: &str, file: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut params = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ParseError::new(
                file,
                index + 1,
                format!("expected `Name: value`, found {line:?}"),
            ));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(ParseError::new(file, index + 1, "empty parameter name"));
        }
        params.insert(name.to_string(), value.trim().to_string());
    }
    Ok(params)
}

/// Read the driver parameters of a runtime root.
pub fn collect(root: &Root) -> Source<BTreeMap<String, String>> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<BTreeMap<String, String>, FactError> {
    root.require_runtime(PARAMS)?;
    let text = match root.read_to_string(PARAMS) {
        Ok(t) => t,
        Err(e) if e.kind == FactErrorKind::NotPresent => {
            return Err(FactError::new(
                FactErrorKind::NotPresent,
                PARAMS,
                "no NVIDIA driver loaded",
            ));
        }
        Err(e) => return Err(e),
    };
    parse(&text, PARAMS).map_err(|e| FactError::malformed(PARAMS, &e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    /// Excerpt of a real R550 driver's params file.
    const REAL: &str = "ResmanDebugLevel: 4294967295
RmLogonRC: 1
ModifyDeviceFiles: 1
DeviceFileUID: 0
DeviceFileGID: 0
DeviceFileMode: 438
InitializeSystemMemoryAllocations: 1
UsePageAttributeTable: 4294967295
EnableMSI: 1
RegisterPCIDriver: 1
EnablePCIERelaxedOrderingMode: 0
RestrictProfilingToAdminUsers: 1
RegistryDwords: \"\"
RegistryDwordsPerDevice: \"\"
RmMsg: \"\"
GpuBlacklist: \"\"
TemporaryFilePath: \"\"
ExcludedGpus: \"\"
DmaRemapPeerMmio: 1
ImexChannelCount: 2048
";

    #[test]
    fn nvidia_params_parse_real_file() {
        let p = parse(REAL, PARAMS).unwrap();
        assert_eq!(p["DeviceFileMode"], "438");
        assert_eq!(p["RestrictProfilingToAdminUsers"], "1");
        assert_eq!(p["RegistryDwords"], "\"\"");
        assert_eq!(p.len(), 20);
    }

    #[test]
    fn nvidia_params_tolerate_blank_lines() {
        let p = parse("\nA: 1\n\n  \nB:2\n", PARAMS).unwrap();
        assert_eq!(p["A"], "1");
        assert_eq!(p["B"], "2");
    }

    #[test]
    fn nvidia_line_without_colon_names_file_and_line() {
        let err = parse("A: 1\nbroken line\n", "/x/params").unwrap_err();
        assert_eq!(err.file, "/x/params");
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("/x/params:2:"), "{err}");
    }

    #[test]
    fn nvidia_absent_means_no_driver() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "ro\n").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::NotPresent);
        assert_eq!(err.message, "no NVIDIA driver loaded");
    }

    #[test]
    fn nvidia_collect_reads_params_beneath_root() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc/driver/nvidia")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "ro\n").unwrap();
        fs::write(tmp.path().join("proc/driver/nvidia/params"), REAL).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let p = collect(&root);
        assert_eq!(p.ok().unwrap()["DeviceFileUID"], "0");
    }
}
