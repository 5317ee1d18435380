//! Detached signatures in minisign's `.minisig` layout: signing and verifying.
//!
//! ```text
//! untrusted comment: <free text, not signed>
//! base64("ED" || key id || Ed25519(BLAKE2b-512(data)))
//! trusted comment: <text>
//! base64(Ed25519(signature || trusted comment))
//! ```

use blake2::{Blake2b512, Digest as _};
use ed25519_dalek::Signer as _;

use crate::encoding::{Lines, TRUSTED_PREFIX, UNTRUSTED_PREFIX, encode};
use crate::key::ED25519;
use crate::{EvidenceError, KeyId, PublicKey, SecretKey};

/// Signature algorithm id of a signature over BLAKE2b-512(data), what minisign writes.
const ED25519_PREHASHED: [u8; 2] = *b"ED";
/// sig_alg, key id, signature.
const SIGNATURE_BYTES: usize = 2 + 8 + 64;
/// The longest trusted comment minisign reads back: its 8192-byte line
/// buffer less the prefix, the line feed and the terminating NUL.
const MAX_TRUSTED_COMMENT: usize = 8192 - TRUSTED_PREFIX.len() - 2;
/// The line numbers of a signature file's parts.
const SIGNATURE_LINE: usize = 2;
const TRUSTED_COMMENT_LINE: usize = 3;

/// What the data signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signed {
    /// BLAKE2b-512 of the data (`ED`).
    Prehash,
    /// The data itself (legacy `Ed`; read, never written).
    Data,
}

/// A detached signature, as read from or written to a `.minisig` file.
/// Nothing in it is trusted until [`PublicKey::verify`] accepts it.
#[derive(Clone, Debug)]
pub struct Signature {
    /// The file it was read from (for errors), or a placeholder for a new one.
    file: String,
    untrusted_comment: String,
    signed: Signed,
    key_id: KeyId,
    signature: [u8; 64],
    trusted_comment: String,
    comment_signature: [u8; 64],
}

impl Signature {
    /// Reads a minisign signature file (`file` names it in errors).
    pub fn parse(text: &str, file: &str) -> Result<Self, EvidenceError> {
        let mut lines = Lines::new(text, file);
        let untrusted_comment = lines.comment(UNTRUSTED_PREFIX, "untrusted comment")?;
        let mut fields = lines.base64("signature", SIGNATURE_BYTES)?;
        let signed = match fields.take() {
            ED25519_PREHASHED => Signed::Prehash,
            ED25519 => Signed::Data,
            found => {
                let expected = "\"ED\", or legacy \"Ed\"";
                return Err(lines.unknown_algorithm("signature", found, expected));
            }
        };
        let key_id = KeyId(fields.take());
        let signature = fields.take();
        let trusted_comment = lines.comment(TRUSTED_PREFIX, "trusted comment")?;
        let comment_signature = lines.base64("trusted comment signature", 64)?.take();
        lines.finish()?;
        Ok(Self {
            file: file.to_owned(),
            untrusted_comment: untrusted_comment.to_owned(),
            signed,
            key_id,
            signature,
            trusted_comment: trusted_comment.to_owned(),
            comment_signature,
        })
    }

    /// The signature file, as `minisign -S` writes it.
    pub fn to_text(&self) -> String {
        let algorithm = match self.signed {
            Signed::Prehash => ED25519_PREHASHED,
            Signed::Data => ED25519,
        };
        let blob = [&algorithm[..], &self.key_id.0, &self.signature].concat();
        format!(
            "{UNTRUSTED_PREFIX}{}\n{}\n{TRUSTED_PREFIX}{}\n{}\n",
            self.untrusted_comment,
            encode(&blob),
            self.trusted_comment,
            encode(&self.comment_signature)
        )
    }

    /// The id of the key that made this signature (claimed, until verified).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
}

/// What a successful [`PublicKey::verify`] vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    key_id: KeyId,
    trusted_comment: String,
}

impl Verified {
    /// The trusted comment, now known to be the signer's.
    pub fn trusted_comment(&self) -> &str {
        &self.trusted_comment
    }

    /// The id of the key that signed.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
}

