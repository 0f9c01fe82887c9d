//! Opening a ledger's directory: creating a new store, opening an existing one (the lock
//! taken, the open scan run, a torn tail removed), or opening one for reading only.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use memberledger_store::checkpoint_files::CheckpointFiles;
use memberledger_store::{Cause, StoreError};

use crate::scan::Scanned;
use crate::segments::{self, storage};
use crate::{meta, FileStore, State, Writer};

const LOCK_FILE: &str = "LOCK";

impl FileStore {
    /// Whether a file store lives at `path` (its `FORMAT` file or a segment is there).
    /// Nothing is opened or written.
    ///
    /// ```
    /// use memberledger_store_file::FileStore;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("ledger");
    /// assert!(!FileStore::exists(&path));
    /// drop(FileStore::create(&path)?);
    /// assert!(FileStore::exists(&path));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exists(path: impl AsRef<Path>) -> bool {
        segments::holds_store(path.as_ref())
    }

    /// Opens the store in `path`, creating a new one if the directory is absent or holds no
    /// store (`AlreadyExists` when it holds a sled ledger's files). `Locked` when another process (or another store in this one) has it open;
    /// `Corrupt` when the log cannot be read back as written.
    pub fn open(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let dir = path.as_ref();
        let found = FileStore::exists(dir);
        if !found && segments::holds_sled_files(dir) {
            // Another store's ledger: a file store written over it would hide it.
            return Err(StoreError::AlreadyExists {
                location: dir.display().to_string(),
            });
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| storage(&format!("cannot create {}", dir.display()), e))?;
        let lock = lock(dir)?;
        if !segments::check_format(dir)? {
            if found {
                return Err(StoreError::Corrupt {
                    position: 0,
                    why: format!("{} holds segments but no FORMAT file", dir.display()),
                });
            }
            segments::write_format(dir)?;
        }
        FileStore::open_locked(dir, Some(lock), found)
    }

    /// Creates a new store in `path` (absent, or holding no store). `AlreadyExists` when a
    /// ledger is there (it holds events or settings, or another process has it open);
    /// `Corrupt` when a store's files are there without a ledger.
    pub fn create(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let path = path.as_ref();
        if !FileStore::exists(path) {
            return FileStore::open(path);
        }
        let already = || StoreError::AlreadyExists {
            location: path.display().to_string(),
        };
        let store = match FileStore::open(path) {
            Err(StoreError::Locked { .. }) => return Err(already()),
            opened => opened?,
        };
        if store.holds_anything()? {
            return Err(already());
        }
        Err(store.no_ledger_error("no settings and no events"))
    }

    /// Opens the store in `path`, which must be there: `NoLedger` when the directory holds
    /// no store (nothing is created), `Corrupt` when it holds no ledger (no settings and no
    /// events).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let path = path.as_ref();
        if !FileStore::exists(path) {
            return Err(StoreError::NoLedger {
                location: path.display().to_string(),
            });
        }
        let store = FileStore::open(path)?;
        if !store.holds_anything()? {
            return Err(store.no_ledger_error("no settings and no events"));
        }
        Ok(store)
    }

    /// Opens the store in `path` for reading only: no lock is taken, nothing is written (a
    /// torn tail is ignored, not removed), and every write is refused. `NoLedger` when there
    /// is no store. What `verify` reads.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let dir = path.as_ref();
        if !FileStore::exists(dir) {
            return Err(StoreError::NoLedger {
                location: dir.display().to_string(),
            });
        }
        segments::check_format(dir)?;
        FileStore::open_locked(dir, None, true)
    }

    /// Whether the store holds an event or a setting.
    fn holds_anything(&self) -> Result<bool, StoreError> {
        Ok(self.state()?.index.head().position > 0 || meta::any(&self.dir))
    }

    /// Scans the segments and opens the store (`lock`: held for writing; `None`: read-only).
    fn open_locked(dir: &Path, lock: Option<File>, found: bool) -> Result<FileStore, StoreError> {
        let write = lock.is_some();
        let mut numbers = segments::listed(dir)?;
        if numbers.is_empty() {
            if !write {
                return Err(StoreError::Corrupt {
                    position: 0,
                    why: format!("{} holds no segment", dir.display()),
                });
            }
            drop(segments::create(dir, 0)?);
            numbers.push(0);
        }
        let snapshots = CheckpointFiles::new(dir.join(crate::SNAPSHOT_DIR));
        // A read-only open (verify) never trusts a snapshot: it scans everything.
        let start = if write {
            crate::snapshot::latest(dir, &snapshots)
        } else {
            None
        };
        let from_snapshot = start.as_ref().map(|s| s.index.head().position);
        let (scanned, files) = scan_all(dir, &numbers, write, start)?;
        let last = *numbers.last().expect("at least one segment");
        let file = Arc::clone(files.last().expect("one file a segment"));
        if let (Some(torn), true) = (scanned.torn, write) {
            file.set_len(scanned.end)
                .and_then(|()| file.sync_data())
                .map_err(|e| storage("cannot remove the torn tail", e))?;
            eprintln!(
                "memberledger: warning: removed {torn} byte(s) from the end of {}: an append that was never acknowledged (a crash mid-write)",
                dir.join(segments::name(last)).display()
            );
        }
        let mut index = scanned.index;
        index.shrink_to_fit();
        let mut frames = scanned.frames;
        frames.shrink_to_fit();
        Ok(FileStore {
            dir: dir.to_path_buf(),
            state: RwLock::new(State {
                index,
                frames,
                segments: files,
            }),
            writer: Mutex::new(Writer {
                file,
                number: last,
                end: scanned.end,
                failed: None,
                segment_bytes: segments::SEGMENT_BYTES,
            }),
            lock,
            checkpoints: CheckpointFiles::new(dir.join("checkpoints")),
            snapshots,
            found,
            torn: scanned.torn,
            from_snapshot,
            faults: crate::faults::Faults::default(),
        })
    }
}

