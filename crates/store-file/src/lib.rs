//! An append-only file store for memberledger: the log in segment files of checksummed frames,
//! the index in memory, nothing else between the ledger and the operating system.
//!
//! Layout of a ledger's directory: `FORMAT` (the text `file-log 1`, what says which store a
//! directory holds), `LOCK` (held by the one process that writes), `segment-NNNNNNNN` (the log,
//! numbered from 0; appends go to the last one, a new one is started once it passes
//! [`SEGMENT_BYTES`]), `meta/` (one file a setting), `checkpoints/`, and `index/` (a snapshot
//! of the index beside each checkpoint of the head: a writable open loads the latest usable
//! one and scans only the frames after it; see `snapshot`).
//!
//! A segment is a sequence of frames (see `frame`): a 16-byte header (length, flags, a CRC-32
//! of the header, a CRC-32 of the body) and a body holding a chunk of consecutive records,
//! the record format the sled store writes too (`memberledger_store::record`): the event's
//! canonical JSON and chain hash as sealed, so the chain is unchanged.
//!
//! Durability (the invariants): an append's frames are written at the end of the last segment
//! and synced before it returns: one `write` and one `fdatasync` for an append of one frame;
//! for an append of several, the frames before the last written and synced first, then the
//! last (the one flagged as finishing the append), so a finished append on disk never has a
//! frame before it lost to a power failure; a segment's creation syncs the directory;
//! settings, `FORMAT` and checkpoints are written to a temporary file, synced, renamed and the
//! directory synced. A write or sync that fails truncates the segment back to the last
//! acknowledged length (and the store refuses appends until a reopen when that fails too), so
//! nothing of a failed append is ever recorded.
//!
//! Recovery: the open scan reads each segment once, checks every frame's CRC and rebuilds the
//! index from the record headers (command ids, member streams, head) without parsing JSON. A
//! torn tail of the last segment (an unfinished append, or a damaged frame with no finished
//! append after it: a crash mid-append, never acknowledged) is truncated away with a warning;
//! any other damage is `Corrupt` naming the position and the byte. The chain (each hash
//! against its JSON) is checked by the ledger's replay and by `verify`, not twice here.
//!
//! Memory: the index (about 32 bytes a command, a member's id and a byte or three an event)
//! and 24 bytes a frame; no cache of its own (reads go through the operating system's).

mod append;
mod faults;
mod meta;
mod open;
mod reads;
mod scan;
mod segments;
mod snapshot;

mod frame;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use memberledger_core::{MemberId, RecordedEvent, Uuid};
use memberledger_store::checkpoint_files::CheckpointFiles;
use memberledger_store::write_behind::{self, WriteBehind};
use memberledger_store::{
    Append, AppendConflict, CommandPlace, CommandRecord, EventStore, Head, Index, RawEvent,
    RawPage, StoreError,
};

pub use faults::Fault;
pub use memberledger_store::checkpoint_files::CHECKPOINTS_KEPT;
pub use segments::{FORMAT, SEGMENT_BYTES};

use scan::FrameAt;

/// Where index snapshots are kept.
const SNAPSHOT_DIR: &str = "index";

/// A ledger's log in append-only segment files.
pub struct FileStore {
    /// The checkpoint and index snapshot being written behind the commit that asked for
    /// them. First, so a drop waits for it before the lock on the directory is let go.
    behind: WriteBehind,
    dir: PathBuf,
    /// What readers see: the index and where each frame is, of acknowledged appends only.
    state: RwLock<State>,
    /// The writer's side: the last segment and its acknowledged length.
    writer: Mutex<Writer>,
    /// The lock on `LOCK`, held while the store is open for writing (`None`: read-only).
    lock: Option<File>,
    checkpoints: CheckpointFiles,
    /// Index snapshots beside the checkpoints (`index/`).
    snapshots: CheckpointFiles,
    /// Whether the directory held a ledger's files before this store opened it.
    found: bool,
    /// Bytes of a torn tail removed (or, read-only, ignored) on open.
    torn: Option<u64>,
    /// The position of the index snapshot the open started from, if it used one.
    from_snapshot: Option<u64>,
    /// Faults injected by tests (see [`Fault`]).
    faults: faults::Faults,
}

/// The index and the segments, as of the last acknowledged append.
struct State {
    index: Index,
    frames: Vec<FrameAt>,
    /// Every segment, by number, opened for reading.
    segments: Vec<Arc<File>>,
}

/// The last segment, where appends go.
struct Writer {
    file: Arc<File>,
    number: u32,
    /// Its acknowledged length.
    end: u64,
    /// Why appends are refused until a reopen (a failure that could not be undone).
    failed: Option<String>,
    /// The size past which the next append starts a new segment.
    segment_bytes: u64,
}

fn poisoned() -> StoreError {
    StoreError::storage("a thread panicked while holding the store")
}

