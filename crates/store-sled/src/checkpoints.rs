//! Checkpoints: files beside sled's, in the ledger's `checkpoints` directory, one a position
//! (`cp-` and the position in twenty digits). Each is written to a temporary file, synced,
//! renamed into place and the directory synced, so a reader finds a whole checkpoint or none;
//! a crash midway leaves a temporary file that is never read (and is removed by the next
//! write). The latest [`CHECKPOINTS_KEPT`] are kept. The bytes are the ledger's to check: the
//! store neither reads nor trusts them.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use memberledger_store::StoreError;

use crate::{storage, SledStore};

/// How many checkpoints a ledger keeps (the latest ones).
pub const CHECKPOINTS_KEPT: usize = 2;

const DIR: &str = "checkpoints";
const PREFIX: &str = "cp-";
const TEMP_SUFFIX: &str = ".tmp";

fn file_name(position: u64) -> String {
    format!("{PREFIX}{position:020}")
}

/// The positions of the whole checkpoints in `dir`, oldest first.
fn positions_in(dir: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
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

impl SledStore {
    fn checkpoint_dir(&self) -> PathBuf {
        self.path.join(DIR)
    }

    pub(crate) fn checkpoint_positions_inner(&self) -> Vec<u64> {
        positions_in(&self.checkpoint_dir())
    }

    pub(crate) fn read_checkpoint_inner(
        &self,
        position: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.checkpoint_dir().join(file_name(position))) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage("cannot read a checkpoint", e)),
        }
    }

    pub(crate) fn write_checkpoint_inner(
        &self,
        position: u64,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        if self.is_read_only() {
            return Ok(false);
        }
        let dir = self.checkpoint_dir();
        let fail = |e: std::io::Error| storage("cannot write a checkpoint", e);
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let name = file_name(position);
        let temp = dir.join(format!("{name}{TEMP_SUFFIX}"));
        let mut file = File::create(&temp).map_err(fail)?;
        file.write_all(bytes).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        drop(file);
        std::fs::rename(&temp, dir.join(&name)).map_err(fail)?;
        File::open(&dir).and_then(|d| d.sync_all()).map_err(fail)?;
        remove_older(&dir);
        Ok(true)
    }
}

/// Removes all but the latest [`CHECKPOINTS_KEPT`] checkpoints, and unfinished temporary
/// files; a file that cannot be removed stays (it is only space).
fn remove_older(dir: &Path) {
    let positions = positions_in(dir);
    let old = positions.len().saturating_sub(CHECKPOINTS_KEPT);
    for p in &positions[..old] {
        let _ = std::fs::remove_file(dir.join(file_name(*p)));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
