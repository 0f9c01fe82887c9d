//! A store that fails writes on purpose. It wraps the real store (memory or sled) and, as the
//! seed decides, fails an append either before writing anything or after the inner store has
//! made it durable (the acknowledgement is lost). Everything else is passed through.
//!
//! Whether an append fails is a hash of the seed, the first command id of the append and how
//! many appends have carried that id, so the same sequential stream meets the same faults, and
//! a retry of a failed command is not doomed to fail the same way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use memberledger::domain::RecordedEvent;
use memberledger::store::{EventStore, StoreError};
use memberledger::{MemberId, Uuid};
use memberledger_store::{Append, AppendConflict, CommandPlace, CommandRecord, Head, RawEvent};

use super::rng::mix;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Failed before writing: nothing reached the store.
    Before,
    /// The inner store wrote it durably; the acknowledgement was lost.
    After,
}

/// One injected failure.
#[derive(Clone, Debug)]
pub struct Injected {
    pub kind: FaultKind,
    /// Of those, what the inner store recorded (only for `After`).
    pub recorded: Vec<Uuid>,
}

/// Shared between the wrapper (rebuilt at every reopen) and the simulation.
pub struct Faults {
    seed: u64,
    armed: AtomicBool,
    before_per_mille: u64,
    after_per_mille: u64,
    log: Mutex<FaultLog>,
}

#[derive(Default)]
struct FaultLog {
    attempts: HashMap<Uuid, u64>,
    injected: Vec<Injected>,
}

impl Faults {
    pub fn new(seed: u64, before_per_mille: u64, after_per_mille: u64) -> Arc<Faults> {
        Arc::new(Faults {
            seed,
            armed: AtomicBool::new(true),
            before_per_mille,
            after_per_mille,
            log: Mutex::new(FaultLog::default()),
        })
    }

    pub fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }

    pub fn armed(&self) -> bool {
        self.armed.load(Ordering::SeqCst)
    }

    /// The failures injected since the last call.
    pub fn take(&self) -> Vec<Injected> {
        std::mem::take(&mut self.log.lock().expect("fault log").injected)
    }

    fn decide(&self, batch: &[Append]) -> Option<FaultKind> {
        let first = batch.first()?.command;
        let mut log = self.log.lock().expect("fault log");
        let n = log.attempts.entry(first).or_insert(0);
        *n += 1;
        if !self.armed.load(Ordering::SeqCst) {
            return None;
        }
        let (hi, lo) = first.as_u64_pair();
        let roll = mix(self.seed ^ mix(hi ^ mix(lo ^ *n))) % 1000;
        if roll < self.before_per_mille {
            Some(FaultKind::Before)
        } else if roll < self.before_per_mille + self.after_per_mille {
            Some(FaultKind::After)
        } else {
            None
        }
    }

    fn note(&self, injected: Injected) {
        self.log.lock().expect("fault log").injected.push(injected);
    }
}

pub struct FaultStore {
    inner: Arc<dyn EventStore>,
    faults: Arc<Faults>,
}

impl FaultStore {
    pub fn new(inner: Arc<dyn EventStore>, faults: Arc<Faults>) -> FaultStore {
        FaultStore { inner, faults }
    }
}

type AppendResult = Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError>;

impl EventStore for FaultStore {
    fn append(&self, batch: Vec<Append>) -> AppendResult {
        match self.faults.decide(&batch) {
            None => self.inner.append(batch),
            Some(FaultKind::Before) => {
                self.faults.note(Injected {
                    kind: FaultKind::Before,
                    recorded: Vec::new(),
                });
                Err(StoreError::storage(
                    "injected: the write failed before anything was written",
                ))
            }
            Some(FaultKind::After) => {
                let commands: Vec<Uuid> = batch.iter().map(|a| a.command).collect();
                let outcome = self.inner.append(batch)?;
                let recorded = commands
                    .iter()
                    .zip(&outcome)
                    .filter(|(_, r)| r.is_ok())
                    .map(|(c, _)| *c)
                    .collect();
                self.faults.note(Injected {
                    kind: FaultKind::After,
                    recorded,
                });
                Err(StoreError::storage(
                    "injected: written, but the acknowledgement was lost",
                ))
            }
        }
    }

    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        self.inner.command(id)
    }

    // Every provided method the inner store may answer its own way is passed through, so the
    // ledger meets the store as it is (sled answers where a command is from its index in
    // memory; the trait's default would read the command's record for each event replayed).
    fn commands(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandRecord>>, StoreError> {
        self.inner.commands(ids)
    }

    fn command_place(&self, id: Uuid) -> Result<Option<CommandPlace>, StoreError> {
        self.inner.command_place(id)
    }

    fn command_places(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandPlace>>, StoreError> {
        self.inner.command_places(ids)
    }

    fn head(&self) -> Result<Head, StoreError> {
        self.inner.head()
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        self.inner.read_raw(from, limit)
    }

    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        self.inner.member_positions(member)
    }

    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        self.inner.member_version(member)
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta(key)
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set_meta(key, value)
    }

    fn checkpoint_positions(&self) -> Result<Vec<u64>, StoreError> {
        self.inner.checkpoint_positions()
    }

    fn keeps_checkpoints(&self) -> bool {
        self.inner.keeps_checkpoints()
    }

    fn read_checkpoint(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_checkpoint(position)
    }

    fn write_checkpoint(&self, position: u64, bytes: &[u8]) -> Result<bool, StoreError> {
        self.inner.write_checkpoint(position, bytes)
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_positions(positions)
    }

    fn member_events(&self, member: &MemberId) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.member_events(member)
    }
}
