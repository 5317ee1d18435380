//! The minisign text layout: numbered lines, comment prefixes and strict
//! base64 blobs of fixed-size fields.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::EvidenceError;

/// The first line of every minisign file starts with this.
pub(crate) const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
/// The third line of a signature file starts with this.
pub(crate) const TRUSTED_PREFIX: &str = "trusted comment: ";

/// Standard base64 with padding, as minisign writes it.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The lines of a minisign text file, taken in order; every error names
/// `file:line`. Lines end in `\n` or `\r\n` (minisign strips both).
pub(crate) struct Lines<'a> {
    file: &'a str,
    lines: std::str::Lines<'a>,
    /// The 1-based number of the line last taken (0 before the first).
    number: usize,
}

impl<'a> Lines<'a> {
    /// Starts reading `text`, which came from `file`.
    pub(crate) fn new(text: &'a str, file: &'a str) -> Self {
        Self {
            file,
            lines: text.lines(),
            number: 0,
        }
    }

    /// The number of the line last taken.
    pub(crate) fn number(&self) -> usize {
        self.number
    }

    /// A [`EvidenceError::Malformed`] naming the line last taken.
    pub(crate) fn error(&self, problem: impl Into<String>) -> EvidenceError {
        EvidenceError::Malformed {
            file: self.file.to_owned(),
            line: self.number,
            problem: problem.into(),
        }
    }

    /// An [`EvidenceError::UnknownAlgorithm`] for an id read from the line last taken.
    pub(crate) fn unknown_algorithm(
        &self,
        what: &'static str,
        found: [u8; 2],
        expected: &'static str,
    ) -> EvidenceError {
        EvidenceError::UnknownAlgorithm {
            file: self.file.to_owned(),
            line: self.number,
            what,
            found: found.escape_ascii().to_string(),
            expected,
        }
    }

    /// Checks an algorithm id read from the line last taken.
    pub(crate) fn expect_algorithm(
        &self,
        what: &'static str,
        found: [u8; 2],
        wanted: [u8; 2],
        expected: &'static str,
    ) -> Result<(), EvidenceError> {
        if found == wanted {
            Ok(())
        } else {
            Err(self.unknown_algorithm(what, found, expected))
        }
    }

    /// Takes the next line, which must hold `what`.
    fn next_line(&mut self, what: &str) -> Result<&'a str, EvidenceError> {
        self.number += 1;
        match self.lines.next() {
            Some(line) if !line.is_empty() => Ok(line),
            _ => Err(self.error(format!("missing the {what} (the file is truncated)"))),
        }
    }

    /// Takes the next line, which must start with `prefix`; returns the rest.
    pub(crate) fn comment(&mut self, prefix: &str, what: &str) -> Result<&'a str, EvidenceError> {
        let line = self.next_line(what)?;
        let Some(comment) = line.strip_prefix(prefix) else {
            return Err(self.error(format!(
                "expected the {what}, a line starting with {prefix:?}"
            )));
        };
        // minisign cuts a line at its first carriage return; refusing them
        // keeps both tools reading the same comment.
        if comment.contains('\r') {
            return Err(self.error(format!("the {what} contains a carriage return")));
        }
        Ok(comment)
    }

    /// Takes the next line, which must be canonical base64 of exactly `len` bytes.
    pub(crate) fn base64(
        &mut self,
        what: &'static str,
        len: usize,
    ) -> Result<Fields, EvidenceError> {
        let line = self.next_line(what)?;
        let bytes = STANDARD.decode(line).map_err(|err| EvidenceError::Base64 {
            file: self.file.to_owned(),
            line: self.number,
            what,
            problem: err.to_string(),
        })?;
        if bytes.len() != len {
            return Err(self.error(format!(
                "the {what} is {} bytes, expected {len} (truncated, or not a minisign file)",
                bytes.len()
            )));
        }
        Ok(Fields { rest: bytes, at: 0 })
    }

    /// Checks that nothing but blank lines follows the last line taken.
    pub(crate) fn finish(mut self) -> Result<(), EvidenceError> {
        while let Some(line) = self.lines.next() {
            self.number += 1;
            if !line.trim().is_empty() {
                return Err(self.error("unexpected text after the end of the minisign data"));
            }
        }
        Ok(())
    }
}

