//! The one error type of this crate: every rejection names the file and,
//! for text files, the line (`path:line: message`).

use std::io;
use std::path::PathBuf;

use crate::KeyId;

/// Why a key or signature was rejected, or a key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The text is not laid out as a minisign file: a line is missing,
    /// has the wrong prefix, decodes to the wrong length, or is extra.
    #[error("{file}:{line}: {problem}")]
    Malformed {
        /// The file, as named by the caller.
        file: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A line that must be base64 is not strict, canonical base64.
    #[error("{file}:{line}: the {what} is not valid base64: {problem}")]
    Base64 {
        /// The file, as named by the caller.
        file: String,
        /// The 1-based line.
        line: usize,
        /// Which field the line holds.
        what: &'static str,
        /// The decoder's complaint.
        problem: String,
    },
    /// An algorithm identifier that minisign does not define (or this crate does not support).
    #[error("{file}:{line}: unknown {what} algorithm \"{found}\" (expected {expected})")]
    UnknownAlgorithm {
        /// The file, as named by the caller.
        file: String,
        /// The 1-based line.
        line: usize,
        /// Which algorithm field: signature, key derivation or checksum.
        what: &'static str,
        /// The two bytes found, escaped.
        found: String,
        /// The identifiers accepted there.
        expected: &'static str,
    },
    /// A password-protected secret key: this crate reads unencrypted keys only.
    #[error(
        "{file}:{line}: the secret key is encrypted with a password, which is not supported; \
         generate an unencrypted key with `tractorsec key generate` or `minisign -G -W`"
    )]
    EncryptedKey {
        /// The file, as named by the caller.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// A secret key whose parts do not agree with each other.
    #[error("{file}:{line}: corrupt secret key: {problem}")]
    CorruptKey {
        /// The file, as named by the caller.
        file: String,
        /// The 1-based line.
        line: usize,
        /// What does not agree.
        problem: &'static str,
    },
    /// The signature was made by another key than the public key given.
    #[error(
        "{file}:{line}: wrong key: signed by key {signature_key}, but the public key is {public_key}"
    )]
    WrongKey {
        /// The signature file, as named by the caller.
        file: String,
        /// The line that holds the signature's key id.
        line: usize,
        /// The key id in the signature.
        signature_key: KeyId,
        /// The key id of the public key.
        public_key: KeyId,
    },
    /// The signature does not match the data: the data (or the signature) was changed.
    #[error(
        "{file}:{line}: signature does not match: the signed data was changed, \
         or this signature is for other data"
    )]
    SignatureMismatch {
        /// The signature file, as named by the caller.
        file: String,
        /// The line that holds the signature.
        line: usize,
    },
    /// The trusted comment does not match its signature: one of them was changed.
    #[error(
        "{file}:{line}: the trusted comment does not match its signature on the next line: \
         the comment or its signature was changed"
    )]
    TrustedCommentMismatch {
        /// The signature file, as named by the caller.
        file: String,
        /// The line that holds the trusted comment.
        line: usize,
    },
    /// A trusted comment that cannot be written to (or read back from) a signature file.
    #[error("invalid trusted comment: {problem}")]
    InvalidComment {
        /// What is wrong with it.
        problem: String,
    },
    /// Key generation will not replace an existing file.
    #[error("{}: already exists; refusing to overwrite a key file", path.display())]
    KeyFileExists {
        /// The file that exists.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done, e.g. `read`, `create`.
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The operating system could not supply random bytes for a new key.
    #[error("cannot get random bytes for a new key: {0}")]
    Random(String),
}

impl EvidenceError {
    /// An I/O error on `path` while doing `action`.
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
