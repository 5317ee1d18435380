//! `tractorsec audit`: evaluate a profile and report.

use crate::cli::{AuditArgs, FailOn, Format};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;
use tractorsec_policy::{Profile, Severity, Waivers, evaluate_with};
use tractorsec_report::{Report, TextOptions, render_json, render_text};

/// Collect (or load) facts, evaluate, render, and map failures to exit 1.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let profile = Profile::load_with(&args.profile, &parse_params(&args.params)?)?;
    let waivers = match &args.waivers {
        None => Waivers::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Waivers::parse(&path.display().to_string(), &text, &profile)?
        }
    };
    let mut clock = Clock::new(args.timings);
    let facts = match &args.source.facts {
        Some(path) => super::load_facts(path)?,
        None => tractorsec_facts::collect::collect(&super::open_root(args.source.root.as_deref())?),
    };
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
    let text = match args.format {
        Format::Json => render_json(&report),
        Format::Text => {
            let color = args.out.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            render_text(
                &report,
                TextOptions {
                    color,
                    verbose: args.verbose,
                },
            )
        }
    };
    clock.lap("render");
    crate::output::emit(args.out.as_deref(), &text)?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `NAME=VALUE` pairs; VALUE is read as TOML (`2`, `["a"]`, `true`) and
/// otherwise taken as a string.
fn parse_params(pairs: &[String]) -> Result<BTreeMap<String, toml::Value>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--param {pair:?}: expected NAME=VALUE");
        };
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        out.insert(name.trim().to_string(), parsed);
    }
    Ok(out)
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
