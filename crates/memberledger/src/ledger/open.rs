#[cfg(feature = "sled")]
use std::path::Path;
use std::sync::{Mutex, RwLock};

#[cfg(feature = "sled")]
use super::disk::{Disk, Mode};
use memberledger_core::{Policy, Rejection};
use memberledger_store::{EventStore, MemoryStore};

use super::{commit::Queue, recover::Tail, Ledger, Policies, POLICY_KEY};
use crate::{Clock, Error};

/// The ledger on disk (the default `sled` feature): in sled, or in the append-only file
/// store, whichever the directory holds (see [`StoreKind`](crate::StoreKind)); a new ledger
/// is sled's unless the options ask for the file store.
#[cfg(feature = "sled")]
impl Ledger {
    /// Opens the ledger in `path`, creating it (in sled) with the built-in policy if there is
    /// none.
    ///
    /// A directory that holds a store's files but no ledger is `Corrupt`, never a new ledger.
    /// A ledger open elsewhere (another process, or another `Ledger` in this one) is `locked`.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger, Error> {
        Ledger::open_with(path, &crate::LedgerOptions::default())
    }

    /// Opens the ledger in `path`, failing when there is none (rather than creating one).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Ledger, Error> {
        Ledger::open_existing_with(path, &crate::LedgerOptions::default())
    }

    /// [`open`](Ledger::open) with options: how often checkpoints are written, a bound on
    /// sled's page cache, and the store a new ledger is created in.
    pub fn open_with(
        path: impl AsRef<Path>,
        options: &crate::LedgerOptions,
    ) -> Result<Ledger, Error> {
        let path = path.as_ref();
        let (store, prefetched) = with_prefetch(path, || {
            Disk::open(path, options, Mode::Write)?.refuse_files_without_a_ledger(POLICY_KEY)
        });
        Ledger::assemble(store?.boxed(), None, Open::Write, prefetched)
            .map(|(l, _)| l.with_checkpoint_every(options.checkpoint_every))
    }

    /// [`open_existing`](Ledger::open_existing) with options (see [`open_with`](Ledger::open_with)).
    pub fn open_existing_with(
        path: impl AsRef<Path>,
        options: &crate::LedgerOptions,
    ) -> Result<Ledger, Error> {
        let path = path.as_ref();
        let (store, prefetched) =
            with_prefetch(path, || existing_store(path, options, Mode::Write));
        Ledger::assemble(store?.boxed(), None, Open::Write, prefetched)
            .map(|(l, _)| l.with_checkpoint_every(options.checkpoint_every))
    }

    /// Opens the existing ledger in `path` and verifies it, in one replay: the replay
    /// that builds the projections makes every check [`verify`](Ledger::verify) makes, and
    /// its totals are the report (`open_existing` then `verify` replays twice). A damaged log
    /// is `Err(Error::Corrupt)` with its first bad position, as from `open_existing`.
    ///
    /// It writes nothing to `path`: a sled ledger is read from a private copy
    /// ([`SledStore::open_copy`](memberledger_store_sled::SledStore::open_copy)), so not even sled's recovery of damaged files changes them;
    /// a file store is opened for reading only, without its lock. The ledger it returns
    /// refuses writes. A ledger written before founding records existed is verified as it
    /// is, and [`founding_policy_in_chain`](Ledger::founding_policy_in_chain) says so.
    ///
    /// A file store is opened from its latest index snapshot (the index and frame table a
    /// writable open loads instead of scanning the log), and the replay holds it to the log:
    /// every event's place and every command's count, the number of commands and the member
    /// streams. When anything fails or differs, the ledger is verified again
    /// from a scan of the whole log: a damaged log fails as it always has (the same position
    /// and words), and a snapshot that does not match a sound log is the report's problem
    /// (a writable open would trust it).
    pub fn open_verified(path: impl AsRef<Path>) -> Result<(Ledger, crate::VerifyReport), Error> {
        Ledger::open_verified_with(path, &crate::LedgerOptions::default())
    }

    /// [`open_verified`](Ledger::open_verified) with options (a bound on sled's page cache).
    pub fn open_verified_with(
        path: impl AsRef<Path>,
        options: &crate::LedgerOptions,
    ) -> Result<(Ledger, crate::VerifyReport), Error> {
        let path = path.as_ref();
        // A file store opens from its index snapshot, read and held to the log by the replay
        // (one read of the log instead of a scan and a replay).
        let store = existing_store(path, options, Mode::Verify)?;
        let Some(at) = store.index_snapshot() else {
            return Ledger::assemble_verified(store.boxed());
        };
        let first = match Ledger::assemble_verified(store.boxed()) {
            Ok((ledger, report)) if report.ok() => return Ok((ledger, report)),
            Ok((ledger, report)) => {
                drop(ledger);
                Ok(report.problem)
            }
            Err(e) => Err(e),
        };
        // Something is wrong: the snapshot, or the log. Verified again from a scan of the
        // whole log, which finds a problem of the log as it always has; only the snapshot's is
        // left to the first replay to say.
        let store = existing_store(path, options, Mode::Read)?;
        let (ledger, mut report) = Ledger::assemble_verified(store.boxed())?;
        if report.ok() {
            let fails = |why: String| {
                crate::verify::Problem::new(
                    at,
                    format!("the index snapshot at position {at} does not match the log: a replay through it fails ({why})"),
                )
            };
            report.problem = Some(match first {
                Ok(Some(problem)) => problem,
                Ok(None) => fails("a problem without words".into()),
                Err(e) => fails(e.to_string()),
            });
        }
        Ok((ledger, report))
    }

    /// Creates a sled ledger in `path` with a policy. Fails if a ledger is already there, and
    /// with `Corrupt` if a store's files are there without a ledger (a damaged ledger, or an
    /// interrupted `create`): only an absent or empty directory takes a new ledger.
    pub fn create(path: impl AsRef<Path>, policy: Policy) -> Result<Ledger, Error> {
        Ledger::create_with(path, policy, &crate::LedgerOptions::default())
    }

    /// [`create`](Ledger::create) with options: the store the ledger is created in
    /// ([`LedgerOptions::with_store_kind`](crate::LedgerOptions::with_store_kind)), how often
    /// checkpoints are written, sled's cache.
    ///
    /// ```
    /// use memberledger::{Ledger, LedgerOptions, Policy, StoreKind};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("ledger");
    /// let options = LedgerOptions::default().with_store_kind(StoreKind::File);
    /// Ledger::create_with(&path, Policy::builtin(), &options)?.close();
    /// assert_eq!(StoreKind::at(&path), StoreKind::File);
    /// let again = Ledger::open_existing(&path)?; // the kind is found at the path
    /// # drop(again);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_with(
        path: impl AsRef<Path>,
        policy: Policy,
        options: &crate::LedgerOptions,
    ) -> Result<Ledger, Error> {
        let disk = Disk::open(path.as_ref(), options, Mode::Write)?;
        let store = match &disk {
            Disk::Sled(s) => s as &dyn EventStore,
            Disk::File(s) => s,
        };
        if store.meta(POLICY_KEY)?.is_some() || store.head()?.position > 0 {
            return Err(Error::AlreadyExists(format!(
                "a ledger already exists at {}",
                path.as_ref().display()
            )));
        }
        let disk = disk.refuse_files_without_a_ledger(POLICY_KEY)?;
        Ledger::with_store(disk.boxed(), Some(policy))
            .map(|l| l.with_checkpoint_every(options.checkpoint_every))
    }

    /// Opens the ledger in `path`, creating it (in sled) with `policy` as its founding policy
    /// if there is none: what a host calls at every start. An existing ledger must have been
    /// created with `policy` (`invalid_policy` otherwise; later versions are published with
    /// `publish_policy` commands and do not change the founding one).
    ///
    /// ```
    /// use memberledger::{Ledger, Policy};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("ledger");
    /// let ledger = Ledger::create_or_open(&path, Policy::builtin())?; // created
    /// ledger.close();
    /// let again = Ledger::create_or_open(&path, Policy::builtin())?; // opened
    /// assert_eq!(*again.founding_policy(), Policy::builtin());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_or_open(path: impl AsRef<Path>, policy: Policy) -> Result<Ledger, Error> {
        let store = Disk::open(path.as_ref(), &crate::LedgerOptions::default(), Mode::Write)?
            .refuse_files_without_a_ledger(POLICY_KEY)?;
        Ledger::with_store(store.boxed(), Some(policy))
    }
}

