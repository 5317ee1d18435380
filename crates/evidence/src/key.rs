//! Ed25519 key pairs in minisign's public and (unencrypted) secret key files.

use std::fmt;

use blake2::{Blake2b256, Digest as _};
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::EvidenceError;
use crate::encoding::{Lines, UNTRUSTED_PREFIX, encode};

/// minisign's signature algorithm id in keys (and in legacy signatures).
pub(crate) const ED25519: [u8; 2] = *b"Ed";
/// Key derivation "none": the secret key is stored in clear (`minisign -W`).
const KDF_NONE: [u8; 2] = [0, 0];
/// Key derivation scrypt: the secret key is encrypted with a password.
const KDF_SCRYPT: [u8; 2] = *b"Sc";
/// Checksum algorithm: BLAKE2b-256.
const CHECKSUM_BLAKE2B: [u8; 2] = *b"B2";
/// sig_alg, key id, public key.
const PUBLIC_KEY_BYTES: usize = 2 + 8 + 32;
/// sig_alg, kdf_alg, chk_alg, kdf salt, opslimit, memlimit, key id, seed, public key, checksum.
const SECRET_KEY_BYTES: usize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 32 + 32 + 32;

/// The 8-byte id minisign gives a key pair, shown as minisign shows it:
/// the little-endian u64 in uppercase hex, without leading zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub(crate) [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}", u64::from_le_bytes(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A public key: verifies signatures made by the matching [`SecretKey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub(crate) key_id: KeyId,
    pub(crate) key: VerifyingKey,
}

impl PublicKey {
    /// Reads a minisign public key file (`file` names it in errors).
    pub fn parse(text: &str, file: &str) -> Result<Self, EvidenceError> {
        let mut lines = Lines::new(text, file);
        lines.comment(UNTRUSTED_PREFIX, "untrusted comment")?;
        let mut fields = lines.base64("public key", PUBLIC_KEY_BYTES)?;
        lines.expect_algorithm("signature", fields.take(), ED25519, "\"Ed\"")?;
        let key_id = KeyId(fields.take());
        let key = VerifyingKey::from_bytes(&fields.take())
            .ok()
            .filter(|key| !key.is_weak())
            .ok_or_else(|| lines.error("the public key is not a usable Ed25519 public key"))?;
        lines.finish()?;
        Ok(Self { key_id, key })
    }

    /// The public key file, as `minisign -G` writes it.
    pub fn to_text(&self) -> String {
        let blob = [&ED25519[..], &self.key_id.0, self.key.as_bytes()].concat();
        format!(
            "{UNTRUSTED_PREFIX}minisign public key {}\n{}\n",
            self.key_id,
            encode(&blob)
        )
    }

    /// The key id, which signatures made with this key carry.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
}

