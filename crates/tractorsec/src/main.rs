//! `tractorsec`: parse arguments, run one command, map the result to an exit
//! code (0 nothing failed, 1 a control failed at or above `--fail-on`,
//! 2 the command could not do its job).

mod cli;
mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tractorsec: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