impl Ledger {
    /// Closes the ledger, releasing its store: for a ledger on disk, sled's lock on the
    /// directory, so the same path can be opened again (in this process or another) once
    /// this returns. Every command acknowledged before is durable already; nothing is lost by
    /// not calling it, but the lock is held until the `Ledger` is dropped.
    ///
    /// A ledger shared between threads as an `Arc<Ledger>` is closed when its last clone is
    /// dropped: take it back with `Arc::try_unwrap` (or `Arc::into_inner`) and close it. A
    /// clone forgotten somewhere (a thread still running, a handle stored in a struct) keeps
    /// the store open, and opening the same path again fails with `locked`.
    ///
    /// ```
    /// use memberledger::Ledger;
    /// # #[cfg(feature = "sled")] {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("ledger");
    /// let ledger = std::sync::Arc::new(Ledger::open(&path)?);
    /// let clone = std::sync::Arc::clone(&ledger);
    /// std::thread::spawn(move || drop(clone)).join().unwrap();
    /// std::sync::Arc::into_inner(ledger).expect("the last clone").close();
    /// let again = Ledger::open_existing(&path)?; // the lock was released
    /// # drop(again);
    /// # }
    /// # Ok::<(), memberledger::Error>(())
    /// ```
    pub fn close(self) {
        self.checkpoint_on_close();
        drop(self);
    }

