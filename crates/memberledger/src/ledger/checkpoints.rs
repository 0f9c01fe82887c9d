//! Checkpoints of the projections ([`crate::checkpoint`]): opening from the latest usable one
//! (replaying only the tail after it), writing one every so many events and on a clean
//! close, and the options a host opens a ledger with (checkpoints, sled's cache).

use std::sync::atomic::Ordering;

use memberledger_core::Policy;
use memberledger_store::EventStore;

use super::{Ledger, Open};
use crate::checkpoint::{self, State, CHECKPOINT_EVERY};
use crate::replay::{catch_up, replay, Replayed};
use crate::Error;

/// How a host opens a ledger: how often checkpoints are written and how much memory sled's
/// page cache may hold.
///
/// ```
/// use memberledger::LedgerOptions;
/// let options = LedgerOptions::default()
///     .with_cache_bytes(64 << 20)
///     .with_checkpoint_every(Some(50_000));
/// assert_eq!(options.cache_bytes, Some(64 << 20));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerOptions {
    /// The most bytes sled's page cache holds (`None`: sled's default, 1 GiB). The open
    /// ledger's memory is about this plus the projections (under 512 bytes a member) and the
    /// store's index (32 bytes a command).
    pub cache_bytes: Option<u64>,
    /// Events between two checkpoints (default [`CHECKPOINT_EVERY`]), and at least twice the
    /// ledger's members; one is also written by [`close`](Ledger::close). `None`: never
    /// (open then replays the whole log).
    pub checkpoint_every: Option<u64>,
    /// The store a new ledger on disk is created in (default: sled). An existing ledger is
    /// opened in the store it was created in.
    #[cfg(feature = "sled")]
    pub store_kind: super::disk::StoreKind,
}

impl Default for LedgerOptions {
    fn default() -> LedgerOptions {
        LedgerOptions {
            cache_bytes: None,
            checkpoint_every: Some(CHECKPOINT_EVERY),
            #[cfg(feature = "sled")]
            store_kind: super::disk::StoreKind::default(),
        }
    }
}

impl LedgerOptions {
    /// The options with sled's page cache bounded to `bytes`.
    pub fn with_cache_bytes(mut self, bytes: u64) -> LedgerOptions {
        self.cache_bytes = Some(bytes);
        self
    }

    /// The options with a checkpoint every `events` events (`None`: never).
    pub fn with_checkpoint_every(mut self, events: Option<u64>) -> LedgerOptions {
        self.checkpoint_every = events.filter(|&n| n > 0);
        self
    }

    /// The options with new ledgers on disk created in `kind` of store.
    #[cfg(feature = "sled")]
    pub fn with_store_kind(mut self, kind: super::disk::StoreKind) -> LedgerOptions {
        self.store_kind = kind;
        self
    }

    #[cfg(feature = "sled")]
    pub(crate) fn sled(&self) -> memberledger_store_sled::SledOptions {
        let options = memberledger_store_sled::SledOptions::default();
        match self.cache_bytes {
            Some(bytes) => options.with_cache_bytes(bytes),
            None => options,
        }
    }
}

/// The projections a ledger opens with: from the latest usable checkpoint and the tail after
/// it, or (none usable, or the tail failing to replay onto it) by a replay from genesis. A
/// full replay (`verify`) never starts from a checkpoint. Returns the notes of checkpoints
/// passed over, each also printed as a warning.
pub(super) fn initial(
    store: &dyn EventStore,
    policy: &Policy,
    open: Open,
    prefetched: Option<checkpoint::Prefetched>,
) -> Result<(Replayed, Vec<String>), Error> {
    let full = open == Open::Verify;
    let mut notes = Vec::new();
    if !full {
        let head = store.head()?.position;
        let (loaded, passed) = checkpoint::load_latest(store, policy, head, prefetched);
        notes = passed;
        if let Some(from) = loaded {
            let at = from.position;
            match catch_up(store, from) {
                // A checkpoint written before the first policy that reads the spending window
                // holds members without it: replayed from genesis, with it.
                (p, Ok(()))
                    if crate::projection::keeps_spending(&p.history)
                        && p.members.values().any(|m| !m.keeps_spending()) =>
                {
                    notes.push(format!(
                        "the checkpoint at position {at} predates the first policy that reads the spending window; replaying from genesis"
                    ));
                }
                (p, Ok(())) => {
                    let replayed = Replayed {
                        members: p.members,
                        trial_total: 0,
                        clearing: p.clearing,
                        cards: p.cards,
                        events: p.position,
                        head: p.hash,
                        history: p.history,
                        latest_at: p.latest_at,
                        checkpoint_problem: None,
                        index_problem: None,
                    };
                    return Ok((replayed, notes));
                }
                (_, Err(e)) => notes.push(format!(
                    "the log after the checkpoint at position {at} does not replay onto it ({e}); replaying from genesis"
                )),
            }
        }
    }
    for note in &notes {
        eprintln!("memberledger: warning: {note}");
    }
    Ok((replay(store, policy, full)?, notes))
}

