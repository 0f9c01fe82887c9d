//! Timestamps: UTC instants, written as RFC 3339 with a `Z`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Rejection;

/// A point in time, in UTC. Commands carry it; the core never reads a clock.
///
/// Parsed from RFC 3339 with any offset (normalised to UTC), printed as
/// `2026-03-01T10:00:00Z` (fractions of a second only when present). Years 1970-9999.
///
/// ```
/// use memberledger_core::Timestamp;
/// let t: Timestamp = "2026-03-01T18:00:00+08:00".parse().unwrap();
/// assert_eq!(t.to_string(), "2026-03-01T10:00:00Z");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Wraps a chrono UTC time.
    pub fn from_datetime(t: DateTime<Utc>) -> Result<Timestamp, Rejection> {
        if !(1970..=9999).contains(&t.year()) {
            return Err(Rejection::InvalidCommand(format!(
                "time {t} is outside the years 1970-9999"
            )));
        }
        Ok(Timestamp(t))
    }

    /// The chrono value.
    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// `self + days`, saturating at the end of the supported range.
    pub fn plus_days(self, days: u32) -> Timestamp {
        let max = DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
            .expect("constant parses")
            .with_timezone(&Utc);
        Timestamp(
            self.0
                .checked_add_signed(Duration::days(i64::from(days)))
                .map_or(max, |t| t.min(max)),
        )
    }

    /// `self - days`, saturating at the start of the supported range.
    pub fn minus_days(self, days: u32) -> Timestamp {
        Timestamp(
            self.0
                .checked_sub_signed(Duration::days(i64::from(days)))
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
                .max(DateTime::<Utc>::UNIX_EPOCH),
        )
    }
}

impl FromStr for Timestamp {
    type Err = Rejection;
    fn from_str(s: &str) -> Result<Timestamp, Rejection> {
        let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
            Rejection::InvalidCommand(format!(
                "time {s:?} is not RFC 3339 (like 2026-03-01T10:00:00Z): {e}"
            ))
        })?;
        Timestamp::from_datetime(t.with_timezone(&Utc))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
