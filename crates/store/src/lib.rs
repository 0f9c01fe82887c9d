//! The [`EventStore`] trait every memberledger store implements, the in-memory store, the
//! shared log index, and the [`conformance`] suite every store must pass.
//!
//! A store keeps one append-only log per ledger. Each command's events are appended atomically
//! with the member version the command was decided against (optimistic concurrency) and the
//! command id and digest (idempotency); the store gives each event its global position and
//! chain hash, and returns only once the append is durable.

mod error;
mod index;
mod memory;
mod raw_page;
mod seal;

pub mod checkpoint_files;
pub mod conformance;
pub mod record;
pub mod write_behind;

pub use error::{AppendConflict, Cause, StoreError};
pub use index::{CommandPlace, Index};
pub use memory::MemoryStore;
pub use raw_page::{RawEventRef, RawPage};
pub use seal::{outcomes, seal, LogView, Sealed, Sealing, COMMAND_EVENTS_MAX};

use memberledger_core::{Event, Hash, MemberId, RecordedEvent, Uuid};

/// What a store remembers of a recorded command, for idempotency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRecord {
    /// The command id.
    pub command: Uuid,
    /// The member it was about.
    pub member: MemberId,
    /// SHA-256 of the command's canonical JSON.
    pub digest: [u8; 32],
    /// The position of its first event.
    pub first_position: u64,
    /// How many events it recorded.
    pub count: u32,
}

/// One command's events, to append atomically.
#[derive(Clone, Debug)]
pub struct Append {
    /// The command id (the idempotency key).
    pub command: Uuid,
    /// SHA-256 of the command's canonical JSON.
    pub digest: [u8; 32],
    /// The member stream.
    pub member: MemberId,
    /// The member's version the command was decided against (0: not enrolled).
    pub expected_version: u64,
    /// The events, with versions `expected_version + 1 ..`.
    pub events: Vec<Event>,
}

/// An event as stored: position, chain hash, and the exact canonical bytes that were hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEvent {
    /// Global position, from 1.
    pub position: u64,
    /// The stored chain hash.
    pub hash: Hash,
    /// The canonical JSON as stored.
    pub json: Vec<u8>,
}

impl RawEvent {
    /// Decodes the stored bytes, checking the position inside matches.
    pub fn decode(&self) -> Result<RecordedEvent, StoreError> {
        decode_stored(self.position, &self.hash, &self.json)
    }
}

/// Decodes an event stored at `stored` with its `hash` and `json`, checking the position
/// inside matches.
fn decode_stored(stored: u64, hash: &Hash, json: &[u8]) -> Result<RecordedEvent, StoreError> {
    let (position, event) =
        memberledger_core::decode_event(json).map_err(|why| StoreError::Corrupt {
            position: stored,
            why: format!("event does not decode: {why}"),
        })?;
    if position != stored {
        return Err(StoreError::Corrupt {
            position: stored,
            why: format!("event says position {position}"),
        });
    }
    Ok(RecordedEvent {
        position,
        event,
        hash: *hash,
    })
}

/// The end of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The last position (0 when empty).
    pub position: u64,
    /// The last hash (the genesis hash when empty).
    pub hash: Hash,
}

/// The storage of one ledger. Implementations are `Send + Sync`; `append` may be called from
/// many threads and serialises internally.
pub trait EventStore: Send + Sync {
    /// Appends each command's events atomically, in the order given, and returns only once
    /// all the successful ones are durable. Each item gets its own result: a conflict refuses
    /// that item only. A storage failure fails the call and acknowledges nothing.
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError>;

    /// The record of a command id, if recorded.
    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError>;

