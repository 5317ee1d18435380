//! journald's effective configuration: `journald.conf`, then drop-ins.

use crate::collect::confdirs::conf_files;
use crate::error::{FactError, ParseError};
use crate::model::{Journald, Source};
use crate::root::Root;
use std::collections::BTreeMap;

/// The main configuration file.
pub const JOURNALD_CONF: &str = "/etc/systemd/journald.conf";
/// Drop-in directories, highest precedence first.
pub const DROPIN_DIRS: &[&str] = &[
    "/etc/systemd/journald.conf.d",
    "/run/systemd/journald.conf.d",
    "/usr/local/lib/systemd/journald.conf.d",
    "/usr/lib/systemd/journald.conf.d",
];
/// Persistent journal directory.
pub const VAR_LOG_JOURNAL: &str = "/var/log/journal";

/// The `[Journal]` assignments of one file, in order (`#`/`;` comments,
/// other sections skipped). A line outside any section, or without `=`
/// inside `[Journal]`, is an error naming `file:line`.
pub fn parse(text: &str, file: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut out = Vec::new();
    let mut section: Option<bool> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(name) = header.strip_suffix(']') else {
                return Err(ParseError::new(
                    file,
                    index + 1,
                    "section header without ']'",
                ));
            };
            section = Some(name == "Journal");
            continue;
        }
        match section {
            None => {
                return Err(ParseError::new(
                    file,
                    index + 1,
                    "assignment outside of a section",
                ));
            }
            Some(false) => continue,
            Some(true) => {}
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ParseError::new(
                file,
                index + 1,
                "expected Key=Value, missing '='",
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ParseError::new(file, index + 1, "empty key"));
        }
        out.push((key.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// Read journald's effective `[Journal]` settings beneath the root.
pub fn collect(root: &Root) -> Source<Journald> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Journald, FactError> {
    let mut files = Vec::new();
    if root.read_optional(JOURNALD_CONF)?.is_some() {
        files.push(JOURNALD_CONF.to_string());
    }
    files.extend(conf_files(root, DROPIN_DIRS, ".conf")?);
    let mut settings = BTreeMap::new();
    for file in &files {
        let text = root.read_to_string(file)?;
        for (key, value) in parse(&text, file).map_err(|e| FactError::malformed(file, &e))? {
            // An empty assignment restores the default.
            if value.is_empty() {
                settings.remove(&key);
            } else {
                settings.insert(key, value);
            }
        }
    }
    Ok(Journald {
        files,
        settings,
        var_log_journal: root.metadata(VAR_LOG_JOURNAL).is_ok_and(|m| m.is_dir()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// Debian 13's shipped journald.conf (all commented out).
    const DEBIAN: &str = "#  This file is part of systemd.
#
# Entries in this file show the compile time defaults. Local configuration
# should be created by either modifying this file (or a copy of it placed in
# /etc/ if the original file is shipped in /usr/), or by creating \"drop-ins\" in
# the /etc/systemd/journald.conf.d/ directory.

[Journal]
#Storage=auto
#Compress=yes
#Seal=yes
#SplitMode=uid
#ForwardToSyslog=no
";

    #[test]
    fn journald_commented_defaults_give_no_settings() {
        assert!(parse(DEBIAN, JOURNALD_CONF).unwrap().is_empty());
    }

    #[test]
    fn journald_only_journal_section_is_kept() {
        let kv = parse(
            "[Journal]\nStorage=persistent\n[Other]\nStorage=none\n",
            "f",
        )
        .unwrap();
        assert_eq!(kv, [("Storage".to_string(), "persistent".to_string())]);
    }

    #[test]
    fn journald_malformed_lines_name_file_and_line() {
        let err = parse("Storage=auto\n", "/etc/systemd/journald.conf").unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.line),
            ("/etc/systemd/journald.conf", 1)
        );
        let err = parse("[Journal]\n\nStorage persistent\n", "f").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("[Journal\n", "f").unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn journald_dropins_override_main_file_last_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        for d in [
            "etc/systemd/journald.conf.d",
            "usr/lib/systemd/journald.conf.d",
            "run/systemd/journald.conf.d",
            "var/log/journal",
        ] {
            fs::create_dir_all(t.join(d)).unwrap();
        }
        fs::write(
            t.join("etc/systemd/journald.conf"),
            "[Journal]\nStorage=volatile\nCompress=no\nSeal=no\n",
        )
        .unwrap();
        fs::write(
            t.join("usr/lib/systemd/journald.conf.d/10-vendor.conf"),
            "[Journal]\nStorage=auto\nSeal=\n",
        )
        .unwrap();
        fs::write(
            t.join("run/systemd/journald.conf.d/20-x.conf"),
            "[Journal]\nCompress=yes\n",
        )
        .unwrap();
        fs::write(
            t.join("usr/lib/systemd/journald.conf.d/20-x.conf"),
            "[Journal]\nCompress=never\n",
        )
        .unwrap();
        fs::write(
            t.join("etc/systemd/journald.conf.d/90-persist.conf"),
            "[Journal]\nStorage=persistent\n",
        )
        .unwrap();
        symlink(
            "/dev/null",
            t.join("etc/systemd/journald.conf.d/95-masked.conf"),
        )
        .unwrap();
        fs::write(
            t.join("usr/lib/systemd/journald.conf.d/95-masked.conf"),
            "[Journal]\nStorage=none\n",
        )
        .unwrap();
        let root = Root::open(t).unwrap();
        let j = collect(&root).ok().unwrap().clone();
        assert_eq!(
            j.files,
            [
                JOURNALD_CONF,
                "/usr/lib/systemd/journald.conf.d/10-vendor.conf",
                "/run/systemd/journald.conf.d/20-x.conf",
                "/etc/systemd/journald.conf.d/90-persist.conf",
            ]
        );
        assert_eq!(j.settings["Storage"], "persistent");
        assert_eq!(j.settings["Compress"], "yes");
        assert!(!j.settings.contains_key("Seal"));
        assert!(j.var_log_journal);
    }

    #[test]
    fn journald_without_files_is_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let j = collect(&root).ok().unwrap().clone();
        assert!(j.files.is_empty() && j.settings.is_empty() && !j.var_log_journal);
    }
}
