//! The embedded stores on disk, told apart by what a directory holds: a file store's `FORMAT`
//! file (`file-log 1`) or segments make it a [`FileStore`]; anything else is sled's (the
//! default, DESIGN §5). A new ledger is sled's unless [`LedgerOptions::store_kind`] asks for
//! the file store.
//!
//! [`LedgerOptions::store_kind`]: crate::LedgerOptions

use std::path::Path;

use memberledger_store::{EventStore, StoreError};
use memberledger_store_file::FileStore;
use memberledger_store_sled::SledStore;

use crate::{Error, LedgerOptions};

/// Which embedded store a new ledger on disk is created in. An existing ledger is opened in
/// the store it was created in, whatever this says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreKind {
    /// sled (`memberledger_store_sled`): the default.
    #[default]
    Sled,
    /// The append-only file store (`memberledger_store_file`): segments of checksummed
    /// frames, the index in memory, an append written and synced at the end of the log (its
    /// last frame apart when it has several).
    File,
}

impl StoreKind {
    /// The kind of the ledger at `path`: `File` when a file store is there, `Sled` otherwise
    /// (sled's files, or nothing).
    pub fn at(path: impl AsRef<Path>) -> StoreKind {
        if FileStore::exists(path) {
            StoreKind::File
        } else {
            StoreKind::Sled
        }
    }

    /// The kind named `name` (`sled` or `file`), as the CLI's `--store` and
    /// `MEMBERLEDGER_STORE` give it.
    pub fn parse(name: &str) -> Option<StoreKind> {
        match name {
            "sled" => Some(StoreKind::Sled),
            "file" => Some(StoreKind::File),
            _ => None,
        }
    }
}

/// An embedded store opened on disk.
pub(crate) enum Disk {
    Sled(SledStore),
    File(FileStore),
}

/// How a store on disk is opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In place, creating a new ledger (of the options' kind) if there is none.
    Write,
    /// For reading only (sled: from a private copy; the file store: without its lock).
    Read,
    /// For reading only, to be verified: as [`Read`](Mode::Read), but a file store opens
    /// from its latest index snapshot, which the replay then holds to the log
    /// ([`FileStore::open_to_verify`]).
    Verify,
}

impl Disk {
    /// Opens the store at `path`: of the kind found there, or (nothing there) of the options'.
    pub(crate) fn open(path: &Path, options: &LedgerOptions, mode: Mode) -> Result<Disk, Error> {
        let kind = match StoreKind::at(path) {
            StoreKind::Sled if !SledStore::holds_ledger_files(path) => options.store_kind,
            found => found,
        };
        Ok(match (kind, mode) {
            (StoreKind::File, Mode::Write) => Disk::File(FileStore::open(path)?),
            (StoreKind::File, Mode::Read) => Disk::File(FileStore::open_read_only(path)?),
            (StoreKind::File, Mode::Verify) => Disk::File(FileStore::open_to_verify(path)?),
            (StoreKind::Sled, Mode::Write) => {
                Disk::Sled(SledStore::open_with(path, &options.sled())?)
            }
            (StoreKind::Sled, Mode::Read | Mode::Verify) => {
                Disk::Sled(SledStore::open_copy_with(path, &options.sled())?)
            }
        })
    }

    /// Whether a ledger's files (of either store) are at `path`.
    pub(crate) fn exists(path: &Path) -> bool {
        FileStore::exists(path) || SledStore::holds_ledger_files(path)
    }

    /// The position of the index snapshot a file store opened from, if it did.
    pub(crate) fn index_snapshot(&self) -> Option<u64> {
        match self {
            Disk::Sled(_) => None,
            Disk::File(s) => s.opened_from_snapshot(),
        }
    }

    fn found_existing(&self) -> bool {
        match self {
            Disk::Sled(s) => s.found_existing(),
            Disk::File(s) => s.found_existing(),
        }
    }

    fn no_ledger_error(&self, what: &str) -> StoreError {
        match self {
            Disk::Sled(s) => s.no_ledger_error(what),
            Disk::File(s) => s.no_ledger_error(what),
        }
    }

    fn store(&self) -> &dyn EventStore {
        match self {
            Disk::Sled(s) => s,
            Disk::File(s) => s,
        }
    }

    /// `Corrupt` when the store was opened over a ledger's files and holds no ledger: no
    /// policy setting and no events (a damaged ledger, or an interrupted create).
    pub(crate) fn refuse_files_without_a_ledger(self, policy_key: &str) -> Result<Disk, Error> {
        let store = self.store();
        if self.found_existing() && store.meta(policy_key)?.is_none() && store.head()?.position == 0
        {
            return Err(self
                .no_ledger_error("no policy setting and no events")
                .into());
        }
        Ok(self)
    }

    /// The store, boxed for a ledger.
    pub(crate) fn boxed(self) -> Box<dyn EventStore> {
        match self {
            Disk::Sled(s) => Box::new(s),
            Disk::File(s) => Box::new(s),
        }
    }
}
