//! Fixing failing controls: a [`Plan`] of exact changes derived from the
//! audit, applied beneath a root as one journaled transaction that can be
//! rolled back byte for byte, and that a crash at any step cannot leave
//! half-done.

mod plan;
mod want;

pub use plan::{Change, Desired, ManualStep, Plan};
pub use want::Want;
