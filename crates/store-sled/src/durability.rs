//! Durability: every write to sled runs on the writer thread (so a stuck write is an error,
//! not a hang) and returns only once sled has flushed, its data file is `fdatasync`ed and any
//! blob file it wrote is synced. A failure part-way stops further writes until a reopen.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use memberledger_store::StoreError;

use crate::guard::sled_error;
use crate::{storage, SledStore, WRITE_WAIT};

impl SledStore {
    /// Refuses a write when the store cannot take one: opened read-only, or after a write
    /// that failed part-way.
    pub(crate) fn check_writable(&self) -> Result<(), StoreError> {
        if let Some(copy) = &self.read_only {
            return Err(StoreError::storage(format!(
                "the ledger at {} is read-only here ({}): it was opened for reading, from a \
                 private copy; writes are refused",
                copy.origin.display(),
                copy.why
            )));
        }
        if self.failed.load(Ordering::SeqCst) {
            return Err(StoreError::storage(
                "an earlier write failed part-way; reopen the ledger to continue",
            ));
        }
        Ok(())
    }

    /// Runs a write to sled on the writer thread and makes it durable (sled's flush, then
    /// `fdatasync`, and any blob file sled wrote), waiting at most [`WRITE_WAIT`]. Any
    /// failure (or a write still running then) stops further writes until a reopen: sled may
    /// hold part of it.
    pub(crate) fn write_durably(
        &self,
        write: impl FnOnce(&sled::Db) -> sled::Result<()> + Send + 'static,
    ) -> Result<(), StoreError> {
        let db = self.db().clone();
        let data_file = Arc::clone(&self.data_file);
        let dir = self.path.clone();
        let blobs = Arc::clone(&self.blobs);
        let written = self.writer.run(WRITE_WAIT, move || {
            write(&db).map_err(|e| sled_error(&dir, "write failed", e))?;
            db.flush()
                .map_err(|e| sled_error(&dir, "flush failed", e))?;
            data_file.sync_data().map_err(|e| {
                storage(
                    &format!("fdatasync of {} failed", dir.join("db").display()),
                    e,
                )
            })?;
            blobs
                .sync_new(&dir.join("blobs"))
                .map_err(|e| storage("cannot sync sled's blob files", e))
        });
        if written.is_err() {
            self.failed.store(true, Ordering::SeqCst);
        }
        written
    }
}
