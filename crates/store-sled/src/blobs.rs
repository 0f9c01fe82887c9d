//! Making sled's blob files durable.
//!
//! sled 0.34 writes a value, or a tree node, larger than its blob threshold to a file of its own
//! under `blobs/` and never syncs it; its flush only covers the log that points to it. After a
//! power loss such a file could be missing or short while the log, synced, still refers to it.
//! So after every flush the store syncs the blob files it has not synced yet (or that have
//! grown since), and the directory when one is new: a handful of files, as sled removes the
//! ones it no longer needs.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

/// The blob files already synced, with the length they had then.
#[derive(Default)]
pub(crate) struct SyncedBlobs(Mutex<HashMap<OsString, u64>>);

impl SyncedBlobs {
    /// Syncs every blob file in `dir` not synced at its present length, then `dir` if any was.
    pub(crate) fn sync_new(&self, dir: &Path) -> std::io::Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let mut synced = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut present = HashMap::new();
        let mut any = false;
        // sled removes the blobs it no longer needs at any time: a file gone meanwhile is fine.
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        for entry in entries {
            let entry = entry?;
            let meta = match entry.metadata() {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(e),
            };
            let name = entry.file_name();
            if synced.get(&name) != Some(&meta.len()) {
                match File::open(entry.path()).and_then(|f| f.sync_all()) {
                    Ok(()) => any = true,
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(e),
                }
            }
            present.insert(name, meta.len());
        }
        if any {
            File::open(dir)?.sync_all()?;
        }
        *synced = present;
        Ok(())
    }
}
