//! The host's clock: the ledger refuses commands dated too far ahead of it.
//!
//! The core never reads a clock (time comes in with each command), so a command dated
//! `9999-12-31` would be recorded, and every later command for that member would then be
//! `out_of_order` for ever. The host hands the ledger a [`Clock`]: the real one for a running
//! system, a fixed one in tests, none when re-running recorded history.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use memberledger_core::{Rejection, Timestamp};

/// How far ahead of the clock a command may be dated by default: one hour. A terminal whose
/// clock runs a few minutes fast is fine; local time sent as UTC (eight hours ahead in China)
/// is refused before it can lock a member out.
pub const DEFAULT_MAX_SKEW_SECS: u32 = 3_600;

/// Where the ledger learns the time, and how far ahead of it a command may be dated.
///
/// A command (or an expiry sweep) dated more than `max_skew_secs` after [`now`](Clock::now) is
/// refused as `future_time` and records nothing.
///
/// ```
/// use memberledger::{Clock, Command, Ledger};
/// let ledger = Ledger::in_memory();
/// ledger.set_clock(Clock::fixed("2026-03-01T10:00:00Z".parse()?));
/// let late = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001",
///     "at":"9999-12-31T00:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?;
/// let refused = ledger.execute(&late).unwrap_err();
/// assert_eq!(refused.code(), "future_time");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Clock {
    source: Source,
    max_skew_secs: u32,
}

#[derive(Clone)]
enum Source {
    System,
    Fixed(Timestamp),
    Function(Arc<dyn Fn() -> Timestamp + Send + Sync>),
    Unbounded,
}

impl Clock {
    /// The machine's clock (UTC), with [`DEFAULT_MAX_SKEW_SECS`]. Every ledger starts with it.
    pub fn system() -> Clock {
        Clock {
            source: Source::System,
            max_skew_secs: DEFAULT_MAX_SKEW_SECS,
        }
    }

    /// A clock that always says `now` (tests, or a host that keeps its own time).
    pub fn fixed(now: Timestamp) -> Clock {
        Clock {
            source: Source::Fixed(now),
            max_skew_secs: DEFAULT_MAX_SKEW_SECS,
        }
    }

    /// A clock read from the host's function (a simulation's clock, a trusted time service).
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock {
            source: Source::Function(Arc::new(now)),
            max_skew_secs: DEFAULT_MAX_SKEW_SECS,
        }
    }

    /// No clock: any valid time is accepted. For re-running recorded history (an import of
    /// commands dated later than the machine's clock reads, a test of distant dates); never for
    /// a ledger that takes live commands.
    pub fn unbounded() -> Clock {
        Clock {
            source: Source::Unbounded,
            max_skew_secs: DEFAULT_MAX_SKEW_SECS,
        }
    }

    /// The same clock allowing commands up to `secs` seconds ahead of it.
    #[must_use]
    pub fn with_max_skew_secs(mut self, secs: u32) -> Clock {
        self.max_skew_secs = secs;
        self
    }

    /// How far ahead of the clock a command may be dated, in seconds.
    pub fn max_skew_secs(&self) -> u32 {
        self.max_skew_secs
    }

    /// The time now, or `None` for an unbounded clock.
    pub fn now(&self) -> Option<Timestamp> {
        match &self.source {
            Source::System => Some(system_now()),
            Source::Fixed(t) => Some(*t),
            Source::Function(f) => Some(f()),
            Source::Unbounded => None,
        }
    }

    /// The clock stopped at its current reading (the same clock when unbounded), so that every
    /// command of one batch is checked against one time.
    pub(crate) fn snapshot(&self) -> Clock {
        match self.now() {
            Some(now) => Clock::fixed(now).with_max_skew_secs(self.max_skew_secs),
            None => self.clone(),
        }
    }

    /// Refuses `at` when it is more than the allowed skew ahead of the clock.
    pub fn check(&self, at: Timestamp) -> Result<(), Rejection> {
        let Some(now) = self.now() else {
            return Ok(());
        };
        let skew = Duration::seconds(i64::from(self.max_skew_secs));
        let latest = now.as_datetime().checked_add_signed(skew);
        if latest.is_some_and(|latest| at.as_datetime() > latest) {
            return Err(Rejection::FutureTime(format!(
                "time {at} is more than {}s ahead of the ledger's clock ({now}); check the \
                 terminal's clock and time zone",
                self.max_skew_secs
            )));
        }
        Ok(())
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::System => "system".to_owned(),
            Source::Fixed(t) => format!("fixed at {t}"),
            Source::Function(_) => "host function".to_owned(),
            Source::Unbounded => "unbounded".to_owned(),
        };
        f.debug_struct("Clock")
            .field("source", &source)
            .field("max_skew_secs", &self.max_skew_secs)
            .finish()
    }
}

/// The machine's time as a ledger timestamp. A machine clock outside 1970-9999 is not a clock
/// to trust: it reads as the start of the range, so every command then looks ahead of it and
/// is refused rather than recorded.
fn system_now() -> Timestamp {
    // Whole seconds: the time is shown in messages, and a command's skew is in seconds.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    Timestamp::from_datetime(now).unwrap_or_else(|_| {
        Timestamp::from_datetime(DateTime::<Utc>::UNIX_EPOCH).expect("the epoch is in range")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_time_within_the_skew_is_accepted_and_one_beyond_it_refused() {
        let clock = Clock::fixed(t("2026-03-01T10:00:00Z")).with_max_skew_secs(60);
        assert!(clock.check(t("2026-03-01T10:01:00Z")).is_ok());
        let e = clock.check(t("2026-03-01T10:01:01Z")).unwrap_err();
        assert_eq!(e.code(), "future_time");
        assert!(e.to_string().contains("60s ahead"), "{e}");
    }

    #[test]
    fn past_times_are_never_refused_by_the_clock() {
        let clock = Clock::fixed(t("2026-03-01T10:00:00Z")).with_max_skew_secs(0);
        assert!(clock.check(t("1970-01-01T00:00:00Z")).is_ok());
    }

    #[test]
    fn an_unbounded_clock_accepts_the_end_of_the_range() {
        assert!(Clock::unbounded().check(t("9999-12-31T23:59:59Z")).is_ok());
    }

    #[test]
    fn the_system_clock_refuses_the_end_of_the_range_and_accepts_now() {
        let clock = Clock::system();
        assert!(clock.check(t("9999-12-31T23:59:59Z")).is_err());
        assert!(clock.check(system_now()).is_ok());
    }

    #[test]
    fn a_host_function_is_read_at_every_check() {
        let now = Arc::new(std::sync::Mutex::new(t("2026-03-01T10:00:00Z")));
        let read = Arc::clone(&now);
        let clock = Clock::from_fn(move || *read.lock().unwrap()).with_max_skew_secs(0);
        assert!(clock.check(t("2026-03-02T10:00:00Z")).is_err());
        *now.lock().unwrap() = t("2026-03-02T10:00:00Z");
        assert!(clock.check(t("2026-03-02T10:00:00Z")).is_ok());
    }
}
