//! Which month, day, weekday and hour an event falls in, at the chain's UTC offset.

use chrono::{Datelike, FixedOffset, NaiveDate, Timelike};
use memberledger::Timestamp;
use serde::Serialize;

/// A calendar month, `2025-03`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The chain's local time: events are recorded in UTC, but a salon's busy hour and its
/// month end are local. The offset is fixed (China has no daylight saving).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    offset: FixedOffset,
}

impl Default for Calendar {
    fn default() -> Calendar {
        Calendar::utc()
    }
}

impl Calendar {
    /// UTC.
    #[must_use]
    pub fn utc() -> Calendar {
        Calendar {
            offset: FixedOffset::east_opt(0).expect("zero is a valid offset"),
        }
    }

    /// A fixed offset east of UTC, in whole hours (-12 to 14; China is 8); `None` outside.
    #[must_use]
    pub fn east_hours(hours: i32) -> Option<Calendar> {
        if !(-12..=14).contains(&hours) {
            return None;
        }
        FixedOffset::east_opt(hours * 3600).map(|offset| Calendar { offset })
    }

    /// The offset in hours east of UTC.
    #[must_use]
    pub fn hours_east(&self) -> i32 {
        self.offset.local_minus_utc() / 3600
    }

    /// The local date of a time.
    #[must_use]
    pub fn date(&self, at: Timestamp) -> NaiveDate {
        at.as_datetime().with_timezone(&self.offset).date_naive()
    }

    /// The local month of a time.
    #[must_use]
    pub fn month(&self, at: Timestamp) -> Month {
        let d = self.date(at);
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// The local weekday (0 = Monday … 6 = Sunday) and hour (0-23) of a time.
    #[must_use]
    pub fn weekday_hour(&self, at: Timestamp) -> (usize, usize) {
        let local = at.as_datetime().with_timezone(&self.offset);
        let weekday = usize::try_from(local.weekday().num_days_from_monday()).unwrap_or(0);
        let hour = usize::try_from(local.hour()).unwrap_or(0);
        (weekday.min(6), hour.min(23))
    }
}
