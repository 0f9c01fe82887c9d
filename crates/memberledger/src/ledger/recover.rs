//! Catching up after a write whose outcome is unknown (a storage error: the store may have
//! written some or all of it) or after another writer of the same store moved first: the
//! projections are brought up to the log by folding only what follows the last position they
//! hold, not by replaying from genesis while writers wait.

use memberledger_core::{Hash, RecordedEvent};

use super::{Ledger, Policies};
use crate::replay::{catch_up, replay, Projections};
use crate::Error;

/// The last position of the log the cached projections hold, and its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tail {
    pub(super) position: u64,
    pub(super) hash: Hash,
}

impl Ledger {
    pub(super) fn tail(&self) -> std::sync::MutexGuard<'_, Option<Tail>> {
        self.tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// After a batch is written: its events follow the tail when nothing else was written
    /// in between, and become the tail (true). Otherwise (another writer's events came first
    /// or interleaved) the tail stays where it was (false): the caller catches up from it,
    /// folding the others' events and the batch's own.
    pub(super) fn advance_tail(&self, recorded: &[Vec<RecordedEvent>]) -> bool {
        let mut tail = self.tail();
        let mut next = *tail;
        for e in recorded.iter().flatten() {
            next = next.filter(|t| t.position + 1 == e.position).map(|_| Tail {
                position: e.position,
                hash: e.hash,
            });
        }
        if next.is_some() {
            *tail = next;
        }
        next.is_some()
    }

    /// Brings the projections up to the log: folds what follows the tail onto them, or, with
    /// no known tail, replays from genesis. Called under the writer lock. On a failure the
    /// tail is forgotten, so the next call replays from genesis.
    pub(super) fn catch_up(&self) -> Result<(), Error> {
        let mut tail = self.tail();
        let Some(from) = *tail else {
            return self.reload(&mut tail);
        };
        let before = crate::projection::keeps_spending(&self.policies().history);
        let result = self.catch_up_from(&mut tail, from);
        if !before && crate::projection::keeps_spending(&self.policies().history) {
            // Another writer published the first policy that reads the spending window: the
            // members are replayed with it, as after a publication of our own.
            return self.reload(&mut tail);
        }
        result
    }

    /// [`catch_up`](Self::catch_up) from a known tail.
    fn catch_up_from(&self, tail: &mut Option<Tail>, from: Tail) -> Result<(), Error> {
        let mut members = self
            .members
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut clearing = self
            .clearing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut policies = self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut cards = self
            .cards
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = Projections {
            members: std::mem::take(&mut *members),
            clearing: std::mem::take(&mut *clearing),
            cards: std::mem::take(&mut *cards),
            history: policies.history.clone(),
            latest_at: policies.latest_at,
            position: from.position,
            hash: from.hash,
        };
        let (caught, result) = catch_up(self.store.as_ref(), start);
        *members = caught.members;
        *clearing = caught.clearing;
        *cards = caught.cards;
        *policies = Policies {
            history: caught.history,
            latest_at: caught.latest_at,
        };
        *tail = result.is_ok().then_some(Tail {
            position: caught.position,
            hash: caught.hash,
        });
        result
    }

    /// Rebuilds the projections from genesis (when the tail is not known).
    pub(super) fn reload(&self, tail: &mut Option<Tail>) -> Result<(), Error> {
        let mut replayed = replay(self.store.as_ref(), &self.founding, false)?;
        crate::projection::compact_replayed(&mut replayed.members, &replayed.history, false);
        *self
            .members
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = replayed.members;
        *self
            .clearing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = replayed.clearing;
        *self
            .cards
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = replayed.cards;
        *self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Policies {
            history: replayed.history,
            latest_at: replayed.latest_at,
        };
        *tail = Some(Tail {
            position: replayed.events,
            hash: replayed.head,
        });
        Ok(())
    }
}
