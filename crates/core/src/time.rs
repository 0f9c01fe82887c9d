//! Timestamps: UTC instants, written as RFC 3339 with a `Z`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Rejection;

/// The latest time a ledger holds (what adding days saturates at), worked out once.
static LATEST: std::sync::LazyLock<DateTime<Utc>> = std::sync::LazyLock::new(|| {
    DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .expect("constant parses")
        .with_timezone(&Utc)
});

/// A point in time, in UTC. Commands carry it; the core never reads a clock.
///
/// Parsed from RFC 3339 with any offset (normalised to UTC), printed as
/// `2026-03-01T10:00:00Z` (fractions of a second only when present).
///
/// The one definition of a valid time, for commands, every time field of an event, the
/// CLI's `--as-of`/`--from`/`--to` and event decoding alike: RFC 3339, in UTC years
/// 1970-9999, and never a leap second (`:60`), which most date libraries (Python's
/// `datetime` among them) cannot represent.
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
        // Read in UTC as stored: the accessors of a `DateTime` apply its offset first, even
        // UTC's (events hold several times each, and replay reads them all).
        let utc = t.naive_utc();
        if !(1970..=9999).contains(&utc.year()) {
            return Err(Rejection::InvalidCommand(format!(
                "time {t} is outside the years 1970-9999"
            )));
        }
        // chrono keeps a leap second as a nanosecond count of a second or more.
        if utc.nanosecond() >= 1_000_000_000 {
            return Err(Rejection::InvalidCommand(format!(
                "time {} is a leap second (:60), which the ledger does not record; use :59 or the next minute",
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            )));
        }
        Ok(Timestamp(t))
    }

    /// The system clock's time now. For callers that make commands: `decide` never calls it
    /// (a command carries its time, which is what makes replay byte-identical).
    pub fn now() -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        let t = DateTime::from_timestamp(secs, since.subsec_nanos()).unwrap_or_default();
        Timestamp::from_datetime(t).unwrap_or(Timestamp(DateTime::UNIX_EPOCH))
    }

    /// The chrono value.
    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// `self + days`, saturating at the end of the supported range.
    pub fn plus_days(self, days: u32) -> Timestamp {
        let max = *LATEST;
        Timestamp(
            self.0
                .checked_add_signed(Duration::days(i64::from(days)))
                .map_or(max, |t| t.min(max)),
        )
    }

    /// The UTC calendar day, counted from 1970-01-01 (day 0): the unit of the tier windows
    /// (a time before 1970 is never held, so the count is never negative).
    pub fn day(self) -> u32 {
        let days = self.0.timestamp().div_euclid(86_400);
        u32::try_from(days).unwrap_or(0)
    }

    /// The first instant of UTC day `day` (see [`day`](Self::day)), saturating at the end of
    /// the supported range.
    pub fn start_of_day(day: u32) -> Timestamp {
        Timestamp(DateTime::<Utc>::UNIX_EPOCH).plus_days(day)
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

/// Parses the form the ledger writes, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, without going through
/// a general RFC 3339 parser (events hold several times each, and replay reads them all).
/// Anything else, or anything out of range, is left to the general parser.
fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    // Two digits at `at`, tested and added at once.
    let two = |at: usize| -> Option<u32> {
        let (hi, lo) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
        (hi < 10 && lo < 10).then(|| u32::from(hi) * 10 + u32::from(lo))
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..20 + digits.len())?;
            let scale = 10u32.pow(u32::try_from(9 - digits.len()).ok()?);
            n * scale
        }
        _ => return None,
    };
    let year = i32::try_from(two(0)? * 100 + two(2)?).ok()?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if second > 59 {
        return None; // a leap second: the general parser's business
    }
    NaiveDate::from_ymd_opt(year, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)
        .map(|t| t.and_utc())
}

impl FromStr for Timestamp {
    type Err = Rejection;
    fn from_str(s: &str) -> Result<Timestamp, Rejection> {
        if let Some(t) = parse_utc(s) {
            return Timestamp::from_datetime(t);
        }
        let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
            Rejection::InvalidCommand(format!(
                "time {s:?} is not RFC 3339 (like 2026-03-01T10:00:00Z): {e}"
            ))
        })?;
        Timestamp::from_datetime(t.with_timezone(&Utc))
    }
}

