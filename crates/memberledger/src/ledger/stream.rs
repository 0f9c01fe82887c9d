//! A stream of batches from one caller ([`Ledger::execute_stream`]): each batch written as
//! [`Ledger::execute_batch`] writes it, the next one decided while it is written.

use memberledger_core::Command;

use super::commit::Done;
use super::plan::Prepared;
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
    /// `answer` is given a batch's results while the batch after it (when already at hand) is
    /// decided on the pool; that batch is written only once `answer` has said go on. It runs
    /// while that batch holds the ledger's writer: an `answer` that executes commands on the
    /// same ledger (or verifies it) would wait for itself. Reads are free.
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
        // The batch before, durable, while its answer is given on this thread beside the
        // planning of the next one (which is written only once the answer says go on).
        let mut unanswered: Option<Answered> = None;
        while let Some(commands) = current.take() {
            let upcoming = next(false);
            let (done, go_on) =
                self.run_beside_answer(&commands, prepared.take(), upcoming.as_deref(), || {
                    unanswered
                        .take()
                        .is_none_or(|(batch, results)| answer(batch, results))
                });
            let Some((results, ahead)) = done.filter(|_| go_on) else {
                return;
            };
            prepared = ahead;
            unanswered = Some((commands, results));
            current = match upcoming {
                Some(batch) => Some(batch),
                // Nothing at hand: the batch before is answered before waiting for more (a
                // caller reading its answers must not wait for its next batch).
                None => {
                    let go_on = unanswered
                        .take()
                        .is_none_or(|(batch, results)| answer(batch, results));
                    if !go_on {
                        return;
                    }
                    next(true)
                }
            };
        }
        if let Some((batch, results)) = unanswered {
            answer(batch, results);
        }
    }

    /// Runs a batch of a stream on the pool while `answer` (the answer to the batch before)
    /// runs on this thread: the batch is planned, and the one after it prepared, meanwhile,
    /// but nothing of it is written until `answer` says go on. Returns the batch's results
    /// (`None` when it was stopped) and what `answer` said.
    fn run_beside_answer(
        &self,
        commands: &[Command],
        prepared: Option<Prepared>,
        upcoming: Option<&[Command]>,
        answer: impl FnOnce() -> bool,
    ) -> (Option<Done>, bool) {
        if rayon::current_num_threads() < 2 {
            // One thread for the pool: it would wait for the answer idle, and an answer that
            // used the pool would wait for it. Answered first, then run.
            let go_on = answer();
            let done = go_on
                .then(|| self.execute_batch_ahead(commands, prepared, upcoming, &mut || true))
                .flatten();
            return (done, go_on);
        }
        let (tell, told) = std::sync::mpsc::sync_channel::<bool>(1);
        let mut verdict = None;
        // Asked before the append, and again by a retry: the answer, once known (an answer
        // that panicked, its sender dropped, says stop).
        let mut go = move || *verdict.get_or_insert_with(|| told.recv().unwrap_or(false));
        let mut done = None;
        let go_on = rayon::in_place_scope(|scope| {
            // Owned here: an answer that panics drops it as it unwinds, and the batch waiting
            // for it stops (the scope waits for the batch before it lets the panic go on).
            let tell = tell;
            scope.spawn(|_| {
                done = self.execute_batch_ahead(commands, prepared, upcoming, &mut go);
            });
            let go_on = answer();
            // The receiver waits in the batch unless it is gone (the batch failed before
            // asking): nothing to tell then.
            let _ = tell.send(go_on);
            go_on
        });
        (done, go_on)
    }
}

/// A batch written and its results, waiting for the caller's answer.
type Answered = (Vec<Command>, Vec<Result<Receipt, Error>>);
