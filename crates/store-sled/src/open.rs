//! Opening a ledger's directory: in place, from a private copy, or as a new ledger; sled's own
//! open, with the wait for a lock being released and the clearing of unfinished snapshots.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use memberledger_store::{Cause, Index, StoreError};

use crate::guard::{guarded, sled_error};
use crate::writer::Writer;
use crate::{
    anchor, existing, holds_no_ledger, poisoned, readonly, storage, SledOptions, SledStore,
};

impl SledStore {
    /// Opens (or creates) the store in a directory ([`create`](SledStore::create) and
    /// [`open_existing`](SledStore::open_existing) say which is meant). Fails with `Locked`
    /// when another process holds it, and with `Corrupt` when the log cannot be read back as written (naming the
    /// position, or sled's file when the damage is in sled's own files) or when its head
    /// anchor is missing, empty or ahead of the log. A directory that cannot be written is
    /// opened from a private copy, for reading only.
    ///
    /// A directory that holds sled's files (a non-empty `db`, `conf`, `snap.*`, `blobs`) or
    /// the anchor is never a new ledger: when it holds no events and no anchor, or no data
    /// file, it is `Corrupt` naming the files ([`holds_no_ledger`]), and nothing is written.
    pub fn open(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        SledStore::open_with(path, &SledOptions::default())
    }

    /// [`open`](SledStore::open) with options (a bound on sled's page cache).
    pub fn open_with(
        path: impl AsRef<Path>,
        options: &SledOptions,
    ) -> Result<SledStore, StoreError> {
        let origin = path.as_ref().to_path_buf();
        if readonly::is_read_only(&origin) {
            return SledStore::open_copy_because(&origin, readonly::NOT_WRITABLE, options);
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
        SledStore::open_in(origin, None, options)
    }

    /// Opens the ledger in `path` from a private copy, for reading only: nothing is ever
    /// written to `path` (not by sled's recovery of damaged files either, which rewrites
    /// them). The copy (reflinked where the file system shares extents between the ledger and
    /// the temporary directory, else copied) is taken while holding sled's lock, so never
    /// from a ledger another process is writing (`Storage`: "open in another process"), and
    /// removed when the store is dropped; copies left by a process that died are removed on
    /// the next such open. Every write is refused.
    pub fn open_copy(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        SledStore::open_copy_with(path, &SledOptions::default())
    }

    /// [`open_copy`](SledStore::open_copy) with options (a bound on sled's page cache).
    pub fn open_copy_with(
        path: impl AsRef<Path>,
        options: &SledOptions,
    ) -> Result<SledStore, StoreError> {
        SledStore::open_copy_because(path.as_ref(), readonly::ASKED, options)
    }

    fn open_copy_because(
        origin: &Path,
        why: &'static str,
        options: &SledOptions,
    ) -> Result<SledStore, StoreError> {
        let origin = origin.to_path_buf();
        let copy = readonly::private_copy(&origin, why)?;
        let read = copy.dir.path().to_path_buf();
        // Errors name the ledger's own files, not the private copy's.
        SledStore::open_in(read.clone(), Some(copy), options)
            .map_err(|e| readonly::name_origin(e, &read, &origin))
    }

    /// [`open`](SledStore::open) in `path`, which is a private copy when `read_only` is set.
    fn open_in(
        path: PathBuf,
        read_only: Option<readonly::Copy>,
        options: &SledOptions,
    ) -> Result<SledStore, StoreError> {
        let found = existing::ledger_files(&path);
        if !found.is_empty() && existing::data_file_missing(&path) {
            // sled would create a new data file over what is left of a ledger.
            return Err(existing::holds_no_ledger(
                &path,
                &found,
                "sled's data file db is missing or empty",
            ));
        }
        let db = open_clearing_unfinished_snapshots(&path, options)?;
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
            behind: Default::default(),
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
}

/// Opens sled, clearing the unfinished snapshots (`snap.*.generating`) sled leaves when it
/// cannot finish writing one (a full disk): sled reads such a file as its latest snapshot and
/// reports the whole store damaged. A snapshot only speeds up sled's opening; the log holds
/// the data. They are removed only after an open that failed for another reason than a lock
/// held elsewhere (so never under a process writing a snapshot), then the open is retried:
/// an open that fails on a full disk leaves none behind, and one that finds one recovers.
fn open_clearing_unfinished_snapshots(
    path: &Path,
    options: &SledOptions,
) -> Result<sled::Db, StoreError> {
    let held_elsewhere = |e: &StoreError| matches!(e, StoreError::Locked { .. });
    match open_sled(path, options) {
        Err(e) if held_elsewhere(&e) => Err(e),
        Err(e) => {
            if !remove_unfinished_snapshots(path)? {
                return Err(e);
            }
            let again = open_sled(path, options);
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
fn open_sled(path: &Path, options: &SledOptions) -> Result<sled::Db, StoreError> {
    let mut waited_ms = 0;
    loop {
        let opened = guarded(path, || {
            let mut config = sled::Config::new()
                .path(path)
                .mode(sled::Mode::HighThroughput);
            if let Some(bytes) = options.cache_bytes {
                config = config.cache_capacity(bytes);
            }
            Ok(config.open())
        })?;
        match opened {
            Ok(db) => return Ok(db),
            // sled reports a held lock as an I/O error wrapping `WouldBlock`.
            Err(sled::Error::Io(io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                if waited_ms >= LOCK_WAIT_MS {
                    return Err(StoreError::Locked {
                        location: path.display().to_string(),
                        source: Some(Cause::new(io)),
                    });
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
