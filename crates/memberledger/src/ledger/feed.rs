//! The change feed: the log read after a position, and a blocking tail woken by commits.
//!
//! Every event is in the log with its position and chain hash, so a consumer's cursor is one
//! number: it reads what follows it, handles it, and moves the cursor on. Nothing is published
//! beside the commit (no outbox to lose): the log *is* the feed.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use memberledger_core::RecordedEvent;

use super::Ledger;
use crate::Error;

/// The most events one [`Ledger::events_after`] call returns.
pub const FEED_PAGE_MAX: usize = 10_000;

/// How long a tail waits before looking at the store again even when this ledger committed
/// nothing: another writer of the same store (another process on a shared database) does not
/// ring this ledger's bell.
const RECHECK: Duration = Duration::from_secs(1);

/// Rung by every commit of this ledger: a count of commits, and the waiters on it.
#[derive(Default)]
pub(super) struct Bell {
    commits: Mutex<u64>,
    rung: Condvar,
}

impl Bell {
    fn count(&self) -> u64 {
        *self
            .commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wakes every tail: events were appended.
    pub(super) fn ring(&self) {
        let mut n = self
            .commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *n = n.wrapping_add(1);
        self.rung.notify_all();
    }

    /// Waits until a commit after `seen`, or `timeout`.
    fn wait(&self, seen: u64, timeout: Duration) {
        let n = self
            .commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = self
            .rung
            .wait_timeout_while(n, timeout, |n| *n == seen)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

impl Ledger {
    /// The events after position `after` (0: from the start), oldest first, at most `limit`
    /// (and at most [`FEED_PAGE_MAX`]): a page of the change feed. Empty when nothing follows
    /// `after`. A consumer keeps the last position it handled and asks again from it.
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// let ledger = Ledger::in_memory(); // position 1: the founding policy
    /// let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?;
    /// ledger.execute(&enroll)?;
    /// let page = ledger.events_after(1, 100)?;
    /// assert_eq!(page.len(), 1);
    /// assert_eq!(page[0].position, 2);
    /// assert!(ledger.events_after(2, 100)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, Error> {
        let limit = limit.clamp(1, FEED_PAGE_MAX);
        let Some(from) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        self.events(from, limit).take(limit).collect()
    }

    /// The events after `after` (at most `limit`), waiting up to `timeout` for some when there
    /// are none yet: a blocking tail of the log. It returns as soon as a commit of this ledger
    /// appends after `after` (the commit wakes it; it does not poll), and looks at the store at
    /// least once a second for what other writers of a shared store append. Empty when the
    /// timeout passed with nothing new. Blocks: from async code, run it on the blocking pool.
    pub fn wait_for_events(
        &self,
        after: u64,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            // The count is read before the store: a commit between the two rings a count
            // the wait below does not match, so it is never missed.
            let seen = self.feed.count();
            let page = self.events_after(after, limit)?;
            let now = Instant::now();
            if !page.is_empty() || now >= deadline {
                return Ok(page);
            }
            self.feed.wait(seen, (deadline - now).min(RECHECK));
        }
    }
}