/// A secret key: signs. Stored unencrypted, like `minisign -G -W` stores it,
/// so protect the file (it is created mode 0600).
#[derive(Clone)]
pub struct SecretKey {
    pub(crate) key_id: KeyId,
    pub(crate) key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A new key pair with a random key id, from the operating system's random source.
    pub fn generate() -> Result<Self, EvidenceError> {
        let mut seed = [0; 32];
        let mut key_id = [0; 8];
        getrandom::fill(&mut seed)
            .and_then(|()| getrandom::fill(&mut key_id))
            .map_err(|err| EvidenceError::Random(err.to_string()))?;
        Ok(Self {
            key_id: KeyId(key_id),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads an unencrypted minisign secret key file (`file` names it in errors).
    /// Password-protected keys are rejected with [`EvidenceError::EncryptedKey`].
    pub fn parse(text: &str, file: &str) -> Result<Self, EvidenceError> {
        let mut lines = Lines::new(text, file);
        lines.comment(UNTRUSTED_PREFIX, "untrusted comment")?;
        let mut fields = lines.base64("secret key", SECRET_KEY_BYTES)?;
        lines.expect_algorithm("signature", fields.take(), ED25519, "\"Ed\"")?;
        match fields.take() {
            KDF_NONE => {}
            KDF_SCRYPT => {
                return Err(EvidenceError::EncryptedKey {
                    file: file.to_owned(),
                    line: lines.number(),
                });
            }
            found => {
                let expected = "none (two zero bytes)";
                return Err(lines.unknown_algorithm("key derivation", found, expected));
            }
        }
        lines.expect_algorithm("checksum", fields.take(), CHECKSUM_BLAKE2B, "\"B2\"")?;
        // The scrypt salt and limits: unused (zero) in an unencrypted key.
        let _kdf_parameters: [u8; 32 + 8 + 8] = fields.take();
        let key_id = KeyId(fields.take());
        let seed: [u8; 32] = fields.take();
        let public: [u8; 32] = fields.take();
        let stored_checksum: [u8; 32] = fields.take();
        let corrupt = |problem| EvidenceError::CorruptKey {
            file: file.to_owned(),
            line: lines.number(),
            problem,
        };
        // `minisign -G -W` leaves the checksum zero (it is computed only when
        // encrypting); when present it must match.
        if stored_checksum != [0; 32] && stored_checksum != checksum(key_id, &seed, &public) {
            return Err(corrupt("the checksum does not match the key"));
        }
        let key = SigningKey::from_bytes(&seed);
        if key.verifying_key().as_bytes() != &public {
            return Err(corrupt("the public half does not match the secret half"));
        }
        lines.finish()?;
        Ok(Self { key_id, key })
    }

    /// The secret key file, in the layout `minisign -G -W` writes (with the
    /// checksum filled in, which minisign accepts).
    pub fn to_text(&self) -> String {
        let seed = self.key.as_bytes();
        let public = self.key.verifying_key().to_bytes();
        let blob = [
            &ED25519[..],
            &KDF_NONE,
            &CHECKSUM_BLAKE2B,
            &[0; 32 + 8 + 8],
            &self.key_id.0,
            seed,
            &public,
            &checksum(self.key_id, seed, &public),
        ]
        .concat();
        format!(
            "{UNTRUSTED_PREFIX}minisign unencrypted secret key {}\n{}\n",
            self.key_id,
            encode(&blob)
        )
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key id, which signatures made with this key carry.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
}

/// minisign's secret key checksum: BLAKE2b-256(sig_alg || key id || seed || public key).
fn checksum(key_id: KeyId, seed: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
    Blake2b256::new()
        .chain_update(ED25519)
        .chain_update(key_id.0)
        .chain_update(seed)
        .chain_update(public)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const PUB: &str = include_str!("../tests/fixtures/minisign/test.pub");
    const KEY: &str = include_str!("../tests/fixtures/minisign/test.key");
    const ENCRYPTED: &str = include_str!("../tests/fixtures/minisign/encrypted.key");

    #[test]
    fn key_ids_print_without_leading_zeros_like_minisign() {
        // Key id bytes are little-endian: a zero last byte is a leading zero.
        let text = patch_blob(PUB, |blob| {
            blob[2..10].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 0])
        });
        let key = PublicKey::parse(&text, "k.pub").unwrap();
        assert!(
            key.to_text()
                .starts_with("untrusted comment: minisign public key 7060504030201\n")
        );
        assert_eq!(key.key_id().to_string(), "7060504030201");
        assert_eq!(PublicKey::parse(&key.to_text(), "k.pub").unwrap(), key);
    }

    /// `text` with the bytes of its second (base64) line changed by `edit`.
    fn patch_blob(text: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let mut blob = STANDARD.decode(&lines[1]).unwrap();
        edit(&mut blob);
        lines[1] = STANDARD.encode(blob);
        lines.join("\n") + "\n"
    }

    #[test]
    fn key_id_is_shown_as_minisign_shows_it() {
        let id = KeyId([0x18, 0xF3, 0x9E, 0xD1, 0x37, 0x33, 0x5D, 0x85]);
        assert_eq!(id.to_string(), "855D3337D19EF318");
        assert_eq!(format!("{id:?}"), "KeyId(855D3337D19EF318)");
        // minisign 0.11 prints `%" PRIX64`: no leading zeros.
        assert_eq!(KeyId([1, 0, 0, 0, 0, 0, 0, 0]).to_string(), "1");
    }

    #[test]
    fn minisign_public_key_round_trips_byte_for_byte() {
        let key = PublicKey::parse(PUB, "test.pub").unwrap();
        assert_eq!(key.key_id().to_string(), "855D3337D19EF318");
        assert_eq!(key.to_text(), PUB);
    }

    #[test]
    fn public_key_parse_errors_name_file_and_line() {
        let cases = [
            (
                "",
                "k.pub:1: missing the untrusted comment (the file is truncated)",
            ),
            (
                "RWQY857RNzNdhVrY\n",
                "k.pub:1: expected the untrusted comment",
            ),
            ("untrusted comment: x\n", "k.pub:2: missing the public key"),
            (
                "untrusted comment: x\nRWQ!\n",
                "k.pub:2: the public key is not valid base64",
            ),
            (
                "untrusted comment: x\nRWQY\n",
                "k.pub:2: the public key is 3 bytes, expected 42",
            ),
            (
                &format!("{PUB}more\n"),
                "k.pub:3: unexpected text after the end",
            ),
        ];
        for (text, expected) in cases {
            let err = PublicKey::parse(text, "k.pub").unwrap_err();
            assert!(err.to_string().starts_with(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn public_key_with_unknown_algorithm_is_rejected() {
        let text = patch_blob(PUB, |blob| blob[1] = b'x');
        let err = PublicKey::parse(&text, "k.pub").unwrap_err();
        assert!(matches!(
            err,
            EvidenceError::UnknownAlgorithm { line: 2, .. }
        ));
        assert_eq!(
            err.to_string(),
            "k.pub:2: unknown signature algorithm \"Ex\" (expected \"Ed\")"
        );
    }

    #[test]
    fn public_key_that_is_no_curve_point_or_weak_is_rejected() {
        // y = 2 is not the y of any curve point; the identity (y = 1) has small order.
        for y in [2, 1] {
            let text = patch_blob(PUB, |blob| {
                blob[10..].fill(0);
                blob[10] = y;
            });
            let err = PublicKey::parse(&text, "k.pub").unwrap_err();
            assert_eq!(
                err.to_string(),
                "k.pub:2: the public key is not a usable Ed25519 public key"
            );
        }
    }

    #[test]
    fn minisign_unencrypted_secret_key_is_read() {
        let key = SecretKey::parse(KEY, "test.key").unwrap();
        assert_eq!(key.public(), PublicKey::parse(PUB, "test.pub").unwrap());
        assert_eq!(key.key_id().to_string(), "855D3337D19EF318");
    }

    #[test]
    fn written_secret_key_has_minisign_w_layout_and_a_checksum() {
        let minisign = STANDARD.decode(KEY.lines().nth(1).unwrap()).unwrap();
        let ours_text = SecretKey::parse(KEY, "test.key").unwrap().to_text();
        let ours = STANDARD.decode(ours_text.lines().nth(1).unwrap()).unwrap();
        // Everything but the checksum (the last 32 bytes) is as minisign -W wrote it.
        assert_eq!(ours[..126], minisign[..126]);
        assert_eq!(minisign[126..], [0; 32]);
        let sk: [u8; 32] = ours[62..94].try_into().unwrap();
        let pk: [u8; 32] = ours[94..126].try_into().unwrap();
        let id = KeyId(ours[54..62].try_into().unwrap());
        assert_eq!(ours[126..], checksum(id, &sk, &pk));
        assert_eq!(
            ours_text.lines().next().unwrap(),
            "untrusted comment: minisign unencrypted secret key 855D3337D19EF318"
        );
    }

    #[test]
    fn generated_secret_key_round_trips() {
        let key = SecretKey::generate().unwrap();
        let again = SecretKey::parse(&key.to_text(), "new.key").unwrap();
        assert_eq!(again.public(), key.public());
        assert_eq!(again.to_text(), key.to_text());
        let public = PublicKey::parse(&key.public().to_text(), "new.pub").unwrap();
        assert_eq!(public, key.public());
        assert_ne!(SecretKey::generate().unwrap().public(), key.public());
    }

    #[test]
    fn encrypted_secret_key_is_refused_with_advice() {
        let err = SecretKey::parse(ENCRYPTED, "enc.key").unwrap_err();
        assert!(matches!(err, EvidenceError::EncryptedKey { line: 2, .. }));
        let message = err.to_string();
        assert!(
            message.starts_with("enc.key:2: the secret key is encrypted"),
            "{message}"
        );
        assert!(message.contains("`tractorsec key generate`"), "{message}");
        assert!(message.contains("`minisign -G -W`"), "{message}");
    }

    #[test]
    fn secret_key_with_unknown_algorithms_is_rejected() {
        let cases: [(usize, u8, &str); 3] = [
            (
                0,
                b'X',
                "k.key:2: unknown signature algorithm \"Xd\" (expected \"Ed\")",
            ),
            (
                2,
                b'Z',
                "k.key:2: unknown key derivation algorithm \"Z\\x00\" (expected none (two zero bytes))",
            ),
            (
                5,
                b'3',
                "k.key:2: unknown checksum algorithm \"B3\" (expected \"B2\")",
            ),
        ];
        for (at, byte, expected) in cases {
            let text = patch_blob(KEY, |blob| blob[at] = byte);
            let err = SecretKey::parse(&text, "k.key").unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn corrupt_secret_key_is_rejected() {
        let ours = SecretKey::parse(KEY, "test.key").unwrap().to_text();
        let cases = [
            // A bit of the seed flipped: the checksum no longer matches.
            (ours.as_str(), 70, "the checksum does not match the key"),
            // Same, in minisign's zero-checksum key: the public half no longer matches.
            (KEY, 70, "the public half does not match the secret half"),
            // The public half flipped in minisign's key.
            (KEY, 100, "the public half does not match the secret half"),
        ];
        for (text, at, problem) in cases {
            let text = patch_blob(text, |blob| blob[at] ^= 1);
            let err = SecretKey::parse(&text, "k.key").unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("k.key:2: corrupt secret key: {problem}")
            );
        }
    }

    #[test]
    fn secret_key_debug_does_not_show_the_secret() {
        let key = SecretKey::parse(KEY, "test.key").unwrap();
        assert_eq!(
            format!("{key:?}"),
            "SecretKey { key_id: KeyId(855D3337D19EF318), .. }"
        );
    }
}
