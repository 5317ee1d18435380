//! `tractorsec apply`, `rollback` and `transactions`: fix failing controls
//! as journaled transactions beneath a root, and undo them.

use crate::cli::{ApplyArgs, PlainFormat, RollbackArgs};
use crate::output::Output;
use anyhow::Result;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;
use tractorsec_facts::Facts;
use tractorsec_policy::{Findings, Profile, Status, Waivers, evaluate_with};
use tractorsec_remedy::{ManualStep, Plan, Recovered, RootDir, Which};

/// What `apply` did, for people or JSON.
#[derive(Serialize)]
struct Applied {
    recovered: Vec<Recovered>,
    transaction: Option<String>,
    changes: usize,
    fixed: Vec<String>,
    still_failing: Vec<String>,
    after_reboot: Vec<String>,
    manual: Vec<ManualStep>,
}

fn open(root: Option<&Path>) -> Result<RootDir> {
    Ok(RootDir::open(root.unwrap_or(Path::new("/")))?)
}

fn judge(root: &tractorsec_facts::Root, profile: &Profile, waivers: &Waivers) -> (Facts, Findings) {
    let facts = tractorsec_facts::collect::collect(root);
    let today = tractorsec_facts::collect::time::today();
    let findings = evaluate_with(profile, &facts, waivers, &today);
    (facts, findings)
}

fn recovered_notes(out: &Output, recovered: &[Recovered]) {
    for r in recovered {
        out.note(&format!(
            "recovered transaction {} (found {:?}): rolled back",
            r.id, r.found
        ));
    }
}

/// Plan, then apply as one transaction (or print the plan), then audit
/// again and say what passes now.
pub fn run(args: ApplyArgs, out: &Output) -> Result<ExitCode> {
    let (profile, waivers) = super::judge(&args.judge)?;
    let dir = open(args.root.as_deref())?;
    let recovered = if args.dry_run {
        Vec::new()
    } else {
        tractorsec_remedy::recover(&dir)?
    };
    recovered_notes(out, &recovered);
    let root = super::open_root(args.root.as_deref())?;
    let (facts, findings) = {
        let _progress = out.progress("auditing");
        judge(&root, &profile, &waivers)
    };
    let plan = tractorsec_remedy::plan(&dir, &profile, &facts, &findings, &args.only)?;
    if args.dry_run {
        out.emit(&match args.format {
            PlainFormat::Text => tractorsec_remedy::preview(&dir, &plan),
            PlainFormat::Json => format!("{}\n", serde_json::to_string_pretty(&plan)?),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let transaction = tractorsec_remedy::apply(&dir, &plan)?;
    let (_, after) = judge(&root, &profile, &waivers);
    let passing = |id: &String| {
        after
            .findings
            .iter()
            .any(|f| &f.id == id && f.status == Status::Pass)
    };
    let (fixed, still_failing): (Vec<String>, Vec<String>) =
        plan.fixes.iter().cloned().partition(|id| passing(id));
    let applied = Applied {
        recovered,
        transaction,
        changes: plan.changes.len(),
        fixed,
        still_failing,
        after_reboot: plan.fixes_after_reboot.clone(),
        manual: plan.manual.clone(),
    };
    out.emit(&match args.format {
        PlainFormat::Text => applied_text(&applied, &plan),
        PlainFormat::Json => format!("{}\n", serde_json::to_string_pretty(&applied)?),
    })?;
    Ok(if applied.still_failing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn applied_text(applied: &Applied, plan: &Plan) -> String {
    let mut text = match &applied.transaction {
        Some(id) => format!(
            "transaction {id}: {} changes applied (undo: tractorsec rollback {id})\n",
            applied.changes
        ),
        None => "nothing to change: every fixable control is already in place\n".to_string(),
    };
    let list = |text: &mut String, heading: &str, ids: &[String]| {
        if !ids.is_empty() {
            let _ = writeln!(text, "\n{heading} ({}):", ids.len());
            for id in ids {
                let _ = writeln!(text, "  {id}");
            }
        }
    };
    list(&mut text, "Pass now", &applied.fixed);
    list(
        &mut text,
        "Still failing after apply",
        &applied.still_failing,
    );
    list(
        &mut text,
        "Pass after a reboot or remount",
        &applied.after_reboot,
    );
    if !plan.manual.is_empty() {
        let _ = writeln!(text, "\nNeed a human ({}):", plan.manual.len());
        for step in &plan.manual {
            let _ = writeln!(text, "  {}: {}", step.control, step.instruction);
        }
    }
    text
}

/// `tractorsec rollback [ID|--last]`, after finishing interrupted ones.
pub fn rollback(args: RollbackArgs, out: &Output) -> Result<ExitCode> {
    let dir = open(args.root.as_deref())?;
    let recovered = tractorsec_remedy::recover(&dir)?;
    recovered_notes(out, &recovered);
    let which = match &args.id {
        Some(id) => Which::Id(id),
        None => Which::Last,
    };
    match tractorsec_remedy::rollback(&dir, which) {
        Ok(id) => out.emit(&format!("transaction {id} rolled back\n"))?,
        // An interrupted transaction was the one to undo: recovery did it.
        Err(_) if !recovered.is_empty() && args.id.is_none() => {}
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `tractorsec transactions`.
pub fn transactions(root: Option<&Path>, out: &Output) -> Result<ExitCode> {
    let dir = open(root)?;
    let list = tractorsec_remedy::transactions(&dir)?;
    let mut text = String::new();
    for t in &list {
        let _ = writeln!(
            text,
            "{}  {:<12}  {} targets  {}",
            t.id,
            format!("{:?}", t.status).to_lowercase(),
            t.targets.len(),
            t.controls.join(", ")
        );
    }
    if list.is_empty() {
        text.push_str("no transactions\n");
    }
    out.emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
