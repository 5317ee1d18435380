//! Writing command output: stdout, or a file replaced atomically.

use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Where a command's output goes, and how chatty it may be.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// `--output FILE`: replaced atomically; stdout when `None`.
    pub path: Option<PathBuf>,
    /// `--quiet`: nothing on stdout or stderr but errors.
    pub quiet: bool,
}

impl Output {
    /// Write `text` to the output file atomically (temp file in the same
    /// directory, fsync, rename, fsync the directory), or to stdout unless
    /// quiet.
    pub fn emit(&self, text: &str) -> Result<()> {
        match &self.path {
            Some(path) => Ok(tractorsec_evidence::write_atomically(path, text)?),
            None if self.quiet => Ok(()),
            None => {
                let mut out = std::io::stdout().lock();
                match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other.context("writing to stdout"),
                }
            }
        }
    }

    /// Whether output goes to a terminal (for colour).
    pub fn to_terminal(&self) -> bool {
        self.path.is_none() && std::io::stdout().is_terminal()
    }

    /// A note for people on stderr, unless quiet.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// Show `message` on stderr while a slow step runs, only when stderr
    /// is a terminal and not quiet; erased when the guard drops.
    pub fn progress(&self, message: &str) -> Progress {
        let shown = !self.quiet && std::io::stderr().is_terminal();
        if shown {
            eprint!("{message}…");
        }
        Progress { shown }
    }
}

/// Erases a progress line when dropped.
pub struct Progress {
    shown: bool,
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}
