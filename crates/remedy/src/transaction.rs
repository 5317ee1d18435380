//! Applying a plan as one transaction, rolling it back, and finishing
//! whatever a crash interrupted.

use crate::beneath::{FsError, Node, RootDir};
use crate::journal::{Journal, Prior, Record, Status, TRANSACTIONS};
use crate::plan::{Change, Desired, Plan};
use serde::Serialize;

/// Why a transaction could not be applied or undone.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// A file operation failed before anything changed.
    #[error("{0} (nothing was changed)")]
    Refused(FsError),
    /// A planned target is not what the plan can safely replace.
    #[error("{path}: {reason} (nothing was changed)")]
    Unsafe {
        /// The target.
        path: String,
        /// Why.
        reason: String,
    },
    /// A step failed; everything done so far was rolled back.
    #[error("transaction {id}: {error}; every change made was rolled back")]
    RolledBack {
        /// Transaction id.
        id: String,
        /// The failure.
        error: Box<FsError>,
    },
    /// A step failed and so did undoing: the journal keeps what is needed
    /// to finish with `tractorsec rollback`.
    #[error(
        "transaction {id}: {error}; rolling back also failed ({rollback}); run `tractorsec rollback {id}`"
    )]
    Stuck {
        /// Transaction id.
        id: String,
        /// The first failure.
        error: Box<FsError>,
        /// The rollback failure.
        rollback: Box<FsError>,
    },
    /// No such transaction, or not one that can be rolled back now.
    #[error("{0}")]
    NotFound(String),
    /// The journal could not be read or written.
    #[error("transaction journal: {0}")]
    Journal(FsError),
}

/// One transaction, as `tractorsec transactions` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionInfo {
    /// Id (sortable by time).
    pub id: String,
    /// Where it stands.
    pub status: Status,
    /// Paths and tunables it changes.
    pub targets: Vec<String>,
    /// Controls it fixes.
    pub controls: Vec<String>,
}

/// What recovery did to an interrupted transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    /// Transaction id.
    pub id: String,
    /// The state it was found in.
    pub found: Status,
}

/// `/proc/sys/<key with dots as slashes>`.
pub fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// The path a change touches.
pub fn target(change: &Change) -> String {
    match change {
        Change::Put { path, .. } | Change::DevNode { path, .. } => path.clone(),
        Change::Sysctl { key, .. } => sysctl_path(key),
    }
}

/// Whether the target already is as the change wants it.
pub fn is_done(root: &RootDir, change: &Change) -> Result<bool, FsError> {
    Ok(done(change, &root.node(&target(change))?))
}

/// Whether `node`, the change's target now, already is as it wants.
fn done(change: &Change, node: &Node) -> bool {
    match (change, node) {
        (
            Change::Put {
                desired:
                    Desired::File {
                        content,
                        mode,
                        uid,
                        gid,
                    },
                ..
            },
            Node::File {
                bytes,
                mode: m,
                uid: u,
                gid: g,
            },
        ) => bytes == content.as_bytes() && mode == m && uid == u && gid == g,
        (
            Change::Put {
                desired: Desired::Symlink { target },
                ..
            },
            Node::Symlink { target: t },
        ) => target == t,
        (Change::Sysctl { value, .. }, Node::File { bytes, .. }) => {
            String::from_utf8_lossy(bytes).trim() == value.trim()
        }
        (
            Change::DevNode { mode, uid, gid, .. },
            Node::Other {
                mode: m,
                uid: u,
                gid: g,
            },
        ) => mode == m && uid == u && gid == g,
        _ => false,
    }
}

