//! What a directory holds before sled opens it: a directory holding sled's files (a non-empty
//! data file `db`, or `conf`, a snapshot `snap.*`, the blob directory `blobs`) or the head
//! anchor is never a new ledger, whatever sled reads back from them.
//!
//! sled recovers a cut or damaged log by dropping everything from the damage on, and can end
//! with nothing at all; with the anchor gone too, that looked like a new ledger, and `init`
//! succeeded over it. Such a directory is `Corrupt`, naming its files, and so is the
//! directory an `init` left when it was interrupted before it finished (sled's files created,
//! no anchor or no policy yet): the message says how to recover from both.

use std::path::{Path, PathBuf};

use memberledger_store::{EventStore, StoreError};

use crate::anchor::{ANCHORED_KEY, ANCHOR_FILE};
use crate::guard::{guarded, sled_error};
use crate::record::SLED_SEGMENT_SIZE;
use crate::tail;
use crate::{SledStore, META_PREFIX};

/// Creating and opening a ledger that must (not) be there, without the caller knowing sled's
/// files.
impl SledStore {
    /// Whether a ledger lives at `path`: the directory holds a ledger's files (sled's, or the
    /// head anchor). Nothing is opened or written. A directory that does is never a new ledger
    /// ([`create`](SledStore::create) refuses it); one that does not has no ledger to open
    /// ([`open_existing`](SledStore::open_existing) refuses it).
    ///
    /// ```
    /// use memberledger_store_sled::SledStore;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("ledger");
    /// assert!(!SledStore::exists(&path));
    /// drop(SledStore::create(&path)?);
    /// assert!(SledStore::exists(&path));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exists(path: impl AsRef<Path>) -> bool {
        !ledger_files(path.as_ref()).is_empty()
    }

    /// Creates a new ledger's store in `path` (a directory absent or empty of a ledger's
    /// files). `AlreadyExists` when a ledger is there (it holds events or settings, or another
    /// process has it open); `Corrupt` when sled's files are there without a ledger
    /// ([`holds_no_ledger`]).
    pub fn create(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        let path = path.as_ref();
        if !SledStore::exists(path) {
            return SledStore::open(path);
        }
        let already = || StoreError::AlreadyExists {
            location: path.display().to_string(),
        };
        let store = match SledStore::open(path) {
            Err(StoreError::Locked { .. }) => return Err(already()),
            opened => opened?,
        };
        if store.holds_anything()? {
            return Err(already());
        }
        Err(store.no_ledger_error("no settings and no events"))
    }

    /// Opens the ledger in `path`, which must be there: `NoLedger` when the directory holds
    /// none of a ledger's files (nothing is created), `Corrupt` when they hold no ledger (no
    /// settings and no events: a damaged ledger or an interrupted create).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<SledStore, StoreError> {
        let path = path.as_ref();
        if !SledStore::exists(path) {
            return Err(StoreError::NoLedger {
                location: path.display().to_string(),
            });
        }
        let store = SledStore::open(path)?;
        if !store.holds_anything()? {
            return Err(store.no_ledger_error("no settings and no events"));
        }
        Ok(store)
    }

    /// Whether the store holds an event or a setting of its user's (not the store's own
    /// record that it has an anchor).
    fn holds_anything(&self) -> Result<bool, StoreError> {
        if self.head()?.position > 0 {
            return Ok(true);
        }
        guarded(&self.path, || {
            for key in self.db().scan_prefix([META_PREFIX]).keys() {
                let key = key.map_err(|e| sled_error(&self.path, "cannot read a setting", e))?;
                if key.as_ref() != ANCHORED_KEY {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }
}

/// The files of a ledger found in `dir`: a non-empty `db`, `conf`, `snap.*`, `blobs`, and the
/// head anchor. Empty for an absent or empty directory (a new ledger).
pub(crate) fn ledger_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match name.as_str() {
                "db" => e.metadata().is_ok_and(|m| m.len() > 0),
                "conf" | "blobs" | ANCHOR_FILE => true,
                n => n.starts_with("snap."),
            }
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Whether sled's data file in `dir` is missing or empty (sled would create it).
pub(crate) fn data_file_missing(dir: &Path) -> bool {
    !std::fs::metadata(dir.join("db")).is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// The error for a directory whose ledger files (`files`) hold no ledger: `what` says what
/// is missing (no data file, no head anchor, no policy setting and no events).
pub fn holds_no_ledger(dir: &Path, files: &[PathBuf], what: &str) -> StoreError {
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name()
                .map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into())
        })
        .collect();
    StoreError::Corrupt {
        position: 0,
        why: format!(
            "sled's files are here ({} in {}) but hold no ledger ({what}): the ledger is \
             damaged (its log lost or cut, its head anchor gone), or an `init` was interrupted \
             before it finished. Restore the ledger from a backup \
             (memberledger restore --from EXPORT --db NEW_DIR); only if this directory never \
             recorded a command (an interrupted init) remove it and run init again",
            names.join(", "),
            dir.display()
        ),
    }
}

/// Whether `dir` holds a ledger's files but its head anchor is missing or empty: the open can
/// only fail (`Corrupt`), so it is made on a private copy, leaving sled's files as they are
/// (sled's recovery rewrites a damaged log when it opens it).
pub(crate) fn anchor_lost(dir: &Path) -> bool {
    let anchor = dir.join(ANCHOR_FILE);
    !std::fs::metadata(&anchor).is_ok_and(|m| m.len() > 0) && !ledger_files(dir).is_empty()
}

/// Whether sled's data file in `dir` was cut: it ends neither where sled leaves it after a
/// flush, a normal close or its own recovery ([`tail::ends_whole`], read from the last
/// segment only), nor on a segment boundary. sled's recovery would rewrite a cut log (zeroing
/// it from the cut on and, at a later open, deleting the blob files no longer referenced), so
/// its open is first tried on a private copy: only when the copy opens whole is the ledger
/// itself opened. A file cut exactly at the end of a message looks whole here; the head
/// anchor still turns what it lost into `Corrupt`.
pub(crate) fn cut_short(dir: &Path) -> bool {
    let data = dir.join("db");
    let Ok(len) = std::fs::metadata(&data).map(|m| m.len()) else {
        return false;
    };
    let segment = std::fs::read(dir.join("conf"))
        .ok()
        .and_then(|c| {
            String::from_utf8_lossy(&c)
                .lines()
                .find_map(|l| l.strip_prefix("segment_size: ")?.trim().parse::<u64>().ok())
        })
        .filter(|&s| s > 0)
        .unwrap_or_else(|| u64::try_from(SLED_SEGMENT_SIZE).unwrap_or(u64::MAX));
    let tail = len % segment;
    if tail == 0 {
        return false;
    }
    // Unreadable: judged cut, so the open is tried on a copy first, as before.
    last_segment(&data, len - tail).map_or(true, |bytes| !tail::ends_whole(&bytes))
}

/// The bytes of sled's data file `path` from `start` (the last segment's beginning) on.
fn last_segment(path: &Path, start: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durable writes of `count` settings of `bytes` bytes each.
    fn write(path: &Path, from: usize, count: usize, bytes: usize) {
        let store = SledStore::open(path).unwrap();
        for i in from..from + count {
            let value: Vec<u8> = (0..bytes)
                .map(|b| u8::try_from((b * 7 + i) % 251).unwrap())
                .collect();
            store.set_meta(&format!("k{i}"), &value).unwrap();
        }
    }

    #[test]
    fn a_normally_closed_ledger_is_never_judged_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        let mut lengths = Vec::new();
        // Sessions that stay in a segment, fill one, and spill into new ones (each reopen
        // is sled's recovery, which fills the rest of the segment it writes on).
        for (session, (count, bytes)) in [(5, 300), (40, 9000), (3, 100), (120, 9000), (1, 40)]
            .into_iter()
            .enumerate()
        {
            write(&path, session * 1000, count, bytes);
            let len = std::fs::metadata(path.join("db")).unwrap().len();
            lengths.push(len);
            assert!(
                !cut_short(&path),
                "session {session}: db of {len} bytes judged cut"
            );
        }
        // Some closes ended inside a segment: the check was exercised.
        let segment = u64::try_from(SLED_SEGMENT_SIZE).unwrap();
        assert!(lengths.iter().any(|l| l % segment != 0), "{lengths:?}");
        // Opening again, with nothing written, leaves it whole too.
        drop(SledStore::open(&path).unwrap());
        assert!(!cut_short(&path));
    }

    #[test]
    fn a_data_file_cut_inside_a_message_is_judged_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        write(&path, 0, 30, 5000);
        let db = path.join("db");
        let len = std::fs::metadata(&db).unwrap().len();
        let segment = u64::try_from(SLED_SEGMENT_SIZE).unwrap();
        let start = len - len % segment;
        let bytes = last_segment(&db, start).unwrap();
        // Cutting 100 bytes off a 5000-byte value's message lands inside it.
        let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        let end = start + u64::try_from(bytes.iter().rposition(|&b| b != 0).unwrap()).unwrap();
        f.set_len(end - 100).unwrap();
        drop(f);
        assert!(cut_short(&path), "{len} cut to {}", end - 100);
    }
}
