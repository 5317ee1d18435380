//! modprobe.d configuration, read as kmod reads it.
//!
//! `*.conf` files from the modprobe.d directories (a basename in an earlier
//! directory hides the same basename later; `/dev/null` links and empty
//! files mask), read in basename order.

use crate::collect::confdirs::conf_files;
use crate::error::{FactError, ParseError};
use crate::model::{Modprobe, ModprobeDirective, ModprobeKind, Source};
use crate::root::Root;

/// The modprobe.d directories, highest precedence first.
pub const DIRS: &[&str] = &[
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];

/// Fold `-` to `_` in a module name as kmod does, except inside `[…]`
/// wildcard brackets. An unmatched `[` is an error.
pub fn underscores(name: &str) -> Result<String, String> {
    let mut out = String::with_capacity(name.len());
    let mut in_bracket = false;
    for c in name.chars() {
        match c {
            '[' if !in_bracket => in_bracket = true,
            ']' if in_bracket => in_bracket = false,
            '-' if !in_bracket => {
                out.push('_');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    if in_bracket {
        return Err(format!("unmatched `[` in {name:?}"));
    }
    Ok(out)
}

/// Parse one modprobe.d file into its directives, in order.
///
/// A trailing backslash joins the next line; lines whose first word starts
/// with `#` are comments. `weakdep` lines are accepted and skipped (not part
/// of the model). An unknown directive or a directive missing its
/// arguments is an error naming the file and the line where it starts.
pub fn parse(text: &str, file: &str) -> Result<Vec<ModprobeDirective>, ParseError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, first)) = lines.next() {
        let start = i + 1;
        let mut logical = String::from(first);
        while logical.ends_with('\\') {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next),
                None => break,
            }
        }
        let err = |msg: &str| ParseError::new(file, start, msg.to_string());
        let (cmd, rest) = split_word(&logical);
        if cmd.is_empty() || cmd.starts_with('#') {
            continue;
        }
        let kind = match cmd {
            "blacklist" => ModprobeKind::Blacklist,
            "install" => ModprobeKind::Install,
            "remove" => ModprobeKind::Remove,
            "options" => ModprobeKind::Options,
            "alias" => ModprobeKind::Alias,
            "softdep" => ModprobeKind::Softdep,
            "weakdep" => continue,
            other => return Err(err(&format!("unknown directive `{other}`"))),
        };
        let (module, args) = split_word(rest);
        if module.is_empty() {
            return Err(err(&format!("`{cmd}` needs a module name")));
        }
        let module = underscores(module).map_err(|m| err(&m))?;
        let args = match kind {
            ModprobeKind::Alias => {
                let (target, _) = split_word(args);
                if target.is_empty() {
                    return Err(err("`alias` needs a wildcard and a module name"));
                }
                underscores(target).map_err(|m| err(&m))?
            }
            ModprobeKind::Install | ModprobeKind::Remove | ModprobeKind::Softdep
                if args.is_empty() =>
            {
                return Err(err(&format!("`{cmd}` needs arguments after the module")));
            }
            _ => args.to_string(),
        };
        out.push(ModprobeDirective {
            kind,
            module,
            args,
            file: file.to_string(),
            line: start,
        });
    }
    Ok(out)
}

/// The first whitespace-separated word and the trimmed rest.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => {
            let (w, r) = s.split_at(i);
            (w, r.trim())
        }
        None => (s, ""),
    }
}

