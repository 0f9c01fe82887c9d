use std::collections::HashSet;

use memberledger_core::{Command, MemberState, RecordedEvent, Rejection};
use memberledger_store::AppendConflict;

use super::plan::{Plan, Prepared, Step, View};
use super::{Ledger, Policies, BATCH_MAX, CONFLICT_RETRIES};
use crate::{Error, Receipt};

impl Ledger {
    /// Executes one command: decided against the member's state, appended atomically, durable
    /// before this returns. A retry with the same id and content returns the original receipt
    /// (`replayed: true`) and records nothing.
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// let ledger = Ledger::in_memory();
    /// let line = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#;
    /// let receipt = ledger.execute(&Command::from_json(line)?)?;
    /// assert!(!receipt.replayed);
    /// let again = ledger.execute(&Command::from_json(line)?)?;
    /// assert!(again.replayed);
    /// assert_eq!(again.events, receipt.events);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Commands from many threads are committed together: while one thread writes a group,
    /// the commands that arrive queue up, and the next group takes them all with one disk
    /// sync. Each command is still decided and recorded on its own.
    pub fn execute(&self, command: &Command) -> Result<Receipt, Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let lead = {
            let mut q = self.queue();
            q.waiting.push((command.clone(), tx));
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            self.commit_group();
        }
        loop {
            match rx.recv() {
                Ok(Answer::Done(result)) => return result,
                // The previous leader passed the lead on: this command heads the next group.
                Ok(Answer::Lead) => self.commit_group(),
                Err(_) => {
                    return Err(Error::storage(
                        "the thread writing this command's group failed; retry with the same id",
                    ))
                }
            }
        }
    }

    pub(super) fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Commits one group of queued commands (the leader's own first), answers each, and passes
    /// the lead to the first command still waiting, or gives it up when none is. A leader
    /// commits one group only, so under steady load every caller gets its answer after at most
    /// the group ahead of it and its own. The lead is passed on even if the group panics, so
    /// later commands are never stranded.
    fn commit_group(&self) {
        struct PassOn<'a>(&'a Ledger);
        impl Drop for PassOn<'_> {
            fn drop(&mut self) {
                let mut q = self.0.queue();
                while let Some((_, tx)) = q.waiting.first() {
                    if tx.send(Answer::Lead).is_ok() {
                        return;
                    }
                    // Its caller is gone (its thread panicked): nobody waits for that command,
                    // and nobody was told it was recorded.
                    q.waiting.remove(0);
                }
                q.leading = false;
            }
        }
        let _pass_on = PassOn(self);
        let group: Vec<Waiting> = {
            let mut q = self.queue();
            let n = q.waiting.len().min(BATCH_MAX);
            q.waiting.drain(..n).collect()
        };
        let (commands, senders): (Vec<Command>, Vec<_>) = group.into_iter().unzip();
        for (tx, result) in senders.into_iter().zip(self.execute_batch(&commands)) {
            // A waiter that went away (its thread panicked) needs no answer.
            let _ = tx.send(Answer::Done(result));
        }
    }

    /// Executes many commands with one durable write (group commit): each command is still
    /// decided and recorded atomically on its own, in order, and later commands see earlier
    /// ones. Returns one result per command. At most [`BATCH_MAX`] commands.
    pub fn execute_batch(&self, commands: &[Command]) -> Vec<Result<Receipt, Error>> {
        self.execute_batch_ahead(commands, None, None, &mut || true)
            .expect("an open gate never stops a batch")
            .0
    }

    /// [`execute_batch`](Self::execute_batch), with what was prepared for the batch while the
    /// one before it was written, and the batch after it (`upcoming`) when it is at hand:
    /// returns what is prepared for `upcoming` while this batch is written, when it may be.
    /// `go` is asked, once the batch is planned and before anything of it is written or
    /// published, whether to go on: `None` when it says no (nothing of the batch is done).
    pub(super) fn execute_batch_ahead(
        &self,
        commands: &[Command],
        mut prepared: Option<Prepared>,
        upcoming: Option<&[Command]>,
        go: &mut Gate<'_>,
    ) -> Option<Done> {
        if commands.len() > BATCH_MAX {
            let e = Error::Rejected(Rejection::InvalidCommand(format!(
                "a batch takes at most {BATCH_MAX} commands"
            )));
            return go().then(|| (commands.iter().map(|_| Err(e.clone())).collect(), None));
        }
        let mut attempt = 0;
        loop {
            match self.try_batch(commands, prepared.take(), upcoming, go) {
                Err(Retry(_)) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(Retry(conflict)) => {
                    let e = Error::Conflict(conflict);
                    return Some((commands.iter().map(|_| Err(e.clone())).collect(), None));
                }
                Ok(done) => return done,
            }
        }
    }

    /// One attempt at a batch, under the writer lock: plan it (with what was `prepared` for
    /// it), append it, and publish the projections after it; while it is appended, what the
    /// `upcoming` batch's plan needs first is prepared against the projections this one
    /// leaves, when it may be ([`may_prepare_ahead`](Self::may_prepare_ahead)). `Retry` when
    /// another writer of the store moved first; `None` when `go`, asked before the append,
    /// says no.
    pub(super) fn try_batch(
        &self,
        commands: &[Command],
        prepared: Option<Prepared>,
        upcoming: Option<&[Command]>,
        go: &mut Gate<'_>,
    ) -> Result<Option<Done>, Retry> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.shared {
            // Others may have appended since the last batch: decide against what they did.
            if let Err(e) = self.catch_up() {
                return Ok(go().then(|| (commands.iter().map(|_| Err(e.clone())).collect(), None)));
            }
        }
        let mut plan = self.plan_prepared(commands, prepared);
        if self.refused_on_stale_view(&plan) && self.catch_up().is_ok() {
            // Another process appended since the catch-up above: a refusal is answered only
            // when it holds against what the store holds, so the batch is decided again.
            plan = self.plan(commands);
        }
        let appends = std::mem::take(&mut plan.appends);
        let ahead = upcoming.filter(|next| self.may_prepare_ahead(commands, next));
        // The next batch is prepared while this one waits for `go` and is appended.
        let (appended, mut prepared) = rayon::join(
            || go().then(|| (!appends.is_empty()).then(|| self.store.append(appends))),
            || ahead.map(|next| self.prepare_after(&plan, next)),
        );
        let appended = match appended {
            None => return Ok(None),
            Some(None) => Vec::new(),
            Some(Some(Ok(r))) => r,
            Some(Some(Err(e))) => {
                return Ok(Some((
                    self.after_failed_write(plan.steps, &Error::from(e)),
                    None,
                )))
            }
        };
        if let Some(conflict) = appended.iter().find_map(|r| r.as_ref().err()) {
            // Another writer of the same store moved a member or recorded a command id first.
            // What did get in is durable; re-read the members touched and decide again: the
            // retry sees our recorded commands, and theirs, as they are.
            // (If the store cannot be read, the next attempt's conflict catches up again.)
            let _ = self.catch_up();
            return Err(Retry(conflict.clone()));
        }
        let recorded: Vec<Vec<RecordedEvent>> = appended.into_iter().flatten().collect();
        let steps = if self.advance_tail(&recorded) {
            self.publish(plan)
        } else {
            // Others' events came first: the projections fold theirs and ours from the tail.
            // (If the store cannot be read, the next batch or read catches up again.)
            let _ = self.catch_up();
            prepared = None;
            plan.steps
        };
        if !recorded.is_empty() {
            self.feed.ring();
            self.checkpoint_if_due();
        }
        Ok(Some((receipts(steps, commands, recorded), prepared)))
    }

    /// Whether the batch after `commands` may be prepared while they are written: the
    /// projections they leave are then exactly what it is decided against. Not on a store
    /// others write too (their events may come between), not after a batch that publishes a
    /// policy (which may replay the members), not for a batch that repeats an id of this one
    /// (the store does not hold it yet) or that is too large to run.
    fn may_prepare_ahead(&self, commands: &[Command], next: &[Command]) -> bool {
        if self.shared
            || next.len() > BATCH_MAX
            || commands
                .iter()
                .any(|c| matches!(c.action, memberledger_core::Action::PublishPolicy { .. }))
        {
            return false;
        }
        let ids: HashSet<_, ahash::RandomState> = commands.iter().map(|c| c.id).collect();
        !next.iter().any(|c| ids.contains(&c.id))
    }

    /// Prepares `next` against the projections `plan` leaves once it is published: its
    /// members' states over the cached ones, its policy history and card directory.
    fn prepare_after(&self, plan: &Plan, next: &[Command]) -> Prepared {
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let view = View {
            member: &|id| {
                plan.states
                    .get(id)
                    .map(|s| &**s)
                    .or_else(|| members.get(id))
            },
            history: &plan.history,
            cards: &plan.cards,
            card_key: plan.card_key.as_deref(),
        };
        self.prepare(next, &view)
    }

    /// The results of a batch whose write failed: the store may have written some or all of
    /// it before failing (a write that landed but whose acknowledgement was lost), so what it
    /// holds is unknown here and the projections are brought up to date from it rather than
    /// kept. Otherwise reads and `verify` show the member without a command that a retry then
    /// reports as recorded, and settlements are decided against a stale clearing. Only what
    /// follows the last position the projections hold is read ([`Ledger::catch_up`]). If the
    /// store cannot be read either, the next failure or conflict catches up again.
    fn after_failed_write(&self, steps: Vec<Step>, e: &Error) -> Vec<Result<Receipt, Error>> {
        let _ = self.catch_up();
        steps
            .into_iter()
            .map(|s| match s {
                Step::Done(r) => r,
                _ => Err(e.clone()),
            })
            .collect()
    }

    /// Makes a written plan's projections the ledger's: the members it moved, the clearing
    /// and the policy history after it. Returns its steps.
    fn publish(&self, plan: Plan) -> Vec<Step> {
        // A publication that first names a spending or visit rule: the cached members were
        // kept without their spending window, so they are replayed with it (once per ledger).
        let window_needed = !crate::projection::keeps_spending(&self.policies().history)
            && crate::projection::keeps_spending(&plan.history);
        let replaced: Vec<Box<MemberState>> = {
            let mut members = self
                .members
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            plan.states
                .into_values()
                .filter_map(|state| members.insert(state))
                .collect()
        };
        // The states replaced are freed once readers may read again. (Freed on another
        // thread beside the next batch instead, they held 20 MiB more at the peak of an
        // `apply`, for no time saved.)
        drop(replaced);
        *self
            .clearing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = plan.clearing;
        *self
            .cards
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = plan.cards;
        *self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Policies {
            history: plan.history,
            latest_at: plan.latest_at,
        };
        if window_needed {
            let mut tail = self.tail();
            // On a failure the tail is forgotten: the next batch replays again.
            let _ = self.reload(&mut tail);
        }
        plan.steps
    }
}

