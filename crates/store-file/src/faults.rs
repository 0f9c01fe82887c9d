//! Faults a test injects into the next append, to see the store undo a write or a sync that
//! fails (a full disk, a device error) without a disk that fails on demand.

use std::sync::Mutex;

use crate::FileStore;

/// A fault of the medium, injected into the next append with
/// [`FileStore::inject_fault`] (for tests of a store's failure handling).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The write stores only this many bytes of the append, then fails (a full disk).
    WriteFailsAfter(usize),
    /// The write succeeds and the sync after it fails.
    SyncFails,
}

/// The fault waiting for the next append.
#[derive(Debug, Default)]
pub(crate) struct Faults(Mutex<Option<Fault>>);

impl Faults {
    /// The injected fault, taken (each fault is for one append).
    pub(crate) fn take(&self) -> Option<Fault> {
        self.0.lock().ok().and_then(|mut f| f.take())
    }
}

impl FileStore {
    /// Makes the next append meet `fault` (a test's way to fill the disk or fail a sync):
    /// the append returns a `Storage` error and records nothing.
    pub fn inject_fault(&self, fault: Fault) {
        if let Ok(mut f) = self.faults.0.lock() {
            *f = Some(fault);
        }
    }
}
