//! The sled store: the embedded, on-disk default.
//!
//! Layout: one sled tree. Each command is one **record**: the command id, its digest, the
//! member, and each event's chain hash and canonical JSON, closed by a checksum of its header.
//! The records of one append are stored in **chunks** of consecutive records, each chunk one
//! key, `e` + the big-endian position of its first event, of at most [`CHUNK_BYTES`]: sled's
//! cost is per key (an insert costs about as much as writing 20 KiB), so a chunk of some fifty
//! commands costs about what one command did. A value that starts with the record format byte
//! instead of the chunk format byte is a single record (the layout of the first release).
//! Settings live under `m` + name. The command and member indexes are
//! rebuilt in memory when the store opens (one sequential scan), compactly: a command's place
//! (not its digest, which is read back from its record when an id is used again) and each
//! member's positions as varint deltas.
//!
//! Durability: sled's `flush()` only calls `sync_file_range`, which neither flushes the device
//! cache nor the file's metadata, so every append also `fdatasync`s sled's data file before it
//! returns. An acknowledged append survives a crash of the process or the machine. That is
//! the one sync an append waits for: the head anchor (`memberledger.head`, which turns a tail
//! that sled silently dropped into `Corrupt`) is rewritten after each append and made durable
//! by a background thread shortly after.
//!
//! Faults: every call into sled is guarded (a panic of sled's on damaged files is `Corrupt`
//! naming the file, see `guard`), every write runs on a writer thread with a bounded wait (a
//! full disk can leave sled waiting forever, see `writer`), an unfinished snapshot
//! (`snap.*.generating`) that made sled's open fail is removed and the open retried, the torn
//! tail of an unacknowledged write is removed, the blob files sled writes are synced (see
//! `blobs`), a directory that cannot be written is opened from a private copy, for reading
//! only, as is any ledger on demand ([`SledStore::open_copy`], which `verify` uses, so it
//! never writes; see `readonly`), and a directory holding sled's files but no ledger is
//! `Corrupt`, never a new ledger (see `existing`).
//!
//! Rooms: `record` (the record and chunk codec), `anchor` (the head anchor and its syncer),
//! `durability` (every write: the writer thread, flush and `fdatasync`), `rebuild` (the index
//! rebuilt on open, the torn tail removed), `open` and `existing` (opening, creating, and what
//! a directory holds), `reads` (the reads behind the trait).

mod anchor;
mod blobs;
mod checkpoints;
mod durability;
mod existing;
mod guard;
mod open;
mod readonly;
mod reads;
mod rebuild;
mod record;
mod tail;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memberledger_core::{MemberId, RecordedEvent, Uuid};
use memberledger_store::{
    Append, AppendConflict, CommandPlace, CommandRecord, EventStore, Head, Index, RawEvent,
    RawPage, StoreError,
};

use anchor::AnchorSyncer;
use guard::{guarded, sled_error};
use record::{encode_chunks, event_key};
use writer::Writer;

pub use checkpoints::CHECKPOINTS_KEPT;
pub use existing::holds_no_ledger;
pub use record::CHUNK_BYTES;

pub(crate) const META_PREFIX: u8 = b'm';

/// How long an append waits for sled to write and sync: a write still running then (sled
/// stuck on a full disk) is a `Storage` error, and the store takes no more appends.
pub const WRITE_WAIT: Duration = Duration::from_secs(30);

/// How long dropping the store waits for sled to close.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// A ledger's log in a sled database on disk.
pub struct SledStore {
    /// sled's database; `None` only while being dropped (it is closed on the writer thread).
    db: Option<sled::Db>,
    /// sled's data file, opened once, to `fdatasync` after each flush.
    data_file: Arc<File>,
    path: PathBuf,
    index: Mutex<Index>,
    /// Set when a write failed after sled took it: appends are refused until a reopen.
    failed: Arc<AtomicBool>,
    /// The head anchor: the last acknowledged position and hash, written after sled.
    anchor: Mutex<Option<File>>,
    /// Syncs the anchor in the background, so an append waits for one sync (sled's), not two.
    syncer: Option<AnchorSyncer>,
    /// Runs every write to sled, so a stuck write is an error, not a hang.
    writer: Writer,
    /// sled's blob files already made durable.
    blobs: Arc<blobs::SyncedBlobs>,
    /// Set when this store reads a private copy of the ledger's directory (removed on drop)
    /// and refuses every write: the directory cannot be written, or a copy was asked for.
    read_only: Option<readonly::Copy>,
    /// The ledger files the directory held before sled opened it (empty: a new ledger).
    found: Vec<PathBuf>,
    /// The checkpoint being written behind the commit that asked for it.
    behind: memberledger_store::write_behind::WriteBehind,
}

impl Drop for SledStore {
    /// Closes sled on the writer thread, waiting at most `CLOSE_WAIT`: after a failed write
    /// sled's own close may wait forever, and dropping the store must not.
    fn drop(&mut self) {
        // A checkpoint written behind is finished while the ledger is still held.
        self.behind.wait();
        if let Some(db) = self.db.take() {
            let wait = if self.failed.load(Ordering::SeqCst) {
                Duration::from_secs(1)
            } else {
                CLOSE_WAIT
            };
            self.writer.close(db, wait);
        }
    }
}

/// A `Storage` error: `what` failed because of `e`, kept as the source.
fn storage(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::storage_caused(what, e)
}