/// The prior state of a change's target (`node`, as it is now), refusing
/// what it must not touch.
fn prior(change: &Change, node: Node) -> Result<(Prior, Option<Vec<u8>>), TxError> {
    let path = target(change);
    let unsafe_target = |reason: String| {
        Err(TxError::Unsafe {
            path: path.clone(),
            reason,
        })
    };
    match (change, node) {
        (Change::Put { desired, .. }, Node::Symlink { target }) => match desired {
            Desired::Symlink { .. } => Ok((Prior::Symlink { target }, None)),
            Desired::File { .. } => unsafe_target(format!(
                "is a symbolic link (to {target}); refusing to follow or replace it"
            )),
        },
        (Change::Put { .. }, Node::Absent) => Ok((Prior::Absent, None)),
        (
            Change::Put { .. },
            Node::File {
                bytes,
                mode,
                uid,
                gid,
            },
        ) => Ok((Prior::File { mode, uid, gid }, Some(bytes))),
        (Change::Put { .. }, Node::Other { .. }) => {
            unsafe_target("is not a regular file or link; refusing to replace it".to_string())
        }
        (Change::Sysctl { .. }, Node::File { bytes, .. }) => Ok((
            Prior::Value {
                value: String::from_utf8_lossy(&bytes).trim().to_string(),
            },
            None,
        )),
        (Change::Sysctl { key, .. }, _) => {
            unsafe_target(format!("kernel tunable {key} is not available here"))
        }
        (Change::DevNode { .. }, Node::Other { mode, uid, gid }) => {
            Ok((Prior::Node { mode, uid, gid }, None))
        }
        (Change::DevNode { .. }, _) => {
            unsafe_target("is not a device node; refusing to change it".to_string())
        }
    }
}

/// Make one change.
fn perform(root: &RootDir, change: &Change) -> Result<(), FsError> {
    match change {
        Change::Put {
            path,
            desired:
                Desired::File {
                    content,
                    mode,
                    uid,
                    gid,
                },
        } => root.put_file(path, content.as_bytes(), *mode, *uid, *gid),
        Change::Put {
            path,
            desired: Desired::Symlink { target },
        } => root.put_symlink(path, target),
        Change::Sysctl { key, value } => {
            root.write_in_place(&sysctl_path(key), format!("{value}\n").as_bytes())
        }
        Change::DevNode {
            path,
            mode,
            uid,
            gid,
        } => root.set_mode_owner(path, *mode, *uid, *gid),
    }
}

/// Put one target back as it was.
fn restore(
    journal: &Journal<'_>,
    root: &RootDir,
    n: usize,
    change: &Change,
    prior: &Prior,
) -> Result<(), FsError> {
    let path = target(change);
    match prior {
        Prior::Absent => root.remove(&path),
        Prior::File { mode, uid, gid } => {
            root.put_file(&path, &journal.prior_bytes(n)?, *mode, *uid, *gid)
        }
        Prior::Symlink { target } => root.put_symlink(&path, target),
        Prior::Node { mode, uid, gid } => root.set_mode_owner(&path, *mode, *uid, *gid),
        Prior::Value { value } => root.write_in_place(&path, format!("{value}\n").as_bytes()),
    }
}

/// Test builds only: abort the process when `var` names this step, so
/// tests can prove that recovery handles a crash at every step.
fn crash_point(var: &str, step: usize) {
    if cfg!(debug_assertions)
        && std::env::var(var)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            == Some(step)
    {
        std::process::abort();
    }
}

/// Undo every change of a transaction, newest first (restoring is
/// idempotent, so an interrupted rollback is simply run again).
fn undo(root: &RootDir, journal: &Journal<'_>) -> Result<(), FsError> {
    let record = journal.record()?;
    journal.log("rollback")?;
    for (n, (change, prior)) in record.changes.iter().zip(&record.priors).enumerate().rev() {
        restore(journal, root, n, change, prior)?;
        crash_point("TRACTORSEC_CRASH_AFTER_RESTORE", record.changes.len() - n);
        journal.log(&format!("restored {n}"))?;
    }
    for dir in record.created_dirs.iter().rev() {
        root.remove_dir(dir)?;
    }
    journal.log("rolled-back")
}

/// Finish what interrupted runs left: roll back transactions that were
/// applying or rolling back; discard ones that never began.
pub fn recover(root: &RootDir) -> Result<Vec<Recovered>, TxError> {
    let mut recovered = Vec::new();
    for id in root.list(TRANSACTIONS).map_err(TxError::Journal)? {
        let journal = Journal::open(root, &id);
        let found = journal.status().map_err(TxError::Journal)?;
        match found {
            Status::Prepared => journal.discard().map_err(TxError::Journal)?,
            Status::Applying | Status::RollingBack => {
                undo(root, &journal).map_err(TxError::Journal)?
            }
            Status::Committed | Status::RolledBack => continue,
        }
        recovered.push(Recovered { id, found });
    }
    Ok(recovered)
}

