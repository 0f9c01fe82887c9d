//! The thread that writes to sled, so a write that never finishes is an error, not a hang.
//!
//! sled 0.34 can wait forever on a full disk: when writing a blob file fails, the IO buffer it
//! had claimed keeps a writer that never leaves, so that buffer is never written and every
//! later `flush` (including the one sled's `Drop` makes) waits for it on a condition variable.
//! Every write (sled's batch, its flush, the `fdatasync`) therefore runs on this thread, and
//! the caller waits a bounded time: a write still running then is reported as `Storage` (and
//! the store takes no more appends until reopened), and the thread is left to its fate. The
//! database is closed here too, with the same bound, so closing never hangs either.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use memberledger_store::StoreError;

use crate::guard::guarded;

type Job = Box<dyn FnOnce() + Send>;

/// The writer thread and the channel its jobs come in by.
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    dir: PathBuf,
}

impl Writer {
    /// Starts the thread for the store in `dir`.
    pub(crate) fn start(dir: &Path) -> std::io::Result<Writer> {
        let (jobs, incoming) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("memberledger-writer".into())
            .spawn(move || {
                for job in incoming {
                    job();
                }
            })?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
            dir: dir.to_path_buf(),
        })
    }

    /// Runs `f` on the writer thread (a panic in it is caught as `Corrupt`) and waits at most
    /// `wait` for its result: a job still running then is a `Storage` error.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        wait: Duration,
        f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, result) = mpsc::channel();
        let dir = self.dir.clone();
        let job: Job = Box::new(move || {
            let _ = reply.send(guarded(&dir, f));
        });
        let stopped = || StoreError::storage("the store's writer has stopped");
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        match result.recv_timeout(wait) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(StoreError::storage(format!(
                "writing to sled's files in {} did not finish within {} s (is the disk full?); \
                 nothing more is acknowledged until the ledger is reopened",
                self.dir.display(),
                wait.as_secs()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(stopped()),
        }
    }

    /// Drops `value` (sled's database, whose `Drop` flushes) on the writer thread, waiting at
    /// most `wait`, then stops the thread. A close that does not finish in time is left to
    /// finish (or not) on its own; the caller goes on.
    pub(crate) fn close<T: Send + 'static>(&mut self, value: T, wait: Duration) {
        let closed = self.run(wait, move || {
            drop(value);
            Ok(())
        });
        drop(self.jobs.take());
        // A close still stuck in sled leaves its thread detached rather than waited for.
        if let (Ok(()), Some(t)) = (closed, self.thread.take()) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_write_that_never_finishes_is_a_storage_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::start(dir.path()).unwrap();
        // Stands for sled waiting forever on a buffer a failed blob write left claimed.
        let (_release, stuck) = mpsc::channel::<()>();
        let started = Instant::now();
        let r = writer.run(Duration::from_millis(200), move || {
            let _ = stuck.recv();
            Ok(())
        });
        assert!(
            matches!(r, Err(StoreError::Storage { ref why, .. }) if why.contains("did not finish"))
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // Closing does not wait for the stuck thread either.
        let started = Instant::now();
        writer.close((), Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_panic_in_a_write_is_an_error_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::start(dir.path()).unwrap();
        let r: Result<(), _> = writer.run(Duration::from_secs(5), || panic!("damaged"));
        assert!(matches!(r, Err(StoreError::Corrupt { .. })));
        assert_eq!(writer.run(Duration::from_secs(5), || Ok(7)).unwrap(), 7);
        writer.close((), Duration::from_secs(5));
    }
}
