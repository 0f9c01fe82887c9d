//! Opening a ledger's directory: creating a new store, opening an existing one (the lock
//! taken, the open scan run, a torn tail removed), or opening one for reading only.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use memberledger_store::checkpoint_files::CheckpointFiles;
use memberledger_store::write_behind::WriteBehind;
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
        FileStore::open_locked(dir, Some(lock), found, true)
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
    /// is no store. What `verify` reads when it cannot read the log through an index snapshot
    /// ([`open_to_verify`](FileStore::open_to_verify)).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        FileStore::open_unlocked(path.as_ref(), false)
    }

    /// Opens the store in `path` for reading only, as [`open_read_only`](FileStore::open_read_only)
    /// does, but from the latest index snapshot, as a writable open does: only the frames after
    /// it are scanned. For a reader that holds the index to the log itself: a replay that
    /// reads the whole log through it, checking every event's place, then asks
    /// [`index_snapshot_problem`](memberledger_store::EventStore::index_snapshot_problem) (what `verify` does, and
    /// what it would otherwise trust without reading: the snapshot a writable open loads).
    ///
    /// ```
    /// use memberledger_store::EventStore;
    /// use memberledger_store_file::FileStore;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("ledger");
    /// drop(FileStore::create(&path)?);
    /// let store = FileStore::open_to_verify(&path)?;
    /// assert_eq!(store.index_snapshot_problem(0), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_to_verify(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        FileStore::open_unlocked(path.as_ref(), true)
    }

    /// Opens the store in `dir` for reading only, from its latest index snapshot when
    /// `from_snapshot`. `NoLedger` when there is no store.
    fn open_unlocked(dir: &Path, from_snapshot: bool) -> Result<FileStore, StoreError> {
        if !FileStore::exists(dir) {
            return Err(StoreError::NoLedger {
                location: dir.display().to_string(),
            });
        }
        segments::check_format(dir)?;
        FileStore::open_locked(dir, None, true, from_snapshot)
    }

    /// Whether the store holds an event or a setting.
    fn holds_anything(&self) -> Result<bool, StoreError> {
        Ok(self.state()?.index.head().position > 0 || meta::any(&self.dir))
    }

    /// Scans the segments and opens the store (`lock`: held for writing; `None`: read-only),
    /// from the latest usable index snapshot when `from_snapshot`.
    fn open_locked(
        dir: &Path,
        lock: Option<File>,
        found: bool,
        from_snapshot: bool,
    ) -> Result<FileStore, StoreError> {
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
        // A read-only open scans everything, unless its reader holds the snapshot to the log.
        let start = if from_snapshot {
            crate::snapshot::latest(dir, &snapshots)
        } else {
            None
        };
        let from_snapshot = start.as_ref().map(|s| s.index.head().position);
        let (scanned, files) = scan_all(dir, &numbers, write, start, SCAN_PART)?;
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
            behind: WriteBehind::default(),
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

/// Bytes of a segment the open scan reads at a time, into one buffer reused for every part
/// of every segment: a buffer the size of a segment (64 MiB) costs more to fault in than the
/// read itself.
const SCAN_PART: usize = 4 << 20;

/// Reads and scans every segment (the last opened for writing when `write`), or only what
/// follows `start` (an index snapshot): the segments before its last frame's are not read.
/// `part`: the bytes read at a time ([`SCAN_PART`]).
fn scan_all(
    dir: &Path,
    numbers: &[u32],
    write: bool,
    start: Option<Scanned>,
    part: usize,
) -> Result<(Scanned, Vec<Arc<File>>), StoreError> {
    let resume = start
        .as_ref()
        .and_then(|s| s.frames.last())
        .map(|f| (f.segment, f.offset + u64::from(f.len)));
    let mut scanned = start.unwrap_or_default();
    let mut index = std::mem::take(&mut scanned.index);
    let bytes = bytes_to_scan(dir, numbers, resume);
    // The index is built on another core beside the scan, which reads, checks and decodes
    // the frames and sends it the commands in log order, a batch at a time.
    let (sender, batches) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
    scanned.send_to(sender, index.head(), bytes);
    let (scanned, files, scan, indexed) = std::thread::scope(|threads| {
        let indexer = threads.spawn(|| crate::scan::index_commands(&mut index, batches));
        // Owned here, so that a panic drops the sending end and the indexer stops.
        let mut scanned = scanned;
        let mut files = Vec::with_capacity(numbers.len());
        let scan = scan_segments(
            dir,
            numbers,
            (write, resume, part),
            &mut scanned,
            &mut files,
        );
        scanned.stop_sending();
        let indexed = indexer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (scanned, files, scan, indexed)
    });
    let mut scanned = scanned;
    scanned.index = index;
    scanned.last = None;
    // An id recorded twice is damage found before anything the scan stopped at, which lies
    // after every command it sent.
    indexed.map_err(|(position, command)| crate::scan::recorded_twice(position, command))?;
    scan?;
    Ok((scanned, files))
}

/// Batches of commands the scan may send ahead of the thread building the index.
const BATCHES_AHEAD: usize = 4;

/// About the bytes of `numbers`' segments a scan reads from where it resumes: what the
/// command table is sized by. A segment that cannot be looked at counts as empty (the scan
/// says what is wrong with it), and one counts as twice a full segment at most (a damaged
/// file of any length must not size the table: a table sized short only grows).
fn bytes_to_scan(dir: &Path, numbers: &[u32], resume: Option<(u32, u64)>) -> u64 {
    numbers
        .iter()
        .map(|&n| {
            let len = std::fs::metadata(dir.join(segments::name(n)))
                .map_or(0, |m| m.len())
                .min(2 * segments::SEGMENT_BYTES);
            match resume {
                Some((segment, _)) if n < segment => 0,
                Some((segment, end)) if n == segment => len.saturating_sub(end),
                _ => len,
            }
        })
        .sum()
}

/// The loop of [`scan_all`]: each segment opened (into `files`) and, from where the scan
/// resumes, scanned into `scanned`.
fn scan_segments(
    dir: &Path,
    numbers: &[u32],
    (write, resume, part): (bool, Option<(u32, u64)>, usize),
    scanned: &mut Scanned,
    files: &mut Vec<Arc<File>>,
) -> Result<(), StoreError> {
    let mut buffer = Vec::new();
    for (i, &n) in numbers.iter().enumerate() {
        let last = i + 1 == numbers.len();
        let file = segments::open(dir, n, write && last)?;
        let from = match resume {
            Some((segment, _)) if n < segment => None,
            Some((segment, end)) if n == segment => Some(end),
            _ => Some(0),
        };
        if let Some(from) = from {
            let segment = Segment {
                dir,
                number: n,
                file: &file,
                last,
            };
            segment.scan(scanned, (from, part), &mut buffer)?;
        }
        files.push(Arc::new(file));
    }
    Ok(())
}

/// A segment the open scan reads.
struct Segment<'a> {
    dir: &'a Path,
    number: u32,
    file: &'a File,
    /// Whether appends go on in it (it may end in a torn tail).
    last: bool,
}