impl Timestamp {
    /// Writes the ledger's form of the time into `buf` (RFC 3339 in UTC with a `Z`, and a
    /// fraction of 3, 6 or 9 digits only when there is one: chrono's `AutoSi`), digit by
    /// digit, and returns its length; `None` for a leap second or a year past 9999, which
    /// chrono writes.
    fn ascii(&self, buf: &mut [u8; 30]) -> Option<usize> {
        // The date and time of day once (each accessor of a `DateTime` would apply the
        // offset again).
        let naive = self.0.naive_utc();
        let (d, t) = (naive.date(), naive.time());
        let nanos = t.nanosecond();
        let year = u32::try_from(d.year()).ok()?;
        if nanos >= 1_000_000_000 || year > 9999 {
            return None;
        }
        let mut put = |at: usize, value: u32, width: usize| {
            let mut v = value;
            for i in (at..at + width).rev() {
                buf[i] = b'0' + u8::try_from(v % 10).expect("a digit");
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, d.month(), 2);
        put(8, d.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second(), 2);
        let mut len = 19;
        let (value, width) = match nanos {
            0 => (0, 0),
            n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
            n if n % 1_000 == 0 => (n / 1_000, 6),
            n => (n, 9),
        };
        if width > 0 {
            put(20, value, width);
            buf[19] = b'.';
            len = 20 + width;
        }
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            buf[i] = c;
        }
        buf[len] = b'Z';
        Some(len + 1)
    }

    /// Appends [`Display`](fmt::Display)'s form to `out` (the canonical encoder's path).
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 30];
        match self.ascii(&mut buf) {
            Some(len) => out.extend_from_slice(&buf[..len]),
            None => out.extend_from_slice(self.to_string().as_bytes()),
        }
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with a `Z`, and a fraction of 3, 6 or 9 digits only when there is one
    /// (chrono's `AutoSi`), written digit by digit: no allocation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 30];
        match self.ascii(&mut buf) {
            Some(len) => f.write_str(std::str::from_utf8(&buf[..len]).expect("ASCII")),
            // A leap second, or a year a Timestamp never holds: chrono's own form.
            None => f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// In a human-readable format (JSON) a time is its RFC 3339 text; in a binary one (the CBOR
/// of a checkpoint) it is the pair (whole seconds since the Unix epoch, nanoseconds), which
/// reads back without parsing text.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.secs_nanos().serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            let (secs, nanos) = <(i64, u32)>::deserialize(d)?;
            Timestamp::from_secs_nanos(secs, nanos)
                .ok_or_else(|| serde::de::Error::custom("a time out of range"))
        }
    }
}

impl Timestamp {
    /// Seconds since the Unix epoch and the nanoseconds within the second: the binary form.
    pub(crate) fn secs_nanos(self) -> (i64, u32) {
        (self.0.timestamp(), self.0.timestamp_subsec_nanos())
    }

    /// The time of a binary form ([`secs_nanos`](Self::secs_nanos)); `None` when it is not a
    /// time the ledger holds.
    pub(crate) fn from_secs_nanos(secs: i64, nanos: u32) -> Option<Timestamp> {
        DateTime::from_timestamp(secs, nanos).and_then(|t| Timestamp::from_datetime(t).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The fast paths write and read exactly what chrono does.
        #[test]
        fn fast_paths_agree_with_chrono(secs in 0i64..253_402_300_799, nanos in prop_oneof![
            Just(0u32), (0u32..1000).prop_map(|m| m * 1_000_000), (0u32..1_000_000).prop_map(|u| u * 1000), 0u32..1_000_000_000
        ]) {
            let t = DateTime::<Utc>::from_timestamp(secs, nanos).expect("in range");
            let ours = Timestamp(t).to_string();
            prop_assert_eq!(&ours, &t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            prop_assert_eq!(parse_utc(&ours), Some(t));
            let general = DateTime::parse_from_rfc3339(&ours).expect("parses").with_timezone(&Utc);
            prop_assert_eq!(general, t);
        }

        /// Whatever the fast parser accepts, chrono reads the same.
        #[test]
        fn the_fast_parser_accepts_nothing_chrono_reads_otherwise(s in prop_oneof![
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,10})?Z?",
            // Any character where a digit goes (a digit's neighbours in ASCII among them).
            "[ -~0-9]{4}-[ -~0-9]{2}-[ -~0-9]{2}T[ -~0-9]{2}:[ -~0-9]{2}:[0-9]{2}Z",
        ]) {
            if let Some(t) = parse_utc(&s) {
                let general = DateTime::parse_from_rfc3339(&s).expect("chrono reads it").with_timezone(&Utc);
                prop_assert_eq!(general, t);
            }
        }
    }

    #[test]
    fn other_forms_still_parse() {
        let t: Timestamp = "2026-03-01T18:00:00.5+08:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-03-01T10:00:00.500Z");
        assert!("2026-02-30T00:00:00Z".parse::<Timestamp>().is_err());
    }
}
