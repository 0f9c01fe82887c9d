//! What the chain sells and how much members put on their cards.

/// Services and their list prices in cents.
pub(crate) const SERVICES: &[(&str, i64)] = &[
    ("haircut", 8800),
    ("manicure", 12800),
    ("pedicure", 15800),
    ("facial", 19800),
    ("massage", 28800),
    ("hair-colour", 38800),
    ("spa-ritual", 58800),
    ("body-treatment", 68800),
];

/// Recharge amounts in cents, repeated by how often members choose them.
pub(crate) const RECHARGES: &[i64] = &[
    50_000, 50_000, 50_000, 100_000, 100_000, 100_000, 200_000, 200_000, 300_000, 300_000, 500_000,
    1_000_000,
];

/// The tiers a manager may move a member to.
pub(crate) const TIERS: [&str; 4] = ["standard", "silver", "gold", "diamond"];