    /// A ledger in memory with the built-in policy (for tests and trials).
    pub fn in_memory() -> Ledger {
        Ledger::in_memory_with(Policy::builtin())
    }

    /// A ledger in memory with a policy.
    pub fn in_memory_with(policy: Policy) -> Ledger {
        Ledger::with_store(Box::new(MemoryStore::new()), Some(policy))
            .expect("a new memory store opens")
    }

    /// A ledger over any store. A new store takes `policy` (the built-in one if `None`) as its
    /// founding policy (version 1); an existing one keeps its own, and `policy`, if given, must
    /// equal it. Later versions are published with a `publish_policy` command.
    ///
    /// The founding policy is recorded in the chain: a new ledger's first event (position 1,
    /// stream `@policy`) is its record ([`founding_command`](memberledger_core::founding_command)),
    /// and a ledger written before founding records existed gets it appended now (the
    /// upcast, docs/EVENTS.md), so its exports carry the policy from then on.
    pub fn with_store(store: Box<dyn EventStore>, policy: Option<Policy>) -> Result<Ledger, Error> {
        Ledger::assemble(store, policy, Open::Write, None).map(|(ledger, _)| ledger)
    }

    /// [`assemble`](Ledger::assemble) with every check of `verify`, and its report; nothing
    /// is written.
    pub(crate) fn assemble_verified(
        store: Box<dyn EventStore>,
    ) -> Result<(Ledger, crate::VerifyReport), Error> {
        let (ledger, report) = Ledger::assemble(store, None, Open::Verify, None)?;
        Ok((ledger, report.expect("a verifying open reports")))
    }

    /// Whether the founding policy is recorded in the chain. False only for a ledger written
    /// before founding records existed that was opened without writing
    /// ([`open_verified`](Ledger::open_verified)): "founding policy not in the chain (old
    /// ledger)"; any writable open records it.
    pub fn founding_policy_in_chain(&self) -> bool {
        self.policies().history.founding_in_chain()
    }

