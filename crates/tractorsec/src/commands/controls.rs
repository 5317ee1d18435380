//! `tractorsec controls`: browse the catalogue.

use crate::cli::{ControlsAction, ControlsArgs, PlainFormat};
use crate::output::Output;
use anyhow::{Result, bail};
use std::fmt::Write;
use std::process::ExitCode;
use tractorsec_policy::{Control, Profile};

/// List the controls, or show one.
pub fn run(args: ControlsArgs, out: &Output) -> Result<ExitCode> {
    let profile = Profile::load(&args.profile)?;
    let text = match args.action.unwrap_or(ControlsAction::List {
        format: PlainFormat::Text,
    }) {
        ControlsAction::List {
            format: PlainFormat::Text,
        } => list(&profile),
        ControlsAction::List {
            format: PlainFormat::Json,
        } => {
            let rows: Vec<serde_json::Value> = profile.controls.iter().map(control_json).collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        }
        ControlsAction::Show { id } => match profile.control(&id) {
            Some(c) => show(c)?,
            None => bail!(
                "profile {} has no control {id:?} (see `tractorsec controls list`)",
                profile.name
            ),
        },
    };
    out.emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn list(profile: &Profile) -> String {
    let mut out = String::new();
    let width = profile
        .controls
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0);
    for c in &profile.controls {
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<8}  {}",
            c.id,
            c.section.as_str(),
            c.severity.as_str(),
            c.title
        );
    }
    let _ = writeln!(
        out,
        "{} controls in profile {} [{}]",
        profile.controls.len(),
        profile.name,
        profile.hash
    );
    out
}

fn control_json(c: &Control) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "title": c.title,
        "section": c.section,
        "severity": c.severity,
        "rationale": c.rationale,
        "references": c.references,
        "perf": c.perf,
        "fix": c.fix,
        "check": c.check,
    })
}

fn show(c: &Control) -> Result<String> {
    let mut out = String::new();
    writeln!(out, "{}\n  {}\n", c.id, c.title)?;
    writeln!(out, "section:    {}", c.section.title())?;
    writeln!(out, "severity:   {}", c.severity)?;
    writeln!(out, "rationale:  {}", c.rationale)?;
    writeln!(out, "references: {}", c.references.join("; "))?;
    writeln!(
        out,
        "perf:       {:?}{}",
        c.perf.level,
        if c.perf.note.is_empty() {
            String::new()
        } else {
            format!(": {}", c.perf.note)
        }
    )?;
    let fix_tags = match (c.fix.auto, c.fix.reboot) {
        (true, true) => " [auto-fix, reboot]",
        (true, false) => " [auto-fix]",
        (false, true) => " [manual, reboot]",
        (false, false) => " [manual]",
    };
    writeln!(out, "fix:{fix_tags} {}", c.fix.hint)?;
    #[derive(serde::Serialize)]
    struct Wrap<'a> {
        check: &'a tractorsec_policy::Check,
    }
    writeln!(
        out,
        "check:\n{}",
        toml::to_string_pretty(&Wrap { check: &c.check })
            .unwrap_or_default()
            .trim_end()
    )?;
    Ok(out)
}
