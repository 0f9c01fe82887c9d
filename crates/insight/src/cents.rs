//! Sums of cents written as decimal strings (`"1234.50"`), as the books write them.

use serde::Serializer;

/// `num ÷ den` rounded half away from zero; zero for a `den` not above zero.
pub(crate) fn div_half_up(num: i128, den: i128) -> i128 {
    if den <= 0 {
        return 0;
    }
    let q = (num.abs() * 2 + den) / (den * 2);
    q * num.signum()
}

/// Serializes cents as a decimal string with two places.
pub(crate) fn ser<S: Serializer>(cents: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&memberledger::domain::format_cents(*cents))
}