/// Read the modprobe.d configuration beneath `root`.
pub fn collect(root: &Root) -> Source<Modprobe> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Modprobe, FactError> {
    let mut out = Modprobe::default();
    for file in conf_files(root, DIRS, ".conf")? {
        let text = root.read_to_string(&file)?;
        let directives = parse(&text, &file).map_err(|e| FactError::malformed(&file, &e))?;
        out.directives.extend(directives);
        out.files.push(file);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::FactErrorKind;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// Debian 12's `/lib/modprobe.d/aliases.conf` (head).
    const ALIASES: &str = "# These are the standard aliases and dependencies.
# This file does not need to be modified.

# prevent unusual drivers from appearing as the first sound device ###########
options snd-pcsp index=-2
options cx88_alsa index=-2

# work around other kernel issues ############################################
softdep uhci-hcd pre: ehci-hcd
";

    #[test]
    fn real_file_options_and_softdep_with_folded_names() {
        let d = parse(ALIASES, "/lib/modprobe.d/aliases.conf").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(
            (d[0].kind, d[0].module.as_str(), d[0].args.as_str()),
            (ModprobeKind::Options, "snd_pcsp", "index=-2")
        );
        assert_eq!(d[0].line, 5);
        assert_eq!(
            (d[2].kind, d[2].module.as_str(), d[2].args.as_str()),
            (ModprobeKind::Softdep, "uhci_hcd", "pre: ehci-hcd")
        );
        assert_eq!(d[2].line, 9);
    }

    #[test]
    fn install_false_and_blacklist_and_continuation() {
        let text = "install cramfs /bin/false\nblacklist usb-storage\ninstall firewire-core \\\n  /bin/true\nalias pci:v000010DEd*sv*sd*bc03sc*i* nvidia-drm\noptions nvidia NVreg_DeviceFileMode=0660 NVreg_RestrictProfilingToAdminUsers=1\n";
        let d = parse(text, "f").unwrap();
        assert_eq!(d[0].kind, ModprobeKind::Install);
        assert_eq!(d[0].args, "/bin/false");
        assert_eq!(
            (d[1].kind, d[1].module.as_str()),
            (ModprobeKind::Blacklist, "usb_storage")
        );
        assert_eq!(
            (d[2].module.as_str(), d[2].args.as_str(), d[2].line),
            ("firewire_core", "/bin/true", 3)
        );
        assert_eq!(
            (d[3].kind, d[3].args.as_str(), d[3].line),
            (ModprobeKind::Alias, "nvidia_drm", 5)
        );
        assert_eq!(
            d[4].args,
            "NVreg_DeviceFileMode=0660 NVreg_RestrictProfilingToAdminUsers=1"
        );
    }

    #[test]
    fn dashes_inside_wildcard_brackets_are_kept() {
        assert_eq!(underscores("snd-[a-z]-x").unwrap(), "snd_[a-z]_x");
        assert!(underscores("a[b-c").is_err());
    }

    #[test]
    fn unknown_directive_names_file_and_line() {
        let err = parse(
            "blacklist a\n# c\nforbid usb-storage\n",
            "/etc/modprobe.d/x.conf",
        )
        .unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/etc/modprobe.d/x.conf", 3));
        assert!(err.message.contains("forbid"), "{err}");
    }

    #[test]
    fn directive_without_arguments_is_an_error() {
        assert_eq!(parse("blacklist\n", "f").unwrap_err().line, 1);
        assert_eq!(parse("\ninstall cramfs\n", "f").unwrap_err().line, 2);
        assert_eq!(parse("alias foo\n", "f").unwrap_err().line, 1);
    }

    #[test]
    fn collect_applies_masking_and_basename_order() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc/modprobe.d")).unwrap();
        fs::create_dir_all(tmp.path().join("lib/modprobe.d")).unwrap();
        fs::write(tmp.path().join("lib/modprobe.d/aliases.conf"), ALIASES).unwrap();
        fs::write(
            tmp.path().join("lib/modprobe.d/systemd.conf"),
            "options bonding max_bonds=0\n",
        )
        .unwrap();
        symlink("/dev/null", tmp.path().join("etc/modprobe.d/systemd.conf")).unwrap();
        fs::write(
            tmp.path().join("etc/modprobe.d/blacklist-fs.conf"),
            "install cramfs /bin/false\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let m = collect(&root).ok().cloned().unwrap();
        assert_eq!(
            m.files,
            [
                "/lib/modprobe.d/aliases.conf",
                "/etc/modprobe.d/blacklist-fs.conf"
            ]
        );
        assert_eq!(m.directives.len(), 4);
        assert_eq!(m.directives[3].module, "cramfs");
    }

    #[test]
    fn collect_reports_malformed_file() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("etc/modprobe.d")).unwrap();
        fs::write(
            tmp.path().join("etc/modprobe.d/bad.conf"),
            "blacklist x\nnonsense y\n",
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let err = collect(&root).get().unwrap_err().clone();
        assert_eq!(err.kind, FactErrorKind::Malformed);
        assert!(err.message.contains("/etc/modprobe.d/bad.conf:2"), "{err}");
    }
}
