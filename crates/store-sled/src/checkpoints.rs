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
        self.behind.wait();
        self.checkpoint_files().positions()
    }

    pub(crate) fn read_checkpoint_inner(
        &self,
        position: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.behind.wait();
        self.checkpoint_files().read(position)
    }

    pub(crate) fn checkpoint_reader_inner(
        &self,
        position: u64,
    ) -> Result<Option<Box<dyn std::io::Read + '_>>, StoreError> {
        self.behind.wait();
        Ok(self.checkpoint_files().reader(position)?.map(|r| r as _))
    }

    pub(crate) fn write_checkpoint_inner(
        &self,
        position: u64,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        if self.is_read_only() {
            return Ok(false);
        }
        self.behind.wait();
        self.checkpoint_files().write(position, bytes)?;
        Ok(true)
    }

    /// [`write_checkpoint_inner`](SledStore::write_checkpoint_inner) on the store's thread
    /// for writes behind.
    pub(crate) fn write_checkpoint_behind_inner(
        &self,
        position: u64,
        bytes: Vec<u8>,
    ) -> Result<bool, StoreError> {
        if self.is_read_only() {
            return Ok(false);
        }
        let files = self.checkpoint_files();
        self.behind.run(move || {
            memberledger_store::write_behind::write_checkpoint(&files, position, &bytes);
        });
        Ok(true)
    }
}
