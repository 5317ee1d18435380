//! Seal a tree or verify one, from the command line (used by
//! `scripts/bench-seal.sh`; the real CLI is `tractorsec seal`/`verify`).
//!
//! ```text
//! seal DIR [--sha256] [--exclude GLOB]… [-o FILE]     manifest to FILE or stdout
//! verify DIR MANIFEST [--quick CACHE] [--json] [--timings]   exit 0 clean, 1 drift, 2 error
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tractorsec_seal::manifest::{HashAlgorithm, Manifest, SealOptions, VerifyOptions, drift, seal};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: seal seal DIR [--sha256] [--exclude GLOB]... [-o FILE]\n       seal verify DIR MANIFEST [--quick CACHE] [--json]";
    let (command, rest) = args.split_first().ok_or(usage)?;
    let mut positional = Vec::new();
    let mut opts = SealOptions::default();
    let mut out: Option<PathBuf> = None;
    let mut verify = VerifyOptions::default();
    let mut json = false;
    let mut timings = false;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sha256" => opts.algorithm = HashAlgorithm::Sha256,
            "--exclude" => opts.excludes.push(it.next().ok_or(usage)?.clone()),
            "-o" => out = Some(it.next().ok_or(usage)?.into()),
            "--quick" => verify.quick_cache = Some(it.next().ok_or(usage)?.into()),
            "--json" => json = true,
            "--timings" => timings = true,
            _ => positional.push(arg.clone()),
        }
    }
    match (command.as_str(), positional.as_slice()) {
        ("seal", [dir]) => {
            let manifest = seal(dir.as_ref(), &opts)?;
            let text = manifest.to_text();
            match out {
                Some(path) => std::fs::write(path, text)?,
                None => print!("{text}"),
            }
            eprintln!("sealed {} entries", manifest.entries.len());
            Ok(ExitCode::SUCCESS)
        }
        ("verify", [dir, manifest_path]) => {
            let start = Instant::now();
            let text = std::fs::read_to_string(manifest_path)?;
            let manifest = Manifest::parse(&text, manifest_path)?;
            let parsed = start.elapsed();
            let drift = drift(dir.as_ref(), &manifest, &verify)?;
            if timings {
                eprintln!(
                    "timing parse {:.3}s drift {:.3}s",
                    parsed.as_secs_f64(),
                    (start.elapsed() - parsed).as_secs_f64()
                );
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&drift)?);
            } else {
                print!("{}", drift.to_text());
            }
            Ok(if drift.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        _ => Err(usage.into()),
    }
}
