//! CPU vendor, flags and vulnerability status.

use crate::error::{FactError, ParseError};
use crate::model::{Cpu, Source};
use crate::root::{Root, join};

const VULNERABILITIES: &str = "/sys/devices/system/cpu/vulnerabilities";

/// Parse `/proc/cpuinfo`: `vendor_id` and `flags` (`Features` on arm64) of
/// the first processor block; flags sorted and deduplicated.
/// `vulnerabilities` is left empty. A non-blank line without `:` is an
/// error naming the line.
pub fn parse(text: &str, file: &str) -> Result<Cpu, ParseError> {
    let mut cpu = Cpu::default();
    let mut seen_field = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if seen_field {
                break; // end of the first processor block
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(ParseError::new(file, i + 1, "expected `key : value`"));
        };
        seen_field = true;
        match key.trim() {
            "vendor_id" => cpu.vendor = Some(value.trim().to_string()).filter(|v| !v.is_empty()),
            "flags" | "Features" => {
                let mut flags: Vec<String> =
                    value.split_ascii_whitespace().map(str::to_string).collect();
                flags.sort();
                flags.dedup();
                cpu.flags = flags;
            }
            _ => {}
        }
    }
    Ok(cpu)
}

/// Read CPU identity and vulnerability state (runtime roots only).
pub fn collect(root: &Root) -> Source<Cpu> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Cpu, FactError> {
    let path = "/proc/cpuinfo";
    root.require_runtime(path)?;
    let text = root.read_to_string(path)?;
    let mut cpu = parse(&text, path).map_err(|e| FactError::malformed(path, &e))?;
    for name in root.read_dir_optional(VULNERABILITIES)? {
        let file = join(VULNERABILITIES, &name);
        if !root.metadata(&file).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let text = root.read_to_string(&file)?;
        cpu.vulnerabilities.insert(name, text.trim().to_string());
    }
    Ok(cpu)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::fs;

    /// The start of this machine's `/proc/cpuinfo` (two processors).
    const CPUINFO: &str = "processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep nx smep smap pti
bugs\t\t: sysret_ss_attrs null_seg spectre_v1 spectre_v2
power management:

processor\t: 1
vendor_id\t: GenuineIntel
flags\t\t: other
";

    #[test]
    fn first_processor_vendor_and_sorted_flags() {
        let cpu = parse(CPUINFO, "/proc/cpuinfo").unwrap();
        assert_eq!(cpu.vendor.as_deref(), Some("AuthenticAMD"));
        assert_eq!(cpu.flags.first().unwrap(), "apic");
        assert!(cpu.flags.contains(&"nx".to_string()));
        assert!(!cpu.flags.contains(&"other".to_string()));
        assert!(cpu.flags.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn arm64_features_are_flags() {
        let cpu = parse("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd aes\nCPU implementer\t: 0x41\n", "c").unwrap();
        assert_eq!(cpu.vendor, None);
        assert_eq!(cpu.flags, ["aes", "asimd", "fp"]);
    }

    #[test]
    fn line_without_colon_names_file_and_line() {
        let err = parse("processor\t: 0\ngarbage\n", "/proc/cpuinfo").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/proc/cpuinfo", 2));
    }

    #[test]
    fn collect_reads_vulnerability_files() {
        let tmp = tempfile::tempdir().unwrap();
        let vuln = tmp.path().join("sys/devices/system/cpu/vulnerabilities");
        fs::create_dir_all(&vuln).unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(tmp.path().join("proc/cpuinfo"), CPUINFO).unwrap();
        fs::write(vuln.join("meltdown"), "Not affected\n").unwrap();
        fs::write(
            vuln.join("spectre_v2"),
            "Mitigation: Retpolines; IBPB: conditional\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let cpu = collect(&root).ok().cloned().unwrap();
        assert_eq!(cpu.vulnerabilities["meltdown"], "Not affected");
        assert_eq!(
            cpu.vulnerabilities["spectre_v2"],
            "Mitigation: Retpolines; IBPB: conditional"
        );
        let offline = Root::open(tempfile::tempdir().unwrap().path()).unwrap();
        assert_eq!(
            collect(&offline).get().unwrap_err().kind,
            FactErrorKind::Offline
        );
    }
}