    /// [`with_store`](Ledger::with_store), with the report of the replay it made for
    /// [`Open::Verify`] (with every check of `verify`, and no founding record written).
    pub(crate) fn assemble(
        store: Box<dyn EventStore>,
        policy: Option<Policy>,
        open: Open,
        prefetched: Option<crate::checkpoint::Prefetched>,
    ) -> Result<(Ledger, Option<crate::VerifyReport>), Error> {
        let full = open == Open::Verify;
        let shared = open == Open::Shared;
        let policy = match store.meta(POLICY_KEY)? {
            Some(bytes) => {
                let stored = std::str::from_utf8(&bytes)
                    .map_err(|e| Error::Corrupt {
                        position: 0,
                        why: format!("stored policy: {e}"),
                    })
                    .and_then(|s| {
                        Policy::from_json(s).map_err(|e| Error::Corrupt {
                            position: 0,
                            why: format!("stored policy: {e}"),
                        })
                    })?;
                if policy.as_ref().is_some_and(|p| *p != stored) {
                    return Err(Rejection::InvalidPolicy(
                        "the ledger already has a different policy".into(),
                    )
                    .into());
                }
                stored
            }
            None if store.head()?.position > 0 => {
                return Err(Error::Corrupt {
                    position: 0,
                    why: "the ledger has events but its policy is missing".into(),
                })
            }
            None => {
                let p = policy.unwrap_or_else(Policy::builtin);
                p.validate()?;
                store.set_meta(POLICY_KEY, p.to_json().as_bytes())?;
                p
            }
        };
        let (mut replayed, open_notes) =
            super::checkpoints::initial(store.as_ref(), &policy, open, prefetched)?;
        // Only a verifying open reports: the totals read every member's lots.
        let report = full.then(|| crate::verify::report_of(&replayed));
        crate::projection::compact_replayed(&mut replayed.members, &replayed.history, full);
        let ledger = Ledger {
            store,
            founding: policy,
            policies: RwLock::new(Policies {
                history: replayed.history,
                latest_at: replayed.latest_at,
            }),
            members: RwLock::new(replayed.members),
            clearing: RwLock::new(replayed.clearing),
            cards: RwLock::new(replayed.cards),
            card_key: RwLock::new(None),
            writer: Mutex::new(()),
            queue: Mutex::new(Queue::default()),
            clock: RwLock::new(Clock::system()),
            tail: Mutex::new(Some(Tail {
                position: replayed.events,
                hash: replayed.head,
            })),
            feed: Default::default(),
            shared,
            checkpoint_every: Some(crate::checkpoint::CHECKPOINT_EVERY),
            checkpointed: std::sync::atomic::AtomicU64::new(replayed.events),
            open_notes,
        };
        if open != Open::Verify && !ledger.founding_policy_in_chain() {
            ledger.record_founding_policy()?;
        }
        Ok((ledger, report))
    }

    /// Records the founding policy in the chain: the first event of a new ledger, or the
    /// upcast of an old one (its record appended, in force from the beginning).
    fn record_founding_policy(&self) -> Result<(), Error> {
        let founding = memberledger_core::founding_command(&self.founding);
        let mut results = self.execute_batch(std::slice::from_ref(&founding));
        results.pop().expect("one result per command").map(|_| ())
    }
}

/// How a ledger is opened: to write (the founding policy is recorded in the chain if it is
/// not yet), alone or beside other writers of its store, or only to verify (nothing is
/// written).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    Write,
    Verify,
    /// To write a store other processes write too ([`Ledger::with_shared_store`]).
    Shared,
}

/// Opens a store with `open` while the latest checkpoint in `path` is read and decoded beside
/// it, on the other core ([`prefetch`](crate::checkpoint::prefetch)).
#[cfg(feature = "sled")]
fn with_prefetch<T: Send>(
    path: &Path,
    open: impl FnOnce() -> T + Send,
) -> (T, Option<crate::checkpoint::Prefetched>) {
    rayon::join(open, || crate::checkpoint::prefetch(path))
}

/// The store of an existing ledger, opened in `mode`: there must be one, with its policy. A
/// directory without a ledger's files is "no ledger"; one with a store's files but no ledger
/// in them is `Corrupt`.
#[cfg(feature = "sled")]
fn existing_store(path: &Path, options: &crate::LedgerOptions, mode: Mode) -> Result<Disk, Error> {
    // Without any of a ledger's files there is no ledger here, and opening would create one.
    if !Disk::exists(path) {
        return Err(Error::NoLedger(format!(
            "no ledger at {}; create one first (memberledger init)",
            path.display()
        )));
    }
    Disk::open(path, options, mode)?.refuse_files_without_a_ledger(POLICY_KEY)
}
