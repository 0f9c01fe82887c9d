//! A stream of batches from one caller ([`Ledger::execute_stream`]): each batch written as
//! [`Ledger::execute_batch`] writes it, the next one decided while it is written.

use memberledger_core::Command;

use super::Ledger;
use crate::{Error, Receipt};

impl Ledger {
    /// Executes batches one after another, each as [`execute_batch`](Ledger::execute_batch)
    /// does (one durable write, the results in order), answering each once it is durable:
    /// what a bulk load or `memberledger apply` does.
    ///
    /// `next(wait)` gives the next batch: with `wait`, blocking until there is one (`None`:
    /// the end); without, only a batch already at hand (`None`: none yet, or the end).
    /// `answer` takes each batch and its results, in order, and says whether to go on; when
    /// it says no, nothing more is executed.
    ///
    /// While a batch is written (its events sealed, written and synced), the batch after it,
    /// when already at hand, is decided on the other cores against the projections the batch
    /// being written leaves, so one caller keeps every core busy. What it is decided against
    /// is exactly what `execute_batch` would decide it against after the batch before, so the
    /// results are the same; when that cannot be known ahead (the batch before publishes a
    /// policy, its write fails, the store is shared with other writers, the batches share an
    /// id), the batch is decided after the one before, as `execute_batch` does.
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// let ledger = Ledger::in_memory();
    /// let enroll = |n: u32| {
    ///     Command::from_json(&format!(
    ///         r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{n}","store":"S1"}}"#
    ///     ))
    /// };
    /// let mut batches = vec![vec![enroll(1)?, enroll(2)?], vec![enroll(3)?]].into_iter();
    /// let mut recorded = 0;
    /// ledger.execute_stream(
    ///     |_wait| batches.next(),
    ///     |_batch, results| {
    ///         recorded += results.iter().filter(|r| r.is_ok()).count();
    ///         true
    ///     },
    /// );
    /// assert_eq!(recorded, 3);
    /// # Ok::<(), memberledger::Error>(())
    /// ```
    pub fn execute_stream(
        &self,
        mut next: impl FnMut(bool) -> Option<Vec<Command>>,
        mut answer: impl FnMut(Vec<Command>, Vec<Result<Receipt, Error>>) -> bool,
    ) {
        let mut current = next(true);
        let mut prepared = None;
        while let Some(commands) = current.take() {
            let upcoming = next(false);
            let (results, ahead) =
                self.execute_batch_ahead(&commands, prepared.take(), upcoming.as_deref());
            prepared = ahead;
            if !answer(commands, results) {
                return;
            }
            current = upcoming.or_else(|| next(true));
        }
    }
}