impl SecretKey {
    /// Signs `message` (as minisign does: over its BLAKE2b-512 hash) with a
    /// `trusted_comment`, which must be one line minisign can read back.
    pub fn sign(&self, message: &[u8], trusted_comment: &str) -> Result<Signature, EvidenceError> {
        check_trusted_comment(trusted_comment)?;
        let signature = self.key.sign(&prehash(message)).to_bytes();
        let comment_signature = self
            .key
            .sign(&comment_message(&signature, trusted_comment))
            .to_bytes();
        Ok(Signature {
            file: "(new signature)".to_owned(),
            untrusted_comment: format!("signature from tractorsec secret key {}", self.key_id),
            signed: Signed::Prehash,
            key_id: self.key_id,
            signature,
            trusted_comment: trusted_comment.to_owned(),
            comment_signature,
        })
    }
}

impl PublicKey {
    /// Checks that `signature` was made by this key over `message`, and that
    /// its trusted comment is the signer's.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<Verified, EvidenceError> {
        let file = || signature.file.clone();
        if signature.key_id != self.key_id {
            return Err(EvidenceError::WrongKey {
                file: file(),
                line: SIGNATURE_LINE,
                signature_key: signature.key_id,
                public_key: self.key_id,
            });
        }
        let hash;
        let signed = match signature.signed {
            Signed::Prehash => {
                hash = prehash(message);
                &hash[..]
            }
            Signed::Data => message,
        };
        let data_signature = ed25519_dalek::Signature::from_bytes(&signature.signature);
        self.key
            .verify_strict(signed, &data_signature)
            .map_err(|_| EvidenceError::SignatureMismatch {
                file: file(),
                line: SIGNATURE_LINE,
            })?;
        let comment = comment_message(&signature.signature, &signature.trusted_comment);
        let comment_signature = ed25519_dalek::Signature::from_bytes(&signature.comment_signature);
        self.key
            .verify_strict(&comment, &comment_signature)
            .map_err(|_| EvidenceError::TrustedCommentMismatch {
                file: file(),
                line: TRUSTED_COMMENT_LINE,
            })?;
        Ok(Verified {
            key_id: self.key_id,
            trusted_comment: signature.trusted_comment.clone(),
        })
    }
}

/// BLAKE2b-512 of the data: what an `ED` signature signs.
fn prehash(message: &[u8]) -> [u8; 64] {
    Blake2b512::digest(message).into()
}

/// What the trusted comment's signature signs: the data signature, then the comment.
fn comment_message(signature: &[u8; 64], trusted_comment: &str) -> Vec<u8> {
    [&signature[..], trusted_comment.as_bytes()].concat()
}

