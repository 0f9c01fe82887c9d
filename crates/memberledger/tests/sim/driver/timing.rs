//! Where a long run's time goes: wall time per phase of a step, printed (on stderr) with
//! each slice of a long run so a cost that grows with the log shows where it grows.

use std::time::{Duration, Instant};

/// Wall time spent in each phase since the last slice.
#[derive(Clone, Debug, Default)]
pub struct Timing {
    /// Reopens after a crash (the checkpoint written before some of them included).
    pub crash: Duration,
    /// Generating commands and running them through the ledger.
    pub run: Duration,
    /// Reading the new part of the log (balance, trial balance, ids).
    pub scan: Duration,
    /// The model's judgement of the step (snapshots, every client's answer).
    pub model: Duration,
    /// Comparing members, books and clearing with the model.
    pub compare: Duration,
    /// `verify()`: a replay from genesis.
    pub verify: Duration,
}

impl Timing {
    /// Adds the time since `since` to `slot`; returns now.
    pub fn add(slot: &mut Duration, since: Instant) -> Instant {
        let now = Instant::now();
        *slot += now - since;
        now
    }

    /// The phases as one line, in seconds, and resets them.
    pub fn take_line(&mut self) -> String {
        let t = std::mem::take(self);
        format!(
            "run {:.1}s scan {:.1}s model {:.1}s compare {:.1}s verify {:.1}s reopen {:.1}s",
            t.run.as_secs_f64(),
            t.scan.as_secs_f64(),
            t.model.as_secs_f64(),
            t.compare.as_secs_f64(),
            t.verify.as_secs_f64(),
            t.crash.as_secs_f64(),
        )
    }
}
