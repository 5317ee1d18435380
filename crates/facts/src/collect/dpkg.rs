//! Installed Debian packages from dpkg's status database.

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{Packages, Source};
use crate::root::Root;
use std::collections::BTreeMap;

/// dpkg's database of package states.
pub const STATUS: &str = "/var/lib/dpkg/status";

/// One stanza being read.
#[derive(Default)]
struct Stanza<'a> {
    start: usize,
    package: Option<&'a str>,
    version: Option<&'a str>,
    installed: bool,
}

impl<'a> Stanza<'a> {
    fn finish(
        self,
        file: &str,
        installed: &mut BTreeMap<String, String>,
    ) -> Result<(), ParseError> {
        if self.start == 0 || !self.installed {
            return Ok(());
        }
        let Some(package) = self.package else {
            return Err(ParseError::new(
                file,
                self.start,
                "installed stanza without Package",
            ));
        };
        let Some(version) = self.version else {
            return Err(ParseError::new(
                file,
                self.start,
                format!("installed package {package} without Version"),
            ));
        };
        installed.insert(package.to_string(), version.to_string());
        Ok(())
    }
}

/// True for a `Status:` value of an installed package: want `install` or
/// `hold`, flag `ok`, state `installed`.
pub fn is_installed(status: &str) -> bool {
    let mut words = status.split_whitespace();
    matches!(
        (words.next(), words.next(), words.next(), words.next()),
        (
            Some("install" | "hold"),
            Some("ok"),
            Some("installed"),
            None
        )
    )
}

/// Parse dpkg status text into installed package → version. Stanzas are
/// separated by blank lines; continuation lines (starting with a space or
/// tab) are skipped. A field line without `:` is an error naming
/// `file:line`.
pub fn parse(text: &str, file: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let mut installed = BTreeMap::new();
    let mut stanza = Stanza::default();
    for (index, line) in text.lines().enumerate() {
        let first = line.as_bytes().first().copied();
        match first {
            Some(b' ' | b'\t') => continue,
            None => {
                std::mem::take(&mut stanza).finish(file, &mut installed)?;
                continue;
            }
            _ => {}
        }
        if stanza.start == 0 {
            stanza.start = index + 1;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ParseError::new(file, index + 1, "expected `Field: value`"));
        };
        let value = value.trim();
        match name {
            "Package" => stanza.package = Some(value),
            "Version" => stanza.version = Some(value),
            "Status" => stanza.installed = is_installed(value),
            _ => {}
        }
    }
    stanza.finish(file, &mut installed)?;
    Ok(installed)
}

/// Read the installed packages of the root.
pub fn collect(root: &Root) -> Source<Packages> {
    let packages = || -> Result<Packages, FactError> {
        let text = match root.read_to_string(STATUS) {
            Ok(t) => t,
            Err(e) if e.kind == FactErrorKind::NotPresent => {
                return Err(FactError::new(
                    FactErrorKind::NotPresent,
                    STATUS,
                    "no dpkg database (not a Debian-family system)",
                ));
            }
            Err(e) => return Err(e),
        };
        let installed = parse(&text, STATUS).map_err(|e| FactError::malformed(STATUS, &e))?;
        Ok(Packages {
            source: STATUS.to_string(),
            installed,
        })
    };
    packages().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    /// The head of this Debian 13 host's status file, plus edge cases.
    const REAL: &str = "Package: adduser
Status: install ok installed
Priority: important
Section: admin
Installed-Size: 686
Maintainer: Debian Adduser Developers <adduser@packages.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 3.134
Depends: passwd
Suggests: liblocale-gettext-perl, perl, cron, quota
Conffiles:
 /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18
 /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands for creating
 and removing users.
 .
 Version: 9.9 (not a field: a continuation line)

Package: openssh-server
Status: hold ok installed
Version: 1:10.0p1-7
Description: secure shell (SSH) server
 Package: fake

Package: telnetd
Status: deinstall ok config-files
Version: 0.17+2.5-3

Package: half
Status: install reinstreq half-installed
Version: 1.0
";

    #[test]
    fn dpkg_installed_and_held_packages_with_versions() {
        let p = parse(REAL, STATUS).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p["adduser"], "3.134");
        assert_eq!(p["openssh-server"], "1:10.0p1-7");
        assert!(!p.contains_key("telnetd"));
        assert!(!p.contains_key("fake"));
    }

    #[test]
    fn dpkg_field_without_colon_names_file_and_line() {
        let err = parse(
            "Package: a\nStatus: install ok installed\nVersion 1\n",
            STATUS,
        )
        .unwrap_err();
        assert_eq!((err.file.as_str(), err.line), (STATUS, 3));
    }

    #[test]
    fn dpkg_installed_without_version_names_stanza_start() {
        let err = parse(
            "Package: a\nVersion: 1\n\n\nPackage: b\nStatus: install ok installed\n",
            STATUS,
        )
        .unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err.message.contains('b'));
    }

    #[test]
    fn dpkg_status_words_must_match_exactly() {
        assert!(is_installed("install ok installed"));
        assert!(is_installed("hold  ok installed"));
        assert!(!is_installed("install ok installed extra"));
        assert!(!is_installed("purge ok not-installed"));
        assert!(!is_installed(""));
    }

    #[test]
    fn dpkg_absent_is_not_present() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(
            collect(&root).get().unwrap_err().kind,
            FactErrorKind::NotPresent
        );
        fs::create_dir_all(tmp.path().join("var/lib/dpkg")).unwrap();
        fs::write(tmp.path().join("var/lib/dpkg/status"), REAL).unwrap();
        let packages = collect(&root).ok().unwrap().clone();
        assert_eq!(packages.source, STATUS);
        assert_eq!(packages.installed.len(), 2);
    }
}
