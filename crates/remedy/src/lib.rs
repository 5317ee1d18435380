//! Fixing failing controls: a [`Plan`] of exact changes derived from the
//! audit, applied beneath a root as one journaled transaction that can be
//! rolled back byte for byte, and that a crash at any step cannot leave
//! half-done.

mod beneath;
mod journal;
mod plan;
mod planner;
mod preview;
mod render;
mod transaction;
mod want;
mod wants;

pub use beneath::{FsError, Node, RootDir};
pub use journal::{Status, TRANSACTIONS};
pub use plan::{Change, Desired, ManualStep, Plan};
pub use planner::{PlanError, plan};
pub use preview::preview;
pub use render::{ReadRoot, RenderError, render};
pub use transaction::{
    Recovered, TransactionInfo, TxError, Which, apply, is_done, recover, rollback, target,
    transactions,
};
pub use want::Want;
pub use wants::{Remedy, remedy_for};
