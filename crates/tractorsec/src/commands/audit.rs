//! `tractorsec audit`: evaluate a profile and report.

use crate::cli::{AuditArgs, FailOn, Format};
use crate::output::Output;
use anyhow::Result;
use std::process::ExitCode;
use std::time::Instant;
use tractorsec_policy::{Severity, evaluate_with};
use tractorsec_report::{
    Report, TextOptions, render_html, render_json, render_junit, render_ocsf, render_prometheus,
    render_sarif, render_text,
};

/// Collect (or load) facts, evaluate, render, and map failures to exit 1.
pub fn run(args: AuditArgs, out: &Output) -> Result<ExitCode> {
    let started = Instant::now();
    let (profile, waivers) = super::judge(&args.judge)?;
    let mut clock = Clock::new(args.timings);
    let mut facts = match &args.source.facts {
        Some(path) => super::load_facts(path)?,
        None => {
            let root = super::open_root(args.source.root.as_deref())?;
            let _progress = out.progress("collecting facts");
            super::facts::collect(&root)
        }
    };
    if args.source.facts.is_none() {
        check_image(&mut facts, &profile, args.source.root.as_deref());
    }
    clock.lap("collect");
    let today = tractorsec_facts::collect::time::today();
    let findings = evaluate_with(&profile, &facts, &waivers, &today);
    let failed = match args.fail_on {
        FailOn::Info => findings.fails_at(Severity::Info),
        FailOn::Low => findings.fails_at(Severity::Low),
        FailOn::Medium => findings.fails_at(Severity::Medium),
        FailOn::High => findings.fails_at(Severity::High),
        FailOn::Critical => findings.fails_at(Severity::Critical),
        FailOn::Never => false,
    };
    clock.lap("evaluate");
    let overrides = profile
        .overrides
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    let report = Report::new(&facts, overrides, findings);
    let scan_seconds = started.elapsed().as_secs_f64();
    let text = match args.format {
        Format::Json => render_json(&report),
        Format::Sarif => render_sarif(&report, &profile),
        Format::Junit => render_junit(&report),
        Format::Prometheus => render_prometheus(&report, scan_seconds),
        Format::Html => render_html(&report),
        Format::Ocsf => render_ocsf(&report),
        Format::Text => render_text(
            &report,
            TextOptions {
                color: out.to_terminal() && std::env::var_os("NO_COLOR").is_none(),
                verbose: args.verbose,
            },
        ),
    };
    clock.lap("render");
    out.emit(&text)?;
    if let Some(key) = &args.sign {
        let host = report.host.as_ref().and_then(|h| h.hostname.as_deref());
        let profile = format!("{} {}", report.profile.name, report.profile.hash);
        let comment =
            super::signing::trusted_comment("audit", host, Some(&profile), &report.collected_at);
        super::signing::sign_output(key, out, &comment)?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Phase timings for `--timings`, printed to stderr.
struct Clock {
    last: Option<Instant>,
}

impl Clock {
    fn new(on: bool) -> Clock {
        Clock {
            last: on.then(Instant::now),
        }
    }

    fn lap(&mut self, phase: &str) {
        if let Some(last) = self.last {
            eprintln!(
                "timing {phase} {:.3} ms",
                last.elapsed().as_secs_f64() * 1000.0
            );
            self.last = Some(Instant::now());
        }
    }
}

/// Check the tree against the sealed manifest that an enabled
/// `image_drift` control of the profile names (params `manifest`,
/// `pubkey`), so the control can judge it.
fn check_image(
    facts: &mut tractorsec_facts::Facts,
    profile: &tractorsec_policy::Profile,
    root: Option<&std::path::Path>,
) {
    let wanted = profile
        .controls
        .iter()
        .filter(|c| c.enabled)
        .find_map(|c| match &c.check {
            tractorsec_policy::Check::ImageDrift { manifest, pubkey }
                if !manifest.is_empty() && !pubkey.is_empty() =>
            {
                Some((manifest.clone(), pubkey.clone()))
            }
            _ => None,
        });
    if let Some((manifest, pubkey)) = wanted {
        let root = root.unwrap_or(std::path::Path::new("/"));
        facts.image = super::seal::image_check(root, &manifest, &pubkey);
    }
}
