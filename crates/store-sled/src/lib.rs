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

mod anchor;
mod blobs;
mod existing;
mod guard;
mod held;
mod readonly;
mod writer;

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use memberledger_core::{chain_hash, MemberId, RecordedEvent, Uuid};
use memberledger_store::{
    Append, AppendConflict, CommandPlace, CommandRecord, EventStore, Head, Index, RawEvent, Sealed,
    StoreError,
};
use sha2::{Digest, Sha256};

use anchor::{anchor_line, hex_hash, ANCHORED_KEY, ANCHOR_FILE};
use guard::{guarded, sled_error};
use writer::Writer;

pub use existing::holds_no_ledger;
pub use held::is_held_elsewhere;

const EVENT_PREFIX: u8 = b'e';
const META_PREFIX: u8 = b'm';
const RECORD_FORMAT: u8 = 1;
/// The first byte of a chunk: then `(u32 length, record)` until the end of the value.
const CHUNK_FORMAT: u8 = 2;
/// The most bytes of records one key takes (a larger record is a chunk on its own). Below
/// sled's blob threshold, so chunks stay in its log.
pub const CHUNK_BYTES: usize = 24 * 1024;
/// Bytes of the SHA-256 checksum that closes every record.
const CHECKSUM_LEN: usize = 32;

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
}

/// How often the background thread makes a changed head anchor durable.
const ANCHOR_SYNC_EVERY: Duration = Duration::from_millis(200);

