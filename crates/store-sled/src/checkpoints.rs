//! Checkpoints: files beside sled's, in the ledger's `checkpoints` directory, written whole or
//! not at all (the shared [`CheckpointFiles`]).

use memberledger_store::checkpoint_files::CheckpointFiles;
use memberledger_store::StoreError;

use crate::SledStore;

/// How many checkpoints a ledger keeps (the latest ones).
pub const CHECKPOINTS_KEPT: usize = memberledger_store::checkpoint_files::CHECKPOINTS_KEPT;

const DIR: &str = "checkpoints";

impl SledStore {
    fn checkpoint_files(&self) -> CheckpointFiles {
        CheckpointFiles::new(self.path.join(DIR))
    }

    pub(crate) fn checkpoint_positions_inner(&self) -> Vec<u64> {
        self.checkpoint_files().positions()
    }

    pub(crate) fn read_checkpoint_inner(
        &self,
        position: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.checkpoint_files().read(position)
    }

    pub(crate) fn write_checkpoint_inner(
        &self,
        position: u64,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        if self.is_read_only() {
            return Ok(false);
        }
        self.checkpoint_files().write(position, bytes)?;
        Ok(true)
    }
}