/// Apply `plan` as one transaction; `None` when there is nothing to change.
/// Any failure rolls back what was done.
pub fn apply(root: &RootDir, plan: &Plan) -> Result<Option<String>, TxError> {
    let mut changes = Vec::new();
    let mut priors = Vec::new();
    let mut prior_bytes = Vec::new();
    let mut created_dirs: Vec<String> = Vec::new();
    for change in &plan.changes {
        let node = root.node(&target(change)).map_err(TxError::Refused)?;
        if done(change, &node) {
            continue;
        }
        let (prior, bytes) = prior(change, node)?;
        changes.push(change.clone());
        priors.push(prior);
        prior_bytes.push(bytes);
        for dir in root
            .missing_dirs(&target(change))
            .map_err(TxError::Refused)?
        {
            if !created_dirs.contains(&dir) {
                created_dirs.push(dir);
            }
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }
    let record = Record {
        changes,
        priors,
        created_dirs,
        controls: plan
            .fixes
            .iter()
            .chain(&plan.fixes_after_reboot)
            .cloned()
            .collect(),
    };
    let journal = Journal::create(root).map_err(TxError::Refused)?;
    if let Err(e) = journal
        .write_record(&record, &prior_bytes)
        .and_then(|_| journal.log("begin"))
    {
        let _ = journal.discard();
        return Err(TxError::Refused(e));
    }
    let id = journal.id.clone();
    let result = (|| {
        for dir in &record.created_dirs {
            root.create_dir(dir)?;
        }
        for (n, change) in record.changes.iter().enumerate() {
            perform(root, change)?;
            crash_point("TRACTORSEC_CRASH_AFTER_STEP", n + 1);
            journal.log(&format!("applied {n}"))?;
        }
        journal.log("committed")
    })();
    match result {
        Ok(()) => Ok(Some(id)),
        Err(error) => match undo(root, &journal) {
            Ok(()) => Err(TxError::RolledBack {
                id,
                error: Box::new(error),
            }),
            Err(rollback) => Err(TxError::Stuck {
                id,
                error: Box::new(error),
                rollback: Box::new(rollback),
            }),
        },
    }
}

/// Which transaction to roll back.
pub enum Which<'s> {
    /// The newest committed one.
    Last,
    /// This one (it must be the newest committed one).
    Id(&'s str),
}

/// Roll back a committed transaction: only the newest one still in effect,
/// so that no later change is overwritten with older state.
pub fn rollback(root: &RootDir, which: Which<'_>) -> Result<String, TxError> {
    let mut newest = None;
    for id in root
        .list(TRANSACTIONS)
        .map_err(TxError::Journal)?
        .into_iter()
        .rev()
    {
        if Journal::open(root, &id)
            .status()
            .map_err(TxError::Journal)?
            == Status::Committed
        {
            newest = Some(id);
            break;
        }
    }
    let Some(newest) = newest else {
        return Err(TxError::NotFound(
            "no applied transaction to roll back".to_string(),
        ));
    };
    if let Which::Id(id) = which
        && id != newest
    {
        return Err(TxError::NotFound(format!(
            "transaction {id} is not the newest one in effect ({newest}); roll back newer ones first"
        )));
    }
    undo(root, &Journal::open(root, &newest)).map_err(TxError::Journal)?;
    Ok(newest)
}

/// Every transaction, oldest first.
pub fn transactions(root: &RootDir) -> Result<Vec<TransactionInfo>, TxError> {
    let mut out = Vec::new();
    for id in root.list(TRANSACTIONS).map_err(TxError::Journal)? {
        let journal = Journal::open(root, &id);
        let status = journal.status().map_err(TxError::Journal)?;
        let record = journal.record().ok();
        out.push(TransactionInfo {
            id,
            status,
            targets: record
                .as_ref()
                .map(|r| r.changes.iter().map(target).collect())
                .unwrap_or_default(),
            controls: record.map(|r| r.controls).unwrap_or_default(),
        });
    }
    Ok(out)
}