/// The thread that `fdatasync`s the head anchor after appends changed it.
///
/// The anchor is written (to the page cache) after every append, once sled's data is already
/// durable, so it never runs ahead of the durable log: a process that is killed leaves it
/// exact, and a machine that loses power leaves it at the last background sync, at most
/// [`ANCHOR_SYNC_EVERY`] behind, still a lower bound the log must reach.
struct AnchorSyncer {
    dirty: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AnchorSyncer {
    fn start(file: File, failed: Arc<AtomicBool>) -> std::io::Result<AnchorSyncer> {
        let dirty = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let flag = Arc::clone(&dirty);
        let thread = std::thread::Builder::new()
            .name("memberledger-anchor".into())
            .spawn(move || loop {
                let last = !matches!(
                    stopped.recv_timeout(ANCHOR_SYNC_EVERY),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                if flag.swap(false, Ordering::SeqCst) && file.sync_data().is_err() {
                    // A disk that cannot sync the anchor cannot be trusted with appends.
                    failed.store(true, Ordering::SeqCst);
                }
                if last {
                    return;
                }
            })?;
        Ok(AnchorSyncer {
            dirty,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for AnchorSyncer {
    /// Syncs a last time and stops the thread.
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SledStore {
    /// Closes sled on the writer thread, waiting at most [`CLOSE_WAIT`]: after a failed write
    /// sled's own close may wait forever, and dropping the store must not.
    fn drop(&mut self) {
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

fn storage(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(format!("{what}: {e}"))
}

fn event_key(position: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = EVENT_PREFIX;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

impl SledStore {
    /// Opens (or creates) the store in a directory. Fails with `Storage` when another process
    /// holds it, and with `Corrupt` when the log cannot be read back as written (naming the
    /// position, or sled's file when the damage is in sled's own files) or when its head
    /// anchor is missing, empty or ahead of the log. A directory that cannot be written is
    /// opened from a private copy, for reading only.
    ///
    /// A directory that holds sled's files (a non-empty `db`, `conf`, `snap.*`, `blobs`) or
    /// the anchor is never a new ledger: when it holds no events and no anchor, or no data
    /// file, it is `Corrupt` naming the files ([`holds_no_ledger`]), and nothing is written.
    pub fn open(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        let origin = path.as_ref().to_path_buf();
        if readonly::is_read_only(&origin) {
            return SledStore::open_copy_because(&origin, readonly::NOT_WRITABLE);
        }
        if existing::anchor_lost(&origin) {
            // Bound to fail: find out why on a copy, so sled's recovery changes nothing here.
            return Err(match SledStore::open_copy(&origin) {
                Err(e) => e,
                Ok(_) => holds_no_ledger(&origin, &existing::ledger_files(&origin), "no anchor"),
            });
        }
        if existing::cut_short(&origin) {
            // sled's recovery would rewrite the cut log: find out on a copy whether the cut
            // lost anything acknowledged (then `Corrupt`, the files as they were); if it did
            // not (a process killed mid-write), open the ledger itself. Without space for a
            // copy, or with the ledger held elsewhere, the open goes on as before.
            if let Err(e @ StoreError::Corrupt { .. }) = SledStore::open_copy(&origin) {
                return Err(e);
            }
        }
        SledStore::open_in(origin, None)
    }

    /// Opens the ledger in `path` from a private copy, for reading only: nothing is ever
    /// written to `path` (not by sled's recovery of damaged files either, which rewrites
    /// them). The copy (reflinked where the file system shares extents between the ledger and
    /// the temporary directory, else copied) is taken while holding sled's lock, so never
    /// from a ledger another process is writing (`Storage`: "open in another process"), and
    /// removed when the store is dropped; copies left by a process that died are removed on
    /// the next such open. Every write is refused.
    pub fn open_copy(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        SledStore::open_copy_because(path.as_ref(), readonly::ASKED)
    }

    fn open_copy_because(origin: &Path, why: &'static str) -> Result<SledStore, StoreError> {
        let origin = origin.to_path_buf();
        let copy = readonly::private_copy(&origin, why)?;
        let read = copy.dir.path().to_path_buf();
        // Errors name the ledger's own files, not the private copy's.
        SledStore::open_in(read.clone(), Some(copy))
            .map_err(|e| readonly::name_origin(e, &read, &origin))
    }

    /// [`open`](SledStore::open) in `path`, which is a private copy when `read_only` is set.
    fn open_in(path: PathBuf, read_only: Option<readonly::Copy>) -> Result<SledStore, StoreError> {
        let found = existing::ledger_files(&path);
        if !found.is_empty() && existing::data_file_missing(&path) {
            // sled would create a new data file over what is left of a ledger.
            return Err(existing::holds_no_ledger(
                &path,
                &found,
                "sled's data file db is missing or empty",
            ));
        }
        let db = open_clearing_unfinished_snapshots(&path)?;
        let data_file = File::open(path.join("db")).map_err(|e| {
            storage(
                &format!("cannot open sled's data file {}", path.join("db").display()),
                e,
            )
        })?;
        // Make the directory entries of a new database durable too.
        File::open(&path)
            .and_then(|d| d.sync_all())
            .map_err(|e| storage("cannot sync the ledger directory", e))?;
        let writer = Writer::start(&path).map_err(|e| storage("cannot start the writer", e))?;
        let text = anchor::read_anchor(&path)?;
        let mut store = SledStore {
            db: Some(db),
            data_file: Arc::new(data_file),
            path,
            index: Mutex::new(Index::default()),
            failed: Arc::new(AtomicBool::new(false)),
            anchor: Mutex::new(None),
            syncer: None,
            writer,
            blobs: Arc::default(),
            read_only,
            found,
        };
        let (index, torn) = guarded(&store.path, || {
            store.rebuild_index(anchor::position(text.as_deref()))
        })?;
        if let Some(from) = torn {
            store.remove_torn_tail(from)?;
        }
        let head = index.head();
        *store.index.lock().map_err(|_| poisoned())? = index;
        store.settle_anchor(text.as_deref(), head)?;
        Ok(store)
    }

    /// Checks the log against the head anchor (creating it for a new ledger, and recording in
    /// sled that the ledger has one), then opens it for the in-place rewrites of appends.
    fn settle_anchor(&mut self, text: Option<&str>, head: Head) -> Result<(), StoreError> {
        let anchored = self.raw_get(ANCHORED_KEY)?.is_some();
        match anchor::judge(&self.path, text, anchored, head, &self.found)? {
            anchor::Found::New => anchor::create_anchor(&self.path, head)?,
            anchor::Found::Anchored { position, hash } => {
                self.check_anchor(position, &hash, head)?;
            }
        }
        if !anchored {
            // Only once the anchor file is in place, so a crash between the two leaves an
            // anchor without the record of it (fine), never the record without the anchor.
            self.write_durably(move |db| db.insert(ANCHORED_KEY, &b"1"[..]).map(|_| ()))?;
        }
        let anchor_path = self.path.join(ANCHOR_FILE);
        let anchor = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&anchor_path)
            .map_err(|e| {
                storage(
                    &format!("cannot open the head anchor {}", anchor_path.display()),
                    e,
                )
            })?;
        let syncer = anchor
            .try_clone()
            .and_then(|f| AnchorSyncer::start(f, Arc::clone(&self.failed)))
            .map_err(|e| storage("cannot start the head anchor's syncer", e))?;
        *self.anchor.lock().map_err(|_| poisoned())? = Some(anchor);
        self.syncer = Some(syncer);
        Ok(())
    }

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
    /// head anchor), without opening it: a directory that does is never a new ledger.
    pub fn holds_ledger_files(path: impl AsRef<Path>) -> bool {
        !existing::ledger_files(path.as_ref()).is_empty()
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

    /// Refuses a write when the store cannot take one: opened read-only, or after a write
    /// that failed part-way.
    fn check_writable(&self) -> Result<(), StoreError> {
        if let Some(copy) = &self.read_only {
            return Err(StoreError::Storage(format!(
                "the ledger at {} is read-only here ({}): it was opened for reading, from a \
                 private copy; writes are refused",
                copy.origin.display(),
                copy.why
            )));
        }
        if self.failed.load(Ordering::SeqCst) {
            return Err(StoreError::Storage(
                "an earlier write failed part-way; reopen the ledger to continue".into(),
            ));
        }
        Ok(())
    }

    /// Runs a write to sled on the writer thread and makes it durable (sled's flush, then
    /// `fdatasync`, and any blob file sled wrote), waiting at most [`WRITE_WAIT`]. Any
    /// failure (or a write still running then) stops further writes until a reopen: sled may
    /// hold part of it.
    fn write_durably(
        &self,
        write: impl FnOnce(&sled::Db) -> sled::Result<()> + Send + 'static,
    ) -> Result<(), StoreError> {
        let db = self.db().clone();
        let data_file = Arc::clone(&self.data_file);
        let dir = self.path.clone();
        let blobs = Arc::clone(&self.blobs);
        let written = self.writer.run(WRITE_WAIT, move || {
            write(&db).map_err(|e| sled_error(&dir, "write failed", e))?;
            db.flush()
                .map_err(|e| sled_error(&dir, "flush failed", e))?;
            data_file.sync_data().map_err(|e| {
                storage(
                    &format!("fdatasync of {} failed", dir.join("db").display()),
                    e,
                )
            })?;
            blobs
                .sync_new(&dir.join("blobs"))
                .map_err(|e| storage("cannot sync sled's blob files", e))
        });
        if written.is_err() {
            self.failed.store(true, Ordering::SeqCst);
        }
        written
    }

    /// Reads every record, checking as it goes what names the first bad position exactly:
    /// each header against its checksum, the chain link into each key, positions without a
    /// gap, and each command id once. The rest of the chain (every hash against the bytes
    /// before it) is checked by the replay a ledger makes on open, on every core, so it is not
    /// hashed twice here.
    ///
    /// A gap in the positions after the anchored head is the torn tail of a write that failed
    /// before it was acknowledged (sled 0.34 can keep some keys of a batch that failed on a
    /// full disk and lose the ones before them; one batch's keys are consecutive from the head,
    /// so a torn one always shows as a gap): the index stops before it, and its first key's
    /// position is returned so the tail can be removed. A gap at or before the anchor, or a key
    /// that does not chain, is `Corrupt`.
    fn rebuild_index(&self, anchored: Option<u64>) -> Result<(Index, Option<u64>), StoreError> {
        let mut index = Index::default();
        // The key before: its first position, the hash before it, and its value.
        let mut previous: Option<(u64, [u8; 32], sled::IVec)> = None;
        for item in self.db().scan_prefix([EVENT_PREFIX]) {
            let (key, value) =
                item.map_err(|e| sled_error(&self.path, "cannot read the log", e))?;
            let first = key_position(&key)?;
            let head = index.head();
            let expected = head.position + 1;
            if anchored.is_some_and(|a| head.position >= a) && first > expected {
                return Ok((index, Some(first)));
            }
            let records = decode_chunk(expected.min(first), &value)?;
            // The first event of each key must follow the one before it: a key moved, swapped
            // or dropped is named where it is, before its positions confuse the index. (Every
            // other link is checked by the replay a ledger makes on open.)
            if let Some((hash, json)) = records[0].events.first() {
                if chain_hash(&head.hash, json) != *hash {
                    // Name the first bad link: it may be inside the key before (a stored hash
                    // changed there breaks only the link out of it).
                    let position = previous
                        .as_ref()
                        .and_then(|(start, prev_hash, value)| {
                            first_bad_link(*start, *prev_hash, value)
                        })
                        .unwrap_or(expected);
                    return Err(StoreError::Corrupt {
                        position,
                        why: "the hash does not follow the chain (bytes changed, or an event removed, inserted or moved)".into(),
                    });
                }
            }
            if first != expected {
                return Err(StoreError::Corrupt {
                    position: expected,
                    why: format!("the log jumps from {} to {first}", expected - 1),
                });
            }
            let hash_before = head.hash;
            for rec in records {
                let first = rec.record.first_position;
                if index.has_command(rec.record.command) {
                    return Err(StoreError::Corrupt {
                        position: first,
                        why: format!("command {} is recorded twice", rec.record.command),
                    });
                }
                index.add(
                    rec.record,
                    rec.events
                        .iter()
                        .enumerate()
                        .map(|(i, (hash, _))| (first + i as u64, *hash)),
                );
            }
            previous = Some((expected, hash_before, value));
        }
        index.shrink_to_fit();
        Ok((index, None))
    }

    /// Removes the keys from position `from` on: the torn tail of a write that failed before
    /// it was acknowledged, which a later append would otherwise interleave with.
    fn remove_torn_tail(&self, from: u64) -> Result<(), StoreError> {
        let keys: Vec<sled::IVec> = guarded(&self.path, || {
            self.db()
                .range(event_key(from)..=event_key(u64::MAX))
                .keys()
                .collect::<Result<_, _>>()
                .map_err(|e| sled_error(&self.path, "cannot read the log", e))
        })?;
        let mut batch = sled::Batch::default();
        for k in &keys {
            batch.remove(k);
        }
        self.write_durably(move |db| db.apply_batch(batch))?;
        eprintln!(
            "memberledger: warning: removed {} stored chunk(s) from position {from} on in {}: part of a write that failed before it was acknowledged (a full disk?)",
            keys.len(),
            self.path.display()
        );
        Ok(())
    }

    /// Records the acknowledged head outside sled. sled recovers a damaged log by silently
    /// dropping everything after the damage; comparing its head with this anchor on open turns
    /// that loss into a `Corrupt` error instead of a shorter, valid-looking log. The write goes
    /// to the page cache, in place (a line of fixed length, so the file is never empty or
    /// short); the [`AnchorSyncer`] makes it durable shortly after.
    fn write_anchor(&self, head: Head) -> Result<(), StoreError> {
        let mut f = self.anchor.lock().map_err(|_| poisoned())?;
        let f = f
            .as_mut()
            .ok_or_else(|| StoreError::Storage("the head anchor is not open".into()))?;
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.write_all(anchor_line(head).as_bytes()))
            .map_err(|e| storage("cannot write the head anchor", e))?;
        if let Some(s) = &self.syncer {
            s.dirty.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Checks the log reaches the anchored head, with the anchored hash there. The log may be
    /// ahead of the anchor (a crash between sled's sync and the anchor's), never behind it.
    fn check_anchor(&self, anchored: u64, hash: &str, head: Head) -> Result<(), StoreError> {
        if anchored > head.position {
            return Err(StoreError::Corrupt {
                position: head.position + 1,
                why: format!(
                    "the log ends at {} but events up to {anchored} were acknowledged: the store lost them",
                    head.position
                ),
            });
        }
        if anchored > 0 {
            let at = self.read_raw(anchored, 1)?;
            if at.first().map(|r| hex_hash(&r.hash)).as_deref() != Some(hash) {
                return Err(StoreError::Corrupt {
                    position: anchored,
                    why: "the event differs from the one acknowledged there".into(),
                });
            }
        }
        Ok(())
    }

    fn index(&self) -> Result<std::sync::MutexGuard<'_, Index>, StoreError> {
        self.index.lock().map_err(|_| poisoned())
    }
}

/// Opens sled, clearing the unfinished snapshots (`snap.*.generating`) sled leaves when it
/// cannot finish writing one (a full disk): sled reads such a file as its latest snapshot and
/// reports the whole store damaged. A snapshot only speeds up sled's opening; the log holds
/// the data. They are removed only after an open that failed for another reason than a lock
/// held elsewhere (so never under a process writing a snapshot), then the open is retried:
/// an open that fails on a full disk leaves none behind, and one that finds one recovers.
fn open_clearing_unfinished_snapshots(path: &Path) -> Result<sled::Db, StoreError> {
    let held_elsewhere = |e: &StoreError| matches!(e, StoreError::Storage(why) if why.contains("open in another process"));
    match open_sled(path) {
        Err(e) if held_elsewhere(&e) => Err(e),
        Err(e) => {
            if !remove_unfinished_snapshots(path)? {
                return Err(e);
            }
            let again = open_sled(path);
            if again.as_ref().is_err_and(|e| !held_elsewhere(e)) {
                // Still failing (the disk still full): leave no unfinished snapshot behind.
                remove_unfinished_snapshots(path)?;
            }
            again
        }
        ok => ok,
    }
}

/// Removes the `snap.*.generating` files in `dir`, saying so; whether there were any.
fn remove_unfinished_snapshots(dir: &Path) -> Result<bool, StoreError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(false);
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path()).map_err(|e| {
                storage(
                    &format!(
                        "cannot remove the unfinished snapshot {}",
                        entry.path().display()
                    ),
                    e,
                )
            })?;
            eprintln!(
                "memberledger: warning: removed {}, a snapshot sled did not finish writing (a full disk?); the log it summarises is intact",
                entry.path().display()
            );
            removed = true;
        }
    }
    Ok(removed)
}

/// How long `open` waits for a lock that a closing handle still holds.
const LOCK_WAIT_MS: u64 = 1000;

/// Opens sled, waiting a moment for a lock released by a handle being dropped (sled's
/// background threads let go of the file shortly after the last handle), and reporting a lock
/// held for longer as a ledger open elsewhere. sled's panics and corruption errors are
/// `Corrupt` naming the file.
fn open_sled(path: &Path) -> Result<sled::Db, StoreError> {
    let mut waited_ms = 0;
    loop {
        let opened = guarded(path, || {
            Ok(sled::Config::new()
                .path(path)
                .mode(sled::Mode::HighThroughput)
                .open())
        })?;
        match opened {
            Ok(db) => return Ok(db),
            // sled reports a held lock as an I/O error wrapping `WouldBlock`.
            Err(sled::Error::Io(io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                if waited_ms >= LOCK_WAIT_MS {
                    return Err(StoreError::Storage(format!(
                        "the ledger at {} is open in another process",
                        path.display()
                    )));
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
                waited_ms += 50;
            }
            Err(e) => {
                return Err(sled_error(
                    path,
                    &format!("cannot open the ledger at {}", path.display()),
                    e,
                ))
            }
        }
    }
}

fn poisoned() -> StoreError {
    StoreError::Storage("a writer panicked while holding the store".into())
}

fn key_position(key: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = key
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .filter(|_| key.len() == 9)
        .ok_or_else(|| StoreError::Corrupt {
            position: 0,
            why: format!("bad log key {key:?}"),
        })?;
    Ok(u64::from_be_bytes(bytes))
}

/// A command's record as stored: the command record and each event's hash and JSON (borrowed
/// from the stored value).
struct Record<'a> {
    record: CommandRecord,
    events: Vec<([u8; 32], &'a [u8])>,
}

fn encode_record(s: &Sealed) -> Vec<u8> {
    let member = s.record.member.as_str().as_bytes();
    let size: usize = 1
        + 16
        + 32
        + 1
        + member.len()
        + 4
        + CHECKSUM_LEN
        + s.json.iter().map(|j| 36 + j.len()).sum::<usize>();
    let mut v = Vec::with_capacity(size);
    v.push(RECORD_FORMAT);
    v.extend_from_slice(s.record.command.as_bytes());
    v.extend_from_slice(&s.record.digest);
    v.push(u8::try_from(member.len()).expect("ids are at most 64 bytes"));
    v.extend_from_slice(member);
    v.extend_from_slice(&s.record.count.to_be_bytes());
    let header_len = v.len();
    for (e, j) in s.events.iter().zip(&s.json) {
        v.extend_from_slice(&e.hash);
        v.extend_from_slice(
            &u32::try_from(j.len())
                .expect("events are small")
                .to_be_bytes(),
        );
        v.extend_from_slice(j.as_bytes());
    }
    // The chain covers each event's bytes (and names the exact position of a damaged one) but
    // not the record's header: command id, digest, member, count. A checksum of the header
    // closes the record, so a damaged header is found too.
    let sum = Sha256::digest(&v[..header_len]);
    v.extend_from_slice(&sum);
    v
}

/// The first position in a stored value (starting at `first`, after `prev`) whose stored
/// hash does not follow the chain, if any.
fn first_bad_link(first: u64, mut prev: [u8; 32], value: &[u8]) -> Option<u64> {
    let records = decode_chunk(first, value).ok()?;
    for rec in records {
        for (i, (hash, json)) in rec.events.iter().enumerate() {
            if chain_hash(&prev, json) != *hash {
                return Some(rec.record.first_position + i as u64);
            }
            prev = *hash;
        }
    }
    None
}

/// Lays sealed records out in chunks of at most [`CHUNK_BYTES`] (a larger record alone):
/// each chunk's first position and value.
fn encode_chunks(sealed: &[Sealed]) -> Vec<(u64, Vec<u8>)> {
    let mut chunks: Vec<(u64, Vec<u8>)> = Vec::new();
    for s in sealed {
        let record = encode_record(s);
        let fits = chunks
            .last()
            .is_some_and(|(_, c)| c.len() + 4 + record.len() <= CHUNK_BYTES);
        if !fits {
            chunks.push((s.record.first_position, vec![CHUNK_FORMAT]));
        }
        let chunk = &mut chunks.last_mut().expect("pushed above").1;
        chunk.extend_from_slice(
            &u32::try_from(record.len())
                .expect("records are small")
                .to_be_bytes(),
        );
        chunk.extend_from_slice(&record);
    }
    chunks
}

/// The records of one stored value, the first at position `first`: a chunk, or a single
/// record of the first release's layout.
fn decode_chunk(first: u64, v: &[u8]) -> Result<Vec<Record<'_>>, StoreError> {
    decode_chunk_with(first, v, true)
}

/// [`decode_chunk`], checking each record's header against its checksum only when `check`.
fn decode_chunk_with(first: u64, v: &[u8], check: bool) -> Result<Vec<Record<'_>>, StoreError> {
    match v.first() {
        Some(&RECORD_FORMAT) => return Ok(vec![decode_record_with(first, v, check)?]),
        Some(&CHUNK_FORMAT) => {}
        _ => {
            return Err(StoreError::Corrupt {
                position: first,
                why: "stored record: unknown format".into(),
            })
        }
    }
    let mut rest = &v[1..];
    let mut position = first;
    let mut records = Vec::new();
    while !rest.is_empty() {
        let truncated = || StoreError::Corrupt {
            position,
            why: "stored record: truncated".into(),
        };
        let len: [u8; 4] = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(truncated)?;
        let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| truncated())?;
        let bytes = rest.get(4..4 + len).ok_or_else(truncated)?;
        rest = &rest[4 + len..];
        let rec = decode_record_with(position, bytes, check)?;
        position += u64::from(rec.record.count);
        records.push(rec);
    }
    if records.is_empty() {
        return Err(StoreError::Corrupt {
            position: first,
            why: "stored record: an empty chunk".into(),
        });
    }
    Ok(records)
}

/// The record holding `position` in a stored value starting at `first`: the records before it
/// are stepped over by their lengths and event counts, and only this one is decoded and
/// checked (a member's events are read one chunk each).
fn record_at(first: u64, v: &[u8], position: u64) -> Result<Record<'_>, StoreError> {
    if v.first() != Some(&CHUNK_FORMAT) {
        return decode_record(first, v);
    }
    let mut rest = &v[1..];
    let mut at = first;
    while let Some(len) = rest.get(..4) {
        let len = usize::try_from(u32::from_be_bytes(len.try_into().expect("four bytes")))
            .unwrap_or(usize::MAX);
        let Some(bytes) = rest.get(4..4usize.saturating_add(len)) else {
            break;
        };
        // The event count, after format, command, digest and the member's length and bytes.
        let count = bytes.get(49).and_then(|&m| {
            let from = 50 + usize::from(m);
            bytes
                .get(from..from + 4)
                .map(|c| u64::from(u32::from_be_bytes(c.try_into().expect("four bytes"))))
        });
        match count {
            Some(n) if position < at + n => return decode_record(at, bytes),
            Some(n) if n > 0 => at += n,
            _ => return decode_record(at, bytes),
        }
        rest = &rest[4 + len..];
    }
    Err(StoreError::Corrupt {
        position,
        why: "indexed event is missing".into(),
    })
}

fn decode_record(first: u64, v: &[u8]) -> Result<Record<'_>, StoreError> {
    decode_record_with(first, v, true)
}

/// Decodes one record, checking its header against its checksum only when `check`.
fn decode_record_with(first: u64, mut v: &[u8], check: bool) -> Result<Record<'_>, StoreError> {
    let corrupt = |why: &str| StoreError::Corrupt {
        position: first,
        why: format!("stored record: {why}"),
    };
    fn take<'a>(v: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if v.len() < n {
            return None;
        }
        let (a, b) = v.split_at(n);
        *v = b;
        Some(a)
    }
    let short = || corrupt("truncated");
    let Some(split) = v.len().checked_sub(CHECKSUM_LEN) else {
        return Err(short());
    };
    let (body, sum) = v.split_at(split);
    let whole = body;
    v = body;
    if take(&mut v, 1).ok_or_else(short)? != [RECORD_FORMAT] {
        return Err(corrupt("unknown record format"));
    }
    let command = Uuid::from_slice(take(&mut v, 16).ok_or_else(short)?).map_err(|_| short())?;
    let digest: [u8; 32] = take(&mut v, 32)
        .ok_or_else(short)?
        .try_into()
        .map_err(|_| short())?;
    let mlen = usize::from(take(&mut v, 1).ok_or_else(short)?[0]);
    let member = std::str::from_utf8(take(&mut v, mlen).ok_or_else(short)?)
        .ok()
        .and_then(|m| MemberId::decode_str(m).ok())
        .ok_or_else(|| corrupt("bad member id"))?;
    let count = u32::from_be_bytes(
        take(&mut v, 4)
            .ok_or_else(short)?
            .try_into()
            .map_err(|_| short())?,
    );
    let header_len = whole.len() - v.len();
    if check && Sha256::digest(&whole[..header_len]).as_slice() != sum {
        return Err(corrupt("the record header does not match its checksum"));
    }
    if count == 0 || count > 10_000 {
        return Err(corrupt("bad event count"));
    }
    let mut events = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let hash: [u8; 32] = take(&mut v, 32)
            .ok_or_else(short)?
            .try_into()
            .map_err(|_| short())?;
        let len = u32::from_be_bytes(
            take(&mut v, 4)
                .ok_or_else(short)?
                .try_into()
                .map_err(|_| short())?,
        );
        let json = take(&mut v, len as usize).ok_or_else(short)?;
        events.push((hash, json));
    }
    if !v.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(Record {
        record: CommandRecord {
            command,
            member,
            digest,
            first_position: first,
            count,
        },
        events,
    })
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
}

