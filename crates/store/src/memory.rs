//! The in-memory store: for tests and for hosts that keep the log elsewhere.

use std::collections::HashMap;
use std::sync::Mutex;

use memberledger_core::{MemberId, RecordedEvent, Uuid};

use crate::{
    Append, AppendConflict, CommandPlace, CommandRecord, EventStore, Head, Index, RawEvent,
    StoreError,
};

#[derive(Default)]
struct Inner {
    index: Index,
    log: Vec<RawEvent>,
    meta: HashMap<String, Vec<u8>>,
    digests: HashMap<Uuid, [u8; 32]>,
}

/// A store that keeps everything in memory. Gone when dropped.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::storage("a writer panicked while holding the store"))
    }
}

impl EventStore for MemoryStore {
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError> {
        let mut inner = self.lock()?;
        let (outcome, sealed) = inner.index.seal(batch)?;
        for s in &sealed {
            for (e, j) in s.events.iter().zip(&s.json) {
                inner.log.push(RawEvent {
                    position: e.position,
                    hash: e.hash,
                    json: j.clone().into_bytes(),
                });
            }
        }
        for s in &sealed {
            inner.digests.insert(s.record.command, s.record.digest);
        }
        inner.index.commit(&sealed);
        Ok(Index::outcomes(outcome, sealed))
    }

    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        let inner = self.lock()?;
        Ok(inner.index.command(id).map(|p| CommandRecord {
            command: id,
            member: p.member,
            digest: inner.digests[&id],
            first_position: p.first_position,
            count: p.count,
        }))
    }

    fn command_place(&self, id: Uuid) -> Result<Option<CommandPlace>, StoreError> {
        Ok(self.lock()?.index.command(id))
    }

    fn head(&self) -> Result<Head, StoreError> {
        Ok(self.lock()?.index.head())
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        let inner = self.lock()?;
        let start = usize::try_from(from.max(1) - 1).unwrap_or(usize::MAX);
        Ok(inner.log.iter().skip(start).take(limit).cloned().collect())
    }

    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        Ok(self.lock()?.index.member_positions(member))
    }

    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        Ok(self.lock()?.index.member_version(member))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.meta.get(key).cloned())
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.lock()?.meta.insert(key.to_owned(), value.to_vec());
        Ok(())
    }
}