    /// The record of each of `ids` (`None` for a command not recorded), in the order asked:
    /// what the write path checks a batch's ids against (idempotency), with one call per
    /// batch. A store on a server answers it with one query; the others ask [`command`] for
    /// each.
    ///
    /// [`command`]: EventStore::command
    fn commands(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandRecord>>, StoreError> {
        ids.iter().map(|&id| self.command(id)).collect()
    }

    /// Where a command's events are, without its digest: what replay checks each event
    /// against. Stores that keep digests on disk answer this from memory.
    fn command_place(&self, id: Uuid) -> Result<Option<CommandPlace>, StoreError> {
        Ok(self.command(id)?.map(|c| CommandPlace {
            member: c.member,
            first_position: c.first_position,
            count: c.count,
        }))
    }

    /// Where each of `ids`' events are (`None` for a command not recorded), in the order
    /// asked: what replay checks a page of events against, with one call per page. A store
    /// on a server answers it with one query; the others ask [`command_place`] for each.
    ///
    /// [`command_place`]: EventStore::command_place
    fn command_places(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandPlace>>, StoreError> {
        ids.iter().map(|&id| self.command_place(id)).collect()
    }

    /// The end of the log.
    fn head(&self) -> Result<Head, StoreError>;

    /// Stored events from `from` (inclusive), at most `limit`, in position order.
    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError>;

    /// What [`read_raw`](EventStore::read_raw) reads, into `page` (emptied first, its buffers
    /// kept): a replay reads the log a page at a time into the same buffers. A store that
    /// can, reads the events' bytes straight into the page.
    fn read_raw_into(&self, from: u64, limit: usize, page: &mut RawPage) -> Result<(), StoreError> {
        page.clear();
        for e in self.read_raw(from, limit)? {
            page.push(e.position, e.hash, &e.json);
        }
        Ok(())
    }

    /// The positions of a member's events, in version order.
    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError>;

    /// The member's current stream version (0 when not enrolled).
    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError>;

    /// A ledger setting (such as the policy).
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sets a ledger setting, durably.
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Decoded events at the given positions.
    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, StoreError> {
        positions
            .iter()
            .map(|&p| {
                let raw = self.read_raw(p, 1)?;
                match raw.into_iter().next() {
                    Some(r) if r.position == p => r.decode(),
                    _ => Err(StoreError::Corrupt {
                        position: p,
                        why: "indexed event is missing".into(),
                    }),
                }
            })
            .collect()
    }

    /// The positions of the checkpoints the store keeps, oldest first. A checkpoint is the
    /// ledger's projections as of a position of its log, kept beside the log and never part
    /// of it (the ledger checks one against the chain before it uses it, see memberledger's
    /// `checkpoint` module). A store without a place for them keeps none (the default).
    fn checkpoint_positions(&self) -> Result<Vec<u64>, StoreError> {
        Ok(Vec::new())
    }

    /// Whether the store keeps checkpoints at all (a store that does not is never asked to
    /// write one). The default: no.
    fn keeps_checkpoints(&self) -> bool {
        false
    }

    /// The bytes of the checkpoint at `position`, if the store keeps one there.
    fn read_checkpoint(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = position;
        Ok(None)
    }

    /// The checkpoint at `position` as a stream of its bytes, if the store keeps one there:
    /// for a reader that goes through a checkpoint once, a piece at a time, without holding
    /// all of it (`verify` comparing one with its replay). The default reads it whole
    /// ([`read_checkpoint`](EventStore::read_checkpoint)) and streams that.
    fn checkpoint_reader(
        &self,
        position: u64,
    ) -> Result<Option<Box<dyn std::io::Read + '_>>, StoreError> {
        Ok(self
            .read_checkpoint(position)?
            .map(|bytes| Box::new(std::io::Cursor::new(bytes)) as Box<dyn std::io::Read>))
    }

    /// Keeps `bytes` as the checkpoint at `position`, atomically (a reader finds the whole
    /// checkpoint or none), and may drop older ones. Whether it was kept: a store without a
    /// place for checkpoints, or one that refuses writes, keeps none (the default).
    fn write_checkpoint(&self, position: u64, bytes: &[u8]) -> Result<bool, StoreError> {
        let _ = (position, bytes);
        Ok(false)
    }

    /// [`write_checkpoint`](EventStore::write_checkpoint) that may finish after it returns:
    /// the checkpoint is taken as of now (a file store's index snapshot too) and its files
    /// are written on a thread of the store's while the caller goes on, which is what a
    /// ledger does with the checkpoints it writes during commits, so the writes stay off
    /// the commit path. The store's next read or write of a checkpoint, and its drop, wait
    /// for it ([`write_behind::WriteBehind`]); a write that fails then is a warning on
    /// standard error. The default writes it now.
    fn write_checkpoint_behind(&self, position: u64, bytes: Vec<u8>) -> Result<bool, StoreError> {
        self.write_checkpoint(position, &bytes)
    }

    /// A member's events, decoded, in version order.
    fn member_events(&self, member: &MemberId) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_positions(&self.member_positions(member)?)
    }

    /// Where the log index this store loaded from a snapshot, instead of building it from the
    /// log, disagrees with the log: asked by a replay that has just read the whole log through
    /// the index, every event placed by it (each command's place and count held to the
    /// events) and `commands` commands met. `Some((position, why))`: the snapshot's position
    /// and what is wrong with it. `None` when it agrees, or when the index was built from the
    /// log, as every store but a file store opened to be verified
    /// (`FileStore::open_to_verify`) builds it.
    fn index_snapshot_problem(&self, commands: u64) -> Option<(u64, String)> {
        let _ = commands;
        None
    }
}

/// Reads the whole log in pages, calling `f` on each raw event in position order.
pub fn for_each_raw(
    store: &dyn EventStore,
    page: usize,
    mut f: impl FnMut(RawEvent) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut from = 1;
    loop {
        let chunk = store.read_raw(from, page)?;
        let Some(last) = chunk.last() else {
            return Ok(());
        };
        from = last.position + 1;
        for r in chunk {
            f(r)?;
        }
    }
}