fn poisoned() -> StoreError {
    StoreError::storage("a writer panicked while holding the store")
}

impl EventStore for SledStore {
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError> {
        let mut index = self.index()?;
        self.check_writable()?;
        let (outcome, sealed) = index.seal(batch)?;
        if !sealed.is_empty() {
            let mut b = sled::Batch::default();
            for (first, chunk) in encode_chunks(&sealed) {
                b.insert(&event_key(first), chunk);
            }
            // Once sled has the records, a failure leaves it holding positions the index has
            // not taken: `write_durably` refuses further appends (which would reuse them)
            // until a reopen reads back what sled really holds.
            self.write_durably(move |db| db.apply_batch(b))?;
            index.commit(&sealed);
            if let Err(e) = self.write_anchor(index.head()) {
                self.failed.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        Ok(Index::outcomes(outcome, sealed))
    }

    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        guarded(&self.path, || self.command_inner(id))
    }

    fn command_place(&self, id: Uuid) -> Result<Option<CommandPlace>, StoreError> {
        Ok(self.index()?.command(id))
    }

    fn head(&self) -> Result<Head, StoreError> {
        Ok(self.index()?.head())
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        guarded(&self.path, || self.read_raw_inner(from, limit))
    }

    fn read_raw_into(&self, from: u64, limit: usize, page: &mut RawPage) -> Result<(), StoreError> {
        guarded(&self.path, || self.read_raw_into_inner(from, limit, page))
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, StoreError> {
        guarded(&self.path, || {
            positions.iter().map(|&p| self.read_position(p)).collect()
        })
    }

    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        Ok(self.index()?.member_positions(member))
    }

    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        Ok(self.index()?.member_version(member))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let k = [&[META_PREFIX], key.as_bytes()].concat();
        Ok(self.raw_get(&k)?.map(|v| v.to_vec()))
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let _writer = self.index()?;
        self.check_writable()?;
        let k = [&[META_PREFIX], key.as_bytes()].concat();
        let value = value.to_vec();
        self.write_durably(move |db| db.insert(k, value).map(|_| ()))
    }

    fn checkpoint_positions(&self) -> Result<Vec<u64>, StoreError> {
        Ok(self.checkpoint_positions_inner())
    }

    fn keeps_checkpoints(&self) -> bool {
        !self.is_read_only()
    }

    fn read_checkpoint(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_checkpoint_inner(position)
    }

    fn checkpoint_reader(
        &self,
        position: u64,
    ) -> Result<Option<Box<dyn std::io::Read + '_>>, StoreError> {
        self.checkpoint_reader_inner(position)
    }

    fn write_checkpoint(&self, position: u64, bytes: &[u8]) -> Result<bool, StoreError> {
        self.write_checkpoint_inner(position, bytes)
    }

    fn write_checkpoint_behind(&self, position: u64, bytes: Vec<u8>) -> Result<bool, StoreError> {
        self.write_checkpoint_behind_inner(position, bytes)
    }
}

/// How sled is opened: what a host may bound.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SledOptions {
    /// The most bytes sled's page cache holds (`None`: sled's default, 1 GiB). A smaller cache
    /// bounds the open ledger's memory at the cost of reading the log from disk more often.
    pub cache_bytes: Option<u64>,
}

impl SledOptions {
    /// The options with sled's page cache bounded to `bytes`.
    pub fn with_cache_bytes(mut self, bytes: u64) -> SledOptions {
        self.cache_bytes = Some(bytes);
        self
    }
}

impl SledStore {
    /// The directory the store lives in (for a ledger opened read-only: its own directory,
    /// not the private copy read).
    pub fn path(&self) -> &Path {
        match &self.read_only {
            Some(copy) => &copy.origin,
            None => &self.path,
        }
    }

    /// Whether this store reads a private copy of the ledger's directory and refuses every
    /// write (the directory could not be written, or [`open_copy`](SledStore::open_copy)).
    pub fn is_read_only(&self) -> bool {
        self.read_only.is_some()
    }

    /// Whether the directory held a ledger's files (sled's, or the anchor) before this store
    /// opened it; false for a new ledger, in a directory that was absent or empty of them.
    /// A caller that finds no ledger in such a store (no settings, no events) must report
    /// it damaged ([`holds_no_ledger`]), never take it for a new one.
    pub fn found_existing(&self) -> bool {
        !self.found.is_empty()
    }

    /// [`holds_no_ledger`] for this store's directory and the files it held.
    pub fn no_ledger_error(&self, what: &str) -> StoreError {
        holds_no_ledger(self.path(), &self.found, what)
    }

    /// Whether `path` holds a ledger's files (a non-empty `db`, `conf`, `snap.*`, `blobs`, the
    /// head anchor), without opening it: a directory that does is never a new ledger. The same
    /// as [`exists`](SledStore::exists).
    pub fn holds_ledger_files(path: impl AsRef<Path>) -> bool {
        SledStore::exists(path)
    }

    fn db(&self) -> &sled::Db {
        self.db
            .as_ref()
            .expect("sled is open until the store is dropped")
    }

    /// A raw sled key, read at the store boundary.
    fn raw_get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        guarded(&self.path, || {
            self.db()
                .get(key)
                .map_err(|e| sled_error(&self.path, "cannot read a setting", e))
        })
    }

    fn index(&self) -> Result<std::sync::MutexGuard<'_, Index>, StoreError> {
        self.index.lock().map_err(|_| poisoned())
    }
}
