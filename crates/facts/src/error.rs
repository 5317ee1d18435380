use serde::{Deserialize, Serialize};
use std::fmt;

/// A parser rejected its input: names the file and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ParseError {
    /// The file the text came from (as given by the caller).
    pub file: String,
    /// 1-based line number; 0 when the error is not tied to a line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// A new error at `file:line`.
    pub fn new(file: &str, line: usize, message: impl Into<String>) -> Self {
        ParseError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

/// Why a fact is missing from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FactErrorKind {
    /// The source does not exist on this system (e.g. no NVIDIA driver).
    NotPresent,
    /// The root is an offline image: it has no runtime state.
    Offline,
    /// Reading needs privileges this run does not have.
    PermissionDenied,
    /// The source exists but could not be read.
    Unreadable,
    /// The source was read but its content is malformed.
    Malformed,
}

/// A fact that could not be collected: data in the snapshot, not a crash.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, thiserror::Error,
)]
pub struct FactError {
    /// Why it is missing.
    pub kind: FactErrorKind,
    /// The path (as seen inside the root) that was being read.
    pub path: String,
    /// A human explanation.
    pub message: String,
}

impl fmt::Display for FactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl FactError {
    /// A new fact error.
    pub fn new(kind: FactErrorKind, path: &str, message: impl Into<String>) -> Self {
        FactError {
            kind,
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// Classify an I/O error met while reading `path`.
    pub fn io(path: &str, err: &std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => FactErrorKind::NotPresent,
            std::io::ErrorKind::PermissionDenied => FactErrorKind::PermissionDenied,
            _ => FactErrorKind::Unreadable,
        };
        let message = match kind {
            FactErrorKind::PermissionDenied => format!("{err} (run as root for this fact)"),
            _ => err.to_string(),
        };
        FactError::new(kind, path, message)
    }

    /// A parse failure of the file at `path`.
    pub fn malformed(path: &str, err: &ParseError) -> Self {
        FactError::new(FactErrorKind::Malformed, path, err.to_string())
    }

    /// The fact needs runtime state an offline root does not have.
    pub fn offline(path: &str) -> Self {
        FactError::new(
            FactErrorKind::Offline,
            path,
            "offline root: no runtime state",
        )
    }
}