impl EventStore for FileStore {
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError> {
        self.append_inner(batch)
    }

    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        self.command_inner(id)
    }

    fn index_snapshot_problem(&self, commands: u64) -> Option<(u64, String)> {
        // Only a reader's: a writable store's index grows with its appends.
        let at = self.from_snapshot.filter(|_| self.lock.is_none())?;
        let why = self.snapshot_problem(commands)?;
        Some((
            at,
            format!("the index snapshot at position {at} does not match the log: {why}"),
        ))
    }

    fn command_place(&self, id: Uuid) -> Result<Option<CommandPlace>, StoreError> {
        Ok(self.state()?.index.command(id))
    }

    fn command_places(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandPlace>>, StoreError> {
        let state = self.state()?;
        Ok(ids.iter().map(|&id| state.index.command(id)).collect())
    }

    fn head(&self) -> Result<Head, StoreError> {
        Ok(self.state()?.index.head())
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        self.read_raw_inner(from, limit)
    }

    fn read_raw_into(&self, from: u64, limit: usize, page: &mut RawPage) -> Result<(), StoreError> {
        self.read_raw_into_inner(from, limit, page)
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_positions_inner(positions)
    }

    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        Ok(self.state()?.index.member_positions(member))
    }

    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        Ok(self.state()?.index.member_version(member))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        meta::read(&self.dir, key)
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let _writer = self.writable()?;
        meta::write(&self.dir, key, value)
    }

    fn checkpoint_positions(&self) -> Result<Vec<u64>, StoreError> {
        self.behind.wait();
        Ok(self.checkpoints.positions())
    }

    fn keeps_checkpoints(&self) -> bool {
        !self.is_read_only()
    }

    fn read_checkpoint(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.behind.wait();
        self.checkpoints.read(position)
    }

    fn checkpoint_reader(
        &self,
        position: u64,
    ) -> Result<Option<Box<dyn std::io::Read + '_>>, StoreError> {
        self.behind.wait();
        Ok(self.checkpoints.reader(position)?.map(|r| r as _))
    }

    fn write_checkpoint(&self, position: u64, bytes: &[u8]) -> Result<bool, StoreError> {
        if self.is_read_only() {
            return Ok(false);
        }
        self.behind.wait();
        self.checkpoints.write(position, bytes)?;
        if let Some(snapshot) = self.snapshot_at(position) {
            write_snapshot(&self.snapshots, position, &snapshot);
        }
        Ok(true)
    }

    fn write_checkpoint_behind(&self, position: u64, bytes: Vec<u8>) -> Result<bool, StoreError> {
        if self.is_read_only() {
            return Ok(false);
        }
        let snapshot = self.snapshot_at(position);
        let (checkpoints, snapshots) = (self.checkpoints.clone(), self.snapshots.clone());
        self.behind.run(move || {
            if !write_behind::write_checkpoint(&checkpoints, position, &bytes) {
                return;
            }
            if let Some(snapshot) = snapshot {
                write_snapshot(&snapshots, position, &snapshot);
            }
        });
        Ok(true)
    }
}

impl FileStore {
    /// The ledger's directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Whether this store was opened for reading only ([`open_read_only`](FileStore::open_read_only)):
    /// it holds no lock and refuses every write.
    pub fn is_read_only(&self) -> bool {
        self.lock.is_none()
    }

    /// Whether the directory held a ledger's files before this store opened it; false for a
    /// new ledger.
    pub fn found_existing(&self) -> bool {
        self.found
    }

    /// The store with new segments started once the last one passes `bytes` (the default:
    /// [`SEGMENT_BYTES`]). Small segments are for tests of what spans segments.
    pub fn with_segment_bytes(self, bytes: u64) -> FileStore {
        if let Ok(mut w) = self.writer.lock() {
            w.segment_bytes = bytes.max(1);
        }
        self
    }

    /// How many bytes of a torn, unacknowledged tail the open found after the last finished
    /// append (removed, or, read-only, ignored); `None` when the log ended whole.
    pub fn torn_tail(&self) -> Option<u64> {
        self.torn
    }

    /// The position of the index snapshot this open loaded (then only the frames after it
    /// were scanned); `None` when it scanned the whole log.
    pub fn opened_from_snapshot(&self) -> Option<u64> {
        self.from_snapshot
    }

    /// What is wrong with the index this store loaded from a snapshot, held to the log a
    /// replay read through it ([`snapshot::problem`]).
    fn snapshot_problem(&self, commands: u64) -> Option<String> {
        match self.state() {
            Ok(state) => snapshot::problem(&state.index, commands),
            Err(_) => Some("a thread panicked while holding the store".into()),
        }
    }

    /// The error for a directory that holds a file store's files but no ledger (no settings
    /// and no events): a damaged ledger or an interrupted create. `what` says what is missing.
    pub fn no_ledger_error(&self, what: &str) -> StoreError {
        StoreError::Corrupt {
            position: 0,
            why: format!(
                "the file store's files are here (in {}) but hold no ledger ({what}): the \
                 ledger is damaged, or an `init` was interrupted before it finished. Restore \
                 the ledger from a backup (memberledger restore --from EXPORT --db NEW_DIR); \
                 only if this directory never recorded a command remove it and run init again",
                self.dir.display()
            ),
        }
    }

    /// The index snapshot at `position` ([`snapshot::encode`]) when the log's head is there
    /// (a checkpoint of the head, as the ledger writes them); a snapshot not written only
    /// slows the next open.
    fn snapshot_at(&self, position: u64) -> Option<Vec<u8>> {
        let state = self.state.read().ok()?;
        (state.index.head().position == position)
            .then(|| snapshot::encode(&state.index, &state.frames))
    }

    fn state(&self) -> Result<std::sync::RwLockReadGuard<'_, State>, StoreError> {
        self.state.read().map_err(|_| poisoned())
    }
}

/// Writes an index snapshot, a warning when it cannot be.
fn write_snapshot(snapshots: &CheckpointFiles, position: u64, bytes: &[u8]) {
    if let Err(e) = snapshots.write(position, bytes) {
        eprintln!("memberledger: warning: no index snapshot at position {position}: {e}");
    }
}