/// A batch done: each command's result, and what was prepared for the batch after it.
pub(super) type Done = (Vec<Result<Receipt, Error>>, Option<Prepared>);

/// Asked once a batch is planned, before anything of it is written: whether to go on (a
/// stream's answer to the batch before, given while this one was planned). Asked again by a
/// retry, so it answers the same every time.
pub(super) type Gate<'a> = dyn FnMut() -> bool + Send + 'a;

/// One attempt at a batch met another writer: the conflict the store reported.
pub(super) struct Retry(AppendConflict);

/// A command waiting for a group commit, and where to send its result.
type Waiting = (Command, std::sync::mpsc::SyncSender<Answer>);

/// What a waiting caller of `execute` is told: its result, or that it now leads.
enum Answer {
    Done(Result<Receipt, Error>),
    Lead,
}

#[derive(Default)]
pub(super) struct Queue {
    waiting: Vec<Waiting>,
    leading: bool,
}

/// Each command's result from its step and the events the store recorded for each append.
/// A receipt takes its events; only an append repeated in the batch keeps a copy.
fn receipts(
    steps: Vec<Step>,
    commands: &[Command],
    mut recorded: Vec<Vec<RecordedEvent>>,
) -> Vec<Result<Receipt, Error>> {
    let repeated: HashSet<usize, ahash::RandomState> = steps
        .iter()
        .filter_map(|s| match s {
            Step::SameAs(i) => Some(*i),
            _ => None,
        })
        .collect();
    steps
        .into_iter()
        .zip(commands)
        .map(|(step, c)| match step {
            Step::Done(r) => r,
            Step::Appended(i) => Ok(Receipt {
                command: c.id,
                replayed: false,
                events: if repeated.contains(&i) {
                    recorded[i].clone()
                } else {
                    std::mem::take(&mut recorded[i])
                },
            }),
            Step::SameAs(i) => Ok(Receipt {
                command: c.id,
                replayed: true,
                events: recorded[i].clone(),
            }),
        })
        .collect()
}