/// The reads behind [`EventStore`]'s methods, each called at the store boundary (`guarded`).
impl SledStore {
    fn command_inner(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        let Some(place) = self.index()?.command(id) else {
            return Ok(None);
        };
        // The index keeps no digest: read it back from the command's record, in the chunk
        // that holds its first position.
        let first = place.first_position;
        let missing = || StoreError::Corrupt {
            position: first,
            why: "indexed command is missing".into(),
        };
        let (key, value) = self
            .db()
            .range(event_key(0)..=event_key(first))
            .next_back()
            .transpose()
            .map_err(|e| sled_error(&self.path, "cannot read the log", e))?
            .ok_or_else(missing)?;
        let rec = decode_chunk(key_position(&key)?, &value)?
            .into_iter()
            .find(|r| r.record.first_position == first)
            .ok_or_else(missing)?
            .record;
        if rec.command != id {
            return Err(StoreError::Corrupt {
                position: first,
                why: format!("the record holds command {}, not {id}", rec.command),
            });
        }
        Ok(Some(rec))
    }

    fn read_raw_inner(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        let from = from.max(1);
        let mut out = Vec::new();
        // The record holding `from` is the last one starting at or before it.
        let start = match self
            .db()
            .range(event_key(0)..=event_key(from))
            .next_back()
            .transpose()
            .map_err(|e| sled_error(&self.path, "cannot read the log", e))?
        {
            Some((k, _)) => key_position(&k)?,
            None => return Ok(out),
        };
        for item in self.db().range(event_key(start)..=event_key(u64::MAX)) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| sled_error(&self.path, "cannot read the log", e))?;
            // Every header was checked when the store opened, and sled's files stay locked
            // while it is open: reading the log does not hash them again.
            for rec in decode_chunk_with(key_position(&k)?, &v, false)? {
                let first = rec.record.first_position;
                for (i, (hash, json)) in rec.events.into_iter().enumerate() {
                    let position = first + i as u64;
                    if position >= from && out.len() < limit {
                        out.push(RawEvent {
                            position,
                            hash,
                            json: json.to_vec(),
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    fn read_position(&self, p: u64) -> Result<RecordedEvent, StoreError> {
        let missing = || StoreError::Corrupt {
            position: p,
            why: "indexed event is missing".into(),
        };
        let (key, value) = self
            .db()
            .range(event_key(0)..=event_key(p))
            .next_back()
            .transpose()
            .map_err(|e| sled_error(&self.path, "cannot read the log", e))?
            .ok_or_else(missing)?;
        let rec = record_at(key_position(&key)?, &value, p)?;
        let i = p
            .checked_sub(rec.record.first_position)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(missing)?;
        let (hash, json) = rec.events.get(i).ok_or_else(missing)?;
        RawEvent {
            position: p,
            hash: *hash,
            json: json.to_vec(),
        }
        .decode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memberledger_core::{decide, Command, Policy};
    use memberledger_store::Index;

    fn sealed(n: u32) -> Vec<Sealed> {
        let policy = Policy::builtin();
        let batch = (1..=n)
            .map(|i| {
                let c = Command::from_json(&format!(
                    r#"{{"id":"00000000-0000-4000-8000-{i:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{i}","store":"S1"}}"#
                ))
                .unwrap();
                Append {
                    command: c.id,
                    digest: c.digest(),
                    member: c.member.clone(),
                    expected_version: 0,
                    events: decide(None, &c, &policy).unwrap(),
                }
            })
            .collect();
        Index::default().seal(batch).unwrap().1
    }

    #[test]
    fn a_single_record_of_the_first_layout_still_reads() {
        let s = sealed(1);
        let value = encode_record(&s[0]);
        assert_eq!(value[0], RECORD_FORMAT);
        let records = decode_chunk(1, &value).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].record, s[0].record);
        assert_eq!(records[0].events[0].1, s[0].json[0].as_bytes());
    }

    #[test]
    fn chunks_hold_consecutive_records_and_name_a_damaged_one() {
        let s = sealed(200);
        let chunks = encode_chunks(&s);
        assert!(chunks.len() > 1);
        let mut next = 1;
        for (first, value) in &chunks {
            assert_eq!(*first, next);
            let records = decode_chunk(*first, value).unwrap();
            next = records.last().unwrap().record.first_position + 1;
        }
        assert_eq!(next, 201);
        // A record's length cut short: the record it belongs to is named.
        let (first, value) = &chunks[1];
        let mut cut = value.clone();
        cut.truncate(value.len() - 10);
        let last = decode_chunk(*first, value)
            .unwrap()
            .last()
            .unwrap()
            .record
            .first_position;
        match decode_chunk(*first, &cut) {
            Err(StoreError::Corrupt { position, .. }) => assert_eq!(position, last),
            Err(other) => panic!("expected corrupt, got {other:?}"),
            Ok(_) => panic!("a truncated chunk decoded"),
        }
    }
}