impl Segment<'_> {
    /// Scans the segment from byte `from`, a part of whole appends at a time; the rest of it
    /// at once where a part will not do (an append larger than a part, or damage, which the
    /// scan judges against everything after it).
    fn scan(
        &self,
        scanned: &mut Scanned,
        (from, part): (u64, usize),
        buffer: &mut Vec<u8>,
    ) -> Result<(), StoreError> {
        let name = segments::name(self.number);
        let mut base = from;
        let mut want = part;
        loop {
            if self.read(base, want, buffer)? {
                return scanned.segment(self.number, (buffer, base), self.last, &name);
            }
            let cut = crate::scan::appends_end(buffer);
            match cut {
                Some(cut)
                    if scanned
                        .segment(self.number, (&buffer[..cut], base), false, &name)
                        .is_ok() =>
                {
                    base += u64::try_from(cut).unwrap_or(u64::MAX);
                    want = part;
                }
                // Damage in the part: the rest from the last append taken, at once.
                Some(_) => {
                    base = scanned
                        .frames
                        .last()
                        .filter(|f| f.segment == self.number && f.offset >= base)
                        .map_or(base, |f| f.offset + u64::from(f.len));
                    want = usize::MAX;
                }
                None => want = want.saturating_mul(2),
            }
        }
    }

    /// Reads up to `want` bytes from byte `at` into `buffer` (cleared first): whether that
    /// reached the end of the segment.
    fn read(&self, at: u64, want: usize, buffer: &mut Vec<u8>) -> Result<bool, StoreError> {
        use std::io::{Read, Seek, SeekFrom};
        buffer.clear();
        let mut file = self.file;
        let limit = u64::try_from(want).unwrap_or(u64::MAX);
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.take(limit).read_to_end(buffer))
            .map_err(|e| {
                storage(
                    &format!(
                        "cannot read {}",
                        self.dir.join(segments::name(self.number)).display()
                    ),
                    e,
                )
            })?;
        Ok((buffer.len() as u64) < limit)
    }
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