/// Fixed-size fields of a decoded base64 line, taken front to back.
pub(crate) struct Fields {
    rest: Vec<u8>,
    at: usize,
}

impl Fields {
    /// Takes the next `N` bytes. [`Lines::base64`] checked the total length,
    /// so the callers' fields (which add up to it) are always complete.
    pub(crate) fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut field = [0; N];
        let available = self.rest.get(self.at..).unwrap_or_default();
        let n = N.min(available.len());
        field[..n].copy_from_slice(&available[..n]);
        self.at += n;
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prefixed_lines_and_base64_with_line_numbers() {
        let text = "untrusted comment: hello\r\nAAEC\n\n";
        let mut lines = Lines::new(text, "f.txt");
        assert_eq!(lines.comment(UNTRUSTED_PREFIX, "comment").unwrap(), "hello");
        let mut fields = lines.base64("blob", 3).unwrap();
        assert_eq!(lines.number(), 2);
        assert_eq!(fields.take::<1>(), [0]);
        assert_eq!(fields.take::<2>(), [1, 2]);
        lines.finish().unwrap();
    }

    #[test]
    fn missing_line_names_the_line_and_says_truncated() {
        let mut lines = Lines::new("untrusted comment: x\n", "k.pub");
        lines
            .comment(UNTRUSTED_PREFIX, "untrusted comment")
            .unwrap();
        let err = lines.base64("public key", 42).err().unwrap();
        assert_eq!(
            err.to_string(),
            "k.pub:2: missing the public key (the file is truncated)"
        );
    }

    #[test]
    fn wrong_prefix_names_the_line() {
        let mut lines = Lines::new("trusted comment: x\n", "s.minisig");
        let err = lines
            .comment(UNTRUSTED_PREFIX, "untrusted comment")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("s.minisig:1: expected the untrusted comment, a line starting with"),
            "{err}"
        );
    }

    #[test]
    fn carriage_return_inside_a_comment_is_rejected() {
        let mut lines = Lines::new("trusted comment: a\rb\r\n", "s.minisig");
        let err = lines
            .comment(TRUSTED_PREFIX, "trusted comment")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.minisig:1: the trusted comment contains a carriage return"
        );
    }

    #[test]
    fn base64_must_be_canonical() {
        // "AB==" carries non-zero bits after the last byte: a lenient decoder
        // reads it as [0], which would let one signature have two spellings.
        for bad in ["AB==", "AA", "AA=", "AA===", "A A=", "*AAA"] {
            let text = format!("{bad}\n");
            let mut lines = Lines::new(&text, "x");
            let err = lines.base64("blob", 1).err().unwrap();
            assert!(
                matches!(err, EvidenceError::Base64 { line: 1, .. }),
                "{bad}: {err}"
            );
            assert!(
                err.to_string()
                    .starts_with("x:1: the blob is not valid base64"),
                "{err}"
            );
        }
        assert!(Lines::new("AA==\n", "x").base64("blob", 1).is_ok());
    }

    #[test]
    fn base64_of_the_wrong_length_is_rejected() {
        let err = Lines::new("AAAA\n", "x")
            .base64("signature", 74)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "x:1: the signature is 3 bytes, expected 74 (truncated, or not a minisign file)"
        );
    }

    #[test]
    fn text_after_the_end_is_rejected_blank_lines_are_not() {
        let mut lines = Lines::new("a\n\n  \nextra\n", "x");
        lines.comment("a", "a").unwrap();
        let err = lines.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "x:4: unexpected text after the end of the minisign data"
        );
    }
}
