//! `tractorsec completions` and `tractorsec man`: generated from the CLI
//! definition, so they never drift from it.

use crate::output::Output;
use anyhow::{Context, Result};
use clap::CommandFactory;
use std::path::Path;
use std::process::ExitCode;

/// Print the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &Output) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::cli::Cli::command(),
        "tractorsec",
        &mut script,
    );
    out.emit(&String::from_utf8(script).context("completion script is not UTF-8")?)?;
    Ok(ExitCode::SUCCESS)
}

fn page(command: clap::Command) -> Result<String> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(command).render(&mut roff)?;
    String::from_utf8(roff).context("man page is not UTF-8")
}

/// Print `tractorsec.1`, or write it and one page per subcommand into `dir`.
pub fn man(dir: Option<&Path>, out: &Output) -> Result<ExitCode> {
    let mut cli = crate::cli::Cli::command();
    cli.build();
    let Some(dir) = dir else {
        out.emit(&page(cli)?)?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("tractorsec-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        tractorsec_evidence::write_atomically(&dir.join(format!("{name}.1")), &page(sub)?)?;
        written += 1;
    }
    tractorsec_evidence::write_atomically(&dir.join("tractorsec.1"), &page(cli)?)?;
    out.note(&format!(
        "{} man pages written to {}",
        written + 1,
        dir.display()
    ));
    Ok(ExitCode::SUCCESS)
}