impl Ledger {
    /// Sets how many events pass between two checkpoints (`None`: none are written, not even
    /// on close). [`LedgerOptions::checkpoint_every`] sets it when opening.
    pub fn with_checkpoint_every(mut self, events: Option<u64>) -> Ledger {
        self.checkpoint_every = events.filter(|&n| n > 0);
        self
    }

    /// What opening noted of the checkpoints it passed over (damaged, stale, or not matching
    /// the log), each also printed as a warning; empty when it used the latest or found none.
    pub fn open_notes(&self) -> &[String] {
        &self.open_notes
    }

    /// Writes a checkpoint of the projections now, at the last position they hold: the
    /// position, or `None` when the store keeps no checkpoints (in memory, PostgreSQL, a
    /// ledger opened read-only) or the log is empty. Waits for the writer.
    pub fn checkpoint(&self) -> Result<Option<u64>, Error> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.write_checkpoint(false)
    }

    /// After a commit, under the writer lock: a checkpoint when the events since the last
    /// one reach the setting, or twice the members when that is more. A checkpoint encodes
    /// every member, so spacing checkpoints by at least two events a member keeps their share
    /// of the write path bounded at any size (at a million members, a checkpoint every
    /// 100,000 events would encode them all ten times a million events). A checkpoint that
    /// cannot be written is a warning, never the commit's failure (the commit is durable
    /// already).
    pub(super) fn checkpoint_if_due(&self) {
        let Some(every) = self
            .checkpoint_every
            .filter(|_| self.store.keeps_checkpoints())
        else {
            return;
        };
        let held = self.held_position();
        let since = held.saturating_sub(self.checkpointed.load(Ordering::Relaxed));
        if since >= every && since >= 2 * self.cached_members().len() as u64 {
            if let Err(e) = self.write_checkpoint(true) {
                eprintln!(
                    "memberledger: warning: a checkpoint at position {held} was not written: {e}"
                );
            }
        }
    }

    /// On a clean close: a checkpoint when the log moved since the last one.
    pub(super) fn checkpoint_on_close(&self) {
        if self.checkpoint_every.is_some()
            && self.store.keeps_checkpoints()
            && self.held_position() > self.checkpointed.load(Ordering::Relaxed)
        {
            if let Err(e) = self.checkpoint() {
                eprintln!("memberledger: warning: no checkpoint was written on close: {e}");
            }
        }
    }

    fn held_position(&self) -> u64 {
        self.tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .map_or(0, |t| t.position)
    }

    /// Encodes the projections at the tail they hold and has the store keep them. Called
    /// under the writer lock, so they do not move meanwhile. `behind`: the store may write
    /// the files after this returns (a checkpoint due after a commit, so the next commit need
    /// not wait for the disk), as of the tail now.
    fn write_checkpoint(&self, behind: bool) -> Result<Option<u64>, Error> {
        if !self.store.keeps_checkpoints() {
            return Ok(None);
        }
        let Some(tail) = *self
            .tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        else {
            return Ok(None);
        };
        if tail.position == 0 {
            return Ok(None);
        }
        let bytes = {
            let members = self.cached_members();
            let clearing = self.cached_clearing();
            let cards = self
                .cards
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let policies = self.policies();
            checkpoint::encode(
                tail.position,
                &tail.hash,
                &State {
                    members: &members,
                    clearing: &clearing,
                    cards: &cards,
                    history: &policies.history,
                    latest_at: policies.latest_at,
                },
            )
        };
        // Counted as done even when the store keeps none, so a store without checkpoints is
        // not asked again at every commit.
        self.checkpointed.store(tail.position, Ordering::Relaxed);
        let kept = if behind {
            self.store.write_checkpoint_behind(tail.position, bytes)?
        } else {
            self.store.write_checkpoint(tail.position, &bytes)?
        };
        Ok(kept.then_some(tail.position))
    }
}
