//! `/etc/modprobe.d/60-tractorsec.conf`: `blacklist M` and
//! `install M /bin/false` for each module turned off, and one
//! `options nvidia NVreg_A=.. NVreg_B=..` line, all sorted and merged with
//! what the file already holds.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    ReadRoot, RenderError, bad, check_line, format_param, insert_once, is_word, numbered,
    owned_file, param_spans, split_param,
};
use crate::{Change, Want};

/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/modprobe.d/60-tractorsec.conf";

/// The module whose options tractorsec sets.
const NVIDIA: &str = "nvidia";

/// The drop-in for the module and NVIDIA option wants.
pub(super) fn render(wants: &[Want], root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut modules = BTreeSet::new();
    let mut options = BTreeMap::new();
    for want in wants {
        match want {
            Want::ModuleOff { module } => {
                if !is_word(module, "_-") {
                    return Err(bad(PATH, "module", module, "not a module name"));
                }
                modules.insert(module.clone());
            }
            Want::NvidiaOption { name, value } => {
                if !is_word(name, "_") {
                    return Err(bad(PATH, "NVIDIA option", name, "not a parameter name"));
                }
                check_line(PATH, &format!("value of NVreg_{name}"), value, false)?;
                if value.contains('"') {
                    return Err(bad(PATH, "value of NVreg_", value, "contains a quote"));
                }
                insert_once(&mut options, name.clone(), value.clone(), PATH)?;
            }
            _ => {}
        }
    }
    if modules.is_empty() && options.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(text) = root.read(PATH) {
        let (old_modules, mut old_options) = parse(&text)?;
        modules.extend(old_modules);
        old_options.extend(options);
        options = old_options;
    }
    let mut body = String::new();
    for module in &modules {
        body.push_str(&format!(
            "blacklist {module}\ninstall {module} /bin/false\n"
        ));
    }
    if !options.is_empty() {
        body.push_str("options ");
        body.push_str(NVIDIA);
        for (name, value) in &options {
            body.push(' ');
            body.push_str(&format_param(&format!("NVreg_{name}"), value, false));
        }
        body.push('\n');
    }
    Ok(vec![owned_file(PATH, &body)])
}

/// Modules and NVIDIA options (names without `NVreg_`) in the drop-in.
type Parsed = (BTreeSet<String>, BTreeMap<String, String>);

/// What an earlier version of the drop-in holds.
fn parse(text: &str) -> Result<Parsed, RenderError> {
    let mut modules = BTreeSet::new();
    let mut options = BTreeMap::new();
    for (n, line) in numbered(text) {
        let error = |reason: &str| RenderError::Line {
            path: PATH.into(),
            line: n,
            reason: reason.into(),
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("blacklist" | "install"), Some(module)) => {
                modules.insert(module.to_owned());
            }
            (Some("options"), Some(NVIDIA)) => {
                let rest = line
                    .split_once(NVIDIA)
                    .map(|(_, rest)| rest)
                    .unwrap_or_default();
                for (start, end) in param_spans(rest) {
                    let (name, value) = split_param(&rest[start..end]);
                    let Some(name) = name.strip_prefix("NVreg_") else {
                        return Err(error("an nvidia option without the NVreg_ prefix"));
                    };
                    options.insert(name.to_owned(), value.unwrap_or_default().to_owned());
                }
            }
            _ => return Err(error("not a line tractorsec writes")),
        }
    }
    Ok((modules, options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, root};

    fn off(module: &str) -> Want {
        Want::ModuleOff {
            module: module.into(),
        }
    }

    fn nv(name: &str, value: &str) -> Want {
        Want::NvidiaOption {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn modules_sorted_then_one_options_line() {
        let wants = [
            nv("DeviceFileMode", "0660"),
            off("usb-storage"),
            off("cramfs"),
            nv("DeviceFileGID", "44"),
        ];
        let changes = render(&wants, &root(&[])).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}blacklist cramfs\ninstall cramfs /bin/false\n\
                 blacklist usb-storage\ninstall usb-storage /bin/false\n\
                 options nvidia NVreg_DeviceFileGID=44 NVreg_DeviceFileMode=0660\n"
            )
        );
    }

    #[test]
    fn merges_modules_and_options() {
        let r = root(&[(
            PATH,
            "blacklist dccp\ninstall dccp /bin/false\noptions nvidia NVreg_DeviceFileMode=0666 NVreg_X=\"a b\"\n",
        )]);
        let changes = render(&[off("atm"), nv("DeviceFileMode", "0660")], &r).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!(
                "{HEADER}blacklist atm\ninstall atm /bin/false\nblacklist dccp\ninstall dccp /bin/false\n\
                 options nvidia NVreg_DeviceFileMode=0660 NVreg_X=\"a b\"\n"
            )
        );
    }

    #[test]
    fn second_render_is_identical() {
        let wants = [off("cramfs"), nv("RestrictProfilingToAdminUsers", "1")];
        let first = render(&wants, &root(&[])).unwrap();
        assert_eq!(render(&wants, &applied(root(&[]), &first)).unwrap(), first);
        let only_module = render(&wants[..1], &applied(root(&[]), &first)).unwrap();
        assert_eq!(only_module, first);
    }

    #[test]
    fn refuses_foreign_lines_and_bad_names() {
        let r = root(&[(PATH, "alias foo bar\n")]);
        let err = render(&[off("cramfs")], &r).unwrap_err();
        assert!(matches!(err, RenderError::Line { line: 1, .. }), "{err}");
        let err = render(&[off("cramfs; rm")], &root(&[])).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
        let err = render(&[nv("A", "1\ninstall x /bin/sh")], &root(&[])).unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
    }
}