/// Reads and scans every segment (the last opened for writing when `write`), or only what
/// follows `start` (an index snapshot): the segments before its last frame's are not read.
fn scan_all(
    dir: &Path,
    numbers: &[u32],
    write: bool,
    start: Option<Scanned>,
) -> Result<(Scanned, Vec<Arc<File>>), StoreError> {
    let resume = start
        .as_ref()
        .and_then(|s| s.frames.last())
        .map(|f| (f.segment, f.offset + u64::from(f.len)));
    let mut scanned = start.unwrap_or_default();
    let mut files = Vec::with_capacity(numbers.len());
    let mut bytes = Vec::new();
    for (i, &n) in numbers.iter().enumerate() {
        let last = i + 1 == numbers.len();
        let file = segments::open(dir, n, write && last)?;
        let from = match resume {
            Some((segment, _)) if n < segment => None,
            Some((segment, end)) if n == segment => Some(usize::try_from(end).unwrap_or(0)),
            _ => Some(0),
        };
        if let Some(from) = from {
            bytes.clear();
            // Sized once: a read into a growing buffer copies the segment over and over.
            let len = file.metadata().map_or(0, |m| m.len());
            bytes.reserve(usize::try_from(len).unwrap_or(0));
            std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(|e| {
                storage(
                    &format!("cannot read {}", dir.join(segments::name(n)).display()),
                    e,
                )
            })?;
            scanned.segment(n, (&bytes, from.min(bytes.len())), last, &segments::name(n))?;
        }
        files.push(Arc::new(file));
    }
    Ok((scanned, files))
}

/// Takes the lock on `dir`'s `LOCK` file: `Locked` when it is held.
fn lock(dir: &Path) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| storage("cannot open the LOCK file", e))?;
    fs2::FileExt::try_lock_exclusive(&file).map_err(|e| StoreError::Locked {
        location: dir.display().to_string(),
        source: Some(Cause::new(e)),
    })?;
    Ok(file)
}
