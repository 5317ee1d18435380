//! Platform checks: mounts, dm-verity, image drift, provisioning.

use super::outcome::{Context, Outcome};
use crate::matcher::{Matcher, Subject};
use tractorsec_facts::{Facts, Mount};

pub(super) fn mount(facts: &Facts, path: &str, expect: &Matcher) -> Outcome {
    let mounts = match facts.mounts.get() {
        Ok(m) => m,
        Err(e) => return Outcome::missing_required(e),
    };
    let evidence = vec!["/proc/self/mountinfo".to_string()];
    let Some(m) = Mount::covering(mounts, path) else {
        return Outcome::error(format!("no mount covers {path}"), evidence);
    };
    let observed = if m.mount_point == path {
        format!("{path} ({}) {}", m.fs_type, m.options.join(","))
    } else {
        format!(
            "{path} is not a separate mount; {} ({}) {}",
            m.mount_point,
            m.fs_type,
            m.options.join(",")
        )
    };
    Outcome::judge(expect, Subject::List(&m.options), observed, evidence)
}

pub(super) fn dm_verity(facts: &Facts, paths: &[String]) -> Outcome {
    let mounts = match facts.mounts.get() {
        Ok(m) => m,
        Err(e) => return Outcome::missing_required(e),
    };
    let dm = facts.device_mapper.ok();
    let cmdline = facts.kernel.ok().map(|k| &k.cmdline);
    let mut evidence = vec!["/proc/self/mountinfo".to_string(), "/sys/block".to_string()];
    if let Some(c) = cmdline {
        evidence.push(c.source.clone());
    }
    let mut parts = Vec::new();
    for path in paths {
        let hash_param = if path == "/" { "roothash" } else { "usrhash" };
        let on_cmdline = cmdline.is_some_and(|c| c.params.iter().any(|p| p.name == hash_param));
        let verity = Mount::covering(mounts, path)
            .filter(|m| m.mount_point == *path)
            .and_then(|m| {
                let name = m
                    .source
                    .strip_prefix("/dev/mapper/")
                    .or(m.source.strip_prefix("/dev/"))?;
                dm?.iter().find(|d| d.name == name || d.kernel_name == name)
            })
            .filter(|d| d.uuid.starts_with("CRYPT-VERITY-"));
        let observed = match (verity, on_cmdline) {
            (Some(d), _) => format!("{path} on dm-verity {} ({})", d.name, d.uuid),
            (None, true) => format!("{hash_param}= on the kernel command line"),
            (None, false) => format!("{path} is not on dm-verity"),
        };
        parts.push(Outcome::verdict(
            verity.is_some() || on_cmdline,
            observed,
            format!("{path} on dm-verity"),
            Vec::new(),
        ));
    }
    let mut out = Outcome::all(parts);
    out.evidence = evidence;
    out
}

pub(super) fn image_drift(facts: &Facts, manifest: &str, pubkey: &str) -> Outcome {
    if manifest.is_empty() || pubkey.is_empty() {
        return Outcome::not_applicable(
            "no sealed manifest configured (params manifest and pubkey)",
            Vec::new(),
        );
    }
    let evidence = vec![manifest.to_string(), pubkey.to_string()];
    let expected = "signature valid; no entry added, removed or changed".to_string();
    let check = match facts.image.get() {
        Ok(c) if c.manifest == manifest => c,
        Ok(c) => {
            return Outcome::error(
                format!("the snapshot checked {}, not {manifest}", c.manifest),
                evidence,
            );
        }
        Err(e) => return Outcome::error(e.to_string(), evidence),
    };
    if !check.signature_valid {
        return Outcome::verdict(
            false,
            format!("manifest signature rejected: {}", check.signature),
            expected,
            evidence,
        );
    }
    let drift = check.added + check.removed + check.changed + check.errors;
    let mut observed = format!(
        "{} entries; added {}, removed {}, changed {}, unreadable {}",
        check.entries, check.added, check.removed, check.changed, check.errors
    );
    if !check.first.is_empty() {
        observed.push_str(": ");
        observed.push_str(&check.first.join("; "));
    }
    Outcome::verdict(drift == 0, observed, expected, evidence)
}

pub(super) fn profile_hash(ctx: &Context<'_>, expected: &str) -> Outcome {
    if expected.is_empty() {
        return Outcome::not_applicable(
            "no expected profile hash configured (param expected_profile)",
            Vec::new(),
        );
    }
    let actual = &ctx.profile.hash;
    Outcome::verdict(
        actual == expected,
        format!("profile {actual}"),
        expected.to_string(),
        Vec::new(),
    )
}
