//! Collect what a Linux system *is* into one versioned, deterministic snapshot.
//!
//! Collectors only read, through a [`Root`], and never fail the whole
//! collection: a source that cannot be read becomes a [`FactError`] inside the
//! snapshot. Parsers are pure functions (`&str` in, typed value or
//! [`ParseError`] out) so they can be unit-tested and fuzzed.

pub mod collect;
mod error;
mod model;
mod root;
pub mod text;

pub use error::{FactError, FactErrorKind, ParseError};
pub use model::*;
pub use root::Root;
