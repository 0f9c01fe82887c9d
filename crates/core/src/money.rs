//! Exact money: a whole number of cents in an `i64`, parsed and printed as a string with two
//! decimals.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bounds::money_recordable;
use crate::error::Rejection;

/// The largest amount one command may carry: `99999999.99`.
pub const AMOUNT_MAX: Money = Money(9_999_999_999);

/// An amount of the ledger's currency, exact to the cent.
///
/// A whole number of cents (an `i64`), so arithmetic is integer arithmetic; never negative
/// when it comes from input, and printed with exactly two decimals (`"1000.00"`). Arithmetic
/// is checked: an overflow is a bug, never a wrap.
///
/// ```
/// use memberledger_core::Money;
/// let a: Money = "1000".parse().unwrap();
/// assert_eq!(a.to_string(), "1000.00");
/// assert!("1.005".parse::<Money>().is_err());
/// assert!("-1.00".parse::<Money>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Builds an amount from a whole number of cents.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    /// The amount as a whole number of cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// The amount as a decimal (scale 2).
    pub fn as_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Rounds any decimal to the cent with the given rounding.
    pub fn round(value: Decimal, rounding: Rounding) -> Money {
        // Every figure a ledger rounds (an amount times a rate of at most ten) is far inside
        // i64 cents; a value beyond it is a bug, never a wrap.
        Money::checked_round(value, rounding).expect("money fits in i64 cents")
    }

    /// `amount × rate` rounded to the cent, or `None` beyond `i64` cents: what `decide` uses,
    /// so a policy built by hand with an absurd rate is a refusal, never a panic.
    pub fn checked_times(self, rate: Decimal, rounding: Rounding) -> Option<Money> {
        Money::checked_round(self.as_decimal().checked_mul(rate)?, rounding)
    }

    /// [`round`](Money::round), or `None` when the value is beyond `i64` cents.
    pub fn checked_round(value: Decimal, rounding: Rounding) -> Option<Money> {
        let d = value.round_dp_with_strategy(2, rounding.strategy());
        d.checked_mul(Decimal::ONE_HUNDRED)?.to_i64().map(Money)
    }

    /// `self + other`; panics on overflow, which no bounded ledger reaches.
    #[inline]
    pub fn plus(self, other: Money) -> Money {
        Money(self.0.checked_add(other.0).expect("money overflow"))
    }

    /// `self + other`, or `None` on overflow: for sums of recorded figures whose count is not
    /// bounded (a fold of a log of any length).
    #[inline]
    pub fn checked_plus(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self - other`; panics on overflow, which no bounded ledger reaches.
    #[inline]
    pub fn minus(self, other: Money) -> Money {
        Money(self.0.checked_sub(other.0).expect("money overflow"))
    }

    /// True when strictly above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// True when zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True when below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses an amount that a command carries: positive, at most two decimals, at most
    /// [`AMOUNT_MAX`].
    pub fn parse_positive(s: &str) -> Result<Money, Rejection> {
        let m: Money = s.parse()?;
        if !m.is_positive() {
            return Err(Rejection::InvalidAmount(format!(
                "amount {s:?} must be above zero"
            )));
        }
        Ok(m)
    }
}

/// `round_half_up(num / den)`-style exact division of cents, for splits that must add up.
///
/// Computes `num / den` rounded to a whole number with the given rounding, in integers, so
/// no intermediate decimal precision can tip a midpoint. `den` must be positive and `num`
/// non-negative.
pub fn div_round(num: i128, den: i128, rounding: Rounding) -> i128 {
    assert!(den > 0 && num >= 0, "div_round wants num >= 0 and den > 0");
    let q = num / den;
    let r = num % den;
    if r == 0 {
        return q;
    }
    let twice = r * 2;
    let up = match rounding {
        Rounding::HalfUp => twice >= den,
        Rounding::HalfDown => twice > den,
        Rounding::HalfEven => twice > den || (twice == den && q % 2 == 1),
        Rounding::Down => false,
        Rounding::Up => true,
    };
    q + i128::from(up)
}

impl FromStr for Money {
    type Err = Rejection;

    /// Parses an input amount: non-negative, at most two decimals, at most [`AMOUNT_MAX`].
    fn from_str(s: &str) -> Result<Money, Rejection> {
        let m = Money::parse_unbounded(s)?;
        if m > AMOUNT_MAX {
            return Err(Rejection::InvalidAmount(format!(
                "amount {s:?} is above the maximum of {AMOUNT_MAX}"
            )));
        }
        Ok(m)
    }
}

impl Money {
    /// Parses a recorded figure (a balance may exceed one command's maximum): non-negative,
    /// at most two decimals, plain decimal notation.
    pub fn parse_unbounded(s: &str) -> Result<Money, Rejection> {
        let bad = |why: &str| Rejection::InvalidAmount(format!("amount {s:?} {why}"));
        if s.is_empty() || s.len() > 32 {
            return Err(bad("is not a decimal number"));
        }
        // Only plain decimal notation: digits, one optional point, an optional leading '-'.
        // No exponents, no '+', no spaces, no thousands separators.
        let body = s.strip_prefix('-').unwrap_or(s);
        let mut parts = body.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f)) {
            return Err(bad("is not a decimal number"));
        }
        if frac.is_some_and(|f| f.len() > 2) {
            return Err(bad("has more than two decimals"));
        }
        // At most 32 characters, so the digits fit a u128 without overflow.
        let value = |p: &str| {
            p.bytes()
                .fold(0u128, |acc, b| acc * 10 + u128::from(b - b'0'))
        };
        let cents = value(int) * 100
            + frac.map_or(0, |f| {
                if f.len() == 1 {
                    value(f) * 10
                } else {
                    value(f)
                }
            });
        // A number no 96-bit decimal holds was never a decimal number to this parser.
        const DECIMAL_MAX: u128 = 79_228_162_514_264_337_593_543_950_335;
        if value(int) > DECIMAL_MAX {
            return Err(bad("is not a decimal number"));
        }
        if s.starts_with('-') && cents != 0 {
            return Err(bad("is negative"));
        }
        // "-0" and "-0.00" are zero; stored without a sign.
        match i64::try_from(cents) {
            Ok(c) if money_recordable(c) => Ok(Money(c)),
            _ => Err(bad("is beyond any figure a ledger records")),
        }
    }
}

impl Money {
    /// Reads an amount in the form events write it (`Display`'s: digits without a leading
    /// zero, a point, two decimals, never negative) within the recorded range; `None` for
    /// anything else (the canonical reader then leaves the event to serde).
    pub(crate) fn parse_canonical(s: &[u8]) -> Option<Money> {
        let (int, frac) = s.split_at(s.len().checked_sub(3)?);
        let [b'.', d1, d2] = *frac else { return None };
        if int.is_empty() || int.len() > 15 || (int.len() > 1 && int[0] == b'0') {
            return None;
        }
        let digit = |b: u8| b.is_ascii_digit().then(|| i64::from(b - b'0'));
        let whole = int
            .iter()
            .try_fold(0i64, |n, &b| Some(n * 10 + digit(b)?))?;
        let cents = whole * 100 + digit(d1)? * 10 + digit(d2)?;
        money_recordable(cents).then_some(Money(cents))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

/// In a human-readable format (JSON) an amount is its decimal text; in a binary one (the CBOR
/// of a checkpoint) it is its whole cents.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Decodes an amount as written in an event or a policy. Unlike input parsing, the value
    /// may be zero (events record zero parts), but never negative or with a third decimal.
    /// In a binary format, whole cents (a checkpoint's projections may hold any amount the
    /// fold reached).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Money::parse_unbounded(&s).map_err(serde::de::Error::custom)
        } else {
            i64::deserialize(d).map(Money)
        }
    }
}

/// How a figure that falls between two cents is rounded. The policy names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half a cent and above rounds away from zero: what a shop till does.
    #[default]
    HalfUp,
    /// Half a cent rounds toward zero.
    HalfDown,
    /// Half a cent rounds to the even cent (banker's rounding).
    HalfEven,
    /// Always toward zero (truncate).
    Down,
    /// Always away from zero.
    Up,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfDown => RoundingStrategy::MidpointTowardZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::RECORDED_MAX;

    #[test]
    fn parses_and_prints_two_decimals() {
        assert_eq!("1000".parse::<Money>().unwrap().to_string(), "1000.00");
        assert_eq!("0.5".parse::<Money>().unwrap().to_string(), "0.50");
        assert_eq!("99999999.99".parse::<Money>().unwrap(), AMOUNT_MAX);
        assert_eq!(Money::from_cents(12345).to_string(), "123.45");
        assert_eq!(Money::from_cents(12345).cents(), 12345);
    }

    #[test]
    fn rejects_bad_amounts() {
        for bad in [
            "",
            "abc",
            "1.005",
            "-1",
            "1e3",
            "+1",
            " 1",
            "1.",
            ".5",
            "100000000.00",
            "1,000",
            "NaN",
        ] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} accepted");
        }
        assert!(Money::parse_positive("0.00").is_err());
        assert!(Money::parse_positive("0.01").is_ok());
    }

    #[test]
    fn cents_arithmetic_and_edges() {
        let a = Money::from_cents(150);
        assert_eq!(Money::ZERO.minus(a).to_string(), "-1.50");
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert_eq!(a.plus(a).cents(), 300);
        assert_eq!(a.as_decimal(), Decimal::new(150, 2));
        assert_eq!("-0.00".parse::<Money>().unwrap(), Money::ZERO);
        assert_eq!("007.1".parse::<Money>().unwrap().cents(), 710);
        assert_eq!(
            Money::parse_unbounded("999999999999.99").unwrap(),
            RECORDED_MAX
        );
        assert!(Money::parse_unbounded("1000000000000.00").is_err());
        assert!(Money::parse_unbounded("99999999999999999999999999999999").is_err());
        assert_eq!(
            Money::round(Decimal::new(-1005, 3), Rounding::HalfUp).cents(),
            -101
        );
    }

    #[test]
    fn div_round_is_exact() {
        assert_eq!(div_round(5, 10, Rounding::HalfUp), 1);
        assert_eq!(div_round(5, 10, Rounding::HalfDown), 0);
        assert_eq!(div_round(15, 10, Rounding::HalfEven), 2);
        assert_eq!(div_round(25, 10, Rounding::HalfEven), 2);
        assert_eq!(div_round(11, 10, Rounding::Up), 2);
        assert_eq!(div_round(19, 10, Rounding::Down), 1);
    }

    #[test]
    fn round_uses_the_policy_rounding() {
        let d = Decimal::new(1005, 3); // 1.005
        assert_eq!(Money::round(d, Rounding::HalfUp).to_string(), "1.01");
        assert_eq!(Money::round(d, Rounding::HalfEven).to_string(), "1.00");
        assert_eq!(Money::round(d, Rounding::Down).to_string(), "1.00");
    }
}
