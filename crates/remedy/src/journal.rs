//! The transaction journal under `<root>/var/lib/tractorsec/transactions/<id>/`:
//! `record.json` holds the changes, the prior state of every target and the
//! directories the transaction creates, written before anything changes;
//! `prior-<n>` hold prior file bytes; `log` is an append-only, fsynced list
//! of the steps done (`begin`, `applied N`, `committed`, `rollback`,
//! `restored N`, `rolled-back`).

use crate::beneath::{FsError, Node, RootDir};
use crate::plan::Change;
use serde::{Deserialize, Serialize};

/// Where transactions live, beneath the root.
pub const TRANSACTIONS: &str = "/var/lib/tractorsec/transactions";

/// The state a target was in before the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Prior {
    /// Nothing was there.
    Absent,
    /// A regular file, its bytes in `prior-<n>`.
    File {
        /// Permission bits.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// A symbolic link.
    Symlink {
        /// Its target.
        target: String,
    },
    /// A device node (or other non-file): mode and owner.
    Node {
        /// Permission bits.
        mode: u32,
        /// Owner.
        uid: u32,
        /// Group.
        gid: u32,
    },
    /// A kernel tunable's value.
    Value {
        /// The value as read.
        value: String,
    },
}

/// What a transaction did, as recorded before doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// The prior state of each change's target, same order.
    pub priors: Vec<Prior>,
    /// Directories the transaction creates, outermost first.
    pub created_dirs: Vec<String>,
    /// The controls it fixes.
    pub controls: Vec<String>,
}

/// Where a transaction stands, from its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded, nothing changed yet (an interrupted start).
    Prepared,
    /// Changing; interrupted if found by another run.
    Applying,
    /// Every change made.
    Committed,
    /// Being undone; interrupted if found by another run.
    RollingBack,
    /// Undone.
    RolledBack,
}

/// One transaction's directory beneath the root.
pub struct Journal<'a> {
    root: &'a RootDir,
    /// Transaction id.
    pub id: String,
    /// Directories above it that creating it made (removed again by
    /// [`Journal::discard`] when empty).
    created: Vec<String>,
}

impl<'a> Journal<'a> {
    /// The journal of transaction `id`.
    pub fn open(root: &'a RootDir, id: &str) -> Journal<'a> {
        Journal {
            root,
            id: id.to_string(),
            created: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{TRANSACTIONS}/{}/{name}", self.id)
    }

    /// Create a new transaction directory with a fresh, sortable id.
    pub fn create(root: &'a RootDir) -> Result<Journal<'a>, FsError> {
        let created = root.missing_dirs(&format!("{TRANSACTIONS}/x"))?;
        for dir in &created {
            root.create_dir(dir)?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let stamp =
            tractorsec_facts::collect::time::rfc3339(now.as_secs() as i64).replace(['-', ':'], "");
        let existing = root.list(TRANSACTIONS)?;
        let id = (0..)
            .map(|n| format!("{stamp}-{n:03}"))
            .find(|id| !existing.contains(id))
            .unwrap_or_default();
        let journal = Journal { root, id, created };
        if let Err(e) = root.create_dir(&format!("{TRANSACTIONS}/{}", journal.id)) {
            let _ = journal.discard();
            return Err(e);
        }
        Ok(journal)
    }

    /// Write the record and the prior bytes (before anything changes).
    pub fn write_record(
        &self,
        record: &Record,
        prior_bytes: &[Option<Vec<u8>>],
    ) -> Result<(), FsError> {
        for (n, bytes) in prior_bytes.iter().enumerate() {
            if let Some(bytes) = bytes {
                self.root
                    .put_file(&self.path(&format!("prior-{n}")), bytes, 0o600, 0, 0)?;
            }
        }
        let json = serde_json::to_string_pretty(record).unwrap_or_default();
        self.root
            .put_file(&self.path("record.json"), json.as_bytes(), 0o600, 0, 0)
    }

    /// The record.
    pub fn record(&self) -> Result<Record, FsError> {
        let path = self.path("record.json");
        match self.root.node(&path)? {
            Node::File { bytes, .. } => serde_json::from_slice(&bytes).map_err(|e| FsError {
                path,
                action: "read the transaction record",
                reason: e.to_string(),
                missing: false,
            }),
            _ => Err(FsError {
                path,
                action: "read the transaction record",
                reason: "missing".to_string(),
                missing: true,
            }),
        }
    }

    /// The prior bytes of change `n`.
    pub fn prior_bytes(&self, n: usize) -> Result<Vec<u8>, FsError> {
        let path = self.path(&format!("prior-{n}"));
        match self.root.node(&path)? {
            Node::File { bytes, .. } => Ok(bytes),
            _ => Err(FsError {
                path,
                action: "read the prior contents",
                reason: "missing".to_string(),
                missing: true,
            }),
        }
    }

    /// Append one step to the log, durably.
    pub fn log(&self, step: &str) -> Result<(), FsError> {
        self.root.append_synced(&self.path("log"), step)
    }

    /// The steps logged so far.
    pub fn steps(&self) -> Result<Vec<String>, FsError> {
        match self.root.node(&self.path("log"))? {
            Node::File { bytes, .. } => Ok(String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::to_string)
                .collect()),
            _ => Ok(Vec::new()),
        }
    }

    /// Where the transaction stands.
    pub fn status(&self) -> Result<Status, FsError> {
        let steps = self.steps()?;
        let has = |s: &str| steps.iter().any(|l| l == s);
        Ok(if has("rolled-back") {
            Status::RolledBack
        } else if has("rollback") {
            Status::RollingBack
        } else if has("committed") {
            Status::Committed
        } else if has("begin") {
            Status::Applying
        } else {
            Status::Prepared
        })
    }

    /// Remove a transaction that never began (nothing to undo), and the
    /// directories creating it made, when empty.
    pub fn discard(&self) -> Result<(), FsError> {
        for name in self.root.list(&format!("{TRANSACTIONS}/{}", self.id))? {
            self.root.remove(&self.path(&name))?;
        }
        self.root
            .remove_dir(&format!("{TRANSACTIONS}/{}", self.id))?;
        for dir in self.created.iter().rev() {
            self.root.remove_dir(dir)?;
        }
        Ok(())
    }
}
