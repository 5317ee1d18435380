//! Evidence: Ed25519 keys and detached signatures in files that are
//! byte-compatible with [minisign](https://jedisct1.github.io/minisign/), so a
//! report or manifest signed here verifies with a stock
//! `minisign -V -p key.pub -m FILE`, and minisign's signatures verify here.
//!
//! - Public key file: `untrusted comment: minisign public key <KEY ID>`, then
//!   base64(`Ed` || key id (8) || Ed25519 public key (32)).
//! - Secret key file: unencrypted, in the layout `minisign -G -W` writes.
//!   Password-protected (scrypt) keys are refused with a clear error.
//! - Signature file (`<file>.minisig`): an untrusted (unsigned) comment, the
//!   signature over BLAKE2b-512 of the data, a trusted comment, and a
//!   signature over (signature || trusted comment). Legacy signatures over
//!   the data itself (`Ed`) verify too; they are never written.
//!
//! Parsers never panic; every rejection names the file and line.

#![forbid(unsafe_code)]

mod encoding;
mod error;
mod files;
mod key;
mod signature;

pub use error::EvidenceError;
pub use files::{
    generate_key_files, sign_file, signature_path, verify_bytes, verify_file, write_atomically,
};
pub use key::{KeyId, PublicKey, SecretKey};
pub use signature::{Signature, Verified};
