//! `/etc/systemd/journald.conf.d/60-tractorsec.conf`: `[Journal]` then
//! `Key=value` lines sorted by key, merged with the file's earlier settings.

use std::collections::BTreeMap;

use super::{ReadRoot, RenderError, bad, check_line, insert_once, is_word, owned_file};
use crate::{Change, Want};

/// The file tractorsec owns.
pub(super) const PATH: &str = "/etc/systemd/journald.conf.d/60-tractorsec.conf";

/// The drop-in for the journald wants.
pub(super) fn render(wants: &[Want], root: &dyn ReadRoot) -> Result<Vec<Change>, RenderError> {
    let mut wanted = BTreeMap::new();
    for want in wants {
        if let Want::Journald { key, value } = want {
            if !is_word(key, "") {
                return Err(bad(PATH, "journald key", key, "not a key"));
            }
            check_line(PATH, &format!("value of {key}"), value, false)?;
            insert_once(&mut wanted, key.clone(), value.trim().to_owned(), PATH)?;
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut all = match root.read(PATH) {
        Some(text) => super::parse_settings(
            PATH,
            &text,
            Some("[Journal]"),
            "not a `Key=value` line of [Journal]",
        )?,
        None => BTreeMap::new(),
    };
    all.extend(wanted);
    let body: String = all.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    Ok(vec![owned_file(PATH, &format!("[Journal]\n{body}"))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::HEADER;
    use crate::render::tests::{applied, content, root};

    fn want(key: &str, value: &str) -> Want {
        Want::Journald {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn section_then_sorted_keys_merged() {
        let r = root(&[(PATH, "[Journal]\nCompress=yes\nStorage=volatile\n")]);
        let wants = [want("Storage", "persistent"), want("ForwardToSyslog", "no")];
        let changes = render(&wants, &r).unwrap();
        assert_eq!(
            content(&changes, PATH).unwrap(),
            format!("{HEADER}[Journal]\nCompress=yes\nForwardToSyslog=no\nStorage=persistent\n")
        );
        assert_eq!(render(&wants, &applied(r, &changes)).unwrap(), changes);
    }

    #[test]
    fn refuses_other_sections() {
        let r = root(&[(PATH, "[Journal]\nA=b\n[Other]\nB=c\n")]);
        let err = render(&[want("Storage", "persistent")], &r).unwrap_err();
        assert!(matches!(err, RenderError::Line { line: 3, .. }), "{err}");
    }
}
