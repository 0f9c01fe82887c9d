//! Writing checkpoint files behind the caller: what a store does with
//! [`EventStore::write_checkpoint_behind`](crate::EventStore::write_checkpoint_behind). The
//! bytes are taken as they are now; the files are written (temporary file, sync, rename,
//! directory sync) on a thread of their own while the caller goes on, one write at a time.
//! Whoever next reads or writes the store's checkpoints, and the store's drop, first waits
//! for the write in flight, so a checkpoint acknowledged is on disk before anyone looks.
//!
//! A checkpoint is never needed for correctness (an open without one replays the log), so a
//! write behind that fails is a warning on standard error, as a checkpoint written during a
//! commit always was.

use std::sync::Mutex;

use crate::checkpoint_files::CheckpointFiles;
use std::thread::JoinHandle;

/// At most one write in flight, and a way to wait for it.
#[derive(Debug, Default)]
pub struct WriteBehind {
    pending: Mutex<Option<JoinHandle<()>>>,
}

impl WriteBehind {
    /// Runs `write` on a thread of its own, after the write before it finished. When no
    /// thread can be started, runs it here.
    pub fn run(&self, write: impl FnOnce() + Send + 'static) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(before) = pending.take() {
            let _ = before.join();
        }
        let write = std::sync::Arc::new(Mutex::new(Some(write)));
        let on_thread = std::sync::Arc::clone(&write);
        let spawned = std::thread::Builder::new()
            .name("memberledger-checkpoint".into())
            .spawn(move || take(&on_thread).map_or((), |w| w()));
        match spawned {
            Ok(handle) => *pending = Some(handle),
            Err(_) => {
                if let Some(w) = take(&write) {
                    w();
                }
            }
        }
    }

    /// Waits for the write in flight, if there is one.
    pub fn wait(&self) {
        let handle = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            // A write that panicked wrote nothing whole (every file is renamed into place
            // only when complete): there is nothing to wait for.
            let _ = handle.join();
        }
    }
}

/// Writes the checkpoint at `position` into `files`, as a write behind does: whether it was
/// written, a warning on standard error when not.
pub fn write_checkpoint(files: &CheckpointFiles, position: u64, bytes: &[u8]) -> bool {
    match files.write(position, bytes) {
        Ok(()) => true,
        Err(e) => {
            eprintln!(
                "memberledger: warning: a checkpoint at position {position} was not written: {e}"
            );
            false
        }
    }
}

/// The job, taken once (by the thread, or here when the thread could not start).
fn take<F>(job: &Mutex<Option<F>>) -> Option<F> {
    job.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        self.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn writes_run_one_after_another_and_wait_returns_after_the_last() {
        let behind = WriteBehind::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        for i in 0..5u64 {
            let order = Arc::clone(&order);
            behind.run(move || {
                // The earlier writes sleep longer: only waiting keeps them in order.
                std::thread::sleep(std::time::Duration::from_millis(25 - 5 * i));
                order.lock().unwrap().push(i);
            });
        }
        behind.wait();
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn dropping_waits_for_the_write_in_flight() {
        let done = Arc::new(AtomicUsize::new(0));
        {
            let behind = WriteBehind::default();
            let done = Arc::clone(&done);
            behind.run(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                done.store(1, Ordering::SeqCst);
            });
        }
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
