//! Group commit across requests: the commands of concurrent requests queue up, and one task
//! on tokio's blocking pool hands each group to the ledger's `execute_batch` (one disk sync
//! for the group), then answers every request with its own results. While a group is being
//! written, the requests that arrive form the next one. This is what the ledger's `execute`
//! does for threads, done for tasks: no thread waits per request.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use memberledger::{Command, Error, Ledger, Receipt, BATCH_MAX};
use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::metrics::Metrics;

type Results = Vec<Result<Receipt, Error>>;

/// One request's commands and where its results go.
struct Pending {
    commands: Vec<Command>,
    answer: oneshot::Sender<Results>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Pending>,
    /// True while a task is writing groups.
    writing: bool,
}

/// The queue of commands waiting for their group.
#[derive(Default)]
pub(crate) struct Committer {
    queue: Mutex<Queue>,
}

impl Committer {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Executes one request's commands (at most `BATCH_MAX`, in order, with no other
    /// request's in between) in the next group; returns one result per command, once durable.
    pub(crate) async fn execute(
        self: &Arc<Self>,
        ledger: &Arc<Ledger>,
        metrics: &Arc<Metrics>,
        commands: Vec<Command>,
    ) -> Result<Results, ApiError> {
        let (answer, results) = oneshot::channel();
        let start = {
            let mut q = self.queue();
            q.waiting.push(Pending { commands, answer });
            !std::mem::replace(&mut q.writing, true)
        };
        if start {
            let (me, ledger, metrics) = (self.clone(), ledger.clone(), metrics.clone());
            tokio::task::spawn_blocking(move || me.write_groups(&ledger, &metrics));
        }
        results.await.map_err(|_| {
            ApiError::internal("the server failed on this request (a bug): nothing more is known")
        })
    }

    /// Writes groups until the queue is empty. A panic in the ledger answers that group's
    /// requests 500 (their senders are dropped) and the next group goes on.
    fn write_groups(&self, ledger: &Ledger, metrics: &Metrics) {
        loop {
            let group = {
                let mut q = self.queue();
                if q.waiting.is_empty() {
                    q.writing = false;
                    return;
                }
                take_group(&mut q.waiting)
            };
            let commands: Vec<Command> = group
                .iter()
                .flat_map(|p| p.commands.iter().cloned())
                .collect();
            let started = Instant::now();
            let done =
                std::panic::catch_unwind(AssertUnwindSafe(|| ledger.execute_batch(&commands)));
            let Ok(results) = done else {
                tracing::error!(target: "memberledger_http::request", "the ledger panicked on a group of {} commands", commands.len());
                continue;
            };
            metrics.write(commands.len(), started.elapsed());
            let mut results = results.into_iter();
            for p in group {
                let mine: Results = results.by_ref().take(p.commands.len()).collect();
                let _ = p.answer.send(mine); // a request that timed out needs no answer
            }
        }
    }
}

/// The requests of the next group: whole requests, in order, of at most `BATCH_MAX`
/// commands in all (at least one request).
fn take_group(waiting: &mut Vec<Pending>) -> Vec<Pending> {
    let mut total = 0;
    let n = waiting
        .iter()
        .take_while(|p| {
            total += p.commands.len();
            total <= BATCH_MAX
        })
        .count()
        .max(1);
    waiting.drain(..n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(n: usize) -> Pending {
        let line = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#;
        let command = Command::from_json(line).unwrap();
        Pending {
            commands: vec![command; n],
            answer: oneshot::channel().0,
        }
    }

    #[test]
    fn a_group_takes_whole_requests_up_to_the_batch_limit() {
        let mut waiting = vec![pending(3), pending(BATCH_MAX - 3), pending(1)];
        let group = take_group(&mut waiting);
        assert_eq!(group.len(), 2, "3 + (BATCH_MAX - 3) commands fill a group");
        assert_eq!(waiting.len(), 1);
        let mut waiting = vec![pending(1), pending(1)];
        assert_eq!(take_group(&mut waiting).len(), 2);
        assert!(waiting.is_empty());
    }
}
