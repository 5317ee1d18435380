//! Platform settings: mount options.

use super::{Derived, Fix};
use crate::Want;
use tractorsec_facts::{Facts, Mount};
use tractorsec_policy::Matcher;

/// The options a list matcher requires (`contains`, `all` of them).
fn required_options(m: &Matcher) -> Result<Vec<String>, String> {
    match m {
        Matcher::Contains(w) => Ok(vec![w.clone()]),
        Matcher::All(ms) => {
            let mut out = Vec::new();
            for m in ms {
                out.extend(required_options(m)?);
            }
            Ok(out)
        }
        other => Err(format!(
            "the mount options must match `{other}`, a site choice"
        )),
    }
}

/// `MountOptions` adding the missing options to `path`'s fstab entry,
/// effective at the next remount or boot. When `path` is not a separate
/// mount, every required option is listed for a new entry for `path`.
pub(super) fn mount(facts: &Facts, path: &str, expect: &Matcher) -> Derived {
    let required = required_options(expect)?;
    let current: &[String] = match facts.mounts.ok().and_then(|m| Mount::covering(m, path)) {
        Some(m) if m.mount_point == path => &m.options,
        _ => &[],
    };
    let mut add: Vec<String> = Vec::new();
    for o in required {
        if !current.contains(&o) && !add.contains(&o) {
            add.push(o);
        }
    }
    Ok(Fix::after_reboot(vec![Want::MountOptions {
        mount_point: path.to_string(),
        add,
    }]))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{facts, m};
    use super::*;
    use tractorsec_facts::Source;

    fn mnt(point: &str, options: &str) -> Mount {
        Mount {
            mount_point: point.into(),
            root: "/".into(),
            fs_type: "tmpfs".into(),
            source: "tmpfs".into(),
            options: options.split(',').map(str::to_string).collect(),
        }
    }

    #[test]
    fn missing_options_are_added_and_separate_mounts_get_all() {
        let mut f = facts();
        f.mounts = Source::Ok(vec![
            mnt("/", "rw,relatime"),
            mnt("/tmp", "rw,nosuid,relatime"),
        ]);
        let expect = m(
            r#"{"all": [{"contains": "nodev"}, {"contains": "nosuid"}, {"contains": "noexec"}]}"#,
        );
        let want = |p: &str, add: &[&str]| Want::MountOptions {
            mount_point: p.into(),
            add: add.iter().map(|s| s.to_string()).collect(),
        };
        let fix = mount(&f, "/tmp", &expect).unwrap();
        assert_eq!(fix.wants, vec![want("/tmp", &["nodev", "noexec"])]);
        assert!(fix.reboot);
        let fix = mount(&f, "/var/tmp", &expect).unwrap();
        assert_eq!(
            fix.wants,
            vec![want("/var/tmp", &["nodev", "nosuid", "noexec"])]
        );
        let fix = mount(&f, "/", &m(r#"{"contains": "ro"}"#)).unwrap();
        assert_eq!(fix.wants, vec![want("/", &["ro"])]);
        assert!(mount(&f, "/proc", &m(r#"{"regex": "^hidepid=(2|invisible)$"}"#)).is_err());
    }
}
