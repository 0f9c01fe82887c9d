//! Making sled's blob files durable.
//!
//! sled 0.34 writes a value, or a tree node, larger than its blob threshold to a file of its own
//! under `blobs/` and never syncs it; its flush only covers the log that points to it. After a
//! power loss such a file could be missing or short while the log, synced, still refers to it.
//! So after every flush the store syncs the blob files it has not synced yet (or that have
//! grown since), and the directory when one is new.
//!
//! sled names a blob file by the log sequence number of the message pointing to it (a
//! decimal number, rising) and never changes a file once written (it creates it whole in one
//! go, then only deletes it). So the cost follows what is new: a file stays watched (its
//! length compared at every flush, synced again if it grew) until it has been seen at the
//! same length at two flushes in a row; then it, and every file named by a lower number, is
//! settled and never looked at again (only its name is read in the listing, no `stat`).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

/// What is known of the blob files: every file numbered up to `settled` is synced whole;
/// `watched` holds the others synced so far, with the length they had then.
#[derive(Default)]
pub(crate) struct SyncedBlobs(Mutex<Seen>);

#[derive(Default)]
struct Seen {
    settled: Option<u64>,
    watched: HashMap<OsString, u64>,
}

impl SyncedBlobs {
    /// Syncs every blob file in `dir` not synced at its present length, then `dir` if any was.
    pub(crate) fn sync_new(&self, dir: &Path) -> std::io::Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut watched = HashMap::new();
        // The numbered files looked at, and whether each had the length it had last time.
        let mut steady: Vec<(u64, bool)> = Vec::new();
        let mut any = false;
        // sled removes the blobs it no longer needs at any time: a file gone meanwhile is fine.
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let number = name.to_str().and_then(|n| n.parse::<u64>().ok());
            if number.is_some() && number <= seen.settled {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(e),
            };
            let same = seen.watched.get(&name) == Some(&meta.len());
            if !same {
                match File::open(entry.path()).and_then(|f| f.sync_all()) {
                    Ok(()) => any = true,
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(e),
                }
            }
            steady.extend(number.map(|n| (n, same)));
            watched.insert(name, meta.len());
        }
        if any {
            File::open(dir)?.sync_all()?;
        }
        // Settled: the files up to the first one (by number) not seen steady yet.
        steady.sort_unstable();
        for (number, same) in steady {
            if !same {
                break;
            }
            seen.settled = Some(number);
        }
        let settled = seen.settled;
        watched.retain(|name, _| {
            let number = name.to_str().and_then(|n| n.parse::<u64>().ok());
            number.is_none() || number > settled
        });
        seen.watched = watched;
        Ok(())
    }

    /// How many blob files are watched (not settled yet).
    #[cfg(test)]
    fn watched(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watched
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SledStore;
    use memberledger_store::EventStore;

    fn file(dir: &Path, name: &str, len: usize) {
        std::fs::write(dir.join(name), vec![7u8; len]).unwrap();
    }

    #[test]
    fn a_blob_file_is_synced_when_new_or_grown_and_settled_once_steady() {
        let dir = tempfile::tempdir().unwrap();
        let synced = SyncedBlobs::default();
        file(dir.path(), "10", 5);
        file(dir.path(), "20", 5);
        synced.sync_new(dir.path()).unwrap();
        assert_eq!(synced.watched(), 2, "new files are synced and watched");
        file(dir.path(), "30", 5);
        synced.sync_new(dir.path()).unwrap();
        // 10 and 20 were seen at the same length twice: settled; 30 is new.
        let seen = synced.0.lock().unwrap();
        assert_eq!(seen.settled, Some(20));
        assert_eq!(seen.watched.get(&OsString::from("30")), Some(&5));
        drop(seen);
        // A file that grew is synced again at its new length, and stays watched.
        file(dir.path(), "30", 9);
        file(dir.path(), "40", 1);
        synced.sync_new(dir.path()).unwrap();
        let seen = synced.0.lock().unwrap();
        assert_eq!(seen.settled, Some(20));
        assert_eq!(seen.watched.get(&OsString::from("30")), Some(&9));
        drop(seen);
        // A file removed meanwhile is fine; the rest settles.
        std::fs::remove_file(dir.path().join("10")).unwrap();
        synced.sync_new(dir.path()).unwrap();
        assert_eq!(synced.0.lock().unwrap().settled, Some(40));
        assert_eq!(synced.watched(), 0);
    }

    #[test]
    fn durable_writes_watch_only_the_newest_blob_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path().join("l")).unwrap();
        // Values above sled's blob threshold: a blob file each.
        let big = vec![3u8; crate::record::SLED_BLOB_THRESHOLD + 1000];
        let mut most_watched = 0;
        for i in 0..12 {
            store.set_meta(&format!("big{i}"), &big).unwrap();
            most_watched = most_watched.max(store.blobs.watched());
        }
        let files = std::fs::read_dir(dir.path().join("l").join("blobs"))
            .unwrap()
            .count();
        assert!(files >= 6, "{files} blob files");
        assert!(most_watched <= 3, "{most_watched} watched of {files}");
        assert_eq!(store.meta("big11").unwrap(), Some(big));
    }
}
