//! `tractorsec diff`: what changed between two reports or two snapshots.

use crate::cli::{DiffArgs, PlainFormat};
use crate::output::Output;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;
use tractorsec_facts::Facts;
use tractorsec_policy::{Profile, Waivers, evaluate_with};
use tractorsec_report::{Report, diff_reports, render_diff_json, render_diff_text};

/// One input: a report, or a snapshot judged into a report.
enum Input {
    Report(Box<Report>),
    Snapshot(Box<Facts>),
}

fn read(path: &Path) -> Result<Input> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not JSON: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if value.get("findings").is_some() {
        let report = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a tractorsec report: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        Ok(Input::Report(Box::new(report)))
    } else {
        Ok(Input::Snapshot(Box::new(super::parse_facts(path, &text)?)))
    }
}

fn report(facts: &Facts, profile: &Profile, waivers: &Waivers) -> Report {
    let today = tractorsec_facts::collect::time::today();
    let findings = evaluate_with(profile, facts, waivers, &today);
    let overrides = profile
        .overrides
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    Report::new(facts, overrides, findings)
}

/// Compare OLD and NEW; exit 1 when a control newly fails.
pub fn run(args: DiffArgs, out: &Output) -> Result<ExitCode> {
    let diff = match (read(&args.old)?, read(&args.new)?) {
        (Input::Report(old), Input::Report(new)) => diff_reports(&old, &new, None),
        (Input::Snapshot(old), Input::Snapshot(new)) => {
            let (profile, waivers) = super::judge(&args.judge)?;
            let (a, b) = (serde_json::to_value(&old)?, serde_json::to_value(&new)?);
            diff_reports(
                &report(&old, &profile, &waivers),
                &report(&new, &profile, &waivers),
                Some((&a, &b)),
            )
        }
        _ => bail!(
            "{} and {} are not of the same kind: give two JSON reports or two snapshots",
            args.old.display(),
            args.new.display()
        ),
    };
    out.emit(&match args.format {
        PlainFormat::Text => render_diff_text(&diff),
        PlainFormat::Json => render_diff_json(&diff),
    })?;
    Ok(if diff.newly_failing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
