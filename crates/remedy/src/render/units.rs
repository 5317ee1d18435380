//! systemd units: a mask is `/etc/systemd/system/<unit>` → `/dev/null`; an
//! enabled unit is `/etc/systemd/system/<target>.wants/<unit>` → its file.

use super::{RenderError, bad};
use crate::{Change, Desired, Want};

/// Where unit links go.
const DIR: &str = "/etc/systemd/system";

/// The links for the mask and enable wants.
pub(super) fn render(wants: &[Want]) -> Result<Vec<Change>, RenderError> {
    let mut changes = Vec::new();
    for want in wants {
        let (path, target) = match want {
            Want::MaskUnit { unit } => {
                check_unit(unit)?;
                (format!("{DIR}/{unit}"), "/dev/null".to_owned())
            }
            Want::EnableUnit {
                unit,
                unit_path,
                wanted_by,
            } => {
                check_unit(unit)?;
                check_unit(wanted_by)?;
                let path = format!("{DIR}/{wanted_by}.wants/{unit}");
                if !unit_path.starts_with('/')
                    || unit_path.contains(['\n', '\0'])
                    || unit_path.split('/').any(|p| p == "..")
                {
                    return Err(bad(
                        &path,
                        "unit file path",
                        unit_path,
                        "not an absolute path",
                    ));
                }
                (path, unit_path.clone())
            }
            _ => continue,
        };
        let change = Change::Put {
            path,
            desired: Desired::Symlink { target },
        };
        if !changes.contains(&change) {
            changes.push(change);
        }
    }
    Ok(changes)
}

/// A unit name that is one path component.
fn check_unit(unit: &str) -> Result<(), RenderError> {
    if super::is_word(unit, "@._-:\\") && unit.contains('.') && !unit.starts_with('.') {
        Ok(())
    } else {
        Err(bad(DIR, "unit", unit, "not a unit name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_and_enable_links() {
        let wants = [
            Want::MaskUnit {
                unit: "avahi-daemon.service".into(),
            },
            Want::EnableUnit {
                unit: "auditd.service".into(),
                unit_path: "/lib/systemd/system/auditd.service".into(),
                wanted_by: "multi-user.target".into(),
            },
            Want::MaskUnit {
                unit: "avahi-daemon.service".into(),
            },
        ];
        assert_eq!(
            render(&wants).unwrap(),
            [
                Change::Put {
                    path: "/etc/systemd/system/avahi-daemon.service".into(),
                    desired: Desired::Symlink {
                        target: "/dev/null".into()
                    }
                },
                Change::Put {
                    path: "/etc/systemd/system/multi-user.target.wants/auditd.service".into(),
                    desired: Desired::Symlink {
                        target: "/lib/systemd/system/auditd.service".into()
                    }
                },
            ]
        );
    }

    #[test]
    fn refuses_paths_as_units() {
        for unit in ["../../etc/passwd", "a/b.service", "", "noext"] {
            let err = render(&[Want::MaskUnit { unit: unit.into() }]).unwrap_err();
            assert!(matches!(err, RenderError::BadValue { .. }), "{unit}: {err}");
        }
        let err = render(&[Want::EnableUnit {
            unit: "a.service".into(),
            unit_path: "relative/a.service".into(),
            wanted_by: "multi-user.target".into(),
        }])
        .unwrap_err();
        assert!(matches!(err, RenderError::BadValue { .. }), "{err}");
    }
}
