//! Kernel build configuration from `/proc/config.gz` or `/boot/config-<release>`.

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{KConfig, Source};
use crate::root::Root;
use flate2::read::GzDecoder;
use std::collections::BTreeMap;
use std::io::Read;

/// Parse a kernel `.config` into option name (without `CONFIG_`) → value.
///
/// `# CONFIG_X is not set` gives `X → "n"`, so an option set to no differs
/// from one absent from the file. String values lose their quotes and
/// escapes. Other comments and blank lines are skipped; any other line that
/// is not `CONFIG_NAME=value` is an error naming the line.
pub fn parse(text: &str, file: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut options = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(name) = comment
                .trim_start()
                .strip_prefix("CONFIG_")
                .and_then(|r| r.strip_suffix(" is not set"))
                .filter(|n| is_option_name(n))
            {
                options.insert(name.to_string(), "n".to_string());
            }
            continue;
        }
        let Some((name, value)) = line
            .strip_prefix("CONFIG_")
            .and_then(|r| r.split_once('='))
            .filter(|(n, _)| is_option_name(n))
        else {
            return Err(ParseError::new(file, i + 1, "expected CONFIG_NAME=value"));
        };
        let value = unquote(value).map_err(|m| ParseError::new(file, i + 1, m))?;
        options.insert(name.to_string(), value);
    }
    Ok(options)
}

fn is_option_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Kconfig writes strings as `"…"` with `\"` and `\\` escaped.
fn unquote(value: &str) -> Result<String, String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Ok(value.to_string());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => out.push(e),
                None => return Err("unterminated string value".into()),
            },
            '"' => {
                return if chars.as_str().is_empty() {
                    Ok(out)
                } else {
                    Err("text after the closing quote".into())
                };
            }
            other => out.push(other),
        }
    }
    Err("unterminated string value".into())
}

/// Read the kernel configuration: `/proc/config.gz` on a running system,
/// else `/boot/config-<release>`.
pub fn collect(root: &Root, release: Option<&str>) -> Source<KConfig> {
    collect_inner(root, release).into()
}

fn collect_inner(root: &Root, release: Option<&str>) -> Result<KConfig, FactError> {
    let gz = "/proc/config.gz";
    if root.has_runtime() && root.exists(gz) {
        let bytes = root.read(gz)?;
        let mut text = String::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(|e| FactError::new(FactErrorKind::Malformed, gz, format!("gunzip: {e}")))?;
        return from_text(gz, &text);
    }
    let Some(release) = release else {
        return Err(FactError::new(
            FactErrorKind::NotPresent,
            "/boot/config-*",
            "kernel release unknown: no kernel configuration to read",
        ));
    };
    let path = format!("/boot/config-{release}");
    let text = root.read_to_string(&path)?;
    from_text(&path, &text)
}

fn from_text(path: &str, text: &str) -> Result<KConfig, FactError> {
    Ok(KConfig {
        source: path.to_string(),
        options: parse(text, path).map_err(|e| FactError::malformed(path, &e))?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::fs;
    use std::io::Write;

    /// Lines from this machine's `/proc/config.gz` (6.18.44).
    const SAMPLE: &str = r#"#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.18.44 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="gcc (GCC) 15.3.0"
CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION=150300
CONFIG_LOCALVERSION="-fc-v1272"
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_BUILD_SALT="6.1.102-1.182.amzn2023.x86_64"

#
# General setup
#
CONFIG_MODULES=y
# CONFIG_MODULE_SIG is not set
CONFIG_NR_CPUS=512
CONFIG_CMDLINE_TEST="say \"hi\" c:\\x"
CONFIG_ILLEGAL_POINTER_VALUE=0xdead000000000000
"#;

    #[test]
    fn kconfig_not_set_differs_from_absent() {
        let o = parse(SAMPLE, "config").unwrap();
        assert_eq!(o.get("MODULE_SIG").map(String::as_str), Some("n"));
        assert_eq!(o.get("MODULE_SIG_FORCE"), None);
        assert_eq!(o["MODULES"], "y");
    }

    #[test]
    fn kconfig_strings_lose_quotes_and_escapes() {
        let o = parse(SAMPLE, "config").unwrap();
        assert_eq!(o["CC_VERSION_TEXT"], "gcc (GCC) 15.3.0");
        assert_eq!(o["LOCALVERSION"], "-fc-v1272");
        assert_eq!(o["CMDLINE_TEST"], r#"say "hi" c:\x"#);
        assert_eq!(o["NR_CPUS"], "512");
        assert_eq!(o["ILLEGAL_POINTER_VALUE"], "0xdead000000000000");
        assert!(!o.keys().any(|k| k.starts_with("CONFIG_")));
    }

    #[test]
    fn kconfig_garbage_line_names_file_and_line() {
        let err = parse("CONFIG_A=y\n\nnot a config line\n", "/boot/config-6.1").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/boot/config-6.1", 3));
    }

    #[test]
    fn kconfig_unterminated_string_is_an_error() {
        let err = parse("CONFIG_A=\"abc\n", "c").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(parse("CONFIG_=y\n", "c").is_err());
    }

    #[test]
    fn runtime_root_reads_proc_config_gz() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(SAMPLE.as_bytes()).unwrap();
        fs::write(tmp.path().join("proc/config.gz"), enc.finish().unwrap()).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let k = collect(&root, Some("6.18.44")).ok().cloned().unwrap();
        assert_eq!(k.source, "/proc/config.gz");
        assert_eq!(k.options["MODULE_SIG"], "n");
    }

    #[test]
    fn offline_root_reads_boot_config_of_release() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("boot")).unwrap();
        fs::write(
            tmp.path().join("boot/config-6.1.0-13-amd64"),
            "CONFIG_X=m\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let k = collect(&root, Some("6.1.0-13-amd64"))
            .ok()
            .cloned()
            .unwrap();
        assert_eq!(k.source, "/boot/config-6.1.0-13-amd64");
        assert_eq!(k.options["X"], "m");
        let err = collect(&root, None).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::NotPresent);
    }

    #[test]
    fn corrupt_config_gz_is_malformed_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("proc")).unwrap();
        fs::write(tmp.path().join("proc/cmdline"), "quiet\n").unwrap();
        fs::write(tmp.path().join("proc/config.gz"), b"not gzip").unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root, None).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
    }
}