/// The integration tests' enrolments, decided as the ledger would.
#[cfg(test)]
#[path = "../tests/common/mod.rs"]
mod common;

#[cfg(test)]
mod tests {
    use memberledger_store::{Append, EventStore};
    use proptest::prelude::*;

    use super::*;

    /// The enrolments of members `from..to`, as one append each.
    fn enrolments(from: u32, to: u32) -> Vec<Append> {
        (from..to).map(super::common::enroll).collect()
    }

    /// A store of several segments: appends of one command, of a few, and of 150 (more than
    /// one frame).
    fn ledger(dir: &Path) {
        let store = FileStore::create(dir).unwrap().with_segment_bytes(150_000);
        let mut n = 1;
        for size in [1, 150, 3, 1, 150, 40, 1, 1, 150, 2] {
            store.append(enrolments(n, n + size)).unwrap();
            n += size;
        }
    }

    /// What a scan of every segment finds (read-only), or its error.
    fn scan(
        dir: &Path,
        part: usize,
    ) -> Result<(Vec<crate::scan::FrameAt>, u64, Option<u64>, u64), String> {
        let numbers = segments::listed(dir).unwrap();
        scan_all(dir, &numbers, false, None, part)
            .map(|(s, _)| (s.frames, s.end, s.torn, s.index.head().position))
            .map_err(|e| e.to_string())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Scanned a part at a time, a segment gives what it gives read whole, sound or
        /// damaged anywhere (a flipped byte, a cut), error and all.
        #[test]
        fn a_scan_in_parts_finds_what_a_scan_of_the_whole_finds(
            part in 1usize..70_000,
            damage in proptest::option::of((any::<proptest::sample::Index>(), 1u8..=255)),
            cut in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("l");
            ledger(&dir);
            let numbers = segments::listed(&dir).unwrap();
            prop_assert!(numbers.len() >= 2);
            let target = dir.join(segments::name(if cut.is_some() { *numbers.last().unwrap() } else { numbers[0] }));
            let mut bytes = std::fs::read(&target).unwrap();
            if let Some((at, flip)) = damage {
                let i = at.index(bytes.len());
                bytes[i] ^= flip;
            }
            if let Some(keep) = cut {
                bytes.truncate(keep.index(bytes.len()));
            }
            std::fs::write(&target, &bytes).unwrap();
            let whole = scan(&dir, usize::MAX);
            prop_assert_eq!(scan(&dir, part), whole.clone());
            prop_assert_eq!(scan(&dir, SCAN_PART), whole);
        }
    }

    /// A log that records one command at positions 1 and 2 (each frame sound on its own):
    /// opened to write or to read only, it is `Corrupt` at the second, naming the command.
    #[test]
    fn a_command_recorded_twice_is_corrupt_where_it_is_met_again() {
        let tmp = tempfile::tempdir().unwrap();
        let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
        FileStore::create(&one)
            .unwrap()
            .append(enrolments(1, 2))
            .unwrap();
        let other = FileStore::create(&two).unwrap();
        other.append(enrolments(2, 3)).unwrap();
        other.append(enrolments(1, 2)).unwrap();
        drop(other);
        let first = std::fs::read(one.join(segments::name(0))).unwrap();
        let second = std::fs::read(two.join(segments::name(0))).unwrap();
        // The second store's frame of command 1 (at position 2) is as long as the first's.
        let again = &second[second.len() - first.len()..];
        std::fs::write(one.join(segments::name(0)), [&first[..], again].concat()).unwrap();
        let command = enrolments(1, 2)[0].command;
        for opened in [FileStore::open_read_only(&one), FileStore::open(&one)] {
            match opened.map(|_| ()) {
                Err(StoreError::Corrupt { position, why }) => {
                    assert_eq!(position, 2);
                    assert_eq!(why, format!("command {command} is recorded twice"));
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_sound_log_scanned_in_small_parts_is_read_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("l");
        ledger(&dir);
        let whole = scan(&dir, usize::MAX).unwrap();
        assert_eq!(whole.3, 499);
        assert_eq!(whole.2, None);
        for part in [1, 100, 1_000, 10_000, 64 * 1024] {
            assert_eq!(scan(&dir, part).unwrap(), whole);
        }
    }
}
