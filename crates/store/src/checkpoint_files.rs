//! Files written whole or not at all, and the checkpoints kept as such files: what the embedded
//! stores (sled, the file store) share. A file is written to a temporary name, synced, renamed
//! into place and its directory synced, so a reader finds the whole file or none; a crash midway
//! leaves a temporary file that is never read (and is removed by the next checkpoint written).
//!
//! Checkpoints live in a directory of their own, one file a position (`cp-` and the position in
//! twenty digits); the latest [`CHECKPOINTS_KEPT`] are kept. The bytes are the ledger's to
//! check: the store neither reads nor trusts them.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// How many checkpoints a ledger keeps (the latest ones).
pub const CHECKPOINTS_KEPT: usize = 2;

const PREFIX: &str = "cp-";
const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` as `dir/name` atomically and durably: to `name.tmp`, synced, renamed into
/// place, then the directory synced. `dir` must exist.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temp = dir.join(format!("{name}{TEMP_SUFFIX}"));
    let mut file = File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_data()?;
    drop(file);
    std::fs::rename(&temp, dir.join(name))?;
    sync_dir(dir)
}

/// Makes a directory's entries (files created, renamed or removed in it) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// A directory of checkpoint files.
#[derive(Clone, Debug)]
pub struct CheckpointFiles {
    dir: PathBuf,
}

impl CheckpointFiles {
    /// The checkpoints kept in `dir` (created on the first write).
    pub fn new(dir: PathBuf) -> CheckpointFiles {
        CheckpointFiles { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The positions of the whole checkpoints, oldest first.
    pub fn positions(&self) -> Vec<u64> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut found: Vec<u64> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let digits = name.strip_prefix(PREFIX)?;
                (digits.len() == 20).then(|| digits.parse().ok())?
            })
            .collect();
        found.sort_unstable();
        found
    }

    /// The bytes of the checkpoint at `position`, if there is one.
    pub fn read(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.dir.join(file_name(position))) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::storage_caused("cannot read a checkpoint", e)),
        }
    }

    /// The checkpoint at `position` opened for reading (buffered), if there is one.
    pub fn reader(&self, position: u64) -> Result<Option<Box<dyn std::io::Read>>, StoreError> {
        match File::open(self.dir.join(file_name(position))) {
            Ok(file) => Ok(Some(Box::new(std::io::BufReader::new(file)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::storage_caused("cannot read a checkpoint", e)),
        }
    }

    /// Keeps `bytes` as the checkpoint at `position` ([`write_atomically`]), then removes all
    /// but the latest [`CHECKPOINTS_KEPT`] and any unfinished temporary file.
    pub fn write(&self, position: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let fail = |e: std::io::Error| StoreError::storage_caused("cannot write a checkpoint", e);
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        write_atomically(&self.dir, &file_name(position), bytes).map_err(fail)?;
        self.remove_older();
        Ok(())
    }

    /// Removes all but the latest [`CHECKPOINTS_KEPT`] checkpoints, and unfinished temporary
    /// files; a file that cannot be removed stays (it is only space).
    fn remove_older(&self) {
        let positions = self.positions();
        let old = positions.len().saturating_sub(CHECKPOINTS_KEPT);
        for p in &positions[..old] {
            let _ = std::fs::remove_file(self.dir.join(file_name(*p)));
        }
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// The file name of the checkpoint at `position`.
pub fn file_name(position: u64) -> String {
    format!("{PREFIX}{position:020}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn only_the_latest_checkpoints_are_kept_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let files = CheckpointFiles::new(dir.path().join("cp"));
        assert!(files.positions().is_empty());
        for p in [10, 20, 30] {
            files.write(p, format!("at {p}").as_bytes()).unwrap();
        }
        assert_eq!(files.positions(), [20, 30]);
        assert_eq!(files.read(30).unwrap().as_deref(), Some(&b"at 30"[..]));
        assert_eq!(files.read(10).unwrap(), None);
        let mut streamed = Vec::new();
        files
            .reader(20)
            .unwrap()
            .unwrap()
            .read_to_end(&mut streamed)
            .unwrap();
        assert_eq!(streamed, b"at 20");
        assert!(files.reader(10).unwrap().is_none());
    }

    #[test]
    fn an_unfinished_temporary_file_is_never_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let files = CheckpointFiles::new(dir.path().to_path_buf());
        std::fs::write(dir.path().join(format!("{}.tmp", file_name(5))), b"half").unwrap();
        assert!(files.positions().is_empty());
        files.write(6, b"whole").unwrap();
        assert_eq!(files.positions(), [6]);
        assert!(!dir.path().join(format!("{}.tmp", file_name(5))).exists());
    }
}
