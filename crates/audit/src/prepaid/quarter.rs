//! Calendar quarters (`2026Q3`) and the instants that bound them, at a UTC offset.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, NaiveDate};
use memberledger::Timestamp;

/// A calendar quarter, e.g. `2026Q3` (July to September 2026).
///
/// ```
/// use memberledger_audit::Quarter;
/// let q: Quarter = "2026Q3".parse().unwrap();
/// assert_eq!(q.previous().to_string(), "2026Q2");
/// assert_eq!(q.start(0).to_string(), "2026-07-01T00:00:00Z");
/// // At UTC+8 (Beijing), the quarter starts eight hours earlier in UTC.
/// assert_eq!(q.start(8 * 3600).to_string(), "2026-06-30T16:00:00Z");
/// assert!("2026Q5".parse::<Quarter>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    q: u32,
}

impl FromStr for Quarter {
    type Err = String;

    fn from_str(s: &str) -> Result<Quarter, String> {
        let bad = || format!("{s:?} is not a quarter like 2026Q3");
        let (y, q) = s.split_once(['Q', 'q']).ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let q: u32 = q.parse().map_err(|_| bad())?;
        if !(1971..=9998).contains(&year) || !(1..=4).contains(&q) {
            return Err(bad());
        }
        Ok(Quarter { year, q })
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

impl Quarter {
    /// The quarter before.
    pub fn previous(self) -> Quarter {
        if self.q == 1 {
            Quarter {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q - 1,
            }
        }
    }

    /// The quarter after.
    pub fn next(self) -> Quarter {
        if self.q == 4 {
            Quarter {
                year: self.year + 1,
                q: 1,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q + 1,
            }
        }
    }

    /// Its first instant, at `utc_offset_secs` east of UTC (28800 for China).
    pub fn start(self, utc_offset_secs: i32) -> Timestamp {
        let month = (self.q - 1) * 3 + 1;
        let local = NaiveDate::from_ymd_opt(self.year, month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("years 1971-9998 have every quarter");
        let utc = local.and_utc() - Duration::seconds(i64::from(utc_offset_secs));
        Timestamp::from_datetime(utc).expect("within the years a timestamp holds")
    }

    /// Its last instant: a nanosecond before the next quarter starts. A report "as of the
    /// quarter end" holds every event recorded before the next quarter.
    pub fn end(self, utc_offset_secs: i32) -> Timestamp {
        let next = self.next().start(utc_offset_secs).as_datetime();
        Timestamp::from_datetime(next - Duration::nanoseconds(1))
            .expect("within the years a timestamp holds")
    }
}

/// Reads a UTC offset `+08:00`, `-05:30` or `Z` as seconds east of UTC.
pub fn parse_utc_offset(s: &str) -> Result<i32, String> {
    if s == "Z" || s == "+00:00" {
        return Ok(0);
    }
    let bad = || format!("{s:?} is not a UTC offset like +08:00");
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if (0..=14).contains(&h) && (0..60).contains(&m) {
        Ok(sign * (h * 3600 + m * 60))
    } else {
        Err(bad())
    }
}