/// A trusted comment must stay one line, and within what minisign reads back.
fn check_trusted_comment(comment: &str) -> Result<(), EvidenceError> {
    let problem = if comment.contains(['\n', '\r']) {
        "it must be one line (no line breaks)".to_owned()
    } else if comment.contains('\0') {
        "it must not contain NUL characters".to_owned()
    } else if comment.len() > MAX_TRUSTED_COMMENT {
        format!(
            "it is {} bytes, the most minisign accepts is {MAX_TRUSTED_COMMENT}",
            comment.len()
        )
    } else {
        return Ok(());
    };
    Err(EvidenceError::InvalidComment { problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUB: &str = include_str!("../tests/fixtures/minisign/test.pub");
    const KEY: &str = include_str!("../tests/fixtures/minisign/test.key");
    const REPORT: &str = include_str!("../tests/fixtures/minisign/report.json");
    const SIG: &str = include_str!("../tests/fixtures/minisign/report.json.minisig");
    const LEGACY_SIG: &str = include_str!("../tests/fixtures/minisign/report.json.legacy.minisig");
    const COMMENT: &str = "timestamp:1700000000\tfile:report.json\thashed";

    fn public() -> PublicKey {
        PublicKey::parse(PUB, "test.pub").unwrap()
    }

    fn secret() -> SecretKey {
        SecretKey::parse(KEY, "test.key").unwrap()
    }

    /// Parses and verifies a signature text against the fixture report.
    fn check(text: &str, message: &[u8]) -> Result<Verified, EvidenceError> {
        public().verify(message, &Signature::parse(text, "r.minisig")?)
    }

    #[test]
    fn minisign_signature_verifies() {
        let verified = check(SIG, REPORT.as_bytes()).unwrap();
        assert_eq!(verified.trusted_comment(), COMMENT);
        assert_eq!(verified.key_id().to_string(), "855D3337D19EF318");
    }

    #[test]
    fn legacy_minisign_signature_over_the_data_verifies() {
        let verified = check(LEGACY_SIG, REPORT.as_bytes()).unwrap();
        assert_eq!(verified.trusted_comment(), "legacy test signature");
        let mut tampered = REPORT.as_bytes().to_vec();
        tampered[0] ^= 1;
        let err = check(LEGACY_SIG, &tampered).unwrap_err();
        assert!(matches!(
            err,
            EvidenceError::SignatureMismatch { line: 2, .. }
        ));
    }

    #[test]
    fn signing_is_byte_identical_to_minisign() {
        // Ed25519 is deterministic: the same key, data and comment give
        // minisign's very lines (all but the unsigned untrusted comment).
        let ours = secret().sign(REPORT.as_bytes(), COMMENT).unwrap().to_text();
        assert_eq!(
            ours.lines().skip(1).collect::<Vec<_>>(),
            SIG.lines().skip(1).collect::<Vec<_>>()
        );
        assert_eq!(
            ours.lines().next().unwrap(),
            "untrusted comment: signature from tractorsec secret key 855D3337D19EF318"
        );
    }

    #[test]
    fn signature_text_round_trips() {
        for text in [SIG, LEGACY_SIG] {
            assert_eq!(Signature::parse(text, "s").unwrap().to_text(), text);
        }
        let key = SecretKey::generate().unwrap();
        let signature = key.sign(b"data", "comment").unwrap();
        let again = Signature::parse(&signature.to_text(), "s").unwrap();
        assert_eq!(again.to_text(), signature.to_text());
        assert_eq!(again.key_id(), key.key_id());
        assert_eq!(
            key.public()
                .verify(b"data", &again)
                .unwrap()
                .trusted_comment(),
            "comment"
        );
    }

    #[test]
    fn wrong_key_is_named_with_both_key_ids() {
        let other = SecretKey::generate().unwrap().public();
        let signature = Signature::parse(SIG, "r.minisig").unwrap();
        let err = other.verify(REPORT.as_bytes(), &signature).unwrap_err();
        assert!(matches!(err, EvidenceError::WrongKey { line: 2, .. }));
        assert_eq!(
            err.to_string(),
            format!(
                "r.minisig:2: wrong key: signed by key 855D3337D19EF318, but the public key is {}",
                other.key_id()
            )
        );
    }

    #[test]
    fn same_key_id_but_other_key_does_not_verify() {
        // A key that claims the id: only the signature check can tell.
        let mut impostor = SecretKey::generate().unwrap();
        impostor.key_id = secret().key_id();
        let signature = Signature::parse(SIG, "r.minisig").unwrap();
        let err = impostor
            .public()
            .verify(REPORT.as_bytes(), &signature)
            .unwrap_err();
        assert!(
            matches!(err, EvidenceError::SignatureMismatch { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn every_byte_flip_of_the_signed_report_is_rejected() {
        let signature = Signature::parse(SIG, "r.minisig").unwrap();
        let key = public();
        let report = REPORT.as_bytes();
        assert!(
            report.len() > 250,
            "the report should be a realistic few hundred bytes"
        );
        for at in 0..report.len() {
            for mask in [0x01, 0x80] {
                let mut flipped = report.to_vec();
                flipped[at] ^= mask;
                let err = key.verify(&flipped, &signature).unwrap_err();
                assert_eq!(
                    err.to_string(),
                    "r.minisig:2: signature does not match: the signed data was changed, \
                     or this signature is for other data",
                    "byte {at} ^ {mask:#x}"
                );
            }
        }
        assert!(key.verify(&report[..report.len() - 1], &signature).is_err());
        assert!(key.verify(&[report, b" "].concat(), &signature).is_err());
    }

    #[test]
    fn every_byte_flip_of_the_signed_lines_is_rejected() {
        // Line 1, the untrusted comment, is not signed (minisign lets anyone
        // edit it), so only lines 2-4 and the line breaks between them are flipped.
        let start = SIG.find('\n').unwrap() + 1;
        for at in start..SIG.len() {
            for mask in [0x01, 0x02, 0x20, 0x40] {
                let mut bytes = SIG.as_bytes().to_vec();
                bytes[at] ^= mask;
                let text = String::from_utf8(bytes).unwrap();
                assert!(
                    check(&text, REPORT.as_bytes()).is_err(),
                    "byte {at} ^ {mask:#x}: {text}"
                );
            }
        }
    }

    #[test]
    fn changed_trusted_comment_is_named() {
        let text = SIG.replace("timestamp:1700000000", "timestamp:1800000000");
        let err = check(&text, REPORT.as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            EvidenceError::TrustedCommentMismatch { line: 3, .. }
        ));
        assert!(
            err.to_string()
                .starts_with("r.minisig:3: the trusted comment does not match its signature"),
            "{err}"
        );
    }

    #[test]
    fn every_truncation_of_the_signature_file_is_rejected() {
        // Only the final line feed may go (minisign does not need it).
        for len in 0..SIG.len() - 1 {
            assert!(
                check(&SIG[..len], REPORT.as_bytes()).is_err(),
                "cut at {len}"
            );
        }
        assert!(check(&SIG[..SIG.len() - 1], REPORT.as_bytes()).is_ok());
    }

    #[test]
    fn truncated_signature_files_name_the_missing_part() {
        let lines: Vec<&str> = SIG.lines().collect();
        let short_base64 = &lines[1][..lines[1].len() - 4];
        let cases = [
            (
                lines[..2].join("\n"),
                "r.minisig:3: missing the trusted comment (the file is truncated)",
            ),
            (
                lines[..3].join("\n"),
                "r.minisig:4: missing the trusted comment signature (the file is truncated)",
            ),
            (
                format!("{}\n{short_base64}\n", lines[0]),
                "r.minisig:2: the signature is 72 bytes, expected 74 (truncated, or not a minisign file)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                check(&text, REPORT.as_bytes()).unwrap_err().to_string(),
                expected
            );
        }
    }

    #[test]
    fn signature_parse_errors_name_file_and_line() {
        let lines: Vec<&str> = SIG.lines().collect();
        let swap = |index: usize, line: &str| {
            let mut changed = lines.clone();
            changed[index] = line;
            changed.join("\n")
        };
        let cases = [
            (
                swap(0, "untrusted: x"),
                "r.minisig:1: expected the untrusted comment",
            ),
            (
                swap(1, "RUQY857R!"),
                "r.minisig:2: the signature is not valid base64",
            ),
            (
                swap(2, "trusted: x"),
                "r.minisig:3: expected the trusted comment",
            ),
            (
                swap(3, "w5qS"),
                "r.minisig:4: the trusted comment signature is 3 bytes, expected 64",
            ),
            (
                format!("{SIG}\nextra"),
                "r.minisig:6: unexpected text after the end",
            ),
        ];
        for (text, expected) in cases {
            let err = Signature::parse(&text, "r.minisig").unwrap_err();
            assert!(err.to_string().starts_with(expected), "{err}");
        }
    }

    #[test]
    fn unknown_signature_algorithm_is_rejected() {
        let blob = [&b"EX"[..], &[0; 72]].concat();
        let text = format!(
            "untrusted comment: x\n{}\ntrusted comment: y\n{}\n",
            encode(&blob),
            encode(&[0; 64])
        );
        let err = Signature::parse(&text, "r.minisig").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.minisig:2: unknown signature algorithm \"EX\" (expected \"ED\", or legacy \"Ed\")"
        );
    }

    #[test]
    fn trusted_comments_must_be_one_line_minisign_can_read() {
        let key = secret();
        for bad in ["two\nlines", "cr\r", "nul\0"] {
            let err = key.sign(b"x", bad).unwrap_err();
            assert!(
                matches!(err, EvidenceError::InvalidComment { .. }),
                "{bad:?}"
            );
        }
        let longest = "x".repeat(MAX_TRUSTED_COMMENT);
        assert_eq!(MAX_TRUSTED_COMMENT, 8173);
        let signature = key.sign(b"x", &longest).unwrap();
        assert_eq!(
            public().verify(b"x", &signature).unwrap().trusted_comment(),
            longest
        );
        let err = key.sign(b"x", &format!("{longest}x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid trusted comment: it is 8174 bytes, the most minisign accepts is 8173"
        );
        assert!(key.sign(b"", "").is_ok());
    }
}
